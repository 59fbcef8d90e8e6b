"""docs/schema.md is the store's contract: it must match a freshly migrated store."""

from __future__ import annotations

import re
from pathlib import Path

from vocseg import store

DOC = Path(__file__).resolve().parent.parent / "docs" / "schema.md"


def documented() -> dict[str, list[tuple[str, str]]]:
    """{table: [(column, type), ...]} parsed from the headings and tables of schema.md."""
    tables: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^###\s+`([A-Za-z0-9_]+)`", line)
        if m:
            current = m.group(1)
            tables[current] = []
            continue
        if current and line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 3 and cells[0] not in ("column",) and not set(cells[0]) <= {"-", " "}:
                tables[current].append((cells[0], cells[1].upper()))
    return tables


def live(db) -> dict[str, list[tuple[str, str]]]:
    out = {}
    for name in db.table_names() + db.view_names():
        if name.startswith(("_", "sqlite_")) or "_fts" in name:
            continue
        cols = db.execute(f"PRAGMA table_info([{name}])").fetchall()
        out[name] = [(c[1], (c[2] or "").upper()) for c in cols]
    return out


def test_every_table_and_column_is_documented_in_order(db):
    doc, actual = documented(), live(db)
    missing = sorted(set(actual) - set(doc))
    extra = sorted(set(doc) - set(actual))
    assert not missing, f"tables in the store but not in docs/schema.md: {missing}"
    assert not extra, f"tables in docs/schema.md but not in the store: {extra}"
    for table, cols in actual.items():
        assert doc[table] == cols, f"docs/schema.md disagrees with table {table}"


def test_doc_parser_sees_core_tables():
    doc = documented()
    assert ("content_hash", "TEXT") in doc["documents"]
    assert len(doc) >= 7


def test_schema_version_is_latest(db):
    assert store.schema_version(db) == store.latest_version()
