"""Whole pipeline vs plain BERTopic, on N documents from ../shared/corpora, side by side.

(a) plain BERTopic with default parameters and the same embedding model
    (embeddings + fit_transform), in its own process;
(b) vocseg from an empty store: ingest, enrich, topics fit, segment, report, each a CLI
    process as a user would run them;
then the incremental cost: ingest 1% more documents and run `vocseg report` again.

Prints one JSON object: both wall times, their ratio, peak RSS of each, topic NMI against
gold labels, and the update's time as a fraction of the full run.

``--profile fast`` runs vocseg with the packaged fast embedding model (``[models] embedding =
"minilm-static"``, ``[enrich] entities = false``, a vocseg.toml in the work folder). Plain
BERTopic always runs with BERTopic's default model, all-MiniLM-L6-v2, in float32 (what a
notebook gets); with a fast profile it also runs a second time with the same static model as
vocseg (``plain_bertopic_same_model``), so both readings of "the same embedding model" are
printed. With the default profile on a CPU where vocseg runs MiniLM in bfloat16 (``[models]
precision = "auto"``), plain BERTopic also runs with that bfloat16 MiniLM
(``plain_bertopic_same_backend``).

``--repeat 2`` times (a) and (b) twice each in the order a, b, b, a and reports the means
(each run's time is kept): the test machine's speed drifts by up to 20% within a run, which a
single a-then-b reading charges to one side. Each vocseg run is followed by the update of its
store, and the update's share is the mean update over the mean full run.

    python benchmarks/pipeline.py --docs 20000
    python benchmarks/pipeline.py --docs 20000 --repeat 2
    python benchmarks/pipeline.py --docs 20000 --profile fast
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gzip
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED, emit, run_measured, versions

csv.field_size_limit(10**9)


def _airline():
    with open(SHARED / "airline-tweets" / "tweets.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            label = r["negativereason"] or r["airline_sentiment"]
            yield r["tweet_id"], r["text"], r["tweet_created"], f"airline:{label}", r["name"]


def _womens(start: datetime):
    with gzip.open(
        SHARED / "womens-clothing-reviews" / "womens_clothing_ecommerce_reviews.csv.gz",
        "rt",
        newline="",
        encoding="utf-8",
    ) as f:
        for i, r in enumerate(csv.DictReader(f)):
            text = " ".join(x for x in (r["Title"], r["Review Text"]) if x).strip()
            if not text:
                continue
            # the dataset has no dates: spread reviews over 12 weeks, deterministically
            when = start + timedelta(minutes=(i * 7919) % (12 * 7 * 24 * 60))
            yield (
                f"w{r['']}",
                text,
                when.isoformat(),
                f"clothing:{r['Class Name'] or 'unknown'}",
                "",
            )


def _cfpb():
    with open(SHARED / "cfpb-complaints" / "complaints.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["Consumer complaint narrative"].strip():
                yield (
                    f"c{r['Complaint ID']}",
                    r["Consumer complaint narrative"],
                    r["Date received"],
                    f"cfpb:{r['Product']}",
                    "",
                )


def _twcs():
    with open(SHARED / "twcs-support" / "twcs_slice.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["inbound"] == "True":
                yield f"t{r['tweet_id']}", r["text"], r["created_at"], None, r["author_id"]


def draw(n: int) -> list[tuple[str, str, str, str | None, str]]:
    """N documents (id, text, date, gold label, author handle) with dates: airline tweets, then clothing reviews, complaints, support tweets;
    beyond the pool (about 40k), the pool again with a ' (copy k)' marker so texts stay distinct."""
    pool = list(_airline()) + list(_womens(datetime(2014, 12, 1, tzinfo=UTC)))
    pool += list(_cfpb()) + list(_twcs())
    seen, uniq = set(), []
    for row in pool:
        if row[0] not in seen:
            seen.add(row[0])
            uniq.append(row)
    out = []
    k = 0
    while len(out) < n:
        for ext, text, when, label, author in uniq:
            if len(out) >= n:
                break
            out.append(
                (
                    ext if k == 0 else f"{ext}~{k}",
                    text if k == 0 else f"{text} (copy {k})",
                    when,
                    label,
                    author,
                )
            )
        k += 1
    return out


def write_csv(rows, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "text", "created_at", "label", "author"])
        w.writerows(rows)


PROFILES = {
    "default": "",
    "fast": '[models]\nembedding = "minilm-static"\n[enrich]\nentities = false\n',
}


def plain_bertopic(csv_path: Path, out_path: Path, embedding: str, precision: str) -> None:
    """Child process (a): BERTopic defaults with the given embedding model, run in ``precision``
    (float32 is what sentence-transformers gives a notebook)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from bertopic import BERTopic

    from vocseg import models
    from vocseg.config import ModelsConfig

    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    docs = [r["text"] for r in rows]
    t0 = time.perf_counter()
    # sentence-transformers on PyTorch, as a notebook has it
    embedder = models.load_embedder(
        ModelsConfig(embedding=embedding, precision=precision, backend="torch")
    )
    # each library's default batch size (sentence-transformers 32, as BERTopic's own
    # embedding step uses; model2vec 1024)
    emb = embedder.encode(docs, show_progress_bar=False)
    t_emb = time.perf_counter() - t0
    topics, _ = BERTopic(embedding_model=embedder).fit_transform(docs, emb)
    out_path.write_text(
        json.dumps(
            {
                "topics": {r["id"]: int(t) for r, t in zip(rows, topics)},
                "embed_seconds": round(t_emb, 2),
                "fit_seconds": round(time.perf_counter() - t0 - t_emb, 2),
            }
        )
    )


def nmi(assign: dict[str, int], gold: dict[str, str]) -> float:
    from sklearn.metrics import normalized_mutual_info_score

    keys = [k for k in gold if k in assign]
    return round(
        float(normalized_mutual_info_score([gold[k] for k in keys], [assign[k] for k in keys])), 4
    )


def vocseg_cmd(db: Path, config: Path | None = None) -> list[str]:
    conf = ["--config", str(config)] if config else []
    return [sys.executable, "-m", "vocseg", "--db", str(db), *conf, "--quiet"]


def ingest_cmd(exe: list[str], csv_path: Path) -> list[str]:
    """`vocseg ingest` of a drawn CSV (see write_csv), authors linked as customers, no enrich."""
    mapping = ["external_id=id", "text=text", "created_at=created_at", "handle=author"]
    maps = [x for m in mapping for x in ("--map", m)]
    return [
        *exe,
        "ingest",
        str(csv_path),
        "--kind",
        "review",
        "--source",
        "bench",
        *maps,
        "--no-enrich",
    ]


def vocseg_steps(
    db: Path, csv_path: Path, workdir: Path, config: Path | None = None
) -> list[tuple[str, list[str]]]:
    exe = vocseg_cmd(db, config)
    return [
        (
            "ingest",
            ingest_cmd(exe, csv_path),
        ),
        ("enrich", exe + ["enrich"]),
        ("topics fit", exe + ["topics", "fit"]),
        ("segment", exe + ["segment"]),
        (
            "report",
            exe + ["report", "--no-update", "--format", "html", "--out", str(workdir / "r.html")],
        ),
    ]


def _uses_bfloat16(env: dict) -> bool:
    """Whether vocseg runs MiniLM in bfloat16 on this CPU, asked of a child process: importing
    torch here would make this process big, and every child forked from it starts with its
    pages (wait4's peak RSS of a small step would show this process's)."""
    code = "from vocseg import models, config; print(models.uses_bfloat16(config.ModelsConfig()))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip() == "True"


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument(
        "--skip-plain", action="store_true", help="Only run vocseg (for the 200k scale run)."
    )
    ap.add_argument("--profile", choices=sorted(PROFILES), default="default")
    ap.add_argument(
        "--workdir", default=None, help="Keep the drawn CSVs and the store here (default: a temporary folder)."
    )
    ap.add_argument(
        "--repeat", type=int, default=1,
        help="Time plain BERTopic (MiniLM, float32) and vocseg N times each, in the order "
        "ABBA... (plain, vocseg, vocseg, plain for 2), and report their means: the machine's "
        "speed drifts by up to 20%% over a run.",
    )
    ap.add_argument("--_plain", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._plain:
        plain_bertopic(Path(args._plain[0]), Path(args._plain[1]), *args._plain[2:])
        return

    rows = draw(args.docs + args.docs // 100)
    main_rows, extra_rows = rows[: args.docs], rows[args.docs :]
    gold = {r[0]: r[3] for r in main_rows if r[3]}
    env = dict(
        os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false"
    )
    result: dict = {
        "benchmark": "pipeline",
        "docs": args.docs,
        "corpus": "airline-tweets + womens-clothing-reviews (dates spread over 12 weeks)"
        " + cfpb-complaints narratives + twcs-support customer tweets",
        "gold": "airline negativereason/sentiment, clothing Class Name, CFPB Product",
        "profile": args.profile,
        "vocseg_toml": PROFILES[args.profile],
    }
    with contextlib.ExitStack() as stack:
        if args.workdir:
            work = Path(args.workdir)
            work.mkdir(parents=True, exist_ok=True)
        else:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        data = work / "docs.csv"
        write_csv(main_rows, data)
        # (a) as a notebook runs it: sentence-transformers' float32
        plains = [("plain_bertopic", "all-MiniLM-L6-v2", "float32")]
        if args.profile == "fast":
            plains.append(("plain_bertopic_same_model", "minilm-static", "float32"))
        elif _uses_bfloat16(env):
            # and with the bfloat16 arithmetic vocseg runs MiniLM in on this CPU
            plains.append(("plain_bertopic_same_backend", "all-MiniLM-L6-v2", "bfloat16"))

        def plain_run(key: str, embedding: str, precision: str) -> dict:
            out = work / f"{key}.json"
            m = run_measured(
                [sys.executable, __file__, "--_plain", str(data), str(out), embedding, precision],
                env=env,
            )
            if m["returncode"] != 0:
                raise SystemExit(f"plain BERTopic ({embedding}) failed")
            plain = json.loads(out.read_text())
            print(f"{key}: {m['seconds']:.1f} s", file=sys.stderr, flush=True)
            return {
                "embedding": embedding,
                "precision": precision,
                "seconds": m["seconds"],
                "peak_rss_mb": m["peak_rss_mb"],
                "embed_seconds": plain["embed_seconds"],
                "fit_seconds": plain["fit_seconds"],
                "nmi": nmi({k: v for k, v in plain["topics"].items()}, gold),
                "unassigned_share": round(
                    sum(1 for v in plain["topics"].values() if v == -1)
                    / max(1, len(plain["topics"])),
                    4,
                ),
            }

        conf = None
        if PROFILES[args.profile]:
            conf = work / "vocseg.toml"
            conf.write_text(PROFILES[args.profile], encoding="utf-8")
        db = work / "bench.db"

        def vocseg_run() -> dict:
            for stale in work.glob("bench.db*"):  # a store from an earlier repetition
                if stale.is_dir():
                    shutil.rmtree(stale)
                else:
                    stale.unlink()
            steps, total, peak = {}, 0.0, 0.0
            for name, cmd in vocseg_steps(db, data, work, conf):
                m = run_measured(cmd, env=env, cwd=work)
                if m["returncode"] != 0:
                    raise SystemExit(f"vocseg {name} failed with exit {m['returncode']}")
                steps[name] = m
                print(
                    f"vocseg {name}: {m['seconds']:.1f} s, {m['peak_rss_mb']:.0f} MB",
                    file=sys.stderr,
                    flush=True,
                )
                total += m["seconds"]
                peak = max(peak, m["peak_rss_mb"])
            con = sqlite3.connect(db)
            assign = {
                ext: (-1 if tid is None else tid)
                for ext, tid in con.execute(
                    "SELECT d.external_id, dt.topic_id FROM documents d JOIN document_topics dt ON dt.document_id = d.id"
                )
            }
            unassigned = con.execute(
                "SELECT COUNT(*) FROM document_topics WHERE topic_id IS NULL"
            ).fetchone()[0]
            con.close()
            return {
                "seconds": round(total, 3),
                "peak_rss_mb": peak,
                "steps": {
                    k: {"seconds": v["seconds"], "peak_rss_mb": v["peak_rss_mb"]}
                    for k, v in steps.items()
                },
                "nmi": nmi(assign, gold),
                "unassigned_share": round(unassigned / max(1, len(assign)), 4),
            }

        def mean_of(runs: list[dict]) -> dict:
            """The last run's figures, with the mean time over ``runs`` (each run's time and
            NMI kept: plain BERTopic's UMAP is unseeded, vocseg's is seeded)."""
            if len(runs) == 1:
                return runs[0]
            return {**runs[-1], "seconds": round(sum(r["seconds"] for r in runs) / len(runs), 3),
                    "runs_seconds": [r["seconds"] for r in runs], "runs_nmi": [r["nmi"] for r in runs]}

        more = work / "more.csv"
        write_csv(extra_rows, more)

        def update_run() -> float:
            """The weekly update on the store a vocseg run left: 1% more documents, then a
            report that brings every stage up to date."""
            exe = vocseg_cmd(db, conf)
            upd = 0.0
            for cmd in (
                ingest_cmd(exe, more),
                exe + ["report", "--format", "html", "--out", str(work / "r2.html")],
            ):
                m = run_measured(cmd, env=env, cwd=work)
                if m["returncode"] != 0:
                    raise SystemExit(f"update step failed: {cmd[5:7]}")
                upd += m["seconds"]
            print(f"vocseg update: {upd:.1f} s", file=sys.stderr, flush=True)
            return upd

        # (a) as a notebook runs it, and (b), alternating ABBA so that drift hits both alike;
        # each vocseg run is followed by an update of its store (a short run, so the mean of
        # one per repetition)
        reps = max(1, args.repeat)
        plain_runs: list[dict] = []
        vocseg_runs: list[dict] = []
        update_seconds: list[float] = []
        for i in range(reps):
            first, second = ("plain", "vocseg") if i % 2 == 0 else ("vocseg", "plain")
            for side in (first, second):
                if side == "plain" and not args.skip_plain:
                    plain_runs.append(plain_run(*plains[0]))
                elif side == "vocseg":
                    vocseg_runs.append(vocseg_run())
                    update_seconds.append(update_run())
        if plain_runs:
            result[plains[0][0]] = mean_of(plain_runs)
        for key, embedding, precision in [] if args.skip_plain else plains[1:]:
            result[key] = plain_run(key, embedding, precision)
        result["repeat"] = reps
        peak = max(r["peak_rss_mb"] for r in vocseg_runs)
        result["vocseg"] = {**mean_of(vocseg_runs), "peak_rss_mb": peak}
        total = result["vocseg"]["seconds"]
        if "plain_bertopic" in result:
            result["ratio_vocseg_over_plain"] = round(
                total / result["plain_bertopic"]["seconds"], 3
            )
        for kind in ("same_model", "same_backend"):
            if f"plain_bertopic_{kind}" in result:
                result[f"ratio_vocseg_over_plain_{kind}"] = round(
                    total / result[f"plain_bertopic_{kind}"]["seconds"], 3
                )
        update_runs = [round(u, 3) for u in update_seconds]
        upd = sum(update_runs) / len(update_runs)
        result["update"] = {
            "docs": len(extra_rows),
            "seconds": round(upd, 3),
            "fraction_of_full_run": round(upd / total, 4),
        }
        if len(update_runs) > 1:
            result["update"]["runs_seconds"] = update_runs
    targets: dict = {}
    if "plain_bertopic" in result:
        targets["time_ratio<=1.0"] = result["ratio_vocseg_over_plain"] <= 1.0
        targets["nmi>=plain"] = result["vocseg"]["nmi"] >= result["plain_bertopic"]["nmi"]
    for kind in ("same_model", "same_backend"):
        if f"plain_bertopic_{kind}" in result:
            same = result[f"plain_bertopic_{kind}"]
            targets[f"time_ratio_{kind}<=1.0"] = result[f"ratio_vocseg_over_plain_{kind}"] <= 1.0
            targets[f"nmi>=plain_{kind}"] = result["vocseg"]["nmi"] >= same["nmi"]
    targets["update_share<=5%"] = result["update"]["fraction_of_full_run"] <= 0.05
    if args.docs >= 200_000:
        targets["minutes<20"] = total < 20 * 60
        targets["peak_rss_mb<4000"] = peak < 4000
    result["targets"] = targets
    result["versions"] = versions(
        "bertopic", "sentence-transformers", "spacy", "torch", "umap-learn", "hdbscan"
    )
    emit(result)


if __name__ == "__main__":
    main()
