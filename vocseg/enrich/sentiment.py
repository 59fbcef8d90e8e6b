"""Sentiment: a small logistic regression over sentence embeddings plus lexicon features.

The classifier is trained by ``scripts/train_sentiment.py`` on public labelled data (see
``vocseg/data/SENTIMENT_CARD.md``) and shipped as JSON coefficients, one file per embedding
model family (``vocseg/data/sentiment-<family>.json``); no pickle. Features per text: the
L2-normalised embedding, and VADER's compound/pos/neg/neu computed with VADER's lexicon
updated by ``vocseg/data/opinion_lexicon.tsv`` (customer-experience words).

score = P(positive) - P(negative), in [-1, 1]; label = the most probable class.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from vocseg.errors import Errors, ModelNotFoundError

LABELS = ("negative", "neutral", "positive")
#: VADER's own cut-offs on its compound score (Hutto & Gilbert 2014), used for the baseline
VADER_POS, VADER_NEG = 0.05, -0.05


def data_path(name: str) -> Path:
    return Path(str(resources.files("vocseg") / "data" / name))


def load_opinion_lexicon(path: Path | None = None) -> dict[str, float]:
    """word -> valence (VADER's -4..4 scale) from the shipped customer-experience lexicon."""
    path = path or data_path("opinion_lexicon.tsv")
    lex: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        word, _, value = line.partition("\t")
        lex[word.strip().lower()] = float(value)
    return lex


def make_analyzer(domain: bool = True) -> Any:
    """VADER's analyzer; with ``domain`` its lexicon is updated by the opinion lexicon."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    if domain:
        analyzer.lexicon.update(load_opinion_lexicon())
    return analyzer


_MENTION = re.compile(r"(?<!\w)@\w+")
_URL = re.compile(r"https?://\S+")


def clean(text: str) -> str:
    """Drop @handles and URLs, which carry no sentiment and dominate short social posts."""
    return _URL.sub(" ", _MENTION.sub(" ", text)).strip()


def lexicon_features(analyzer: Any, texts: Sequence[str]) -> np.ndarray:
    """(n, 4) VADER compound, pos, neg, neu for each text."""
    out = np.zeros((len(texts), 4), dtype=np.float32)
    for i, t in enumerate(texts):
        s = analyzer.polarity_scores(t)
        out[i] = (s["compound"], s["pos"], s["neg"], s["neu"])
    return out


@dataclass(frozen=True)
class SentimentModel:
    """Multinomial logistic regression coefficients over [embedding, lexicon features]."""

    family: str
    coef: np.ndarray  # (3, dim + 4)
    intercept: np.ndarray  # (3,)
    lexicon_scale: float = 1.0
    meta: dict = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return int(self.coef.shape[1] - 4)

    def predict_proba(self, vectors: np.ndarray, lexicon: np.ndarray) -> np.ndarray:
        """(n, 3) class probabilities in ``LABELS`` order."""
        if len(vectors) == 0:
            return np.zeros((0, 3), dtype=np.float32)
        x = np.hstack([vectors.astype(np.float32), lexicon * self.lexicon_scale])
        z = x @ self.coef.T + self.intercept
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)

    def to_dict(self) -> dict:
        return {
            "format": "vocseg-sentiment-logreg-v1",
            "family": self.family,
            "labels": list(LABELS),
            "features": f"embedding[{self.dim}] + vader[compound,pos,neg,neu]*lexicon_scale",
            "lexicon_scale": self.lexicon_scale,
            "intercept": [round(float(v), 6) for v in self.intercept],
            "coef": [[round(float(v), 6) for v in row] for row in self.coef],
            "meta": self.meta,
        }

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict) -> SentimentModel:
        return cls(
            family=data["family"],
            coef=np.asarray(data["coef"], dtype=np.float32),
            intercept=np.asarray(data["intercept"], dtype=np.float32),
            lexicon_scale=float(data.get("lexicon_scale", 1.0)),
            meta=data.get("meta", {}),
        )


def model_file(family: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", family.split("/")[-1])
    return data_path(f"sentiment-{slug}.json")


def load_model(family: str, path: str | Path | None = None) -> SentimentModel:
    """The shipped classifier for an embedding model family (or the file at ``path``)."""
    p = Path(path) if path else model_file(family)
    if not p.is_file():
        raise ModelNotFoundError(Errors.E210.format(family=family, path=p), code="E210")
    return SentimentModel.from_dict(json.loads(p.read_text(encoding="utf-8")))


def score_and_label(probs: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """score = P(pos) - P(neg) clipped to [-1, 1], and the argmax label."""
    if len(probs) == 0:
        return np.zeros(0, dtype=np.float32), []
    score = np.clip(probs[:, 2] - probs[:, 0], -1.0, 1.0)
    return score, [LABELS[i] for i in probs.argmax(axis=1)]


def vader_label(compound: float) -> str:
    if compound >= VADER_POS:
        return "positive"
    if compound <= VADER_NEG:
        return "negative"
    return "neutral"


def satisfaction(score: float, rating: float | None, rating_weight: float) -> float:
    """Satisfaction in [0, 1]: the text score mapped to [0, 1], blended with a rating when present."""
    text = (float(score) + 1.0) / 2.0
    if rating is None:
        return round(min(1.0, max(0.0, text)), 4)
    value = rating_weight * float(rating) + (1.0 - rating_weight) * text
    return round(min(1.0, max(0.0, value)), 4)
