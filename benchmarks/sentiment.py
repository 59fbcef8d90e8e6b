"""Sentiment quality: vocseg's shipped classifier vs VADER on held-out rows of the shared corpora.

Rows: the ``test`` split of ``vocseg.enrich.training.split_of`` (sha1 of each row's stable
key % 5 == 0), never used in training or tuning. Figures: macro-F1 over the three classes on
airline tweets (crowd labels) and women's clothing reviews (stars: 1-2 negative, 3 neutral,
4-5 positive), and Spearman rank correlation with the mean human rating on VADER's gold
movie-review and NYT-editorial snippets. VADER labels use its own cut-offs (compound >= 0.05
positive, <= -0.05 negative). Prints ONE JSON object. Target (issue 4): airline macro-F1 >=
VADER's + 0.25, and a higher Spearman than VADER on movie and NYT, for the default model
(all-MiniLM-L6-v2) and for the packaged fast one (minilm-static, family minilm-static-v2).

Example: .venv/bin/python benchmarks/sentiment.py [--static models/minilm-static]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import SHARED, emit, versions

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def figures(examples, probs: np.ndarray | None, compound: np.ndarray) -> dict:
    from scipy.stats import spearmanr
    from sklearn.metrics import accuracy_score, f1_score

    from vocseg.enrich import sentiment

    out: dict = {}
    if probs is not None:
        score, labels = sentiment.score_and_label(probs)
    for corpus in ("airline", "clothing", "movie", "nyt"):
        idx = [i for i, e in enumerate(examples) if e.corpus == corpus]
        gold = [examples[i].label for i in idx]
        vader = [sentiment.vader_label(c) for c in compound[idx]]
        row: dict = {"n": len(idx)}
        if probs is not None:
            ours = [labels[i] for i in idx]
            row["vocseg_macro_f1"] = round(float(f1_score(gold, ours, average="macro")), 4)
            row["vocseg_accuracy"] = round(float(accuracy_score(gold, ours)), 4)
        row["vader_macro_f1"] = round(float(f1_score(gold, vader, average="macro")), 4)
        row["vader_accuracy"] = round(float(accuracy_score(gold, vader)), 4)
        if corpus in ("movie", "nyt", "clothing"):
            ratings = [examples[i].rating for i in idx]
            if probs is not None:
                row["vocseg_spearman"] = round(float(spearmanr(score[idx], ratings).statistic), 4)
            row["vader_spearman"] = round(float(spearmanr(compound[idx], ratings).statistic), 4)
        out[corpus] = row
    return out


def enrich_figures(examples, compound: np.ndarray) -> dict:
    """The same figures for the document sentiment ``vocseg enrich`` stores (default model): the
    rows ingested into a temporary store and enriched. Unlike ``sentiment.predict`` (one vector
    per whole text) enrich gives a document of several sentences over ``[enrich]
    whole_text_max_chars`` the mean of its sentence vectors. Rows repeating an earlier row's
    text are scored as that row; a row ingest refuses or merges is left out (``n`` says)."""
    import tempfile

    from vocseg import config, enrich, ingest, store

    first: dict[str, str] = {}
    for e in examples:
        first.setdefault(e.text, e.key)
    with tempfile.TemporaryDirectory() as tmp:
        db = store.open(Path(tmp) / "sentiment.db")
        ingest.ingest_records(
            db,
            [{"text": e.text, "external_id": e.key} for e in examples if first[e.text] == e.key],
            source="bench",
            kind="review",
        )
        t0 = time.perf_counter()
        enrich.enrich(db, config.Config())
        secs = time.perf_counter() - t0
        by_key = {
            k: (pn, pu, pp)
            for k, pn, pu, pp in db.execute(
                "SELECT d.external_id, s.p_negative, s.p_neutral, s.p_positive FROM documents d "
                "JOIN document_sentiment s ON s.document_id = d.id"
            )
        }
    keep = [i for i, e in enumerate(examples) if first[e.text] in by_key]
    probs = np.array([by_key[first[examples[i].text]] for i in keep], dtype=np.float32)
    return {
        "seconds": round(secs, 2),
        "by_corpus": figures([examples[i] for i in keep], probs, compound[keep]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--static", default=None, help="also score with a `vocseg distill` folder")
    args = ap.parse_args()

    from vocseg import models
    from vocseg.config import ModelsConfig
    from vocseg.enrich import embed, sentiment, training

    examples = [e for e in training.load_all(SHARED) if e.split == "test"]
    texts = [e.text for e in examples]
    t0 = time.perf_counter()
    compound = sentiment.lexicon_features(sentiment.make_analyzer(domain=False), texts)[:, 0]
    vader_s = time.perf_counter() - t0
    result: dict = {
        "benchmark": "sentiment",
        "corpus": "shared/corpora: airline-tweets, womens-clothing-reviews, vader-gold (movie, nyt)",
        "split": "held-out test rows: sha1(key) % 5 == 0 (see vocseg/enrich/training.py)",
        "n": len(examples),
        "vader": {"seconds": round(vader_s, 2)},
    }
    embeddings = {
        "all-MiniLM-L6-v2": "all-MiniLM-L6-v2",
        embed.BUILTIN_STATIC_FAMILY: embed.BUILTIN_STATIC,
    }
    if args.static:
        embeddings[embed.model_family(args.static)] = args.static
    rows = {}
    for family, location in embeddings.items():
        embedder = models.load_embedder(ModelsConfig(embedding=location))
        model = sentiment.load_model(family)
        t0 = time.perf_counter()
        probs = sentiment.predict(texts, embedder, model, sentiment.make_analyzer())
        secs = time.perf_counter() - t0
        rows[family] = {
            "seconds": round(secs, 2),
            "texts_per_s": round(len(texts) / secs, 1),
            "by_corpus": figures(examples, probs, compound),
        }
    result["vocseg"] = rows
    result["vocseg_enrich"] = enrich_figures(examples, compound)
    base = figures(examples, None, compound)
    result["table"] = [
        {
            "corpus": corpus,
            "metric": metric,
            "vader": base[corpus][f"vader_{key}"],
            **{fam: r["by_corpus"][corpus][f"vocseg_{key}"] for fam, r in rows.items()},
        }
        for corpus, metric, key in (
            ("airline", "macro-F1 (3 classes)", "macro_f1"),
            ("clothing", "macro-F1 (3 classes)", "macro_f1"),
            ("movie", "Spearman vs mean human rating", "spearman"),
            ("nyt", "Spearman vs mean human rating", "spearman"),
        )
    ]
    result["targets"] = {"airline_gain_target": 0.25}
    for family, prefix in (("all-MiniLM-L6-v2", ""), (embed.BUILTIN_STATIC_FAMILY, "fast_")):
        ours = rows[family]["by_corpus"]
        result["targets"].update(
            {
                f"{prefix}airline_macro_f1_gain_over_vader": round(
                    ours["airline"]["vocseg_macro_f1"] - base["airline"]["vader_macro_f1"], 4
                ),
                f"{prefix}movie_spearman_beats_vader": ours["movie"]["vocseg_spearman"]
                > base["movie"]["vader_spearman"],
                f"{prefix}nyt_spearman_beats_vader": ours["nyt"]["vocseg_spearman"]
                > base["nyt"]["vader_spearman"],
            }
        )
    result["versions"] = versions(
        "sentence-transformers", "torch", "vaderSentiment", "scikit-learn"
    )
    emit(result)


if __name__ == "__main__":
    main()
