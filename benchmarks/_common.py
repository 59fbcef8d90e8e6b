"""Shared helpers for the benchmark scripts: machine facts, versions, peak RSS, timing."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("VOCSEG_SHARED", ROOT.parent / "shared")) / "corpora"


def machine() -> dict:
    """Cores, memory, CPU model and Python: printed with every figure."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(mem / 2**30, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def versions(*packages: str) -> dict:
    out = {}
    for name in ("vocseg", *packages):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident memory of this process (or of its reaped children), in MB."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)


@contextmanager
def timed(into: dict, key: str):
    t0 = time.perf_counter()
    yield
    into[key] = round(time.perf_counter() - t0, 3)


def run_measured(cmd: list[str], **kw) -> dict:
    """Run a command as a child process; its wall seconds and peak RSS (via /usr/bin/time-like wait4)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, **kw)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": round(wall, 3), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "returncode": proc.returncode}


def emit(result: dict) -> None:
    """Print the one JSON object a benchmark script outputs."""
    result.setdefault("machine", machine())
    result.setdefault("commit", git_commit())
    result.setdefault("date", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    json.dump(result, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
