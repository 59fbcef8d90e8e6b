"""Segments and CRM cohorts: customer features, the satisfaction x RFM cohort grid, data-driven
clusters, custom segments, lookalikes, exports and webhook pushes (see docs/segments.md).

Example::

    from vocseg import config, segments, store
    db = store.open("cx.db")
    summary = segments.segment(db, config.load().segments)
    segments.export.export(db, "unhappy-champions", fmt="hubspot", out="unhappy.csv")
"""

from __future__ import annotations

from vocseg.segments.core import grid_counts, list_segments, segment, show, update, validate
from vocseg.segments.membership import history, members

__all__ = [
    "grid_counts",
    "history",
    "list_segments",
    "members",
    "segment",
    "show",
    "update",
    "validate",
]
