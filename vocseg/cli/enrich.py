"""Enrich commands: ``vocseg enrich``, ``vocseg sentiment`` and ``vocseg distill``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from vocseg.cli._common import print_json, progress, say, state, warn

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def enrich(
    ctx: typer.Context,
    all_: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Recompute every document (after a model or "
            "needs-taxonomy change), not only new or changed ones.",
        ),
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Add sentences, sentiment, aspects, entities, needs, intents and embeddings to new documents.

    Incremental: only documents not yet enriched (or whose text changed) are processed, so a
    killed run resumes where it stopped; --all recomputes everything.

    Example: vocseg enrich --json
    """
    from vocseg import enrich as enrich_mod

    st = state(ctx)
    cfg = st.load_config()
    db = st.open_db()
    with progress(st, "Enriching") as update:
        summary = enrich_mod.enrich(db, cfg, all=all_, progress=update)
    if json:
        print_json(summary)
        return
    if summary["documents"] == 0:
        say(st, f"Nothing to enrich: {summary['already_enriched']:,} document(s) already enriched.")
    else:
        say(
            st,
            f"Enriched {summary['documents']:,} document(s): {summary['sentences']:,} sentences, "
            f"{summary['aspects']:,} aspects, {summary['sentence_needs']:,} need mentions, "
            f"{summary['embeddings_computed']:,} new embeddings in {summary['seconds']:.1f} s "
            f"({summary['docs_per_s']:.0f} docs/s).",
        )
    if summary["stale"]:
        warn(
            f"{summary['stale']:,} document(s) were enriched with other models or another needs "
            "taxonomy; run 'vocseg enrich --all' to recompute them."
        )


def sentiment_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV file with a header row.", show_default=False)],
    text_column: Annotated[str, typer.Option("--text-column", help="Column holding the text.")],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Output CSV: id, label, score, p_negative, p_neutral, p_positive, in input order.",
        ),
    ],
    id_column: Annotated[
        str | None,
        typer.Option("--id-column", help="Column to copy as id (default: the data row number)."),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Score the sentiment of every row of a CSV file, without a store.

    Rows with empty text get an empty label and a warning.

    Example: vocseg sentiment reviews.csv --text-column body --id-column review_id --out preds.csv
    """
    from vocseg import models
    from vocseg.enrich import embed, sentiment

    st = state(ctx)
    cfg = st.load_config()
    family = embed.model_family(cfg.models.embedding)
    model = sentiment.load_model(family, cfg.enrich.sentiment_model or None)
    embedder = models.load_embedder(cfg.models)
    with progress(st, "Scoring") as update:
        result = sentiment.score_csv(
            file,
            out,
            text_column,
            embedder,
            model,
            sentiment.make_analyzer(),
            id_column=id_column,
            progress=update,
        )
    for w in result["warnings"]:
        warn(w)
    if json:
        print_json(result)
    else:
        say(st, f"Scored {result['scored']:,} of {result['rows']:,} row(s) into {result['out']}.")


def distill(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the static model into.")],
    json: JsonOpt = False,
) -> None:
    """Distil a fast static embedding model from the configured MiniLM, offline (about a minute).

    Then set [models] embedding = "<folder>" in vocseg.toml and run 'vocseg enrich --all'.

    Example: vocseg distill --out models/minilm-static
    """
    from vocseg import models
    from vocseg.enrich import embed

    st = state(ctx)
    cfg = st.load_config()
    with progress(st, "Distilling"):
        # the PyTorch model itself: distilling reads its token embeddings
        teacher = models.load_embedder(dataclasses.replace(cfg.models, backend="torch"))
        info = embed.distill(teacher, str(out))
    info["out"] = str(out)
    if json:
        print_json(info)
    else:
        say(
            st,
            f"Wrote {info['name']} ({info['dims']} dims) to {out}. Use it with "
            f"[models] embedding = \"{out}\" in vocseg.toml, then 'vocseg enrich --all'.",
        )


def register(app: typer.Typer) -> None:
    app.command("enrich")(enrich)
    app.command("sentiment")(sentiment_cmd)
    app.command("distill")(distill)
