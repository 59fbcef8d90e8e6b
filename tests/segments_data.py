"""Synthetic but realistic stores for the segments tests (not a test module).

Documents and transactions go in through the real tables; enrich's tables are filled with the
values enrich would write (per CONTRACTS.md) so the segment stage can be tested on its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np

NEEDS = {
    "delivery speed": [
        "My parcel arrived two weeks late.",
        "Shipping took forever this time.",
        "Delivery was quick and the courier friendly.",
    ],
    "price": [
        "Far too expensive for what it is.",
        "The price went up again.",
        "Great value for the money.",
    ],
    "product quality": [
        "The seams came apart after one wash.",
        "Fabric feels cheap.",
        "Beautiful quality, it will last years.",
    ],
    "customer support": [
        "Nobody answered my emails for a week.",
        "The agent was rude on the phone.",
        "Support solved my problem in minutes.",
    ],
}


def _iso(day: dt.date) -> str:
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC).isoformat()


def add_customer(db, ext: str, email: str | None, name: str | None) -> int:
    cur = db.conn.execute(
        "INSERT INTO customers (external_id, email, name) VALUES (?, ?, ?)", [ext, email, name]
    )
    return int(cur.lastrowid)


def source(db, name: str, kind: str) -> int:
    row = db.conn.execute("SELECT id FROM sources WHERE name = ?", [name]).fetchone()
    if row:
        return row[0]
    return int(
        db.conn.execute(
            "INSERT INTO sources (name, kind, created_at) VALUES (?, ?, ?)",
            [name, kind, "2025-01-01T00:00:00+00:00"],
        ).lastrowid
    )


def add_review(
    db,
    cid: int,
    text: str,
    day: dt.date,
    *,
    satisfaction: float,
    need: str | None,
    rating: float | None = None,
    kind: str = "review",
    role: str | None = None,
    rating_raw: str | None = None,
    intent: str | None = None,
) -> int:
    """A document plus the enrich rows it would get."""
    src = source(db, "shop-reviews", "review")
    h = hashlib.sha1(text.encode()).hexdigest()
    ext = hashlib.sha1(f"{cid}{text}{day}".encode()).hexdigest()
    did = int(
        db.conn.execute(
            "INSERT INTO documents (source_id, kind, external_id, customer_id, text, created_at, rating, "
            "rating_raw, content_hash, role) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [src, kind, ext, cid, text, _iso(day), rating, rating_raw, h, role],
        ).lastrowid
    )
    score = 2 * satisfaction - 1
    label = "positive" if score > 0.2 else "negative" if score < -0.2 else "neutral"
    voice = 0 if role == "agent" else 1
    db.conn.execute(
        "INSERT INTO enrichments (document_id, content_hash, enriched_at, fingerprint, "
        "n_sentences) VALUES (?, ?, ?, 'test', 1)",
        [did, h, "2025-06-01T00:00:00+00:00"],
    )
    p_neg, p_pos = max(-score, 0.0), max(score, 0.0)
    db.conn.execute(
        "INSERT INTO document_sentiment (document_id, score, label, p_negative, p_neutral, "
        "p_positive, satisfaction, has_rating, is_customer_voice) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            did,
            score,
            label,
            p_neg,
            1 - p_neg - p_pos,
            p_pos,
            satisfaction,
            int(rating is not None),
            voice,
        ],
    )
    intent = intent or ("complaint" if score < -0.2 else "praise" if score > 0.2 else "request")
    sid = int(
        db.conn.execute(
            "INSERT INTO sentences (document_id, idx, start_char, end_char, text, content_hash, sentiment_score, "
            "sentiment_label, intent) VALUES (?, 0, 0, ?, ?, ?, ?, ?, ?)",
            [did, len(text), text, h, score, label, intent],
        ).lastrowid
    )
    if need:
        db.conn.execute("INSERT INTO sentence_needs VALUES (?, ?, ?, 0.8)", [sid, did, need])
        db.conn.execute(
            "INSERT INTO document_needs (document_id, need, weight, n_sentences, similarity, "
            "sentiment_score) VALUES (?, ?, 1.0, 1, 0.8, ?)",
            [did, need, score],
        )
    return did


def add_purchases(db, cid: int, days: list[dt.date], amounts: list[float], tag: str = "") -> None:
    src = source(db, "orders", "transactions")
    db.conn.executemany(
        "INSERT INTO transactions (source_id, customer_id, external_id, occurred_at, amount, currency) "
        "VALUES (?, ?, ?, ?, ?, 'EUR')",
        [(src, cid, f"{cid}-{tag}{i}", _iso(d), a) for i, (d, a) in enumerate(zip(days, amounts))],
    )


def world(db, n: int = 160, seed: int = 3, end: dt.date = dt.date(2025, 6, 30)) -> dict[int, dict]:
    """Customers with a planted need, satisfaction (happy/unhappy/neutral) and buying pattern."""
    rng = np.random.default_rng(seed)
    truth = {}
    needs = list(NEEDS)
    db.conn.execute("BEGIN")
    for i in range(n):
        need = needs[i % len(needs)]
        mood = ["happy", "unhappy", "neutral"][(i // len(needs)) % 3]
        sat = {"happy": 0.85, "unhappy": 0.15, "neutral": 0.52}[mood]
        first = ["Ann", "Bob", "Cara", "Dev", "Eli", "Fay", "Gus", "Hal"][i % 8]
        cid = add_customer(db, f"C{i:04d}", f"c{i}@example.com", f"{first} Tester{i}")
        for j in range(int(rng.integers(1, 4))):
            texts = NEEDS[need]
            text = texts[2] if mood == "happy" else texts[int(rng.integers(0, 2))]
            day = end - dt.timedelta(days=int(rng.integers(0, 300)))
            add_review(
                db,
                cid,
                text,
                day,
                satisfaction=float(np.clip(sat + rng.normal(0, 0.03), 0, 1)),
                need=need,
            )
        k = int(rng.integers(1, 12))
        days = sorted(end - dt.timedelta(days=int(d)) for d in rng.integers(0, 700, size=k))
        add_purchases(db, cid, days, [float(round(rng.gamma(2, 40), 2)) for _ in days])
        truth[cid] = {"need": need, "mood": mood}
    db.conn.execute("COMMIT")
    return truth
