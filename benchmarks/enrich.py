"""Enrichment speed: `vocseg enrich` over 20,000 tweet-length documents from the shared corpora.

Documents: airline tweets, then TWCS support tweets, then VADER-gold movie snippets (all
tweet-length), ingested into a temporary store with ``vocseg.ingest.ingest_records``. Each
profile then runs ``vocseg enrich --json`` as a child process (model loading included) and
a second time (the no-op re-run). Prints ONE JSON object with docs/s, seconds, peak RSS of
the enrich process and its spaCy workers, and the held-out sentiment quality of each
profile's classifier, since the fast profile trades some quality for speed.

Profiles: ``default`` = packaged all-MiniLM-L6-v2; ``fast`` = the packaged static model
``minilm-static`` (trained to reproduce MiniLM, see vocseg/data/STATIC_CARD.md) with
``[enrich] entities = false``; ``fast-ner`` = ``minilm-static`` with entities; ``distilled``
= a plain ``vocseg distill`` folder (built here first when --static is not given); a
``-1proc`` suffix sets ``n_process = 1`` (to measure what the second core gives).
Targets (issue 4): >= 500 docs/s, RSS < 2 GB.

Example: .venv/bin/python benchmarks/enrich.py --n 20000 --profiles fast,default
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import SHARED, emit, run_measured, versions

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
VOCSEG = [sys.executable, "-m", "vocseg"]


def documents(n: int) -> list[dict]:
    out: list[dict] = []
    with open(SHARED / "airline-tweets" / "tweets.csv", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            out.append(
                {
                    "text": r["text"],
                    "external_id": f"air-{r['tweet_id']}-{len(out)}",
                    "created_at": r["tweet_created"],
                    "customer": r["name"],
                }
            )
    with open(SHARED / "twcs-support" / "twcs_slice.csv", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            inbound = r["inbound"] == "True"
            out.append(
                {
                    "text": r["text"],
                    "external_id": f"twcs-{r['tweet_id']}",
                    "role": "customer" if inbound else "agent",
                    "customer": r["author_id"] if inbound else None,
                    "conversation_id": None,
                }
            )
    raw = (
        (SHARED / "vader-gold" / "movieReviewSnippets_GroundTruth.txt")
        .read_bytes()
        .decode("utf-8", "replace")
    )
    for line in raw.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3:
            out.append({"text": parts[2], "external_id": f"movie-{parts[0]}"})
    return out[:n]


def build_store(path: Path, n: int) -> dict:
    from vocseg import ingest, store

    db = store.open(path)
    t0 = time.perf_counter()
    res = ingest.ingest_records(db, documents(n), source="bench", kind="social")
    db.conn.close()
    return {"documents": res.inserted, "ingest_seconds": round(time.perf_counter() - t0, 1)}


def run_sampled(cmd: list[str], **kw) -> dict:
    """run_measured plus the peaks of the summed RSS and PSS of the process and all its children
    (the parser workers), sampled every 0.5 s with psutil. Forked workers share most pages with
    the parent, so summed RSS counts them twice; PSS splits shared pages between processes."""
    import threading

    import psutil

    peak = {"rss": 0.0, "pss": 0.0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for proc in psutil.process_iter(["pid", "cmdline"]):
                if proc.info["cmdline"] == cmd:
                    try:
                        tree = [proc, *proc.children(recursive=True)]
                        infos = [p.memory_full_info() for p in tree]
                        peak["rss"] = max(peak["rss"], sum(i.rss for i in infos) / 2**20)
                        peak["pss"] = max(
                            peak["pss"], sum(getattr(i, "pss", i.rss) for i in infos) / 2**20
                        )
                    except psutil.Error:
                        pass
                    break
            done.wait(0.5)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    result = run_measured(cmd, **kw)
    done.set()
    t.join()
    result["peak_tree_rss_mb"] = round(peak["rss"], 1)
    result["peak_tree_pss_mb"] = round(peak["pss"], 1)
    return result


def run_profile(name: str, db: Path, tmp: Path, static_dir: Path) -> dict:
    toml = tmp / f"{name}.toml"
    lines = []
    if name.startswith("fast"):
        lines += ["[models]", 'embedding = "minilm-static"']
    elif name.startswith("distilled"):
        lines += ["[models]", f'embedding = "{static_dir}"']
    enrich_lines = []
    if name == "fast" or name.startswith("fast-1proc") or "noner" in name:
        enrich_lines.append("entities = false")
    if "1proc" in name:
        enrich_lines.append("n_process = 1")
    if enrich_lines:
        lines += ["[enrich]", *enrich_lines]
    toml.write_text("\n".join(lines) + "\n", encoding="utf-8")
    copy = tmp / f"{name}.db"
    subprocess.run(
        ["sqlite3", str(db), f".backup {copy}"], check=True
    ) if _has_sqlite3() else _copy(db, copy)
    out = tmp / f"{name}.json"
    with out.open("w") as fh:
        first = run_sampled(
            [*VOCSEG, "--db", str(copy), "--config", str(toml), "--quiet", "enrich", "--json"],
            stdout=fh,
            stderr=subprocess.DEVNULL,
        )
    summary = json.loads(out.read_text())
    with out.open("w") as fh:
        again = run_measured(
            [*VOCSEG, "--db", str(copy), "--config", str(toml), "--quiet", "enrich", "--json"],
            stdout=fh,
            stderr=subprocess.DEVNULL,
        )
    rerun = json.loads(out.read_text())
    from vocseg.enrich import embed, sentiment

    family = (
        embed.BUILTIN_STATIC_FAMILY
        if name.startswith("fast")
        else embed.model_family(str(static_dir))
        if name.startswith("distilled")
        else "all-MiniLM-L6-v2"
    )
    test = sentiment.load_model(family).meta.get("test", {})
    return {
        "documents": summary["documents"],
        "sentences": summary["sentences"],
        "aspects": summary["aspects"],
        "sentence_needs": summary["sentence_needs"],
        "embeddings_computed": summary["embeddings_computed"],
        "enrich_seconds": summary["seconds"],
        "docs_per_s": summary["docs_per_s"],
        "process_seconds_with_model_loading": first["seconds"],
        "docs_per_s_with_model_loading": round(summary["documents"] / first["seconds"], 1),
        "peak_rss_mb": first["peak_rss_mb"],
        "peak_rss_mb_all_processes": first["peak_tree_rss_mb"],
        "peak_pss_mb_all_processes": first["peak_tree_pss_mb"],
        "rerun_seconds": again["seconds"],
        "rerun_documents": rerun["documents"],
        "rerun_models_loaded": rerun["models_loaded"],
        "sentiment_quality_held_out": {
            "airline_macro_f1": test.get("airline", {}).get("macro_f1"),
            "movie_spearman": test.get("movie", {}).get("spearman"),
            "nyt_spearman": test.get("nyt", {}).get("spearman"),
        },
    }


def _has_sqlite3() -> bool:
    from shutil import which

    return which("sqlite3") is not None


def _copy(src: Path, dst: Path) -> None:
    import sqlite3

    s, d = sqlite3.connect(src), sqlite3.connect(dst)
    s.backup(d)
    s.close()
    d.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--profiles", default="fast,fast-ner,default")
    ap.add_argument(
        "--static", default=None, help="folder of a model made by `vocseg distill` (else built)"
    )
    args = ap.parse_args()
    result: dict = {
        "benchmark": "enrich",
        "corpus": "airline-tweets + twcs-support + vader-gold movie snippets",
        "n": args.n,
        "target": {"docs_per_s": 500, "peak_rss_mb": 2048},
    }
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        static_dir = Path(args.static) if args.static else tmp / "minilm-static"
        if not args.static and any(p.startswith("distilled") for p in args.profiles.split(",")):
            t0 = time.perf_counter()
            subprocess.run(
                [*VOCSEG, "--quiet", "distill", "--out", str(static_dir)],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            result["distill_seconds"] = round(time.perf_counter() - t0, 1)
        db = tmp / "bench.db"
        result["store"] = build_store(db, args.n)
        result["profiles"] = {
            p: run_profile(p, db, tmp, static_dir) for p in args.profiles.split(",") if p
        }
    result["versions"] = versions("spacy", "sentence-transformers", "torch", "model2vec")
    result["load_average_at_end"] = os.getloadavg()
    emit(result)


if __name__ == "__main__":
    main()
