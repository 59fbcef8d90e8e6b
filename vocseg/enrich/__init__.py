"""Enrich: sentences, aspects, entities, sentiment, expressed needs, intents and embeddings.

``enrich(db, cfg)`` processes every document that has no ``enrichments`` row with its
current ``content_hash`` (so it is incremental and resumes after a kill: each batch is one
transaction); ``all=True`` recomputes everything (after a model or taxonomy change). When
there is nothing to do no model is loaded. The tables are described in docs/schema.md.

Example::

    from vocseg import config, enrich, store
    summary = enrich.enrich(store.open("vocseg.db"), config.load())
    summary["documents"], summary["docs_per_s"]
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import sqlite_utils

from vocseg import models, store
from vocseg.config import Config
from vocseg.enrich import embed, needs, sentiment

ProgressFn = Callable[[int, int | None], None]

#: below this many documents, worker processes cost more than they save (forking them takes
#: ~30 ms; 50 review-length texts parse in 0.39 s in-process, 0.24 s in two workers)
MIN_DOCS_FOR_WORKERS = 50
#: documents read from the store and handed to the parser workers at a time
PAGE = 2000


@dataclass
class Models:
    """The loaded models one enrichment run uses (passed around, never global)."""

    nlp: Any
    embedder: Any
    sentiment: sentiment.SentimentModel
    analyzer: Any
    model_id: str
    family: str


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def model_versions(cfg: Config, taxonomy: needs.Taxonomy) -> dict[str, Any]:
    """Names and versions of everything that shapes the output, without loading any model."""
    family = embed.model_family(cfg.models.embedding)
    sent_file = (
        Path(cfg.enrich.sentiment_model)
        if cfg.enrich.sentiment_model
        else sentiment.model_file(family)
    )
    sent_digest = (
        hashlib.sha1(sent_file.read_bytes()).hexdigest()[:12] if sent_file.is_file() else None
    )
    spacy_loc = models.spacy_location(cfg.models.spacy)
    spacy_version = None
    if isinstance(spacy_loc, Path):
        meta = spacy_loc / "meta.json"
        if meta.is_file():
            spacy_version = json.loads(meta.read_text(encoding="utf-8")).get("version")
    else:
        spacy_version = _version(spacy_loc.replace("_", "-")) or _version(spacy_loc)
    return {
        "spacy_model": cfg.models.spacy,
        "spacy_model_version": spacy_version,
        "spacy": _version("spacy"),
        "entities": cfg.enrich.entities,
        "embedding": cfg.models.embedding,
        "embedding_family": family,
        "sentence_transformers": _version("sentence-transformers"),
        "sentiment_model": f"{sent_file.name}@{sent_digest}",
        "vader": _version("vaderSentiment"),
        "needs_taxonomy": f"{Path(taxonomy.path).name}@{taxonomy.digest}",
        "needs_threshold": taxonomy.threshold(family, cfg.enrich.needs_threshold),
        "whole_text_max_chars": cfg.enrich.whole_text_max_chars,
        "vocseg": _version("vocseg"),
    }


def fingerprint(versions: dict[str, Any]) -> str:
    return hashlib.sha1(json.dumps(versions, sort_keys=True, default=str).encode()).hexdigest()[:16]


def load_models(cfg: Config, *, embedder: bool = True) -> Models:
    """Load spaCy (with vocseg's components), the embedder and the sentiment classifier.

    ``embedder=False`` leaves ``Models.embedder`` as ``None`` for the caller to load later
    (:func:`enrich` forks its parser workers first, so they do not carry the embedder and
    parse while it loads)."""
    family = embed.model_family(cfg.models.embedding)
    clf = sentiment.load_model(family, cfg.enrich.sentiment_model or None)  # fails fast (E210)
    disable = [] if cfg.enrich.entities else ["ner"]
    spacy_nlp = models.load_spacy(cfg.models, disable=disable)  # imports spaCy (see import_spacy)
    from vocseg.enrich import nlp  # after: it imports spaCy too

    nlp.add_components(spacy_nlp)
    return Models(
        spacy_nlp,
        models.load_embedder(cfg.models) if embedder else None,
        clf,
        sentiment.make_analyzer(),
        models.embedding_model_id(cfg.models),
        family,
    )


def pending(db: sqlite_utils.Database, all: bool = False) -> list[int]:
    """Ids of documents to enrich: new or changed ones (every one with ``all``)."""
    if all:
        sql = "SELECT id FROM documents ORDER BY id"
    else:
        sql = (
            "SELECT d.id FROM documents d LEFT JOIN enrichments e ON e.document_id = d.id "
            "WHERE e.document_id IS NULL OR e.content_hash != d.content_hash ORDER BY d.id"
        )
    return [r[0] for r in db.conn.execute(sql)]


def _pages(db: sqlite_utils.Database, ids: Sequence[int], size: int) -> Iterator[list[tuple]]:
    """(id, text, content_hash, role, rating) of the documents, ``size`` at a time."""
    for i in range(0, len(ids), size):
        part = ids[i : i + size]
        rows: list[tuple] = []
        for j in range(0, len(part), 900):
            sub = part[j : j + 900]
            marks = ",".join("?" * len(sub))
            rows += db.conn.execute(
                f"SELECT id, text, content_hash, role, rating FROM documents WHERE id IN ({marks}) ORDER BY id",
                list(sub),
            ).fetchall()
        yield rows


def enrich(
    db: sqlite_utils.Database,
    cfg: Config,
    all: bool = False,
    progress: ProgressFn | None = None,
    *,
    loaded: Models | None = None,
) -> dict[str, Any]:
    """Enrich every new or changed document (every document with ``all``); returns a summary.

    Example: ``enrich(store.open("cx.db"), config.load())["documents"]``
    """
    t0 = time.perf_counter()
    taxonomy = needs.load_taxonomy(cfg.enrich.needs_file or None)
    versions = model_versions(cfg, taxonomy)
    fp = fingerprint(versions)
    ids = pending(db, all)
    stale = 0
    if not all:
        stale = db.conn.execute(
            "SELECT COUNT(*) FROM enrichments e JOIN documents d ON d.id = e.document_id "
            "WHERE e.fingerprint != ? AND e.content_hash = d.content_hash",
            [fp],
        ).fetchone()[0]
    summary: dict[str, Any] = {
        "documents": 0,
        "sentences": 0,
        "aspects": 0,
        "entities": 0,
        "sentence_needs": 0,
        "embeddings_computed": 0,
        "already_enriched": int(db["documents"].count - len(ids)) if not all else 0,
        "stale": stale,
        "models": versions,
        "models_loaded": [],
        "run_id": None,
    }
    if progress:
        progress(0, len(ids))
    if not ids:
        summary.update(seconds=round(time.perf_counter() - t0, 3), docs_per_s=0.0)
        return summary
    with store.run(db, "enrich", {"all": all, "documents": len(ids), "models": versions}) as counts:
        t_load = time.perf_counter()
        m = loaded or load_models(cfg, embedder=False)
        summary["models_loaded"] = [] if loaded else ["spacy", "embedding", "sentiment"]
        summary["run_id"] = counts["run_id"]
        threshold = taxonomy.threshold(m.family, cfg.enrich.needs_threshold)
        phrases, owners = taxonomy.phrases()
        n_process = cfg.enrich.n_process if len(ids) >= MIN_DOCS_FOR_WORKERS else 1
        batch = max(1, cfg.enrich.batch_size)
        from vocseg.enrich import nlp

        with nlp.parser(m.nlp, n_process=max(1, n_process), batch_size=256) as parse:
            pages = _pages(db, ids, size=max(batch, PAGE))
            page = next(pages, None)
            parsed = parse([r[1] for r in page]) if page else iter(())
            if m.embedder is None:  # the workers parse the first page meanwhile
                m.embedder = models.load_embedder(cfg.models)
            summary["model_load_seconds"] = round(time.perf_counter() - t_load, 3)
            # with a static embedder the workers parse the next page while this process works
            # through the current one; a transformer's threads need both cores to themselves
            # (beside two busy parser processes it embeds 4x slower), so pages take turns
            ahead = embed.is_static(m.embedder)
            if not ahead:
                parsed = list(parsed)
            ctx = _Context(
                db,
                m,
                taxonomy,
                embed.ensure(db, phrases, m.embedder, m.model_id),
                owners,
                threshold,
                cfg.enrich.rating_weight,
                fp,
                counts["run_id"],
                # a static model's pass over the whole text costs next to nothing
                0 if embed.is_static(m.embedder) else cfg.enrich.whole_text_max_chars,
            )
            with store.transaction(db):
                db.conn.execute("DELETE FROM needs")
                db.conn.executemany(
                    "INSERT INTO needs (name, label, description, examples, threshold, taxonomy_hash, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    needs.as_rows(taxonomy, m.family, threshold, store.now()),
                )
            while page:
                following = next(pages, None)
                work: Iterable[tuple[list, _Vectors]] = (
                    (chunk, _embed(chunk, ctx))
                    for chunk in _batches(zip(page, parsed, strict=True), batch)
                )
                if not ahead:
                    # the transformer's passes take both cores; the rest of the page's work
                    # (sentiment, needs, writing) takes one, so the workers parse the next
                    # page beside it (progress counts written documents, so it moves then)
                    work = list(work)
                # with a static model the workers parse the next page while this one is
                # worked through (the generator above embeds batch by batch as they come)
                queued = parse([r[1] for r in following]) if following else None
                for chunk, got in work:
                    _write(db, _rows(chunk, ctx, got), summary)
                    if progress:
                        progress(len(chunk), None)
                if not ahead and queued is not None:
                    queued = list(queued)
                page, parsed = following, queued
        seconds = time.perf_counter() - t0
        summary.update(
            seconds=round(seconds, 3), docs_per_s=round(summary["documents"] / seconds, 1)
        )
        counts.update({k: v for k, v in summary.items() if k not in ("models",)})
    return summary


@dataclass
class _Context:
    db: sqlite_utils.Database
    m: Models
    taxonomy: needs.Taxonomy
    phrase_vecs: np.ndarray
    owners: np.ndarray
    threshold: float
    rating_weight: float
    fingerprint: str
    run_id: int
    whole_text_max_chars: int


def _aspect_score(
    valence: float | None, sentence_score: float, sentence_label: str
) -> float | None:
    if valence is not None and valence != 0:
        return float(valence / np.sqrt(valence * valence + 4.0))  # VADER-style squashing
    if sentence_label != "neutral":
        return float(sentence_score)
    return None


def _label(score: float) -> str:
    return "positive" if score >= 0.05 else "negative" if score <= -0.05 else "neutral"


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """``items`` in lists of ``size`` (the last one shorter), as they come."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class _Vectors:
    """A batch's texts (each document, then its sentences) with their hashes and vectors."""

    texts: list[str]
    hashes: list[str]
    vecs: np.ndarray
    computed: int


def _embed(chunk: list[tuple[tuple, Any]], ctx: _Context) -> _Vectors:
    """The vectors of a batch's documents and sentences: cached, computed by the model and
    stored, or (a long document's) the mean of its sentences'."""
    m = ctx.m
    sent_lists = [rec["sents"] for _, rec in chunk]
    limit = ctx.whole_text_max_chars
    # a long document's vector is the mean of its sentences' (see EnrichConfig.whole_text_max_chars)
    from_sents = [
        bool(limit) and len(sents) > 1 and len(embed.embedding_text(row[1])) > limit
        for (row, _), sents in zip(chunk, sent_lists, strict=True)
    ]
    texts: list[str] = []
    hashes: list[str] = []
    asked: list[int] = []  # what the model embeds: every sentence, documents not from_sents
    for (row, _), sents, derived in zip(chunk, sent_lists, from_sents, strict=True):
        if not derived:
            asked.append(len(texts))
        texts.append(row[1])
        hashes.append(row[2])
        for s in sents:
            asked.append(len(texts))
            texts.append(s["text"])
            hashes.append(embed.content_hash(s["text"]))
    computed = [0]
    got = embed.ensure(
        ctx.db,
        [texts[i] for i in asked],
        m.embedder,
        m.model_id,
        hashes=[hashes[i] for i in asked],
        on_computed=lambda n: computed.__setitem__(0, n),
        model_only=True,  # a document embedded whole again after whole_text_max_chars changed
    )
    vecs = np.zeros((len(texts), got.shape[1]), dtype=np.float32)
    vecs[asked] = got
    derived_at, pos = [], 0
    for (_, rec), sents, derived in zip(chunk, sent_lists, from_sents, strict=True):
        if derived:
            vecs[pos] = embed.sentence_mean(vecs[pos + 1 : pos + 1 + len(sents)], [len(s["text"]) for s in sents])
            derived_at.append(pos)
        pos += 1 + len(sents)
    if derived_at:  # stored as the document's vector: topics, segments and the report read it
        vecs[derived_at] = embed.put(
            ctx.db, [hashes[i] for i in derived_at], vecs[derived_at], m.model_id, source="sentences"
        )
    return _Vectors(texts, hashes, vecs, computed[0])


def _rows(chunk: list[tuple[tuple, Any]], ctx: _Context, got: _Vectors) -> dict[str, Any]:
    """Rows for every enrich table of a batch, from its parsed records and vectors."""
    m = ctx.m
    sent_lists = [rec["sents"] for _, rec in chunk]
    texts, hashes, vecs = got.texts, got.hashes, got.vecs
    # lexicon features come from the spaCy component (computed in the workers)
    lex = np.zeros((len(texts), 4), dtype=np.float32)
    i = 0
    for (_, rec), sents in zip(chunk, sent_lists, strict=True):
        feats = rec["lex"]
        if feats is None:  # pipeline without the component
            feats = {
                "doc": sentiment.lexicon_features(m.analyzer, [rec["text"]])[0],
                "sents": sentiment.lexicon_features(m.analyzer, [s["text"] for s in sents]),
            }
        lex[i] = feats["doc"]
        if len(sents):
            lex[i + 1 : i + 1 + len(sents)] = feats["sents"]
        i += 1 + len(sents)
    probs = m.sentiment.predict_proba(vecs, lex)
    scores, labels = sentiment.score_and_label(probs)
    n_needs = len(ctx.taxonomy.needs)
    sims = needs.similarities(vecs, ctx.phrase_vecs, ctx.owners, n_needs)
    matches = needs.match(sims, ctx.threshold)

    out: dict[str, Any] = {
        "doc_ids": [],
        "sentences": [],
        "aspects": [],
        "entities": [],
        "doc_sentiment": [],
        "sentence_needs": [],
        "document_needs": [],
        "enrichments": [],
        "computed": got.computed,
        "need_names": ctx.taxonomy.names,
    }
    pos = 0
    now = store.now()
    for (row, rec), sents in zip(chunk, sent_lists, strict=True):
        doc_id, _, chash, role, rating = row
        out["doc_ids"].append(doc_id)
        d = pos
        pos += 1
        first = pos
        pos += len(sents)
        p = probs[d]
        score = float(scores[d])
        if not row[1].strip():  # nothing said: neutral, whatever the model makes of ""
            p, score, labels[d] = np.array([0.0, 1.0, 0.0]), 0.0, "neutral"
        out["doc_sentiment"].append(
            (
                doc_id,
                round(score, 4),
                labels[d],
                round(float(p[0]), 4),
                round(float(p[1]), 4),
                round(float(p[2]), 4),
                sentiment.satisfaction(score, rating, ctx.rating_weight),
                int(rating is not None),
                int(role != "agent"),
            )
        )
        cues = rec["cues"]
        per_need: dict[int, list[tuple[float, float]]] = {}
        sent_rows = []
        for k, s in enumerate(sents):
            i = first + k
            s_score, s_label = float(scores[i]), labels[i]
            cue = cues[k] if k < len(cues) else None
            sent_rows.append(
                [
                    doc_id,
                    k,
                    s["start"],
                    s["end"],
                    s["text"],
                    hashes[i],
                    s["lemmas"],
                    json.dumps(s["chunks"], ensure_ascii=False),
                    round(s_score, 4),
                    s_label,
                    needs.intent(cue, s_label),
                ]
            )
            for j, sim in matches[i]:
                per_need.setdefault(j, []).append((sim, s_score))
        out["sentences"].append(
            (
                doc_id,
                sent_rows,
                [(k, s["ents"]) for k, s in enumerate(sents) if s["ents"]],
                rec["aspects"],
                [(k, matches[first + k]) for k in range(len(sents)) if matches[first + k]],
            )
        )
        n_s = max(1, len(sents))
        for j, hits in per_need.items():
            out["document_needs"].append(
                (
                    doc_id,
                    ctx.taxonomy.needs[j].name,
                    round(len(hits) / n_s, 4),
                    len(hits),
                    round(max(h[0] for h in hits), 4),
                    round(float(np.mean([h[1] for h in hits])), 4),
                )
            )
        out["enrichments"].append((doc_id, chash, ctx.run_id, now, ctx.fingerprint, len(sents)))
    return out


def _write(db: sqlite_utils.Database, out: dict[str, Any], summary: dict[str, Any]) -> None:
    """Replace every derived row of the batch's documents in one transaction."""
    conn = db.conn
    ids = out["doc_ids"]
    marks = ",".join("?" * len(ids))
    n_aspects_total = n_ents = n_needs = n_sents = 0
    with store.transaction(db):
        for table in (
            "sentences",
            "document_sentiment",
            "document_needs",
            "aspects",
            "entities",
            "sentence_needs",
        ):
            conn.execute(f"DELETE FROM {table} WHERE document_id IN ({marks})", ids)
        next_id = (
            conn.execute("SELECT COALESCE(MAX(id), 0) FROM sentences").fetchone()[0] or 0
        ) + 1
        sent_rows, ent_rows, aspect_rows, need_rows, enr_rows = [], [], [], [], []
        aspects_per_doc: dict[int, int] = {}
        for doc_id, srows, ents, aspects, matched in out["sentences"]:
            base = next_id
            for r in srows:
                sent_rows.append((next_id, *r))
                next_id += 1
            for k, elist in ents:
                for text, label, start, end in elist:
                    ent_rows.append((doc_id, base + k, text, label, start, end))
            for s_idx, aspect, text, opinion, negated, valence, start, end in aspects:
                if s_idx >= len(srows):
                    continue
                s_score, s_label = srows[s_idx][8], srows[s_idx][9]
                score = _aspect_score(valence, s_score, s_label)
                if score is None:
                    continue
                score = max(-1.0, min(1.0, score))
                aspect_rows.append(
                    (
                        base + s_idx,
                        doc_id,
                        aspect,
                        text,
                        opinion,
                        int(negated),
                        round(score, 4),
                        _label(score),
                        start,
                        end,
                    )
                )
                aspects_per_doc[doc_id] = aspects_per_doc.get(doc_id, 0) + 1
            for k, hits in matched:
                for j, sim in hits:
                    need_rows.append((base + k, doc_id, j, round(sim, 4)))
        conn.executemany(
            "INSERT INTO sentences (id, document_id, idx, start_char, end_char, text, content_hash, lemmas, "
            "noun_chunks, sentiment_score, sentiment_label, intent) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            sent_rows,
        )
        conn.executemany(
            "INSERT INTO entities (document_id, sentence_id, text, label, start_char, end_char) VALUES (?,?,?,?,?,?)",
            ent_rows,
        )
        conn.executemany(
            "INSERT INTO aspects (sentence_id, document_id, aspect, text, opinion, is_negated, sentiment_score, "
            "sentiment_label, start_char, end_char) VALUES (?,?,?,?,?,?,?,?,?,?)",
            aspect_rows,
        )
        names = out["need_names"]
        conn.executemany(
            "INSERT INTO sentence_needs (sentence_id, document_id, need, similarity) VALUES (?,?,?,?)",
            [(s, d, names[j], sim) for s, d, j, sim in need_rows],
        )
        conn.executemany(
            "INSERT INTO document_sentiment (document_id, score, label, p_negative, p_neutral, p_positive, "
            "satisfaction, has_rating, is_customer_voice) VALUES (?,?,?,?,?,?,?,?,?)",
            out["doc_sentiment"],
        )
        conn.executemany(
            "INSERT INTO document_needs (document_id, need, weight, n_sentences, similarity, sentiment_score) "
            "VALUES (?,?,?,?,?,?)",
            out["document_needs"],
        )
        for doc_id, chash, run_id, now, fp, n_s in out["enrichments"]:
            enr_rows.append((doc_id, chash, run_id, now, fp, n_s, aspects_per_doc.get(doc_id, 0)))
        conn.executemany(
            "INSERT OR REPLACE INTO enrichments (document_id, content_hash, run_id, enriched_at, fingerprint, "
            "n_sentences, n_aspects) VALUES (?,?,?,?,?,?,?)",
            enr_rows,
        )
        n_sents, n_aspects_total, n_ents, n_needs = (
            len(sent_rows),
            len(aspect_rows),
            len(ent_rows),
            len(need_rows),
        )
    summary["documents"] += len(ids)
    summary["sentences"] += n_sents
    summary["aspects"] += n_aspects_total
    summary["entities"] += n_ents
    summary["sentence_needs"] += n_needs
    summary["embeddings_computed"] += out["computed"]
