"""Render benchmarks/results/*.json as one Markdown table, for the README.

    python benchmarks/table.py                   # print the table
    python benchmarks/table.py --write README.md # replace the part between the bench markers

Each results file is the one JSON object a ``benchmarks/<name>.py`` script printed. Known
benchmarks get their headline figures and targets; any other file gets a generic row from its
top-level numbers, so a new benchmark shows up before anyone writes a formatter for it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
HEADER = (
    "| benchmark | corpus | n | headline figures | target | machine | date, commit |\n"
    "| --- | --- | --- | --- | --- | --- | --- |"
)

Row = dict[str, str]


# --- formatting helpers ---------------------------------------------------------------


def num(x: Any) -> str:
    """A figure as people read it: 19,097 / 585.4 / 0.733."""
    if isinstance(x, bool) or x is None:
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        if abs(x) >= 1000:
            return f"{x:,.0f}"
        if abs(x) >= 10:
            return f"{x:.1f}"
        return f"{x:.3g}"
    return str(x)


def pct(x: Any) -> str:
    return f"{100 * x:.1f}%" if isinstance(x, int | float) else "?"


def met(ok: Any) -> str:
    return "met" if ok else "**missed**"


def cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip() or "—"


def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def _machine(data: dict) -> str:
    m = data.get("machine") or {}
    parts = []
    if m.get("cores"):
        parts.append(f"{m['cores']} cores")
    mem = m.get("memory_gb") or m.get("memory_gib")
    if mem:
        parts.append(f"{num(mem)} GB")
    cpu = (m.get("cpu") or "").replace("(R)", "").replace("(TM)", "")
    cpu = " ".join(w for w in cpu.split() if w not in ("Processor", "CPU"))
    if cpu:
        parts.append(cpu)
    load = None
    for src in (data, m):
        for key, value in src.items():
            if key.startswith("load_av") and load is None:
                load = value
    if isinstance(load, int | float):
        parts.append(f"load {load:.1f}")
    elif isinstance(load, list) and load:
        parts.append("load " + "/".join(f"{v:.1f}" for v in load))
    return ", ".join(parts)


def _when(data: dict) -> str:
    date = str(data.get("date") or "")[:10]
    commit = data.get("commit") or _get(data, "machine", "commit") or ""
    return " ".join(p for p in (date, commit) if p)


def _n(data: dict) -> str:
    n = data.get("n", data.get("docs"))
    if isinstance(n, dict):
        return ", ".join(f"{num(v)} {k}" for k, v in n.items())
    return num(n) if n is not None else ""


def _pretty_key(key: str) -> str:
    """``rows_per_s>=50000`` -> ``rows/s ≥ 50,000``."""
    for op, shown in ((">=", "≥"), ("<=", "≤"), (">", ">"), ("<", "<")):
        if op in key:
            name, _, value = key.partition(op)
            try:
                value = num(int(value))
            except ValueError:
                pass
            unit = " MB" if name.endswith("_mb") else ""
            name = name.removesuffix("_mb").replace("_per_s", "/s").replace("_", " ")
            return f"{name.replace('rss', 'RSS')} {shown} {value}{unit}"
    return key.replace("_", " ")


def _generic_targets(data: dict) -> str:
    t = data.get("targets", data.get("target"))
    parts = []
    if isinstance(t, dict):
        for k, v in t.items():
            parts.append(
                f"{_pretty_key(k)}: {met(v)}"
                if isinstance(v, bool)
                else f"{_pretty_key(k)} {num(v)}"
            )
    elif t is not None:
        parts.append(str(t))
    if "meets_target" in data:
        parts.append(met(data["meets_target"]))
    return "; ".join(parts)


def _row(name: str, data: dict, figures: str, target: str) -> Row:
    return {
        "benchmark": name,
        "corpus": data.get("corpus", ""),
        "n": _n(data),
        "figures": figures,
        "target": target,
        "machine": _machine(data),
        "when": _when(data),
    }


# --- known benchmarks -------------------------------------------------------------------


def _pipeline(name: str, d: dict) -> list[Row]:
    v, p, u = d.get("vocseg") or {}, d.get("plain_bertopic") or {}, d.get("update") or {}
    figs = []
    if v:
        steps = ", ".join(
            f"{k} {num(_get(s, 'seconds'))} s" for k, s in (v.get("steps") or {}).items()
        )
        figs.append(
            f"vocseg end to end {num(v.get('seconds'))} s"
            + (f" ({steps})" if steps else "")
            + f", peak RSS {num(v.get('peak_rss_mb'))} MB, topic NMI {num(v.get('nmi'))}"
        )
    if d.get("profile") and d["profile"] != "default":
        figs.insert(0, f"profile {d['profile']}")
    if p:
        precision = f", {p['precision']}" if p.get("precision") else ""
        figs.append(
            f"plain BERTopic ({p.get('embedding', 'all-MiniLM-L6-v2')}{precision}) "
            f"{num(p.get('seconds'))} s, peak RSS {num(p.get('peak_rss_mb'))} MB, NMI {num(p.get('nmi'))}"
        )
    if d.get("ratio_vocseg_over_plain") is not None:
        runs = ""
        if v.get("runs_seconds") and p.get("runs_seconds"):
            runs = (
                f" (means of {len(v['runs_seconds'])} runs each, plain and vocseg alternating: "
                f"plain {', '.join(num(x) for x in p['runs_seconds'])} s, "
                f"vocseg {', '.join(num(x) for x in v['runs_seconds'])} s)"
            )
        figs.append(f"vocseg / plain time {num(d['ratio_vocseg_over_plain'])}x{runs}")
    for kind in ("same_model", "same_backend"):
        same = d.get(f"plain_bertopic_{kind}") or {}
        if same:
            what = (
                f"vocseg's model ({same.get('embedding')})"
                if kind == "same_model"
                else f"vocseg's {same.get('precision')} MiniLM"
            )
            figs.append(
                f"plain BERTopic with {what} {num(same.get('seconds'))} s, "
                f"NMI {num(same.get('nmi'))}: vocseg / it "
                f"{num(d.get(f'ratio_vocseg_over_plain_{kind}'))}x"
            )
    if u.get("fraction_of_full_run") is not None:
        more = f" ({num(u['docs'])} more documents)" if u.get("docs") else ""
        runs = (
            f" (mean {num(u.get('seconds'))} s of {', '.join(num(x) for x in u['runs_seconds'])} s)"
            if u.get("runs_seconds")
            else ""
        )
        figs.append(
            f"incremental update{more}: {pct(u['fraction_of_full_run'])} of the full run's time{runs}"
        )
    return [_row(name, d, "; ".join(figs), _generic_targets(d))]


def _ingest(name: str, d: dict) -> list[Row]:
    i = d.get("ingest") or {}
    figs = [
        f"{num(i.get('rows_per_s'))} rows/s ({num(i.get('seconds'))} s)",
        f"peak RSS {num(i.get('peak_rss_mb'))} MB",
    ]
    if d.get("ratio_ingest_to_bare") is not None:
        figs.append(f"{num(d['ratio_ingest_to_bare'])}x the time of a bare `sqlite-utils insert`")
    return [_row(name, d, "; ".join(figs), _generic_targets(d))]


def _enrich(name: str, d: dict) -> list[Row]:
    target = d.get("target") or {}
    rows = []
    for profile, p in (d.get("profiles") or {}).items():
        mem = p.get("peak_pss_mb_all_processes", p.get("peak_rss_mb"))
        figs = [
            (
                f"{num(p.get('docs_per_s'))} docs/s "
                f"({num(p.get('docs_per_s_with_model_loading'))} incl. model loading)"
            ),
            (
                f"peak RSS {num(p.get('peak_rss_mb'))} MB main process, "
                f"summed PSS {num(p.get('peak_pss_mb_all_processes'))} MB"
            ),
        ]
        f1 = _get(p, "sentiment_quality_held_out", "airline_macro_f1")
        if f1 is not None:
            figs.append(f"airline macro-F1 {num(f1)}")
        goals = []
        if "docs_per_s" in target and p.get("docs_per_s") is not None:
            goals.append(
                f"≥ {num(target['docs_per_s'])} docs/s: {met(p['docs_per_s'] >= target['docs_per_s'])}"
            )
        if "peak_rss_mb" in target and mem is not None:
            which = "summed PSS" if "peak_pss_mb_all_processes" in p else "peak RSS"
            goals.append(
                f"{which} ≤ {num(target['peak_rss_mb'])} MB: {met(mem <= target['peak_rss_mb'])}"
            )
        rows.append(
            _row(f"{d.get('benchmark', name)} ({profile})", d, "; ".join(figs), "; ".join(goals))
        )
    return rows or [_generic(name, d)[0]]


def _sentiment(name: str, d: dict) -> list[Row]:
    figs = []
    for r in d.get("table") or []:
        models = [k for k in r if k not in ("corpus", "metric", "vader")]
        metric = str(r.get("metric", "")).split()[0]
        ours = " / ".join(num(r.get(m)) for m in models)
        figs.append(f"{r.get('corpus')} {metric} {ours} vs VADER {num(r.get('vader'))}")
    t = d.get("targets") or {}
    goals = []
    if "airline_gain_target" in t:
        for prefix, who in (("", ""), ("fast_", "fast: ")):
            gain = t.get(f"{prefix}airline_macro_f1_gain_over_vader")
            if gain is None:
                continue
            goals.append(
                f"{who}airline macro-F1 ≥ VADER + {num(t['airline_gain_target'])}: "
                f"{met(gain >= t['airline_gain_target'])} (+{num(gain)})"
            )
    for k, v in t.items():
        if isinstance(v, bool):
            goals.append(f"{k.replace('_', ' ')}: {met(v)}")
    return [_row(name, d, "; ".join(figs), "; ".join(goals))]


def _topics(name: str, d: dict) -> list[Row]:
    v, p = d.get("vocseg") or {}, d.get("plain_bertopic") or {}
    figs = [
        f"NMI {num(v.get('nmi'))} vs plain BERTopic {num(p.get('nmi'))}"
        + (f" ({num(d['nmi_ratio'])}x)" if d.get("nmi_ratio") is not None else ""),
        f"unassigned {pct(v.get('unassigned_share'))} vs {pct(p.get('unassigned_share'))}",
        f"{num(v.get('topics'))} vs {num(p.get('topics'))} topics",
        f"{num(v.get('seconds'))} s vs {num(p.get('seconds'))} s",
    ]
    t = d.get("targets") or {}
    goals = []
    if "nmi_ratio_at_least" in t and d.get("nmi_ratio") is not None:
        goals.append(
            f"NMI ratio ≥ {num(t['nmi_ratio_at_least'])}: {met(d['nmi_ratio'] >= t['nmi_ratio_at_least'])}"
        )
    if "unassigned_share_at_most" in t and v.get("unassigned_share") is not None:
        goals.append(
            f"unassigned ≤ {pct(t['unassigned_share_at_most'])}: "
            f"{met(v['unassigned_share'] <= t['unassigned_share_at_most'])}"
        )
    return [_row(name, d, "; ".join(figs), "; ".join(goals))]


def _crawl(name: str, d: dict) -> list[Row]:
    f, r = d.get("first_crawl") or {}, d.get("incremental_rerun") or {}
    figs = [
        (
            f"{num(f.get('pages_per_s'))} pages/s, {num(f.get('items_per_s'))} items/s "
            f"({num(f.get('pages_per_s_wall'))} pages/s wall, storing included)"
        ),
    ]
    if r:
        figs.append(
            f"incremental rerun: {num(r.get('pages'))} pages fetched, {num(r.get('inserted'))} new"
        )
    goal = ""
    if "target_pages_per_s" in d:
        goal = f"≥ {num(d['target_pages_per_s'])} pages/s: {met(d.get('meets_target'))}"
    return [_row(name, d, "; ".join(figs), goal)]


def _segments(name: str, d: dict) -> list[Row]:
    f, s = d.get("first_run") or {}, d.get("second_run_nothing_new") or {}
    figs = [f"`vocseg segment` {num(f.get('seconds'))} s, peak RSS {num(f.get('peak_rss_mb'))} MB"]
    if s:
        figs.append(f"rerun with nothing new {num(s.get('seconds'))} s")
    t = d.get("target") or {}
    goal = " and ".join(
        f"< {num(t[k])} {unit}" for k, unit in (("seconds", "s"), ("peak_rss_mb", "MB")) if k in t
    )
    if "meets_target" in d:
        goal = f"{goal}: {met(d['meets_target'])}" if goal else met(d["meets_target"])
    return [_row(name, d, "; ".join(figs), goal)]


def _demo_recovery(name: str, d: dict) -> list[Row]:
    rising = d.get("rising_topics") or []
    top = rising[0] if rising else {}
    prec = d.get("cohort_precision") or {}
    figs = [
        (
            f'top rising topic "{top.get("label", "—")}" (q {num(top.get("q_value"))}) '
            f"{'is' if d.get('top_rising_is_surge') else 'is not'} the planted surge"
        ),
        f"{num(d.get('other_topics_called_rising'))} other topics called rising",
        f"need clusters vs planted segments ARI {num(d.get('need_segment_ari'))}",
        f"cohort precision happy {num(prec.get('happy'))}, unhappy {num(prec.get('unhappy'))}",
        f"topic/theme NMI {num(d.get('topic_theme_nmi'))}, unassigned {pct(d.get('unassigned_share'))}",
    ]
    goals = [
        "surge top rising with q < 0.01: "
        + met(bool(d.get("top_rising_is_surge")) and (top.get("q_value") or 1) < 0.01),
    ]
    if d.get("need_segment_ari") is not None:
        goals.append(f"ARI ≥ 0.6: {met(d['need_segment_ari'] >= 0.6)}")
    if prec.get("unhappy") is not None:
        goals.append(f"unhappy precision ≥ 0.9: {met(prec['unhappy'] >= 0.9)}")
    return [_row(name, d, "; ".join(figs), "; ".join(goals))]


def _segments_real(name: str, d: dict) -> list[Row]:
    n = d.get("n") or {}
    cohorts = d.get("cohorts") or {}
    grid = d.get("grid") or {}
    cells = sorted(
        ((c, sat, k) for sat, row in grid.items() for k, c in row.items()), reverse=True
    )[:4]
    clusters = d.get("clusters") or {}
    t = d.get("timings_s") or {}
    figs = [
        (
            f"{num(d.get('customers'))} buyers, {num(d.get('with_feedback'))} with reviews, "
            f"{num(_get(n, 'transactions', 'inserted'))} transactions"
        ),
        "cohorts " + ", ".join(f"{k} {num(v)}" for k, v in cohorts.items()),
        "largest cells " + ", ".join(f"{sat}-{k} {num(c)}" for c, sat, k in cells),
        f"{num(clusters.get('k'))} clusters (silhouette {num(clusters.get('silhouette'))})",
        f"`vocseg segment` {num(t.get('segment'))} s after enrich {num(t.get('enrich'))} s",
    ]
    row = _row(name, d, "; ".join(figs), "runs on real text and purchases (pairing artificial)")
    row["n"] = num(d.get("customers"))
    return [row]


def _generic(name: str, d: dict) -> list[Row]:
    skip = {"n", "docs"}
    figs = [
        f"{k} {num(v)}"
        for k, v in d.items()
        if k not in skip and isinstance(v, int | float) and not isinstance(v, bool)
    ]
    return [_row(name, d, "; ".join(figs), _generic_targets(d))]


FORMATTERS: dict[str, Callable[[str, dict], list[Row]]] = {
    "pipeline": _pipeline,
    "ingest": _ingest,
    "enrich": _enrich,
    "sentiment": _sentiment,
    "topics": _topics,
    "crawl": _crawl,
    "segments": _segments,
    "demo_recovery": _demo_recovery,
    "segments_real": _segments_real,
}
ORDER = [
    "pipeline",
    "ingest",
    "crawl",
    "enrich",
    "sentiment",
    "topics",
    "segments",
    "demo_recovery",
]


# --- public functions -------------------------------------------------------------------


def load(results: Path = RESULTS) -> list[tuple[str, dict]]:
    """(file stem, object) for each results file, known benchmarks in pipeline order first."""
    found = []
    for path in sorted(results.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            print(f"warning: skipped {path}: {exc}", file=sys.stderr)
            continue
        if isinstance(data, dict):
            found.append((path.stem, data))

    def rank(item: tuple[str, dict]) -> tuple[int, str]:
        kind = item[1].get("benchmark", item[0])
        return (ORDER.index(kind) if kind in ORDER else len(ORDER), item[0])

    return sorted(found, key=rank)


def rows(results: list[tuple[str, dict]]) -> list[Row]:
    out: list[Row] = []
    for stem, data in results:
        kind = data.get("benchmark", stem)
        out.extend(FORMATTERS.get(kind, _generic)(stem, data))
    return out


def render(results: list[tuple[str, dict]]) -> str:
    """The Markdown table (no trailing newline)."""
    lines = [HEADER]
    for r in rows(results):
        lines.append(
            "| "
            + " | ".join(
                cell(r[k])
                for k in ("benchmark", "corpus", "n", "figures", "target", "machine", "when")
            )
            + " |"
        )
    return "\n".join(lines)


def splice(text: str, table: str) -> str:
    """Replace what lies between the bench markers in ``text`` with ``table``."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"markers {START} ... {END} not found (in that order)")
    return text[: start + len(START)] + "\n" + table + "\n" + text[end:]


def between_markers(text: str) -> str:
    """What lies between the bench markers, without the surrounding newlines."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"markers {START} ... {END} not found (in that order)")
    return text[start + len(START) : end].strip("\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, default=RESULTS, help="folder of results/*.json")
    ap.add_argument("--write", type=Path, help="file whose bench markers get the table")
    args = ap.parse_args(argv)
    table = render(load(args.results))
    if args.write is None:
        print(table)
        return 0
    try:
        new = splice(args.write.read_text(encoding="utf-8"), table)
    except (OSError, ValueError) as exc:
        print(f"error: {args.write}: {exc}", file=sys.stderr)
        return 1
    args.write.write_text(new, encoding="utf-8")
    print(f"wrote the benchmark table into {args.write}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
