"""Report commands: report, alerts, export documents."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from vocseg.cli._common import print_json, progress, say, state

export_app = typer.Typer(help="Export store data for pandas or a BI tool.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def report(
    ctx: typer.Context,
    period: Annotated[
        str | None, typer.Option("--period", help="day, week or month (default: [report] period).")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="First date included, YYYY-MM-DD.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Last date included, YYYY-MM-DD.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="html, md or json.")] = "html",
    out: Annotated[
        Path | None, typer.Option("--out", help="Output file (default: stdout).")
    ] = None,
    no_update: Annotated[
        bool, typer.Option("--no-update", help="Do not enrich or assign topics first.")
    ] = False,
) -> None:
    """Write the topic-shift report for the latest period (updating every stage first).

    Example: vocseg report --period week --format html --out report.html
    """
    from vocseg import report as report_mod

    st = state(ctx)
    cfg = st.load_config()
    db = st.open_db()
    with progress(st, "Updating stages", None) as update:
        result = report_mod.report(
            db,
            cfg,
            period=period,
            since=since,
            until=until,
            fmt=fmt,
            out=out,
            update=not no_update,
            progress=update,
        )
    if out is None:
        sys.stdout.write(result["text"])
        sys.stdout.flush()
    else:
        s = result["summary"]
        say(
            st,
            f"{result['period']['kind'].capitalize()} {result['period']['start']}: {s['documents']} documents, "
            f"{s['directions']['rising'] + s['directions']['emerging']} rising, "
            f"{s['directions']['falling'] + s['directions']['fading']} falling.",
        )
        say(st, f"Report written to {result['path']}")


def alerts(
    ctx: typer.Context,
    sensitivity: Annotated[
        str, typer.Option("--sensitivity", help="low, medium or high.")
    ] = "medium",
    webhook: Annotated[
        str | None, typer.Option("--webhook", help="URL to POST each new alert to, as JSON.")
    ] = None,
    slack: Annotated[
        bool, typer.Option("--slack", help='Post Slack-compatible {"text": ...} bodies.')
    ] = False,
    no_update: Annotated[
        bool, typer.Option("--no-update", help="Do not enrich or assign topics first.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Find significant rises and sentiment drops of the latest period vs the previous six months;
    post new ones to a webhook (never the same alert twice).

    Example: vocseg alerts --sensitivity high --webhook https://hooks.slack.com/services/XXX --slack
    """
    from vocseg import alerts as alerts_mod
    from vocseg import report as report_mod

    st = state(ctx)
    cfg = st.load_config()
    db = st.open_db()
    if not no_update:
        with progress(st, "Updating stages", None) as update:
            report_mod.bring_up_to_date(db, cfg, progress=update)
    result = alerts_mod.alerts(db, cfg, sensitivity=sensitivity, webhook=webhook, slack=slack)
    if json:
        print_json(result)
        return
    for a in result["new"]:
        say(st, f"[{a['kind']}] {a['message']}")
    say(
        st,
        f"{len(result['new'])} new alerts, {result['posted']} posted, {result['pending']} pending.",
    )


def export_docs(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Output file.")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv, jsonl or parquet (default: from --out).")
    ] = None,
    json: JsonOpt = False,
) -> None:
    """One row per document with sentiment, topic, needs and intent, for pandas or a BI tool.

    Example: vocseg export documents --format parquet --out documents.parquet
    """
    from vocseg.export import documents as export_documents

    st = state(ctx)
    result = export_documents.export(st.open_db(), out, fmt=fmt)
    print_json(result) if json else say(
        st, f"{result['rows']} documents written to {result['path']}."
    )


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("alerts")(alerts)
    export_app.command("documents")(export_docs)
    app.add_typer(export_app, name="export")
