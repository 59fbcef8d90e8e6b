"""Calibrate the needs similarity threshold for an embedding model on vocseg/data/needs_calibration.tsv.

Prints, for thresholds 0.20..0.70, precision/recall/F1 over (sentence, need) pairs with the
matching rule of vocseg.enrich.needs.match, and the best threshold. Put it under
[thresholds] in vocseg/data/needs.toml for that model family.

Usage: python scripts/calibrate_needs.py [--embedding all-MiniLM-L6-v2|FOLDER]
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
    print(
        json.dumps(
            {"family": family, "sentences": len(rows), "best": best, "grid": table}, indent=1
        )
    )


if __name__ == "__main__":
    main()
