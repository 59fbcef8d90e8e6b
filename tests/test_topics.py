"""Topics on real airline complaints: labels, reruns, refits, updates, merges, the saved model.

One store is fitted once per module (about 300 tweets) and copied for each test that
changes it, so each test starts from the same fitted state.
"""

from __future__ import annotations

import csv
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import shared_corpus

from vocseg import config, ingest, store, topics
from vocseg.enrich import embed

pytestmark = [pytest.mark.models, pytest.mark.shared, pytest.mark.slow]

N_FIT, N_NEW = 300, 40


def _tweets() -> list[dict]:
    path = shared_corpus("airline-tweets") / "tweets.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["airline_sentiment"] == "negative"]
    seen, out = set(), []
    for r in rows:
        if r["text"] in seen:
            continue
        seen.add(r["text"])
        out.append(
            {
                "external_id": r["tweet_id"],
                "text": r["text"],
                "created_at": r["tweet_created"],
                "author": r["name"],
                "negativereason": r["negativereason"],
            }
        )
    return out


def _ingest(db, records) -> None:
    res = ingest.ingest_records(
        db,
        [{k: v for k, v in r.items() if k != "negativereason"} for r in records],
        source="tweets",
        kind="social",
    )
    assert res.inserted == len(records), res.as_dict()


def _copy(src: Path, dst_dir: Path) -> Path:
    dst = dst_dir / src.name
    shutil.copy(src, dst)
    shutil.copytree(src.with_name(src.name + ".topics"), dst.with_name(dst.name + ".topics"))
    return dst


@pytest.fixture(scope="module")
def tweets():
    return _tweets()


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, tweets, embedder):
    """A store with N_FIT negative tweets, topics fitted; returns (path, fit summary)."""
    path = tmp_path_factory.mktemp("topics") / "vocseg.db"
    db = store.open(path)
    _ingest(db, tweets[:N_FIT])
    summary = topics.fit(db, config.Config(), embedder=embedder)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return path, summary


def _assignments(db) -> dict[str, int | None]:
    return dict(
        db.execute(
            "SELECT d.external_id, dt.topic_id FROM document_topics dt "
            "JOIN documents d ON d.id = dt.document_id"
        ).fetchall()
    )


def test_fit_assigns_most_documents_to_labelled_topics(fitted):
    path, summary = fitted
    db = store.open(path)
    assert summary["documents"] == N_FIT and summary["topics"] >= 3
    assert summary["unassigned_share"] <= 0.10
    rows = topics.list_topics(db)
    assert sum(t["size"] for t in rows) == N_FIT - summary["unassigned"]
    for t in rows:
        assert t["keywords"] and len(t["representative_documents"]) >= 1


def test_umaps_compiled_code_is_kept_for_the_next_run(fitted):
    """UMAP compiles most of its functions again in every new process unless numba caches
    them (25-30 s of a 20k-document fit); the fit just run must have left them on disk."""
    from umap import umap_

    fn = umap_.smooth_knn_dist  # used by every UMAP fit
    assert fn.stats.cache_hits or fn.stats.cache_misses  # caching is on for it
    kept = list(Path(fn.stats.cache_path).glob("umap_.smooth_knn_dist-*.nbi"))
    assert kept, f"no cache index in {fn.stats.cache_path}"


def test_a_small_fit_hands_umap_the_neighbours_it_would_find_itself(tweets, embedder):
    """Below 4,096 documents UMAP computes every pairwise distance, calling its numba cosine
    from Python once per pair (5 s of a 12 s fit of 3,000 documents); vocseg gives it the same
    exact neighbours from matrix products instead (and up to 30,000, where UMAP's approximate
    search would compile for 11 s first)."""
    from sklearn.metrics import pairwise_distances
    from umap.distances import cosine
    from umap.umap_ import nearest_neighbors

    # distinct as the model sees them (tweets that differ only in the @handle share a vector)
    texts = list({embed.embedding_text(t["text"]): t["text"] for t in tweets[:N_FIT]}.values())
    unit = embed.encode(embedder, texts)
    own_idx, own_dist, _ = nearest_neighbors(
        pairwise_distances(unit, metric=cosine), 15, "precomputed", {}, False, None
    )
    idx, dist = topics.exact_neighbours(unit, 15)
    assert (idx[:, 0] == np.arange(len(texts))).all() and not dist[:, 0].any()
    assert np.abs(np.sort(own_dist, axis=1) - dist).max() < 1e-5
    for own, ours, d in zip(own_idx, idx, dist, strict=True):
        # the same neighbours, but where two tie with the farthest (float32 rounding decides)
        assert all(d[-1] - dj < 1e-5 for j, dj in zip(ours, d, strict=True) if j not in set(own))


def test_exact_neighbours_from_a_sampled_floor_are_the_full_sorts():
    """Rows are ranked only among the columns at or above a floor drawn from a sample of
    columns (a stride of 3 here); clusters, exact duplicates and a far outlier included."""
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(40, 24))
    x = centres[rng.integers(0, 40, 6000)] + 0.3 * rng.normal(size=(6000, 24))
    x[100:130] = x[99]  # 31 identical rows: more ties than neighbours
    x[5000] = 50 * rng.normal(size=24)
    unit = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    idx, dist = topics.exact_neighbours(unit, 15, block=700, sample=2000)
    full = np.maximum(1.0 - unit @ unit.T, 0.0)
    np.fill_diagonal(full, 0.0)
    expected = np.sort(full, axis=1)[:, :15]
    assert (idx[:, 0] == np.arange(len(unit))).all() and not dist[:, 0].any()
    assert np.abs(dist - expected).max() < 1e-6
    assert np.allclose(np.take_along_axis(full, idx, axis=1), dist, atol=1e-6)
    assert (np.diff(dist, axis=1) >= 0).all()
    assert set(idx[100]) <= set(range(99, 130))  # its twins, nearer than anything else
    tied = dist[:, 2:] == dist[:, 1:-1]  # equal distances come in row order (self aside)
    assert (idx[:, 2:][tied] > idx[:, 1:-1][tied]).all() and tied.sum() > 30 * 13


def test_cluster_selection_is_handed_to_hdbscan():
    for method in ("eom", "leaf"):
        cfg = config.load(overrides={"topics.cluster_selection": method})
        model = topics.build_model(1000, cfg.topics, None)
        assert model.hdbscan_model.cluster_selection_method == method


def test_max_topic_share_caps_hdbscans_clusters_and_zero_lifts_it():
    cfg = config.load()
    assert topics.build_model(20_000, cfg.topics, None).hdbscan_model.max_cluster_size == 5_000
    off = config.load(overrides={"topics.max_topic_share": 0})
    assert topics.build_model(20_000, off.topics, None).hdbscan_model.max_cluster_size == 0


def test_the_cap_never_turns_a_large_theme_without_sub_clusters_into_noise():
    """A corpus that is mostly one complaint: 600 of 1,000 points in one tight cluster. Capped
    at 250, plain HDBSCAN leaves those 600 as noise; vocseg's keeps them as one topic."""
    from hdbscan import HDBSCAN

    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 0.3, (600, 5))] + [rng.normal(c, 0.3, (100, 5)) for c in (5, 10, 15, 20)])
    plain = HDBSCAN(min_cluster_size=16, min_samples=5, max_cluster_size=250).fit(x).labels_
    assert (plain[:600] == -1).all()  # what the guard is for
    capped = topics._capped_hdbscan()(min_cluster_size=16, min_samples=5, max_cluster_size=250).fit(x)
    labels = capped.labels_
    assert (labels[:600] >= 0).all() and len(set(labels[:600])) == 1
    assert len(set(labels[labels >= 0])) == 5 and capped.max_cluster_size == 250


@pytest.mark.parametrize("embedding", ["minilm-static", "all-MiniLM-L6-v2"])
def test_a_fit_never_imports_pytorch(tweets, tmp_path, embedding):
    """BERTopic imports sentence-transformers, transformers and PyTorch (5-6 s) for backends
    vocseg does not use; with the numpy-only fast model, or MiniLM on OpenVINO, a fit (its
    keywords embedded by the same model) and its saved model do without."""
    from vocseg import models
    from vocseg.config import ModelsConfig

    models.load_embedder(ModelsConfig(embedding=embedding))  # its table or export cached first
    (tmp_path / "texts.json").write_text(json.dumps([t["text"] for t in tweets[:N_FIT]]))
    script = f"""
import json, sys
from pathlib import Path
from vocseg import config, models, topics
from vocseg.enrich import embed
cfg = config.load(overrides={{"models.embedding": {embedding!r}}})
embedder = models.load_embedder(cfg.models)
texts = json.loads(Path({str(tmp_path / "texts.json")!r}).read_text())
result = topics.fit_texts(texts, embed.encode(embedder, texts), cfg.topics, embedder)
topics._save(result.model, Path({str(tmp_path / "model")!r}), cfg)
print(json.dumps({{"torch": "torch" in sys.modules, "topics": len(result.centroids)}}))
import torch, sentence_transformers  # still importable afterwards
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen == {"torch": False, "topics": seen["topics"]} and seen["topics"] >= 3
    assert (tmp_path / "model" / "topic_embeddings.safetensors").is_file()


def test_the_saved_model_loads_offline_with_vocsegs_embedder_and_embeds_with_it(fitted, embedder):
    db = store.open(fitted[0])
    model, row = topics.load_model(db, embedder)
    assert row["is_current"] == 1 and len(model.get_topics()) >= 3
    got = model.embedding_model.embed(["my bag never arrived"])
    assert got.shape == (1, 384)
    assert float(got[0] @ embed.encode(embedder, ["my bag never arrived"])[0]) > 0.9999


def test_labels_are_2_to_4_words_free_of_stop_words(fitted):
    db = store.open(fitted[0])
    labels = [t["label"] for t in topics.list_topics(db)]
    for label in labels:
        words = label.replace(",", " ").split()
        assert 1 <= len(words) <= 4, label
        assert not [w for w in words if w.lower() in topics.STOP_WORDS], label
    assert sum(len(lab.replace(",", " ").split()) >= 2 for lab in labels) >= len(labels) * 0.8


def test_saved_model_is_safetensors_with_the_embedding_model_named(fitted):
    db = store.open(fitted[0])
    row = topics.current_model(db)
    folder = topics.model_root(db) / row["path"]
    names = {p.name for p in folder.iterdir()}
    assert "topic_embeddings.safetensors" in names and "ctfidf.safetensors" in names
    assert not [n for n in names if n.endswith((".pkl", ".pickle", ".bin", ".pt"))]
    # the store names the embedding model; BERTopic's own config does not, or its loader
    # would look that name up on the Hugging Face hub before taking the embedder vocseg passes
    assert row["embedding_model"] == "all-MiniLM-L6-v2"
    assert "embedding_model" not in json.loads((folder / "config.json").read_text())


def test_fit_again_without_refit_is_refused(fitted, tmp_path, cli):
    path = _copy(fitted[0], tmp_path)
    code, _, err = cli("--db", str(path), "topics", "fit", db=False)
    assert code == 2 and "E301" in err and "--refit" in err


def test_refit_on_same_data_gives_same_topics_and_keeps_ids_and_labels(fitted, tmp_path, embedder):
    path = _copy(fitted[0], tmp_path)
    db = store.open(path)
    before = _assignments(db)
    first = topics.list_topics(db)
    topics.rename(db, first[0]["id"], "Lost bags & claims")
    summary = topics.fit(db, config.Config(), refit=True, embedder=embedder)
    after = _assignments(db)
    assert after == before  # same documents in the same topics, under the same ids
    assert summary["kept_ids"] == len(first) and summary["new_topics"] == 0
    now = {t["id"]: t for t in topics.list_topics(db)}
    assert now[first[0]["id"]]["label"] == "Lost bags & claims"
    assert [now[t["id"]]["label"] for t in first[1:]] == [t["label"] for t in first[1:]]
    assert db.execute("SELECT COUNT(*) FROM topic_models").fetchone()[0] == 2


def test_update_in_a_fresh_process_assigns_new_documents_without_refit(fitted, tmp_path, tweets):
    path = _copy(fitted[0], tmp_path)
    db = store.open(path)
    before = _assignments(db)
    _ingest(db, tweets[N_FIT : N_FIT + N_NEW])
    ingest.ingest_records(
        db,
        [
            {
                "text": "Thanks for your patience, we are looking into it.",
                "conversation_id": "c1",
                "turn": 2,
                "role": "agent",
                "created_at": "2015-02-24",
            }
        ],
        source="support",
        kind="chat",
    )
    db.conn.close()
    # no HF_HUB_OFFLINE here, and a local "hub" that records any request: vocseg must not ask
    hits: list[str] = []

    class Hub(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_error(404)

        do_HEAD = do_GET

        def log_message(self, *args):
            pass

    hub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    threading.Thread(target=hub.serve_forever, daemon=True).start()
    env = {
        k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    }
    env.update(
        HF_ENDPOINT=f"http://127.0.0.1:{hub.server_address[1]}", TOKENIZERS_PARALLELISM="false"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "vocseg", "--db", str(path), "topics", "update", "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
    finally:
        hub.shutdown()
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert hits == []
    result = json.loads(proc.stdout)
    assert result["documents"] == N_NEW  # the agent turn is not customer voice
    assert result["assigned"] >= 0.8 * N_NEW
    db = store.open(path)
    after = _assignments(db)
    assert {k: after[k] for k in before} == before
    assert db.execute("SELECT COUNT(*) FROM topic_models").fetchone()[0] == 1
    ids = {t["id"] for t in topics.list_topics(db)}
    assert {t for t in after.values() if t is not None} <= ids
    # nothing new: a second update does no work
    assert topics.update(db, config.Config())["documents"] == 0


def test_new_documents_land_in_the_topic_of_their_reason(fitted, tmp_path, tweets, embedder):
    """Held-out tweets go mostly to the topic where fitted tweets with their reason went."""
    path = _copy(fitted[0], tmp_path)
    db = store.open(path)
    reason = {t["external_id"]: t["negativereason"] for t in tweets}
    fit_rows = _assignments(db)
    by_topic: dict[int, dict[str, int]] = {}
    for ext, tid in fit_rows.items():
        if tid is not None:
            by_topic.setdefault(tid, {}).setdefault(reason[ext], 0)
            by_topic[tid][reason[ext]] += 1
    major = {tid: max(c, key=c.get) for tid, c in by_topic.items()}
    new = tweets[N_FIT : N_FIT + N_NEW]
    _ingest(db, new)
    topics.update(db, config.Config(), embedder=embedder)
    after = _assignments(db)
    hits = [
        major.get(after[t["external_id"]]) == t["negativereason"]
        for t in new
        if after[t["external_id"]] is not None
    ]
    base = max(sum(t["negativereason"] == r for t in new) for r in set(reason.values())) / len(new)
    assert sum(hits) / len(hits) > base  # better than always guessing the commonest reason


def test_merge_moves_documents_and_keeps_the_first_id(fitted, tmp_path, cli):
    path = _copy(fitted[0], tmp_path)
    db = store.open(path)
    a, b = topics.list_topics(db)[:2]
    code, out, err = cli(
        "--db", str(path), "topics", "merge", str(b["id"]), str(a["id"]), "--json", db=False
    )
    assert code == 0, err
    assert json.loads(out)["size"] == a["size"] + b["size"]
    rows = {t["id"]: t for t in topics.list_topics(db, all=True)}
    assert rows[a["id"]]["merged_into"] == b["id"] and not rows[a["id"]]["active"]
    assert (
        db.execute("SELECT COUNT(*) FROM document_topics WHERE topic_id = ?", [a["id"]]).fetchone()[
            0
        ]
        == 0
    )
    code, _, err = cli("--db", str(path), "topics", "rename", str(a["id"]), "x", db=False)
    assert code == 2 and "E305" in err


def test_topics_list_json_and_forget_erases_links(fitted, tmp_path, cli):
    path = _copy(fitted[0], tmp_path)
    code, out, _ = cli("--db", str(path), "topics", "list", "--json", db=False)
    listed = json.loads(out)
    assert code == 0 and listed and {"id", "label", "keywords", "size", "need"} <= set(listed[0])
    db = store.open(path)
    doc = listed[0]["representative_documents"][0]
    db.conn.execute("PRAGMA foreign_keys = ON")
    with store.transaction(db):
        db.conn.execute("DELETE FROM documents WHERE id = ?", [doc])
    assert not db.execute(
        "SELECT 1 FROM topic_representatives WHERE document_id = ?", [doc]
    ).fetchone()
    assert not db.execute("SELECT 1 FROM document_topics WHERE document_id = ?", [doc]).fetchone()


def test_make_label_and_topic_text():
    label = topics.make_label(["the delay", "delayed flights", "hours waiting", "gate", "crew"])
    assert label.split(", ")[0] == "delay"
    assert "the" not in label.split() and "delayed" not in label
    assert (
        topics.topic_text("@united my bag is lost http://t.co/x &amp; #fail")
        == "my bag is lost & fail"
    )


def test_a_store_larger_than_fit_sample_is_fitted_on_a_sample_and_every_document_assigned(
    tmp_path, tweets, embedder
):
    """Large stores fit on a seeded sample; documents outside it still get topics, the same ones
    on a rerun, and land with documents of their own reason more often than chance."""
    cfg = config.Config(topics=config.TopicsConfig(fit_sample=N_FIT // 2))
    sample = set(topics.fit_sample_indices(N_FIT, cfg.topics).tolist())
    assert len(sample) == N_FIT // 2
    runs = []
    for k in range(2):
        db = store.open(tmp_path / f"s{k}.db")
        _ingest(db, tweets[:N_FIT])
        summary = topics.fit(db, cfg, embedder=embedder)
        assert summary["documents"] == N_FIT and summary["topics"] >= 3
        assert summary["unassigned_share"] <= 0.15
        runs.append(_assignments(db))
    assert runs[0] == runs[1]  # seeded: the same sample and the same topics
    reason = {t["external_id"]: t["negativereason"] for t in tweets}
    order = [t["external_id"] for t in tweets[:N_FIT]]  # ingest order = document id order
    inside = [order[i] for i in sorted(sample)]
    outside = [e for i, e in enumerate(order) if i not in sample]
    assigned_out = [e for e in outside if runs[0][e] is not None]
    assert len(assigned_out) >= 0.85 * len(outside)
    by_topic: dict[int, dict[str, int]] = {}
    for e in inside:
        if runs[0][e] is not None:
            by_topic.setdefault(runs[0][e], {}).setdefault(reason[e], 0)
            by_topic[runs[0][e]][reason[e]] += 1
    major = {tid: max(c, key=c.get) for tid, c in by_topic.items()}
    hits = sum(major.get(runs[0][e]) == reason[e] for e in assigned_out) / len(assigned_out)
    base = max(sum(reason[e] == r for e in outside) for r in set(reason.values())) / len(outside)
    assert hits > base
