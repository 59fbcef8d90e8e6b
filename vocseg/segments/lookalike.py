"""Lookalikes: customers who left no feedback, ranked by how closely they buy like a cohort.

Behaviour vector per customer with purchases: log spend, log purchase days, log recency,
log tenure, log average order and trend, each standardised over all buyers. A candidate's
score is 1 / (1 + mean distance to its k nearest cohort members), k = min(10, cohort size):
nearest members rather than the cohort's centre, so a cohort made of two kinds of buyer still
attracts both kinds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import sqlite_utils
from sklearn.neighbors import NearestNeighbors

from vocseg.errors import Errors, VocsegError
from vocseg.segments.membership import members


def behaviour_matrix(f: pd.DataFrame) -> pd.DataFrame:
    """Standardised behaviour features of buyers (rows of customer_features with purchases)."""
    freq = f["frequency"].astype(float).clip(lower=1)
    X = pd.DataFrame(
        {
            "spend": np.log1p(f["monetary"].astype(float).clip(lower=0)),
            "days": np.log1p(freq),
            "recency": np.log1p(f["recency_days"].astype(float).clip(lower=0)),
            "tenure": np.log1p(f["tenure_days"].astype(float).clip(lower=0)),
            "basket": np.log1p(f["monetary"].astype(float).clip(lower=0) / freq),
            "trend": f["trend"].astype(float),
        },
        index=f.index,
    )
    sd = X.std().replace(0, 1).fillna(1)
    return ((X - X.mean()) / sd).fillna(0.0)


def rank(
    features: pd.DataFrame, cohort_ids: list[int], *, top: int = 50, k: int = 10
) -> pd.DataFrame:
    """Silent buyers (``n_feedback == 0``) ordered by similarity to the cohort (pure function).

    Example: ``rank(features, members(db, "happy-champions"), top=20)``
    """
    buyers = features[features["n_transactions"] > 0]
    X = behaviour_matrix(buyers)
    seeds = X.loc[X.index.intersection(cohort_ids)]
    cand = X.loc[buyers.index[buyers["n_feedback"] == 0].difference(cohort_ids)]
    if seeds.empty:
        return pd.DataFrame(columns=["similarity", "distance"])
    if cand.empty:
        return pd.DataFrame(columns=["similarity", "distance"])
    nn = NearestNeighbors(n_neighbors=min(k, len(seeds))).fit(seeds.to_numpy())
    dist, _ = nn.kneighbors(cand.to_numpy())
    d = dist.mean(axis=1)
    out = pd.DataFrame({"similarity": 1 / (1 + d), "distance": d}, index=cand.index)
    return out.sort_values(["similarity"], ascending=False, kind="stable").head(top)


def lookalike(db: sqlite_utils.Database, cohort: str, *, top: int = 50) -> list[dict[str, Any]]:
    """Top ``top`` customers with no feedback whose buying most resembles ``cohort``.

    Example: ``lookalike(db, "happy-champions", top=20)[0]["similarity"]``
    """
    if db.conn.execute("SELECT 1 FROM segments WHERE name = ?", [cohort]).fetchone() is None:
        raise VocsegError(Errors.E403.format(name=cohort), code="E403")
    f = pd.read_sql_query(
        "SELECT customer_id, n_feedback, n_transactions, monetary, frequency, recency_days, tenure_days, "
        "trend, rfm_segment, clv FROM customer_features",
        db.conn,
    ).set_index("customer_id")
    ids = members(db, cohort)
    if not (f.loc[f.index.intersection(ids), "n_transactions"] > 0).any():
        raise VocsegError(Errors.E410.format(name=cohort), code="E410")
    ranked = rank(f, ids, top=top)
    if ranked.empty:
        return []
    ident = {
        c: (e, m)
        for c, e, m in db.conn.execute(
            f"SELECT id, external_id, email FROM customers WHERE id IN ({','.join('?' * len(ranked))})",
            [int(i) for i in ranked.index],
        )
    }
    out = []
    for n, (cid, r) in enumerate(ranked.iterrows(), 1):
        row = f.loc[cid]
        out.append(
            {
                "rank": n,
                "customer_id": int(cid),
                "external_id": ident.get(cid, (None, None))[0],
                "email": ident.get(cid, (None, None))[1],
                "similarity": round(float(r["similarity"]), 4),
                "rfm_segment": row["rfm_segment"],
                "monetary": round(float(row["monetary"]), 2),
                "frequency": int(row["frequency"]),
                "clv": None if pd.isna(row["clv"]) else round(float(row["clv"]), 2),
            }
        )
    return out
