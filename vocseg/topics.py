"""Topics: BERTopic on the cached sentence embeddings, with VoC defaults and stable ids.

BERTopic is called inside these functions, never subclassed or kept as a central object.
What a user relies on lives in the store (``topics``, ``document_topics``...); the fitted
model is saved beside the store (``<store>.topics/model-<run>/``, BERTopic's safetensors
format, the embedding model referenced by name, no pickle) only so that ``update`` can
assign new documents without refitting.

VoC defaults: @handles and links are dropped before embedding and counting words (they say
whom a post is addressed to, not what it is about); stop words and 1-2 word phrases in the
vectorizer; KeyBERT-like keywords re-ranked by MMR; 2-4 word labels without stop words; a
minimum topic size that grows with the corpus; outliers re-assigned to the nearest topic
centroid when similar enough; seeded UMAP so that a rerun gives the same topics.

Example::

    from vocseg import config, store, topics
    db = store.open("vocseg.db"); cfg = config.load()
    topics.fit(db, cfg)               # first time
    topics.update(db, cfg)            # new documents, same model
    topics.fit(db, cfg, refit=True)   # refit; ids and renamed labels survive
"""

from __future__ import annotations

import functools
import json
import logging
import shutil
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sqlite_utils
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from vocseg import models, store
from vocseg.config import Config, TopicsConfig
from vocseg.errors import Errors, StageOrderError, StoreError, UsageError

ProgressFn = Callable[[int, int | None], None]

MIN_DOCUMENTS = 20
#: words that carry no topic in customer text, on top of scikit-learn's English list
VOC_STOP_WORDS = frozenset(
    ["im", "ive", "id", "ill", "dont", "didnt", "doesnt", "cant", "couldnt", "wont", "wouldnt", "isnt", "wasnt", "arent", "werent", "hasnt", "havent", "youre", "theyre", "thats", "theres", "whats", "lets", "just", "really", "get", "got", "getting", "like", "would", "also", "even", "still", "one", "thing", "things", "know", "want", "need", "make", "made", "going", "gonna", "wanna", "ok", "okay", "yes", "yeah", "thanks", "thank", "thx", "pls", "please", "hi", "hello", "hey", "amp", "http", "https", "www", "com", "rt", "via", "lol", "oh", "ve", "ll", "re", "don", "didn", "doesn", "isn", "wasn", "aren", "weren", "hasn", "haven", "wouldn", "couldn", "shouldn", "won", "ain"]
)
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | VOC_STOP_WORDS
TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W\d_']+\b"


def topic_text(text: str) -> str:
    """The text topics see: what the embedding model sees (no @handles, links or HTML entities)."""
    from vocseg.enrich.embed import embedding_text

    return embedding_text(text)


def _preprocess(text: str) -> str:
    return topic_text(text).lower()


def min_topic_size(n: int, cfg: TopicsConfig) -> int:
    """``cfg.min_size``, else half the square root of the corpus size, kept within [10, 150].

    Square-root growth keeps topics readable: ~15 for a thousand documents, ~50 for ten
    thousand, where a fixed size would split small corpora into fragments of one theme.
    """
    if cfg.min_size > 0:
        return cfg.min_size
    return int(min(150, max(10, round(0.5 * n**0.5))))


def make_label(keywords: Sequence[str], stop_words: frozenset[str] = STOP_WORDS) -> str:
    """A readable 2-4 word label from ranked keywords, with no stop words or near-repeats."""
    words: list[str] = []
    groups: list[list[str]] = []
    for kw in keywords:
        toks = [t for t in kw.split() if t.lower() not in stop_words and len(t) > 1]
        new = [t for t in toks if not any(_same_stem(t, w) for w in words)]
        if not new or len(words) + len(new) > 4:
            continue
        words.extend(new)
        groups.append(new)
        if len(words) >= 3:
            break
    return ", ".join(" ".join(g) for g in groups)


def _same_stem(a: str, b: str) -> bool:
    a, b = a.lower(), b.lower()
    n = min(len(a), len(b), 5)
    return a == b or (n >= 4 and a[:n] == b[:n])


# --- the model (pure: data in, data out) ------------------------------------------------


@dataclass
class FitResult:
    """A fitted BERTopic model and what vocseg keeps of it."""

    model: Any  # bertopic.BERTopic
    model_topics: np.ndarray  # model topic per document (-1: unassigned)
    similarity: np.ndarray  # cosine similarity of each document to its topic's centroid
    keywords: dict[int, list[str]]  # model topic -> ranked keywords
    centroids: dict[int, np.ndarray]  # model topic -> mean unit embedding of its documents
    min_size: int


def _normalize(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1, norms)


#: below this many fitted documents vocseg hands UMAP the exact neighbours (:func:`exact_neighbours`).
#: UMAP would find them itself below 4,096 points by calling its numba cosine from Python once
#: per pair (3,000 documents: 4.5 million calls, 18 s of a 31 s fit); above that its approximate
#: search (pynndescent) JIT-compiles functions that numba cannot cache, 11 s in every new
#: process on two cores. The matrix products take 0.85 s for 12,000 documents, 2.3 s for
#: 20,000 and 5.1 s for 30,000.
UMAP_EXACT_BELOW = 30_000


def exact_neighbours(
    unit: np.ndarray, k: int, block: int = 512, sample: int = 2048
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest rows to each row of L2-normalised ``unit`` by cosine distance (the row
    itself first, at distance 0) and their distances, by matrix products: the neighbours UMAP
    would search for, handed to it as ``precomputed_knn`` below :data:`UMAP_EXACT_BELOW`
    documents. ``block`` rows at a time, so memory stays at block x n.

    A row's ``k``-th highest similarity among ``sample`` columns spread over the matrix is at
    most its ``k``-th highest among all, so only the columns at or above it (about 130 of
    20,000 on the benchmark) are sorted; a full ``argpartition`` of every row took twice as
    long. Equal distances are ordered by row number.
    """
    n = len(unit)
    idx = np.empty((n, k), dtype=np.int64)
    near = np.empty((n, k), dtype=np.float32)
    stride = max(1, n // max(sample, k))
    for lo in range(0, n, block):
        sim = unit[lo : lo + block] @ unit.T
        rows = np.arange(len(sim))
        sim[rows, lo + rows] = 2.0  # above any cosine: each row's own column first
        spread = sim[:, ::stride]
        floor = np.partition(spread, spread.shape[1] - k, axis=1)[:, spread.shape[1] - k]
        flat = np.flatnonzero(sim >= floor[:, None])  # row-major: columns ascending per row
        row = flat // n
        # by row, then similarity (highest first), then column (a stable sort keeps that order)
        order = flat[np.argsort(row * 4.0 + (2.0 - sim.ravel()[flat]), kind="stable")]
        best = order[(np.searchsorted(row, rows)[:, None] + np.arange(k)).ravel()].reshape(-1, k) % n
        idx[lo : lo + block] = best
        near[lo : lo + block] = np.maximum(1.0 - np.take_along_axis(sim, best, axis=1), 0.0)
    return idx, near


def keep_compiled_umap() -> int:
    """Let numba keep UMAP's and pynndescent's compiled code on disk between runs; returns
    how many functions this switched on.

    Both libraries JIT-compile their functions in every new process, and mark only some of
    them for numba's cache: compiling the rest was 25-30 s of a 20,000-document fit on two
    cores. ``Dispatcher.enable_caching`` (what ``@njit(cache=True)`` does) makes later runs
    load them from the cache that those libraries' own cached functions use (``__pycache__``
    beside them, else numba's user-wide cache); numba checks their source files and its own
    version before reusing anything. A few functions numba cannot cache (they hold ctypes
    pointers) still compile each time; its warning about them is silenced. Where no cache
    location is writable, everything compiles as before.
    """
    import sys
    import warnings

    import umap  # noqa: F401 - loads the modules whose functions are switched here
    from numba.core.caching import NullCache
    from numba.core.dispatcher import Dispatcher
    from numba.core.errors import NumbaWarning

    warnings.filterwarnings("ignore", message="Cannot cache compiled function", category=NumbaWarning)
    switched = 0
    for name, module in list(sys.modules.items()):
        if not name.startswith(("umap.", "pynndescent.")) or module is None:
            continue
        for obj in list(vars(module).values()):
            if isinstance(obj, Dispatcher) and isinstance(obj._cache, NullCache):
                try:
                    obj.enable_caching()
                except RuntimeError:  # no writable cache location: compile as before
                    return switched
                switched += 1
    return switched


def build_model(n: int, cfg: TopicsConfig, embedder: Any):
    """A BERTopic configured with vocseg's VoC defaults for a corpus of ``n`` documents."""
    models.import_bertopic(embedder)  # without PyTorch where the embedder does without it
    from bertopic import BERTopic
    from bertopic.representation import KeyBERTInspired, MaximalMarginalRelevance
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.feature_extraction.text import CountVectorizer
    from umap import UMAP

    keep_compiled_umap()

    size = min_topic_size(n, cfg)
    stop = sorted(STOP_WORDS | {w.lower() for w in cfg.stop_words})
    if cfg.representation not in ("keybert", "mmr"):
        raise UsageError(
            Errors.E307.format(what="topics.representation", value=cfg.representation,
                               reason="use keybert or mmr"), code="E307")
    # fewer candidate words than KeyBERTInspired's 100: each is embedded, and 40 keep the labels
    representation = (
        KeyBERTInspired(top_n_words=cfg.top_n_words, nr_candidate_words=40, nr_samples=250,
                        nr_repr_docs=5, random_state=cfg.seed)
        if cfg.representation == "keybert"
        else MaximalMarginalRelevance(diversity=0.3, top_n_words=cfg.top_n_words)
    )
    return BERTopic(
        embedding_model=_bertopic_backend(embedder),
        # seeded UMAP: deterministic (single-threaded), so a rerun gives the same topics
        umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                        random_state=cfg.seed, low_memory=True),
        hdbscan_model=_capped_hdbscan()(min_cluster_size=size, min_samples=min(size, 5), metric="euclidean",
                                        cluster_selection_method=cfg.cluster_selection,
                                        max_cluster_size=max_topic_size(n, cfg), prediction_data=False),
        vectorizer_model=CountVectorizer(stop_words=stop, ngram_range=(1, cfg.ngram_max),
                                         token_pattern=TOKEN_PATTERN, preprocessor=_preprocess,
                                         max_features=50_000),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        representation_model=representation,
        top_n_words=cfg.top_n_words,
        calculate_probabilities=False,
        verbose=False,
    )


def _bertopic_backend(embedder: Any) -> Any:
    """What BERTopic gets as its embedding model: ``embedder`` itself where BERTopic knows its
    kind (sentence-transformers, model2vec), else a BERTopic backend that calls its ``encode``
    (a model on OpenVINO)."""
    from vocseg.enrich.ov_backend import OpenVINOEmbedder

    if not isinstance(embedder, OpenVINOEmbedder):
        return embedder
    return _encode_backend()(embedding_model=embedder)


@functools.cache
def _encode_backend() -> type:
    """BERTopic's ``BaseEmbedder`` over any model with sentence-transformers' ``encode``; one
    class (a class made per call would hold the model in a reference cycle until a collection)."""
    from bertopic.backend import BaseEmbedder

    class EncodeBackend(BaseEmbedder):
        def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:
            return self.embedding_model.encode(list(documents), normalize_embeddings=True)

    return EncodeBackend


def max_topic_size(n: int, cfg: TopicsConfig) -> int:
    """The most documents HDBSCAN may select as one topic out of ``n`` (``[topics]
    max_topic_share``; 0: no limit). eom otherwise sometimes keeps a few broad clusters near the
    root of its tree: on the 20k benchmark it gave 4 topics, the largest 44% of the documents,
    where a share of 0.25 gave 34-41 topics at a higher NMI against the gold labels."""
    if cfg.max_topic_share <= 0:
        return 0
    return max(min_topic_size(n, cfg) + 1, int(cfg.max_topic_share * n))


def leaf_cluster_sizes(tree: np.ndarray) -> np.ndarray:
    """Sizes of the clusters with no sub-clusters in an HDBSCAN condensed tree (``to_numpy()``)."""
    clusters = tree[tree["child_size"] > 1]
    parents = set(clusters["parent"].tolist())
    return np.array([size for child, size in zip(clusters["child"].tolist(), clusters["child_size"].tolist(),
                                                  strict=True) if child not in parents], dtype=np.int64)


@functools.cache
def _capped_hdbscan() -> type:
    """HDBSCAN whose size cap (``max_cluster_size``, from :func:`max_topic_size`) only splits
    clusters that have sub-clusters to split into.

    HDBSCAN leaves a cluster over the cap unselected; when that cluster has no sub-clusters in
    the condensed tree, all its documents become noise, and a theme that really is that large
    (a corpus that is mostly one complaint) would be lost. The tree does not depend on the cap,
    so after a fit that left such a leaf unselected the cap is raised to the largest leaf and
    the clusters selected again; the clusters it did split stay split."""
    from hdbscan import HDBSCAN

    class CappedHDBSCAN(HDBSCAN):
        def fit(self, X: Any, y: Any = None) -> Any:
            super().fit(X, y)
            cap = self.max_cluster_size
            if cap and self.cluster_selection_method == "eom":
                leaves = leaf_cluster_sizes(self.condensed_tree_.to_numpy())
                if leaves.size and leaves.max() > cap:
                    self.max_cluster_size = int(leaves.max())
                    try:
                        super().fit(X, y)
                    finally:
                        self.max_cluster_size = cap
            return self

    return CappedHDBSCAN


def fit_sample_indices(n: int, cfg: TopicsConfig) -> np.ndarray | None:
    """Sorted indices of the seeded random sample a corpus of ``n`` documents is fitted on,
    or ``None`` when it is fitted whole (``cfg.fit_sample`` is 0 or at least ``n``)."""
    if cfg.fit_sample <= 0 or n <= cfg.fit_sample:
        return None
    rng = np.random.default_rng(cfg.seed)
    return np.sort(rng.choice(n, size=cfg.fit_sample, replace=False))


def _centroids(unit: np.ndarray, raw: np.ndarray) -> dict[int, np.ndarray]:
    """Model topic -> mean unit embedding of its documents (``-1`` left out)."""
    return {int(k): unit[raw == k].mean(axis=0) for k in np.unique(raw) if k >= 0}


def nearest_centroid(unit: np.ndarray, centroids: dict[int, np.ndarray], rows: np.ndarray | None = None,
                     chunk: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``rows`` of ``unit`` (L2-normalised embeddings; all rows when None): the id
    of the most cosine-similar of ``centroids`` (not empty) and that similarity. In chunks, so
    memory stays at chunk x topics."""
    rows = np.arange(len(unit)) if rows is None else rows
    ids = np.array(sorted(centroids))
    cent = _normalize(np.stack([centroids[k] for k in ids]))
    best = np.empty(len(rows), dtype=ids.dtype)
    top = np.empty(len(rows), dtype=np.float32)
    for lo in range(0, len(rows), chunk):
        sims = unit[rows[lo : lo + chunk]] @ cent.T
        j = np.argmax(sims, axis=1)
        best[lo : lo + chunk] = ids[j]
        top[lo : lo + chunk] = sims[np.arange(len(j)), j]
    return best, top


def _assign_rest(unit: np.ndarray, sample: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """Topics for all documents: ``raw`` for the fitted ``sample``, the nearest of the sample's
    topic centroids for the others."""
    full = np.full(len(unit), -1, dtype=raw.dtype)
    full[sample] = raw
    seeds = _centroids(unit[sample], raw)
    if seeds:
        rest = np.setdiff1d(np.arange(len(unit)), sample)
        full[rest] = nearest_centroid(unit, seeds, rest)[0]
    return full


def fit_texts(texts: Sequence[str], embeddings: np.ndarray, cfg: TopicsConfig, embedder: Any) -> FitResult:
    """Fit topics on ``texts`` and their (n, dim) ``embeddings``; re-assign outliers.

    Outliers (HDBSCAN's -1) join the topic with the most similar centroid; a document
    whose similarity to every centroid is below ``cfg.threshold`` stays unassigned.

    Example: ``fit_texts(texts, embedder.encode(texts), TopicsConfig(), embedder).model_topics``
    """
    n = len(texts)
    unit = _normalize(np.asarray(embeddings, dtype=np.float32))
    # a large store is fitted on a seeded sample (UMAP's time and memory grow faster than n);
    # the other documents are assigned to the sample's topics by nearest centroid below
    sample = fit_sample_indices(n, cfg)
    docs = [topic_text(texts[i]) for i in (range(n) if sample is None else sample)]
    fit_emb = embeddings if sample is None else np.asarray(embeddings)[sample]
    model = build_model(len(docs), cfg, embedder)
    if 2 * model.umap_model.n_neighbors < len(docs) < UMAP_EXACT_BELOW:
        # exact neighbours by matrix products, faster here than UMAP's own search (see the constant)
        fit_unit = unit if sample is None else unit[sample]
        model.umap_model.precomputed_knn = (*exact_neighbours(fit_unit, model.umap_model.n_neighbors), None)
    # keywords are computed once, below, on the topics after outlier reduction
    representation, model.representation_model = model.representation_model, None
    with warnings.catch_warnings():  # seeded UMAP is single-threaded by design: no need to say so
        warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
        # nor that transform() needs a search index: topics update assigns by centroid instead
        warnings.filterwarnings("ignore", message="precomputed_knn.2.", category=UserWarning)
        raw = np.asarray(model.fit_transform(docs, embeddings=fit_emb)[0])
    if (raw >= 0).any() and (raw == -1).any():
        # every outlier to its nearest topic embedding (HDBSCAN members' centroid); our
        # threshold below decides who stays unassigned
        raw = np.asarray(model.reduce_outliers(docs, raw.tolist(), strategy="embeddings",
                                               embeddings=fit_emb, threshold=0.0))
    quiet = logging.getLogger("BERTopic")
    level, quiet.level = quiet.level, logging.ERROR  # its warning about custom topic lists is
    try:  # about topic reduction afterwards, which vocseg never does
        model.update_topics(docs, topics=raw.tolist(), top_n_words=cfg.top_n_words,
                            vectorizer_model=model.vectorizer_model, ctfidf_model=model.ctfidf_model,
                            representation_model=representation)
    finally:
        quiet.level = level
    if sample is not None:
        raw = _assign_rest(unit, sample, raw)
    centroids = _centroids(unit, raw)
    if centroids and sorted(centroids) == list(range(len(centroids))):
        # BERTopic's update_topics keeps the outlier row in topic_embeddings_ once -1 is gone
        # (it compares topics after overwriting them), which shifts transform() by one topic;
        # the saved model gets the centroids vocseg assigns by instead
        model.topic_embeddings_ = np.stack([centroids[k] for k in range(len(centroids))])
    sim = np.zeros(n, dtype=np.float32)
    for k, c in centroids.items():
        mask = raw == k
        sim[mask] = unit[mask] @ (c / (np.linalg.norm(c) or 1.0))
    assigned = np.where((raw >= 0) & (sim >= cfg.threshold), raw, -1)
    keywords = {
        int(k): [w for w, _ in model.get_topic(int(k)) or [] if w] for k in centroids
    }
    return FitResult(model, assigned, sim, keywords, centroids, min_topic_size(len(docs), cfg))


def match_topics(old: dict[int, np.ndarray], new: dict[int, np.ndarray], threshold: float) -> dict[int, int]:
    """Map new model topics to old topic ids, one to one, by centroid cosine similarity."""
    from scipy.optimize import linear_sum_assignment

    if not old or not new:
        return {}
    old_ids, new_ids = list(old), list(new)
    a = _normalize(np.stack([old[i] for i in old_ids]))
    b = _normalize(np.stack([new[i] for i in new_ids]))
    sim = b @ a.T
    rows, cols = linear_sum_assignment(-sim)
    return {new_ids[r]: old_ids[c] for r, c in zip(rows, cols) if sim[r, c] >= threshold}


# --- the store (IO at the edges) ------------------------------------------------------


def model_root(db: sqlite_utils.Database) -> Path:
    """Folder beside the store holding saved topic models (``vocseg.db`` -> ``vocseg.db.topics``)."""
    path = Path(str(getattr(db, "path", "vocseg.db")))
    return path.with_name(path.name + ".topics")


def current_model(db: sqlite_utils.Database) -> dict[str, Any] | None:
    row = db.execute(
        "SELECT * FROM topic_models WHERE is_current = 1 ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        return None
    cols = [c[0] for c in db.execute("SELECT * FROM topic_models LIMIT 0").description]
    return dict(zip(cols, row))


def _customer_documents(db: sqlite_utils.Database, where: str = "", args: Sequence[Any] = ()) -> list[tuple]:
    sql = ("SELECT d.id, d.text, d.content_hash FROM documents d "
           "LEFT JOIN document_topics dt ON dt.document_id = d.id "
           f"WHERE d.role IS NOT 'agent' {where} ORDER BY d.id")
    return db.execute(sql, list(args)).fetchall()


def embeddings(db: sqlite_utils.Database, texts: Sequence[str], embedder: Any, model_id: str, *,
               load: Callable[[], Any] | None = None) -> np.ndarray:
    """Embeddings of documents' ``texts`` (float32, input order), from the enrich cache
    (computed and cached there if missing, with ``embedder`` or what ``load`` returns);
    the vectors are of :func:`topic_text`."""
    from vocseg.enrich import embed

    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    return np.asarray(embed.ensure(db, list(texts), embedder, model_id, load=load), dtype=np.float32)


def fit(db: sqlite_utils.Database, cfg: Config, *, refit: bool = False, embedder: Any = None,
        progress: ProgressFn | None = None) -> dict[str, Any]:
    """Fit topics over the customer documents and write the topic tables.

    With ``refit`` an existing model is replaced; new topics whose centroid matches an
    old topic's keep its id and any label given with ``rename``.

    Example: ``topics.fit(db, config.load())["topics"]``
    """
    started = time.monotonic()
    previous = current_model(db)
    if previous and not refit:
        raise UsageError(Errors.E301.format(model_id=previous["id"], created_at=previous["created_at"]),
                         code="E301")
    rows = _customer_documents(db)
    if len(rows) < MIN_DOCUMENTS:
        raise StageOrderError(Errors.E302.format(n=len(rows), need=MIN_DOCUMENTS), code="E302")
    progress = progress or (lambda advance, total=None: None)
    progress(0, 4)
    with store.run(db, "topics fit", {"refit": refit}) as counts:
        embedder = embedder or models.load_embedder(cfg.models)
        texts = [r[1] for r in rows]
        emb = embeddings(db, texts, embedder, models.embedding_model_id(cfg.models))
        progress(1, None)
        result = fit_texts(texts, emb, cfg.topics, embedder)
        progress(1, None)
        folder = model_root(db) / f"model-{counts['run_id']}"
        _save(result.model, folder, cfg)
        progress(1, None)
        old = _old_centroids(db) if previous else {}
        mapping = match_topics(old, result.centroids, cfg.topics.match_threshold)
        written = _write_fit(db, cfg, rows, result, mapping, folder, counts["run_id"])
        progress(1, None)
        counts.update(written, seconds=round(time.monotonic() - started, 1))
    _prune_models(db)
    return dict(counts)


def _save(model: Any, folder: Path, cfg: Config) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    # scikit-learn >= 1.6 keeps numpy ints in vocabulary_, which BERTopic's JSON config cannot hold
    vec = model.vectorizer_model
    vec.vocabulary_ = {str(k): int(v) for k, v in vec.vocabulary_.items()}
    try:
        # no embedding-model name in BERTopic's config: its loader would try to fetch that name
        # from the hub before taking the embedder we pass (vocseg never goes online); the name
        # is kept in topic_models.embedding_model instead
        model.save(str(tmp), serialization="safetensors", save_ctfidf=True,
                   save_embedding_model=False)
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    except OSError as exc:
        raise StoreError(Errors.E308.format(path=folder, reason=exc), code="E308") from None


def _prune_models(db: sqlite_utils.Database, keep: int = 2) -> None:
    """Delete saved model folders other than the newest ``keep`` (tables keep their history)."""
    root = model_root(db)
    paths = [r[0] for r in db.execute("SELECT path FROM topic_models ORDER BY id DESC")]
    for p in paths[keep:]:
        shutil.rmtree(root / p, ignore_errors=True)


def _old_centroids(db: sqlite_utils.Database) -> dict[int, np.ndarray]:
    rows = db.execute("SELECT id, centroid FROM topics WHERE is_active = 1 AND centroid IS NOT NULL")
    return {int(i): np.frombuffer(b, dtype="<f4").copy() for i, b in rows}


def _write_fit(db: sqlite_utils.Database, cfg: Config, rows: list[tuple], result: FitResult,
               mapping: dict[int, int], folder: Path, run_id: int) -> dict[str, Any]:
    now = store.now()
    conn = db.conn
    sizes = {k: int((result.model_topics == k).sum()) for k in result.centroids}
    with store.transaction(db):
        conn.execute("UPDATE topic_models SET is_current = 0")
        model_id = conn.execute(
            "INSERT INTO topic_models (run_id, created_at, path, embedding_model, n_documents, "
            "min_size, threshold, params, is_current) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
            [run_id, now, folder.name, cfg.models.embedding, len(rows), result.min_size,
             cfg.topics.threshold, json.dumps({"seed": cfg.topics.seed,
                                               "representation": cfg.topics.representation})],
        ).lastrowid
        # topics no new topic matched are kept for history but inactive
        conn.execute(
            f"UPDATE topics SET is_active = 0, size = 0, updated_at = ? WHERE is_active = 1 "
            f"AND id NOT IN ({','.join('?' * len(mapping))})", [now, *mapping.values()])
        topic_of: dict[int, int] = {}
        for k in sorted(result.centroids, key=lambda k: -sizes[k]):
            kws = result.keywords.get(k, [])
            label = make_label(kws) or f"topic {k}"
            blob = result.centroids[k].astype("<f4").tobytes()
            if k in mapping:
                tid = mapping[k]
                conn.execute(
                    "UPDATE topics SET label = CASE WHEN is_custom_label = 1 THEN label ELSE ? END, "
                    "keywords = ?, size = ?, centroid = ?, model_id = ?, is_active = 1, "
                    "merged_into = NULL, updated_at = ? WHERE id = ?",
                    [label, json.dumps(kws), sizes[k], blob, model_id, now, tid])
            else:
                tid = conn.execute(
                    "INSERT INTO topics (label, keywords, size, centroid, model_id, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [label, json.dumps(kws), sizes[k], blob, model_id, now, now]).lastrowid
            topic_of[k] = int(tid)
            conn.execute("INSERT INTO topic_model_topics (model_id, model_topic, topic_id) "
                         "VALUES (?, ?, ?)", [model_id, k, tid])
        assigned = [
            (r[0], topic_of.get(int(k)), float(s), r[2], model_id, run_id, now)
            for r, k, s in zip(rows, result.model_topics, result.similarity)
        ]
        conn.executemany(
            "INSERT OR REPLACE INTO document_topics (document_id, topic_id, similarity, "
            "content_hash, model_id, run_id, assigned_at) VALUES (?, ?, ?, ?, ?, ?, ?)", assigned)
        _refresh_topics(db, list(topic_of.values()))
    unassigned = int((result.model_topics < 0).sum())
    return {"model_id": model_id, "documents": len(rows), "topics": len(topic_of),
            "kept_ids": len(mapping), "new_topics": len(topic_of) - len(mapping),
            "unassigned": unassigned, "unassigned_share": round(unassigned / len(rows), 4),
            "min_size": result.min_size}


def _refresh_topics(db: sqlite_utils.Database, topic_ids: list[int], n_repr: int = 5) -> None:
    """Recount sizes, pick representative documents and map each topic to a need."""
    conn = db.conn
    needs = _topic_needs(db)
    for tid in topic_ids:
        size = conn.execute("SELECT COUNT(*) FROM document_topics WHERE topic_id = ?", [tid]).fetchone()[0]
        need, share = needs.get(tid, (None, None))
        conn.execute("UPDATE topics SET size = ?, need = ?, need_share = ? WHERE id = ?",
                     [size, need, share, tid])
        conn.execute("DELETE FROM topic_representatives WHERE topic_id = ?", [tid])
        best = conn.execute(
            "SELECT dt.document_id, dt.similarity, d.content_hash FROM document_topics dt "
            "JOIN documents d ON d.id = dt.document_id WHERE dt.topic_id = ? "
            "ORDER BY dt.similarity DESC, dt.document_id LIMIT ?", [tid, n_repr * 4]).fetchall()
        seen: set[str] = set()
        for doc_id, sim, h in best:
            if h in seen:
                continue
            seen.add(h)
            conn.execute("INSERT INTO topic_representatives (topic_id, document_id, rank, similarity) "
                         "VALUES (?, ?, ?, ?)", [tid, doc_id, len(seen), sim])
            if len(seen) >= n_repr:
                break


def _topic_needs(db: sqlite_utils.Database, min_share: float = 0.3, min_lift: float = 1.5) -> dict[int, tuple[str, float]]:
    """Topic -> (need, share of its documents expressing it), where one need clearly fits."""
    if "document_needs" not in db.table_names():
        return {}
    rows = db.execute(
        "SELECT dt.topic_id, dn.need, COUNT(DISTINCT dn.document_id) FROM document_needs dn "
        "JOIN document_topics dt ON dt.document_id = dn.document_id "
        "WHERE dn.weight > 0 GROUP BY dt.topic_id, dn.need").fetchall()
    sizes = dict(db.execute("SELECT topic_id, COUNT(*) FROM document_topics GROUP BY topic_id").fetchall())
    total = sum(sizes.values()) or 1
    overall: dict[str, int] = {}
    for _, need, n in rows:
        overall[need] = overall.get(need, 0) + n
    best: dict[int, tuple[str, float]] = {}
    for tid, need, n in rows:
        if tid is None or not sizes.get(tid):
            continue
        share = n / sizes[tid]
        lift = share / (overall[need] / total)
        if share >= min_share and lift >= min_lift and share > best.get(tid, ("", 0.0))[1]:
            best[tid] = (need, round(share, 3))
    return best


def load_model(db: sqlite_utils.Database, embedder: Any) -> tuple[Any, dict[str, Any]]:
    """The current saved BERTopic model (loaded offline with ``embedder``) and its row."""
    models.import_bertopic(embedder)
    from bertopic import BERTopic

    row = current_model(db)
    if row is None:
        raise StageOrderError(Errors.E303.format(path=getattr(db, "path", "?")), code="E303")
    path = model_root(db) / row["path"]
    try:
        return BERTopic.load(str(path), embedding_model=_bertopic_backend(embedder)), row
    except Exception as exc:  # noqa: BLE001 - any loader failure becomes one actionable line
        raise StoreError(Errors.E304.format(path=path, reason=str(exc).splitlines()[0][:200]),
                         code="E304") from None


def pending(db: sqlite_utils.Database) -> int:
    """Customer documents not yet assigned (new, or changed since they were)."""
    return db.execute(
        "SELECT COUNT(*) FROM documents d LEFT JOIN document_topics dt ON dt.document_id = d.id "
        "WHERE d.role IS NOT 'agent' AND (dt.document_id IS NULL OR dt.content_hash != d.content_hash)"
    ).fetchone()[0]


def update(db: sqlite_utils.Database, cfg: Config, *, embedder: Any = None,
           progress: ProgressFn | None = None) -> dict[str, Any]:
    """Assign new or changed documents to the current topics, without refitting.

    Each joins the active topic with the most similar centroid, or none below the model's
    threshold: what the saved BERTopic's ``transform`` computes (its topic embeddings are
    these centroids), without importing BERTopic and loading it, which took most of a
    small update's time. The embedder is loaded only if a text has no cached embedding.

    Example: ``topics.update(db, config.load())["assigned"]``
    """
    started = time.monotonic()
    row = current_model(db)
    if row is None:
        raise StageOrderError(Errors.E303.format(path=getattr(db, "path", "?")), code="E303")
    rows = _customer_documents(
        db, "AND (dt.document_id IS NULL OR dt.content_hash != d.content_hash)")
    if not rows:
        return {"documents": 0, "assigned": 0, "unassigned": 0, "model_id": row["id"]}
    progress = progress or (lambda advance, total=None: None)
    progress(0, len(rows))
    with store.run(db, "topics update") as counts:
        emb = embeddings(db, [r[1] for r in rows], embedder, models.embedding_model_id(cfg.models),
                         load=lambda: models.load_embedder(cfg.models))
        topic, sim = nearest_topics(_old_centroids(db), emb, row["threshold"])
        now = store.now()
        out = [(r[0], t, s, r[2], row["id"], counts["run_id"], now) for r, t, s in zip(rows, topic, sim)]
        with store.transaction(db):
            db.conn.executemany(
                "INSERT OR REPLACE INTO document_topics (document_id, topic_id, similarity, "
                "content_hash, model_id, run_id, assigned_at) VALUES (?, ?, ?, ?, ?, ?, ?)", out)
            _refresh_topics(db, [t for (t,) in db.execute("SELECT id FROM topics WHERE is_active = 1")])
        progress(len(rows), None)
        n_un = sum(1 for o in out if o[1] is None)
        counts.update(model_id=row["id"], documents=len(rows), assigned=len(rows) - n_un,
                      unassigned=n_un, seconds=round(time.monotonic() - started, 1))
    return dict(counts)


def nearest_topics(centroids: dict[int, np.ndarray], emb: np.ndarray,
                   threshold: float) -> tuple[list[int | None], list[float]]:
    """For each row of ``emb``: the topic id of the most cosine-similar centroid (None when
    below ``threshold`` or there is no centroid) and that similarity."""
    if not centroids or not len(emb):
        return [None] * len(emb), [0.0] * len(emb)
    best, top = nearest_centroid(_normalize(emb), centroids)
    return ([int(b) if s >= threshold else None for b, s in zip(best.tolist(), top.tolist())],
            [float(s) for s in top.tolist()])


def list_topics(db: sqlite_utils.Database, *, all: bool = False) -> list[dict[str, Any]]:
    """Active topics (``all``: merged and retired ones too), largest first, with quotes ids.

    Example: ``[t["label"] for t in topics.list_topics(db)]``
    """
    where = "" if all else "WHERE t.is_active = 1"
    rows = db.execute(
        "SELECT t.id, t.label, t.is_custom_label, t.keywords, t.size, t.need, t.need_share, "
        f"t.is_active, t.merged_into, t.updated_at FROM topics t {where} ORDER BY t.size DESC, t.id"
    ).fetchall()
    out = []
    for r in rows:
        reps = [d for (d,) in db.execute(
            "SELECT document_id FROM topic_representatives WHERE topic_id = ? ORDER BY rank", [r[0]])]
        out.append({"id": r[0], "label": r[1], "custom_label": bool(r[2]), "keywords": json.loads(r[3]),
                    "size": r[4], "need": r[5], "need_share": r[6], "active": bool(r[7]),
                    "merged_into": r[8], "updated_at": r[9], "representative_documents": reps})
    return out


def _active(db: sqlite_utils.Database, topic_id: int) -> None:
    if not db.execute("SELECT 1 FROM topics WHERE id = ? AND is_active = 1", [topic_id]).fetchone():
        raise UsageError(Errors.E305.format(topic_id=topic_id), code="E305")


def rename(db: sqlite_utils.Database, topic_id: int, label: str) -> dict[str, Any]:
    """Give a topic a human label; it survives ``update`` and ``fit --refit``.

    Example: ``topics.rename(db, 3, "Late deliveries")``
    """
    label = " ".join(label.split())
    if not label:
        raise UsageError(Errors.E307.format(what="label", value=label, reason="it is empty"), code="E307")
    _active(db, topic_id)
    with store.transaction(db):
        db.conn.execute("UPDATE topics SET label = ?, is_custom_label = 1, updated_at = ? WHERE id = ?",
                        [label, store.now(), topic_id])
    return {"id": topic_id, "label": label}


def merge(db: sqlite_utils.Database, topic_ids: Sequence[int]) -> dict[str, Any]:
    """Merge topics into the first id given: documents, model mapping, keywords, centroid.

    Example: ``topics.merge(db, [3, 7])``
    """
    ids = list(dict.fromkeys(int(i) for i in topic_ids))
    if len(ids) < 2:
        raise UsageError(Errors.E306.format(ids=list(topic_ids)), code="E306")
    for tid in ids:
        _active(db, tid)
    target, others = ids[0], ids[1:]
    conn = db.conn
    rows = conn.execute(
        f"SELECT id, keywords, size, centroid FROM topics WHERE id IN ({','.join('?' * len(ids))})",
        ids).fetchall()
    weights = {r[0]: max(r[2], 1) for r in rows}
    cents = [(np.frombuffer(r[3], dtype="<f4"), weights[r[0]]) for r in rows if r[3]]
    centroid = sum(c * w for c, w in cents) / sum(w for _, w in cents) if cents else None
    # keywords: interleave by size so the larger topic's words lead
    lists = [json.loads(r[1]) for r in sorted(rows, key=lambda r: -r[2])]
    keywords = list(dict.fromkeys(w for group in zip(*lists) for w in group))[:20] if lists else []
    now = store.now()
    marks = ",".join("?" * len(others))
    with store.transaction(db):
        conn.execute(f"UPDATE document_topics SET topic_id = ? WHERE topic_id IN ({marks})", [target, *others])
        conn.execute(f"UPDATE topic_model_topics SET topic_id = ? WHERE topic_id IN ({marks})",
                     [target, *others])
        conn.execute(f"UPDATE topics SET is_active = 0, size = 0, merged_into = ?, updated_at = ? "
                     f"WHERE id IN ({marks})", [target, now, *others])
        conn.execute("UPDATE topics SET keywords = ?, centroid = ?, updated_at = ?, label = CASE WHEN "
                     "is_custom_label = 1 THEN label ELSE ? END WHERE id = ?",
                     [json.dumps(keywords), None if centroid is None else centroid.astype("<f4").tobytes(),
                      now, make_label(keywords) or f"topic {target}", target])
        conn.execute(f"DELETE FROM topic_representatives WHERE topic_id IN ({marks})", others)
        _refresh_topics(db, [target])
    size = conn.execute("SELECT size FROM topics WHERE id = ?", [target]).fetchone()[0]
    return {"id": target, "merged": others, "size": size}
