"""Report data: read the store once, compute every figure, return one JSON-ready dict.

Nothing here renders; ``render.py`` turns the dict into HTML, Markdown or JSON. The
dict's shape is the documented report schema (docs/report.md).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import numpy as np
import pandas as pd
import sqlite_utils

from vocseg import shift, store
from vocseg.config import Config
from vocseg.errors import Errors, StageOrderError, UsageError

SCHEMA_VERSION = 1
QUOTE_CHARS = 400


def _has(db: sqlite_utils.Database, table: str) -> bool:
    return table in db.table_names()


def documents(db: sqlite_utils.Database, since: str | None = None, until: str | None = None) -> pd.DataFrame:
    """Customer-voice documents (agent turns excluded) with topic, sentiment and metadata."""
    sent = "ds.score" if _has(db, "document_sentiment") else "NULL"
    label = "ds.label" if _has(db, "document_sentiment") else "NULL"
    join = "LEFT JOIN document_sentiment ds ON ds.document_id = d.id" if sent != "NULL" else ""
    topics = _has(db, "document_topics")
    sql = (
        "SELECT d.id, d.created_at, s.name AS source, d.kind, d.channel, d.rating, d.text, "
        f"d.content_hash, {sent} AS sentiment, {label} AS sentiment_label, "
        + ("dt.topic_id AS topic, dt.similarity, dt.document_id IS NOT NULL AS has_topic_row "
           if topics else "NULL AS topic, NULL AS similarity, 0 AS has_topic_row ")
        + f"FROM documents d JOIN sources s ON s.id = d.source_id {join} "
        + ("LEFT JOIN document_topics dt ON dt.document_id = d.id " if topics else "")
        + "WHERE d.role IS NOT 'agent'"
    )
    frame = pd.read_sql_query(sql, db.conn)
    frame["date"] = pd.to_datetime(frame["created_at"], utc=True, errors="coerce",
                                   format="mixed").dt.tz_convert(None)
    if since:
        frame = frame[frame["date"] >= pd.Timestamp(since)]
    if until:
        frame = frame[frame["date"] < pd.Timestamp(until) + pd.Timedelta(days=1)]
    frame["topic"] = frame["topic"].astype("Int64")
    return frame.reset_index(drop=True)


def _parse_date(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise UsageError(Errors.E307.format(what=what, value=value, reason="use YYYY-MM-DD"),
                         code="E307") from None


def _f(x: Any, digits: int = 4) -> float | None:
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
        return None
    return round(float(x), digits)


def build(db: sqlite_utils.Database, cfg: Config, *, period: str | None = None,
          since: str | None = None, until: str | None = None) -> dict[str, Any]:
    """The report for the latest period in [since, until] against the periods before it.

    Example: ``build(db, config.load(), period="month")["topics"][0]["direction"]``
    """
    rc = cfg.report
    period = period or rc.period
    if period not in shift.PERIODS:
        raise UsageError(Errors.E307.format(what="period", value=period,
                                            reason="use day, week or month"), code="E307")
    since, until = _parse_date(since, "--since"), _parse_date(until, "--until")
    docs = documents(db, since, until)
    undated = int(docs["date"].isna().sum())
    docs = docs.dropna(subset=["date"]).copy()
    if docs.empty:
        raise StageOrderError(Errors.E309.format(since=since or "the start", until=until or "now"),
                              code="E309")
    docs["period"] = shift.period_start(docs["date"], period)
    latest = docs["period"].max()
    params = shift.ShiftParams(alpha=rc.alpha, min_count=rc.min_count,
                               baseline_periods=rc.baseline_periods)
    table = shift.compare(docs[["period", "topic"]], latest, params)
    base_periods = sorted(p for p in docs["period"].unique() if p < latest)[-rc.baseline_periods:]
    cur = docs[docs["period"] == latest]
    base = docs[docs["period"].isin(base_periods)]
    meta = _topic_meta(db)
    metric, overall, impacts = shift.impact(docs)
    rows = _topic_rows(db, table, cur, base, docs, meta, impacts, rc)
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": store.now(),
        "period": {"kind": period, "start": latest.date().isoformat(),
                   "end": shift.period_end(latest, period).date().isoformat()},
        "baseline": {"periods": len(base_periods),
                     "start": base_periods[0].date().isoformat() if base_periods else None,
                     "end": (shift.period_end(base_periods[-1], period).date().isoformat()
                             if base_periods else None)},
        "window": {"since": since, "until": until},
        "alpha": rc.alpha,
        "summary": _summary(cur, base, rows, metric, overall),
        "trend": _trend(docs),
        "topics": rows,
        "emerging": emerging(db, cfg, cur, base),
        "needs": _needs(db, cur, base),
        "data_quality": _quality(db, docs, cur, undated),
        "segments": segments_section(db, cfg, latest, period),
    }


# ---- SEGMENTS SECTION: owned by the segments engineer ------------------------------------
def segments_section(db: sqlite_utils.Database, cfg: Config, latest: pd.Timestamp,
                     period: str) -> dict[str, Any] | None:
    """Data for the report's segments section; None leaves the section out.

    Segment sizes now and one ``period`` ago (by run time: memberships are dated when
    `vocseg segment` saw them), movements between segments, needs and quotes. None until
    `vocseg segment` has run.
    """
    if not _has(db, "segments") or not db.execute("SELECT 1 FROM segments LIMIT 1").fetchone():
        return None
    from vocseg.segments import report as segments_report

    return segments_report.section(db, period=period, top=10)
# ---- END SEGMENTS SECTION ------------------------------------------------------------------


def _topic_meta(db: sqlite_utils.Database) -> dict[int, dict[str, Any]]:
    if not _has(db, "topics"):
        return {}
    rows = db.execute("SELECT id, label, keywords, need, is_active FROM topics").fetchall()
    return {r[0]: {"label": r[1], "keywords": json.loads(r[2]), "need": r[3], "active": bool(r[4])}
            for r in rows}


def _quotes(frame: pd.DataFrame, n: int) -> list[dict[str, Any]]:
    """Up to ``n`` distinct verbatims closest to the topic's centre."""
    out, seen = [], set()
    for r in frame.sort_values(["similarity", "id"], ascending=[False, True]).itertuples():
        if r.content_hash in seen:
            continue
        seen.add(r.content_hash)
        text = r.text if len(r.text) <= QUOTE_CHARS else r.text[: QUOTE_CHARS - 1].rstrip() + "…"
        out.append({"document_id": int(r.id), "text": text, "source": r.source,
                    "created_at": r.created_at, "sentiment": _f(r.sentiment, 3)})
        if len(out) >= n:
            break
    return out


def _breakdown(cur: pd.DataFrame, base: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for col in ("source", "kind", "channel"):
        a = cur[col].fillna("(none)").value_counts()
        b = base[col].fillna("(none)").value_counts()
        out[col] = [{"value": k, "count": int(a.get(k, 0)), "baseline_count": int(b.get(k, 0))}
                    for k in sorted(set(a.index) | set(b.index), key=lambda k: -int(a.get(k, 0)))]
    return out


def _topic_rows(db, table, cur, base, docs, meta, impacts, rc) -> list[dict[str, Any]]:
    if table.empty:
        return []
    senti = []
    for r in table.itertuples():
        a = cur.loc[cur["topic"] == r.topic, "sentiment"].dropna().tolist()
        b = base.loc[base["topic"] == r.topic, "sentiment"].dropna().tolist()
        senti.append((a, b, *shift.sentiment_shift(a, b, rc.min_count)))
    sq = shift.bh([s[3] for s in senti])
    periods = sorted(docs["period"].unique())
    totals = docs.groupby("period").size()
    rows = []
    for r, (a, b, change, sp), q in zip(table.itertuples(), senti, sq):
        m = meta.get(int(r.topic), {"label": f"topic {r.topic}", "keywords": [], "need": None})
        by_period = docs.loc[docs["topic"] == r.topic].groupby("period").size()
        mine_cur, mine_base = cur[cur["topic"] == r.topic], base[base["topic"] == r.topic]
        rows.append({
            "id": int(r.topic), "label": m["label"], "keywords": m["keywords"][:10], "need": m["need"],
            "count": int(r.count), "share": _f(r.share), "baseline_count": int(r.baseline_count),
            "baseline_share": _f(r.baseline_share), "change": _f(r.change),
            "ratio": _f(r.ratio, 3), "tested": bool(r.tested),
            "p_value": _f(r.p_value, 8), "q_value": _f(r.q_value, 8), "direction": r.direction,
            "sentiment": _f(np.mean(a), 3) if a else None,
            "baseline_sentiment": _f(np.mean(b), 3) if b else None,
            "sentiment_change": _f(change, 3), "sentiment_p_value": _f(sp, 8),
            "sentiment_q_value": _f(q, 8),
            "sentiment_direction": ("falling" if q is not None and q < rc.alpha and change < 0 else
                                    "rising" if q is not None and q < rc.alpha else "stable"),
            "impact": _f(impacts.get(r.topic), 3),
            "trend": [{"period": p.date().isoformat(), "count": int(by_period.get(p, 0)),
                       "share": _f(by_period.get(p, 0) / totals[p])} for p in periods],
            "breakdown": _breakdown(mine_cur, mine_base),
            "quotes": _quotes(mine_cur if len(mine_cur) else docs[docs["topic"] == r.topic], rc.quotes),
        })
    return rows


def _summary(cur, base, rows, metric, overall) -> dict[str, Any]:
    count = {d: sum(1 for r in rows if r["direction"] == d)
             for d in ("rising", "falling", "emerging", "fading", "stable")}
    s_cur, s_base = cur["sentiment"].dropna(), base["sentiment"].dropna()
    return {
        "documents": len(cur), "baseline_documents": len(base),
        "sentiment": _f(s_cur.mean(), 3) if len(s_cur) else None,
        "baseline_sentiment": _f(s_base.mean(), 3) if len(s_base) else None,
        "satisfaction_metric": metric, "satisfaction": _f(overall, 3),
        "directions": count,
        "top_rising": [r["id"] for r in rows if r["direction"] in ("rising", "emerging")][:3],
        "top_falling": [r["id"] for r in rows if r["direction"] in ("falling", "fading")][:3],
    }


def _trend(docs: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for p, g in docs.groupby("period"):
        s = g["sentiment"].dropna()
        out.append({"period": p.date().isoformat(), "documents": len(g),
                     "sentiment": _f(s.mean(), 3) if len(s) else None,
                     "unassigned": int(g["topic"].isna().sum())})
    return out


def _needs(db: sqlite_utils.Database, cur: pd.DataFrame, base: pd.DataFrame) -> list[dict[str, Any]]:
    if not _has(db, "document_needs"):
        return []
    dn = pd.read_sql_query("SELECT document_id AS id, need FROM document_needs WHERE weight > 0", db.conn)
    out = []
    for need, g in dn.groupby("need"):
        ids = set(g["id"])
        a, b = cur[cur["id"].isin(ids)], base[base["id"].isin(ids)]
        if not len(a) and not len(b):
            continue
        out.append({"need": need, "count": len(a), "baseline_count": len(b),
                    "sentiment": _f(a["sentiment"].mean(), 3) if a["sentiment"].notna().any() else None,
                    "baseline_sentiment": (_f(b["sentiment"].mean(), 3)
                                           if b["sentiment"].notna().any() else None)})
    return sorted(out, key=lambda r: -r["count"])


def _quality(db: sqlite_utils.Database, docs: pd.DataFrame, cur: pd.DataFrame, undated: int) -> dict[str, Any]:
    processed = cur[cur["has_topic_row"] == 1]
    q = db.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0]
    enriched = (db.execute("SELECT COUNT(*) FROM enrichments").fetchone()[0]
                if _has(db, "enrichments") else 0)
    total = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    return {
        "documents_in_store": int(total), "quarantined_rows": int(q), "undated_documents": undated,
        "not_enriched": int(max(0, total - enriched)),
        "not_topic_assigned": int((cur["has_topic_row"] != 1).sum()),
        "unassigned": int(processed["topic"].isna().sum()),
        "unassigned_share": _f(processed["topic"].isna().mean()) if len(processed) else None,
        "without_sentiment": int(cur["sentiment"].isna().sum()),
    }


def emerging(db: sqlite_utils.Database, cfg: Config, cur: pd.DataFrame, base: pd.DataFrame) -> list[dict[str, Any]]:
    """Coherent new themes among the latest period's unassigned documents.

    Unassigned documents of the latest period are clustered on their embeddings; a
    cluster of at least ``min_count`` documents, coherent (mean similarity to its centre
    >= 0.5) and rarer among the baseline's unassigned documents, is reported.
    """
    from vocseg import topics

    pool = cur[(cur["has_topic_row"] == 1) & cur["topic"].isna()]
    min_n = max(cfg.report.min_count, 3)
    if len(pool) < min_n:
        return []
    pool, vecs = _cached_vectors(db, cfg, pool)
    if len(pool) < min_n:
        return []
    from sklearn.cluster import AgglomerativeClustering

    unit = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-9)
    labels = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                     distance_threshold=0.5).fit_predict(unit)
    bpool = base[(base["has_topic_row"] == 1) & base["topic"].isna()]
    bvecs = _cached_vectors(db, cfg, bpool)[1] if len(bpool) else None
    out = []
    for k in np.unique(labels):
        members = np.where(labels == k)[0]
        if len(members) < min_n:
            continue
        centre = unit[members].mean(axis=0)
        centre /= np.linalg.norm(centre) or 1.0
        coherence = float((unit[members] @ centre).mean())
        if coherence < 0.5:
            continue
        near_base = 0
        if bvecs is not None and len(bvecs):
            bunit = bvecs / np.maximum(np.linalg.norm(bvecs, axis=1, keepdims=True), 1e-9)
            near_base = int((bunit @ centre >= coherence - 0.1).sum())
        p = shift.share_test(len(members), len(cur), near_base, max(len(base), 1))
        if near_base and p >= cfg.report.alpha:
            continue
        rows = pool.iloc[members]
        words = _keywords(rows["text"].tolist(), cur["text"].tolist())
        out.append({"size": len(members), "baseline_size": near_base,
                    "coherence": round(coherence, 3), "p_value": _f(p, 8),
                    "label": topics.make_label(words) or "unlabelled", "keywords": words[:8],
                    "quotes": _quotes(rows.assign(similarity=unit[members] @ centre),
                                      cfg.report.quotes)})
    return sorted(out, key=lambda r: -r["size"])


def _cached_vectors(db: sqlite_utils.Database, cfg: Config, frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The documents whose topic-text vector is in the embeddings cache, and those vectors.

    Read only: the report loads no model, so documents with uncached vectors are left out.
    """
    from vocseg import topics

    frame = frame[[topics.topic_text(t) == t for t in frame["text"]]]
    hashes = frame["content_hash"].tolist()
    found: dict[str, np.ndarray] = {}
    uniq = list(dict.fromkeys(hashes))
    for i in range(0, len(uniq), 900):  # the embeddings table per CONTRACTS.md: float16 LE
        part = uniq[i: i + 900]
        rows = db.execute(
            f"SELECT content_hash, vector FROM embeddings WHERE model = ? AND content_hash IN "
            f"({','.join('?' * len(part))})", [cfg.models.embedding, *part])
        found.update((h, np.frombuffer(v, dtype="<f2").astype(np.float32)) for h, v in rows)
    frame = frame[[h in found for h in hashes]]
    if frame.empty:
        return frame, np.zeros((0, 0), dtype=np.float32)
    return frame, np.stack([found[h] for h in frame["content_hash"]])


def _keywords(texts: list[str], background: list[str], n: int = 10) -> list[str]:
    """Words and phrases frequent in ``texts`` relative to ``background`` (a small c-TF-IDF)."""
    from sklearn.feature_extraction.text import CountVectorizer

    from vocseg import topics

    vec = CountVectorizer(stop_words=sorted(topics.STOP_WORDS), ngram_range=(1, 2),
                          token_pattern=topics.TOKEN_PATTERN, preprocessor=topics._preprocess)
    try:
        x = vec.fit_transform([" ".join(texts), " ".join(background)]).toarray().astype(float)
    except ValueError:
        return []
    tf = x[0] / max(x[0].sum(), 1)
    idf = np.log(1 + x.sum(axis=1).mean() / np.maximum(x.sum(axis=0), 1))
    score = tf * idf
    vocab = vec.get_feature_names_out()
    return [vocab[i] for i in np.argsort(-score)[:n] if x[0][i] > 0]
