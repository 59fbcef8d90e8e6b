"""Train vocseg's sentiment classifier and write vocseg/data/sentiment-<family>.json.

Data: the labelled public corpora in ../shared/corpora (airline tweets, VADER gold movie and
NYT snippets, women's clothing reviews), split by ``vocseg.enrich.training.split_of``:
hyper-parameters are chosen on ``dev``, the final model is fitted on ``train + dev``, and the
figures printed (and written into the model's ``meta``) are on ``test`` rows only.

A transformer model is trained on two vectors of every text of several sentences: the model's
pass over the whole text (what ``vocseg sentiment`` and ``sentiment.predict`` give it) and the
length-weighted mean of its sentence vectors (what ``vocseg enrich`` stores as a document's
vector, see ``[enrich] whole_text_max_chars``); test figures are printed for both. A static
model embeds every document whole, so it is trained on whole texts only.

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


def sentence_means(examples, embedder, family: str, cache: Path | None) -> np.ndarray:
    """Per example, the vector ``vocseg enrich`` gives a document of several sentences: the
    length-weighted mean of its sentence vectors (spaCy's sentences, as enrich splits them);
    a row of NaN for a text of one sentence, whose vector is the whole text's."""
    texts = [e.text for e in examples]
    f = None
    if cache:
        f = cache / f"{family.replace('/', '_')}-means-{embed.content_hash(''.join(texts))[:12]}.npy"
        if f.exists():
            return np.load(f)
    from vocseg.enrich import nlp

    t = time.time()
    # sentences come from the dependency parse; the entity recognizer plays no part
    pipeline = nlp.add_components(models.load_spacy(ModelsConfig(), disable=["ner"]))
    with nlp.parser(pipeline, n_process=2, batch_size=256) as parse:
        sents = [[s["text"] for s in rec["sents"]] for rec in parse(texts)]
    distinct = list(dict.fromkeys(s for ss in sents if len(ss) > 1 for s in ss))
    where = {s: i for i, s in enumerate(distinct)}
    vecs = embed.encode(embedder, distinct)
    out = np.full((len(texts), vecs.shape[1]), np.nan, dtype=np.float32)
    for i, ss in enumerate(sents):
        if len(ss) > 1:
            out[i] = embed.sentence_mean(vecs[[where[s] for s in ss]], [len(s) for s in ss])
    print(f"split and embedded {len(distinct)} sentences in {time.time() - t:.0f}s", file=sys.stderr)
    if f is not None:
        cache.mkdir(parents=True, exist_ok=True)
        np.save(f, out)
    return out


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
    ap.add_argument("--grid", default="0.5,2,8", help="values of C tried on dev")
    ap.add_argument("--scales", default="1,3", help="lexicon feature scales tried on dev")
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
    if embed.is_static(embedder):
        means = np.full_like(vecs, np.nan)
    else:
        means = sentence_means(examples, embedder, family, cache)
    several = ~np.isnan(means[:, 0])
    # what enrich stores: the sentences' mean for a text of several sentences, else the whole's
    stored = np.where(several[:, None], means, vecs)

    def rows(mask: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
        """Training rows of ``mask``: every text whole, and again as its sentences' mean."""
        both = mask & several
        x = np.vstack([np.hstack([vecs[mask], lex[mask] * scale]), np.hstack([means[both], lex[both] * scale])])
        return x, np.concatenate([y[mask], y[both]])

    from sklearn.metrics import f1_score

    best = None
    for scale in [float(v) for v in args.scales.split(",")]:
        for c in [float(v) for v in args.grid.split(",")]:
            clf = fit(*rows(train, scale), c)
            f1 = f1_score(y[dev], clf.predict(np.hstack([stored, lex * scale])[dev]), average="macro")
            print(f"dev (as enrich stores it): lexicon_scale={scale} C={c} macro-F1={f1:.4f}", file=sys.stderr)
            if best is None or f1 > best[0]:
                best = (f1, scale, c)
    _, scale, c = best
    clf = fit(*rows(train | dev, scale), c)
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
            "vectors": "each text whole, and each text of several sentences again as the "
            "length-weighted mean of its sentence vectors" if several.any() else "each text whole",
            "split": "sha1(key) % 5: 0 test (held out), 1 dev (tuning, then trained on), else train",
            "trained_at": time.strftime("%Y-%m-%d"),
        },
    )
    test_idx = np.flatnonzero(test)
    held_out = [examples[i] for i in test_idx]
    figures = evaluate(model, held_out, stored[test_idx], lex[test_idx], raw_vader[test_idx])
    model.meta["test"] = figures
    if several.any():
        model.meta["test_whole_texts"] = evaluate(model, held_out, vecs[test_idx], lex[test_idx], raw_vader[test_idx])
    out = Path(args.out) if args.out else sentiment.model_file(family)
    model.save(out)
    print(
        json.dumps(
            {"family": family, "out": str(out), "lexicon_scale": scale, "C": c, "test": figures,
             "test_whole_texts": model.meta.get("test_whole_texts")},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
