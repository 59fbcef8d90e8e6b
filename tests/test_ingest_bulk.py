"""Bulk mode: the documents' secondary indexes dropped during a load and rebuilt after it,
giving the same store as a normal load, also when the load is killed or two run at once."""

from __future__ import annotations

import csv
import gzip
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_ingest_safety import count_docs, env, make_reviews, snapshot

from vocseg import ingest, store
from vocseg.config import IngestConfig
from vocseg.errors import SourceError
from vocseg.ingest import pipeline

MAP = {"customer": "customer_id"}

# like test_ingest_safety's worker, with bulk mode forced on or off
WORKER = """
import json, sys
from vocseg import ingest, store
from vocseg.config import IngestConfig
from vocseg.ingest import pipeline
db = store.open(sys.argv[1])
parallel, bulk = sys.argv[2].split(":")
pipeline.PARALLEL_MIN_BYTES = 0 if parallel == "1" else 1 << 40
res = ingest.ingest(db, sys.argv[3:], kind="review", mapping={"customer": "customer_id"}, source="shop",
                    cfg=IngestConfig(batch_size=500), bulk=bulk == "1")
print(json.dumps(res.as_dict()))
"""


def worker(db: Path, parallel: bool, bulk: bool, *paths: Path) -> list[str]:
    return [sys.executable, "-c", WORKER, str(db), f"{int(parallel)}:{int(bulk)}", *map(str, paths)]


def indexes(path: Path) -> list[tuple[str, str, str]]:
    """(table, index name, CREATE statement) of every explicit index, without opening the store
    (store.open would rebuild missing ones)."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index' "
                            "AND sql IS NOT NULL ORDER BY name").fetchall()
    finally:
        conn.close()


def pending(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [store.DEFERRED_TABLE]).fetchone():
            return []
        return [r[0] for r in conn.execute(f"SELECT name FROM {store.DEFERRED_TABLE} ORDER BY name")]
    finally:
        conn.close()


def check(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def changed(src: Path, dst: Path) -> Path:
    """``src`` with every 10th text changed (updates), every 7th row dropped, 50 new rows."""
    with src.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    out = [rows[0]]
    for i, row in enumerate(rows[1:]):
        if i % 7 == 3:
            continue
        if i % 10 == 0:
            row = [*row[:-1], row[-1] + " (edited: it broke after a week)"]
        out.append(row)
    out += [[f"new{i}", f"c{i}", "", "2024-03-01 09:00:00", "2", "p1", f"New review {i}"] for i in range(50)]
    with dst.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(out)
    return dst


def test_bulk_load_gives_the_store_a_normal_load_gives(tmp_path: Path) -> None:
    first = make_reviews(tmp_path / "reviews.csv", 3_000)
    second = changed(first, tmp_path / "reviews2.csv")
    results = {}
    for bulk in (False, True):
        path = tmp_path / f"bulk{int(bulk)}.db"
        db = store.open(path)
        a = ingest.ingest(db, [first], kind="review", mapping=MAP, source="shop", bulk=bulk)
        again = ingest.ingest(db, [first], kind="review", mapping=MAP, source="shop", bulk=bulk)
        b = ingest.ingest(db, [second], kind="review", mapping=MAP, source="shop", bulk=bulk)
        db.conn.close()
        results[bulk] = [r.as_dict() | {"seconds": 0} for r in (a, again, b)]
        check(path)
        assert pending(path) == []
    assert results[True] == results[False]
    assert results[True][1]["inserted"] == 0 and results[True][1]["updated"] == 0  # re-ingest adds nothing
    assert results[True][2]["updated"] > 200 and results[True][2]["inserted"] == 50  # edits and new rows
    normal, bulk = tmp_path / "bulk0.db", tmp_path / "bulk1.db"
    assert snapshot(bulk) == snapshot(normal)
    assert indexes(bulk) == indexes(normal)
    assert {name for _, name, _ in indexes(bulk)} >= set(pipeline.BULK_INDEXES)


def test_open_rebuilds_the_indexes_a_killed_bulk_load_dropped(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.db"
    store.open(fresh).conn.close()
    path = tmp_path / "store.db"
    db = store.open(path)
    ingest.ingest(db, [make_reviews(tmp_path / "reviews.csv", 500)], kind="review", mapping=MAP)
    dropped = store.defer_indexes(db, pipeline.BULK_INDEXES)
    db.conn.close()  # as if killed here: the indexes are gone, their record stays
    assert sorted(dropped) == sorted(pipeline.BULK_INDEXES)
    assert not {name for _, name, _ in indexes(path)} & set(pipeline.BULK_INDEXES)
    assert pending(path) == sorted(pipeline.BULK_INDEXES)
    store.open(path).conn.close()
    assert indexes(path) == indexes(fresh)
    assert pending(path) == []
    check(path)
    db = store.open(path)
    assert store.restore_indexes(db) == []  # nothing left to do
    assert db.execute("SELECT COUNT(*) FROM documents WHERE content_hash IN "
                      "(SELECT content_hash FROM documents LIMIT 3)").fetchone()[0] >= 3


def test_bulk_mode_is_automatic_for_large_loads_into_small_stores(tmp_path: Path, monkeypatch) -> None:
    data = make_reviews(tmp_path / "reviews.csv", 2_000)
    db = store.open(tmp_path / "store.db")
    assert not pipeline.wants_bulk(db, [data], "review")  # under BULK_MIN_ROWS
    monkeypatch.setattr(pipeline, "BULK_MIN_ROWS", 1_000)
    assert pipeline.wants_bulk(db, [data], None)
    assert not pipeline.wants_bulk(db, [data], "transactions")
    ingest.ingest(db, [data], kind="review", mapping=MAP, bulk=False)
    ingest.ingest(db, [make_reviews(tmp_path / "more.csv", 1_500)], kind="review", mapping=MAP, source="more")
    assert not pipeline.wants_bulk(db, [data], "review")  # the store already holds more than the file


def test_a_failing_bulk_load_still_rebuilds_the_indexes(tmp_path: Path) -> None:
    raw = make_reviews(tmp_path / "reviews.csv", 3_000).read_bytes()
    broken = tmp_path / "reviews.csv.gz"
    broken.write_bytes(gzip.compress(raw)[: len(raw) // 8])  # truncated mid-way
    path = tmp_path / "store.db"
    db = store.open(path)
    with pytest.raises(SourceError):
        ingest.ingest(db, [broken], kind="review", mapping=MAP, bulk=True)
    assert db.execute("SELECT COUNT(*) FROM documents").fetchone()[0] > 0  # the rows before the break
    db.conn.close()
    assert pending(path) == []
    assert {name for _, name, _ in indexes(path)} >= set(pipeline.BULK_INDEXES)


def test_a_customer_erased_during_a_bulk_load_is_never_linked_to_again(tmp_path: Path) -> None:
    # bulk mode skips per-row foreign key checks; a `vocseg forget` between two of its
    # batches must still leave no document pointing at the erased customer
    data = make_reviews(tmp_path / "reviews.csv", 3_000)  # customer c5 has rows in every batch
    path = tmp_path / "store.db"
    db = store.open(path)
    erased: list[dict[str, int]] = []

    def after_batch(n: int, total: int | None) -> None:
        if n and not erased:  # the first batch is written
            other = store.open(path)
            erased.append(store.forget(other, "c5"))
            other.conn.close()

    ingest.ingest(db, [data], kind="review", mapping=MAP, bulk=True, cfg=IngestConfig(batch_size=500),
                  progress=after_batch)
    assert erased and erased[0]["documents"] > 0
    assert db.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1  # checked again after the load
    assert db.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    # c5's later reviews belong to a customer that exists: c5, seen anew
    linked = db.execute("SELECT COUNT(*) FROM documents d JOIN customers c ON c.id = d.customer_id "
                        "WHERE c.external_id = 'c5'").fetchone()[0]
    assert linked > 0


@pytest.mark.slow
@pytest.mark.parametrize("parallel", [False, True], ids=["one-process", "parse-process"])
def test_killed_bulk_load_rerun_gives_the_uninterrupted_store(tmp_path: Path, parallel: bool) -> None:
    data = make_reviews(tmp_path / "reviews.csv", 30_000)
    clean = tmp_path / "clean.db"
    subprocess.run(worker(clean, parallel, False, data), check=True, env=env(), timeout=120,
                   stdout=subprocess.DEVNULL)

    killed = tmp_path / "killed.db"
    proc = subprocess.Popen(worker(killed, parallel, True, data), env=env(), stdout=subprocess.DEVNULL)
    deadline = time.time() + 60
    while count_docs(killed) < 2_000 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the ingest finished before it could be killed"
    time.sleep(0.5)  # the parse process notices its parent is gone
    assert 0 < count_docs(killed) < len(snapshot(clean)["documents"])
    assert pending(killed) == sorted(pipeline.BULK_INDEXES)  # killed with its indexes dropped
    check(killed)

    out = subprocess.run(worker(killed, parallel, True, data), check=True, env=env(), timeout=120,
                         stdout=subprocess.PIPE, text=True).stdout
    assert json.loads(out)["read"] == 30_000
    assert snapshot(killed) == snapshot(clean)
    assert indexes(killed) == indexes(clean)
    assert pending(killed) == []
    check(killed)


@pytest.mark.slow
def test_two_bulk_loads_at_once_neither_corrupt_nor_duplicate(tmp_path: Path) -> None:
    data = make_reviews(tmp_path / "reviews.csv", 8_000)
    other = make_reviews(tmp_path / "more.csv", 2_000)
    shared = tmp_path / "shared.db"
    store.open(shared).conn.close()
    procs = [subprocess.Popen(worker(shared, True, True, data, other), env=env(), stdout=subprocess.PIPE)
             for _ in range(2)]
    results = [json.loads(p.communicate(timeout=180)[0]) for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    sequential = tmp_path / "sequential.db"
    subprocess.run(worker(sequential, False, False, data, other), check=True, env=env(), timeout=120,
                   stdout=subprocess.DEVNULL)
    got, want = snapshot(shared), snapshot(sequential)
    for table in got:
        key = (lambda r: r[1:]) if table in ("documents", "customers", "transactions") else (lambda r: r)
        assert sorted(map(key, got[table]), key=repr) == sorted(map(key, want[table]), key=repr), table
    assert results[0]["inserted"] + results[1]["inserted"] == len(want["documents"])
    assert indexes(shared) == indexes(sequential)
    assert pending(shared) == []
    check(shared)
