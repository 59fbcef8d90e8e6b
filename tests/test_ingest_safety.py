"""Ingest safety: kill-and-rerun, concurrent ingests, forget after ingest, the CLI contract."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vocseg import ingest, store

ROOT = Path(__file__).resolve().parent.parent
TABLES = {
    "documents": "SELECT * FROM documents ORDER BY id",
    "customers": "SELECT * FROM customers ORDER BY id",
    "identities": "SELECT * FROM identities ORDER BY kind, value",
    "transactions": "SELECT * FROM transactions ORDER BY id",
    "document_attributes": "SELECT * FROM document_attributes ORDER BY document_id",
    "quarantine": "SELECT file, line, reason, raw FROM quarantine ORDER BY file, line, reason",
}


def make_reviews(path: Path, n: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["review_id", "customer_id", "email", "date", "stars", "product", "text"])
        for i in range(n):
            if i % 997 == 5:
                w.writerow([f"r{i}", f"c{i % 300}", "", "not a date", "4", "p1", "bad date row"])
                continue
            dup = i % 1000 == 7  # an exact repeat of the previous row
            j = i - 1 if dup else i
            w.writerow([f"r{j}", f"c{j % 300}", f"user{j % 300}@example.com" if j % 3 == 0 else "",
                        f"2024-0{1 + j % 9}-1{j % 10} 10:00:00", str(1 + j % 5), f"p{j % 40}",
                        f"Review {j}: delivery took {j % 9} days, call me on +1 555 010 {j % 10000:04d}"])
    return path


def snapshot(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        out = {}
        for name, sql in TABLES.items():
            cur = conn.execute(sql)
            cols = [c[0] for c in cur.description]
            out[name] = [tuple(v for c, v in zip(cols, row) if c != "run_id") for row in cur]
        return out
    finally:
        conn.close()


# A real process running the library ingest (the CLI is the same call; starting the whole CLI
# imports every stage and costs seconds per process, so the tests start this instead).
WORKER = """
import json, sys
from vocseg import ingest, store
from vocseg.config import IngestConfig
from vocseg.ingest import pipeline
db = store.open(sys.argv[1])
batch, parallel = sys.argv[2].split(":") if ":" in sys.argv[2] else (sys.argv[2], "0")
pipeline.PARALLEL_MIN_BYTES = 0 if parallel == "1" else 1 << 40
res = ingest.ingest(db, sys.argv[3:], kind="review", mapping={"customer": "customer_id"}, source="shop",
                    cfg=IngestConfig(batch_size=int(batch)))
print(json.dumps(res.as_dict()))
"""


def worker(db: Path, batch: int | str, *paths: Path) -> list[str]:
    """``batch`` is the batch size, or 'SIZE:1' to parse in a second process."""
    return [sys.executable, "-c", WORKER, str(db), str(batch), *map(str, paths)]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def count_docs(db: Path) -> int:
    try:
        conn = sqlite3.connect(db, timeout=0.5)
        try:
            return conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


@pytest.mark.slow
@pytest.mark.parametrize("parallel", [False, True], ids=["one-process", "parse-process"])
def test_killed_ingest_rerun_gives_the_uninterrupted_store(tmp_path: Path, parallel: bool) -> None:
    import psutil

    data = make_reviews(tmp_path / "reviews.csv", 30_000)
    clean = tmp_path / "clean.db"
    subprocess.run(worker(clean, 500, data), check=True, env=env(), timeout=120, stdout=subprocess.DEVNULL)

    killed = tmp_path / "killed.db"
    proc = subprocess.Popen(worker(killed, "500:1" if parallel else 500, data), env=env(),
                            stdout=subprocess.DEVNULL)
    deadline = time.time() + 60
    while count_docs(killed) < 2_000 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the ingest finished before it could be killed"
    # the parse process notices its parent is gone and exits too
    deadline = time.time() + 10
    while time.time() < deadline and any(str(killed) in " ".join(p.info["cmdline"] or [])
                                         for p in psutil.process_iter(["cmdline"])):
        time.sleep(0.1)
    assert not any(str(killed) in " ".join(p.info["cmdline"] or []) for p in psutil.process_iter(["cmdline"]))
    partial = count_docs(killed)
    total = len(snapshot(clean)["documents"])
    assert 0 < partial < total
    subprocess.run(worker(killed, 500, data), check=True, env=env(), timeout=120, stdout=subprocess.DEVNULL)
    assert snapshot(killed) == snapshot(clean)
    conn = sqlite3.connect(killed)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    statuses = [r[0] for r in conn.execute("SELECT status FROM runs ORDER BY id")]
    assert statuses == ["running", "ok"]  # the killed run stays visible as never finished
    conn.close()


@pytest.mark.slow
def test_two_ingests_at_once_neither_corrupt_nor_duplicate(tmp_path: Path) -> None:
    data = make_reviews(tmp_path / "reviews.csv", 8_000)
    other = make_reviews(tmp_path / "more.csv", 2_000)
    shared = tmp_path / "shared.db"
    store.open(shared).conn.close()
    procs = [subprocess.Popen(worker(shared, 500, data, other), env=env(), stdout=subprocess.PIPE)
             for _ in range(2)]
    results = [json.loads(p.communicate(timeout=180)[0]) for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    sequential = tmp_path / "sequential.db"
    subprocess.run(worker(sequential, 500, data, other), check=True, env=env(), stdout=subprocess.DEVNULL,
                   timeout=120)
    got, want = snapshot(shared), snapshot(sequential)
    for table in TABLES:
        key = (lambda r: r[1:]) if table in ("documents", "customers", "transactions") else (lambda r: r)
        assert sorted(map(key, got[table]), key=repr) == sorted(map(key, want[table]), key=repr), table
    # every row was inserted exactly once between the two processes
    n_docs = len(want["documents"])
    assert results[0]["inserted"] + results[1]["inserted"] == n_docs
    assert sqlite3.connect(shared).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_forget_after_ingest_erases_everything_linked(db, db_path: Path, tmp_path: Path, cli) -> None:
    reviews = tmp_path / "reviews.csv"
    reviews.write_text(
        "id,customer_id,email,text,product\n"
        "1,c1,jane@example.com,Love it - write to jane@example.com,p1\n"
        "2,c2,bob@example.com,Too small,p2\n"
        "3,c1,,Arrived late,p3\n"
    )
    orders = tmp_path / "orders.csv"
    orders.write_text("order_id,email,order_date,amount\no1,JANE@example.com,2024-01-01,10\n"
                      "o2,bob@example.com,2024-01-02,20\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,customer_id,email,text,stars\n9,c1,jane@example.com,rating too high,11\n")
    ingest.ingest(db, [reviews], kind="review")
    ingest.ingest(db, [orders], kind="transactions", mapping={"external_id": "order_id"})
    ingest.ingest(db, [bad], kind="review")
    assert db["quarantine"].count == 1
    code, _, err = cli("forget", "jane@example.com", "--yes")
    assert code == 0, err
    db2 = store.open(db_path)
    assert [r["text"] for r in db2.query("SELECT text FROM documents")] == ["Too small"]
    assert [r["amount"] for r in db2.query("SELECT amount FROM transactions")] == [20.0]
    assert {r["value"] for r in db2.query("SELECT value FROM identities")} == {"c2", "bob@example.com"}
    assert db2["customers"].count == 1
    assert db2["document_attributes"].count == 1  # cascaded with the documents
    assert db2["quarantine"].count == 0  # the raw row named her e-mail


# --- CLI contract -----------------------------------------------------------------------------


def test_cli_json_has_exactly_the_summary_keys(cli, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("text,stars\ngood,5\nmeh,3\n,1\n")
    code, out, err = cli("ingest", str(path), "--kind", "review", "--json", "--no-enrich")
    assert code == 0, err
    res = json.loads(out)
    assert list(res) == ["files", "read", "inserted", "updated", "duplicates", "quarantined", "redacted",
                         "seconds", "enrich"]
    assert (res["read"], res["inserted"], res["quarantined"], res["enrich"]) == (3, 2, 1, None)
    code, out, err = cli("ingest", str(path), "--kind", "review", "--strict", "--json")
    assert code == 1
    assert json.loads(out)["quarantined"] == 1
    assert "E109" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["ingest", "{missing}"], 1, "E101"),
        (["ingest", "{file}", "--kind", "nope"], 2, "E106"),
        (["ingest", "{file}", "--map", "textreview"], 2, "E104"),
        (["ingest", "{file}", "--preset", "nope"], 2, "E105"),
        (["ingest", "{file}", "--kind", "review", "--map", "text=nope"], 1, "E107"),
        (["ingest", "{file}", "--rating-scale", "five"], 2, "E108"),
        (["ingest"], 2, "PATH"),
    ],
)
def test_cli_errors_are_one_line_with_exit_codes(cli, tmp_path: Path, args, code, needle) -> None:
    f = tmp_path / "r.csv"
    f.write_text("text\nhello\n")
    argv = [a.format(missing=tmp_path / "absent.csv", file=f) for a in args]
    got, _, err = cli(*argv)
    assert got == code
    assert needle in err
    if code == 1:
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_cli_ingest_enriches_new_documents_unless_told_not_to(cli, db_path: Path, tmp_path: Path) -> None:
    f = tmp_path / "r.csv"
    f.write_text("text,stars\nThe delivery was late and the box was damaged.,1\nLovely fabric.,5\n")
    code, out, err = cli("ingest", str(f), "--kind", "review", "--json")
    assert code == 0, err
    assert json.loads(out)["enrich"]["documents"] == 2
    db = store.open(db_path)
    assert db["enrichments"].count == 2 and db["sentences"].count >= 2
    g = tmp_path / "more.csv"
    g.write_text("text,stars\nThe app crashes at checkout.,2\n")
    code, out, err = cli("ingest", str(g), "--kind", "review", "--json", "--no-enrich")
    assert code == 0 and json.loads(out)["enrich"] is None
    assert store.open(db_path)["enrichments"].count == 2


def test_cli_dry_run_writes_nothing(cli, db_path: Path, tmp_path: Path) -> None:
    f = tmp_path / "r.csv"
    f.write_text("review,stars,user_id\nlovely,5,u1\n")
    code, out, err = cli("ingest", str(f), "--dry-run")
    assert code == 0, err
    assert "text=review" in out and "lovely" in out
    assert store.open(db_path)["documents"].count == 0


def test_quarantine_list_and_export_neutralise_formulas(cli, tmp_path: Path) -> None:
    f = tmp_path / "evil.csv"
    f.write_text('text,stars\n"=HYPERLINK(""http://x"")",9\nfine,5\n')
    assert cli("ingest", str(f), "--kind", "review", "--no-enrich")[0] == 0
    code, out, _ = cli("quarantine", "list", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 1 and rows[0]["line"] == 2 and "outside the scale" in rows[0]["reason"]
    out_csv = tmp_path / "q.csv"
    assert cli("quarantine", "export", str(out_csv))[0] == 0
    with out_csv.open(newline="") as fh:
        exported = list(csv.DictReader(fh))
    assert len(exported) == 1
    for cell in exported[0].values():
        assert not cell.startswith(("=", "+", "-", "@"))
    raw = json.loads(exported[0]["raw"].lstrip("'"))
    assert raw["text"].startswith("=HYPERLINK")
    out_jsonl = tmp_path / "q.jsonl"
    assert cli("quarantine", "export", str(out_jsonl))[0] == 0
    assert json.loads(out_jsonl.read_text().splitlines()[0])["reason"] == rows[0]["reason"]
