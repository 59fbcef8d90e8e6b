"""Calibrate the needs similarity threshold for an embedding model on vocseg/data/needs_calibration.tsv.

Prints, for thresholds 0.20..0.70, precision/recall/F1 over (sentence, need) pairs with the
matching rule of vocseg.enrich.needs.match, and the best threshold. Put it under
[thresholds] in vocseg/data/needs.toml for that model family.

With ``--agreement``, also matches real airline tweets with this model and with MiniLM (at
MiniLM's threshold): the threshold whose (tweet, need) pairs agree best with MiniLM's on ``dev``
tweets, then, at it, on held-out ``test`` tweets, the share of tweets given a need by each
model and the F1 of this model's pairs against MiniLM's: how far a fast model's needs stay
from the default's on real text (hand-written sentences alone favour a too-low threshold).

Usage: python scripts/calibrate_needs.py [--embedding all-MiniLM-L6-v2|minilm-static|FOLDER]
                                         [--agreement]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vocseg import models
from vocseg.config import ModelsConfig
from vocseg.enrich import embed, needs
from vocseg.enrich.sentiment import data_path


def read_labelled(path: Path) -> list[tuple[str, set[str]]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith(("#", "sentence\t")):
            continue
        text, _, labels = line.partition("\t")
        rows.append((text, {x.strip() for x in labels.split(",") if x.strip()}))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--embedding", default="all-MiniLM-L6-v2")
    ap.add_argument("--taxonomy", default=None)
    ap.add_argument("--agreement", action="store_true", help="compare with MiniLM on real tweets")
    args = ap.parse_args()
    embedder = models.load_embedder(ModelsConfig(embedding=args.embedding))
    family = embed.model_family(args.embedding)
    tax = needs.load_taxonomy(args.taxonomy)
    rows = read_labelled(data_path("needs_calibration.tsv"))
    phrases, owners = tax.phrases()
    sims = needs.similarities(
        embed.encode(embedder, [r[0] for r in rows]),
        embed.encode(embedder, phrases),
        owners,
        len(tax.needs),
    )
    table, best = [], None
    for t in np.arange(0.20, 0.71, 0.025):
        tp = fp = fn = 0
        for (_, gold), m in zip(rows, needs.match(sims, float(t)), strict=True):
            got = {tax.needs[j].name for j, _ in m}
            tp += len(got & gold)
            fp += len(got - gold)
            fn += len(gold - got)
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        table.append(
            {
                "threshold": round(float(t), 3),
                "precision": round(p, 3),
                "recall": round(r, 3),
                "f1": round(f, 3),
            }
        )
        if best is None or f > best["f1"]:
            best = table[-1]
    out = {"family": family, "sentences": len(rows), "best": best, "grid": table}
    if args.agreement:
        out["agreement"] = agreement(embedder, tax, phrases, owners)
    print(json.dumps(out, indent=1))


def agreement(embedder, tax, phrases, owners) -> dict:
    """Needs of real airline tweets by ``embedder`` vs by MiniLM (at MiniLM's threshold): the
    threshold that agrees best on ``dev`` tweets, and the figures at it on held-out ``test``."""
    from vocseg.enrich import training

    tweets = training.airline(ROOT.parent / "shared" / "corpora")
    minilm = models.load_embedder(ModelsConfig())
    ref_t = tax.threshold("all-MiniLM-L6-v2")

    def pairs(model, texts, t_values):
        sims = needs.similarities(
            embed.encode(model, texts), embed.encode(model, phrases), owners, len(tax.needs)
        )
        return {
            t: {(i, j) for i, m in enumerate(needs.match(sims, t)) for j, _ in m} for t in t_values
        }

    def compare(mine: set, ref: set, n: int) -> dict:
        tp = len(mine & ref)
        p = tp / len(mine) if mine else 0.0
        r = tp / len(ref) if ref else 0.0
        return {
            "tweets": n,
            "share_with_a_need": round(len({i for i, _ in mine}) / n, 3),
            "share_with_a_need_minilm": round(len({i for i, _ in ref}) / n, 3),
            "pair_f1_vs_minilm": round(2 * p * r / (p + r), 3) if p + r else 0.0,
        }

    grid = [round(float(t), 3) for t in np.arange(0.30, 0.71, 0.025)]
    out = {}
    for split in ("dev", "test"):
        texts = [e.text for e in tweets if e.split == split]
        ref = pairs(minilm, texts, [ref_t])[ref_t]
        mine = pairs(embedder, texts, grid if split == "dev" else [out["threshold"]])
        if split == "dev":
            out["threshold"] = max(
                grid, key=lambda t: compare(mine[t], ref, len(texts))["pair_f1_vs_minilm"]
            )
        out[split] = compare(mine[out["threshold"]], ref, len(texts))
    return out


if __name__ == "__main__":
    main()
