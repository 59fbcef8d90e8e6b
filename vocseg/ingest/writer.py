"""Write normalised rows to the store in batches, one transaction per batch.

Inside each transaction (BEGIN IMMEDIATE, so concurrent ingests queue instead of
interleaving) the batch's customers are resolved through their identities, existing
rows are looked up by (source_id, external_id) and each row is inserted, updated (its
text, title or rating changed) or counted as a duplicate. Because every decision is
made under the write lock from what is committed, a killed run leaves only whole
batches and a rerun (or a second ingest at the same time) neither loses nor repeats rows.
"""

from __future__ import annotations

import functools
import json
import operator
import sqlite3
from collections.abc import Iterable, Sequence
from itertools import repeat
from typing import Any

import sqlite_utils

from vocseg import store
from vocseg.ingest.normalize import Cust, Doc, Identity, Txn, identity_keys

# the columns of a Doc that are columns of documents, by index; the optional ones are left
# out of a batch's INSERT when none of its rows has a value (see _insert_documents)
_STORED = tuple(range(Doc._fields.index("content_hash") + 1))
_OPTIONAL = tuple(Doc._fields.index(f) for f in ("conversation_id", "turn", "role", "author", "title",
                                                "created_at", "rating_raw", "rating", "language", "channel",
                                                "url"))
_UPDATE_DOC = (
    "UPDATE documents SET kind=?, external_id=?, conversation_id=COALESCE(?, conversation_id), "
    "turn=COALESCE(?, turn), role=?, customer_id=COALESCE(?, customer_id), author=?, title=?, text=?, "
    "created_at=?, rating_raw=?, rating=?, language=?, channel=?, url=?, content_hash=?, run_id=? WHERE id=?"
)
_EXTERNAL_ID, _IDENTITY, _REDACTED = (operator.itemgetter(Doc._fields.index(f)) for f in
                                       ("external_id", "identity", "redacted"))
_TXN_COLS = ("id", "source_id", "customer_id", "external_id", "occurred_at", "amount", "currency", "quantity",
             "product", "channel", "run_id")
_INSERT_TXN = f"INSERT INTO transactions ({', '.join(_TXN_COLS)}) VALUES ({', '.join('?' * len(_TXN_COLS))})"
_QUARANTINE = (
    "INSERT INTO quarantine (run_id, file, line, reason, raw, created_at) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (file, line, reason) DO UPDATE SET run_id = excluded.run_id, raw = excluded.raw, "
    "created_at = excluded.created_at"
)


@functools.lru_cache(maxsize=256)
def _insert_sql(keep: tuple[int, ...], source_id: int, run_id: int | None) -> str:
    """INSERT for documents with id, customer_id and the Doc fields at ``keep`` bound."""
    cols = ", ".join(Doc._fields[j] for j in keep)
    run = "NULL" if run_id is None else int(run_id)  # integers from the store, never text
    return (f"INSERT INTO documents (id, customer_id, {cols}, source_id, run_id) "
            f"VALUES (?, ?, {', '.join('?' * len(keep))}, {int(source_id)}, {run})")


def ensure_source(db: sqlite_utils.Database, name: str, kind: str, location: str | None,
                  preset: str | None) -> int:
    """The id of source ``name``, created on first use."""
    with store.transaction(db):
        db.conn.execute(
            "INSERT OR IGNORE INTO sources (name, kind, location, preset, created_at) VALUES (?, ?, ?, ?, ?)",
            [name, kind, location, preset, store.now()],
        )
        row = db.conn.execute("SELECT id FROM sources WHERE name = ?", [name]).fetchone()
    return int(row[0])


def _json_list(values: Sequence[Any]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def widen_spans(spans: dict[Any, list[str]], idents: Iterable[Any], seen: Iterable[str | None]) -> None:
    """Widen ``spans`` (identity or customer id -> [earliest, latest]) by the times ``seen``."""
    span_of = spans.get
    for ident, when in zip(idents, seen):
        if ident is None or not when:
            continue
        span = span_of(ident)
        if span is None:
            spans[ident] = [when, when]
        elif when < span[0]:
            span[0] = when
        elif when > span[1]:
            span[1] = when


class Customers:
    """Resolves identities (customer id, e-mail, handle) to customer ids, creating customers.

    One person seen in several sources is one customer: a record joins the customer of its
    strongest known identity, and its other identities are added to that customer. The
    cache only holds committed (or about to commit) links and is dropped on rollback.
    """

    MAX_CACHE = 300_000  # entries kept in memory; beyond this a cache restarts (flat memory)

    def __init__(self) -> None:
        self.cache: dict[tuple[str, str], int] = {}  # (kind, value) -> customer id
        self.by_identity: dict[tuple, int] = {}  # whole identity tuple already linked -> customer id
        self.spans: dict[int, list[str]] = {}  # customer id -> times seen, written by flush_spans
        self.version: int | None = None  # PRAGMA data_version when the cache was last checked

    def drop_cache(self) -> None:
        self.cache.clear()
        self.by_identity.clear()
        self.spans.clear()

    def resolve(self, conn: sqlite3.Connection, idents: Sequence[Identity | None],
                seen: Sequence[str | None] | None = None) -> list[int | None]:
        """Customer id per identity (None stays None); call inside the batch's transaction.

        Also collects the times in ``seen``, if given, for first_seen/last_seen (see
        flush_spans); the ingest pipeline collects them in ``produce`` instead.
        """
        # data_version changes only when another connection commits: then a customer may
        # have been erased (vocseg forget) or merged, and the cache is checked again. Bulk
        # loads rely on this, as they skip per-row foreign key checks (pipeline.bulk_load).
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        if (version != self.version or len(self.cache) > self.MAX_CACHE
                or len(self.by_identity) > self.MAX_CACHE):
            self.cache.clear()
            self.by_identity.clear()
            self.version = version
        out: list[int | None] = list(map(self.by_identity.get, idents))  # None is never a key
        if None in out:
            slow = [i for i, cid in enumerate(out) if cid is None and idents[i] is not None]
            if slow:
                self._resolve_slow(conn, idents, slow, out)
        if seen is None:
            return out
        widen_spans(self.spans, out, seen)
        if len(self.spans) > self.MAX_CACHE:
            self.flush_spans(conn)
        return out

    def add_spans(self, conn: sqlite3.Connection, spans: dict[tuple, list[str]]) -> None:
        """Widen the pending first/last seen times by ``spans`` (identity -> [earliest, latest])."""
        idents = list(spans)
        cids = self.resolve(conn, idents)
        pending = self.spans
        for cid, (first, last) in zip(cids, spans.values()):
            if cid is None:
                continue
            span = pending.get(cid)
            if span is None:
                pending[cid] = [first, last]
            else:
                span[0] = min(span[0], first)
                span[1] = max(span[1], last)
        if len(pending) > self.MAX_CACHE:
            self.flush_spans(conn)

    def flush_spans(self, conn: sqlite3.Connection) -> None:
        """Widen first_seen/last_seen of the customers seen since the last flush (idempotent:
        min/max, so a rerun after a kill or a concurrent ingest gives the same values)."""
        if self.spans:
            conn.executemany(
                "UPDATE customers SET first_seen = CASE WHEN first_seen IS NULL OR first_seen > ?1 "
                "THEN ?1 ELSE first_seen END, last_seen = CASE WHEN last_seen IS NULL OR last_seen < ?2 "
                "THEN ?2 ELSE last_seen END WHERE id = ?3",
                [(a, b, cid) for cid, (a, b) in self.spans.items()],
            )
            self.spans.clear()

    def _resolve_slow(self, conn: sqlite3.Connection, idents: Sequence[Identity | None], slow: list[int],
                      out: list[int | None]) -> None:
        cache = self.cache
        missing = {key for i in slow for key in identity_keys(idents[i]) if key not in cache}
        if missing:
            self._lookup(conn, missing)
        new_customers: list[tuple[Any, ...]] = []
        new_idents: list[tuple[int, str, str]] = []
        fill: list[tuple[Any, ...]] = []
        next_id = None
        for i in slow:
            ident = idents[i]
            keys = identity_keys(ident)
            cid = None
            for key in keys:
                cid = cache.get(key)
                if cid is not None:
                    break
            if cid is None:
                if next_id is None:
                    next_id = conn.execute("SELECT COALESCE(MAX(id), 0) FROM customers").fetchone()[0]
                next_id += 1
                cid = next_id
                new_customers.append((cid, ident[0], ident[1], ident[3]))
                for key in keys:
                    cache[key] = cid
                    new_idents.append((cid, key[0], key[1]))
            else:
                for key in keys:
                    if key not in cache:
                        cache[key] = cid
                        new_idents.append((cid, key[0], key[1]))
                        fill.append((ident[0] if key[0] == "external_id" else None,
                                     ident[1] if key[0] == "email" else None, cid))
            out[i] = cid
            self.by_identity[ident] = cid
        if new_customers:
            conn.executemany(
                "INSERT INTO customers (id, external_id, email, name) VALUES (?, ?, ?, ?)", new_customers
            )
        if new_idents:
            conn.executemany("INSERT OR IGNORE INTO identities (customer_id, kind, value) VALUES (?, ?, ?)",
                             new_idents)
        if fill:
            # an existing customer seen with a new id or e-mail: fill the gaps, never overwrite
            conn.executemany(
                "UPDATE OR IGNORE customers SET external_id = COALESCE(external_id, ?), "
                "email = COALESCE(email, ?) WHERE id = ?",
                fill,
            )

    def _lookup(self, conn: sqlite3.Connection, keys: set[tuple[str, str]]) -> None:
        by_kind: dict[str, list[str]] = {}
        for kind, value in keys:
            by_kind.setdefault(kind, []).append(value)
        for kind, values in by_kind.items():
            # kind first, so the lookup uses the (kind, value) primary key
            for i in range(0, len(values), 20000):
                for cid, value in conn.execute(
                    "SELECT customer_id, value FROM identities WHERE kind = ? AND value IN "
                    "(SELECT value FROM json_each(?))",
                    [kind, _json_list(values[i: i + 20000])],
                ):
                    self.cache[(kind, value)] = cid
        ext = sorted(v for k, v in keys if k == "external_id" and (k, v) not in self.cache)
        for i in range(0, len(ext), 20000):
            chunk = _json_list(ext[i: i + 20000])
            for cid, value in conn.execute(
                "SELECT id, external_id FROM customers WHERE external_id IN (SELECT value FROM json_each(?))",
                [chunk],
            ):
                self.cache[("external_id", value)] = cid


class Writer:
    """Writes the batches of one source, each batch in one transaction."""

    def __init__(self, db: sqlite_utils.Database, *, run_id: int | None, source_id: int, kind: str,
                 customers: Customers, counts: Any) -> None:
        self.db = db
        self.run_id = run_id
        self.source_id = source_id
        self.kind = kind  # a document kind, 'transactions' or 'customers'
        self.customers = customers
        self.counts = counts  # IngestResult
        self.threaded = False
        self._fresh: bool | None = None  # bulk-load fast path (see _documents)

    def write(self, rows: list[Any], bad: list[tuple[str, Any, str, str | None]],
              spans: dict[tuple, list[str]] | None = None) -> None:
        """Store one batch of normalised rows and quarantine its bad rows, atomically.

        ``spans`` (identity -> [earliest, latest] time seen, see ``pipeline.produce``) widen
        the customers' first_seen/last_seen when the file is done (``flush_spans``).
        """
        if not rows and not bad and not spans:
            return
        try:
            with store.transaction(self.db):
                conn = self.db.conn
                if rows:
                    if self.kind == "transactions":
                        self._transactions(conn, rows)
                    elif self.kind == "customers":
                        self._customers(conn, rows)
                    else:
                        self._documents(conn, rows)
                if bad:
                    now = store.now()
                    conn.executemany(_QUARANTINE, [(self.run_id, f, ln, r, raw, now) for f, ln, r, raw in bad])
                if spans:
                    self.customers.add_spans(conn, spans)
        except BaseException:
            self.customers.drop_cache()
            self._fresh = False
            raise
        self.counts.quarantined += len(bad)

    # --- documents --------------------------------------------------------------

    def _existing(self, conn: sqlite3.Connection, table: str, cols: str, ext_ids: list[str]) -> dict[str, tuple]:
        found: dict[str, tuple] = {}
        for i in range(0, len(ext_ids), 20000):
            chunk = _json_list(ext_ids[i: i + 20000])
            for row in conn.execute(
                f"SELECT external_id, {cols} FROM {table} WHERE source_id = ? AND external_id IN "
                "(SELECT value FROM json_each(?))",
                [self.source_id, chunk],
            ):
                found[row[0]] = row[1:]
        return found

    def _documents(self, conn: sqlite3.Connection, docs: list[Doc]) -> None:
        # rows are plain tuples in Doc's field order (see Normalizer.document): index access
        cids = self.customers.resolve(conn, list(map(_IDENTITY, docs)))  # spans: see produce
        if self._fresh is None:  # first batch: is this source empty (a first, bulk load)?
            has_rows = conn.execute("SELECT 1 FROM documents WHERE source_id = ? LIMIT 1", [self.source_id])
            self._fresh = has_rows.fetchone() is None
        if self._fresh:
            # Bulk load into an empty source: insert without looking anything up. If an id is
            # already there (repeated in the file, or another ingest wrote it meanwhile) the
            # UNIQUE constraint says so; undo and take the careful path from then on.
            conn.execute("SAVEPOINT bulk")
            plan = self._plan(conn, docs, cids, {})
            try:
                self._insert(conn, plan[0])
            except sqlite3.IntegrityError:
                conn.execute("ROLLBACK TO bulk")
                conn.execute("RELEASE bulk")
                self._fresh = False
            else:
                conn.execute("RELEASE bulk")
                self._finish(conn, plan)
                return
        existing = self._existing(conn, "documents", "id, content_hash, title, rating_raw", [d[1] for d in docs])
        plan = self._plan(conn, docs, cids, existing)
        self._insert(conn, plan[0])
        self._finish(conn, plan)

    def _insert(self, conn: sqlite3.Connection, new: tuple[Sequence[int], list[int | None], list[Doc]]) -> None:
        """INSERT the new documents of a batch: (their ids, customer ids, rows).

        Binding parameters is most of an insert's cost, so the source and run ids are
        written into the statement and a column that is NULL in every row of the batch
        (often half of them: a review export has no turns, roles or URLs) is left out.
        """
        ids, cids, docs = new
        if not docs:
            return
        keep = tuple(j for j in _STORED if j not in _OPTIONAL
                     or any(map(operator.is_not, map(operator.itemgetter(j), docs), repeat(None))))
        conn.executemany(_insert_sql(keep, self.source_id, self.run_id),
                         [(i, c, *r) for i, c, r in zip(ids, cids, map(operator.itemgetter(*keep), docs))])

    def _plan(self, conn: sqlite3.Connection, docs: list[Doc], cids: list[int | None],
              existing: dict[str, tuple]) -> tuple[tuple, list, list, list, tuple[int, int, int, int]]:
        """Decide insert / update / duplicate for each document of a batch.

        Returns the new documents as (ids, customer ids, rows), then the updates, attribute
        rows, reply links and the counts."""
        next_id = conn.execute("SELECT COALESCE(MAX(id), 0) FROM documents").fetchone()[0]
        ext_ids = list(map(_EXTERNAL_ID, docs))
        repeats = len(set(ext_ids)) != len(ext_ids)  # an id twice in this batch: track as we go
        if not existing and not repeats:
            return self._plan_new(docs, cids, next_id)
        ids: list[int] = []
        new_cids: list[int | None] = []
        new_docs: list[Doc] = []
        updates: list[tuple[Any, ...]] = []
        attrs: list[tuple[Any, ...]] = []
        replies: list[tuple[int, str]] = []
        run_id = self.run_id
        inserted = updated = duplicates = redacted = 0
        for d, cid in zip(docs, cids):
            ext = d[1]
            old = existing.get(ext)
            if old is None:
                next_id += 1
                doc_id = next_id
                ids.append(doc_id)
                new_cids.append(cid)
                new_docs.append(d)
                if repeats:
                    existing[ext] = (doc_id, d[14], d[6], d[9])
                inserted += 1
                redacted += d[19]
            elif old[1] == d[14] and old[2] == d[6] and old[3] == d[9]:
                duplicates += 1
                continue
            else:
                doc_id = old[0]
                updates.append((*d[:5], cid, *d[5:15], run_id, doc_id))
                existing[ext] = (doc_id, d[14], d[6], d[9])
                updated += 1
                redacted += d[19]
            if d[16] is not None or d[17] is not None:
                attrs.append((doc_id, d[16], d[17] or "{}"))
            if d[18] is not None:
                replies.append((doc_id, d[18]))
        return (ids, new_cids, new_docs), updates, attrs, replies, (inserted, updated, duplicates, redacted)

    def _plan_new(self, docs: list[Doc], cids: list[int | None], last_id: int) -> tuple:
        """``_plan`` for a batch of documents all new, with ids after ``last_id`` (bulk loads)."""
        ids = range(last_id + 1, last_id + 1 + len(docs))
        attrs = [(i, d[16], d[17] or "{}") for i, d in zip(ids, docs) if d[16] is not None or d[17] is not None]
        replies = [(i, d[18]) for i, d in zip(ids, docs) if d[18] is not None]
        return (ids, cids, docs), [], attrs, replies, (len(docs), 0, 0, sum(map(_REDACTED, docs)))

    def _finish(self, conn: sqlite3.Connection, plan: tuple) -> None:
        """Updates, attributes and reply links of a planned batch (its inserts are done)."""
        _, updates, attrs, replies, (inserted, updated, duplicates, redacted) = plan
        counts = self.counts
        counts.inserted += inserted
        counts.updated += updated
        counts.duplicates += duplicates
        counts.redacted += redacted
        if updates:
            # an update inside the same batch as the insert must see the inserted row
            conn.executemany(_UPDATE_DOC, updates)
        if attrs:
            conn.executemany(
                "INSERT INTO document_attributes (document_id, product, attributes) VALUES (?, ?, ?) "
                "ON CONFLICT (document_id) DO UPDATE SET product = excluded.product, "
                "attributes = excluded.attributes",
                attrs,
            )
        if replies:
            conn.executemany(
                "INSERT INTO document_replies (document_id, reply_to) VALUES (?, ?) "
                "ON CONFLICT (document_id) DO UPDATE SET reply_to = excluded.reply_to",
                replies,
            )
            self.threaded = True

    # --- transactions -------------------------------------------------------------

    def _transactions(self, conn: sqlite3.Connection, txns: list[Txn]) -> None:
        counts = self.counts
        cids = self.customers.resolve(conn, [t.identity for t in txns])  # spans: see produce
        existing = self._existing(conn, "transactions", "id, occurred_at, amount, quantity, product, currency",
                                  [t.external_id for t in txns])
        next_id = conn.execute("SELECT COALESCE(MAX(id), 0) FROM transactions").fetchone()[0]
        inserts, updates, attrs = [], [], []
        for t, cid in zip(txns, cids):
            key = (t.occurred_at, t.amount, t.quantity, t.product, t.currency)
            old = existing.get(t.external_id)
            if old is None:
                next_id += 1
                inserts.append((next_id, self.source_id, cid, t.external_id, t.occurred_at, t.amount, t.currency,
                                t.quantity, t.product, t.channel, self.run_id))
                existing[t.external_id] = (next_id, *key)
                counts.inserted += 1
            elif tuple(old[1:]) == key:
                counts.duplicates += 1
            else:
                updates.append((cid, *key, t.channel, self.run_id, old[0]))
                existing[t.external_id] = (old[0], *key)
                counts.updated += 1
            if cid is not None and t.attributes:
                attrs.append((json.dumps(t.attributes, ensure_ascii=False, sort_keys=True), cid))
        if inserts:
            conn.executemany(_INSERT_TXN, inserts)
        if updates:
            conn.executemany(
                "UPDATE transactions SET customer_id = COALESCE(?, customer_id), occurred_at = ?, amount = ?, "
                "quantity = ?, product = ?, currency = ?, channel = ?, run_id = ? WHERE id = ?",
                updates,
            )
        if attrs:  # e.g. the customer's country on retail invoices
            conn.executemany("UPDATE customers SET attributes = json_patch(attributes, ?) WHERE id = ?", attrs)

    # --- customers -----------------------------------------------------------------

    def _customers(self, conn: sqlite3.Connection, custs: list[Cust]) -> None:
        counts = self.counts
        before = conn.execute("SELECT COALESCE(MAX(id), 0) FROM customers").fetchone()[0]
        cids = self.customers.resolve(conn, [c.identity for c in custs])
        created: set[int] = set()
        for c, cid in zip(custs, cids):
            name, stored = conn.execute("SELECT name, attributes FROM customers WHERE id = ?", [cid]).fetchone()
            attrs = json.loads(stored or "{}")
            merged = {**attrs, **c.attributes}
            new_name = c.identity[3] or name
            if cid > before and cid not in created:
                created.add(cid)
                counts.inserted += 1
            elif merged == attrs and new_name == name:
                counts.duplicates += 1
                continue
            else:
                counts.updated += 1
            conn.execute(
                "UPDATE customers SET name = ?, attributes = ? WHERE id = ?",
                [new_name, json.dumps(merged, ensure_ascii=False, sort_keys=True), cid],
            )
