"""Train vocseg's sentiment classifier and write vocseg/data/sentiment-<family>.json.

Data: the labelled public corpora in ../shared/corpora (airline tweets, VADER gold movie and
NYT snippets, women's clothing reviews), split by ``vocseg.enrich.training.split_of``:
hyper-parameters are chosen on ``dev``, the final model is fitted on ``train + dev``, and the
figures printed (and written into the model's ``meta``) are on ``test`` rows only.

Usage:
    python scripts/train_sentiment.py                       # packaged all-MiniLM-L6-v2
    python scripts/train_sentiment.py --embedding models/minilm-static   # a distilled folder
    python scripts/train_sentiment.py --cache /tmp/sentcache   # reuse computed embeddings
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vocseg import models
from vocseg.config import ModelsConfig
from vocseg.enrich import embed, sentiment, training


def features(examples, embedder, family: str, cache: Path | None):
    texts = [e.text for e in examples]
    vecs = None
    if cache:
        f = cache / f"{family.replace('/', '_')}-{embed.content_hash(''.join(texts))[:12]}.npy"
        if f.exists():
            vecs = np.load(f)
    if vecs is None:
        t = time.time()
        vecs = embed.encode(embedder, texts, batch_size=64)
        print(f"embedded {len(texts)} texts in {time.time() - t:.0f}s", file=sys.stderr)
        if cache:
            cache.mkdir(parents=True, exist_ok=True)
            np.save(f, vecs)
    lex = sentiment.lexicon_features(sentiment.make_analyzer(), texts)
    return vecs, lex


def fit(x: np.ndarray, y: np.ndarray, c: float):
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    clf.fit(x, y)
    return clf


def evaluate(model: sentiment.SentimentModel, examples, vecs, lex, raw_vader) -> dict:
    """Figures on the given (test) rows: macro-F1 per labelled corpus, Spearman on rated ones."""
    from scipy.stats import spearmanr
    from sklearn.metrics import f1_score

    probs = model.predict_proba(vecs, lex)
    score, labels = sentiment.score_and_label(probs)
    out: dict = {}
    for corpus in sorted({e.corpus for e in examples}):
        idx = [i for i, e in enumerate(examples) if e.corpus == corpus]
        gold = [examples[i].label for i in idx]
        ours = [labels[i] for i in idx]
        vader = [sentiment.vader_label(raw_vader[i, 0]) for i in idx]
        row = {
            "n": len(idx),
            "macro_f1": round(float(f1_score(gold, ours, average="macro")), 4),
            "vader_macro_f1": round(float(f1_score(gold, vader, average="macro")), 4),
        }
        ratings = [examples[i].rating for i in idx]
        if all(r is not None for r in ratings):
            row["spearman"] = round(float(spearmanr(score[idx], ratings).statistic), 4)
            row["vader_spearman"] = round(float(spearmanr(raw_vader[idx, 0], ratings).statistic), 4)
        out[corpus] = row
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--embedding", default="all-MiniLM-L6-v2", help="[models] embedding value")
    ap.add_argument("--corpora", default=str(ROOT.parent / "shared" / "corpora"))
    ap.add_argument("--cache", default=None, help="folder to cache embeddings between runs")
    ap.add_argument("--out", default=None, help="output JSON (default: the packaged file)")
    args = ap.parse_args()

    cfg = ModelsConfig(embedding=args.embedding)
    embedder = models.load_embedder(cfg)
    family = embed.model_family(args.embedding)
    examples = training.load_all(Path(args.corpora))
    cache = Path(args.cache) if args.cache else None
    vecs, lex = features(examples, embedder, family, cache)
    raw_vader = sentiment.lexicon_features(
        sentiment.make_analyzer(domain=False), [e.text for e in examples]
    )
    y = np.array([sentiment.LABELS.index(e.label) for e in examples])
    split = np.array([e.split for e in examples])
    train, dev, test = split == "train", split == "dev", split == "test"

    from sklearn.metrics import f1_score

    best = None
    for scale in (1.0, 3.0):
        x = np.hstack([vecs, lex * scale])
        for c in (0.5, 2.0, 8.0):
            clf = fit(x[train], y[train], c)
            f1 = f1_score(y[dev], clf.predict(x[dev]), average="macro")
            print(f"dev: lexicon_scale={scale} C={c} macro-F1={f1:.4f}", file=sys.stderr)
            if best is None or f1 > best[0]:
                best = (f1, scale, c)
    _, scale, c = best
    fitmask = train | dev
    clf = fit(np.hstack([vecs, lex * scale])[fitmask], y[fitmask], c)
    counts = {}
    for e in examples:
        if e.split != "test":
            counts[e.corpus] = counts.get(e.corpus, 0) + 1
    model = sentiment.SentimentModel(
        family=family,
        coef=clf.coef_.astype(np.float32),
        intercept=clf.intercept_.astype(np.float32),
        lexicon_scale=scale,
        meta={
            "embedding": args.embedding,
            "C": c,
            "class_weight": "balanced",
            "trained_on": counts,
            "split": "sha1(key) % 5: 0 test (held out), 1 dev (tuning, then trained on), else train",
            "trained_at": time.strftime("%Y-%m-%d"),
        },
    )
    test_idx = np.flatnonzero(test)
    figures = evaluate(
        model, [examples[i] for i in test_idx], vecs[test_idx], lex[test_idx], raw_vader[test_idx]
    )
    model.meta["test"] = figures
    out = Path(args.out) if args.out else sentiment.model_file(family)
    model.save(out)
    print(
        json.dumps(
            {"family": family, "out": str(out), "lexicon_scale": scale, "C": c, "test": figures},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
