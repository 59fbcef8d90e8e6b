"""Crawl speed: `vocseg crawl reviews` over a local fixture shop, throttling off.

Serves tests/crawl_site.py's shop from 127.0.0.1 (a thread of this process) with
--products products of --pages pages of --per-page JSON-LD reviews, then runs
vocseg.crawl.crawl("reviews") (what `vocseg crawl reviews` runs) in a child process with
download delay 0, AutoThrottle off and --concurrency requests in flight (robots.txt still
obeyed), into a fresh store.
Prints ONE JSON object: pages/s and items/s of the first crawl (the crawl's own clock,
from reactor start to the last batch stored through ingest, and the process wall clock
including start-up), pages per CPU-second of the crawl process, the 1-minute load average
(the site server runs in this process: on a busy machine both compete for the cores), and
the same for an incremental rerun. Target: >= 200 pages/s.

Example: .venv/bin/python benchmarks/crawl.py --products 100 --pages 10 --per-page 5
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, emit, versions

sys.path.insert(0, str(ROOT / "tests"))
from crawl_site import Server, Site

# The library call in a child process (one reactor per process), as `vocseg crawl` makes
# it, without the CLI's start-up imports of the other stages.
RUN = """
import json, sys
from vocseg import config, crawl, store
db, cfg_path, url = sys.argv[1:4]
cfg = config.load(cfg_path)
args = {"start_urls": url + "/", "follow": "a.product"}
res = crawl.crawl(store.open(db), "reviews", args, cfg.crawl, ingest_cfg=cfg.ingest)
print(json.dumps(res.as_dict()))
"""


def run_crawl(db: Path, cfg: Path, url: str) -> tuple[dict, float, float]:
    cmd = [sys.executable, "-c", RUN, str(db), str(cfg), url]
    t0 = time.perf_counter()
    cpu0 = _child_cpu()
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        cwd=db.parent,
        check=False,
        env={**os.environ, "VOCSEG_DB": ""},
    )
    wall = time.perf_counter() - t0
    cpu = _child_cpu() - cpu0
    if proc.returncode != 0:
        sys.exit(f"crawl failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(proc.stdout), wall, cpu


def _child_cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def figures(res: dict, wall: float, cpu: float) -> dict:
    s = res["seconds"]
    return {
        "pages": res["pages"],
        "items": res["items"],
        "inserted": res["inserted"],
        "duplicates": res["duplicates"],
        "quarantined": res["quarantined"],
        "crawl_seconds": s,
        "process_seconds": round(wall, 3),
        "pages_per_s": round(res["pages"] / s, 1),
        "items_per_s": round(res["items"] / s, 1),
        "pages_per_s_wall": round(res["pages"] / wall, 1),
        # CPU seconds of the crawl process (start-up included): throughput per core used,
        # the figure to compare when other work shares the machine
        "process_cpu_seconds": round(cpu, 3),
        "pages_per_cpu_s": round(res["pages"] / cpu, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=100)
    ap.add_argument("--pages", type=int, default=10, help="review pages per product")
    ap.add_argument("--per-page", type=int, default=5)
    ap.add_argument("--concurrency", type=int, default=32)
    a = ap.parse_args()

    site = Site(products=a.products, pages_per_product=a.pages, per_page=a.per_page)
    with tempfile.TemporaryDirectory() as tmp, Server(site) as srv:
        tmp = Path(tmp)
        cfg = tmp / "vocseg.toml"
        cfg.write_text(
            "[crawl]\ndownload_delay = 0.0\nautothrottle = false\nretry_backoff = 0.0\n"
            f"concurrency = {a.concurrency}\nconcurrency_per_domain = {a.concurrency}\n"
        )
        db = tmp / "bench.db"
        load_before = os.getloadavg()[0]
        first, wall1, cpu1 = run_crawl(db, cfg, srv.url)
        rerun, wall2, cpu2 = run_crawl(db, cfg, srv.url)
        load_after = os.getloadavg()[0]
    fig = figures(first, wall1, cpu1)
    emit(
        {
            "benchmark": "crawl",
            "what": "vocseg crawl reviews over a local JSON-LD shop (127.0.0.1), throttling off, "
            "robots.txt obeyed, items stored through vocseg.ingest",
            "corpus": f"tests/crawl_site.py shop: {a.products} products x {a.pages} pages x "
            f"{a.per_page} reviews, plus microdata, broken, flaky and robots-disallowed pages",
            "n": first["pages"],
            "concurrency": a.concurrency,
            "target_pages_per_s": 200,
            "meets_target": fig["pages_per_s"] >= 200,
            "first_crawl": fig,
            "incremental_rerun": figures(rerun, wall2, cpu2),
            "load_avg_1m": [round(load_before, 2), round(load_after, 2)],
            "versions": versions("scrapy", "twisted", "extruct", "sqlite-utils"),
        }
    )


if __name__ == "__main__":
    main()
