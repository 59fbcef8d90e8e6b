"""Customer features from their voice (documents and enrich's tables) and from transactions.

Readers (``load_*``) do the store IO; ``voice_features`` and ``rfm.behaviour`` are pure.
Voice features are recomputed only for customers whose feedback changed (``voice_key``);
behaviour is recomputed for everyone on each run because recency moves with the as-of date
(vectorised: about a second per million transactions).
"""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pandas as pd
import sqlite_utils

COMPLAINT = {"complaint", "problem", "issue", "negative"}
PRAISE = {"praise", "compliment", "positive", "thanks"}
REQUEST = {"request", "question", "suggestion", "feature_request", "wish"}

VOICE_COLUMNS = [
    "voice_key",
    "n_feedback",
    "first_feedback_at",
    "last_feedback_at",
    "satisfaction_raw",
    "satisfaction_weight",
    "sentiment",
    "rating",
    "nps_score",
    "nps_class",
    "needs",
    "top_need",
    "intents",
    "complaint_share",
    "praise_share",
    "request_share",
    "topics",
    "top_topic",
]


def _tables(db: sqlite_utils.Database) -> set[str]:
    return set(db.table_names()) | set(db.view_names())


def _columns(db: sqlite_utils.Database, table: str) -> set[str]:
    return {r[1] for r in db.conn.execute(f"PRAGMA table_info([{table}])")}


def voice_keys(db: sqlite_utils.Database) -> pd.Series:
    """A fingerprint per customer of everything their voice features read; it changes whenever a
    document of theirs is added, edited, deleted, (re-)enriched or given topics."""
    tables = _tables(db)
    parts = [
        "count(*)",
        "total(d.id)",
        "total(length(d.content_hash) * d.id % 9973)",
        "group_concat(substr(d.content_hash, 1, 8), '')",
    ]
    joins = []
    if "enrichments" in tables:
        joins.append("LEFT JOIN enrichments e ON e.document_id = d.id")
        parts += ["count(e.document_id)", "max(e.enriched_at)"]
    src = _topic_source(db)
    if src:
        joins.append(
            f"LEFT JOIN (SELECT document_id, count(*) AS n, total([{src[1]}]) AS s "
            f"FROM [{src[0]}] GROUP BY document_id) tt ON tt.document_id = d.id"
        )
        parts += ["total(tt.n)", "total(tt.s)"]
    key = " || ':' || ".join(f"COALESCE({p}, '')" for p in parts)
    sql = (
        f"SELECT d.customer_id, {key} FROM documents d {' '.join(joins)} "
        f"WHERE d.customer_id IS NOT NULL AND {voice_condition(db)} GROUP BY d.customer_id"
    )
    rows = db.conn.execute(sql).fetchall()
    return pd.Series(
        {cid: hashlib.sha1(str(k).encode()).hexdigest()[:16] for cid, k in rows}, dtype=object
    )


def _topic_source(db: sqlite_utils.Database) -> tuple[str, str, str | None] | None:
    """(document-topic table, topic column, label SQL) of the topics stage, if it has run."""
    tables = _tables(db)
    for table in sorted(tables, key=lambda t: (t != "document_topics", t)):
        cols = _columns(db, table)
        if {"document_id", "topic_id"} <= cols and table != "sentences":
            label = None
            if "topics" in tables:
                tcols = _columns(db, "topics")
                for c in ("label", "name", "title", "representation"):
                    if c in tcols and "id" in tcols:
                        label = c
                        break
            return table, "topic_id", label
    return None


def voice_condition(db: sqlite_utils.Database, alias: str = "d") -> str:
    """SQL condition: the document ``alias`` is the customer's own voice (not an agent turn)."""
    cond = f"{alias}.role IS NOT 'agent'"
    if "document_sentiment" in _tables(db) and "is_customer_voice" in _columns(
        db, "document_sentiment"
    ):
        cond += (
            f" AND NOT EXISTS (SELECT 1 FROM document_sentiment v WHERE v.document_id = {alias}.id "
            "AND v.is_customer_voice = 0)"
        )
    return cond


def _with_ids(db: sqlite_utils.Database, ids: list[int]) -> str:
    db.conn.execute("CREATE TEMP TABLE IF NOT EXISTS _seg_ids (id INTEGER PRIMARY KEY)")
    db.conn.execute("DELETE FROM _seg_ids")
    db.conn.executemany("INSERT OR IGNORE INTO _seg_ids (id) VALUES (?)", [(int(i),) for i in ids])
    return "_seg_ids"


def load_voice(db: sqlite_utils.Database, ids: list[int]) -> dict[str, pd.DataFrame]:
    """Documents, needs, intents and topics of the given customers (agent turns excluded)."""
    tables = _tables(db)
    tmp = _with_ids(db, ids)
    has_ds = "document_sentiment" in tables
    ds_cols = (
        "ds.satisfaction AS satisfaction, ds.score AS sentiment"
        if has_ds
        else "NULL AS satisfaction, NULL AS sentiment"
    )
    ds_join = "LEFT JOIN document_sentiment ds ON ds.document_id = d.id" if has_ds else ""
    voice = f"d.customer_id IN (SELECT id FROM temp.{tmp}) AND {voice_condition(db)}"
    docs = pd.read_sql_query(
        f"SELECT d.id AS document_id, d.customer_id, d.kind, d.created_at, d.rating, d.rating_raw, {ds_cols} "
        f"FROM documents d {ds_join} WHERE {voice}",
        db.conn,
    )
    empty = pd.DataFrame(columns=["customer_id", "document_id", "label", "weight"])
    needs = intents = topics = empty
    if "document_needs" in tables:
        needs = pd.read_sql_query(
            f"SELECT d.customer_id, dn.document_id, dn.need AS label, dn.weight FROM document_needs dn "
            f"JOIN documents d ON d.id = dn.document_id WHERE {voice}",
            db.conn,
        )
    if "sentences" in tables and "intent" in _columns(db, "sentences"):
        intents = pd.read_sql_query(
            f"SELECT d.customer_id, s.document_id, s.intent AS label, 1.0 AS weight FROM sentences s "
            f"JOIN documents d ON d.id = s.document_id WHERE {voice} AND s.intent IS NOT NULL",
            db.conn,
        )
    src = _topic_source(db)
    if src:
        table, col, label = src
        lab = (
            f"COALESCE(tp.[{label}], 'topic ' || t.[{col}])" if label else f"'topic ' || t.[{col}]"
        )
        join = f"LEFT JOIN topics tp ON tp.id = t.[{col}]" if label else ""
        topics = pd.read_sql_query(
            f"SELECT d.customer_id, t.document_id, {lab} AS label, 1.0 AS weight FROM [{table}] t "
            f"JOIN documents d ON d.id = t.document_id {join} WHERE {voice} AND t.[{col}] >= 0",
            db.conn,
        )
    return {"docs": docs, "needs": needs, "intents": intents, "topics": topics}


def _nps(rating: float, raw: object) -> int | None:
    """0-10 score when the survey answer was on a 0-10 scale (raw value agrees with rating)."""
    m = re.search(r"-?\d+(\.\d+)?", str(raw or ""))
    if m is None or rating is None or np.isnan(rating):
        return None
    value = float(m.group())
    if 0 <= value <= 10 and abs(rating * 10 - value) < 0.51:
        return round(value)
    return None


def _shares(frame: pd.DataFrame, weights: pd.Series) -> pd.DataFrame:
    """Recency-weighted share of each label per customer (rows sum to 1)."""
    if frame.empty:
        return pd.DataFrame()
    w = frame["weight"].astype(float) * frame["document_id"].map(weights).fillna(1.0)
    tab = w.groupby([frame["customer_id"], frame["label"]]).sum().unstack(fill_value=0.0)
    return tab.div(tab.sum(axis=1).where(lambda s: s > 0), axis=0).fillna(0.0)


def _as_json(shares: pd.DataFrame) -> list[str]:
    """One JSON object per row: label -> share, largest first, zeros left out."""
    names = [str(c) for c in shares.columns]
    out = []
    for row in np.round(shares.to_numpy(dtype=float), 4):
        nz = np.flatnonzero(row > 0)
        order = nz[np.argsort(-row[nz], kind="stable")]
        out.append(json.dumps({names[i]: float(row[i]) for i in order}, ensure_ascii=False))
    return out


def voice_features(data: dict[str, pd.DataFrame], *, half_life_days: float) -> pd.DataFrame:
    """Voice features per customer (index customer_id) from ``load_voice`` output.

    ``satisfaction_raw`` is the recency-weighted mean of each document's satisfaction (enrich's
    ``document_sentiment.satisfaction``, which combines rating and text; the 0..1 rating alone
    where a document is not enriched); a document ``half_life_days`` older than the customer's
    latest counts half.

    Example: ``voice_features(load_voice(db, [1, 2]), half_life_days=180)``
    """
    docs = data["docs"].copy()
    if docs.empty:
        return pd.DataFrame(columns=VOICE_COLUMNS[1:], index=pd.Index([], name="customer_id"))
    docs["at"] = pd.to_datetime(docs["created_at"], utc=True, errors="coerce", format="ISO8601")
    last = docs.groupby("customer_id")["at"].transform("max")
    age = (last - docs["at"]).dt.total_seconds() / 86400
    docs["w"] = np.power(0.5, age.fillna(0.0) / max(half_life_days, 1e-9))
    sat = pd.to_numeric(docs["satisfaction"], errors="coerce").fillna(
        pd.to_numeric(docs["rating"], errors="coerce")
    )
    docs["sat"] = sat

    def wmean(col: str) -> pd.Series:
        v = pd.to_numeric(docs[col], errors="coerce")
        ok = v.notna()
        num = (v.where(ok, 0.0) * docs["w"]).groupby(docs["customer_id"]).sum()
        den = docs["w"].where(ok, 0.0).groupby(docs["customer_id"]).sum()
        return num / den.where(den > 0)

    g = docs.groupby("customer_id")
    out = pd.DataFrame({"n_feedback": g.size()})
    out["first_feedback_at"] = g["at"].min()
    out["last_feedback_at"] = g["at"].max()
    out["satisfaction_raw"] = wmean("sat")
    out["satisfaction_weight"] = (
        docs["w"].where(docs["sat"].notna(), 0.0).groupby(docs["customer_id"]).sum()
    )
    out["sentiment"] = wmean("sentiment")
    out["rating"] = wmean("rating")
    surveys = docs[(docs["kind"] == "survey") & docs["rating"].notna()].sort_values("at")
    nps = surveys.assign(
        nps=[_nps(r, raw) for r, raw in zip(surveys["rating"], surveys["rating_raw"])]
    )
    nps = nps.dropna(subset=["nps"]).groupby("customer_id")["nps"].last()
    out["nps_score"] = nps.reindex(out.index)
    out["nps_class"] = pd.cut(
        out["nps_score"], [-1, 6, 8, 10], labels=["detractor", "passive", "promoter"]
    ).astype(object)
    weights = docs.set_index("document_id")["w"]
    for key in ("needs", "intents", "topics"):
        shares = _shares(data[key], weights).reindex(out.index).fillna(0.0)
        out[key] = _as_json(shares) if len(shares.columns) else "{}"
        if key != "intents":
            top = (
                shares.idxmax(axis=1).where(shares.sum(axis=1) > 0) if len(shares.columns) else None
            )
            out["top_need" if key == "needs" else "top_topic"] = top
        else:
            for name, labels in (
                ("complaint_share", COMPLAINT),
                ("praise_share", PRAISE),
                ("request_share", REQUEST),
            ):
                cols = [c for c in shares.columns if str(c).lower() in labels]
                has = (
                    shares.sum(axis=1) > 0
                    if len(shares.columns)
                    else pd.Series(False, index=out.index)
                )
                out[name] = (
                    shares[cols].sum(axis=1).where(has)
                    if cols
                    else pd.Series(0.0, index=out.index).where(has)
                )
    out.index.name = "customer_id"
    return out[VOICE_COLUMNS[1:]]


def load_transactions(db: sqlite_utils.Database) -> pd.DataFrame:
    """``customer_id``, ``occurred_at`` (UTC datetime), ``amount`` of linked transactions."""
    tx = pd.read_sql_query(
        "SELECT customer_id, occurred_at, amount FROM transactions WHERE customer_id IS NOT NULL",
        db.conn,
    )
    tx["occurred_at"] = pd.to_datetime(
        tx["occurred_at"], utc=True, errors="coerce", format="ISO8601"
    )
    return tx.dropna(subset=["occurred_at"])


def load_attributes(db: sqlite_utils.Database, keys: list[str]) -> pd.DataFrame:
    """``attr.KEY`` columns from ``customers.attributes`` JSON (numbers where they parse)."""
    if not keys:
        return pd.DataFrame()
    sel = ", ".join(f"json_extract(attributes, ?) AS [attr.{k}]" for k in keys)
    frame = pd.read_sql_query(
        f"SELECT id AS customer_id, {sel} FROM customers",
        db.conn,
        params=[f'$."{k}"' for k in keys],
    ).set_index("customer_id")
    for col in frame.columns:
        num = pd.to_numeric(frame[col], errors="coerce")
        if num.notna().sum() >= frame[col].notna().sum() * 0.9 and num.notna().any():
            frame[col] = num
    return frame


def load_text_vectors(db: sqlite_utils.Database, ids: list[int]) -> tuple[pd.DataFrame, np.ndarray]:
    """Document embeddings (from enrich's cache) of the given customers' own voice.

    Returns (``customer_id``, ``kind``, ``score`` per row; float32 vectors). Uses the embedding
    model with the most cached document vectors; empty when enrich has not run.
    """
    empty = (pd.DataFrame(columns=["customer_id", "kind", "score"]), np.zeros((0, 0), np.float32))
    if "embeddings" not in _tables(db) or not ids:
        return empty
    row = db.conn.execute(
        "SELECT e.model, e.dim FROM embeddings e JOIN documents d ON d.content_hash = e.content_hash "
        "GROUP BY e.model, e.dim ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return empty
    model, dim = row
    tmp = _with_ids(db, ids)
    score = "ds.score" if "document_sentiment" in _tables(db) else "NULL"
    join = "LEFT JOIN document_sentiment ds ON ds.document_id = d.id" if score != "NULL" else ""
    cur = db.conn.execute(
        f"SELECT d.customer_id, d.kind, {score}, e.vector FROM documents d "
        f"JOIN embeddings e ON e.content_hash = d.content_hash AND e.model = ? {join} "
        f"WHERE d.customer_id IN (SELECT id FROM temp.{tmp}) AND {voice_condition(db)} "
        "ORDER BY d.id",
        [model],
    )
    meta, blobs = [], []
    for cid, kind, sc, blob in cur:
        meta.append((cid, kind, sc))
        blobs.append(blob)
    if not blobs:
        return empty
    vectors = (
        np.frombuffer(b"".join(blobs), dtype="<f2").reshape(len(blobs), dim).astype(np.float32)
    )
    return pd.DataFrame(meta, columns=["customer_id", "kind", "score"]), vectors
