"""Demo corpus generation time and the demo's ingest time, at scale 1.0 (or --scale).

Prints one JSON object: seconds to generate (best of --repeat), rows written per file,
seconds to ingest every file into a fresh store (`vocseg demo --no-stages`, in its own
process), peak RSS of each, and the store's row counts.

    python benchmarks/demo_corpus.py [--scale 1.0] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, emit, peak_rss_mb, run_measured, versions

sys.path.insert(0, str(ROOT))
from vocseg import demo_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        times, summary = [], {}
        for i in range(args.repeat):
            t0 = time.perf_counter()
            summary = demo_corpus.generate(Path(tmp) / f"g{i}", seed=args.seed, scale=args.scale)
            times.append(time.perf_counter() - t0)
        out = Path(tmp) / "demo"
        vocseg = [sys.executable, "-m", "vocseg"]
        ingest = run_measured(vocseg + ["--quiet", "--db", str(out / "vocseg.db"), "demo", "--out", str(out),
                                        "--seed", str(args.seed), "--scale", str(args.scale), "--no-stages"],
                              cwd=ROOT)
        info = json.loads(subprocess.run(vocseg + ["--db", str(out / "vocseg.db"), "db", "info", "--json"],
                                         cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    tables = info["tables"]
    emit({
        "benchmark": "demo_corpus",
        "corpus": f"vocseg demo corpus, seed {args.seed}, scale {args.scale}",
        "n": {"customers": summary["customers"], "transactions": summary["transactions"],
              "documents": summary["documents"]},
        "generate_seconds_best": round(min(times), 3),
        "generate_seconds_all": [round(t, 3) for t in times],
        "generate_peak_rss_mb": peak_rss_mb(),
        "files": summary["files"],
        "demo_no_stages": ingest,
        "store": {k: tables.get(k) for k in ("documents", "customers", "transactions", "quarantine")},
        "target": "generation at scale 1.0 takes a few seconds",
        "versions": versions("pandas", "openpyxl"),
    })


if __name__ == "__main__":
    main()
