"""The segments section of `vocseg report`: sizes and their change over the period, movements
between segments ("38 Champions became unhappy this month"), each segment's needs and quotes.

Built from the membership history alone, so it describes what `vocseg segment` saw at each
run; the report renders it (``vocseg/report/templates/_segments.*``).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd
import sqlite_utils

PERIOD_DAYS = {"day": 1, "week": 7, "month": 30, "quarter": 91}


def _ts(value: str | pd.Timestamp | None, default: pd.Timestamp) -> str:
    t = default if value is None else pd.Timestamp(value)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return t.isoformat(timespec="microseconds")


def memberships_at(db: sqlite_utils.Database, at: str, kinds: tuple[str, ...]) -> pd.DataFrame:
    """(segment, kind, customer_id) of every membership open at time ``at``."""
    marks = ",".join("?" * len(kinds))
    return pd.read_sql_query(
        f"SELECT s.name AS segment, s.kind, m.customer_id FROM segment_memberships m JOIN segments s "
        f"ON s.id = m.segment_id WHERE m.valid_from <= ? AND (m.valid_to IS NULL OR m.valid_to > ?) "
        f"AND s.kind IN ({marks})",
        db.conn,
        params=[at, at, *kinds],
    )


def _movements(
    before: pd.DataFrame, after: pd.DataFrame, labels: dict[str, str], period: str
) -> list[dict[str, Any]]:
    def wide(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.pivot_table(
            index="customer_id", columns="kind", values="segment", aggfunc="first"
        )

    b, a = wide(before), wide(after)
    both = b.add_suffix("_before").join(a.add_suffix("_after"), how="inner")
    for col in ("satisfaction_before", "satisfaction_after", "rfm_before", "rfm_after"):
        if col not in both.columns:
            both[col] = None
    when = {
        "day": "today",
        "week": "this week",
        "month": "this month",
        "quarter": "this quarter",
    }.get(period, f"this {period}")
    out = []
    sat = both.dropna(subset=["satisfaction_before", "satisfaction_after"])
    sat = sat[sat["satisfaction_before"] != sat["satisfaction_after"]]
    for (rfm, s_from, s_to), n in (
        sat.fillna({"rfm_before": "no-purchases"})
        .groupby(["rfm_before", "satisfaction_before", "satisfaction_after"])
        .size()
        .items()
    ):
        who = (
            labels.get(rfm, "customers without purchases")
            if rfm != "no-purchases"
            else "customers without purchases"
        )
        out.append(
            {
                "kind": "satisfaction",
                "segment": rfm,
                "from": s_from,
                "to": s_to,
                "count": int(n),
                "text": f"{n} {who} became {s_to} {when} (were {s_from}).",
            }
        )
    rfm = both.dropna(subset=["rfm_before", "rfm_after"])
    rfm = rfm[rfm["rfm_before"] != rfm["rfm_after"]]
    for (r_from, r_to), n in rfm.groupby(["rfm_before", "rfm_after"]).size().items():
        out.append(
            {
                "kind": "rfm",
                "segment": r_from,
                "from": r_from,
                "to": r_to,
                "count": int(n),
                "text": f"{n} {labels.get(r_from, r_from)} became {labels.get(r_to, r_to)} {when}.",
            }
        )
    return sorted(out, key=lambda m: (-m["count"], m["text"]))


def section(
    db: sqlite_utils.Database,
    *,
    since: str | None = None,
    until: str | None = None,
    period: str = "month",
    top: int = 10,
) -> dict[str, Any]:
    """Data for the report's segments section (JSON-ready).

    ``until`` defaults to now and ``since`` to one ``period`` (day, week, month, quarter) before.

    Example: ``section(db, period="month")["movements"][0]["text"]``
    """
    end = pd.Timestamp.now(tz="UTC")
    until_s = _ts(until, end)
    since_s = _ts(since, pd.Timestamp(until_s) - pd.Timedelta(days=PERIOD_DAYS.get(period, 30)))
    if "segments" not in db.table_names():
        return {"available": False}
    kinds = ("satisfaction", "rfm", "cohort", "cluster", "custom")
    first = db.conn.execute("SELECT min(valid_from) FROM segment_memberships").fetchone()[0]
    if first is not None and first > since_s:
        # segmented for the first time within the period: compare with that first run
        since_s = first
    now = memberships_at(db, until_s, kinds)
    then = memberships_at(db, since_s, kinds)
    labels = dict(db.conn.execute("SELECT name, label FROM segments"))
    sizes_now = now.groupby("segment").size()
    sizes_then = then.groupby("segment").size()
    segs = []
    for name, kind, label, prof in db.conn.execute(
        "SELECT name, kind, label, profile FROM segments WHERE kind != 'rfm' ORDER BY kind, name"
    ):
        p = json.loads(prof)
        n, before = int(sizes_now.get(name, 0)), int(sizes_then.get(name, 0))
        if n == 0 and before == 0:
            continue
        segs.append(
            {
                "name": name,
                "kind": kind,
                "label": label,
                "size": n,
                "size_before": before,
                "change": n - before,
                "satisfaction": p.get("satisfaction"),
                "revenue_share": p.get("revenue_share"),
                "top_needs": p.get("top_needs", []),
                "top_topics": p.get("top_topics", []),
                "quotes": p.get("quotes", []),
            }
        )
    order = {"satisfaction": 0, "cohort": 1, "cluster": 2, "custom": 3}
    segs.sort(key=lambda s: (order.get(s["kind"], 9), -s["size"], s["name"]))
    last = db.conn.execute(
        "SELECT max(valid_from) FROM segment_memberships WHERE valid_from <= ?", [until_s]
    ).fetchone()[0]
    has_history = bool(len(then)) and last is not None and last > since_s
    return {
        "available": True,
        "since": since_s,
        "until": until_s,
        "period": period,
        "has_history": has_history,
        "segments": segs,
        "movements": _movements(then, now, labels, period)[:top] if has_history else [],
    }


def _md(text: Any) -> str:
    """Customer text made inert in Markdown (and in HTML a viewer passes through)."""
    s = " ".join(str(text).split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|>~])", r"\\\1", s)


def markdown(data: dict[str, Any]) -> str:
    """The section as Markdown (the HTML report may use its own template on the same data)."""
    if not data.get("available"):
        return ""
    lines = ["## Segments", ""]
    if data["movements"]:
        lines += ["**Movements**", ""] + [f"- {_md(m['text'])}" for m in data["movements"]] + [""]
    lines += [
        "| segment | customers | change | satisfaction | revenue share | top needs |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for s in data["segments"]:
        needs = ", ".join(n["name"] for n in s["top_needs"][:3])
        sat = "" if s["satisfaction"] is None else f"{s['satisfaction']:.2f}"
        share = "" if s["revenue_share"] is None else f"{100 * s['revenue_share']:.1f}%"
        lines.append(
            f"| {s['label']} | {s['size']} | {s['change']:+d} | {sat} | {share} | {needs} |"
        )
    lines.append("")
    for s in data["segments"]:
        if s["kind"] == "cluster" and s["quotes"]:
            lines += (
                [f"**{_md(s['label'])}**", ""] + [f"> {_md(q['text'])}" for q in s["quotes"]] + [""]
            )
    return "\n".join(lines)
