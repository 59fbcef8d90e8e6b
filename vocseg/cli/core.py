"""Store commands: init, db info, forget."""

from __future__ import annotations

from typing import Annotated

import typer

from vocseg.cli._common import print_json, say, state

db_app = typer.Typer(help="Inspect the store.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def init(ctx: typer.Context, json: JsonOpt = False) -> None:
    """Create the store (or migrate it to the latest schema).

    Example: vocseg --db cx.db init
    """
    from vocseg import store

    st = state(ctx)
    db = st.open_db()
    result = store.info(db)
    if json:
        print_json(result)
    else:
        say(st, f"Store ready at {result['path']} (schema version {result['schema_version']}).")


def info(ctx: typer.Context, json: JsonOpt = False) -> None:
    """Schema version, row counts per table and size on disk.

    Example: vocseg db info --json
    """
    from vocseg import store

    st = state(ctx)
    result = store.info(st.open_db())
    if json:
        print_json(result)
        return
    say(
        st,
        f"store: {result['path']}  schema: v{result['schema_version']}  size: {result['size_bytes'] / 1e6:.1f} MB",
    )
    for name, count in result["tables"].items():
        say(st, f"  {name:<28} {count:>10,}")


def forget(
    ctx: typer.Context,
    customer: Annotated[str, typer.Argument(help="Customer id, external id, e-mail or handle.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    json: JsonOpt = False,
) -> None:
    """Erase a customer and everything linked to them (an erasure request).

    Example: vocseg forget jane@example.com --yes
    """
    from vocseg import store

    st = state(ctx)
    db = st.open_db()
    if not yes and not typer.confirm(
        f"Erase customer {customer!r} and all their data?", default=False
    ):
        raise typer.Exit(1)
    counts = store.forget(db, customer)
    if json:
        print_json({"customer": customer, "deleted": counts})
    else:
        parts = ", ".join(f"{n} {t}" for t, n in counts.items() if n)
        say(st, f"Erased customer {customer}: {parts or 'nothing else linked'}.")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("forget")(forget)
    db_app.command("info")(info)
    app.add_typer(db_app, name="db")
