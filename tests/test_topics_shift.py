"""Topic-shift statistics: size of the test under no shift, power, no look-ahead, impact."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vocseg import shift

WEEKS = pd.date_range("2026-01-05", periods=20, freq="7D")


def _simulate(rng: np.random.Generator, shares: np.ndarray, per_period: int, n_periods: int,
              wobble: float = 0.0) -> pd.DataFrame:
    """Documents over ``n_periods`` weeks, topics drawn with fixed shares (or wobbling ones)."""
    frames = []
    for p in range(n_periods):
        full = np.append(shares, 1 - shares.sum())
        probs = full if not wobble else rng.dirichlet(full / wobble)
        topics = rng.choice(len(shares) + 1, size=per_period, p=probs)
        frames.append(pd.DataFrame({"period": WEEKS[p],
                                    "topic": pd.array(np.where(topics == len(shares), pd.NA, topics),
                                                      dtype="Int64")}))
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("alpha", [0.05, 0.01])
def test_false_positive_rate_without_shift_is_at_most_alpha(alpha):
    rng = np.random.default_rng(11)
    shares = np.array([0.30, 0.20, 0.15, 0.10, 0.08, 0.06, 0.04, 0.03, 0.02])
    params = shift.ShiftParams(alpha=alpha, min_count=5, baseline_periods=8)
    tests = raw_hits = called = 0
    for _ in range(90):
        frame = _simulate(rng, shares, per_period=int(rng.integers(80, 400)), n_periods=12)
        for latest in WEEKS[9:12]:
            out = shift.compare(frame, latest, params)
            tested = out[out["tested"]]
            tests += len(tested)
            raw_hits += int((tested["p_value"] < alpha).sum())
            called += int((out["direction"] != "stable").sum())
    assert tests > 2000
    assert raw_hits / tests <= alpha  # each p-value is valid at its level
    assert called / tests <= alpha  # and after Benjamini-Hochberg


def test_wobbling_shares_are_not_called_shifts():
    """Shares that vary from period to period more than sampling explains stay 'stable'."""
    rng = np.random.default_rng(5)
    shares = np.array([0.25, 0.2, 0.15, 0.1, 0.1, 0.1])
    params = shift.ShiftParams(alpha=0.01, min_count=5, baseline_periods=8)
    tests = called = 0
    for _ in range(60):
        frame = _simulate(rng, shares, per_period=600, n_periods=10, wobble=0.01)
        out = shift.compare(frame, WEEKS[9], params)
        tests += int(out["tested"].sum())
        called += int((out["direction"] != "stable").sum())
    assert called / tests <= 0.02


def test_a_real_rise_is_found_and_marked_rising():
    rng = np.random.default_rng(3)
    shares = np.array([0.3, 0.2, 0.1, 0.05])
    frame = _simulate(rng, shares, per_period=300, n_periods=9)
    surge = _simulate(rng, np.array([0.2, 0.15, 0.07, 0.25]), per_period=300, n_periods=1)
    surge["period"] = WEEKS[9]
    frame = pd.concat([frame, surge], ignore_index=True)
    out = shift.compare(frame, WEEKS[9], shift.ShiftParams(alpha=0.01))
    top = out.iloc[0]
    assert top["topic"] == 3 and top["direction"] == "rising" and top["q_value"] < 0.01
    assert (out["q_value"] <= 1).all() and (out["q_value"] >= out["p_value"] - 1e-12).all()


def test_emerging_and_fading_directions():
    rows = [(WEEKS[p], 0) for p in range(6) for _ in range(40)]
    rows += [(WEEKS[p], 1) for p in range(5) for _ in range(20)]  # topic 1 stops in week 5
    rows += [(WEEKS[5], 2)] * 25  # topic 2 appears in week 5
    frame = pd.DataFrame(rows, columns=["period", "topic"]).astype({"topic": "Int64"})
    out = shift.compare(frame, WEEKS[5], shift.ShiftParams(alpha=0.01)).set_index("topic")
    assert out.loc[2, "direction"] == "emerging" and out.loc[1, "direction"] == "fading"


def test_no_look_ahead_into_later_periods():
    rng = np.random.default_rng(8)
    frame = _simulate(rng, np.array([0.4, 0.3, 0.2]), per_period=150, n_periods=12)
    latest = WEEKS[7]
    later = frame[frame["period"] > latest]
    # the same comparison whatever happens after the latest period
    skewed = later.assign(topic=pd.array([0] * len(later), dtype="Int64"))
    a = shift.compare(frame, latest, shift.ShiftParams())
    b = shift.compare(frame[frame["period"] <= latest], latest, shift.ShiftParams())
    c = shift.compare(pd.concat([frame[frame["period"] <= latest], skewed]), latest, shift.ShiftParams())
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)
    # a period's shares do not change when later periods arrive
    early = shift.shares(frame[frame["period"] <= latest])
    full = shift.shares(frame)
    pd.testing.assert_frame_equal(early, full[full["period"] <= latest].reset_index(drop=True))


def test_period_start_weeks_start_on_monday_and_months_on_the_first():
    dates = pd.Series(["2026-06-28T23:30:00+00:00", "2026-06-29 08:00", "2026-02-03T10:00:00-08:00"])
    weeks = shift.period_start(dates, "week")
    assert [d.weekday() for d in weeks] == [0, 0, 0]
    assert str(weeks[0].date()) == "2026-06-22" and str(weeks[1].date()) == "2026-06-29"
    assert [str(d.date()) for d in shift.period_start(dates, "month")] == ["2026-06-01", "2026-06-01", "2026-02-01"]


def test_bh_keeps_order_and_untested_topics():
    p = [0.001, None, 0.04, 0.03, 0.5]
    q = shift.bh(p)
    assert q[1] is None
    assert all(q[i] >= p[i] for i in (0, 2, 3, 4))
    assert q[0] <= q[3] <= q[2] <= q[4] <= 1


def test_impact_is_positive_for_a_topic_that_drags_the_score_down():
    docs = pd.DataFrame({
        "topic": pd.array([1] * 20 + [2] * 20, dtype="Int64"),
        "kind": ["survey"] * 40,
        "rating": [0.1] * 20 + [1.0] * 20,
        "sentiment": [-0.8] * 20 + [0.7] * 20,
    })
    metric, overall, impact = shift.impact(docs)
    assert metric == "nps" and overall == pytest.approx(0.0)
    assert impact[1] > 0 > impact[2]
    metric, _, impact = shift.impact(docs.assign(kind="review", rating=np.nan))
    assert metric == "sentiment" and impact[1] > 0 > impact[2]


def test_sentiment_shift_detects_a_drop():
    rng = np.random.default_rng(2)
    change, p = shift.sentiment_shift(rng.normal(-0.5, 0.3, 40), rng.normal(0.1, 0.3, 200))
    assert change < -0.4 and p < 1e-6
    assert shift.sentiment_shift([0.1, 0.2], [0.1] * 50)[1] is None
