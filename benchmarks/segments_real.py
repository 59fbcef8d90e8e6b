"""`vocseg segment` on real data: UCI Online Retail buyers x Women's Clothing reviews.

No shared corpus holds feedback AND transactions for the same people (Online Retail has
purchases but no reviews; the review, tweet and complaint sets have no purchases, and their
ids do not meet), so this script builds a declared PSEUDO-LINKAGE, not a real one:

* customers and transactions are real: every row of ../shared/corpora/online-retail-sample
  with a CustomerID, ingested with the `online-retail-sample` preset (a row-level sample, so
  per-customer RFM is understated, see its SOURCE.md);
* feedback is real: reviews (title, text, 1-5 stars) from ../shared/corpora/womens-clothing-reviews;
* the link is artificial: with a fixed seed, 60% of the buyers (sorted by CustomerID) are each
  given 1-3 reviews drawn at random without replacement, dated 2-20 days after one of that
  buyer's own invoices (the review set has no dates). Who wrote which review is therefore
  independent of how they buy: the grid shows the pipeline on real text and real purchases at
  real scale, not a real relation between satisfaction and value.

Prints ONE JSON object (the cohort grid, clusters, counts, timings).
Example: .venv/bin/python benchmarks/segments_real.py --out /tmp/real.db
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, peak_rss_mb, versions

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("VOCSEG_SHARED", ROOT.parent / "shared")) / "corpora"


def link(db, seed: int = 6, share: float = 0.6) -> dict:
    """Ingest the real transactions and the pseudo-linked real reviews (see the module doc)."""
    from vocseg import ingest

    retail = SHARED / "online-retail-sample" / "online_retail_sample.csv"
    res_tx = ingest.ingest(db, [retail], preset="online-retail-sample")
    tx = pd.read_csv(retail, dtype=str, keep_default_na=False)
    tx = tx[tx["CustomerID"].str.fullmatch(r"\d+")]
    dates = tx.groupby("CustomerID")["InvoiceDate"].apply(list)
    reviews = pd.read_csv(
        SHARED / "womens-clothing-reviews" / "womens_clothing_ecommerce_reviews.csv.gz", index_col=0
    )
    reviews = reviews[reviews["Review Text"].notna()]
    rng = np.random.default_rng(seed)
    buyers = sorted(dates.index, key=int)
    chosen = [b for b in buyers if rng.random() < share]
    need = sum(k for k in (1 + np.minimum(rng.poisson(0.6, len(chosen)), 2)))
    pool = rng.permutation(len(reviews))[:need]
    records, i = [], 0
    rng = np.random.default_rng(seed + 1)
    for b in chosen:
        for _ in range(1 + min(int(rng.poisson(0.6)), 2)):
            if i >= len(pool):
                break
            r = reviews.iloc[pool[i]]
            i += 1
            day = pd.Timestamp(rng.choice(dates[b])) + pd.Timedelta(days=int(rng.integers(2, 21)))
            records.append(
                {
                    "external_id": f"wcr-{reviews.index[pool[i - 1]]}",
                    "customer": b,
                    "title": None if pd.isna(r["Title"]) else r["Title"],
                    "text": r["Review Text"],
                    "rating": int(r["Rating"]),
                    "rating_best": 5,
                    "rating_worst": 1,
                    "created_at": day.isoformat(),
                    "product": str(r["Clothing ID"]),
                }
            )
    res_rv = ingest.ingest_records(
        db, records, source="womens-clothing-reviews-linked", kind="review"
    )
    return {
        "transactions": res_tx.as_dict(),
        "reviews": res_rv.as_dict(),
        "buyers": len(buyers),
        "buyers_given_reviews": len(chosen),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="Keep the store at this path (default: a temporary one).")
    ap.add_argument(
        "--no-enrich", action="store_true", help="Skip enrich: satisfaction from ratings only."
    )
    args = ap.parse_args()
    from vocseg import config, segments, store

    tmp = tempfile.mkdtemp()
    path = Path(args.out or Path(tmp) / "real.db")
    db = store.open(path)
    result: dict = {
        "benchmark": "segments_real",
        "corpus": "online-retail-sample x womens-clothing-reviews (pseudo-linkage, see docstring)",
        "timings_s": {},
    }
    t = time.perf_counter()
    result["n"] = link(db)
    result["timings_s"]["ingest"] = round(time.perf_counter() - t, 1)
    cfg = config.load(path=None)
    if not args.no_enrich:
        from vocseg import enrich

        t = time.perf_counter()
        result["enrich"] = str(enrich.enrich(db, cfg))[:300]
        result["timings_s"]["enrich"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    s = segments.segment(db, cfg.segments)
    result["timings_s"]["segment"] = round(time.perf_counter() - t, 1)
    result.update(
        {
            k: s[k]
            for k in (
                "as_of",
                "customers",
                "with_feedback",
                "with_transactions",
                "grid",
                "clusters",
                "clv",
            )
        }
    )
    result["cohorts"] = {
        r["name"]: r["size"] for r in segments.list_segments(db, kinds=("satisfaction",))
    }
    result["clusters_profiles"] = [
        {k: r[k] for k in ("name", "size", "satisfaction", "revenue_share", "top_need")}
        for r in segments.list_segments(db, kinds=("cluster",))
    ]
    result["peak_rss_mb"] = peak_rss_mb()
    result["versions"] = versions("numpy", "pandas", "scikit-learn", "scipy")
    emit(result)


if __name__ == "__main__":
    main()
