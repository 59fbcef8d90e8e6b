"""Expressed needs (zero-shot, by embedding similarity to an editable taxonomy) and intents.

The taxonomy is a TOML file (default ``vocseg/data/needs.toml``): ``[[need]]`` entries with
``name``, ``label``, ``description`` and ``examples``, plus ``[thresholds]`` per embedding
model family. A sentence's similarity to a need is its best cosine similarity to the
need's description or any example; it expresses the need when that similarity reaches the
threshold and is within ``MARGIN`` of its best need (at most ``MAX_PER_SENTENCE`` needs).
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vocseg.errors import ConfigError, Errors

#: a second need counts only when nearly as close as the best one
MARGIN = 0.06
MAX_PER_SENTENCE = 2
INTENTS = ("complaint", "praise", "request", "question")


@dataclass(frozen=True)
class Need:
    name: str
    label: str
    description: str
    examples: tuple[str, ...]

    @property
    def phrases(self) -> tuple[str, ...]:
        return (self.description, *self.examples)


@dataclass(frozen=True)
class Taxonomy:
    needs: tuple[Need, ...]
    path: str
    digest: str
    thresholds: dict[str, float] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [n.name for n in self.needs]

    def threshold(self, family: str, override: float = 0.0) -> float:
        """The configured override if > 0, else the calibrated one for ``family``, else default."""
        if override and override > 0:
            return float(override)
        return float(self.thresholds.get(family, self.thresholds.get("default", 0.45)))

    def phrases(self) -> tuple[list[str], np.ndarray]:
        """Every description/example and the index of the need it belongs to."""
        texts, owners = [], []
        for i, need in enumerate(self.needs):
            for p in need.phrases:
                texts.append(p)
                owners.append(i)
        return texts, np.asarray(owners, dtype=np.int64)


def default_path() -> Path:
    from vocseg.enrich.sentiment import data_path

    return data_path("needs.toml")


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read and validate a needs taxonomy (``None``: the packaged default).

    Example: ``load_taxonomy().names[:2] == ['price_value', 'delivery_speed']``
    """
    p = Path(path) if path else default_path()

    def bad(reason: str) -> ConfigError:
        return ConfigError(Errors.E211.format(path=p, reason=reason), code="E211")

    if not p.is_file():
        raise bad("the file does not exist")
    raw = p.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise bad(f"not valid TOML ({exc})") from None
    entries = data.get("need")
    if not isinstance(entries, list) or not entries:
        raise bad("no [[need]] entries")
    needs, seen = [], set()
    for i, e in enumerate(entries, 1):
        name = e.get("name") if isinstance(e, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise bad(f"need #{i} has no 'name'")
        if name in seen:
            raise bad(f"need '{name}' appears twice")
        desc = e.get("description")
        examples = e.get("examples", [])
        if not isinstance(desc, str) or not desc.strip():
            raise bad(f"need '{name}' has no 'description'")
        if not isinstance(examples, list) or not all(
            isinstance(x, str) and x.strip() for x in examples
        ):
            raise bad(f"need '{name}': 'examples' must be a list of non-empty strings")
        unknown = set(e) - {"name", "label", "description", "examples"}
        if unknown:
            raise bad(f"need '{name}' has unknown keys {sorted(unknown)}")
        seen.add(name)
        needs.append(
            Need(
                name.strip(),
                str(e.get("label") or name),
                desc.strip(),
                tuple(x.strip() for x in examples),
            )
        )
    thresholds = data.get("thresholds", {})
    if not isinstance(thresholds, dict) or not all(
        isinstance(v, (int, float)) for v in thresholds.values()
    ):
        raise bad("[thresholds] must map model family names to numbers")
    digest = hashlib.sha1(raw).hexdigest()[:16]
    return Taxonomy(tuple(needs), str(p), digest, {k: float(v) for k, v in thresholds.items()})


def similarities(
    sentence_vecs: np.ndarray, phrase_vecs: np.ndarray, owners: np.ndarray, n_needs: int
) -> np.ndarray:
    """(n_sentences, n_needs): best cosine similarity of each sentence to each need's phrases."""
    if len(sentence_vecs) == 0:
        return np.zeros((0, n_needs), dtype=np.float32)
    sims = sentence_vecs @ phrase_vecs.T
    out = np.full((len(sentence_vecs), n_needs), -1.0, dtype=np.float32)
    for j in range(n_needs):
        cols = owners == j
        if cols.any():
            out[:, j] = sims[:, cols].max(axis=1)
    return out


def match(sims: np.ndarray, threshold: float) -> list[list[tuple[int, float]]]:
    """Per sentence, the (need index, similarity) pairs it expresses, best first."""
    out = []
    for row in sims:
        if row.size == 0:
            out.append([])
            continue
        best = float(row.max())
        if best < threshold:
            out.append([])
            continue
        idx = [
            int(j)
            for j in np.argsort(-row)[:MAX_PER_SENTENCE]
            if row[j] >= threshold and row[j] >= best - MARGIN
        ]
        out.append([(j, float(row[j])) for j in idx])
    return out


def intent(cue: str | None, label: str | None) -> str | None:
    """request/question from the sentence's wording; else complaint/praise from its sentiment."""
    if cue in ("request", "question"):
        return cue
    if label == "negative":
        return "complaint"
    if label == "positive":
        return "praise"
    return None


def as_rows(tax: Taxonomy, family: str, threshold: float, now: str) -> list[tuple]:
    """Rows for the ``needs`` table."""
    return [
        (
            n.name,
            n.label,
            n.description,
            json.dumps(list(n.examples), ensure_ascii=False),
            threshold,
            tax.digest,
            now,
        )
        for n in tax.needs
    ]
