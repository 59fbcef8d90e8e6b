"""A sentence-transformers model run by OpenVINO's CPU runtime instead of PyTorch.

Why: on the CPU OpenVINO runs MiniLM 1.3x faster than PyTorch does in the same bfloat16
arithmetic (its kernels fuse what PyTorch runs op by op), with the same vectors (cosine to
PyTorch's above 0.9999, measured on 4,000 benchmark sentences and 1,500 documents), and a
process that has the model exported once loads it in a fraction of a second without
importing PyTorch or sentence-transformers (5-6 s each time otherwise).

The model is compiled for throughput: OpenVINO splits the cores into streams (two of one
thread each on two cores) and :meth:`OpenVINOEmbedder.encode` keeps every stream busy with a
batch while this thread tokenizes the next. On two cores that encodes the benchmark's
sentences 15% faster than one two-thread request at a time, with the same vectors (each
batch runs whole on one stream, with the same kernels).

:func:`export` traces the whole sentence-transformers module stack (transformer, pooling,
any dense layer, normalisation) into one OpenVINO model and saves it beside the tokenizer;
:func:`load` compiles a saved folder. :class:`OpenVINOEmbedder` has the part of
``SentenceTransformer.encode`` vocseg uses. Which model runs where is decided in
:mod:`vocseg.models`.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: bump when the exported folder's layout or the traced graph changes: older folders re-export
FORMAT = 1
MODEL_FILE = "model.xml"
META_FILE = "vocseg-openvino.json"
TOKENIZER_FILE = "tokenizer.json"


class OpenVINOEmbedder:
    """``encode`` of a sentence-transformers model, compiled for OpenVINO's CPU plugin.

    Example: ``load(folder, "bf16").encode(["late delivery"]).shape == (1, 384)``
    """

    def __init__(self, compiled: Any, tokenizer: Any, meta: dict[str, Any], precision: str) -> None:
        self._compiled = compiled
        self._request = compiled.create_infer_request()
        #: batches in flight at once: one per stream OpenVINO made
        self.requests = max(1, int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")))
        self.tokenizer = tokenizer
        self.max_seq_length = int(meta["max_seq_length"])
        self.dim = int(meta["dim"])
        self.name = str(meta["name"])
        self.precision = precision

    def get_sentence_embedding_dimension(self) -> int:
        return self.dim

    def encode(
        self,
        sentences: str | Sequence[str],
        batch_size: int = 32,
        convert_to_numpy: bool = True,
        normalize_embeddings: bool = False,
        show_progress_bar: bool = False,
        **_: Any,
    ) -> np.ndarray:
        """(n, dim) float32 vectors of ``sentences`` (one vector for a single string), as
        ``SentenceTransformer.encode`` gives them: longest texts first in each batch (less
        padding), truncated at the model's ``max_seq_length`` word pieces."""
        single = isinstance(sentences, str)
        texts = [sentences] if single else list(sentences)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        size = max(1, batch_size)
        batches = [order[lo : lo + size] for lo in range(0, len(texts), size)]
        if len(batches) <= 1 or self.requests == 1:
            for rows in batches:
                result = self._request.infer(self._inputs([texts[i] for i in rows]))
                out[rows] = next(iter(result.values()))
        else:
            from openvino import AsyncInferQueue  # imported already, by load()

            queue = AsyncInferQueue(self._compiled, self.requests)
            queue.set_callback(_store_rows)  # a plain function: no cycle holds the queue
            stored: list[int] = []
            for rows in batches:  # start_async waits for a free request
                queue.start_async(self._inputs([texts[i] for i in rows]), (out, rows, stored))
            queue.wait_all()
            if sum(stored) != len(texts):  # a callback that failed in OpenVINO's thread
                raise RuntimeError(f"OpenVINO returned {sum(stored)} of {len(texts)} vectors")
        if normalize_embeddings:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out[0] if single else out

    def _inputs(self, texts: list[str]) -> dict[str, np.ndarray]:
        enc = self.tokenizer.encode_batch(texts)
        return {
            "input_ids": np.array([e.ids for e in enc], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
        }


def _store_rows(request: Any, target: tuple[np.ndarray, np.ndarray, list[int]]) -> None:
    """AsyncInferQueue's callback: a finished batch's vectors into their rows of the output
    (and how many, into ``stored``)."""
    out, rows, stored = target
    out[rows] = request.get_output_tensor(0).data
    stored.append(len(rows))


def openvino() -> Any:
    """The ``openvino`` module, with its model converter's usage reporting off.

    OpenVINO's converter sends each conversion to Google Analytics unless the user opted out
    (``openvino_telemetry``; outside CI it sends without asking). Nothing is to leave the
    user's machine, so ``openvino`` is imported with that package hidden (its converter then
    takes its own no-op stub), and a converter module imported before is given the stub."""
    from vocseg.models import _absent

    if "openvino" not in sys.modules:
        with _absent(("openvino_telemetry",)):
            import openvino as ov
        return ov
    import openvino as ov

    try:
        from openvino.tools.ovc import telemetry_stub
    except ImportError:  # pragma: no cover - a layout without the stub: nothing to swap
        return ov
    for name, module in list(sys.modules.items()):
        tm = getattr(module, "tm", None)
        if name.startswith("openvino.") and getattr(tm, "__name__", "").startswith(
            "openvino_telemetry"
        ):
            module.tm = telemetry_stub
    return ov


def _tokenizer(folder: Path, meta: dict[str, Any]) -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
    tok.enable_truncation(max_length=int(meta["max_seq_length"]))
    tok.enable_padding(pad_id=int(meta["pad_id"]), pad_token=str(meta["pad_token"]))
    return tok


def is_exported(folder: Path) -> bool:
    """Whether ``folder`` holds a complete export of the current :data:`FORMAT`."""
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        meta.get("format") == FORMAT
        and (folder / MODEL_FILE).is_file()
        and (folder / TOKENIZER_FILE).is_file()
    )


def export(model: Any, folder: Path, name: str) -> None:
    """Trace the float32 sentence-transformers ``model`` into ``folder`` (written under a
    temporary name, then renamed, so a reader never sees half a folder)."""
    import torch

    ov = openvino()
    tok = model.tokenizer
    if not hasattr(tok, "backend_tokenizer") or tok.pad_token_id is None:
        raise ValueError("the model has no fast tokenizer with a padding token")

    class Stack(torch.nn.Module):  # the whole module stack as one (ids, mask) -> vector function
        def __init__(self, st: Any) -> None:
            super().__init__()
            self.st = st

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.st({"input_ids": input_ids, "attention_mask": attention_mask})[
                "sentence_embedding"
            ]

    example = tok(
        ["a short text", "and a somewhat longer second one"], padding=True, return_tensors="pt"
    )
    # the tracer warns of the branches it fixes; in BERT-like stacks they depend on shapes only
    # (a mask as long as the input, no causal attention), which every input shares
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = ov.convert_model(
            Stack(model).eval(),
            example_input=(example["input_ids"], example["attention_mask"]),
            input=[("input_ids", [-1, -1], ov.Type.i64), ("attention_mask", [-1, -1], ov.Type.i64)],
        )
    meta = {
        "format": FORMAT,
        "name": name,
        "dim": int(
            (
                getattr(model, "get_embedding_dimension", None)
                or model.get_sentence_embedding_dimension
            )()
        ),
        "max_seq_length": int(model.max_seq_length),
        "pad_id": int(tok.pad_token_id),
        "pad_token": str(tok.pad_token),
        "openvino": ov.__version__,
    }
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        ov.save_model(
            graph, tmp / MODEL_FILE, compress_to_fp16=False
        )  # the float32 weights as they are
        (tmp / TOKENIZER_FILE).write_text(tok.backend_tokenizer.to_str(), encoding="utf-8")
        (tmp / META_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")
        if not is_exported(folder):  # else another process (two cron jobs) finished first: keep its
            shutil.rmtree(folder, ignore_errors=True)
            os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load(folder: Path, precision: str | None = None) -> OpenVINOEmbedder:
    """Compile an exported ``folder`` for the CPU in ``precision`` (``bf16`` or ``f32``; ``None``:
    bfloat16 where the CPU plugin has it natively, AVX512-BF16 or AMX, else float32)."""
    ov = openvino()

    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    core = ov.Core()
    if precision is None:
        precision = (
            "bf16" if "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES") else "f32"
        )
    compiled = core.compile_model(
        str(folder / MODEL_FILE),
        "CPU",
        {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "THROUGHPUT"},
    )
    return OpenVINOEmbedder(compiled, _tokenizer(folder, meta), meta, precision)
