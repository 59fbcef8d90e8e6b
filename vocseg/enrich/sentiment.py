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


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _neutralise(value: str) -> str:
    """Prefix a cell a spreadsheet would run as a formula with an apostrophe (CSV injection)."""
    if value.startswith(_FORMULA_START):
        try:
            float(value)
            return value
        except ValueError:
            return "'" + value
    return value


def predict(
    texts: Sequence[str], embedder: Any, model: SentimentModel, analyzer: Any
) -> np.ndarray:
    """(n, 3) class probabilities for raw texts (no store, no cache)."""
    from vocseg.enrich.embed import encode

    if not texts:
        return np.zeros((0, 3), dtype=np.float32)
    return model.predict_proba(encode(embedder, texts), lexicon_features(analyzer, texts))


def score_csv(
    path: str | Path,
    out: str | Path,
    text_column: str,
    embedder: Any,
    model: SentimentModel,
    analyzer: Any,
    *,
    id_column: str | None = None,
    chunk: int = 2000,
    progress: Any = None,
) -> dict[str, Any]:
    """Score every row of a CSV and write ``id,label,score,p_negative,p_neutral,p_positive`` in input order.

    Rows with empty text get an empty label and score and are listed in ``warnings``. The
    id is the ``id_column`` value, else the 1-based data row number.

    Example: ``score_csv("reviews.csv", "preds.csv", "body", embedder, load_model(family), make_analyzer())``
    """
    import csv

    from vocseg.errors import Errors, SourceError

    path, out = Path(path), Path(out)
    empty: list[str] = []
    n = 0
    try:
        fh = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise SourceError(
            Errors.E213.format(path=path, reason=exc.strerror or exc), code="E213"
        ) from None
    with fh, open(out, "w", encoding="utf-8", newline="") as oh:
        reader = csv.DictReader(fh)
        try:
            columns = reader.fieldnames or []
        except (UnicodeDecodeError, csv.Error) as exc:
            raise SourceError(Errors.E213.format(path=path, reason=exc), code="E213") from None
        for col in (text_column, id_column):
            if col is not None and col not in columns:
                raise SourceError(
                    Errors.E212.format(
                        path=path, column=col, columns=", ".join(columns) or "(none)"
                    ),
                    code="E212",
                )
        writer = csv.writer(oh)
        writer.writerow(["id", "label", "score", "p_negative", "p_neutral", "p_positive"])
        buf: list[tuple[str, str]] = []

        def flush() -> None:
            todo = [k for k, (_, t) in enumerate(buf) if t.strip()]
            probs = predict([buf[k][1] for k in todo], embedder, model, analyzer)
            scores, labels = score_and_label(probs)
            row_of = {k: j for j, k in enumerate(todo)}
            for k, (ident, _) in enumerate(buf):
                j = row_of.get(k)
                if j is None:
                    writer.writerow([_neutralise(ident), "", "", "", "", ""])
                else:
                    p = probs[j]
                    writer.writerow(
                        [
                            _neutralise(ident),
                            labels[j],
                            f"{scores[j]:.4f}",
                            f"{p[0]:.4f}",
                            f"{p[1]:.4f}",
                            f"{p[2]:.4f}",
                        ]
                    )
            if progress:
                progress(len(buf), None)
            buf.clear()

        try:
            for row in reader:
                n += 1
                text = row.get(text_column) or ""
                ident = (row.get(id_column) or "") if id_column else str(n)
                if not text.strip():
                    empty.append(ident or str(n))
                buf.append((ident, text))
                if len(buf) >= chunk:
                    flush()
            flush()
        except (UnicodeDecodeError, csv.Error) as exc:
            raise SourceError(
                Errors.E213.format(path=path, reason=f"line {reader.line_num}: {exc}"), code="E213"
            ) from None
    warnings = []
    if empty:
        shown = ", ".join(empty[:10]) + (" ..." if len(empty) > 10 else "")
        warnings.append(
            f"{len(empty)} row(s) of {path} have no text in '{text_column}' "
            f"and were left unlabelled: id {shown}"
        )
    return {
        "rows": n,
        "scored": n - len(empty),
        "empty": len(empty),
        "out": str(out),
        "warnings": warnings,
    }
