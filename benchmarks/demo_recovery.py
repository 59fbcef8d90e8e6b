"""How much of the demo corpus's planted truth the whole pipeline recovers.

Runs `vocseg demo` (every installed stage) into a temporary folder, or evaluates an existing
demo folder given with --existing, and prints one JSON object: the report's rising topics and
whether the top one is the planted surge, topic/theme NMI, adjusted Rand index of the need
clusters against the planted need segments, and precision of the happy/unhappy cohorts.

    python benchmarks/demo_recovery.py [--scale 1.0] [--seed 7] [--existing demo]

The defaults are `make demo`'s (seed 7, scale 1.0: about 3,000 customers, 2 minutes here), the
corpus the acceptance figures of issues 5 and 6 are stated on.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, emit, run_measured, versions


def evaluate(folder: Path) -> dict:
    con = sqlite3.connect(folder / "vocseg.db")
    planted = json.loads((folder / "truth" / "planted.json").read_text())
    truth_docs = pd.read_csv(folder / "truth" / "documents.csv", dtype=str, keep_default_na=False)
    truth_customers = pd.read_csv(folder / "truth" / "customers.csv")
    docs = pd.read_sql(
        "SELECT d.external_id, s.name AS source, dt.topic_id, t.label FROM documents d "
        "JOIN sources s ON s.id = d.source_id LEFT JOIN document_topics dt ON dt.document_id = d.id "
        "LEFT JOIN topics t ON t.id = dt.topic_id WHERE d.role IS NOT 'agent'",
        con,
    )
    docs = docs.merge(truth_docs[["external_id", "source", "theme"]], on=["external_id", "source"])
    surge_topic = docs[docs.theme == planted["surge_theme"]].topic_id.mode()
    report = json.loads(
        subprocess.run(
            [
                sys.executable,
                "-m",
                "vocseg",
                "--db",
                str(folder / "vocseg.db"),
                "report",
                "--format",
                "json",
                "--no-update",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    rising = [t for t in report["topics"] if t["direction"] == "rising"]
    surge = int(surge_topic.iloc[0]) if len(surge_topic) else None
    top_is_surge = bool(rising) and surge is not None and int(rising[0]["id"]) == surge
    members = pd.read_sql(
        "SELECT s.kind, s.name, c.external_id AS customer FROM segment_memberships m "
        "JOIN segments s ON s.id = m.segment_id JOIN customers c ON c.id = m.customer_id "
        "WHERE m.valid_to IS NULL",
        con,
    ).merge(truth_customers, on="customer")
    clusters = members[members.kind == "cluster"]
    cohorts = members[members.kind == "satisfaction"]
    precision = {
        k: round(float((cohorts[cohorts.name == k].satisfaction == k).mean()), 3)
        for k in ("happy", "unhappy")
    }
    return {
        "n": con.execute("SELECT COUNT(*) FROM documents").fetchone()[0],
        "surge_theme": planted["surge_theme"],
        "surge_topic": surge,
        "rising_topics": [
            {"id": t["id"], "label": t["label"], "q_value": t["q_value"]} for t in rising
        ],
        "top_rising_is_surge": top_is_surge,
        "other_topics_called_rising": len(rising) - int(top_is_surge),
        "topics": int(docs.topic_id.nunique()),
        "topic_theme_nmi": round(
            normalized_mutual_info_score(docs.theme, docs.topic_id.fillna(-1)), 3
        ),
        "unassigned_share": round(float(docs.topic_id.isna().mean()), 3),
        "clusters": int(clusters.name.nunique()),
        "cluster_customers_with_truth": len(clusters),
        "need_segment_ari": round(adjusted_rand_score(clusters.need_segment, clusters.name), 3),
        "cohort_precision": precision,
        "cohort_sizes": cohorts.name.value_counts().to_dict(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--existing", type=Path, help="evaluate this demo folder instead of running one"
    )
    args = parser.parse_args()
    if args.existing:
        emit(
            {
                "benchmark": "demo_recovery",
                "corpus": f"vocseg demo corpus in {args.existing}/ (as `make demo` builds it)",
                **evaluate(args.existing),
                "versions": versions("bertopic", "sentence-transformers", "spacy"),
            }
        )
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "demo"
        run = run_measured(
            [
                sys.executable,
                "-m",
                "vocseg",
                "--quiet",
                "--db",
                str(out / "vocseg.db"),
                "demo",
                "--out",
                str(out),
                "--seed",
                str(args.seed),
                "--scale",
                str(args.scale),
            ],
            cwd=ROOT,
        )
        if run["returncode"] != 0:
            raise SystemExit(f"vocseg demo failed: {run}")
        emit(
            {
                "benchmark": "demo_recovery",
                "corpus": f"vocseg demo corpus, seed {args.seed}, scale {args.scale}",
                "demo_run": run,
                **evaluate(out),
                "targets": "surge is the top rising topic (q < 0.01), no stable theme significant (#5); "
                "need-segment ARI >= 0.6, unhappy precision >= 0.9 (#6)",
                "versions": versions("bertopic", "sentence-transformers", "spacy"),
            }
        )


if __name__ == "__main__":
    main()
