"""Topic shift statistics: periods, shares, tests, Benjamini-Hochberg, directions, impact.

Pure functions on pandas frames; the report and alerts read the store and call these.
A period's baseline is made of earlier periods only (no look-ahead).

The test for a topic's share in the latest period against its baseline is Fisher's exact
test on the 2x2 table (topic / other documents x latest / baseline), which holds its size
at any volume. Real topic shares also wander from period to period more than sampling
explains; that extra variance is estimated from the baseline periods alone (Pearson
dispersion, never below 1) and the counts are deflated by it (an effective sample size),
so a topic that always wobbles is not called a shift.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

PERIODS = {"day": "D", "week": "W-SUN", "month": "M"}


def period_start(dates: pd.Series, period: str) -> pd.Series:
    """Start date of the day/week (Monday)/month containing each date."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, got {period!r}")
    ts = pd.to_datetime(dates, utc=True, errors="coerce", format="mixed").dt.tz_convert(None)
    return ts.dt.to_period(PERIODS[period]).dt.start_time.dt.normalize()


def period_end(start: pd.Timestamp, period: str) -> pd.Timestamp:
    """Last day of the period that starts at ``start``."""
    return (pd.Period(start, PERIODS[period]).end_time).normalize()


def shares(frame: pd.DataFrame) -> pd.DataFrame:
    """Per period and topic: count, total documents in the period, share.

    ``frame`` has one row per document with columns ``period`` and ``topic`` (None or NaN:
    unassigned, still counted in the period's total).
    """
    totals = frame.groupby("period").size().rename("total")
    counts = (frame.dropna(subset=["topic"]).groupby(["period", "topic"]).size().rename("count")
              .reset_index())
    out = counts.merge(totals.reset_index(), on="period")
    out["share"] = out["count"] / out["total"]
    return out.sort_values(["period", "topic"]).reset_index(drop=True)


def bh(pvalues: Sequence[float | None]) -> list[float | None]:
    """Benjamini-Hochberg q-values (None stays None: that topic was not tested)."""
    idx = [i for i, p in enumerate(pvalues) if p is not None and not math.isnan(p)]
    q: list[float | None] = [None] * len(pvalues)
    if not idx:
        return q
    p = np.array([pvalues[i] for i in idx], dtype=float)
    order = np.argsort(p)
    m = len(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    for j, o in enumerate(order):
        q[idx[o]] = float(min(1.0, ranked[j]))
    return q


def dispersion(counts: Sequence[int], totals: Sequence[int]) -> float:
    """Pearson dispersion of a topic's counts across periods (1 = binomial noise only)."""
    c, n = np.asarray(counts, float), np.asarray(totals, float)
    if len(c) < 3 or n.sum() == 0:
        return 1.0
    p = c.sum() / n.sum()
    if p <= 0 or p >= 1:
        return 1.0
    chi2 = float((((c - n * p) ** 2) / (n * p * (1 - p))).sum())
    return max(1.0, chi2 / (len(c) - 1))


def share_test(x: int, n: int, b: int, m: int, phi: float = 1.0) -> float:
    """Two-sided p-value that a share of ``x``/``n`` differs from a baseline ``b``/``m``."""
    if n == 0 or m == 0:
        return 1.0
    if phi > 1.0:
        x, n, b, m = (round(v / phi) for v in (x, n, b, m))
        if n == 0 or m == 0:
            return 1.0
    table = [[x, n - x], [b, m - b]]
    return float(stats.fisher_exact(table, alternative="two-sided")[1])


@dataclass(frozen=True)
class ShiftParams:
    alpha: float = 0.01
    min_count: int = 5
    baseline_periods: int = 8


def compare(frame: pd.DataFrame, latest: pd.Timestamp, params: ShiftParams) -> pd.DataFrame:
    """Each topic in period ``latest`` against the baseline of the periods before it.

    ``frame``: one row per document with ``period`` and ``topic`` (as for :func:`shares`).
    Returns one row per topic: count, total, share, baseline_count, baseline_total,
    baseline_share, change, ratio, dispersion, tested, p_value, q_value, direction;
    sorted by significance. Only periods up to ``latest`` are read.
    """
    frame = frame[frame["period"] <= latest]
    totals = frame.groupby("period").size()
    counts = shares(frame)
    periods = sorted(p for p in totals.index if p < latest)[-params.baseline_periods:]
    n = int(totals.get(latest, 0))
    base_totals = [int(totals.get(p, 0)) for p in periods]
    m = sum(base_totals)
    rows = []
    for topic, g in counts.groupby("topic"):
        by = g.set_index("period")["count"]
        x = int(by.get(latest, 0))
        base = [int(by.get(p, 0)) for p in periods]
        b = sum(base)
        if x == 0 and b == 0:
            continue
        p0 = b / m if m else 0.0
        tested = m > 0 and n > 0 and max(x, n * p0) >= params.min_count
        phi = dispersion(base, base_totals)
        pval = share_test(x, n, b, m, phi) if tested else None
        rows.append({"topic": topic, "count": x, "total": n, "share": x / n if n else 0.0,
                     "baseline_count": b, "baseline_total": m, "baseline_share": p0,
                     "change": (x / n if n else 0.0) - p0,
                     "ratio": ((x + 0.5) / (n + 1)) / ((b + 0.5) / (m + 1)) if m else None,
                     "dispersion": phi, "tested": tested, "p_value": pval})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["q_value"] = bh(out["p_value"].tolist())
    out["direction"] = [direction(r, params.alpha) for r in out.to_dict("records")]
    out["_sort"] = out["q_value"].fillna(2.0)
    out = out.sort_values(["_sort", "p_value", "count"], ascending=[True, True, False], na_position="last")
    return out.drop(columns="_sort").reset_index(drop=True)


def direction(row: dict, alpha: float) -> str:
    """rising / falling, emerging (none in the baseline) / fading (none now), else stable."""
    q = row.get("q_value")
    if q is None or (isinstance(q, float) and math.isnan(q)) or q >= alpha:
        return "stable"
    if row["change"] > 0:
        return "emerging" if row["baseline_count"] == 0 else "rising"
    return "fading" if row["count"] == 0 else "falling"


def sentiment_shift(latest: Sequence[float], baseline: Sequence[float], min_count: int = 5) -> tuple[float | None, float | None]:
    """(mean change, Welch t-test p-value) of sentiment scores; None when too few documents."""
    a = np.asarray([v for v in latest if v is not None and not math.isnan(v)], float)
    b = np.asarray([v for v in baseline if v is not None and not math.isnan(v)], float)
    if len(a) < min_count or len(b) < min_count:
        return (float(a.mean() - b.mean()) if len(a) and len(b) else None), None
    change = float(a.mean() - b.mean())
    if np.var(a) == 0 and np.var(b) == 0:
        return change, (1.0 if change == 0 else 0.0)
    return change, float(stats.ttest_ind(a, b, equal_var=False).pvalue)


# --- impact -----------------------------------------------------------------------------


def nps(ratings: Sequence[float]) -> float | None:
    """Net Promoter Score from 0-1 normalised 0-10 answers: % >= 9/10 minus % <= 6/10."""
    r = np.asarray(ratings, float)
    if not len(r):
        return None
    return float(100 * ((r >= 0.9 - 1e-9).mean() - (r <= 0.6 + 1e-9).mean()))


def satisfaction_metric(docs: pd.DataFrame) -> tuple[str, pd.Series]:
    """Which overall score applies (nps, rating or sentiment) and the per-document values.

    NPS where surveys carry ratings, else the mean rating, else the mean sentiment score.
    """
    surveys = docs[(docs["kind"] == "survey") & docs["rating"].notna()]
    if len(surveys) >= 10:
        return "nps", surveys["rating"]
    rated = docs["rating"].dropna()
    if len(rated) >= 10:
        return "rating", rated
    return "sentiment", docs["sentiment"].dropna()


def _score(metric: str, values: pd.Series) -> float | None:
    if not len(values):
        return None
    return nps(values.tolist()) if metric == "nps" else float(values.mean())


def impact(docs: pd.DataFrame) -> tuple[str, float | None, dict]:
    """Overall score and, per topic, the score's change if that topic's documents were removed.

    ``docs``: one row per customer document with ``topic``, ``kind``, ``rating``, ``sentiment``.
    A positive impact means the topic pulls the overall score down by that much.
    """
    metric, values = satisfaction_metric(docs)
    overall = _score(metric, values)
    out = {}
    topic_of = docs.loc[values.index, "topic"].astype("float64").fillna(-1).to_numpy()
    for topic in docs["topic"].dropna().unique():
        rest = values[topic_of != float(topic)]
        s = _score(metric, rest)
        out[topic] = None if s is None or overall is None else s - overall
    return metric, overall, out
