"""The store: migrations, runs, info, forget."""

from __future__ import annotations

import json
import multiprocessing as mp

import pytest

from vocseg import store
from vocseg.errors import StoreError, VocsegError
from vocseg.migrations import all_migrations, split_sql


def _seed_core(db) -> None:
    with store.transaction(db):
        c = db.conn
        c.execute("INSERT INTO sources (id, name, kind, created_at) VALUES (1, 'shop', 'review', '2025-01-01')")
        c.execute("INSERT INTO customers (id, external_id, email) VALUES (1, 'c1', 'ann@example.com')")
        c.execute("INSERT INTO customers (id, external_id, email) VALUES (2, 'c2', 'bob@example.com')")
        c.execute("INSERT INTO identities VALUES (1, 'email', 'ann@example.com'), (1, 'handle', 'ann_b')")
        c.execute("INSERT INTO identities VALUES (2, 'email', 'bob@example.com')")
        for i, cid in enumerate([1, 1, 2]):
            c.execute(
                "INSERT INTO documents (source_id, kind, external_id, customer_id, text, content_hash)"
                " VALUES (1, 'review', ?, ?, ?, ?)",
                [f"r{i}", cid, f"text {i}", f"h{i}"],
            )
        c.execute(
            "INSERT INTO transactions (source_id, customer_id, external_id, occurred_at, amount)"
            " VALUES (1, 1, 't1', '2025-01-02', 9.5), (1, 2, 't2', '2025-01-03', 3)"
        )
        c.execute(
            "INSERT INTO quarantine (file, line, reason, raw, created_at)"
            " VALUES ('x.csv', 3, 'bad date', 'ann@example.com,oops', '2025-01-01')"
        )


def test_open_applies_every_migration_once(db_path):
    db = store.open(db_path)
    assert store.schema_version(db) == store.latest_version()
    assert store.apply_migrations(db) == []  # nothing left to do
    db.conn.close()
    again = store.open(db_path)
    rows = again.execute("SELECT version FROM _vocseg_migrations ORDER BY version").fetchall()
    assert [r[0] for r in rows] == [m.version for m in all_migrations()]


def test_wal_and_foreign_keys_are_on(db):
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_migrating_from_the_previous_version_keeps_every_row(db_path):
    versions = [m.version for m in all_migrations()]
    previous = versions[-2] if len(versions) > 1 else versions[0]
    old = store.open(db_path, target=previous)
    assert store.schema_version(old) == previous
    _seed_core(old)
    before = {t: old[t].count for t in ("customers", "identities", "documents", "transactions", "quarantine")}
    old.conn.close()
    new = store.open(db_path)
    assert store.schema_version(new) == versions[-1]
    after = {t: new[t].count for t in before}
    assert after == before
    assert new.execute("SELECT text FROM documents WHERE external_id='r2'").fetchone()[0] == "text 2"


def test_cached_vectors_survive_the_move_to_a_rowid_table_and_keep_their_cleanup(db_path):
    # a store made before migration 12 existed: every other block applied, 12 not
    old = store.open(db_path)
    trigger = old.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'trg_documents_drop_embeddings'"
    ).fetchone()[0]
    with store.transaction(old):
        c = old.conn
        c.execute("DROP TRIGGER trg_documents_drop_embeddings")
        c.execute("DROP TABLE embeddings")
        c.execute(  # as migrations 10 and 11 left it
            "CREATE TABLE embeddings (content_hash TEXT NOT NULL, model TEXT NOT NULL, dim INTEGER NOT NULL, "
            "vector BLOB NOT NULL, source TEXT NOT NULL DEFAULT 'model' CHECK (source IN ('model', 'sentences')), "
            "PRIMARY KEY (content_hash, model)) WITHOUT ROWID"
        )
        c.execute(trigger)
        c.execute("DELETE FROM _vocseg_migrations WHERE version = 12")
    assert store.schema_version(old) > 12
    _seed_core(old)
    with store.transaction(old):
        old.conn.executemany(
            "INSERT INTO embeddings (content_hash, model, dim, vector, source) VALUES (?, 'm', 2, ?, ?)",
            [("h0", b"\x00\x3c\x00\x00", "model"), ("h1", b"\x00\x00\x00\x3c", "sentences")],
        )
    old.conn.close()
    new = store.open(db_path)
    rows = new.execute("SELECT content_hash, vector, source FROM embeddings ORDER BY content_hash").fetchall()
    assert rows == [("h0", b"\x00\x3c\x00\x00", "model"), ("h1", b"\x00\x00\x00\x3c", "sentences")]
    assert "WITHOUT ROWID" not in new.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'embeddings'"
    ).fetchone()[0]
    # the key is still unique: storing a vector again replaces it
    new.execute("INSERT OR REPLACE INTO embeddings (content_hash, model, dim, vector) VALUES ('h0', 'm', 2, x'0000')")
    assert new.execute("SELECT COUNT(*), MAX(vector) FROM embeddings WHERE content_hash = 'h0'").fetchone() == (1, b"\x00\x00")
    with pytest.raises(Exception, match="UNIQUE"):
        new.execute("INSERT INTO embeddings (content_hash, model, dim, vector) VALUES ('h0', 'm', 2, x'0000')")
    # and deleting a document still drops the vector of its text
    new.execute("DELETE FROM documents WHERE content_hash = 'h0'")
    assert [r[0] for r in new.execute("SELECT content_hash FROM embeddings")] == ["h1"]


def test_a_store_from_a_newer_vocseg_is_refused(db_path):
    db = store.open(db_path)
    db.execute("INSERT INTO _vocseg_migrations VALUES (9999, 'future', '2030-01-01')")
    db.conn.close()
    with pytest.raises(StoreError, match="E002"):
        store.open(db_path)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="folder does not exist"):
        store.open(tmp_path / "nope" / "x.db")


def _open_and_count(path: str, q) -> None:
    db = store.open(path)
    q.put(store.schema_version(db))


def test_concurrent_first_opens_migrate_once(db_path):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_open_and_count, args=(str(db_path), q)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    assert {q.get() for _ in procs} == {store.latest_version()}


def test_run_records_status_and_counts(db):
    with store.run(db, "ingest", {"paths": ["a.csv"]}) as counts:
        counts["inserted"] = 3
    with pytest.raises(RuntimeError):
        with store.run(db, "enrich") as counts:
            raise RuntimeError("boom")
    rows = list(db.query("SELECT command, status, counts, finished_at FROM runs ORDER BY id"))
    assert [(r["command"], r["status"]) for r in rows] == [("ingest", "ok"), ("enrich", "failed")]
    assert json.loads(rows[0]["counts"])["inserted"] == 3
    assert all(r["finished_at"] for r in rows)


def test_transaction_rolls_back_on_error(db):
    with pytest.raises(ValueError):
        with store.transaction(db):
            db.conn.execute("INSERT INTO customers (external_id) VALUES ('x')")
            raise ValueError
    assert db["customers"].count == 0


def test_forget_erases_the_customer_and_everything_linked(db):
    _seed_core(db)
    # a handle is found the way users write it, with '@' and any case
    assert store.find_customer(db, "@Ann_B") == store.find_customer(db, "ann_b") == 1
    counts = store.forget(db, "ANN@example.com")
    assert counts["customers"] == 1 and counts["documents"] == 2 and counts["transactions"] == 1
    assert db.execute("SELECT COUNT(*) FROM identities WHERE customer_id = 1").fetchone()[0] == 0
    assert db["quarantine"].count == 0  # the raw row that held her e-mail
    # the other customer is untouched
    assert db["documents"].count == 1 and db["transactions"].count == 1
    assert store.find_customer(db, "bob@example.com") == 2
    with pytest.raises(VocsegError, match="E020"):
        store.forget(db, "ann_b")


def test_info_counts_tables(db):
    _seed_core(db)
    info = store.info(db)
    assert info["tables"]["documents"] == 3
    assert info["schema_version"] == store.latest_version()
    assert info["size_bytes"] > 0


def test_split_sql_keeps_triggers_whole():
    script = """
    CREATE TABLE a (x INTEGER);
    CREATE TRIGGER t AFTER INSERT ON a BEGIN
      UPDATE a SET x = 1;
    END;
    CREATE INDEX i ON a(x);
    """
    parts = split_sql(script)
    assert len(parts) == 3 and "UPDATE a SET x = 1;" in parts[1]
