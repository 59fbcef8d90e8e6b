"""Data-driven segments: k-means on needs, satisfaction and behaviour, k by silhouette.

Blocks (weights in ``[segments] cluster_weights``):

* ``text``: what the customer writes about, from enrich's sentence-transformer embeddings of
  their documents. Each document vector is centred on the mean of its document kind (so the
  style of chats vs reviews vs surveys does not make clusters) and the direction that separates
  positive from negative documents is projected out (mood has its own block); the customer's
  mean is L2-normalised and reduced to 10 principal components. On the demo corpus (scale 0.1)
  this recovers the planted need segments far better than the need taxonomy alone (adjusted
  Rand 0.67 and 0.78 on seeds 7 and 11 with the default weights, vs 0.27 for need shares
  alone).
* ``needs``: shares of enrich's need taxonomy;
* ``satisfaction``: the customer's satisfaction;
* ``behaviour``: log spend, log purchase days, log recency, trend (and ``extra_features``).

Each block is scaled so that its total variance equals its weight squared, so a block with
many columns does not drown a block with one unless asked to. k is chosen by the silhouette score (on a sample of at most 2,500 customers), the
standard internal criterion for k-means without labels: the smallest k in 2..max_clusters whose
score is within 0.01 of the best.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import pairwise_distances, silhouette_score
from threadpoolctl import threadpool_limits

SILHOUETTE_TOLERANCE = 0.01


@dataclass(frozen=True)
class ClusterResult:
    labels: pd.Series  # customer_id -> cluster index
    k: int
    silhouette: float
    scores: dict[int, float]
    columns: list[str]


def _needs_matrix(features: pd.DataFrame) -> pd.DataFrame:
    rows = [json.loads(s) if isinstance(s, str) else {} for s in features["needs"]]
    return pd.DataFrame(rows, index=features.index).fillna(0.0)


def text_profiles(
    meta: pd.DataFrame, vectors: np.ndarray, *, seed: int, components: int = 10
) -> pd.DataFrame:
    """Per-customer topic-of-speech vectors (see the module doc) from document embeddings.

    ``meta`` has ``customer_id``, ``kind`` and ``score`` (document sentiment, -1..1) per row of
    ``vectors``. Returns customer_id x ``components`` (fewer for small data).
    """
    if len(meta) == 0:
        return pd.DataFrame()
    from sklearn.decomposition import PCA

    v = vectors.astype(np.float32, copy=True)
    kinds = meta["kind"].to_numpy()
    for k in np.unique(kinds):
        v[kinds == k] -= v[kinds == k].mean(axis=0)
    score = meta["score"].astype(float).fillna(0.0).to_numpy()
    pos, neg = score > 0.3, score < -0.3
    if pos.sum() >= 5 and neg.sum() >= 5:
        axis = v[pos].mean(axis=0) - v[neg].mean(axis=0)
        axis /= max(float(np.linalg.norm(axis)), 1e-9)
        v -= np.outer(v @ axis, axis)
    codes, ids = pd.factorize(meta["customer_id"])
    # per-customer sums, in document order within each customer (as np.add.at, 2x faster)
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(ids)))
    sums = np.add.reduceat(v[order].astype(np.float64), starts, axis=0)
    sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-9)
    n = min(components, len(ids) - 1, v.shape[1])
    if n < 2:
        return pd.DataFrame()
    reduced = PCA(n_components=n, random_state=seed).fit_transform(sums)
    return pd.DataFrame(
        reduced, index=pd.Index(ids, name="customer_id"), columns=[f"text:{i}" for i in range(n)]
    )


def matrix(
    features: pd.DataFrame,
    weights: dict[str, float],
    extra: list[str] | None = None,
    text: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The weighted clustering matrix for customers with feedback (rows of ``features``)."""
    blocks = []
    if text is not None and len(text.columns) and weights.get("text", 1.0) > 0:
        t = text.reindex(features.index)
        t = (t - t.mean()).fillna(0.0)
        total = float(t.var().sum())
        if total > 0:
            blocks.append(t * (weights.get("text", 1.0) / np.sqrt(total)))
    needs = _needs_matrix(features).add_prefix("need:")
    needs = needs.loc[:, needs.var() > 0]
    if needs.shape[1]:
        total = float(needs.var().sum())
        blocks.append((needs - needs.mean()) * (weights.get("needs", 0.5) / np.sqrt(total)))
    sat = features[["satisfaction"]].astype(float)
    if sat["satisfaction"].notna().any() and sat["satisfaction"].std() > 0:
        sat = sat.fillna(sat.mean())
        blocks.append((sat - sat.mean()) / sat.std() * weights.get("satisfaction", 0.3))
    beh = pd.DataFrame(
        {
            "log_monetary": np.log1p(features["monetary"].astype(float).clip(lower=0)),
            "log_frequency": np.log1p(features["frequency"].astype(float)),
            "log_recency": np.log1p(features["recency_days"].astype(float).clip(lower=0)),
            "trend": features["trend"].astype(float),
        },
        index=features.index,
    )
    for col in extra or []:
        if col in features.columns and pd.api.types.is_numeric_dtype(features[col]):
            beh[col] = features[col].astype(float)
    beh = beh.loc[:, beh.notna().any() & (beh.std() > 0)]
    if beh.shape[1]:
        z = (beh - beh.mean()) / beh.std()
        blocks.append(z.fillna(0.0) * (weights.get("behaviour", 0.3) / np.sqrt(beh.shape[1])))
    if not blocks:
        return pd.DataFrame(index=features.index)
    return pd.concat(blocks, axis=1)


def fit(
    features: pd.DataFrame,
    *,
    weights: dict[str, float],
    max_clusters: int,
    seed: int,
    extra: list[str] | None = None,
    text: pd.DataFrame | None = None,
) -> ClusterResult | None:
    # one OpenMP thread: on a busy 2-core machine k-means' spinning threads ran 50x slower
    # (6.2 s vs 0.12 s for 5,000 x 10, k = 5); single-threaded it is fast at our sizes anyway
    with threadpool_limits(limits=1, user_api="openmp"):
        return _fit(
            features, weights=weights, max_clusters=max_clusters, seed=seed, extra=extra, text=text
        )


def _fit(
    features: pd.DataFrame,
    *,
    weights: dict[str, float],
    max_clusters: int,
    seed: int,
    extra: list[str] | None = None,
    text: pd.DataFrame | None = None,
) -> ClusterResult | None:
    """k-means for k = 2..max_clusters on ``matrix(features)``; the k with best silhouette.

    Example: ``fit(features, weights={"needs": 1, "satisfaction": .5, "behaviour": .5}, max_clusters=8, seed=42)``
    """
    X = matrix(features, weights, extra, text)
    if X.shape[1] == 0 or len(X) < 4:
        return None
    values = X.to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    # k is chosen on a sample (silhouette is quadratic in n); the chosen k is then fit on everyone
    pick = rng.choice(len(values), size=min(len(values), 5000), replace=False)
    sample = values[pick]
    sil = rng.choice(len(sample), size=min(len(sample), 2500), replace=False)
    distances = pairwise_distances(sample[sil])  # once for every k, not once per k
    scores = {}
    for k in range(2, max(2, min(max_clusters, len(values) - 1)) + 1):
        km = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(sample)
        if len(set(km.labels_[sil])) < 2:
            continue
        scores[k] = float(silhouette_score(distances, km.labels_[sil], metric="precomputed"))
    if not scores:
        return None
    # parsimony: the fewest clusters whose silhouette is within SILHOUETTE_TOLERANCE of the
    # best; near-ties are noise, and fewer segments are easier for a marketer to act on
    top = max(scores.values())
    best = min(k for k, v in scores.items() if v >= top - SILHOUETTE_TOLERANCE)
    final = KMeans(n_clusters=best, n_init=4, random_state=seed).fit(values)
    return ClusterResult(
        pd.Series(final.labels_, index=X.index), best, scores[best], scores, list(X.columns)
    )


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")[:40] or "x"


def describe(
    features: pd.DataFrame, members: pd.Index, *, happy: float, unhappy: float
) -> tuple[str, str, list[str]]:
    """A generated (name, label, top needs) for a cluster: its most over-represented need, its
    satisfaction and its value compared with all customers with feedback."""
    needs = _needs_matrix(features)
    inside = needs.loc[members].mean() if len(needs.columns) else pd.Series(dtype=float)
    overall = needs.mean() if len(needs.columns) else pd.Series(dtype=float)
    top_needs = [str(n) for n in inside.sort_values(ascending=False).index[:3] if inside[n] > 0]
    lift = (inside / overall.where(overall > 0)).fillna(0) * (inside > 0.1)
    need = (
        str(lift.idxmax())
        if len(lift) and lift.max() > 0
        else (top_needs[0] if top_needs else "general")
    )
    sat = features.loc[members, "satisfaction"].mean()
    mood = "happy" if sat >= happy else "unhappy" if sat <= unhappy else "mixed"
    spend = features["monetary"].fillna(0)
    ratio = spend.loc[members].mean() / spend.mean() if spend.mean() > 0 else 1.0
    value = "high-value" if ratio >= 1.5 else "low-value" if ratio <= 0.5 else ""
    parts = [need, mood] + ([value] if value else [])
    name = "cluster-" + slug("-".join(parts))
    label = f"{mood.capitalize()} {value + ' ' if value else ''}customers talking about {need}"
    return name, label, top_needs


def match_previous(
    labels: pd.Series, previous: dict[str, set[int]], *, min_jaccard: float = 0.5
) -> dict[int, str]:
    """Cluster index -> the previous run's cluster name when they share most members
    (Jaccard >= ``min_jaccard``, best pairs first), so names and histories stay stable
    across refits instead of every run retiring and recreating its clusters."""
    pairs = []
    for c in sorted(set(labels)):
        now = set(labels.index[labels == c].tolist())
        for name, old in previous.items():
            j = len(now & old) / len(now | old) if now or old else 0.0
            if j >= min_jaccard:
                pairs.append((j, c, name))
    out: dict[int, str] = {}
    for _, c, name in sorted(pairs, reverse=True):
        if c not in out and name not in out.values():
            out[c] = name
    return out
