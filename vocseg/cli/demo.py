"""``vocseg demo``: generate the demo corpus, ingest it and run every stage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vocseg import demo_corpus, store
from vocseg.cli._common import print_json, progress, say, state


def demo(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Folder for the generated exports, truth and report.")] = Path(
        "demo"
    ),
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same files.")] = 7,
    scale: Annotated[
        float,
        typer.Option("--scale", min=0.01, max=50.0, help="Size multiplier: 1.0 is about 3,000 customers."),
    ] = 1.0,
    stages: Annotated[
        bool, typer.Option("--stages/--no-stages", help="Run the stages after ingest (enrich, topics ...).")
    ] = True,
    json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Generate a realistic demo corpus with planted truth, ingest it and run every stage.

    Writes CSV, JSONL, JSON and XLSX exports plus truth/ into --out, then ingests them and
    runs each later stage that is installed. The store is --db if given, else OUT/vocseg.db
    (never your usual store).

    Example: vocseg --db demo/vocseg.db demo --out demo
    """
    st = state(ctx)
    out.mkdir(parents=True, exist_ok=True)
    db = store.open(st.db or out / "vocseg.db")
    cfg = st.load_config()
    def step(name: str) -> None:
        if not json:
            say(st, f"- {name}")

    with progress(st, "Demo", None) as update:
        result = demo_corpus.run_demo(db, out, cfg, seed=seed, scale=scale, progress=update, on_step=step,
                                       stages=stages)
    if json:
        print_json(result)
        return
    c, t = result["corpus"], result["tables"]
    quarantined = sum(r.get("quarantined", 0) for r in result["ingest"].values())
    say(st, f"Generated {c['documents']:,} documents, {c['customers']:,} customers and "
            f"{c['transactions']:,} transactions in {c['out_dir']} (truth in {c['truth']}).")
    say(st, f"Store {result['store']}: {t.get('documents', 0):,} documents, {t.get('customers', 0):,} "
            f"customers, {t.get('transactions', 0):,} transactions; {quarantined} rows quarantined "
            "(see `vocseg quarantine list`).")
    skipped = [n for n, r in result["stages"].items() if r == "not installed"]
    if skipped:
        say(st, f"Stages not installed yet, skipped: {', '.join(skipped)}.")
    if result["report"]:
        say(st, f"Report: {result['report']}")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
