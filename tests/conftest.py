"""Shared fixtures: a fresh store, the shared corpora, the packaged models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("VOCSEG_SHARED", ROOT.parent / "shared")) / "corpora"


def shared_corpus(name: str) -> Path:
    """Path of ../shared/corpora/NAME; skip (or fail under CI=true) when absent."""
    path = SHARED / name
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing, and CI=true requires the shared corpora")
        pytest.skip(f"{path} is absent: the shared corpora are not beside this checkout")
    return path


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "vocseg.db"


@pytest.fixture
def db(db_path: Path):
    from vocseg import store

    database = store.open(db_path)
    yield database
    database.conn.close()


@pytest.fixture(scope="session")
def models_cfg():
    from vocseg.config import ModelsConfig

    return ModelsConfig()


@pytest.fixture(scope="session")
def nlp(models_cfg):
    from vocseg import models

    return models.load_spacy(models_cfg)


@pytest.fixture(scope="session")
def embedder(models_cfg):
    from vocseg import models

    return models.load_embedder(models_cfg)


@pytest.fixture
def cli(db_path: Path):
    """Run the real CLI in-process: ``cli("db", "info", "--json")`` -> (exit_code, stdout, stderr)."""
    import contextlib
    import io

    from vocseg.cli import main

    def run(*args: str, db: bool = True):
        argv = (["--db", str(db_path)] if db else []) + [str(a) for a in args]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
        return code, out.getvalue(), err.getvalue()

    return run
