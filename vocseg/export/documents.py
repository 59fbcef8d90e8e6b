"""Export one row per document (text, sentiment, topic, needs, intent) as CSV, JSONL or Parquet.

Streams in chunks so a large store exports in constant memory. CSV cells that a
spreadsheet would run as a formula (starting with = + - @ tab or CR) get a leading
apostrophe.

Example: ``documents.export(db, "docs.parquet")["rows"]``
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlite_utils

from vocseg.errors import Errors, StoreError, UsageError

FORMATS = ("csv", "jsonl", "parquet")
COLUMNS = ["id", "external_id", "source", "kind", "created_at", "customer", "role", "text",
           "rating", "sentiment_label", "sentiment_score", "topic_id", "topic_label", "needs", "intent"]
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A string a spreadsheet would evaluate gets a leading apostrophe; other values unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def _query(db: sqlite_utils.Database) -> str:
    tables = set(db.table_names())
    has = {t: t in tables for t in ("document_sentiment", "document_topics", "topics",
                                    "document_needs", "sentences")}
    senti = ("ds.label, ds.score" if has["document_sentiment"] else "NULL, NULL")
    topic = ("dt.topic_id, t.label" if has["document_topics"] and has["topics"] else "NULL, NULL")
    needs = ("(SELECT group_concat(need, ';') FROM (SELECT need FROM document_needs n WHERE "
             "n.document_id = d.id AND n.weight > 0 ORDER BY n.weight DESC, n.need))"
             if has["document_needs"] else "NULL")
    intent = ("(SELECT intent FROM sentences x WHERE x.document_id = d.id AND x.intent IS NOT NULL "
              "GROUP BY intent ORDER BY COUNT(*) DESC, MIN(x.idx) LIMIT 1)" if has["sentences"] else "NULL")
    return (
        "SELECT d.id, d.external_id, s.name, d.kind, d.created_at, c.external_id, d.role, d.text, "
        f"d.rating, {senti}, {topic}, {needs}, {intent} FROM documents d "
        "JOIN sources s ON s.id = d.source_id LEFT JOIN customers c ON c.id = d.customer_id "
        + ("LEFT JOIN document_sentiment ds ON ds.document_id = d.id " if has["document_sentiment"] else "")
        + ("LEFT JOIN document_topics dt ON dt.document_id = d.id LEFT JOIN topics t ON t.id = dt.topic_id "
           if has["document_topics"] and has["topics"] else "")
        + "ORDER BY d.id"
    )


def rows(db: sqlite_utils.Database, chunk: int = 5000) -> Iterator[list[dict[str, Any]]]:
    """Documents as dicts with :data:`COLUMNS`, ``chunk`` at a time."""
    cur = db.conn.execute(_query(db))
    while True:
        batch = cur.fetchmany(chunk)
        if not batch:
            return
        yield [dict(zip(COLUMNS, r)) for r in batch]


def _format(path: Path, fmt: str | None) -> str:
    fmt = fmt or {".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet"}.get(path.suffix.lower(), "")
    if fmt not in FORMATS:
        raise UsageError(Errors.E307.format(what="--format", value=fmt or path.suffix,
                                            reason="use csv, jsonl or parquet"), code="E307")
    return fmt


def export(db: sqlite_utils.Database, out: str | Path, *, fmt: str | None = None) -> dict[str, Any]:
    """Write every document to ``out``; returns ``{"path", "format", "rows"}``."""
    path = Path(out)
    fmt = _format(path, fmt)
    tmp = path.with_name(f".{path.name}.tmp")
    n = 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            schema = pa.schema([(c, pa.int64() if c in ("id", "topic_id") else
                                 pa.float64() if c in ("rating", "sentiment_score") else pa.string())
                                for c in COLUMNS])
            with pq.ParquetWriter(tmp, schema) as writer:
                for batch in rows(db):
                    writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                    n += len(batch)
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                w = csv.writer(fh) if fmt == "csv" else None
                if w:
                    w.writerow(COLUMNS)
                for batch in rows(db):
                    for r in batch:
                        if w:
                            w.writerow([neutralise(r[c]) for c in COLUMNS])
                        else:
                            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
                    n += len(batch)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(Errors.E308.format(path=path, reason=exc), code="E308") from None
    return {"path": str(path), "format": fmt, "rows": n}
