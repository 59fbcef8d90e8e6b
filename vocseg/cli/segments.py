"""Segment and cohort commands: segment, segments list|show|audit, cohorts list|export|push, lookalike."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vocseg.cli._common import print_json, progress, say, state
from vocseg.errors import Errors, UsageError

# The library modules (scikit-learn, scipy, pandas) are imported inside each command, so
# `vocseg --help` and the other stages' commands start without them.

segments_app = typer.Typer(help="Customer segments: list, show, audit.", no_args_is_help=True)
cohorts_app = typer.Typer(help="CRM cohorts: list, export, push.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
COHORT_KINDS = ("satisfaction", "cohort", "custom")


def _fresh(st, cfg):
    """Bring enrich and segments up to date before reading them (like `vocseg report`)."""
    from vocseg import segments

    db = st.open_db()
    with progress(st, "Updating segments", None) as update:
        segments.update(db, cfg, progress=update)
    return db


def _grid_table(grid: dict[str, dict[str, int]]) -> list[str]:
    from vocseg import segments

    cols = sorted({k for row in grid.values() for k in row})
    lines = [
        "  " + "rfm segment".ljust(22) + "".join(s.rjust(10) for s in segments.core.SATISFACTION)
    ]
    for c in cols:
        lines.append(
            "  "
            + c.ljust(22)
            + "".join(str(grid.get(s, {}).get(c, 0)).rjust(10) for s in segments.core.SATISFACTION)
        )
    return lines


def segment(ctx: typer.Context, json: JsonOpt = False) -> None:
    """Recompute customer features and all segments (cohort grid, RFM, clusters, custom).

    Enriches new documents first when the enrich stage is installed. Membership changes are
    kept with valid-from/to dates, so movements between segments stay visible.

    Example: vocseg segment --json
    """
    from vocseg import segments

    st = state(ctx)
    cfg = st.load_config()
    db = st.open_db()
    with progress(st, "Segmenting", None) as update:
        result = segments.update(db, cfg, progress=update, force=True)
    if json:
        print_json(result)
        return
    say(
        st,
        f"Segmented {result['customers']:,} customers ({result['with_feedback']:,} with feedback, "
        f"{result['with_transactions']:,} with purchases) as of {result['as_of'][:10]}; "
        f"{result['joined']:,} joined and {result['left']:,} left segments.",
    )
    cl = result["clusters"]
    if cl:
        say(st, f"Clusters: k={cl['k']} (silhouette {cl['silhouette']:.2f}).")
    say(st, "Cohort grid (customers with feedback):")
    for line in _grid_table(result["grid"]):
        say(st, line)


def list_(
    ctx: typer.Context,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind", help="Only this kind: satisfaction, rfm, cohort, cluster or custom."
        ),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """List segments with size, satisfaction, revenue share and top need.

    Example: vocseg segments list --kind cluster
    """
    from vocseg import segments

    st = state(ctx)
    db = _fresh(st, st.load_config())
    rows = segments.list_segments(db, kinds=(kind,) if kind else None)
    if json:
        print_json(rows)
        return
    for r in rows:
        sat = "" if r["satisfaction"] is None else f"{r['satisfaction']:.2f}"
        share = "" if r["revenue_share"] is None else f"{100 * r['revenue_share']:.1f}%"
        say(
            st,
            f"{r['name']:<36} {r['kind']:<12} {r['size']:>8,} {sat:>6} {share:>7}  {r['top_need'] or ''}",
        )


def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Segment name.")],
    json: JsonOpt = False,
) -> None:
    """Show one segment: definition, profile for a marketer (needs, topics, quotes), changes.

    Example: vocseg segments show unhappy-champions
    """
    from vocseg import segments

    st = state(ctx)
    db = _fresh(st, st.load_config())
    seg = segments.show(db, name)
    if json:
        print_json(seg)
        return
    p = seg["profile"]
    say(st, f"{seg['label']} ({seg['name']}, {seg['kind']}): {seg['size']:,} customers")
    say(st, f"  {seg['description']}")
    if p.get("revenue_share") is not None:
        say(st, f"  revenue share {100 * p['revenue_share']:.1f}%  mean CLV {p.get('clv_mean')}")
    if p.get("satisfaction") is not None:
        say(st, f"  satisfaction {p['satisfaction']:.2f}  mix {p.get('satisfaction_mix')}")
    if p.get("top_needs"):
        say(
            st,
            "  top needs: " + ", ".join(f"{n['name']} ({n['share']:.0%})" for n in p["top_needs"]),
        )
    if p.get("top_topics"):
        say(st, "  top topics: " + ", ".join(n["name"] for n in p["top_topics"]))
    for q in p.get("quotes", []):
        say(st, f"  > {q['text']}")
    if seg["changes"]:
        last = seg["changes"][-1]
        say(st, f"  last change {last['at'][:19]}: +{last['joined']} / -{last['left']}")


def audit(ctx: typer.Context, json: JsonOpt = False) -> None:
    """Opt-in audit: segments across protected attributes (needs protected_audit = true).

    Example: vocseg segments audit --json
    """
    from vocseg.segments import audit as audit_mod

    st = state(ctx)
    cfg = st.load_config()
    db = _fresh(st, cfg)
    result = audit_mod.audit(db, cfg.segments)
    if json:
        print_json(result)
        return
    for key, data in result["attributes"].items():
        say(st, f"{key}: overall {data['overall']}")
        for seg, d in sorted(data["segments"].items()):
            say(st, f"  {seg:<36} n={d['n']:<6} {d['shares']}")


def cohorts_list(ctx: typer.Context, json: JsonOpt = False) -> None:
    """List the cohorts (happy, neutral, unhappy, satisfaction x RFM cells, custom) and sizes.

    Example: vocseg cohorts list --json
    """
    from vocseg import segments

    st = state(ctx)
    db = _fresh(st, st.load_config())
    rows = [
        {"name": r["name"], "kind": r["kind"], "label": r["label"], "size": r["size"]}
        for r in segments.list_segments(db, kinds=COHORT_KINDS)
    ]
    if json:
        print_json(rows)
        return
    for r in rows:
        say(st, f"{r['name']:<36} {r['size']:>8,}  {r['label']}")


def cohorts_export(
    ctx: typer.Context,
    cohort: Annotated[
        str, typer.Argument(help="Cohort or segment name (see `vocseg cohorts list`).")
    ],
    fmt: Annotated[
        str, typer.Option("--format", help="csv, jsonl, hubspot or salesforce.")
    ] = "csv",
    out: Annotated[
        Path, typer.Option("--out", help="File to write (Salesforce: split at 50,000 rows).")
    ] = Path("cohort.csv"),
    bom: Annotated[
        bool, typer.Option("--bom", help="Write UTF-8 with a BOM so Excel shows accents.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Export a cohort for a CRM import: one row per customer, no review text.

    Example: vocseg cohorts export unhappy-champions --format hubspot --out unhappy.csv
    """
    from vocseg.segments import export as export_mod

    if fmt not in export_mod.FORMATS:
        raise UsageError(
            Errors.E412.format(fmt=fmt, valid=", ".join(export_mod.FORMATS)), code="E412"
        )
    st = state(ctx)
    db = _fresh(st, st.load_config())
    result = export_mod.export(db, cohort, fmt=fmt, out=out, bom=bom)
    if json:
        print_json(result)
        return
    extra = (
        f" ({result['skipped_no_email']} without e-mail left out)"
        if result["skipped_no_email"]
        else ""
    )
    say(st, f"Wrote {result['rows']:,} {cohort} rows{extra} to {', '.join(result['files'])}.")


def cohorts_push(
    ctx: typer.Context,
    cohort: Annotated[str, typer.Argument(help="Cohort or segment name.")],
    webhook: Annotated[str, typer.Option("--webhook", help="URL that receives the JSON batches.")],
    json: JsonOpt = False,
) -> None:
    """Push who joined or left a cohort since the last push to a webhook, in JSON batches.

    Example: vocseg cohorts push unhappy-champions --webhook https://crm.example/hooks/vocseg
    """
    from vocseg.segments import push as push_mod

    st = state(ctx)
    cfg = st.load_config()
    db = _fresh(st, cfg)
    with progress(st, "Pushing", None) as update:
        result = push_mod.push(db, cohort, webhook, cfg.segments, progress=update)
    if json:
        print_json(result)
        return
    say(
        st,
        f"Pushed {cohort} to {result['target']}: {result['joined']:,} joined, {result['left']:,} left "
        f"in {result['batches']} batches ({result['requests']} requests).",
    )


def lookalike(
    ctx: typer.Context,
    cohort: Annotated[str, typer.Argument(help="Cohort whose buying behaviour to match.")],
    top: Annotated[int, typer.Option("--top", min=1, help="How many customers to list.")] = 50,
    json: JsonOpt = False,
) -> None:
    """Rank customers who left no feedback by how much they buy like a cohort.

    Example: vocseg lookalike happy-champions --top 20
    """
    from vocseg.segments import lookalike as lookalike_mod

    st = state(ctx)
    db = _fresh(st, st.load_config())
    rows = lookalike_mod.lookalike(db, cohort, top=top)
    if json:
        print_json(rows)
        return
    for r in rows:
        say(
            st,
            f"{r['rank']:>4}  {r['similarity']:.3f}  {r['external_id'] or r['customer_id']!s:<20} "
            f"{r['email'] or '':<32} {r['rfm_segment'] or '':<20} {r['monetary']:>10,.2f}",
        )


def register(app: typer.Typer) -> None:
    app.command("segment")(segment)
    app.command("lookalike")(lookalike)
    segments_app.command("list")(list_)
    segments_app.command("show")(show)
    segments_app.command("audit")(audit)
    cohorts_app.command("list")(cohorts_list)
    cohorts_app.command("export")(cohorts_export)
    cohorts_app.command("push")(cohorts_push)
    app.add_typer(segments_app, name="segments")
    app.add_typer(cohorts_app, name="cohorts")
