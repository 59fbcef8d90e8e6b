"""Ingest commands: ``vocseg ingest`` and ``vocseg quarantine list|export``."""

from __future__ import annotations

import json as jsonlib
from typing import TYPE_CHECKING, Annotated

import typer

from vocseg.cli._common import err, print_json, progress, say, state, warn
from vocseg.errors import VocsegError

if TYPE_CHECKING:
    from vocseg import ingest as ingest_mod

quarantine_app = typer.Typer(
    help="Rows that ingest could not store, with file, line and reason.", no_args_is_help=True
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def ingest(
    ctx: typer.Context,
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Files, folders or globs (CSV, TSV, JSONL, JSON, Parquet, XLSX, optionally .gz).",
            show_default=False,
        ),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="review, chat, social, survey, ticket, other, "
            "transactions or customers (default: preset, else guessed).",
        ),
    ] = None,
    preset: Annotated[
        str | None, typer.Option("--preset", help="A known dataset's mapping (see --list-presets).")
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="FIELD=COLUMN, repeatable, e.g. --map text=review_body --map customer=user_id.",
        ),
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Source name (default: preset, else file name).")
    ] = None,
    rating_scale: Annotated[
        str | None,
        typer.Option(
            "--rating-scale",
            help="Scale of the rating column, "
            "e.g. 1-5 or 0-10 (default: 0-10 for surveys, else 1-5).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the mapping and first 5 records; write nothing.")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 if any row was quarantined.")
    ] = False,
    list_presets: Annotated[
        bool, typer.Option("--list-presets", help="List the presets and exit.")
    ] = False,
    enrich: Annotated[
        bool,
        typer.Option(
            "--enrich/--no-enrich",
            help="Enrich the new documents afterwards "
            "(sentences, sentiment, needs, embeddings); --no-enrich leaves that "
            "to 'vocseg enrich' or 'vocseg report'.",
        ),
    ] = True,
    bulk: Annotated[
        bool | None,
        typer.Option(
            "--bulk/--no-bulk",
            help="Drop the documents' secondary indexes while loading and rebuild them at the end "
            "(default: automatic, for 100,000 rows or more and at least the store's size).",
            show_default=False,
        ),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Ingest exports into the store: deduplicated, redacted, linked to customers.

    Bad rows go to quarantine (see 'vocseg quarantine list'); valid rows beside them are stored.
    New or changed documents are then enriched, unless --no-enrich.

    Example: vocseg ingest reviews.csv --kind review --map text=review_body --map customer=user_id
    """
    from vocseg import ingest as ingest_mod

    st = state(ctx)
    if list_presets:
        if json:
            print_json(
                {
                    p.name: {"kind": p.kind, "description": p.description, "mapping": p.mapping}
                    for p in ingest_mod.PRESETS.values()
                }
            )
        else:
            for p in ingest_mod.PRESETS.values():
                say(st, f"{p.name:<26} {p.kind:<13} {p.description}")
        return
    if not paths:
        raise typer.BadParameter("give at least one PATH (file, folder or glob)", param_hint="PATH")
    cfg = st.load_config()
    db = st.open_db()
    with progress(st, "Dry run" if dry_run else "Ingesting") as update:
        try:
            res = ingest_mod.ingest(
                db,
                paths,
                kind=kind,
                preset=preset,
                mapping=map_,
                source=source,
                dry_run=dry_run,
                strict=strict,
                cfg=cfg.ingest,
                progress=update,
                rating_scale=rating_scale,
                bulk=bulk,
            )
        except VocsegError as exc:
            partial = getattr(exc, "result", None)
            if partial is not None and json:
                print_json(partial.as_dict())
            raise
    for w in res.warnings:
        warn(w)
    if dry_run:
        _print_preview(st, res, json)
        return
    enriched = None
    if (
        enrich
        and (res.inserted or res.updated)
        and db.execute(
            "SELECT 1 FROM documents d LEFT JOIN enrichments e ON e.document_id = d.id "
            "WHERE e.document_id IS NULL OR e.content_hash != d.content_hash LIMIT 1"
        ).fetchone()
    ):
        # the NLP stack loads only when there is text to enrich
        from vocseg import enrich as enrich_mod

        with progress(st, "Enriching") as update:
            enriched = enrich_mod.enrich(db, cfg, progress=update)
    if json:
        print_json({**res.as_dict(), "enrich": enriched})
        return
    say(
        st,
        f"Ingested {res.files} file(s): {res.read:,} read, {res.inserted:,} inserted, {res.updated:,} updated, "
        f"{res.duplicates:,} duplicates, {res.quarantined:,} quarantined, {res.redacted:,} redacted "
        f"in {res.seconds:.1f} s.",
    )
    if enriched and enriched["documents"]:
        say(st, f"Enriched {enriched['documents']:,} document(s) in {enriched['seconds']:.1f} s.")
    if res.quarantined:
        say(st, f"See the quarantined rows with: vocseg quarantine list --run {res.run_id}")


def _print_preview(st, res: ingest_mod.IngestResult, json: bool) -> None:
    if json:
        print_json({"dry_run": True, **res.as_dict(), "files_preview": res.preview})
        return
    for item in res.preview:
        say(st, f"{item['file']}  (kind {item['kind']})")
        say(
            st,
            "  mapping: " + (", ".join(f"{k}={v}" for k, v in item["mapping"].items()) or "(none)"),
        )
        for rec in item["records"]:
            say(st, "  " + jsonlib.dumps(rec, ensure_ascii=False, default=str)[:400])
    say(
        st,
        f"Dry run: {res.read:,} rows read, {res.quarantined:,} would be quarantined; nothing written.",
    )


def quarantine_list(
    ctx: typer.Context,
    run: Annotated[int | None, typer.Option("--run", help="Only rows from this run id.")] = None,
    file: Annotated[
        str | None, typer.Option("--file", help="Only files whose path contains this.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many rows.")] = 50,
    json: JsonOpt = False,
) -> None:
    """List quarantined rows: file, line, reason.

    Example: vocseg quarantine list --run 3 --limit 20
    """
    from vocseg.ingest import quarantine as quarantine_mod

    st = state(ctx)
    rows = quarantine_mod.rows(st.open_db(), run_id=run, file=file, limit=limit)
    if json:
        print_json(rows)
        return
    if not rows:
        say(st, "No quarantined rows.")
        return
    for r in rows:
        say(st, f"{r['file']}:{r['line']}  {r['reason']}")


def quarantine_export(
    ctx: typer.Context,
    out: Annotated[str, typer.Argument(help="Output file (.csv or .jsonl).")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv or jsonl (default: from the file name).")
    ] = None,
    run: Annotated[int | None, typer.Option("--run", help="Only rows from this run id.")] = None,
    file: Annotated[
        str | None, typer.Option("--file", help="Only files whose path contains this.")
    ] = None,
) -> None:
    """Export quarantined rows to CSV (spreadsheet formulas neutralised) or JSON Lines.

    Example: vocseg quarantine export bad_rows.csv --run 3
    """
    from vocseg.ingest import quarantine as quarantine_mod

    st = state(ctx)
    n = quarantine_mod.export(st.open_db(), out, fmt=fmt, run_id=run, file=file)
    say(st, f"Wrote {n:,} quarantined row(s) to {out}.")
    if n == 0:
        err.print("(the quarantine is empty for this selection)")


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    quarantine_app.command("list")(quarantine_list)
    quarantine_app.command("export")(quarantine_export)
    app.add_typer(quarantine_app, name="quarantine")
