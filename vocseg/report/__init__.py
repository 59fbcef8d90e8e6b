"""The periodic topic-shift report: bring stages up to date, build the data, render, write.

``data.py`` computes (pure data, the JSON schema of docs/report.md); ``render.py`` and
``templates/`` turn it into HTML, Markdown or JSON; this module does the IO.

Example::

    from vocseg import config, report, store
    report.report(store.open("vocseg.db"), config.load(), period="week", out="report.html")
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlite_utils

from vocseg.config import Config
from vocseg.errors import Errors, StoreError, UsageError
from vocseg.report import data, render

ProgressFn = Callable[[int, int | None], None]


def bring_up_to_date(db: sqlite_utils.Database, cfg: Config, *,
                     progress: ProgressFn | None = None) -> dict[str, Any]:
    """Enrich new documents, assign them to topics (fitting the first time), then re-segment
    customers when anything segments read has changed."""
    from vocseg import enrich, segments, topics

    done: dict[str, Any] = {"enrich": enrich.enrich(db, cfg, progress=progress)}
    if topics.current_model(db) is None:
        if db.execute("SELECT COUNT(*) FROM documents WHERE role IS NOT 'agent'").fetchone()[0] >= topics.MIN_DOCUMENTS:
            done["topics"] = topics.fit(db, cfg, progress=progress)
    elif topics.pending(db):
        done["topics"] = topics.update(db, cfg, progress=progress)
    if db.execute("SELECT 1 FROM customers LIMIT 1").fetchone():
        seg = segments.update(db, cfg, progress=progress)
        if seg is not None:
            done["segments"] = seg
    return done


def write_text(path: str | Path, text: str) -> Path:
    """Write atomically (temp file + rename) so a cron reader never sees half a report."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise StoreError(Errors.E308.format(path=path, reason=exc), code="E308") from None
    return path


def report(db: sqlite_utils.Database, cfg: Config, *, period: str | None = None,
           since: str | None = None, until: str | None = None, fmt: str = "html",
           out: str | Path | None = None, update: bool = True,
           progress: ProgressFn | None = None) -> dict[str, Any]:
    """Build the report for the latest period and write it to ``out`` (or return the text).

    Returns ``{"path", "format", "period", "summary", "updated", "text"?}``.
    Example: ``report.report(db, cfg, fmt="json", out="report.json")["path"]``
    """
    if fmt not in render.FORMATS:
        raise UsageError(Errors.E307.format(what="format", value=fmt,
                                            reason="use " + ", ".join(render.FORMATS)), code="E307")
    updated = bring_up_to_date(db, cfg, progress=progress) if update else {}
    built = data.build(db, cfg, period=period, since=since, until=until)
    text = render.render(built, fmt, top=cfg.report.top_topics)
    result: dict[str, Any] = {"format": fmt, "period": built["period"], "summary": built["summary"],
                              "updated": updated, "path": None}
    if out is not None:
        result["path"] = str(write_text(out, text))
    else:
        result["text"] = text
    return result
