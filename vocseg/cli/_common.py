"""Shared CLI plumbing: global state, output, progress, errors."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from vocseg import config as config_mod

#: ``progress(advance, total)``: the callback library functions take for long work.
ProgressFn = Callable[[int, int | None], None]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass
class State:
    db: str | None = None
    config: str | None = None
    quiet: bool = False
    debug: bool = False

    def open_db(self, **kw: Any):  # -> sqlite_utils.Database
        # sqlite-utils imports pandas, so the store module loads only when a command opens it
        from vocseg import store

        return store.open(self.db, **kw)

    def load_config(self, overrides: dict[str, Any] | None = None) -> config_mod.Config:
        return config_mod.load(self.config, overrides)


def state(ctx: typer.Context) -> State:
    """The global options (``--db``, ``--quiet`` ...) from the root callback."""
    root = ctx.find_root()
    if root.obj is None:
        root.obj = State()
    return root.obj


def print_json(obj: Any) -> None:
    """Machine-readable output: one JSON document on stdout."""
    sys.stdout.write(json.dumps(obj, default=str, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def say(st: State, message: str) -> None:
    """Human output on stderr-free stdout, silent under --quiet."""
    if not st.quiet:
        out.print(message)


def warn(message: str) -> None:
    err.print(f"[yellow]warning:[/yellow] {message}", markup=True)


@contextlib.contextmanager
def progress(st: State, description: str, total: int | None = None) -> Iterator[ProgressFn]:
    """A rich progress bar on a terminal; a no-op under --quiet or when not a TTY."""
    if st.quiet or not sys.stderr.isatty():
        yield lambda advance, total=None: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)

        def update(advance: int, total: int | None = None) -> None:
            if total is not None:
                bar.update(task, total=total)
            if advance:
                bar.advance(task, advance)

        yield update


def path_arg_exists(p: Path) -> Path:
    return p
