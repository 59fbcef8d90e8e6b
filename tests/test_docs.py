"""Docs are tested: every command has help with an example; every config key is documented."""

from __future__ import annotations

from pathlib import Path

import typer.main

from vocseg import config
from vocseg.cli import app

ROOT = Path(__file__).resolve().parent.parent


def _commands(group, prefix: str = ""):
    if hasattr(group, "commands"):
        for name, cmd in group.commands.items():
            yield from _commands(cmd, f"{prefix} {name}".strip())
    else:
        yield prefix, group


def test_every_command_has_help_with_an_example():
    root = typer.main.get_command(app)
    cmds = list(_commands(root))
    assert len(cmds) >= 3
    for name, cmd in cmds:
        text = cmd.help or ""
        assert text.strip(), f"`vocseg {name}` has no help"
        assert "Example" in text, f"`vocseg {name}` --help has no Example line"


def test_help_runs_for_every_command(cli):
    root = typer.main.get_command(app)
    for name, _ in _commands(root):
        code, out, err = cli(*name.split(), "--help", db=False)
        assert code == 0, (name, err)
        assert "Usage" in out


def test_config_doc_is_generated_from_the_code():
    assert (ROOT / "docs" / "config.md").read_text(encoding="utf-8") == config.markdown(), (
        "docs/config.md is stale: run `python -m vocseg.config > docs/config.md`"
    )


def test_cli_version_and_usage_errors(cli):
    code, out, _ = cli("--version", db=False)
    assert code == 0 and out.startswith("vocseg ")
    code, _, _ = cli("no-such-command")
    assert code == 2


def test_user_error_is_one_line_and_exit_1(cli):
    code, _, err = cli("forget", "nobody@example.com", "--yes")
    assert code == 1
    assert err.strip().count("\n") == 0 and "E020" in err and "Traceback" not in err


def test_db_info_json(cli):
    import json

    code, out, _ = cli("db", "info", "--json")
    assert code == 0
    info = json.loads(out)
    assert {"schema_version", "tables", "size_bytes"} <= set(info)


def _bench_table():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_table", ROOT / "benchmarks" / "table.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_readme_benchmark_table_matches_the_results():
    table = _bench_table()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert table.between_markers(readme) == table.render(table.load()), (
        "README.md's benchmark table is stale: run `python benchmarks/table.py --write README.md`"
    )


def test_benchmark_table_keeps_unknown_and_partial_results(tmp_path):
    import json

    table = _bench_table()
    (tmp_path / "future.json").write_text(
        json.dumps({"benchmark": "future", "corpus": "a | b", "n": 12, "speed": 3.5, "ok": True})
    )
    (tmp_path / "pipeline.json").write_text(json.dumps({"benchmark": "pipeline", "docs": 2000}))
    (tmp_path / "broken.json").write_text("{not json")
    lines = table.render(table.load(tmp_path)).splitlines()
    assert len(lines) == 4  # header, rule, one row per readable file
    future = next(line for line in lines if line.startswith("| future |"))
    assert "speed 3.5" in future and "a \\| b" in future
    assert any(line.startswith("| pipeline |") for line in lines)
    doc = f"intro\n{table.START}\nold\n{table.END}\nrest\n"
    assert table.between_markers(table.splice(doc, "NEW")) == "NEW"
