"""Segments and their membership history in the store (valid_from / valid_to intervals)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import sqlite_utils

from vocseg import store


@dataclass
class SegmentDef:
    name: str
    kind: str  # satisfaction | rfm | cohort | cluster | custom
    label: str
    description: str = ""
    definition: dict[str, Any] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)


def now_us() -> str:
    """UTC now with microseconds, so two runs within one second still order their intervals."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def write(
    db: sqlite_utils.Database,
    defs: list[SegmentDef],
    members: dict[str, pd.Index],
    *,
    kinds: set[str],
    run_id: int,
    at: str,
) -> dict[str, int]:
    """Upsert segment rows and move memberships: close leavers' intervals, open joiners'.

    Segments of ``kinds`` that this run did not produce are deactivated and emptied (their
    history stays). Returns counts of joined / left memberships.
    """
    conn = db.conn
    counts = {"joined": 0, "left": 0, "segments": len(defs)}
    with store.transaction(db):
        existing = {name: sid for sid, name in conn.execute("SELECT id, name FROM segments")}
        ids: dict[str, int] = {}
        for d in defs:
            size = len(members.get(d.name, []))
            args = [
                d.kind,
                d.label,
                d.description,
                json.dumps(d.definition, default=str),
                json.dumps(d.profile, default=str, ensure_ascii=False),
                size,
                run_id,
                at,
            ]
            if d.name in existing:
                conn.execute(
                    "UPDATE segments SET kind=?, label=?, description=?, definition=?, profile=?, size=?, "
                    "is_active=1, run_id=?, updated_at=? WHERE id=?",
                    args + [existing[d.name]],
                )
                ids[d.name] = existing[d.name]
            else:
                cur = conn.execute(
                    "INSERT INTO segments (kind, label, description, definition, profile, size, is_active, "
                    "run_id, updated_at, name, created_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
                    args + [d.name, at],
                )
                ids[d.name] = int(cur.lastrowid)
        produced = set(ids)
        marks = ",".join("?" * len(kinds))
        for sid, name in conn.execute(
            f"SELECT id, name FROM segments WHERE kind IN ({marks}) AND is_active = 1", list(kinds)
        ).fetchall():
            if name not in produced:
                conn.execute(
                    "UPDATE segments SET is_active = 0, size = 0, updated_at = ? WHERE id = ?",
                    [at, sid],
                )
                ids[name] = sid
        target = pd.DataFrame(
            [(ids[n], int(c)) for n, idx in members.items() if n in ids for c in idx],
            columns=["segment_id", "customer_id"],
        )
        sids = list(ids.values())
        current = (
            pd.read_sql_query(
                f"SELECT segment_id, customer_id FROM segment_memberships WHERE valid_to IS NULL "
                f"AND segment_id IN ({','.join('?' * len(sids))})",
                conn,
                params=sids,
            )
            if sids
            else target.iloc[:0]
        )
        both = current.merge(target, how="outer", indicator=True)
        leavers = both[both["_merge"] == "left_only"]
        joiners = both[both["_merge"] == "right_only"]
        conn.executemany(
            "UPDATE segment_memberships SET valid_to = ? WHERE segment_id = ? AND customer_id = ? AND valid_to IS NULL",
            [(at, int(s), int(c)) for s, c in zip(leavers["segment_id"], leavers["customer_id"])],
        )
        conn.executemany(
            "INSERT INTO segment_memberships (segment_id, customer_id, valid_from, run_id) VALUES (?, ?, ?, ?)",
            [
                (int(s), int(c), at, run_id)
                for s, c in zip(joiners["segment_id"], joiners["customer_id"])
            ],
        )
        counts["joined"], counts["left"] = len(joiners), len(leavers)
    return counts


def members(db: sqlite_utils.Database, name: str, at: str | None = None) -> list[int]:
    """Customer ids in segment ``name`` now (or at time ``at``)."""
    if at is None:
        sql = (
            "SELECT m.customer_id FROM segment_memberships m JOIN segments s ON s.id = m.segment_id "
            "WHERE s.name = ? AND m.valid_to IS NULL ORDER BY m.customer_id"
        )
        return [r[0] for r in db.conn.execute(sql, [name])]
    sql = (
        "SELECT m.customer_id FROM segment_memberships m JOIN segments s ON s.id = m.segment_id "
        "WHERE s.name = ? AND m.valid_from <= ? AND (m.valid_to IS NULL OR m.valid_to > ?) "
        "ORDER BY m.customer_id"
    )
    return [r[0] for r in db.conn.execute(sql, [name, at, at])]


def history(db: sqlite_utils.Database, customer_id: int) -> list[dict[str, Any]]:
    """Every membership interval of one customer, oldest first."""
    sql = (
        "SELECT s.name, s.kind, m.valid_from, m.valid_to FROM segment_memberships m "
        "JOIN segments s ON s.id = m.segment_id WHERE m.customer_id = ? ORDER BY m.valid_from, s.name"
    )
    return [
        dict(zip(("segment", "kind", "valid_from", "valid_to"), r))
        for r in db.conn.execute(sql, [customer_id])
    ]
