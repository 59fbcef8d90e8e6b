"""The demo corpus: realistic CX exports with planted truth, and the ``vocseg demo`` pipeline.

``generate(out_dir, seed, scale)`` writes, deterministically (same bytes for the same seed
and scale), the files a shop's systems would export, and what was planted in them
(column by column in corpora/README.md):

    customers.csv      CRM export: ids, names, e-mails, handles, phones
    transactions.csv   orders over the 26 weeks ending on END
    reviews.csv        star-rated reviews (UTF-8 with BOM, mixed date formats)
    chats.jsonl        support conversations: customer and agent turns, turn order, reply-to
    social.json        social posts (a JSON array) by handle
    nps.xlsx           NPS survey answers 0-10 with comments
    truth/             customers.csv, documents.csv, planted.json

Planted: a surge of one theme in the last four weeks (every other theme keeps its weekly
volume), need-based segments that drive which themes a customer writes about, and
satisfaction that drives both what customers say and how they buy (unhappy customers buy
less often, and many stop). Ten malformed rows are planted for ingest to quarantine.

``run_demo(db, out_dir, cfg, ...)`` generates, ingests every file, and runs each later
stage that is installed.
"""

from __future__ import annotations

import csv
import importlib
import importlib.util
import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vocseg.demo_corpus import plan as P
from vocseg.demo_corpus import render as R
from vocseg.demo_corpus import text as T

__all__ = ["END", "FILES", "SURGE_THEME", "generate", "run_demo"]

END = P.END
SURGE_THEME = P.SURGE_THEME

#: export file -> (ingest kind, column mapping {target field: column}); ingested in this order
FILES: dict[str, tuple[str, dict[str, str]]] = {
    "customers.csv": (
        "customers",
        {"customer": "customer_id", "email": "email", "name": "name", "handle": "handle"},
    ),
    "transactions.csv": (
        "transactions",
        {
            "external_id": "order_id",
            "customer": "customer_id",
            "occurred_at": "order_date",
            "amount": "amount",
            "currency": "currency",
            "quantity": "quantity",
            "product": "product",
            "channel": "channel",
        },
    ),
    "reviews.csv": (
        "review",
        {
            "external_id": "review_id",
            "customer": "customer_id",
            "email": "customer_email",
            "created_at": "date",
            "rating": "stars",
            "title": "title",
            "text": "review_text",
            "product": "product",
            "channel": "channel",
        },
    ),
    "chats.jsonl": (
        "chat",
        {
            "external_id": "message_id",
            "conversation_id": "conversation_id",
            "turn": "turn",
            "role": "role",
            "author": "author",
            "customer": "customer_id",
            "email": "email",
            "created_at": "created_at",
            "text": "text",
            "reply_to": "reply_to",
            "channel": "channel",
        },
    ),
    "social.json": (
        "social",
        {
            "external_id": "post_id",
            "handle": "handle",
            "author": "handle",
            "created_at": "created_at",
            "text": "text",
            "channel": "platform",
        },
    ),
    "nps.xlsx": (
        "survey",
        {
            "external_id": "response_id",
            "customer": "customer_id",
            "created_at": "submitted_at",
            "rating": "score",
            "text": "comment",
        },
    ),
}
#: rating scales of the files that carry one (worst, best)
RATING_SCALES = {"reviews.csv": (1, 5), "nps.xlsx": (0, 10)}

ProgressFn = Callable[[int, "int | None"], None]


def generate(out_dir: str | Path, seed: int = 7, scale: float = 1.0) -> dict[str, Any]:
    """Write the demo exports and their ground truth into ``out_dir``; return a summary.

    ``scale`` multiplies every size (1.0: about 3,000 customers, 24,000 orders and 8,400
    documents; 0.1 for tests). Example: ``generate("demo", seed=7)["documents"]``
    """
    if not 0 < scale <= 50:
        raise ValueError(f"scale must be in (0, 50], got {scale}")
    started = time.perf_counter()
    out = Path(out_dir)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    people = P.customers(P.rng_for(seed, "customers"), max(30, round(P.SIZES["customers"] * scale)))
    orders = P.transactions(P.rng_for(seed, "transactions"), people)
    units = P.plan(P.rng_for(seed, "voice"), people, scale)

    rng = P.rng_for(seed, "render")
    pii = {"emails": 0, "phones": 0}
    by_source: dict[str, list[P.Unit]] = {s: [] for s in ("reviews", "chats", "social", "nps")}
    for u in units:
        by_source[u.source].append(u)
    products = sorted({name for tier in P.PRODUCTS for name, _ in tier})
    reviews, t_reviews = R.review_rows(rng, by_source["reviews"], products, pii)
    chats, t_chats = R.chat_rows(rng, by_source["chats"], pii)
    social, t_social = R.social_rows(rng, by_source["social"], pii)
    nps, t_nps = R.nps_rows(rng, by_source["nps"], pii)
    files: dict[str, list[Any]] = {
        "customers.csv": R.customer_rows(people),
        "transactions.csv": R.transaction_rows(rng, orders),
        "reviews.csv": reviews,
        "chats.jsonl": chats,
        "social.json": social,
        "nps.xlsx": nps,
    }
    malformed = R.plant_malformed(rng, files)

    lines = {
        "customers.csv": R.write_csv(out / "customers.csv", files["customers.csv"]),
        "transactions.csv": R.write_csv(out / "transactions.csv", files["transactions.csv"]),
        "reviews.csv": R.write_csv(out / "reviews.csv", files["reviews.csv"], bom=True),
        "chats.jsonl": R.write_jsonl(out / "chats.jsonl", files["chats.jsonl"]),
        "social.json": R.write_json(out / "social.json", files["social.json"]),
        "nps.xlsx": R.write_xlsx(out / "nps.xlsx", files["nps.xlsx"]),
    }
    for m in malformed:
        m["line"] = lines[m["file"]][m["row"] - 1]

    truth_docs = t_reviews + t_chats + t_social + t_nps
    _write_truth(out / "truth", people, truth_docs, malformed, pii, seed, scale)
    doc_files = ("reviews.csv", "chats.jsonl", "social.json", "nps.xlsx")
    n_docs = sum(len(files[f]) for f in doc_files) - sum(m["file"] in doc_files for m in malformed)
    return {
        "out_dir": str(out),
        "seed": seed,
        "scale": scale,
        "files": {name: len(rows) for name, rows in files.items()},
        "customers": len(people),
        "transactions": len(orders),
        "documents": n_docs,
        "malformed": len(malformed),
        "truth": str(out / "truth"),
        "seconds": round(time.perf_counter() - started, 2),
    }


def _write_truth(
    folder: Path,
    people: list[P.Customer],
    docs: list[dict[str, Any]],
    malformed: list[dict[str, Any]],
    pii: dict[str, int],
    seed: int,
    scale: float,
) -> None:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["customer", "need_segment", "satisfaction", "churned"])
    for c in people:
        w.writerow([c.id, c.segment, c.satisfaction, int(c.churn_day is not None)])
    (folder / "customers.csv").write_text(buf.getvalue(), encoding="utf-8", newline="")

    buf = io.StringIO(newline="")
    cols = ["external_id", "source", "theme", "sentiment", "customer", "role", "created_at"]
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    w.writerows(docs)
    (folder / "documents.csv").write_text(buf.getvalue(), encoding="utf-8", newline="")

    planted = {
        "surge_theme": P.SURGE_THEME,
        "surge_start": P.SURGE_START.isoformat(),
        "end": P.END.isoformat(),
        "start": P.START.isoformat(),
        "surge_weekly_share_target": list(P.SURGE_SHARE),
        "stable_themes": [t for t in T.THEME_NAMES if t != P.SURGE_THEME],
        "themes": list(T.THEME_NAMES),
        "theme_descriptions": {t: T.THEMES[t]["description"] for t in T.THEME_NAMES},
        "segments": {
            name: {"themes": s["themes"], "share": s["share"], "description": s["description"]}
            for name, s in P.SEGMENTS.items()
        },
        "primary_theme_probability": P.PRIMARY_P,
        "satisfaction": {
            "shares": P.SATISFACTION,
            "purchases_per_30_days": P.PURCHASE_RATE,
            "rate_drift_by_end": P.RATE_DRIFT,
            "churn_probability": P.CHURN_P,
        },
        "malformed": malformed,
        "pii_in_text": pii,
        "seed": seed,
        "scale": scale,
    }
    (folder / "planted.json").write_text(json.dumps(planted, indent=2) + "\n", encoding="utf-8")


# --- the demo pipeline ----------------------------------------------------------------------

StepFn = Callable[[str], None]


def _enrich(mod: Any, db: Any, cfg: Any, out: Path, progress: ProgressFn | None) -> Any:
    return mod.enrich(db, cfg, progress=progress)


def _topics(mod: Any, db: Any, cfg: Any, out: Path, progress: ProgressFn | None) -> Any:
    # a rerun of `make demo` keeps the fitted model and only places documents it has not seen
    if mod.current_model(db) is not None:
        return mod.update(db, cfg, progress=progress)
    return mod.fit(db, cfg, progress=progress)


def _segments(mod: Any, db: Any, cfg: Any, out: Path, progress: ProgressFn | None) -> Any:
    return mod.segment(db, cfg.segments, progress=progress)


def _report(mod: Any, db: Any, cfg: Any, out: Path, progress: ProgressFn | None) -> Any:
    return mod.report(db, cfg, out=out / "report.html", fmt="html", progress=progress)


#: later stages in data-flow order: (name, module, public function, how to call it)
STAGES: list[tuple[str, str, str, Callable[..., Any]]] = [
    ("enrich", "vocseg.enrich", "enrich", _enrich),
    ("topics", "vocseg.topics", "fit", _topics),
    ("segments", "vocseg.segments", "segment", _segments),
    ("report", "vocseg.report", "report", _report),
]


def _stage_module(module: str, function: str) -> Any | None:
    """The stage's module when it is installed and has its public function, else None."""
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:
        return None
    # a folder without __init__.py (work in progress) is a namespace package, not a stage
    if spec is None or spec.origin in (None, "namespace"):
        return None
    mod = importlib.import_module(module)
    return mod if callable(getattr(mod, function, None)) else None


def run_demo(
    db: Any,
    out_dir: str | Path,
    cfg: Any,
    seed: int = 7,
    scale: float = 1.0,
    progress: ProgressFn | None = None,
    on_step: StepFn | None = None,
    stages: bool = True,
) -> dict[str, Any]:
    """Generate the demo corpus into ``out_dir``, ingest it into ``db`` and run every later
    stage that is installed; return what was done (corpus summary, ingest counts per file,
    stage results, store and report paths).

    ``cfg`` is the whole ``Config``; ``on_step(name)`` is told as each step starts;
    ``stages=False`` stops after ingest.
    Example: ``run_demo(store.open("demo/vocseg.db"), "demo", config.load())["ingest"]``
    """
    from vocseg import ingest, store

    out = Path(out_dir)
    step = on_step or (lambda name: None)
    step("generate")
    corpus = generate(out, seed=seed, scale=scale)
    ingested: dict[str, Any] = {}
    for name, (kind, mapping) in FILES.items():
        step(f"ingest {name}")
        res = ingest.ingest(
            db,
            [out / name],
            kind=kind,
            mapping=mapping,
            source=Path(name).stem,
            cfg=cfg.ingest,
            progress=progress,
            rating_scale=RATING_SCALES.get(name),
        )
        ingested[name] = res.as_dict()
    done: dict[str, Any] = {}
    for name, module, function, run in STAGES:
        mod = _stage_module(module, function) if stages else None
        if not stages:
            done[name] = "skipped"
        elif mod is None:
            done[name] = "not installed"
        else:
            step(name)
            done[name] = run(mod, db, cfg, out, progress)
    report = out / "report.html"
    return {
        "store": str(getattr(db, "path", "")),
        "report": str(report) if report.exists() else None,
        "corpus": corpus,
        "ingest": ingested,
        "stages": done,
        "tables": store.info(db)["tables"],
    }
