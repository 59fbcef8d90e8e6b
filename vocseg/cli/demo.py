"""``vocseg demo``: generate the demo corpus, ingest it and run every stage."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer

from vocseg.cli._common import ProgressFn, State, err, print_json, say, state


@contextlib.contextmanager
def _steps(st: State, announce: bool) -> Iterator[tuple[Callable[[str], None], ProgressFn]]:
    """A progress bar per step on a terminal; otherwise one line per step (none with --json)."""
    if st.quiet or not sys.stderr.isatty():

        def step(name: str) -> None:
            if announce:
                say(st, f"- {name}")

        yield step, lambda advance, total=None: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    ) as bar:
        current: list[int] = []

        def finish() -> None:
            if current:
                task = next(t for t in bar.tasks if t.id == current[-1])
                bar.update(task.id, total=task.completed or 1, completed=task.completed or 1)

        def step(name: str) -> None:
            finish()
            current.append(bar.add_task(name, total=None))

        def update(advance: int, total: int | None = None) -> None:
            if not current:
                return
            if total is not None:
                bar.update(current[-1], total=total)
            if advance:
                bar.advance(current[-1], advance)

        yield step, update
        finish()


def demo(
    ctx: typer.Context,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the generated exports, truth and report.")
    ] = Path("demo"),
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed: the same seed gives the same files.")
    ] = 7,
    scale: Annotated[
        float,
        typer.Option(
            "--scale", min=0.01, max=50.0, help="Size multiplier: 1.0 is about 3,000 customers."
        ),
    ] = 1.0,
    stages: Annotated[
        bool,
        typer.Option(
            "--stages/--no-stages", help="Run the stages after ingest (enrich, topics ...)."
        ),
    ] = True,
    json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Generate a realistic demo corpus with planted truth, ingest it and run every stage.

    Writes CSV, JSONL, JSON and XLSX exports plus truth/ into --out, then ingests them and
    runs each later stage that is installed. The store is --db if given, else OUT/vocseg.db
    (never your usual store).

    Example: vocseg --db demo/vocseg.db demo --out demo
    """
    from vocseg import demo_corpus, store

    st = state(ctx)
    out.mkdir(parents=True, exist_ok=True)
    db = store.open(st.db or out / "vocseg.db")
    cfg = st.load_config()
    with _steps(st, announce=not json) as (step, update):
        result = demo_corpus.run_demo(
            db, out, cfg, seed=seed, scale=scale, progress=update, on_step=step, stages=stages
        )
    if json:
        print_json(result)
        return
    c, t = result["corpus"], result["tables"]
    quarantined = sum(r.get("quarantined", 0) for r in result["ingest"].values())
    say(
        st,
        f"Generated {c['documents']:,} documents, {c['customers']:,} customers and "
        f"{c['transactions']:,} transactions in {c['out_dir']} (truth in {c['truth']}).",
    )
    say(
        st,
        f"Store {result['store']}: {t.get('documents', 0):,} documents, {t.get('customers', 0):,} "
        f"customers, {t.get('transactions', 0):,} transactions; {quarantined} rows quarantined "
        "(see `vocseg quarantine list`).",
    )
    skipped = [n for n, r in result["stages"].items() if r == "not installed"]
    if skipped:
        say(st, f"Stages not installed yet, skipped: {', '.join(skipped)}.")
    if result["report"]:
        say(st, f"Report: {result['report']}")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
