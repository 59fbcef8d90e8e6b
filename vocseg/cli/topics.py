"""Topic commands: topics fit|update|list|rename|merge."""

from __future__ import annotations

from typing import Annotated

import typer

from vocseg.cli._common import print_json, progress, say, state

topics_app = typer.Typer(help="Topics over customer documents (BERTopic).", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _summary(st, result: dict) -> None:
    say(
        st,
        f"{result.get('documents', 0)} documents -> {result.get('topics', '?')} topics "
        f"(model {result.get('model_id')}), {result.get('unassigned', 0)} unassigned.",
    )


def fit(
    ctx: typer.Context,
    refit: Annotated[
        bool, typer.Option("--refit", help="Refit an existing model; ids and labels survive.")
    ] = False,
    min_size: Annotated[
        int | None, typer.Option("--min-size", help="Minimum topic size (0: scaled).")
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Fit topics over all customer documents and save the model beside the store.

    Example: vocseg topics fit --refit
    """
    from vocseg import topics

    st = state(ctx)
    cfg = st.load_config({"topics.min_size": min_size})
    db = st.open_db()
    with progress(st, "Fitting topics", 4) as update:
        result = topics.fit(db, cfg, refit=refit, progress=update)
    if json:
        print_json(result)
    else:
        _summary(st, result)
        say(st, f"{result['kept_ids']} topics kept their id; {result['new_topics']} are new.")


def update(ctx: typer.Context, json: JsonOpt = False) -> None:
    """Assign new or changed documents to the fitted topics by nearest centroid (no refit).

    Example: vocseg topics update --json
    """
    from vocseg import topics

    st = state(ctx)
    cfg = st.load_config()
    db = st.open_db()
    with progress(st, "Assigning topics", None) as upd:
        result = topics.update(db, cfg, progress=upd)
    if json:
        print_json(result)
    else:
        say(
            st,
            f"{result['documents']} new documents: {result['assigned']} assigned, "
            f"{result['unassigned']} unassigned.",
        )


def list_(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include merged and retired topics.")] = False,
    json: JsonOpt = False,
) -> None:
    """List topics, largest first, with keywords and the need each maps to.

    Example: vocseg topics list --json
    """
    from vocseg import topics

    st = state(ctx)
    rows = topics.list_topics(st.open_db(), all=all_)
    if json:
        print_json(rows)
        return
    if not rows:
        say(
            st,
            "No topics yet. Run 'vocseg topics fit' (or 'vocseg report', which fits them the first time).",
        )
    for t in rows:
        flag = (
            ""
            if t["active"]
            else f"  (merged into {t['merged_into']})"
            if t["merged_into"]
            else "  (retired)"
        )
        need = f"  need: {t['need']}" if t["need"] else ""
        say(
            st,
            f"{t['id']:>4}  {t['size']:>6}  {t['label']}{flag}{need}\n"
            f"              {', '.join(t['keywords'][:8])}",
        )


def rename(
    ctx: typer.Context,
    topic_id: Annotated[int, typer.Argument(help="Topic id (see 'vocseg topics list').")],
    label: Annotated[str, typer.Argument(help="The new label.")],
    json: JsonOpt = False,
) -> None:
    """Give a topic a human label that survives updates and refits.

    Example: vocseg topics rename 3 "Late deliveries"
    """
    from vocseg import topics

    st = state(ctx)
    result = topics.rename(st.open_db(), topic_id, label)
    print_json(result) if json else say(st, f"Topic {topic_id} is now '{result['label']}'.")


def merge(
    ctx: typer.Context,
    topic_ids: Annotated[
        list[int], typer.Argument(help="Topic ids; the first one absorbs the others.")
    ],
    json: JsonOpt = False,
) -> None:
    """Merge topics into the first id given.

    Example: vocseg topics merge 3 7 9
    """
    from vocseg import topics

    st = state(ctx)
    result = topics.merge(st.open_db(), topic_ids)
    if json:
        print_json(result)
    else:
        say(
            st,
            f"Merged {', '.join(map(str, result['merged']))} into {result['id']} "
            f"({result['size']} documents).",
        )


def register(app: typer.Typer) -> None:
    topics_app.command("fit")(fit)
    topics_app.command("update")(update)
    topics_app.command("list")(list_)
    topics_app.command("rename")(rename)
    topics_app.command("merge")(merge)
    app.add_typer(topics_app, name="topics")
