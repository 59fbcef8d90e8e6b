"""The transformer embedder on OpenVINO: PyTorch's vectors, exported once, loaded without PyTorch."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vocseg import models
from vocseg.config import ModelsConfig
from vocseg.enrich import embed, ov_backend
from vocseg.errors import ModelNotFoundError

TEXTS = [
    "The flight was delayed three hours and nobody told us why.",
    "ok",
    "",
    "Love it \U0001f60d\U0001f60d",
    "@united lost my bag https://t.co/x1",
    # far past the model's 256 word pieces: truncated as sentence-transformers truncates it
    "The dress fits well but the zipper broke after a week and customer service never answered. "
    * 30,
]


@pytest.fixture(scope="module")
def torch_f32():
    return models.load_embedder(ModelsConfig(backend="torch", precision="float32"))


def test_openvino_gives_pytorchs_vectors_in_both_precisions(torch_f32):
    ref = embed.encode(torch_f32, TEXTS)
    for precision in ("float32", "bfloat16"):
        ov = models.load_embedder(ModelsConfig(backend="openvino", precision=precision))
        assert isinstance(ov, ov_backend.OpenVINOEmbedder)
        assert ov.precision == {"float32": "f32", "bfloat16": "bf16"}[precision]
        got = embed.encode(ov, TEXTS)
        assert got.shape == ref.shape == (len(TEXTS), 384) and got.dtype == np.float32
        cos = (got * ref).sum(axis=1)
        assert float(cos.min()) > 0.9999, (precision, cos)
    # one text in, one vector out, as sentence-transformers' encode gives it
    single = ov.encode(TEXTS[0], normalize_embeddings=True)
    assert single.shape == (384,) and float(single @ ref[0]) > 0.9999


def test_batches_in_flight_on_several_streams_land_in_their_own_rows():
    ov = models.load_embedder(ModelsConfig(backend="openvino", precision="float32"))
    # compiled for throughput: on two cores or more OpenVINO makes several streams, and encode
    # keeps a batch in each
    if (os.cpu_count() or 1) >= 2:
        assert ov.requests >= 2
    texts = [f"{t} (ticket {i})" for i, t in enumerate(TEXTS[:5] * 18)]
    got = ov.encode(texts, batch_size=4, normalize_embeddings=True)  # 23 batches
    alone = np.stack([ov.encode(t, normalize_embeddings=True) for t in texts])
    cos = (got * alone).sum(axis=1)
    assert float(cos.min()) > 0.9999, cos
    assert ((got @ alone.T).argmax(axis=1) == np.arange(len(texts))).all()


def test_auto_picks_openvino_on_the_cpu_and_torch_where_asked():
    assert models.uses_openvino(ModelsConfig())
    assert not models.uses_openvino(ModelsConfig(backend="torch"))
    assert not models.uses_openvino(ModelsConfig(device="cuda"))
    assert not models.uses_openvino(ModelsConfig(embedding="minilm-static", backend="openvino"))
    st = models.load_embedder(ModelsConfig(backend="torch"))
    assert type(st).__name__ == "SentenceTransformer"


def _load_in_child(cache: Path) -> dict:
    code = (
        "import json, sys\n"
        "from vocseg import models\nfrom vocseg.config import ModelsConfig\n"
        "m = models.load_embedder(ModelsConfig())\n"
        "v = m.encode(['late delivery'], normalize_embeddings=True)[0]\n"
        "from openvino.tools.ovc import convert_impl\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'kind': type(m).__name__,"
        " 'telemetry': 'openvino_telemetry' in sys.modules or not convert_impl.tm.__name__.endswith('_stub'),"
        " 'v': [round(float(x), 5) for x in v[:8]]}))\n"
    )
    env = dict(os.environ, VOCSEG_CACHE=str(cache), HF_HUB_OFFLINE="1")
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_export_is_made_once_then_loaded_without_pytorch(tmp_path):
    first = _load_in_child(tmp_path)
    folders = list((tmp_path / "openvino").iterdir())
    assert len(folders) == 1 and ov_backend.is_exported(folders[0])
    assert first["kind"] == "OpenVINOEmbedder" and first["torch"]  # exporting needs PyTorch
    assert not first["telemetry"]  # OpenVINO's converter got its no-op stub: nothing is sent
    stamp = (folders[0] / ov_backend.MODEL_FILE).stat().st_mtime_ns
    second = _load_in_child(tmp_path)
    assert second == {**first, "torch": False}
    assert (folders[0] / ov_backend.MODEL_FILE).stat().st_mtime_ns == stamp  # not exported again


def test_a_changed_or_half_written_export_is_made_again(tmp_path):
    model = tmp_path / "my-model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    cfg = ModelsConfig(embedding=str(model))
    before = models.openvino_folder(cfg, str(model))
    (model / "config.json").write_text('{"changed": 1}')
    assert models.openvino_folder(cfg, str(model)) != before
    assert before.name.startswith("my-model-")
    half = tmp_path / "half"
    half.mkdir()
    (half / ov_backend.MODEL_FILE).write_text("<net/>")
    assert not ov_backend.is_exported(half)  # no tokenizer, no metadata: exported again


def test_an_unwritable_cache_still_runs_on_openvino(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("VOCSEG_CACHE", str(blocker))
    m = models.load_embedder(ModelsConfig())
    assert isinstance(m, ov_backend.OpenVINOEmbedder)
    assert m.encode(["late delivery"]).shape == (1, 384)


def test_a_model_openvino_cannot_export_runs_on_pytorch_unless_openvino_was_asked(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("VOCSEG_CACHE", str(tmp_path))

    def broken(*args, **kwargs):
        raise RuntimeError("unsupported operation aten::mystery")

    monkeypatch.setattr(ov_backend, "export", broken)
    with pytest.warns(UserWarning, match="OpenVINO export failed .*mystery.*running it on PyTorch"):
        m = models.load_embedder(ModelsConfig())
    assert type(m).__name__ == "SentenceTransformer"
    with pytest.raises(ModelNotFoundError, match="OpenVINO export failed"):
        models.load_embedder(dataclasses.replace(ModelsConfig(), backend="openvino"))
