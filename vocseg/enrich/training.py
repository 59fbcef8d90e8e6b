"""Labelled public corpora for training and evaluating the sentiment model, with a fixed split.

The split is a pure function of each row's stable id, so training (``scripts/train_sentiment.py``),
the benchmark (``benchmarks/sentiment.py``) and the tests agree on which rows are held out:

* ``test``  when ``sha1(key) % 5 == 0`` (20 %): never used for training or tuning;
* ``dev``   when ``sha1(key) % 5 == 1`` (20 %): used to choose hyper-parameters, then trained on;
* ``train`` otherwise.

Keys: airline tweets ``airline:<tweet_id>`` (duplicate ids land together); VADER gold
``movie:<id>`` / ``nyt:<id>``; women's clothing reviews ``clothing:<row index>``.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Example:
    key: str
    corpus: str
    text: str
    label: str  # negative | neutral | positive
    rating: float | None  # the human mean rating (VADER gold) or stars, where there is one
    split: str  # train | dev | test


def split_of(key: str) -> str:
    """``test`` / ``dev`` / ``train`` from the sha1 of the row's stable key."""
    bucket = int(hashlib.sha1(key.encode("utf-8")).hexdigest(), 16) % 5
    return "test" if bucket == 0 else "dev" if bucket == 1 else "train"


def airline(root: Path) -> list[Example]:
    """Twitter US Airline Sentiment (shared even-id half): 3 crowd labels."""
    out = []
    with open(root / "airline-tweets" / "tweets.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            key = f"airline:{row['tweet_id']}"
            out.append(
                Example(key, "airline", row["text"], row["airline_sentiment"], None, split_of(key))
            )
    return out


def vader_gold(root: Path, name: str) -> list[Example]:
    """VADER's human-rated snippets (``movie`` or ``nyt``); label from the mean rating (-4..4)."""
    fname = {
        "movie": "movieReviewSnippets_GroundTruth.txt",
        "nyt": "nytEditorialSnippets_GroundTruth.txt",
    }[name]
    out = []
    raw = (root / "vader-gold" / fname).read_bytes().decode("utf-8", errors="replace")
    for line in raw.splitlines():
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        ident, mean, text = parts[0].strip(), float(parts[1]), "\t".join(parts[2:]).strip()
        label = "positive" if mean >= 0.5 else "negative" if mean <= -0.5 else "neutral"
        key = f"{name}:{ident}"
        out.append(Example(key, name, text, label, mean, split_of(key)))
    return out


def clothing_rows(root: Path) -> Iterator[tuple[str, str, int]]:
    """(key, text, stars) of every women's clothing review with text, in file order."""
    with gzip.open(
        root / "womens-clothing-reviews" / "womens_clothing_ecommerce_reviews.csv.gz",
        "rt",
        encoding="utf-8",
        newline="",
    ) as fh:
        reader = csv.reader(fh)
        header = next(reader)
        i_text, i_rating = header.index("Review Text"), header.index("Rating")
        for row in reader:
            text = row[i_text].strip()
            if text:
                yield f"clothing:{row[0]}", text, int(row[i_rating])


def clothing_bucket(key: str) -> int:
    """``sha1(key) % 10``, which agrees with :func:`split_of` (``% 5`` of it is the split)."""
    return int(hashlib.sha1(key.encode()).hexdigest(), 16) % 10


def clothing(root: Path) -> list[Example]:
    """Women's clothing reviews: 1-2 stars negative, 3 neutral, 4-5 positive.

    To keep training small only 4 of 10 hash buckets are read: bucket 0 (test), 1 (dev),
    2 and 3 (train); ``bucket = sha1(key) % 10`` agrees with :func:`split_of`.
    """
    out = []
    for key, text, stars in clothing_rows(root):
        if clothing_bucket(key) > 3:
            continue
        label = "negative" if stars <= 2 else "neutral" if stars == 3 else "positive"
        out.append(Example(key, "clothing", text, label, (stars - 1) / 4, split_of(key)))
    return out


def load_all(root: Path) -> list[Example]:
    """Every labelled example from the shared corpora at ``root``."""
    return airline(root) + vader_gold(root, "movie") + vader_gold(root, "nyt") + clothing(root)
