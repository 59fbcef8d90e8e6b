"""Segment speed: `vocseg segment` on 100,000 customers with 1,000,000 transactions.

A synthetic store is generated first (not timed): customers with a gamma-Poisson buying
pattern over two years, 30% of them with one to three enriched reviews (sentiment,
satisfaction, needs, intents and 384-d embeddings filled as enrich writes them). Then `vocseg segment` runs in a
child process, measured for wall time and peak RSS; a second run with nothing new measures the
incremental path. Target (issue 6): under 60 s and 2 GB.

Prints ONE JSON object. Example: .venv/bin/python benchmarks/segments.py --customers 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, run_measured, versions

NEEDS = ["delivery speed", "price", "product quality", "customer support", "app usability"]


def build(path: Path, customers: int, transactions: int, seed: int = 7) -> dict:
    from vocseg import store

    rng = np.random.default_rng(seed)
    db = store.open(path)
    conn = db.conn
    end = dt.datetime(2025, 6, 30, tzinfo=dt.UTC)
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO sources (id, name, kind, created_at) VALUES (1, 'orders', 'transactions', ?), "
        "(2, 'reviews', 'review', ?)",
        [end.isoformat(), end.isoformat()],
    )
    conn.executemany(
        "INSERT INTO customers (id, external_id, email, name) VALUES (?, ?, ?, ?)",
        [
            (i, f"C{i:07d}", f"c{i}@example.com", f"First{i} Last{i}")
            for i in range(1, customers + 1)
        ],
    )
    # buying: rate ~ gamma, so a few heavy buyers and many one-off ones; 1M rows in all
    rate = rng.gamma(0.8, 1.0, customers)
    counts = np.maximum(1, rng.poisson(rate / rate.mean() * transactions / customers))
    owner = np.repeat(np.arange(1, customers + 1), counts)[:transactions]
    n = len(owner)
    start = rng.integers(0, 730, customers)
    offs = (start[owner - 1] * rng.random(n)).astype(int)
    when = [
        (end - dt.timedelta(days=int(d), minutes=int(m))).isoformat()
        for d, m in zip(offs, rng.integers(0, 1440, n))
    ]
    amount = np.round(rng.gamma(2.0, 25.0, n), 2)
    conn.executemany(
        "INSERT INTO transactions (source_id, customer_id, external_id, occurred_at, amount, currency) "
        "VALUES (1, ?, ?, ?, ?, 'EUR')",
        ((int(c), f"T{i}", w, float(a)) for i, (c, w, a) in enumerate(zip(owner, when, amount))),
    )
    voiced = rng.choice(np.arange(1, customers + 1), size=int(customers * 0.3), replace=False)
    did = sid = 0
    docs, sents, ds, dn, sn, enr, emb = [], [], [], [], [], [], []
    centres = rng.normal(size=(len(NEEDS), 384)).astype(np.float32)
    for cid in voiced:
        need = NEEDS[int(rng.integers(0, len(NEEDS)))]
        for _ in range(int(rng.integers(1, 4))):
            did += 1
            sid += 1
            sat = float(rng.beta(2, 2))
            score = 2 * sat - 1
            label = "positive" if score > 0.2 else "negative" if score < -0.2 else "neutral"
            text = f"About {need}: {'great' if score > 0 else 'poor'} experience #{did}."
            h = f"{did:040x}"
            day = (end - dt.timedelta(days=int(rng.integers(0, 365)))).isoformat()
            docs.append((did, 2, "review", f"R{did}", int(cid), text, day, h))
            enr.append((did, h, end.isoformat(), "bench", 1))
            vec = centres[NEEDS.index(need)] + rng.normal(scale=2.0, size=384).astype(np.float32)
            emb.append(
                (h, "all-MiniLM-L6-v2", 384, (vec / np.linalg.norm(vec)).astype("<f2").tobytes())
            )
            ds.append((did, score, label, max(-score, 0), 1 - abs(score), max(score, 0), sat, 0, 1))
            sents.append(
                (
                    sid,
                    did,
                    0,
                    0,
                    len(text),
                    text,
                    h,
                    score,
                    label,
                    "complaint" if score < -0.2 else "praise" if score > 0.2 else "request",
                )
            )
            dn.append((did, need, 1.0, 1, 0.7, score))
            sn.append((sid, did, need, 0.7))
    conn.executemany(
        "INSERT INTO documents (id, source_id, kind, external_id, customer_id, text, created_at, "
        "content_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        docs,
    )
    conn.executemany(
        "INSERT INTO enrichments (document_id, content_hash, enriched_at, fingerprint, n_sentences) "
        "VALUES (?, ?, ?, ?, ?)",
        enr,
    )
    conn.executemany(
        "INSERT INTO document_sentiment (document_id, score, label, p_negative, p_neutral, p_positive, "
        "satisfaction, has_rating, is_customer_voice) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ds,
    )
    conn.executemany(
        "INSERT INTO sentences (id, document_id, idx, start_char, end_char, text, content_hash, "
        "sentiment_score, sentiment_label, intent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        sents,
    )
    conn.executemany(
        "INSERT INTO document_needs (document_id, need, weight, n_sentences, similarity, sentiment_score) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        dn,
    )
    conn.executemany(
        "INSERT INTO embeddings (content_hash, model, dim, vector) VALUES (?, ?, ?, ?)", emb
    )
    conn.executemany(
        "INSERT INTO sentence_needs (sentence_id, document_id, need, similarity) VALUES (?, ?, ?, ?)",
        sn,
    )
    conn.execute("COMMIT")
    conn.close()
    return {
        "customers": customers,
        "transactions": n,
        "customers_with_feedback": len(voiced),
        "documents": did,
    }


RUN = (
    "import json,sys; from vocseg import config, segments, store; "
    "r = segments.segment(store.open(sys.argv[1]), config.SegmentsConfig()); "
    "print(json.dumps({k: r[k] for k in ('customers', 'voice_recomputed', 'joined', 'left', 'clusters', 'grid')}))"
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--transactions", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        data = build(path, args.customers, args.transactions)
        import subprocess

        first = run_measured([sys.executable, "-c", RUN, str(path)], stdout=subprocess.PIPE)
        second = run_measured([sys.executable, "-c", RUN, str(path)], stdout=subprocess.DEVNULL)
    emit(
        {
            "benchmark": "segments",
            "corpus": "synthetic (generated in the script, seed 7)",
            "n": data,
            "first_run": first,
            "second_run_nothing_new": second,
            "target": {"seconds": 60, "peak_rss_mb": 2048},
            "meets_target": first["seconds"] < 60 and first["peak_rss_mb"] < 2048,
            "versions": versions("numpy", "pandas", "scikit-learn", "scipy", "sqlite-utils"),
        }
    )


if __name__ == "__main__":
    main()
