"""Versioned, ordered, never-destructive schema migrations.

Each module ``mNNNN_name.py`` in this package defines ``VERSION`` (int), ``NAME``
(str) and ``SQL`` (a script of CREATE/ALTER statements) or ``up(conn)``. They run in
version order, each inside one transaction, and are recorded in
``_vocseg_migrations``. A released migration is never edited: add a new one.
Stages own their block of versions: 1-9 core/ingest, 10-19 enrich, 20-29 topics and
report, 30-39 segments and cohorts, 40-49 crawl. A migration runs once, when it is not yet
recorded, even if the store has recorded later versions (a new enrich migration reaches a
store that already has the crawl block); so each one may assume the migrations of its own
block and earlier blocks' released ones, never a later block's.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    module: ModuleType

    def apply(self, conn) -> None:  # noqa: ANN001 - sqlite3.Connection
        if hasattr(self.module, "up"):
            self.module.up(conn)
        else:
            for stmt in split_sql(self.module.SQL):
                conn.execute(stmt)


def split_sql(script: str) -> list[str]:
    """Split a migration script on ';' at line ends (no ';' inside our statements' bodies
    except in triggers, which end with 'END;')."""
    out, buf = [], []
    depth = 0
    for line in script.splitlines():
        s = line.strip()
        if not s or s.startswith("--"):
            continue
        buf.append(line)
        up = s.upper()
        if up.startswith("CREATE TRIGGER"):
            depth += 1
        if s.endswith(";") and (depth == 0 or up == "END;"):
            if up == "END;":
                depth -= 1
            out.append("\n".join(buf).rstrip().rstrip(";"))
            buf = []
    if buf:
        out.append("\n".join(buf))
    return out


def all_migrations() -> list[Migration]:
    """Every migration shipped with this vocseg, in version order."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("m"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        found.append(Migration(mod.VERSION, mod.NAME, mod))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration versions: {versions}")
    return found
