"""RFM: recency, frequency, monetary value, tenure and trend from transactions; quintile scores;
the user-editable mapping from scores to segment names (``vocseg/data/rfm_segments.toml``)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from vocseg.errors import ConfigError, Errors

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Rule:
    name: str
    label: str
    r: tuple[int, int]
    f: tuple[int, int]
    m: tuple[int, int]
    description: str = ""


def load_mapping(path: str | Path | None = None) -> list[Rule]:
    """Rules from ``path`` (or the packaged file), checked: slugs, ranges 1..5, full coverage.

    Example: ``[r.name for r in load_mapping()][:2] == ["champions", "loyal"]``
    """
    if path:
        p = Path(path)
        where = str(p)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                Errors.E404.format(path=p, reason=exc.strerror or exc), code="E404"
            ) from None
    else:
        where = "vocseg/data/rfm_segments.toml"
        text = (
            resources.files("vocseg").joinpath("data/rfm_segments.toml").read_text(encoding="utf-8")
        )

    def bad(reason: str) -> ConfigError:
        return ConfigError(Errors.E404.format(path=where, reason=reason), code="E404")

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise bad(f"not valid TOML ({exc})") from None
    rules = []
    for i, item in enumerate(data.get("segment", []), 1):
        name = item.get("name", "")
        if not isinstance(name, str) or not SLUG.match(name):
            raise bad(f"[[segment]] #{i}: name {name!r} must be a lower-case slug like 'at-risk'")
        ranges = {}
        for key in "rfm":
            rng = item.get(key, [1, 5])
            if (
                not isinstance(rng, list)
                or len(rng) != 2
                or not all(isinstance(v, int) for v in rng)
                or not 1 <= rng[0] <= rng[1] <= 5
            ):
                raise bad(f"segment '{name}': {key} must be [low, high] with 1 <= low <= high <= 5")
            ranges[key] = (rng[0], rng[1])
        rules.append(
            Rule(
                name,
                str(item.get("label", name)),
                ranges["r"],
                ranges["f"],
                ranges["m"],
                str(item.get("description", "")),
            )
        )
    if not rules:
        raise bad("no [[segment]] tables")
    if len({r.name for r in rules}) != len(rules):
        raise bad("segment names must be unique")
    for r in range(1, 6):
        for f in range(1, 6):
            for m in range(1, 6):
                if assign_one(rules, r, f, m) is None:
                    raise bad(f"no rule matches R={r} F={f} M={m}; end with a catch-all rule")
    return rules


def assign_one(rules: list[Rule], r: int, f: int, m: int) -> str | None:
    for rule in rules:
        if (
            rule.r[0] <= r <= rule.r[1]
            and rule.f[0] <= f <= rule.f[1]
            and rule.m[0] <= m <= rule.m[1]
        ):
            return rule.name
    return None


def assign(rules: list[Rule], r: pd.Series, f: pd.Series, m: pd.Series) -> pd.Series:
    """Segment name per row (first matching rule), via a 125-entry lookup table."""
    table = {
        (a, b, c): assign_one(rules, a, b, c)
        for a in range(1, 6)
        for b in range(1, 6)
        for c in range(1, 6)
    }
    codes = r.astype(int) * 100 + f.astype(int) * 10 + m.astype(int)
    lookup = {a * 100 + b * 10 + c: v for (a, b, c), v in table.items()}
    return codes.map(lookup)


def quintile_score(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """Scores 1..5 by quintile of rank; ties share the lower score, so equal values score equally.

    Example: ``quintile_score(pd.Series([1, 2, 3, 4, 5])).tolist() == [1, 2, 3, 4, 5]``
    """
    v = values if higher_is_better else -values
    n = len(v)
    if n == 0:
        return pd.Series([], dtype="int64", index=values.index)
    rank = v.rank(method="min")
    return (1 + np.floor(5 * (rank - 1) / n)).clip(1, 5).astype("int64")


def behaviour(tx: pd.DataFrame, as_of: pd.Timestamp, *, trend_days: int = 90) -> pd.DataFrame:
    """Per-customer behaviour from transactions (``customer_id``, ``occurred_at`` UTC, ``amount``).

    Frequency counts distinct days with a positive net purchase, so the line items of one order
    count once and a day of returns is not a purchase. Monetary is net spend (returns deducted).
    Trend compares spend in the last ``trend_days`` with the ``trend_days`` before, in [-1, 1]
    (positive: buying more); missing for customers younger than twice that.
    Also returns the BG/NBD inputs (``bg_x``, ``bg_tx``, ``bg_T``, ``bg_m``) in days.
    """
    cols = [
        "n_transactions",
        "first_purchase_at",
        "last_purchase_at",
        "recency_days",
        "frequency",
        "monetary",
        "tenure_days",
        "trend",
        "bg_x",
        "bg_tx",
        "bg_T",
        "bg_m",
    ]
    if tx.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="customer_id"))
    tx = tx[tx["occurred_at"] <= as_of]
    day = tx["occurred_at"].dt.floor("D")
    daily = (
        tx.assign(day=day).groupby(["customer_id", "day"], sort=False)["amount"].sum().reset_index()
    )
    g = tx.groupby("customer_id", sort=True)
    out = pd.DataFrame(
        {
            "n_transactions": g.size(),
            "first_purchase_at": g["occurred_at"].min(),
            "last_purchase_at": g["occurred_at"].max(),
            "monetary": g["amount"].sum(),
        }
    )
    as_of_day = as_of.floor("D")
    out["recency_days"] = (as_of - out["last_purchase_at"]).dt.total_seconds() / 86400
    out["tenure_days"] = (as_of - out["first_purchase_at"]).dt.total_seconds() / 86400
    buys = daily[daily["amount"] > 0]
    gb = buys.groupby("customer_id", sort=True)
    n_days = gb.size()
    first_day, last_day = gb["day"].min(), gb["day"].max()
    out["frequency"] = n_days.reindex(out.index).fillna(0).astype("int64")
    out["bg_x"] = (n_days - 1).reindex(out.index)
    out["bg_tx"] = ((last_day - first_day).dt.days).reindex(out.index)
    out["bg_T"] = ((as_of_day - first_day).dt.days).reindex(out.index)
    # mean spend of repeat purchase days (the first is excluded, as in the Gamma-Gamma papers)
    first_amount = buys.sort_values("day").groupby("customer_id")["amount"].first()
    repeat_sum = gb["amount"].sum() - first_amount
    out["bg_m"] = (repeat_sum / (n_days - 1).where(n_days > 1)).reindex(out.index).fillna(0.0)
    t = pd.Timedelta(days=trend_days)
    recent = tx["occurred_at"] > as_of - t
    before = (tx["occurred_at"] > as_of - 2 * t) & ~recent
    a = tx["amount"].where(recent, 0.0).groupby(tx["customer_id"]).sum().reindex(out.index)
    b = tx["amount"].where(before, 0.0).groupby(tx["customer_id"]).sum().reindex(out.index)
    denom = a.abs() + b.abs()
    trend = ((a - b) / denom.where(denom > 0)).fillna(0.0)
    out["trend"] = trend.where(out["tenure_days"] >= 2 * trend_days)
    return out[cols]


def scores(beh: pd.DataFrame, rules: list[Rule]) -> pd.DataFrame:
    """R, F, M quintile scores and the RFM segment for customers with at least one purchase."""
    buyers = beh[beh["frequency"] > 0]
    r = quintile_score(buyers["recency_days"], higher_is_better=False)
    f = quintile_score(buyers["frequency"])
    m = quintile_score(buyers["monetary"])
    out = pd.DataFrame({"r_score": r, "f_score": f, "m_score": m}, index=buyers.index)
    out["rfm_segment"] = assign(rules, r, f, m)
    return out
