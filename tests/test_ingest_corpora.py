"""Every shared corpus ingests with its preset, and re-ingesting it adds nothing.

Expected counts come from each corpus's SOURCE.md.
"""

from __future__ import annotations

import csv

import pytest
from conftest import shared_corpus

from vocseg import ingest

pytestmark = pytest.mark.shared


def _twice(db, name: str):
    path = shared_corpus(name)
    first = ingest.ingest(db, [path], preset=name)
    again = ingest.ingest(db, [path], preset=name)
    assert (again.inserted, again.updated) == (0, 0)
    assert again.duplicates == first.inserted + first.duplicates + first.updated
    assert again.read == first.read
    return first


def test_airline_tweets(db) -> None:
    res = _twice(db, "airline-tweets")
    assert res.read == 11335
    assert res.inserted == 11224  # unique tweet ids; exact repeats are duplicates
    assert res.quarantined == 0
    row = next(db.query("SELECT created_at, kind, channel FROM documents WHERE external_id = '570301130888122368'"))
    assert row == {"created_at": "2015-02-24T19:15:59+00:00", "kind": "social", "channel": "twitter"}
    # one customer per handle
    handles = next(db.query("SELECT COUNT(DISTINCT author) AS n FROM documents"))["n"]
    assert db["customers"].count == handles


def test_twcs_support_threads_conversations(db) -> None:
    res = _twice(db, "twcs-support")
    assert (res.read, res.inserted) == (3555, 3555)
    row = next(db.query("SELECT COUNT(DISTINCT conversation_id) AS convs, SUM(role = 'customer') AS cust, "
                        "SUM(role = 'agent') AS agent, SUM(customer_id IS NULL) AS unlinked FROM documents"))
    assert row == {"convs": 1042, "cust": 1936, "agent": 1619, "unlinked": 0}
    # turns run 1..n in time order inside every conversation
    bad = next(db.query(
        "SELECT COUNT(*) AS n FROM (SELECT conversation_id, MIN(turn) AS lo, MAX(turn) AS hi, COUNT(*) AS c "
        "FROM documents GROUP BY conversation_id) WHERE lo != 1 OR hi != c"))["n"]
    assert bad == 0
    # the conversation is named after its root tweet, which is turn 1
    roots = {r["turn"] for r in db.query("SELECT turn FROM documents WHERE conversation_id = external_id")}
    assert roots == {1}
    assert next(db.query("SELECT COUNT(*) AS n FROM documents WHERE turn = 1"))["n"] == 1042


def test_womens_clothing_reviews(db) -> None:
    res = _twice(db, "womens-clothing-reviews")
    assert res.read == 23486
    assert res.quarantined == 845  # rows without review text
    assert res.inserted == 23486 - 845
    dist = {r["rating_raw"]: r["n"] for r in db.query(
        "SELECT rating_raw, COUNT(*) AS n FROM documents GROUP BY rating_raw")}
    assert set(dist) == {"1", "2", "3", "4", "5"}
    assert next(db.query("SELECT MIN(rating) AS lo, MAX(rating) AS hi FROM documents")) == {"lo": 0.0, "hi": 1.0}


def test_online_retail_transactions_linked_to_customers(db) -> None:
    res = _twice(db, "online-retail-sample")
    assert res.read == 20000 and res.quarantined == 0
    assert res.inserted + res.duplicates == 20000
    assert db["customers"].count == 3049
    with (shared_corpus("online-retail-sample") / "online_retail_sample.csv").open(newline="") as f:
        no_customer = {tuple(r.values()) for r in csv.DictReader(f) if r["CustomerID"] == "NA"}
    unlinked = next(db.query("SELECT COUNT(*) AS n FROM transactions WHERE customer_id IS NULL"))["n"]
    assert unlinked == len(no_customer)  # rows without a CustomerID are kept, unlinked
    row = next(db.query("SELECT currency, COUNT(*) AS n FROM transactions GROUP BY currency"))
    assert row["currency"] == "GBP"
    assert next(db.query("SELECT COUNT(*) AS n FROM transactions WHERE amount < 0"))["n"] > 0  # returns kept


def test_cfpb_complaints_as_tickets(db) -> None:
    res = _twice(db, "cfpb-complaints")
    assert res.read == 3416
    assert res.inserted == 775  # rows with a narrative; the rest are quarantined as missing text
    assert res.quarantined == 3416 - 775
    import pandas as pd

    raw = pd.read_csv(shared_corpus("cfpb-complaints") / "complaints.csv", dtype=str)
    raw = raw[raw["Consumer complaint narrative"].fillna("").str.strip() != ""]
    dates = pd.to_datetime(raw["Date received"], format="%Y/%m/%d")
    row = next(db.query("SELECT MIN(kind) AS kind, MIN(created_at) AS lo, MAX(created_at) AS hi FROM documents"))
    assert row["kind"] == "ticket"
    assert (row["lo"][:10], row["hi"][:10]) == (str(dates.min().date()), str(dates.max().date()))


def test_vader_gold_as_other_documents(db) -> None:
    res = _twice(db, "vader-gold")
    assert res.files == 2 and res.read == 10605 + 5190
    assert res.inserted == res.read
    row = next(db.query("SELECT MIN(rating) AS lo, MAX(rating) AS hi, MIN(kind) AS k FROM documents"))
    assert row["k"] == "other" and 0 <= row["lo"] < 0.1 and 0.9 < row["hi"] <= 1
