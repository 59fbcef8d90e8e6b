"""Topic quality and time: plain BERTopic vs vocseg's topics on negative airline tweets.

Prints ONE JSON object. Quality is the normalised mutual information (NMI) between topic
assignments and the crowd's ``negativereason`` (10 reasons); unassigned documents count as
one more cluster (-1), as a user sees them. Both sides use the same packaged embedding model
(all-MiniLM-L6-v2) and include the time to embed the tweets.

(a) ``BERTopic(embedding_model=...)`` with every other parameter at its default.
(b) ``vocseg.topics.fit_texts`` with vocseg's defaults (config [topics]).

Run: ``.venv/bin/python benchmarks/topics.py [--limit N]``
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("VOCSEG_SHARED", ROOT.parent / "shared")) / "corpora" / "airline-tweets" / "tweets.csv"


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()
    return {"cores": os.cpu_count(), "memory_gib": round(mem, 1), "cpu": cpu, "python": platform.python_version(),
            "load_avg_1m": round(os.getloadavg()[0], 2), "commit": commit,
            "versions": {p: metadata.version(p) for p in ("bertopic", "umap-learn", "hdbscan", "scikit-learn",
                                                          "sentence-transformers", "torch")}}


def load(limit: int | None) -> tuple[list[str], list[str]]:
    with CORPUS.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["airline_sentiment"] == "negative" and r["negativereason"]]
    if limit:
        rows = rows[:limit]
    return [r["text"] for r in rows], [r["negativereason"] for r in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None, help="first N negative tweets only")
    args = ap.parse_args()
    if not CORPUS.exists():
        sys.exit(f"{CORPUS} is missing: the shared corpora must be beside the checkout")
    import numpy as np
    from sklearn.metrics import normalized_mutual_info_score as nmi

    from vocseg import config, models, topics
    from vocseg.enrich import embed

    texts, reasons = load(args.limit)
    cfg = config.Config()
    t0 = time.perf_counter()
    embedder = models.load_embedder(cfg.models)
    load_s = time.perf_counter() - t0

    def score(assigned) -> dict:
        a = np.asarray(assigned)
        kept = a >= 0
        return {"nmi": round(float(nmi(reasons, a)), 4),
                "nmi_assigned_only": round(float(nmi(np.asarray(reasons)[kept], a[kept])), 4),
                "topics": len(set(a[kept].tolist())), "unassigned_share": round(float((~kept).mean()), 4)}

    from bertopic import BERTopic

    t0 = time.perf_counter()
    # sentence-transformers on PyTorch, as a notebook has it; every other parameter at its default
    notebook = dataclasses.replace(cfg.models, backend="torch", precision="float32")
    plain = BERTopic(embedding_model=models.load_embedder(notebook))
    plain_topics, _ = plain.fit_transform(texts)
    plain_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    vecs = embed.encode(embedder, [topics.topic_text(t) for t in texts])
    embed_s = time.perf_counter() - t0
    result = topics.fit_texts(texts, vecs, cfg.topics, embedder)
    vocseg_s = time.perf_counter() - t0

    a, b = score(plain_topics), score(result.model_topics)
    print(json.dumps({
        "benchmark": "topics",
        "corpus": "shared/corpora/airline-tweets (shared half: even tweet_id), negative tweets with a negativereason",
        "n": len(texts), "reasons": len(set(reasons)),
        "plain_bertopic": {**a, "seconds": round(plain_s, 1)},
        "vocseg": {**b, "seconds": round(vocseg_s, 1), "embed_seconds": round(embed_s, 1),
                   "min_topic_size": result.min_size},
        "nmi_ratio": round(b["nmi"] / a["nmi"], 3) if a["nmi"] else None,
        "targets": {"nmi_ratio_at_least": 1.2, "unassigned_share_at_most": 0.10},
        "model_load_seconds": round(load_s, 1),
        "machine": machine(),
    }, indent=2))


if __name__ == "__main__":
    main()
