"""The ``vocseg`` command: a thin Typer layer over the library API.

Each module in this package defines ``register(app)`` and adds its commands; a
command parses options, loads config, calls one library function and prints.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from typing import Annotated

import typer

from vocseg import __version__
from vocseg.cli._common import State, err
from vocseg.errors import UsageError, VocsegError

app = typer.Typer(
    name="vocseg",
    help="Voice-of-customer text mining and segmentation.\n\n"
    "Example: vocseg ingest reviews.csv --kind review && vocseg report --out report.html",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"vocseg {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Store path (default: $VOCSEG_DB, else ./vocseg.db).", show_default=False),
    ] = None,
    config: Annotated[
        str | None, typer.Option("--config", help="Config file (default: ./vocseg.toml if present).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or chatter.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Voice-of-customer text mining and segmentation."""
    ctx.obj = State(db=db, config=config, quiet=quiet, debug=debug)


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(mod, "register"):
            mod.register(app)


_register_all()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app; a VocsegError becomes one line on stderr and exit 1."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("VOCSEG_DEBUG") == "1"
    try:
        app(args=args, prog_name="vocseg")
    except SystemExit as exc:  # click's standalone mode: usage errors exit 2, --help 0
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except UsageError as exc:
        if debug:
            raise
        err.print(f"error: {exc}", markup=False)
        return 2
    except VocsegError as exc:
        if debug:
            raise
        err.print(f"error: {exc}", markup=False)
        return 1
    except KeyboardInterrupt:
        err.print("Interrupted.")
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
