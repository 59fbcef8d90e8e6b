"""Sentence embeddings, computed once per distinct text and kept in the ``embeddings`` table.

A vector is keyed by ``(content_hash, model)``: ``content_hash`` is the sha1 hex of the
text (the same rule as ``documents.content_hash``), ``model`` the configured embedding id.
Vectors are stored as float16 little-endian and returned as float32, L2-normalised as
the model gives them. Topics, needs and segments read them through :func:`load`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sqlite_utils

from vocseg import store

#: rows per SELECT ... IN (...) (SQLite's default variable limit is 32766)
_CHUNK = 900
#: texts per forward pass of a transformer: on CPU, 16-32 short texts per batch run ~1.4x faster
#: than 128 (less padding, better cache use; measured on 3,000 airline tweets, 2 cores)
TRANSFORMER_BATCH = 32
#: a static (model2vec-style) model is a table lookup: big batches amortise the Python overhead
STATIC_BATCH = 1024
_HANDLE = re.compile(r"(?<![\w@])@\w+")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_ENTITY = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'"}


def embedding_text(text: str) -> str:
    """What the embedding model sees of a text: no @handles, links or HTML entities, hashtags
    as words (the original if nothing is left). Handles and links say who or where, not what:
    left in, tweets to one brand cluster by the brand instead of by what they are about.

    The cache stays keyed by the hash of the original text (so erasing a document erases its
    vectors), and every text's vector is ``encode(embedding_text(text))``.
    """
    s = _URL.sub(" ", _HANDLE.sub(" ", text))
    for ent, ch in _ENTITY.items():
        s = s.replace(ent, ch)
    s = re.sub(r"#(\w)", r"\1", s)
    s = " ".join(s.split())
    return s if len(s) >= 3 else text


def content_hash(text: str) -> str:
    """sha1 hex of ``text`` (UTF-8): the cache key shared with ``documents.content_hash``."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f2").tobytes()


def from_blob(blob: bytes, dim: int) -> np.ndarray:
    v = np.frombuffer(blob, dtype="<f2")
    if v.shape[0] != dim:
        raise ValueError(f"embedding blob has {v.shape[0]} values, expected {dim}")
    return v.astype(np.float32)


def _fetch(
    db: sqlite_utils.Database, hashes: Sequence[str], model_id: str, *, model_only: bool = False
) -> dict[str, np.ndarray]:
    found: dict[str, np.ndarray] = {}
    uniq = list(dict.fromkeys(hashes))
    only = " AND source = 'model'" if model_only else ""
    for i in range(0, len(uniq), _CHUNK):
        part = uniq[i : i + _CHUNK]
        marks = ",".join("?" * len(part))
        rows = db.conn.execute(
            f"SELECT content_hash, dim, vector FROM embeddings WHERE model = ?{only} AND content_hash IN ({marks})",
            [model_id, *part],
        )
        for h, dim, blob in rows:
            found[h] = from_blob(blob, dim)
    return found


def load(db: sqlite_utils.Database, content_hashes: Sequence[str], model_id: str) -> np.ndarray:
    """Stored vectors for ``content_hashes`` as float32 ``(n, dim)``, rows in input order.

    Raises ``KeyError`` naming the first hash with no vector (run ``vocseg enrich``).

    Example: ``embed.load(db, [row["content_hash"] for row in docs], "all-MiniLM-L6-v2")``
    """
    found = _fetch(db, content_hashes, model_id)
    missing = [h for h in content_hashes if h not in found]
    if missing:
        raise KeyError(
            f"no {model_id} embedding for content_hash {missing[0]} ({len(missing)} missing)"
        )
    if not content_hashes:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([found[h] for h in content_hashes])


def is_model2vec(embedder: Any) -> bool:
    """Whether ``embedder`` is model2vec's ``StaticModel`` (numpy only, no PyTorch)."""
    return type(embedder).__module__.startswith("model2vec")


def runs_without_torch(embedder: Any) -> bool:
    """Whether ``embedder`` computes without PyTorch: model2vec's ``StaticModel`` (numpy) or a
    model compiled by OpenVINO (see :mod:`vocseg.enrich.ov_backend`)."""
    from vocseg.enrich.ov_backend import OpenVINOEmbedder  # numpy only

    return is_model2vec(embedder) or isinstance(embedder, OpenVINOEmbedder)


def is_static(embedder: Any) -> bool:
    """Whether ``embedder`` is a static (token table) model: model2vec's or sentence-transformers'."""
    if is_model2vec(embedder):
        return True
    try:
        return type(embedder[0]).__name__ == "StaticEmbedding"
    except (TypeError, IndexError, KeyError):
        return False


def encode(embedder: Any, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
    """Encode :func:`embedding_text` of each text with a sentence-transformers model,
    normalised float32 ``(n, dim)``."""
    return _encode_inputs(embedder, [embedding_text(t) for t in texts], batch_size)


def _encode_inputs(embedder: Any, inputs: Sequence[str], batch_size: int | None = None) -> np.ndarray:
    """Encode ``inputs`` as they are (already :func:`embedding_text`), normalised float32."""
    if not inputs:
        return np.zeros((0, 0), dtype=np.float32)
    if batch_size is None:
        batch_size = STATIC_BATCH if is_static(embedder) else TRANSFORMER_BATCH
    if is_model2vec(embedder):  # numpy; normalised by construction (see static_model)
        vecs = np.asarray(
            embedder.encode(
                list(inputs),
                batch_size=batch_size,
                show_progress_bar=False,
                use_multiprocessing=False,
            ),
            dtype=np.float32,
        )
        # model2vec drops unknown word-pieces: a text of nothing else (emoji only) would be a
        # zero vector; give it the unknown token's direction, as the model was trained with
        empty = ~vecs.any(axis=1)
        if empty.any() and embedder.unk_token_id is not None:
            unk = np.asarray(embedder.embedding[embedder.unk_token_id], dtype=np.float32)
            vecs[empty] = unk / max(float(np.linalg.norm(unk)), 1e-12)
        return vecs
    vecs = embedder.encode(
        list(inputs),
        batch_size=batch_size,
        convert_to_numpy=True,
        normalize_embeddings=True,
        show_progress_bar=False,
    )
    return np.asarray(vecs, dtype=np.float32)


def ensure(
    db: sqlite_utils.Database,
    texts: Sequence[str],
    embedder: Any,
    model_id: str,
    *,
    hashes: Sequence[str] | None = None,
    batch_size: int | None = None,
    on_computed: Callable[[int], None] | None = None,
    load: Callable[[], Any] | None = None,
    model_only: bool = False,
) -> np.ndarray:
    """Vectors for ``texts`` (float32, input order): cached ones read, missing ones computed and stored.

    ``embedder`` may be ``None`` when every text is already cached (nothing is computed), or
    when ``load`` returns it: then it is loaded only if a text is missing. With ``model_only``
    a cached mean of sentence vectors (see :func:`sentence_mean`) counts as missing.

    Example: ``vecs = embed.ensure(db, ["late delivery"], embedder, "all-MiniLM-L6-v2")``
    """
    hashes = list(hashes) if hashes is not None else [content_hash(t) for t in texts]
    found = _fetch(db, hashes, model_id, model_only=model_only)
    todo: dict[str, str] = {}
    for h, t in zip(hashes, texts, strict=True):
        if h not in found and h not in todo:
            todo[h] = t
    if todo:
        if embedder is None and load is not None:
            embedder = load()
        if embedder is None:
            raise ValueError(
                f"{len(todo)} texts have no cached {model_id} embedding and no embedder was given"
            )
        keys = list(todo)
        # texts that differ only in what the model does not see (a document and its only
        # sentence, tweets that differ in the @handle) are encoded once: 5% of the tokens of
        # the 20k benchmark
        inputs = [embedding_text(todo[k]) for k in keys]
        distinct = {t: i for i, t in enumerate(dict.fromkeys(inputs))}
        vecs = _encode_inputs(embedder, list(distinct), batch_size=batch_size)
        vecs = vecs[[distinct[t] for t in inputs]]
        # what was stored is float16: the same rounding a later load() gives
        for k, v in zip(keys, put(db, keys, vecs, model_id), strict=True):
            found[k] = v
        if on_computed:
            on_computed(len(keys))
    if not hashes:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([found[h] for h in hashes])


def sentence_mean(vectors: np.ndarray, lengths: Sequence[int]) -> np.ndarray:
    """A document's vector from its sentences' unit ``vectors``: their mean weighted by each
    sentence's length in characters, normalised (a transformer's mean pooling weighs each
    sentence by its tokens alike)."""
    mean = np.asarray(lengths, dtype=np.float32) @ np.asarray(vectors, dtype=np.float32)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


def put(
    db: sqlite_utils.Database, hashes: Sequence[str], vectors: np.ndarray, model_id: str, source: str = "model"
) -> np.ndarray:
    """Store ``vectors`` under ``hashes`` (replacing what was there), made by ``source``
    (``model`` or ``sentences``); returns them as stored (float16-rounded, as a later
    :func:`load` gives them)."""
    rows = [(h, model_id, int(v.shape[0]), to_blob(v), source) for h, v in zip(hashes, vectors, strict=True)]
    with store.transaction(db):
        db.conn.executemany(
            "INSERT OR REPLACE INTO embeddings (content_hash, model, dim, vector, source) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
    return np.asarray(vectors, dtype=np.float32).astype("<f2").astype(np.float32)


def missing(db: sqlite_utils.Database, hashes: Sequence[str], model_id: str) -> list[str]:
    """The hashes among ``hashes`` that have no vector for ``model_id`` yet."""
    found = _fetch(db, hashes, model_id)
    return [h for h in dict.fromkeys(hashes) if h not in found]


#: name written into a distilled static model's folder; the sentiment model for it is keyed on it
STATIC_NAME = "minilm-static-v1"
STATIC_MARKER = "vocseg_static.json"
#: ``[models] embedding`` name of the static model that ships with vocseg, its file and family
BUILTIN_STATIC = "minilm-static"
BUILTIN_STATIC_FILE = "minilm-static-v2.npz"
BUILTIN_STATIC_FAMILY = "minilm-static-v2"
_SIF = 1e-4


def _sif_weights(vocab_size: int) -> np.ndarray:
    """model2vec's Zipf/SIF down-weighting of frequent tokens (ids in frequency order)."""
    inv_rank = 1.0 / np.arange(2, vocab_size + 2)
    proba = inv_rank / inv_rank.sum()
    return _SIF / (_SIF + proba)


def distilled_table(embedder: Any, *, batch_size: int = 1024, weighted: bool = True) -> np.ndarray:
    """One vector per vocabulary token of a transformer sentence embedder, offline: each token
    run through the transformer alone (``[CLS] tok [SEP]``, mean-pooled), centred, and (with
    ``weighted``) down-weighted for frequent tokens by :func:`_sif_weights`."""
    import torch

    transformer = embedder[0].auto_model
    tok = embedder.tokenizer
    vocab_size = int(transformer.config.vocab_size)
    cls_id, sep_id = tok.cls_token_id, tok.sep_token_id
    out = np.zeros((vocab_size, transformer.config.hidden_size), dtype=np.float32)
    transformer.eval()
    with torch.inference_mode():
        for start in range(0, vocab_size, batch_size):
            ids = torch.arange(start, min(start + batch_size, vocab_size))
            inp = torch.stack(
                [torch.full_like(ids, cls_id), ids, torch.full_like(ids, sep_id)], dim=1
            )
            hidden = transformer(
                input_ids=inp, attention_mask=torch.ones_like(inp)
            ).last_hidden_state
            out[start : start + len(ids)] = hidden.mean(dim=1).numpy()
    centred = out - out.mean(axis=0, keepdims=True)
    return centred * _sif_weights(vocab_size)[:, None] if weighted else centred


def _pca(table: np.ndarray, dims: int) -> np.ndarray:
    """``table`` centred and rotated onto its first ``dims`` principal axes (signs fixed, so the
    result is deterministic)."""
    centred = table - table.mean(axis=0, keepdims=True)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    comps = vt[:dims]
    comps *= np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(axis=1)])[:, None]
    return centred @ comps.T


def distill(embedder: Any, out_dir: str, *, dims: int = 256, batch_size: int = 1024) -> dict:
    """Distil a static (model2vec-style) embedding model from a transformer sentence embedder, offline.

    :func:`distilled_table` reduced by PCA to ``dims`` dimensions, saved as a
    sentence-transformers folder that ``[models] embedding = "<out_dir>"`` loads; it embeds
    50-100x faster than MiniLM. For MiniLM itself prefer the packaged, trained
    ``minilm-static`` (much closer to MiniLM; see vocseg/data/STATIC_CARD.md).

    Example: ``embed.distill(models.load_embedder(ModelsConfig()), "models/minilm-static")``
    """
    import json
    from pathlib import Path

    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, StaticEmbedding

    centred = distilled_table(embedder, batch_size=batch_size, weighted=False)
    reduced = _pca(centred, dims) * _sif_weights(centred.shape[0])[:, None]
    static = StaticEmbedding(embedder.tokenizer, embedding_weights=reduced.astype(np.float32))
    model = SentenceTransformer(modules=[static, Normalize()], device="cpu")
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    model.save(out_dir)
    info = {"name": STATIC_NAME, "dims": dims, "sif": _SIF, "vocab": int(reduced.shape[0])}
    (Path(out_dir) / STATIC_MARKER).write_text(json.dumps(info, indent=2), encoding="utf-8")
    return info


def write_static_table(
    table: np.ndarray, base: np.ndarray, path: Any, *, meta: dict, bits: int = 5
) -> None:
    """Save a trained token table for :func:`static_table` as what training changed: the rows
    that differ from ``base`` (the :func:`distilled_table` it started from, which anyone with
    MiniLM can rebuild), each rounded to ``bits`` bits with a float16 scale (5 bits keep the
    cosine to MiniLM at 0.852 against 0.854 unrounded; see STATIC_CARD.md)."""
    import json

    changed = np.flatnonzero(np.abs(table - base).max(axis=1) > 1e-6)
    rows = table[changed]
    scale = np.abs(rows).max(axis=1) / (2 ** (bits - 1) - 1)
    scale[scale == 0] = 1.0
    np.savez_compressed(
        path,
        ids=changed.astype(np.int32),
        q=np.round(rows / scale[:, None]).astype(np.int8),
        scale=scale.astype(np.float16),
        meta=np.array(json.dumps(meta)),
    )


def static_table(path: Any, base: np.ndarray) -> np.ndarray:
    """The full token table of a file written by :func:`write_static_table` over its ``base``."""
    table = np.array(base, dtype=np.float32)
    with np.load(path) as z:
        table[z["ids"]] = z["q"].astype(np.float32) * z["scale"].astype(np.float32)[:, None]
    return table


def static_model(table: np.ndarray, tokenizer_dir: str) -> Any:
    """A model2vec ``StaticModel`` of ``table`` over MiniLM's tokenizer (``tokenizer_dir``),
    L2-normalised, no truncation. model2vec is numpy only (no torch or transformers import),
    and BERTopic takes it as its embedding model."""
    from pathlib import Path

    from model2vec import StaticModel
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(tokenizer_dir) / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return StaticModel(np.asarray(table, dtype=np.float32), tok, normalize=True, max_length=None)


def model_family(embedding: str) -> str:
    """The family the sentiment model and needs thresholds are keyed on, for an ``[models]
    embedding`` value: ``minilm-static-v2`` for the packaged ``minilm-static``,
    ``minilm-static-v1`` for a folder made by :func:`distill`, else the value."""
    import json
    from pathlib import Path

    from vocseg.models import embedding_location

    if embedding == BUILTIN_STATIC:
        return BUILTIN_STATIC_FAMILY
    marker = Path(embedding_location(embedding)) / STATIC_MARKER
    if marker.is_file():
        try:
            return str(json.loads(marker.read_text(encoding="utf-8"))["name"])
        except (ValueError, KeyError):
            return embedding
    return embedding
