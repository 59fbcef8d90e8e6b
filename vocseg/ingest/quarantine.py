"""Read and export the quarantine table (rows that ingest could not store, with reasons)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import sqlite_utils

from vocseg.errors import Errors, UsageError

COLUMNS = ("id", "run_id", "file", "line", "reason", "raw", "created_at")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def rows(db: sqlite_utils.Database, *, run_id: int | None = None, file: str | None = None,
         limit: int | None = None) -> list[dict[str, Any]]:
    """Quarantined rows, oldest first, optionally for one run or files containing ``file``.

    Example: ``rows(db, run_id=3, limit=20)``
    """
    return list(_iter(db, run_id=run_id, file=file, limit=limit))


def _iter(db: sqlite_utils.Database, *, run_id: int | None, file: str | None, limit: int | None):
    where, args = [], []
    if run_id is not None:
        where.append("run_id = ?")
        args.append(run_id)
    if file:
        where.append("instr(file, ?) > 0")
        args.append(file)
    sql = f"SELECT {', '.join(COLUMNS)} FROM quarantine"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY file, line, id"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    for row in db.conn.execute(sql, args):
        yield dict(zip(COLUMNS, row))


def neutralise(value: Any) -> Any:
    """Stop a spreadsheet from running a cell as a formula (cells starting = + - @ tab CR)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def export(db: sqlite_utils.Database, out: str | Path, *, fmt: str | None = None,
           run_id: int | None = None, file: str | None = None) -> int:
    """Write quarantined rows to CSV (formulas neutralised) or JSON Lines; return the count.

    Example: ``export(db, "bad_rows.csv")``
    """
    out = Path(out)
    fmt = (fmt or out.suffix.lstrip(".") or "csv").lower()
    if fmt == "ndjson":
        fmt = "jsonl"
    if fmt not in ("csv", "jsonl"):
        raise UsageError(Errors.E110.format(fmt=fmt, path=out), code="E110")
    n = 0
    with out.open("w", encoding="utf-8", newline="") as f:
        if fmt == "csv":
            w = csv.writer(f)
            w.writerow(COLUMNS)
            for row in _iter(db, run_id=run_id, file=file, limit=None):
                w.writerow([neutralise(row[c]) for c in COLUMNS])
                n += 1
        else:
            for row in _iter(db, run_id=run_id, file=file, limit=None):
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                n += 1
    return n
