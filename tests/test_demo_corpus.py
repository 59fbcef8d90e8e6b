"""The demo corpus: deterministic, the promised sizes, and planted truth measurable from the files."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from vocseg import demo_corpus

EXPORTS = ["customers.csv", "transactions.csv", "reviews.csv", "chats.jsonl", "social.json", "nps.xlsx"]
TRUTH = ["truth/customers.csv", "truth/documents.csv", "truth/planted.json"]


def _digest(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in EXPORTS + TRUTH}


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo-full")
    demo_corpus.generate(out, seed=7, scale=1.0)
    return out


@pytest.fixture(scope="module")
def voice(full) -> pd.DataFrame:
    return _voice(full)


def _chats(folder: Path) -> tuple[pd.DataFrame, int]:
    rows, broken = [], 0
    for line in (folder / "chats.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            broken += 1
    return pd.DataFrame(rows), broken


def _voice(folder: Path) -> pd.DataFrame:
    """Every document with its date as read from the export file, joined to the truth."""
    rev = pd.read_csv(folder / "reviews.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    chats, _ = _chats(folder)
    social = pd.read_json(folder / "social.json", dtype=False)
    nps = pd.read_excel(folder / "nps.xlsx", dtype={"response_id": str})

    def when(values: pd.Series, fmt: str = "mixed") -> pd.Series:
        return pd.to_datetime(values.astype(str), format=fmt, utc=True, errors="coerce")

    parts = [
        pd.DataFrame({"external_id": rev.review_id, "when": when(rev.date), "text": rev.review_text}),
        pd.DataFrame({"external_id": chats.message_id, "when": when(chats.created_at, "%Y-%m-%d %H:%M:%S %z"),
                      "text": chats.text}),
        pd.DataFrame({"external_id": social.post_id.astype(str),
                      "when": when(social.created_at, "%a %b %d %H:%M:%S %z %Y"), "text": social.text}),
        pd.DataFrame({"external_id": nps.response_id, "when": when(nps.submitted_at), "text": nps.comment}),
    ]
    docs = pd.concat(parts, ignore_index=True)
    truth = pd.read_csv(folder / "truth" / "documents.csv", dtype=str, keep_default_na=False)
    return docs.merge(truth, on="external_id", how="inner", validate="one_to_one")


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    demo_corpus.generate(a, seed=3, scale=0.05)
    demo_corpus.generate(b, seed=3, scale=0.05)
    demo_corpus.generate(c, seed=4, scale=0.05)
    assert _digest(a) == _digest(b)
    differ = [n for n, h in _digest(c).items() if h != _digest(a)[n]]
    assert set(EXPORTS) <= set(differ)


def test_full_scale_sizes_and_formats(full):
    customers = pd.read_csv(full / "customers.csv", dtype=str)
    orders = pd.read_csv(full / "transactions.csv", dtype=str)
    reviews = pd.read_csv(full / "reviews.csv", dtype=str, encoding="utf-8-sig")
    chats, broken = _chats(full)
    social = json.loads((full / "social.json").read_text(encoding="utf-8"))
    nps = pd.read_excel(full / "nps.xlsx")
    assert 2_700 <= len(customers) <= 3_300 and customers.customer_id.is_unique
    assert len(orders) >= 20_000
    n_docs = len(reviews) + len(chats) + broken + len(social) + len(nps)
    assert n_docs >= 8_000
    assert (full / "reviews.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # exported for Excel, with a BOM
    # multi-turn conversations with both roles, turn order and reply-to links
    sizes = chats.groupby("conversation_id").size()
    assert (sizes >= 3).mean() > 0.9 and set(chats.role) == {"customer", "agent"}
    ordered = chats.sort_values(["conversation_id", "turn"])
    first = ordered.groupby("conversation_id").head(1)
    assert first.reply_to.isna().all()
    later = ordered[ordered.turn > 1]
    prev_id = dict(zip(zip(ordered.conversation_id, ordered.turn), ordered.message_id, strict=True))
    linked = [prev_id.get((c, t - 1)) == r for c, t, r in zip(later.conversation_id, later.turn, later.reply_to,
                                                              strict=True)]
    assert sum(linked) / len(linked) > 0.99
    assert nps.score.between(0, 10).mean() > 0.99 and all(p["handle"].startswith("@") for p in social)
    # mixed date forms, as real exports have them
    forms = {
        "iso": reviews.date.str.match(r"^\d{4}-\d\d-\d\dT").mean(),
        "slash": reviews.date.str.match(r"^\d{4}/\d{1,2}/\d{1,2}$").mean(),
        "offset": reviews.date.str.match(r".* [+-]\d{4}$").mean(),
    }
    assert all(share > 0.02 for share in forms.values()), forms
    assert re.match(r"^[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \+0000 \d{4}$", social[0]["created_at"])


def test_texts_are_varied_not_copies(voice):
    docs = voice
    customer = docs[docs.role == "customer"]
    assert customer.text.nunique() / len(customer) > 0.9
    for theme, group in customer.groupby("theme"):
        assert group.text.nunique() / len(group) > 0.8, theme


def test_surge_theme_rises_in_the_last_four_weeks_and_others_keep_their_volume(full, voice):
    planted = json.loads((full / "truth" / "planted.json").read_text())
    docs = voice
    docs = docs[(docs.role == "customer") & docs.when.notna()]
    start = pd.Timestamp(planted["start"], tz="UTC")
    surge_start = pd.Timestamp(planted["surge_start"], tz="UTC")
    assert docs.when.max() < pd.Timestamp(planted["end"], tz="UTC") + pd.Timedelta(days=1)
    docs = docs.assign(week=(docs.when - start).dt.days // 7, late=docs.when >= surge_start)
    surge = planted["surge_theme"]
    before = (docs[~docs.late].theme == surge).mean()
    last4 = (docs[docs.late].theme == surge).mean()
    last_week = (docs[docs.week == docs.week.max()].theme == surge).mean()
    assert last4 > 2.5 * before and last_week > 4 * before, (before, last4, last_week)
    weekly = docs.groupby(["week", "theme"]).size().unstack(fill_value=0)
    late_weeks = weekly.index >= weekly.index.max() - 3
    for theme in planted["stable_themes"]:
        ratio = weekly.loc[late_weeks, theme].mean() / weekly.loc[~late_weeks, theme].mean()
        assert 0.75 < ratio < 1.25, (theme, ratio)


def test_unhappy_customers_buy_less_often_then_stop(full):
    truth = pd.read_csv(full / "truth" / "customers.csv")
    orders = pd.read_csv(full / "transactions.csv", dtype=str)
    orders["when"] = pd.to_datetime(orders.order_date, format="mixed", utc=True, errors="coerce")
    orders = orders.dropna(subset=["when"])
    end = pd.Timestamp(json.loads((full / "truth" / "planted.json").read_text())["end"], tz="UTC")
    per = orders.groupby("customer_id").agg(n=("order_id", "size"), last=("when", "max"))
    m = truth.merge(per, left_on="customer", right_index=True, how="left")
    mean_orders = m.groupby("satisfaction").n.mean()
    assert mean_orders["unhappy"] < 0.6 * mean_orders["happy"], mean_orders
    assert mean_orders["unhappy"] < mean_orders["neutral"] < mean_orders["happy"]
    churn = m.groupby("satisfaction").churned.mean()
    assert churn["unhappy"] > 3 * churn["happy"], churn
    # churned customers stopped: nothing in the last 30 days; most others bought recently
    recency = (end - m["last"]).dt.days
    assert (recency[m.churned == 1] > 30).all()
    assert (recency[m.churned == 0] <= 60).mean() > 0.8
    # unhappy customers also say so: ratings and scores follow planted satisfaction
    reviews = pd.read_csv(full / "reviews.csv", dtype=str, encoding="utf-8-sig")
    reviews = reviews.merge(truth, left_on="customer_id", right_on="customer")
    stars = pd.to_numeric(reviews.stars).groupby(reviews.satisfaction).mean()
    assert stars["happy"] - stars["unhappy"] > 2.5, stars


SEGMENT_WORDS = {
    "price_sensitive": r"price|expensive|cheap|charge|refund|bargain|value|overpriced|billed|invoice",
    "delivery_focused": r"deliver|parcel|courier|tracking|return|exchange|shipping",
    "app_focused": r"feature|navigat|search|easy to use|confusing|layout|filter|user friendly",
    "quality_seekers": r"quality|broke|stitching|well made|material|plastic|packaging|recycl|sturdy",
    "support_reliant": r"support|customer service|on hold|agent|reply|queue",
}


def test_need_segments_show_in_what_customers_write(full, voice):
    from sklearn.metrics import adjusted_rand_score

    truth = pd.read_csv(full / "truth" / "customers.csv")
    planted = json.loads((full / "truth" / "planted.json").read_text())
    docs = voice[(voice.role == "customer") & (voice.customer != "")].merge(truth, on="customer")
    # the words of a segment's needs are far more common in its members' own texts
    for segment, words in SEGMENT_WORDS.items():
        hits = docs.text.str.lower().str.contains(words)
        inside, outside = hits[docs.need_segment == segment].mean(), hits[docs.need_segment != segment].mean()
        assert inside > 1.8 * outside, (segment, inside, outside)
    # and each customer's most frequent segment theme recovers the planted segment
    owner = {t: s for s, v in planted["segments"].items() for t in v["themes"]}
    docs = docs.assign(theme_segment=docs.theme.map(owner)).dropna(subset=["theme_segment"])
    majority = docs.groupby(["customer", "need_segment"]).theme_segment.agg(lambda s: s.mode().iloc[0])
    majority = majority.reset_index()
    assert adjusted_rand_score(majority.need_segment, majority.theme_segment) > 0.7
    assert majority.customer.nunique() > 0.5 * len(truth)


def test_identity_links_and_pii_in_free_text(full, voice):
    customers = pd.read_csv(full / "customers.csv", dtype=str, keep_default_na=False)
    social = pd.read_json(full / "social.json", dtype=False)
    handles = {h.lower() for h in customers.handle if h}
    linked = social.handle.str.lstrip("@").str.lower().isin(handles)
    assert 0.5 < linked.mean() < 0.95  # most posts are by known customers, some by strangers
    chats, _ = _chats(full)
    emails = set(customers.email.str.lower())
    typed = chats[chats.role == "customer"].email.str.strip().str.lower()
    assert typed.isin(emails).all()
    assert (typed != chats[chats.role == "customer"].email).any()  # as typed: case and spaces vary
    planted = json.loads((full / "truth" / "planted.json").read_text())["pii_in_text"]
    in_text = voice.text.fillna("").str.contains(r"@[\w.]*example\.|\d{3,4} \d{3,4} ?\d{3,4}")
    assert planted["emails"] > 0 and planted["phones"] > 0
    assert in_text.sum() >= planted["emails"] + planted["phones"]


def test_planted_malformed_rows_are_where_the_truth_says(full):
    planted = json.loads((full / "truth" / "planted.json").read_text())
    bad = planted["malformed"]
    assert len(bad) >= 8 and {b["file"] for b in bad} >= {"reviews.csv", "chats.jsonl", "nps.xlsx"}
    truth_ids = set(pd.read_csv(full / "truth" / "documents.csv", dtype=str).external_id)
    assert not {b["external_id"] for b in bad} & truth_ids
    lines = (full / "chats.jsonl").read_text(encoding="utf-8").splitlines()
    for b in bad:
        if b["file"] == "chats.jsonl" and "JSON" in b["reason"]:
            with pytest.raises(json.JSONDecodeError):
                json.loads(lines[b["line"] - 1])
    reviews = pd.read_csv(full / "reviews.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    row = {b["reason"]: reviews.iloc[b["row"] - 1] for b in bad if b["file"] == "reviews.csv"}
    assert row["unparseable date"].date == "2026-02-30"
    assert row["missing text"].review_text == ""
    assert int(next(r for k, r in row.items() if k.startswith("rating")).stars) > 5


def test_vocseg_demo_ingests_a_small_corpus_end_to_end(tmp_path, cli, db_path):
    out = tmp_path / "demo"
    code, stdout, err = cli("demo", "--out", out, "--scale", "0.1", "--no-stages", "--json")
    assert code == 0, err
    result = json.loads(stdout)
    corpus = result["corpus"]
    planted = json.loads((out / "truth" / "planted.json").read_text())
    con = sqlite3.connect(db_path)
    count = lambda sql: con.execute(sql).fetchone()[0]
    assert count("SELECT COUNT(*) FROM documents") == corpus["documents"]
    assert count("SELECT COUNT(*) FROM transactions") == corpus["transactions"]
    assert count("SELECT COUNT(*) FROM customers WHERE external_id LIKE 'C0%'") == corpus["customers"]
    assert count("SELECT COUNT(*) FROM quarantine") == len(planted["malformed"])
    assert sum(r["quarantined"] for r in result["ingest"].values()) == len(planted["malformed"])
    # documents are linked to the customer the truth says wrote them (by id, e-mail or handle)
    truth = pd.read_csv(out / "truth" / "documents.csv", dtype=str, keep_default_na=False)
    stored = pd.read_sql(
        "SELECT d.external_id, c.external_id AS customer FROM documents d "
        "LEFT JOIN customers c ON c.id = d.customer_id WHERE d.role IS NOT 'agent'", con)
    m = truth[(truth.customer != "") & (truth.role == "customer")].merge(stored, on="external_id",
                                                                         suffixes=("", "_stored"))
    assert len(m) > 0.9 * ((truth.customer != "") & (truth.role == "customer")).sum()
    assert (m.customer == m.customer_stored).mean() > 0.98
    # no e-mail address from the CRM export survives in stored free text
    assert count("SELECT COUNT(*) FROM documents WHERE text LIKE '%@example.%'") == 0
    # a second run adds nothing
    code, stdout, err = cli("demo", "--out", out, "--scale", "0.1", "--no-stages", "--json")
    assert code == 0, err
    assert count("SELECT COUNT(*) FROM documents") == corpus["documents"]
    assert all(r["inserted"] == 0 for r in json.loads(stdout)["ingest"].values())


def test_demo_without_db_keeps_its_store_inside_out(tmp_path, cli, monkeypatch):
    monkeypatch.setenv("VOCSEG_DB", str(tmp_path / "real.db"))  # the user's real store
    monkeypatch.chdir(tmp_path)
    code, stdout, err = cli("demo", "--out", tmp_path / "d", "--scale", "0.02", "--no-stages", "--json", db=False)
    assert code == 0, err
    assert json.loads(stdout)["store"] == str(tmp_path / "d" / "vocseg.db")
    assert not (tmp_path / "real.db").exists() and not (tmp_path / "vocseg.db").exists()
    code, _, err = cli("demo", "--out", tmp_path / "e", "--scale", "0", db=False)
    assert code == 2 and "scale" in err
