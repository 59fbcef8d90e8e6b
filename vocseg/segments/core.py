"""The segment stage: features -> cohort grid, RFM, clusters, custom segments -> store."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlite_utils

from vocseg import config as config_mod
from vocseg import store
from vocseg.errors import Errors, StageOrderError, VocsegError
from vocseg.segments import clusters, clv, features, filters, profiles, protected, rfm
from vocseg.segments.membership import SegmentDef, now_us, write

Progress = Callable[[int, int | None], None]
SATISFACTION = ("happy", "neutral", "unhappy")
FEATURE_COLUMNS = [
    "customer_id",
    "run_id",
    "computed_at",
    "voice_key",
    "n_feedback",
    "first_feedback_at",
    "last_feedback_at",
    "satisfaction",
    "sentiment",
    "rating",
    "satisfaction_class",
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
    "n_transactions",
    "first_purchase_at",
    "last_purchase_at",
    "recency_days",
    "frequency",
    "monetary",
    "tenure_days",
    "trend",
    "clv",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "satisfaction_raw",
    "satisfaction_weight",
]
#: features a custom segment filter may use
FILTERABLE = [
    c
    for c in FEATURE_COLUMNS
    if c not in ("customer_id", "run_id", "computed_at", "voice_key", "needs", "intents", "topics")
]


def validate(cfg: config_mod.SegmentsConfig, rules: list[rfm.Rule] | None = None) -> None:
    """Refuse protected attributes anywhere they would become features; check custom filters."""
    protected.refuse(list(cfg.extra_features), key="extra_features")
    protected.refuse(list(cfg.cluster_weights), key="cluster_weights")
    rules = rules or rfm.load_mapping(cfg.rfm_mapping or None)
    reserved = (
        set(SATISFACTION)
        | {r.name for r in rules}
        | {f"{s}-{r.name}" for s in SATISFACTION for r in rules}
    )
    filters.check(dict(cfg.custom), FILTERABLE, reserved=reserved)


def _as_of(db: sqlite_utils.Database, cfg: config_mod.SegmentsConfig) -> pd.Timestamp:
    if cfg.as_of:
        return (
            pd.Timestamp(cfg.as_of, tz="UTC")
            if pd.Timestamp(cfg.as_of).tzinfo is None
            else pd.Timestamp(cfg.as_of).tz_convert("UTC")
        )
    # the latest purchase, not the latest review: reviews trail purchases, and a historical
    # export should be scored as of its own end, not as of today
    row = db.conn.execute("SELECT max(occurred_at) FROM transactions").fetchone()
    if not (row and row[0]):
        row = db.conn.execute("SELECT max(created_at) FROM documents").fetchone()
    if row and row[0]:
        return (
            pd.Timestamp(row[0]).tz_convert("UTC")
            if pd.Timestamp(row[0]).tzinfo
            else pd.Timestamp(row[0], tz="UTC")
        )
    return pd.Timestamp.now(tz="UTC")


def shrink(raw: pd.Series, weight: pd.Series, prior_weight: float, prior: float = 0.5) -> pd.Series:
    """Evidence-weighted satisfaction: each customer's recency-weighted mean pulled toward the
    neutral midpoint ``prior`` by ``prior_weight`` pseudo-documents (credibility weighting).

    One angry review is weak evidence (neutral customers write one now and then); several are
    strong. The pull is toward the scale's midpoint, not the population's mean, so a customer's
    class does not depend on how happy everyone else is (with reviews that are 80% four and
    five stars, a population prior would make unhappiness nearly unreachable).

    Example: ``shrink(pd.Series([0.2, 0.2]), pd.Series([1.0, 5.0]), 1.5)`` -> [0.38, 0.27]
    """
    ok = raw.notna() & (weight > 0)
    k = max(prior_weight, 0.0)
    return ((raw * weight + k * prior) / (weight + k)).where(ok)


def _load_stored(db: sqlite_utils.Database) -> pd.DataFrame:
    cols = ", ".join(["customer_id"] + features.VOICE_COLUMNS)
    frame = pd.read_sql_query(f"SELECT {cols} FROM customer_features", db.conn).set_index(
        "customer_id"
    )
    for c in ("first_feedback_at", "last_feedback_at"):
        frame[c] = pd.to_datetime(frame[c], utc=True, errors="coerce", format="ISO8601")
    return frame


def compute_features(
    db: sqlite_utils.Database,
    cfg: config_mod.SegmentsConfig,
    rules: list[rfm.Rule],
    *,
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """All customer features (index customer_id), reusing stored voice features where unchanged."""
    info: dict[str, Any] = {}
    keys = features.voice_keys(db)
    stored = _load_stored(db)
    old_keys = stored["voice_key"].reindex(keys.index)
    changed = keys.index[(old_keys != keys).to_numpy() | old_keys.isna().to_numpy()].tolist()
    info["voice_recomputed"] = len(changed)
    fresh = []
    for start in range(0, len(changed), 20_000):
        chunk = changed[start : start + 20_000]
        fresh.append(
            features.voice_features(
                features.load_voice(db, chunk), half_life_days=cfg.half_life_days
            )
        )
        if progress:
            progress(len(chunk), None)
    kept = stored.loc[
        stored.index.intersection(keys.index.difference(changed)), features.VOICE_COLUMNS[1:]
    ]
    voice = pd.concat([kept] + [f for f in fresh if len(f)]) if fresh or len(kept) else kept
    voice["voice_key"] = keys.reindex(voice.index)
    as_of = _as_of(db, cfg)
    info["as_of"] = as_of.isoformat()
    tx = features.load_transactions(db)
    info["transactions"] = len(tx)
    beh = rfm.behaviour(tx, as_of, trend_days=cfg.trend_days)
    frame = voice.join(beh, how="outer")
    frame.index.name = "customer_id"
    frame["n_feedback"] = frame["n_feedback"].fillna(0).astype("int64")
    frame["n_transactions"] = frame["n_transactions"].fillna(0).astype("int64")
    for c in ("needs", "intents", "topics"):
        frame[c] = frame[c].fillna("{}")
    frame["satisfaction"] = shrink(
        frame["satisfaction_raw"].astype(float),
        frame["satisfaction_weight"].astype(float),
        cfg.prior_weight,
    )
    sat = frame["satisfaction"].astype(float)
    frame["satisfaction_class"] = np.select(
        [sat >= cfg.happy_threshold, sat <= cfg.unhappy_threshold, sat.notna()],
        ["happy", "unhappy", "neutral"],
        default=None,
    )
    frame["satisfaction_class"] = (
        frame["satisfaction_class"].astype(object).where(sat.notna(), None)
    )
    frame = frame.join(rfm.scores(beh, rules))
    buyers = frame[frame["bg_x"].notna()]
    values, clv_info = clv.clv(
        buyers["bg_x"],
        buyers["bg_tx"],
        buyers["bg_T"],
        buyers["bg_m"],
        months=cfg.clv_horizon_months,
        discount=cfg.clv_discount,
    )
    frame["clv"] = pd.Series(values, index=buyers.index) if values is not None else np.nan
    info["clv"] = clv_info
    return frame.drop(columns=["bg_x", "bg_tx", "bg_T", "bg_m"]), info


def _write_features(db: sqlite_utils.Database, frame: pd.DataFrame, run_id: int, at: str) -> None:
    out = frame.reset_index()
    out["run_id"], out["computed_at"] = run_id, at
    for c in ("first_feedback_at", "last_feedback_at", "first_purchase_at", "last_purchase_at"):
        out[c] = out[c].map(
            lambda v: v.isoformat() if isinstance(v, pd.Timestamp) and not pd.isna(v) else None
        )
    # tolist() gives Python ints/floats/str; NaN binds as NULL in SQLite
    cols = [out[c].astype(object).where(out[c].notna(), None).tolist() for c in FEATURE_COLUMNS]
    rows = list(zip(*cols))
    marks = ", ".join("?" * len(FEATURE_COLUMNS))
    with store.transaction(db):
        db.conn.execute(
            "DELETE FROM customer_features WHERE customer_id NOT IN (SELECT id FROM customers)"
        )
        db.conn.executemany(
            f"INSERT OR REPLACE INTO customer_features ({', '.join(FEATURE_COLUMNS)}) "
            f"VALUES ({marks})",
            rows,
        )


def _definitions(
    frame: pd.DataFrame,
    cfg: config_mod.SegmentsConfig,
    rules: list[rfm.Rule],
    attrs: pd.DataFrame,
    previous: dict[str, set[int]] | None = None,
    text: pd.DataFrame | None = None,
) -> tuple[list[SegmentDef], dict[str, pd.Index], dict[str, Any]]:
    """Every segment's definition and members; ``previous`` maps the last run's cluster names
    to their members, so a refit cluster that is mostly the same people keeps its name."""
    defs: list[SegmentDef] = []
    members: dict[str, pd.Index] = {}
    info: dict[str, Any] = {}
    labels = {r.name: r for r in rules}
    for s in SATISFACTION:
        members[s] = frame.index[frame["satisfaction_class"] == s]
        defs.append(
            SegmentDef(
                s,
                "satisfaction",
                s.capitalize(),
                f"Recency-weighted satisfaction {'>= ' + str(cfg.happy_threshold) if s == 'happy' else '<= ' + str(cfg.unhappy_threshold) if s == 'unhappy' else 'in between'}.",
                {
                    "satisfaction_class": s,
                    "happy_threshold": cfg.happy_threshold,
                    "unhappy_threshold": cfg.unhappy_threshold,
                },
            )
        )
    for r in rules:
        members[r.name] = frame.index[frame["rfm_segment"] == r.name]
        defs.append(
            SegmentDef(
                r.name,
                "rfm",
                r.label,
                r.description,
                {"r": list(r.r), "f": list(r.f), "m": list(r.m)},
            )
        )
    grid = frame.dropna(subset=["satisfaction_class", "rfm_segment"])
    for (s, seg), idx in grid.groupby(["satisfaction_class", "rfm_segment"]).groups.items():
        name = f"{s}-{seg}"
        members[name] = pd.Index(idx)
        defs.append(
            SegmentDef(
                name,
                "cohort",
                f"{s.capitalize()} {labels[seg].label}",
                f"{s.capitalize()} customers in the RFM segment {labels[seg].label}.",
                {"satisfaction_class": s, "rfm_segment": seg},
            )
        )
    voiced = frame[(frame["n_feedback"] > 0) & frame["satisfaction"].notna()]
    extra = [c for c in attrs.columns]
    info["clusters"] = None
    if len(voiced) >= cfg.min_cluster_customers:
        fit = clusters.fit(
            voiced.join(attrs) if len(attrs.columns) else voiced,
            weights=dict(cfg.cluster_weights),
            max_clusters=cfg.max_clusters,
            seed=cfg.seed,
            extra=extra,
            text=text,
        )
        if fit is not None:
            info["clusters"] = {
                "k": fit.k,
                "silhouette": round(fit.silhouette, 4),
                "silhouette_by_k": {k: round(v, 4) for k, v in fit.scores.items()},
                "criterion": "smallest k in 2..max_clusters with silhouette within 0.01 of the best",
            }
            used: set[str] = set()
            inherited = clusters.match_previous(fit.labels, previous or {})
            for c in sorted(set(fit.labels)):
                idx = fit.labels.index[fit.labels == c]
                name, label, top = clusters.describe(
                    voiced, idx, happy=cfg.happy_threshold, unhappy=cfg.unhappy_threshold
                )
                name = inherited.get(c, name)
                base, i = name, 2
                while name in used:
                    name, i = f"{base}-{i}", i + 1
                used.add(name)
                members[name] = idx
                defs.append(
                    SegmentDef(
                        name,
                        "cluster",
                        label,
                        f"Data-driven cluster {c + 1} of {fit.k}.",
                        {"cluster": int(c), "k": fit.k, "top_needs": top, "features": fit.columns},
                    )
                )
    full = frame.join(attrs) if len(attrs.columns) else frame
    for name, expr in cfg.custom.items():
        mask = filters.evaluate(expr, full)
        members[name] = full.index[mask.to_numpy()]
        defs.append(SegmentDef(name, "custom", name, f"Custom filter: {expr}", {"filter": expr}))
    return defs, members, info


def inputs_fingerprint(db: sqlite_utils.Database, cfg: config_mod.SegmentsConfig) -> str:
    """Changes whenever anything `segment` reads changes (documents, enrichments, topics,
    transactions, customers, the config or the mapping file)."""
    parts = [json.dumps(cfg.__dict__, sort_keys=True, default=str)]
    for table in sorted(features._tables(db)):
        if (
            table
            in (
                "documents",
                "transactions",
                "customers",
                "enrichments",
                "document_sentiment",
                "document_needs",
                "sentences",
            )
            or "topic" in table
        ):
            row = db.conn.execute(
                f"SELECT count(*), max(rowid), total(rowid) FROM [{table}]"
            ).fetchone()
            parts.append(f"{table}:{row}")
    if cfg.rfm_mapping:
        try:
            parts.append(hashlib.sha1(Path(cfg.rfm_mapping).read_bytes()).hexdigest())
        except OSError:
            parts.append("missing")
    return hashlib.sha1("|".join(parts).encode()).hexdigest()


def segment(
    db: sqlite_utils.Database, cfg: config_mod.SegmentsConfig, *, progress: Progress | None = None
) -> dict[str, Any]:
    """Recompute customer features and every segment; record membership changes.

    Example: ``summary = segment(store.open("cx.db"), config.load().segments); summary["grid"]``
    """
    rules = rfm.load_mapping(cfg.rfm_mapping or None)
    validate(cfg, rules)
    fingerprint = inputs_fingerprint(db, cfg)
    with store.run(db, "segment", {"as_of": cfg.as_of}) as counts:
        at = now_us()
        frame, info = compute_features(db, cfg, rules, progress=progress)
        if frame.empty:
            raise StageOrderError(Errors.E409, code="E409")
        _write_features(db, frame, counts["run_id"], at)
        attrs = features.load_attributes(db, list(cfg.extra_features)).reindex(frame.index)
        previous: dict[str, set[int]] = {}
        for name, cid in db.conn.execute(
            "SELECT s.name, m.customer_id FROM segment_memberships m JOIN segments s ON s.id = m.segment_id "
            "WHERE s.kind = 'cluster' AND m.valid_to IS NULL"
        ):
            previous.setdefault(name, set()).add(cid)
        voiced = frame.index[(frame["n_feedback"] > 0) & frame["satisfaction"].notna()]
        text = None
        if len(voiced) >= cfg.min_cluster_customers and cfg.cluster_weights.get("text", 1.0) > 0:
            meta, vectors = features.load_text_vectors(db, [int(i) for i in voiced])
            text = clusters.text_profiles(meta, vectors, seed=cfg.seed)
        defs, members, cinfo = _definitions(frame, cfg, rules, attrs, previous, text)
        has_docs = bool(db.conn.execute("SELECT 1 FROM documents LIMIT 1").fetchone())
        matrices = {k: profiles.label_matrix(frame[k]) for k in ("needs", "topics")}
        for d in defs:
            d.profile = profiles.build(
                db,
                frame,
                members[d.name],
                matrices=matrices,
                with_quotes=has_docs and d.kind != "rfm",
                happy=cfg.happy_threshold,
                unhappy=cfg.unhappy_threshold,
            )
        moved = write(
            db,
            defs,
            members,
            kinds={"satisfaction", "rfm", "cohort", "cluster", "custom"},
            run_id=counts["run_id"],
            at=at,
        )
        counts.update(
            customers=len(frame),
            with_feedback=int((frame["n_feedback"] > 0).sum()),
            with_transactions=int((frame["n_transactions"] > 0).sum()),
            voice_recomputed=info["voice_recomputed"],
            **moved,
            inputs=fingerprint,
        )
        grid = grid_counts(frame)
        return {
            "run_id": counts["run_id"],
            "as_of": info["as_of"],
            "customers": len(frame),
            "with_feedback": counts["with_feedback"],
            "with_transactions": counts["with_transactions"],
            "voice_recomputed": info["voice_recomputed"],
            "joined": moved["joined"],
            "left": moved["left"],
            "segments": {d.kind: sum(1 for e in defs if e.kind == d.kind) for d in defs},
            "grid": grid,
            "clusters": cinfo["clusters"],
            "clv": info["clv"],
        }


def grid_counts(frame: pd.DataFrame) -> dict[str, dict[str, int]]:
    """{satisfaction class: {rfm segment or 'no-purchases': customers}}."""
    g = frame.dropna(subset=["satisfaction_class"]).copy()
    g["rfm"] = g["rfm_segment"].fillna("no-purchases")
    tab = g.groupby(["satisfaction_class", "rfm"]).size()
    return {
        s: {k: int(v) for k, v in tab[s].items()}
        for s in SATISFACTION
        if s in tab.index.get_level_values(0)
    }


def update(
    db: sqlite_utils.Database,
    cfg: config_mod.Config,
    *,
    progress: Progress | None = None,
    force: bool = False,
) -> dict[str, Any] | None:
    """Bring segments up to date: enrich new documents, then re-segment if anything segment
    reads changed since the last run (or ``force``). None when nothing changed.

    Example: ``segments.update(db, config.load())``
    """
    validate(cfg.segments)  # refuse a bad config before any work
    if db.conn.execute("SELECT 1 FROM documents LIMIT 1").fetchone():
        # imported here: they pull in the NLP stack, needed only when there are documents
        from vocseg import enrich, topics

        enrich.enrich(db, cfg, progress=progress)
        # topics feed the topic features; assign new documents if a topic model exists (fitting
        # the first model is `vocseg topics fit`'s or `vocseg report`'s job, not this stage's)
        if topics.current_model(db) is not None and topics.pending(db):
            topics.update(db, cfg, progress=progress)
    if not force:
        row = db.conn.execute(
            "SELECT counts FROM runs WHERE command = 'segment' AND status = 'ok' ORDER BY id DESC LIMIT 1"
        ).fetchone()
        last = json.loads(row[0]).get("inputs") if row else None
        if last == inputs_fingerprint(db, cfg.segments):
            return None
    return segment(db, cfg.segments, progress=progress)


def list_segments(
    db: sqlite_utils.Database, *, kinds: tuple[str, ...] | None = None
) -> list[dict[str, Any]]:
    """Active segments with name, kind, label, size and headline profile figures."""
    sql = "SELECT name, kind, label, size, profile, description FROM segments WHERE is_active = 1"
    args: list[Any] = []
    if kinds:
        sql += f" AND kind IN ({','.join('?' * len(kinds))})"
        args = list(kinds)
    order = {"satisfaction": 0, "rfm": 1, "cohort": 2, "cluster": 3, "custom": 4}
    out = []
    for name, kind, label, size, prof, desc in db.conn.execute(sql, args):
        p = json.loads(prof)
        out.append(
            {
                "name": name,
                "kind": kind,
                "label": label,
                "size": size,
                "description": desc,
                "satisfaction": p.get("satisfaction"),
                "revenue_share": p.get("revenue_share"),
                "top_need": (p.get("top_needs") or [{}])[0].get("name"),
            }
        )
    return sorted(out, key=lambda s: (order.get(s["kind"], 9), -s["size"], s["name"]))


def show(db: sqlite_utils.Database, name: str) -> dict[str, Any]:
    """One segment: definition, profile (with quotes) and membership changes per run."""
    row = db.conn.execute(
        "SELECT id, name, kind, label, description, definition, profile, size, is_active, "
        "created_at, updated_at FROM segments WHERE name = ?",
        [name],
    ).fetchone()
    if row is None:
        raise VocsegError(Errors.E403.format(name=name), code="E403")
    keys = (
        "id",
        "name",
        "kind",
        "label",
        "description",
        "definition",
        "profile",
        "size",
        "is_active",
        "created_at",
        "updated_at",
    )
    seg = dict(zip(keys, row))
    seg["definition"], seg["profile"] = json.loads(seg["definition"]), json.loads(seg["profile"])
    seg["is_active"] = bool(seg["is_active"])
    moves = db.conn.execute(
        "SELECT at, sum(j), sum(l) FROM (SELECT valid_from AS at, 1 AS j, 0 AS l FROM segment_memberships "
        "WHERE segment_id = ? UNION ALL SELECT valid_to, 0, 1 FROM segment_memberships WHERE segment_id = ? "
        "AND valid_to IS NOT NULL) GROUP BY at ORDER BY at",
        [seg["id"], seg["id"]],
    ).fetchall()
    seg["changes"] = [{"at": a, "joined": j, "left": lft} for a, j, lft in moves]
    return seg
