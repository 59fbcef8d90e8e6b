"""Opt-in fairness audit: how segments are spread across protected attributes.

The attributes are read from ``customers.attributes`` only here, only when the user sets
``[segments] protected_audit = true``, and only to report distributions; no segment, feature
or score ever uses them.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import sqlite_utils

from vocseg.config import SegmentsConfig
from vocseg.errors import ConfigError, Errors


def audit(db: sqlite_utils.Database, cfg: SegmentsConfig) -> dict[str, Any]:
    """Per attribute in ``cfg.audit_attributes``: share of each segment's members per value,
    beside the share among all customers with features (a large gap is worth a look).

    Example: ``audit(db, cfg.segments)["attributes"]["gender"]["unhappy"]``
    """
    if not cfg.protected_audit:
        raise ConfigError(Errors.E407, code="E407")
    out: dict[str, Any] = {"attributes": {}}
    base = pd.read_sql_query(
        "SELECT f.customer_id, c.attributes FROM customer_features f JOIN customers c ON c.id = f.customer_id",
        db.conn,
    )
    mem = pd.read_sql_query(
        "SELECT s.name AS segment, m.customer_id FROM segment_memberships m JOIN segments s ON s.id = m.segment_id "
        "WHERE m.valid_to IS NULL AND s.kind IN ('satisfaction', 'cohort', 'cluster', 'custom')",
        db.conn,
    )
    attrs = pd.json_normalize([json.loads(a or "{}") for a in base["attributes"]])
    attrs.index = base["customer_id"]
    for key in cfg.audit_attributes:
        values = (
            attrs[key].astype(str).where(attrs[key].notna(), "(unknown)")
            if key in attrs
            else pd.Series("(unknown)", index=attrs.index)
        )
        overall = values.value_counts(normalize=True).round(4).to_dict()
        per = {}
        for seg, grp in mem.groupby("segment"):
            v = values.reindex(grp["customer_id"]).fillna("(unknown)")
            per[seg] = {"n": len(v), "shares": v.value_counts(normalize=True).round(4).to_dict()}
        out["attributes"][key] = {"overall": overall, "segments": per}
    return out
