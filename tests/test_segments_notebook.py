"""notebooks/segments.ipynb runs top to bottom on a real store (kernel from this venv's ipykernel)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import segments_data as sd
from nbclient import NotebookClient

from vocseg import config, segments

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "segments.ipynb"


@pytest.mark.slow
def test_segments_notebook_executes(db, db_path, tmp_path, monkeypatch):
    sd.world(db, n=80)
    segments.segment(db, config.SegmentsConfig())
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv("VOCSEG_DB", str(db_path))
    monkeypatch.setenv("VOCSEG_EXPORT_DIR", str(out))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    assert (out / "cohort_grid.png").stat().st_size > 1000
    assert (out / "clusters.png").stat().st_size > 1000
    lines = (out / "unhappy-hubspot.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("Email,First Name,Last Name,Lifecycle Stage")
    assert len(lines) - 1 == len(segments.members(db, "unhappy"))
    # the notebook defines no pipeline logic: it imports vocseg and defines no functions
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "from vocseg" in code and "def " not in code
