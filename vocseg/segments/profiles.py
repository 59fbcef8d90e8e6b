"""Marketer-readable segment profiles: size, revenue share, needs, topics, satisfaction, quotes."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pandas as pd
import sqlite_utils

from vocseg.segments.features import _columns, _tables, _with_ids, voice_condition


def label_matrix(column: pd.Series) -> pd.DataFrame:
    """Customers x labels share matrix from a JSON column (``needs`` or ``topics``), parsed once."""
    rows = [json.loads(v) if isinstance(v, str) else {} for v in column]
    return pd.DataFrame(rows, index=column.index, dtype=float).fillna(0.0)


def _top(matrix: pd.DataFrame, ids: pd.Index, n: int = 3) -> list[dict[str, Any]]:
    if matrix.empty or not len(ids):
        return []
    mean = matrix.loc[ids].mean()
    mean = mean[mean > 0].sort_values(ascending=False)[:n]
    return [{"name": str(k), "share": round(float(v), 3)} for k, v in mean.items()]


def _clean(text: str, limit: int = 240) -> str:
    text = re.sub(r"\s+", " ", text or "").strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]
    stop = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    return (cut[: stop + 1] if stop > 60 else cut.rsplit(" ", 1)[0]) + ("" if stop > 60 else " ...")


def quotes(
    db: sqlite_utils.Database, ids: list[int], *, need: str | None, mood: float | None, n: int = 3
) -> list[dict[str, Any]]:
    """``n`` short quotes from distinct members: sentences that express the segment's top need
    (enrich's sentence_needs), preferring ones whose sentiment agrees with the segment's mood
    (``mood`` in [-1, 1]); otherwise recent feedback. Agent turns are never quoted."""
    if not ids:
        return []
    tables = _tables(db)
    tmp = _with_ids(db, ids)
    rows: list[tuple] = []
    where = f"d.customer_id IN (SELECT id FROM temp.{tmp}) AND {voice_condition(db)}"
    if need and "sentence_needs" in tables and "sentences" in tables:
        sent = "s.sentiment_score" if "sentiment_score" in _columns(db, "sentences") else "NULL"
        rows = db.conn.execute(
            f"SELECT s.text, d.customer_id, sn.similarity, {sent}, d.id FROM sentence_needs sn "
            f"JOIN sentences s ON s.id = sn.sentence_id JOIN documents d ON d.id = s.document_id "
            f"WHERE sn.need = ? AND {where} ORDER BY sn.similarity DESC LIMIT 300",
            [need],
        ).fetchall()
    # topped up with recent feedback (ranked below every need match) when too few match
    rows += [
        (t, c, -1.0, None, i)
        for t, c, i in db.conn.execute(
            f"SELECT d.text, d.customer_id, d.id FROM documents d WHERE {where} "
            f"ORDER BY d.created_at DESC LIMIT 300"
        ).fetchall()
    ]

    def score(r: tuple) -> float:
        sim = float(r[2] or 0.0)
        agree = 0.0 if mood is None or r[3] is None else float(np.sign(r[3]) == np.sign(mood))
        length_ok = 1.0 if 20 <= len(r[0] or "") <= 300 else 0.0
        return sim + 0.5 * agree + 0.5 * length_ok

    out, seen = [], set()
    for r in sorted(rows, key=score, reverse=True):
        text = _clean(r[0])
        if r[1] in seen or text.lower() in seen or len(text) < 10:
            continue
        seen.update([r[1], text.lower()])
        out.append({"text": text, "document_id": r[4]})
        if len(out) == n:
            break
    return out


def build(
    db: sqlite_utils.Database,
    features: pd.DataFrame,
    ids: pd.Index,
    *,
    matrices: dict[str, pd.DataFrame],
    with_quotes: bool,
    happy: float,
    unhappy: float,
) -> dict[str, Any]:
    """Profile of the customers ``ids`` (index into ``features``); ``matrices`` holds the
    ``label_matrix`` of needs and topics."""
    f = features.loc[features.index.intersection(ids)]
    revenue = float(f["monetary"].clip(lower=0).fillna(0).sum())
    total = float(features["monetary"].clip(lower=0).fillna(0).sum())
    sat = f["satisfaction"].dropna()
    mean_sat = float(sat.mean()) if len(sat) else None
    needs = _top(matrices["needs"], f.index)
    profile = {
        "size": len(f),
        "revenue": round(revenue, 2),
        "revenue_share": round(revenue / total, 4) if total > 0 else None,
        "satisfaction": round(mean_sat, 3) if mean_sat is not None else None,
        "with_feedback": int((f["n_feedback"] > 0).sum()),
        "clv_mean": round(float(f["clv"].mean()), 2) if f["clv"].notna().any() else None,
        "top_needs": needs,
        "top_topics": _top(matrices["topics"], f.index),
        "satisfaction_mix": {k: int(v) for k, v in f["satisfaction_class"].value_counts().items()},
        "rfm_mix": {k: int(v) for k, v in f["rfm_segment"].value_counts().head(5).items()},
    }
    if with_quotes:
        mood = (
            None
            if mean_sat is None
            else (1.0 if mean_sat >= happy else -1.0 if mean_sat <= unhappy else None)
        )
        profile["quotes"] = quotes(
            db,
            [int(i) for i in f.index[f["n_feedback"] > 0]],
            need=needs[0]["name"] if needs else None,
            mood=mood,
        )
    return profile
