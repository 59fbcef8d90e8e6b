"""Ingest: formats, mapping, kinds, identities, dedupe/update, quarantine of every kind of bad row."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from vocseg import ingest, store
from vocseg.config import IngestConfig
from vocseg.errors import SourceError, UsageError

ROWS = [
    {"review_id": "r1", "user_id": "u1", "date": "2024-03-01 10:00:00", "stars": "5",
     "title": "Great", "review_body": "Fast delivery, great quality."},
    {"review_id": "r2", "user_id": "u2", "date": "2024-03-02T11:00:00Z", "stars": "2",
     "title": "Late", "review_body": "Parcel arrived late and damaged."},
    {"review_id": "r3", "user_id": "u1", "date": "2024/3/3", "stars": "4",
     "title": "", "review_body": "Support was helpful, café crème était bon."},
]
MAP = {"text": "review_body", "created_at": "date", "customer": "user_id", "rating": "stars",
       "external_id": "review_id"}


def write_csv(path: Path, rows: list[dict], delimiter: str = ",", encoding: str = "utf-8") -> Path:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", newline="", encoding=encoding) as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter=delimiter)
        w.writeheader()
        w.writerows(rows)
    return path


def docs(db) -> list[dict]:
    return [dict(r) for r in db.query("SELECT * FROM documents ORDER BY id")]


def check_three_reviews(db) -> None:
    got = docs(db)
    assert [d["external_id"] for d in got] == ["r1", "r2", "r3"]
    assert [d["rating"] for d in got] == [1.0, 0.25, 0.75]
    assert [d["rating_raw"] for d in got] == ["5", "2", "4"]
    assert got[0]["created_at"] == "2024-03-01T10:00:00+00:00"
    assert got[2]["created_at"] == "2024-03-03T00:00:00+00:00"
    assert got[2]["text"] == "Support was helpful, café crème était bon."
    assert got[0]["customer_id"] == got[2]["customer_id"] != got[1]["customer_id"]
    assert db["customers"].count == 2


# --- formats ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["r.csv", "r.csv.gz", "r.tsv", "r.txt"])
def test_csv_family(db, tmp_path: Path, name: str) -> None:
    path = write_csv(tmp_path / name, ROWS, delimiter="\t" if name.endswith((".tsv", ".txt")) else ",")
    res = ingest.ingest(db, [path], kind="review", mapping=MAP)
    assert (res.read, res.inserted, res.quarantined) == (3, 3, 0)
    check_three_reviews(db)


def test_semicolon_csv_with_bom_and_auto_detected_columns(db, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("\ufeffid;customer_id;created_at;rating;title;text\n"
                     "r1;u1;2024-03-01 10:00:00;5;Great;Fast delivery, great quality.\n".encode())
    res = ingest.ingest(db, [path], kind="review")
    assert res.inserted == 1
    d = docs(db)[0]
    assert (d["external_id"], d["rating"], d["title"]) == ("r1", 1.0, "Great")


def test_cp1252_file_falls_back_with_a_warning(db, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "legacy.csv", ROWS, encoding="cp1252")
    res = ingest.ingest(db, [path], kind="review", mapping=MAP)
    assert res.inserted == 3
    assert any("cp1252" in w for w in res.warnings)
    check_three_reviews(db)


@pytest.mark.parametrize("name", ["r.jsonl", "r.jsonl.gz", "r.json", "r.json.gz", "wrapped.json"])
def test_json_family(db, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name.startswith("wrapped"):
        body = json.dumps({"meta": {"n": 3}, "reviews": ROWS})
    elif ".jsonl" in name:
        body = "\n".join(json.dumps(r) for r in ROWS) + "\n"
    else:
        body = json.dumps(ROWS, indent=1)
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as f:
        f.write(body)
    res = ingest.ingest(db, [path], kind="review", mapping=MAP)
    assert (res.read, res.inserted) == (3, 3)
    check_three_reviews(db)


def test_json_array_larger_than_the_read_chunk_streams(db, tmp_path: Path, monkeypatch) -> None:
    from vocseg.ingest import readers

    monkeypatch.setattr(readers.JsonArrayReader, "CHUNK", 64)  # force many refills mid-object
    rows = [{**ROWS[i % 3], "review_id": f"r{i}"} for i in range(200)]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(rows))
    res = ingest.ingest(db, [path], kind="review", mapping=MAP)
    assert (res.read, res.inserted, res.quarantined) == (200, 200, 0)


@pytest.mark.parametrize("name", ["r.parquet", "r.parquet.gz"])
def test_parquet(db, tmp_path: Path, name: str) -> None:
    import pandas as pd

    plain = tmp_path / "r.parquet"
    pd.DataFrame(ROWS).assign(stars=lambda d: d.stars.astype(int)).to_parquet(plain)
    path = plain
    if name.endswith(".gz"):
        path = tmp_path / name
        path.write_bytes(gzip.compress(plain.read_bytes()))
        plain.unlink()
    res = ingest.ingest(db, [path], kind="review", mapping=MAP)
    assert res.inserted == 3
    check_three_reviews(db)


def test_xlsx_with_real_dates(db, tmp_path: Path) -> None:
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(ROWS[0]))
    for r in ROWS:
        ws.append([dt.datetime(2024, 3, 1, 10) if r is ROWS[0] else r["date"]] and
                  [r["review_id"], r["user_id"], dt.datetime(2024, 3, 1, 10) if r is ROWS[0] else r["date"],
                   int(r["stars"]), r["title"] or None, r["review_body"]])
    path = tmp_path / "r.xlsx"
    wb.save(path)
    res = ingest.ingest(db, [path], kind="review", mapping=MAP)
    assert res.inserted == 3
    check_three_reviews(db)


def test_directory_and_glob(db, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    write_csv(folder / "a.csv", ROWS[:2])
    write_csv(folder / "b.csv", ROWS[2:])
    (folder / "notes.md").write_text("not data")
    res = ingest.ingest(db, [folder], kind="review", mapping=MAP)
    assert (res.files, res.inserted) == (2, 3)
    res = ingest.ingest(db, [str(folder / "*.csv")], kind="review", mapping=MAP)
    assert (res.files, res.inserted, res.duplicates) == (2, 0, 3)
    assert {r["name"] for r in db.query("SELECT name FROM sources")} == {"a", "b"}


# --- mapping, dry run ----------------------------------------------------------------------


def test_dry_run_shows_mapping_and_records_and_writes_nothing(db, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", ROWS * 3)
    res = ingest.ingest(db, [path], kind="review", mapping=["text=review_body", "customer=user_id"], dry_run=True)
    assert res.preview[0]["mapping"]["text"] == "review_body"
    assert res.preview[0]["mapping"]["rating"] == "stars"  # auto-detected
    assert len(res.preview[0]["records"]) == 5
    assert res.read == 9
    assert db["documents"].count == 0 and db["runs"].count == 0 and db["sources"].count == 0


def test_bad_map_and_missing_text_column_are_clear_errors(db, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [{"a": "1", "b": "2"}])
    with pytest.raises(UsageError, match="E104"):
        ingest.ingest(db, [path], kind="review", mapping=["nonsense=a"])
    with pytest.raises(SourceError, match=r"E103.*--map text=COLUMN"):
        ingest.ingest(db, [path], kind="review")
    with pytest.raises(SourceError, match="E107.*'nope'"):
        ingest.ingest(db, [path], kind="review", mapping=["text=nope"])
    with pytest.raises(SourceError, match="E101"):
        ingest.ingest(db, [tmp_path / "absent.csv"])


# --- dedupe and updates ----------------------------------------------------------------------


def test_reingest_adds_nothing_and_changed_text_updates(db, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", ROWS)
    ingest.ingest(db, [path], kind="review", mapping=MAP)
    first = docs(db)
    res = ingest.ingest(db, [path], kind="review", mapping=MAP)
    assert (res.inserted, res.updated, res.duplicates) == (0, 0, 3)
    changed = [dict(r) for r in ROWS]
    changed[1]["review_body"] = "Parcel arrived late. Refund came quickly though."
    write_csv(path, changed)
    res = ingest.ingest(db, [path], kind="review", mapping=MAP)
    assert (res.inserted, res.updated, res.duplicates) == (0, 1, 2)
    after = docs(db)
    assert len(after) == 3
    assert after[1]["id"] == first[1]["id"]
    assert after[1]["text"].startswith("Parcel arrived late. Refund")
    assert after[1]["content_hash"] != first[1]["content_hash"]


def test_documents_without_ids_get_stable_derived_ids(db, tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "review_id"} for r in ROWS]
    path = write_csv(tmp_path / "r.csv", rows)
    mapping = {k: v for k, v in MAP.items() if k != "external_id"}
    assert ingest.ingest(db, [path], kind="review", mapping=mapping).inserted == 3
    assert ingest.ingest(db, [path], kind="review", mapping=mapping).duplicates == 3
    assert all(len(d["external_id"]) == 40 for d in docs(db))


# --- quarantine: every kind of bad row, valid rows beside it kept ---------------------------------


def test_each_kind_of_bad_row_is_quarantined_and_valid_rows_kept(db, tmp_path: Path) -> None:
    path = tmp_path / "messy.csv"
    lines = [
        b"id,date,stars,text\n",
        "1,2024-03-01,5,good row one café\n".encode(),  # UTF-8 elsewhere: the file is UTF-8
        b'2,2024-03-01,4,"broken quoting never closed\n',
        b"3,2024-03-02,5,good row three\n",
        b"4,2024-03-02,3,\n",  # missing text
        b"5,not a date,3,unparseable date\n",
        b"6,2024-03-03,9,rating out of range\n",
        b"7,2024-03-03,4,invalid bytes \xff\xfe here\n",
        b"8,2024-03-03,4,too,many,fields\n",
        b"9,2024-03-04,2," + b"x" * 300 + b"\n",  # oversized for max_text_chars=200
        b'10,2024-03-04,1,"quote then junk"x\n',
        b"11,2024-03-05,5,good row eleven\n",
        b"12,2024-03-05,5,nul \x00 byte\n",
    ]
    path.write_bytes(b"".join(lines))
    res = ingest.ingest(db, [path], kind="review", cfg=IngestConfig(max_text_chars=200))
    assert sorted(d["external_id"] for d in docs(db)) == ["1", "11", "3"]
    q = {r["line"]: r["reason"] for r in db.query("SELECT line, reason FROM quarantine")}
    assert set(q) == {3, 5, 6, 7, 8, 9, 10, 11, 13}
    assert "quot" in q[3]
    assert q[5].startswith("missing text")
    assert "date" in q[6]
    assert "outside the scale" in q[7]
    assert "invalid bytes" in q[8]
    assert "fields" in q[9]
    assert "over the limit" in q[10]
    assert "quot" in q[11]
    assert "NUL" in q[13]
    assert (res.read, res.inserted, res.quarantined) == (12, 3, 9)
    files = {r["file"] for r in db.query("SELECT file FROM quarantine")}
    assert files == {str(path.resolve())}
    # re-ingesting does not repeat quarantine rows
    ingest.ingest(db, [path], kind="review", cfg=IngestConfig(max_text_chars=200))
    assert db["quarantine"].count == 9


def test_bad_json_lines_are_quarantined(db, tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"text": "fine one"}\n{"text": broken\n[1, 2]\n{"text": "fine two"}\n'
                    '{"text": "nul \\u0000 escaped"}\n')
    res = ingest.ingest(db, [path], kind="review")
    assert (res.inserted, res.quarantined) == (2, 3)
    assert {r["line"] for r in db.query("SELECT line FROM quarantine")} == {2, 3, 5}


def test_strict_fails_after_storing_valid_rows(db, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("text,stars\ngood,5\n,4\n")
    with pytest.raises(SourceError, match="E109"):
        ingest.ingest(db, [path], kind="review", strict=True)
    assert db["documents"].count == 1
    assert db["quarantine"].count == 1


def test_unreadable_files_raise(db, tmp_path: Path) -> None:
    bad_gz = tmp_path / "r.csv.gz"
    bad_gz.write_bytes(b"\x1f\x8bnot really gzip")
    with pytest.raises(SourceError, match="E101"):
        ingest.ingest(db, [bad_gz], kind="review")
    bad_xlsx = tmp_path / "r.xlsx"
    bad_xlsx.write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(SourceError, match="E101"):
        ingest.ingest(db, [bad_xlsx], kind="review")


# --- kinds, identities, threading ------------------------------------------------------------------


def test_transactions_and_customers_link_to_the_same_people(db, tmp_path: Path) -> None:
    cust = write_csv(tmp_path / "crm.csv", [
        {"customer_id": "u1", "email": " Jane.Doe@Example.com ", "name": "Jane", "plan": "gold"},
        {"customer_id": "u2", "email": "bob@example.com", "name": "Bob", "plan": "basic"},
    ])
    orders = write_csv(tmp_path / "orders.csv", [
        {"order_id": "o1", "email": "jane.doe@example.com", "order_date": "2024-03-01", "total": "£12.50",
         "currency": "gbp"},
        {"order_id": "o2", "email": "BOB@example.com", "order_date": "2024-03-05", "total": "1,200.00",
         "currency": "gbp"},
        {"order_id": "o3", "email": "new@example.com", "order_date": "2024-03-06", "total": "oops",
         "currency": "gbp"},
    ])
    res = ingest.ingest(db, [cust], kind="customers")
    assert res.inserted == 2
    res = ingest.ingest(db, [orders], kind="transactions", mapping={"external_id": "order_id"})
    assert (res.inserted, res.quarantined) == (2, 1)
    reviews = write_csv(tmp_path / "reviews.csv", ROWS)
    ingest.ingest(db, [reviews], kind="review", mapping=MAP)
    assert db["customers"].count == 2  # u1/u2 from the reviews are the CRM's u1/u2
    jane = next(db.query("SELECT * FROM customers WHERE external_id = 'u1'"))
    assert jane["email"] == "jane.doe@example.com"
    assert json.loads(jane["attributes"]) == {"plan": "gold"}
    assert jane["first_seen"] == "2024-03-01T00:00:00+00:00"
    tx = list(db.query("SELECT t.amount, t.currency, c.external_id FROM transactions t "
                       "JOIN customers c ON c.id = t.customer_id ORDER BY t.id"))
    assert [(t["amount"], t["currency"], t["external_id"]) for t in tx] == [(12.5, "GBP", "u1"),
                                                                           (1200.0, "GBP", "u2")]
    kinds = {(r["kind"], r["value"]) for r in db.query("SELECT kind, value FROM identities")}
    assert ("email", "jane.doe@example.com") in kinds and ("external_id", "u1") in kinds


def test_handles_link_social_posts_across_sources(db, tmp_path: Path) -> None:
    a = write_csv(tmp_path / "tweets.csv", [{"id": "1", "screen_name": "@JaneD", "text": "love the app"}])
    b = write_csv(tmp_path / "posts.csv", [{"id": "9", "handle": "janed", "text": "app crashed again"}])
    ingest.ingest(db, [a], kind="social")
    ingest.ingest(db, [b], kind="social")
    assert db["customers"].count == 1
    assert {d["customer_id"] for d in docs(db)} == {1}


def test_reply_chains_become_conversations(db, tmp_path: Path) -> None:
    rows = [  # out of order on purpose: a reply can come before its parent in an export
        {"tweet_id": "3", "author_id": "brand", "inbound": "False", "created_at": "Tue Oct 31 10:05:00 +0000 2017",
         "text": "@c1 sorry, DM us", "in_response_to_tweet_id": "2"},
        {"tweet_id": "2", "author_id": "c1", "inbound": "True", "created_at": "Tue Oct 31 10:00:00 +0000 2017",
         "text": "@brand my order is late", "in_response_to_tweet_id": ""},
        {"tweet_id": "4", "author_id": "c1", "inbound": "True", "created_at": "Tue Oct 31 10:09:00 +0000 2017",
         "text": "@brand done, thanks", "in_response_to_tweet_id": "3"},
        {"tweet_id": "7", "author_id": "c2", "inbound": "True", "created_at": "Tue Oct 31 11:00:00 +0000 2017",
         "text": "@brand hello?", "in_response_to_tweet_id": ""},
    ]
    path = write_csv(tmp_path / "twcs.csv", rows)
    ingest.ingest(db, [path], preset="twcs-support")
    got = {d["external_id"]: d for d in docs(db)}
    assert {got[k]["conversation_id"] for k in "234"} == {"2"}
    assert [got[k]["turn"] for k in "234"] == [1, 2, 3]
    assert [got[k]["role"] for k in "234"] == ["customer", "agent", "customer"]
    assert got["3"]["customer_id"] == got["2"]["customer_id"] is not None  # agent turn joins the customer
    assert got["7"]["conversation_id"] == "7" and got["7"]["customer_id"] != got["2"]["customer_id"]


def test_redaction_counts_and_storage(db, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [
        {"text": "Email me at jane@example.com or call +44 7700 900123", "title": "card 4111 1111 1111 1111"},
        {"text": "nothing private here", "title": ""},
    ])
    res = ingest.ingest(db, [path], kind="review")
    assert res.redacted == 3
    d = docs(db)[0]
    assert d["text"] == "Email me at [EMAIL] or call [PHONE]"
    assert d["title"] == "card [CARD]"
    assert "jane@example.com" not in json.dumps(docs(db))


def test_survey_nps_scale_and_explicit_scale(db, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "nps.csv", [{"id": "1", "nps": "9", "comment": "good"},
                                             {"id": "2", "nps": "0", "comment": "bad"}])
    ingest.ingest(db, [path], kind="survey")
    assert [d["rating"] for d in docs(db)] == [0.9, 0.0]
    path2 = write_csv(tmp_path / "r10.csv", [{"id": "1", "score": "7", "text": "ok"}])
    ingest.ingest(db, [path2], kind="review", rating_scale="0-10")
    assert docs(db)[-1]["rating"] == 0.7


def test_ingest_records_api(db) -> None:
    recs = [
        {"text": "Great shoes", "rating": 5, "created_at": "2024-01-01", "email": "a@b.com", "url": "https://x/1",
         "attributes": {"brand": "Acme"}, "product": "shoe-1"},
        {"text": "", "rating": 3, "_line": "https://x/2"},
        {"text": "Ok", "rating": "4/5", "customer": "c9"},
    ]
    res = ingest.ingest_records(db, recs, source="shop-reviews", kind="review", origin="https://x")
    assert (res.read, res.inserted, res.quarantined) == (3, 2, 1)
    q = next(db.query("SELECT * FROM quarantine"))
    assert q["file"] == "https://x/2" and q["reason"].startswith("missing text")
    attrs = next(db.query("SELECT * FROM document_attributes"))
    assert attrs["product"] == "shoe-1" and json.loads(attrs["attributes"]) == {"brand": "Acme"}
    assert ingest.ingest_records(db, recs, source="shop-reviews", kind="review").inserted == 0
    assert set(res.as_dict()) == {"files", "read", "inserted", "updated", "duplicates", "quarantined",
                                  "redacted", "seconds"}
    runs = list(db.query("SELECT command, status FROM runs"))
    assert runs == [{"command": "ingest_records", "status": "ok"}] * 2


def test_run_is_recorded_with_counts(db, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", ROWS)
    res = ingest.ingest(db, [path], kind="review", mapping=MAP)
    run = next(db.query("SELECT * FROM runs"))
    assert run["status"] == "ok" and run["command"] == "ingest"
    assert json.loads(run["counts"])["inserted"] == 3
    assert {d["run_id"] for d in docs(db)} == {res.run_id}


def test_migration_from_schema_v1_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = store.open(path, target=1)
    assert store.schema_version(old) == 1
    with store.transaction(old):
        old.conn.execute("INSERT INTO sources (name, created_at) VALUES ('s', '2024-01-01')")
        old.conn.execute("INSERT INTO documents (source_id, kind, external_id, text, content_hash) "
                         "VALUES (1, 'review', 'x', 'kept', 'h')")
        for _ in range(2):
            old.conn.execute("INSERT INTO quarantine (file, line, reason, created_at) VALUES ('f', 1, 'r', 'now')")
    old.conn.close()
    new = store.open(path)
    assert store.schema_version(new) >= 2
    assert [d["text"] for d in docs(new)] == ["kept"]
    assert new["quarantine"].count == 1  # exact repeats merged by the new unique index
    assert "document_attributes" in new.table_names()


def test_parse_process_gives_the_same_store_as_one_process(tmp_path: Path, monkeypatch) -> None:
    from vocseg.ingest import pipeline

    rows = [{**ROWS[i % 3], "review_id": f"r{i % 700}", "review_body": f"{ROWS[i % 3]['review_body']} #{i}"}
            for i in range(1000)]  # repeated ids: updates; plus a bad date every 97 rows
    for i in range(0, 1000, 97):
        rows[i]["date"] = "31/31/2024"
    path = write_csv(tmp_path / "r.csv", rows)
    stores = {}
    for parallel in (False, True):
        monkeypatch.setattr(pipeline, "PARALLEL_MIN_BYTES", 0)
        db = store.open(tmp_path / f"{parallel}.db")
        res = ingest.ingest(db, [path], kind="review", mapping=MAP,
                            cfg=IngestConfig(batch_size=64, parse_process=parallel))
        stores[parallel] = (res.as_dict() | {"seconds": 0}, docs(db),
                            [dict(r) for r in db.query("SELECT line, reason FROM quarantine ORDER BY line")])
    assert stores[True] == stores[False]
    valid = [r for r in rows if r["date"] != "31/31/2024"]
    ids = {r["review_id"] for r in valid}
    counts = stores[True][0]
    assert counts["quarantined"] == 11
    assert (counts["inserted"], counts["updated"], counts["duplicates"]) == (len(ids), len(valid) - len(ids), 0)
    last_text = {r["review_id"]: r["review_body"] for r in valid}  # the last version of each id wins
    assert {d["external_id"]: d["text"] for d in stores[True][1]} == last_text


@pytest.mark.parametrize("parallel", [False, True])
def test_truncated_gzip_keeps_rows_before_and_fails(tmp_path: Path, monkeypatch, parallel: bool) -> None:
    from vocseg.ingest import pipeline

    monkeypatch.setattr(pipeline, "PARALLEL_MIN_BYTES", 0)
    rows = [{**ROWS[i % 3], "review_id": f"r{i}", "review_body": f"review number {i} " + "x" * (i % 50)}
            for i in range(20000)]
    plain = write_csv(tmp_path / "r.csv", rows)
    data = gzip.compress(plain.read_bytes())
    path = tmp_path / "r.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    db = store.open(tmp_path / "t.db")
    with pytest.raises(SourceError, match="E101.*cannot read past line"):
        ingest.ingest(db, [path], kind="review", mapping=MAP, cfg=IngestConfig(batch_size=1000,
                                                                              parse_process=parallel))
    n = db["documents"].count
    assert 5000 < n < 20000  # the rows before the break are stored, every one of them
    assert [d["external_id"] for d in docs(db)] == [f"r{i}" for i in range(n)]
    assert next(db.query("SELECT status FROM runs"))["status"] == "failed"


def test_progress_reports_every_row_against_an_estimated_total(db, tmp_path: Path) -> None:
    rows = [{**ROWS[i % 3], "review_id": f"r{i}"} for i in range(1200)]
    a = write_csv(tmp_path / "a.csv", rows[:700])
    b = write_csv(tmp_path / "b.csv.gz", rows[700:])
    calls: list[tuple[int, int | None]] = []
    res = ingest.ingest(db, [a, b], kind="review", mapping=MAP, cfg=IngestConfig(batch_size=100),
                        progress=lambda advance, total: calls.append((advance, total)))
    assert sum(adv for adv, _ in calls) == res.read == 1200
    totals = [t for _, t in calls if t is not None]
    assert totals[-1] == 1200
    assert all(abs(t - 700) < 70 for t in totals[:1])  # the first file's estimate is close


def test_rating_scale_from_the_column_name(db, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "feedback.csv", [{"id": "1", "nps_score": "8", "csat": "4", "comment": "ok"}])
    ingest.ingest(db, [path], kind="review", mapping=["rating=nps_score"])  # NPS column: 0-10 even for reviews
    assert docs(db)[-1]["rating"] == 0.8
    path2 = write_csv(tmp_path / "csat.csv", [{"id": "1", "csat": "4", "comment": "ok"}])
    ingest.ingest(db, [path2], kind="survey")  # CSAT column: 1-5 even for surveys
    assert docs(db)[-1]["rating"] == 0.75
