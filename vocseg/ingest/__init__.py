"""Ingest: files and records -> normalised, deduplicated, redacted rows in the store.

Library API (see docs/ingest.md)::

    from vocseg import ingest
    res = ingest.ingest(db, ["reviews.csv"], kind="review", mapping={"text": "review_body"})
    res = ingest.ingest_records(db, [{"text": "Great!", "rating": 5}], source="shop", kind="review")
    res.as_dict()  # files, read, inserted, updated, duplicates, quarantined, redacted, seconds
"""

from __future__ import annotations

import glob
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from vocseg import store
from vocseg.config import IngestConfig
from vocseg.errors import Errors, SourceError, UsageError
from vocseg.ingest import mapping as M
from vocseg.ingest import pipeline as P
from vocseg.ingest import values as V
from vocseg.ingest.normalize import Extractor, Normalizer
from vocseg.ingest.readers import EXTENSIONS
from vocseg.ingest.writer import Writer, ensure_source

__all__ = ["KINDS", "PRESETS", "IngestResult", "expand", "ingest", "ingest_records"]

PRESETS = M.PRESETS
KINDS = M.KINDS
RESULT_KEYS = ("files", "read", "inserted", "updated", "duplicates", "quarantined", "redacted", "seconds")
ProgressFn = P.ProgressFn


@dataclass
class IngestResult:
    """What an ingest did. ``as_dict()`` gives exactly the keys of ``vocseg ingest --json``."""

    files: int = 0
    read: int = 0
    inserted: int = 0
    updated: int = 0
    duplicates: int = 0
    quarantined: int = 0
    redacted: int = 0
    seconds: float = 0.0
    run_id: int | None = None
    warnings: list[str] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)  # --dry-run: mapping and first records

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in RESULT_KEYS}


def expand(paths: Iterable[str | Path], pattern: str = "*") -> list[Path]:
    """Files named by ``paths``: files as given, directories and globs expanded (sorted).

    Raises SourceError when a path matches nothing we can read.
    """
    out: list[Path] = []
    for p in paths:
        s = str(p)
        if any(ch in s for ch in "*?[") and not Path(s).exists():
            matches = sorted(Path(m) for m in glob.glob(s, recursive=True))
            files = [m for m in matches if m.is_file() and _ingestible(m)]
            if not files:
                raise SourceError(Errors.E102.format(path=s, reason="the pattern matches no readable file"),
                                  code="E102")
            out.extend(files)
            continue
        path = Path(s)
        if path.is_dir():
            files = sorted(
                f for f in path.rglob(pattern) if f.is_file() and _ingestible(f)
                and not any(part.startswith(".") for part in f.relative_to(path).parts)
            )
            if not files:
                raise SourceError(Errors.E102.format(path=path, reason="the folder holds no CSV, TSV, JSON, "
                                                     "JSON Lines, Parquet or XLSX file"), code="E102")
            out.extend(files)
        elif path.exists():
            out.append(path)
        else:
            raise SourceError(Errors.E101.format(path=path, reason="it does not exist"), code="E101")
    seen: set[Path] = set()
    unique = []
    for f in out:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def _ingestible(path: Path) -> bool:
    name = path.name.lower().removesuffix(".gz")
    return name.endswith(EXTENSIONS)


def _scale(value: str | Sequence[float] | None) -> tuple[float, float] | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return V.parse_scale(value)
        except ValueError as exc:
            raise UsageError(Errors.E108.format(scale=value, reason=exc), code="E108") from None
    lo, hi = value
    return float(lo), float(hi)


def ingest(
    db: sqlite_utils.Database,
    paths: Sequence[str | Path] | str | Path,
    *,
    kind: str | None = None,
    preset: str | None = None,
    mapping: dict[str, str] | Sequence[str] | None = None,
    source: str | None = None,
    dry_run: bool = False,
    strict: bool = False,
    cfg: IngestConfig = IngestConfig(),  # noqa: B008 - frozen dataclass
    progress: ProgressFn | None = None,
    rating_scale: str | Sequence[float] | None = None,
    bulk: bool | None = None,
) -> IngestResult:
    """Ingest files (CSV/TSV, JSON Lines, JSON, Parquet, XLSX, any gzipped; folders and globs).

    Bad rows go to ``quarantine`` and valid rows are stored; a file that cannot be read
    raises ``SourceError``; with ``strict`` any quarantined row raises ``SourceError``
    after the valid rows are stored. The run is recorded in ``runs``. ``bulk`` drops the
    documents' secondary indexes during the load and rebuilds them at the end; None (the
    default) does so for loads of 100,000 rows or more that are at least as big as the
    store (see docs/ingest.md, "Bulk mode").

    Example: ``ingest(db, ["tweets.csv"], preset="airline-tweets").inserted``
    """
    t0 = time.perf_counter()
    if isinstance(paths, (str, Path)):
        paths = [paths]
    pre = M.get_preset(preset)
    if kind is not None and kind not in M.KINDS:
        raise UsageError(Errors.E106.format(kind=kind, valid=", ".join(M.KINDS)), code="E106")
    explicit = M.parse_map(mapping, kind or (pre.kind if pre else None))
    scale = _scale(rating_scale)
    files = expand(paths, pre.files if pre else "*")
    result = IngestResult(files=len(files))
    options = {"kind": kind, "preset": pre, "explicit": explicit, "source": source, "scale": scale}
    if dry_run:
        ctx = P.Context(db, cfg, result, None, progress)
        for path in files:
            P.run_file(ctx, path, dry_run=True, **options)
        result.seconds = round(time.perf_counter() - t0, 3)
        return result
    arguments = {"paths": [str(p) for p in paths], "kind": kind, "preset": preset, "mapping": explicit,
                 "source": source, "strict": strict, "rating_scale": rating_scale}
    with store.run(db, "ingest", arguments) as counts:
        ctx = P.Context(db, cfg, result, counts["run_id"], progress)
        result.run_id = ctx.run_id
        if bulk is None:
            bulk = P.wants_bulk(db, files, kind or (pre.kind if pre else None))
        try:
            with P.bulk_pragmas(db), P.fewer_gc_passes():
                with P.bulk_load(db, bulk):
                    for path in files:
                        P.run_file(ctx, path, dry_run=False, **options)
                P.finish_threads(ctx)
        finally:
            result.seconds = round(time.perf_counter() - t0, 3)
            counts.update(result.as_dict())
        if strict and result.quarantined:
            exc = SourceError(Errors.E109.format(n=result.quarantined, run_id=ctx.run_id), code="E109")
            exc.result = result  # type: ignore[attr-defined]  # the CLI still prints the counts
            raise exc
    return result


def ingest_records(
    db: sqlite_utils.Database,
    records: Iterable[dict[str, Any]],
    *,
    source: str = "records",
    kind: str = "review",
    origin: str | None = None,
    cfg: IngestConfig = IngestConfig(),  # noqa: B008 - frozen dataclass
    run_id: int | None = None,
    mapping: dict[str, str] | None = None,
    rating_scale: str | Sequence[float] | None = None,
) -> IngestResult:
    """Ingest dicts whose keys are target field names (or source keys renamed by ``mapping``).

    Used by the scrapers' pipeline and the demo. A record may carry ``_line`` (a number or
    a URL) for quarantine messages and ``attributes`` (a dict kept with the document).
    Invalid records go to ``quarantine``; this never raises for a bad record.

    Example: ``ingest_records(db, [{"text": "Love it", "rating": 5}], source="shop", kind="review")``
    """
    t0 = time.perf_counter()
    if kind not in M.KINDS:
        raise UsageError(Errors.E106.format(kind=kind, valid=", ".join(M.KINDS)), code="E106")
    explicit = M.parse_map(mapping, kind)
    fields = M.fields_for(kind)
    fmap = {f: f for f in fields}
    fmap.update(explicit)
    result = IngestResult(files=0)
    label = origin or f"records:{source}"

    def rows() -> Iterable[tuple[Any, Any, Any]]:
        for n, rec in enumerate(records, 1):
            if not isinstance(rec, dict):
                yield n, None, (f"a {type(rec).__name__}, not a dict", repr(rec)[:2000])
                continue
            line = rec.get("_line", n)
            if "attributes" in rec and isinstance(rec["attributes"], dict):
                rec = {**rec, **{f"attributes.{k}": v for k, v in rec["attributes"].items()}}
            yield line, rec, None

    def run(rid: int | None) -> None:
        ctx = P.Context(db, cfg, result, rid, None)
        source_id = ensure_source(db, source, kind, origin, None)
        writer = Writer(db, run_id=rid, source_id=source_id, kind=kind, customers=ctx.customers, counts=result)
        norm = Normalizer(kind, preset=None, scale=_scale(rating_scale), max_text_chars=cfg.max_text_chars,
                          do_redact=cfg.redact)
        try:
            P.consume(ctx, P.produce(rows(), _RecordExtractor(fmap, kind), norm, label, max(1, cfg.batch_size),
                                     line_labels=True), writer)
            if writer.threaded:
                ctx.threaded.add(source_id)
            P.finish_threads(ctx)
        finally:
            result.seconds = round(time.perf_counter() - t0, 3)

    if run_id is None:
        with store.run(db, "ingest_records", {"source": source, "kind": kind, "origin": origin}) as counts:
            result.run_id = counts["run_id"]
            try:
                run(result.run_id)
            finally:
                counts.update(result.as_dict())
    else:
        result.run_id = run_id
        run(run_id)
    return result


class _RecordExtractor(Extractor):
    """Dict records: mapped fields, plus ``attributes`` (documents) or all other keys (customers)."""

    def __init__(self, fmap: dict[str, str], kind: str) -> None:
        super().__init__(None, fmap, (), "records")
        self.kind = kind
        self.mapped = set(fmap.values()) | {"_line", "attributes"}

    def __call__(self, row: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
        rec = {f: row.get(c) for f, c in self.items}
        if self.kind == "customers":
            attrs = {k: v for k, v in row.items() if k not in self.mapped and not k.startswith("attributes.")}
            attrs.update({k[11:]: v for k, v in row.items() if k.startswith("attributes.")})
        else:
            attrs = {k[11:]: v for k, v in row.items() if k.startswith("attributes.")} or None
        return rec, attrs
