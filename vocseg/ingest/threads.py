"""Thread reply chains into conversations: conversation id, turn order, the customer.

Reply links (``reply_to``) are kept in ``document_replies``, so a reply that arrives in a
later file or run still joins its conversation. After an ingest the links of each touched
source are walked: every document reachable through replies gets the root's external id
as ``conversation_id``, ``turn`` numbered by time, and agent turns get the customer of
the conversation. Deterministic, so reruns give the same result.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict


def thread_source(conn: sqlite3.Connection, source_id: int) -> int:
    """Thread the reply chains of one source; return how many documents changed."""
    rows = conn.execute(
        """
        SELECT d.id, d.external_id, d.created_at, d.role, d.customer_id, d.conversation_id, d.turn, r.reply_to
        FROM documents d LEFT JOIN document_replies r ON r.document_id = d.id
        WHERE d.source_id = ?1 AND (r.document_id IS NOT NULL OR d.external_id IN (
            SELECT r2.reply_to FROM document_replies r2 JOIN documents d2 ON d2.id = r2.document_id
            WHERE d2.source_id = ?1))
        """,
        [source_id],
    ).fetchall()
    by_ext = {r[1]: r for r in rows}
    root_of: dict[str, str] = {}

    def root(ext: str) -> str:
        path = []
        cur = ext
        while cur not in root_of:
            path.append(cur)
            parent = by_ext[cur][7]
            if parent is None or parent not in by_ext or parent in path:
                root_of[cur] = cur
                break
            cur = parent
        r = root_of[cur]
        for p in path:
            root_of[p] = r
        return r

    groups: dict[str, list[tuple]] = defaultdict(list)
    for r in rows:
        groups[root(r[1])].append(r)
    changes = []
    for conv, members in groups.items():
        members.sort(key=lambda r: (r[2] or "", _num(r[1]), r[1]))
        customer = next((r[4] for r in members if r[3] != "agent" and r[4] is not None), None)
        for turn, r in enumerate(members, 1):
            cid = r[4] if r[4] is not None else customer
            if (r[5], r[6], r[4]) != (conv, turn, cid):
                changes.append((conv, turn, cid, r[0]))
    if changes:
        conn.executemany("UPDATE documents SET conversation_id = ?, turn = ?, customer_id = ? WHERE id = ?",
                         changes)
    return len(changes)


def _num(ext: str) -> int:
    return int(ext) if ext.isdigit() else 0
