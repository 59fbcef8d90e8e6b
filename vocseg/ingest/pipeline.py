"""The per-file pipeline: read -> map -> normalise in batches -> write, optionally with the
parsing in a second process so that reading and writing overlap on two cores.

``produce`` is pure (rows in, batches out); ``run_file`` owns the IO of one file.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import multiprocessing
import operator
import os
import pickle
import queue
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from vocseg import errors as errors_mod
from vocseg import models, store
from vocseg.config import IngestConfig
from vocseg.errors import Errors, SourceError
from vocseg.ingest import mapping as M
from vocseg.ingest.normalize import ROW_TYPES, BadRecord, Doc, Extractor, Normalizer
from vocseg.ingest.readers import EXTENSIONS, ReadOptions, estimate_rows, open_reader
from vocseg.ingest.threads import thread_source
from vocseg.ingest.writer import Customers, Writer, ensure_source, widen_spans

ProgressFn = Callable[[int, "int | None"], None]
#: (normalised rows, bad rows as (file, line, reason, raw), rows read, customers' spans or None)
Batch = tuple[list[Any], list[tuple[Any, Any, str, str | None]], int, "dict[tuple, list[str]] | None"]
#: files at least this big are parsed in a second process (when ingest.parse_process is on)
PARALLEL_MIN_BYTES = 8 << 20
#: bulk mode (automatic): an ingest of at least this many rows (estimated from the files),
#: and of at least as many rows as the store already holds, drops BULK_INDEXES and builds
#: them once at the end. Below this, building them costs more than it saves.
BULK_MIN_ROWS = 100_000
#: the secondary indexes with random keys that make each insert cost several page writes;
#: never the UNIQUE (source_id, external_id) one: dedupe looks rows up through it
BULK_INDEXES = ("idx_documents_customer", "idx_documents_created", "idx_documents_hash",
                "idx_documents_conversation", "idx_document_attributes_product")


@dataclass
class Context:
    """What the files of one ingest share: store, settings, counters, customer cache."""

    db: sqlite_utils.Database
    cfg: IngestConfig
    result: Any  # IngestResult
    run_id: int | None
    progress: ProgressFn | None
    customers: Customers = field(default_factory=Customers)
    estimated: int = 0  # rows expected so far (progress bar total)
    threaded: set[int] = field(default_factory=set)


def table_of(kind: str) -> str:
    return kind if kind in ("transactions", "customers") else "documents"


def produce(rows: Iterable[tuple[Any, Any, Any]], extract: Extractor, norm: Normalizer, label: str,
            batch_size: int, line_labels: bool = False) -> Iterator[Batch]:
    """Rows -> batches of (normalised rows, bad rows as (file, line, reason, raw), rows read,
    spans).

    ``spans`` maps each identity seen to the [earliest, latest] time it was seen at (for the
    customers' first_seen/last_seen); it comes with the last batch, or earlier when it grows
    past ``Customers.MAX_CACHE`` identities, else it is None. Collected here so that the
    work is done in the parse process, not the writer.

    If the file turns unreadable part-way (a truncated .gz), the rows read so far are still
    yielded before the ``SourceError`` is raised.
    """
    kind = norm.kind
    table = table_of(kind)
    document, transaction, customer = norm.document, norm.transaction, norm.customer
    good: list[Any] = []
    bad: list[tuple[Any, Any, str, str | None]] = []
    spans: dict[tuple, list[str]] = {}
    when = _SEEN.get(table)
    n = 0
    try:
        for total, (line, values, error) in enumerate(rows, 1):
            n += 1
            where = label
            if line_labels and isinstance(line, str):  # ingest_records: a URL names the record
                where, line = line, total
            if error is not None:
                bad.append((where, line, error[0], error[1]))
            else:
                try:
                    rec, attrs = extract(values)
                    if table == "documents":
                        good.append(document(rec, attrs))
                    elif table == "transactions":
                        good.append(transaction(rec, attrs, values))
                    else:
                        good.append(customer(rec, attrs))
                except BadRecord as exc:
                    bad.append((where, line, str(exc), extract.raw(values)))
            if n >= batch_size:
                if when is not None:
                    widen_spans(spans, map(when[0], good), map(when[1], good))
                if len(spans) > Customers.MAX_CACHE:
                    yield good, bad, n, spans
                    spans = {}
                else:
                    yield good, bad, n, None
                good, bad, n = [], [], 0
    except SourceError:
        if when is not None:
            widen_spans(spans, map(when[0], good), map(when[1], good))
        if n or spans:
            yield good, bad, n, spans or None
        raise
    if when is not None:
        widen_spans(spans, map(when[0], good), map(when[1], good))
    if n or spans:
        yield good, bad, n, spans or None


#: (identity, time seen) of a normalised row, per table whose rows carry both
_SEEN = {
    "documents": (operator.itemgetter(Doc._fields.index("identity")), operator.itemgetter(Doc._fields.index("created_at"))),
    "transactions": (operator.attrgetter("identity"), operator.attrgetter("occurred_at")),
}


def consume(ctx: Context, batches: Iterable[Batch], writer: Writer) -> None:
    """Write each batch in its own transaction and report progress."""
    result, progress = ctx.result, ctx.progress
    for good, bad, n, spans in batches:
        result.read += n
        writer.write(good, bad, spans)
        if progress is not None:
            if result.read > ctx.estimated:  # the estimate was low
                ctx.estimated = result.read
                progress(n, ctx.estimated)
            else:
                progress(n, None)


@dataclass
class FilePlan:
    """Everything needed to read one file, decided from its header (picklable for the child)."""

    path: Path
    opts: dict[str, Any]
    kind: str
    mapping: dict[str, str]
    attributes: list[str]
    preset: M.Preset | None
    scale: tuple[float, float] | None
    id_prefix: str | None
    label: str


def _read_options(preset: M.Preset | None, cfg: IngestConfig) -> dict[str, Any]:
    return {"header": preset.header if preset else None, "delimiter": preset.delimiter if preset else None,
            "quoting": preset.quoting if preset else True,
            "max_field_chars": max(cfg.max_text_chars * 4, 1 << 20)}


def scale_from_column(column: str | None) -> tuple[float, float] | None:
    """A rating column named for its scale: NPS / likelihood to recommend 0-10, CSAT 1-5."""
    name = M.norm(column or "")
    if "nps" in name.split("_") or "recommend" in name:
        return (0.0, 10.0)
    if "csat" in name.split("_") or "stars" in name:
        return (1.0, 5.0)
    return None


def _normalizer(plan: FilePlan, cfg: IngestConfig) -> Normalizer:
    scale = plan.scale or (plan.preset.rating_scale if plan.preset else None) \
        or scale_from_column(plan.mapping.get("rating"))
    norm = Normalizer(plan.kind, preset=plan.preset, scale=scale, max_text_chars=cfg.max_text_chars,
                      do_redact=cfg.redact, id_prefix=plan.id_prefix)
    norm.columns = plan.mapping
    return norm


def source_name(path: Path) -> str:
    name = path.name
    for suffix in (".gz",) + EXTENSIONS:
        name = name.removesuffix(suffix)
    return name or path.name


_REQUIRED = {
    "transactions": (("occurred_at",), ("amount", "unit_price")),
    "customers": (("customer", "email", "handle"),),
}


def check_required(kind: str, fmap: dict[str, str], path: Any, columns: Iterable[str] | None) -> None:
    for options in _REQUIRED.get(kind, (("text",),)):
        if not any(f in fmap for f in options):
            raise SourceError(
                Errors.E103.format(path=path, field=options[0], kind=kind,
                                   columns=", ".join(columns or []) or "(none)"),
                code="E103",
            )


def public(row: Any) -> dict[str, Any]:
    """A normalised row as a dict without empty fields (for --dry-run)."""
    out = {}
    if type(row) is tuple:  # a document row (see Normalizer.document)
        row = Doc._make(row)
    for name, v in row._asdict().items():
        if name == "identity" and v is not None:
            v = {k: x for k, x in zip(("customer", "email", "handle", "name"), v) if x is not None}
        if v is not None:
            out[name] = v
    return out


def run_file(ctx: Context, path: Path, *, kind: str | None, preset: M.Preset | None,
             explicit: dict[str, str], source: str | None, scale: tuple[float, float] | None,
             dry_run: bool) -> None:
    """Ingest one file: plan the mapping from its header, then stream it into the store."""
    cfg = ctx.cfg
    opts = _read_options(preset, cfg)
    read_opts = ReadOptions(**opts)
    reader = open_reader(path, read_opts)
    it = reader.rows()
    first = next(it, None)
    ctx.result.warnings.extend(read_opts.warnings)
    columns = reader.columns
    if columns is None and first is not None and isinstance(first[1], dict):
        columns = list(first[1].keys())
    file_kind = kind or (preset.kind if preset else None) or M.guess_kind(columns or [])
    fmap = M.resolve(columns, file_kind, preset, explicit)
    attributes = list(preset.attributes) if preset else []
    if "attributes" in fmap:
        attributes += [c.strip() for c in fmap.pop("attributes").split(",") if c.strip()]
    if file_kind == "customers" and columns:
        attributes = [c for c in columns if c not in fmap.values()]
    preview = {"file": str(path), "kind": file_kind, "mapping": fmap, "records": []}
    if first is None:
        if dry_run:
            ctx.result.preview.append(preview)
        return
    check_required(file_kind, fmap, path, columns)
    extract = Extractor(reader.columns, fmap, attributes, path)
    plan = FilePlan(path, opts, file_kind, fmap, attributes, preset, scale,
                    source_name(path) if preset and preset.id_prefix_file else None, str(path.resolve()))
    batch = max(1, cfg.batch_size)
    if dry_run:
        for good, bad, n, _ in produce(itertools.chain([first], it), extract, _normalizer(plan, cfg), plan.label,
                                       batch):
            ctx.result.read += n
            ctx.result.quarantined += len(bad)
            for row in good[: 5 - len(preview["records"])]:
                preview["records"].append(public(row))
        ctx.result.preview.append(preview)
        return
    if ctx.progress is not None:
        start = ctx.result.read
        ctx.estimated = start + (estimate_rows(path) or 0)
        ctx.progress(0, ctx.estimated or None)
    name = source or (preset.name if preset else None) or source_name(path)
    source_id = ensure_source(ctx.db, name, file_kind, plan.label, preset.name if preset else None)
    writer = Writer(ctx.db, run_id=ctx.run_id, source_id=source_id, kind=file_kind, customers=ctx.customers,
                    counts=ctx.result)
    if cfg.parse_process and (os.cpu_count() or 1) > 1 and path.stat().st_size >= PARALLEL_MIN_BYTES:
        it.close()  # the child reads the file itself
        consume(ctx, _child_batches(plan, cfg), writer)
    else:
        consume(ctx, produce(itertools.chain([first], it), extract, _normalizer(plan, cfg), plan.label, batch),
                writer)
    if writer.threaded:
        ctx.threaded.add(source_id)
    if ctx.progress is not None and ctx.estimated != ctx.result.read:
        ctx.estimated = ctx.result.read  # the file is done: its estimate becomes its count
        ctx.progress(0, ctx.estimated)
    with store.transaction(ctx.db):
        ctx.customers.flush_spans(ctx.db.conn)


@contextlib.contextmanager
def bulk_pragmas(db: sqlite_utils.Database) -> Iterator[None]:
    """A bigger page cache and fewer WAL checkpoints while ingesting; restored afterwards.

    The documents table has five indexes with random keys (hash, date, customer); with the
    default 2 MB cache each insert misses, and checkpointing every 4 MB rewrites the same
    index pages again and again.
    """
    conn = db.conn
    cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    checkpoint = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    conn.execute("PRAGMA cache_size = -65536")  # 64 MiB
    conn.execute("PRAGMA wal_autocheckpoint = 20000")  # pages (80 MB of WAL)
    try:
        yield
    finally:
        conn.execute(f"PRAGMA cache_size = {int(cache)}")
        conn.execute(f"PRAGMA wal_autocheckpoint = {int(checkpoint)}")


def wants_bulk(db: sqlite_utils.Database, files: Iterable[Path], kind: str | None) -> bool:
    """Whether an ingest of ``files`` is big enough for bulk mode (see BULK_MIN_ROWS)."""
    if kind in ("transactions", "customers"):
        return False
    rows = sum(estimate_rows(f) or 0 for f in files)
    if rows < BULK_MIN_ROWS:
        return False
    # MAX(id) is free and never below the row count, so this errs towards the normal path
    stored = db.conn.execute("SELECT COALESCE(MAX(id), 0) FROM documents").fetchone()[0]
    return rows >= stored


@contextlib.contextmanager
def bulk_load(db: sqlite_utils.Database, enabled: bool) -> Iterator[None]:
    """Bulk mode: drop the documents' secondary indexes, and build them again when done.

    Building an index once over sorted keys costs a fraction of keeping it up to date row
    by row. The drop is recorded in the store (``store.defer_indexes``), so if the process
    is killed before the rebuild, the next ``store.open`` rebuilds them. Rows, dedupe and
    updates are unchanged: they go through the UNIQUE (source_id, external_id) index,
    which stays.

    Foreign keys are not checked row by row meanwhile (about 10% of the writer's time):
    every key the writer stores comes from the same transaction (the source, the run, the
    rows it has just inserted) or from the customer cache, which is checked again
    whenever another connection has committed (``Customers.resolve``), so a customer
    erased by a concurrent ``vocseg forget`` is never linked to.
    """
    if not enabled:
        yield
        return
    conn = db.conn
    checks = conn.execute("PRAGMA foreign_keys").fetchone()[0]
    conn.execute("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction; there is none here
    store.defer_indexes(db, BULK_INDEXES)
    try:
        yield
    finally:
        conn.execute(f"PRAGMA foreign_keys = {int(checks)}")
        store.restore_indexes(db)


@contextlib.contextmanager
def fewer_gc_passes() -> Iterator[None]:
    """Run the cyclic garbage collector less often while ingesting; restored afterwards.

    Each batch allocates tens of thousands of tuples that live until it is written; with
    the default threshold (700) the collector traverses them again and again: about 10% of
    the parse process's time. Batches hold no reference cycles, so nothing piles up.
    """
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], 50_000), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def finish_threads(ctx: Context) -> None:
    """After the files: customers' first/last seen, then reply threading of touched sources."""
    with store.transaction(ctx.db):
        ctx.customers.flush_spans(ctx.db.conn)
    for source_id in sorted(ctx.threaded):
        with store.transaction(ctx.db):
            thread_source(ctx.db.conn, source_id)


# --- the parse process -------------------------------------------------------------------------


def _child(conn: Any, parent_end: Any, plan: FilePlan, cfg: IngestConfig) -> None:
    """Child process: read and normalise the file, send pickled batches of plain tuples."""
    if parent_end is not None:
        # a forked child holds a copy of the parent's read end: close it, so that when the
        # parent dies (killed mid-ingest) our next send fails with EPIPE and we exit
        parent_end.close()
    gc.set_threshold(max(gc.get_threshold()[0], 50_000), *gc.get_threshold()[1:])  # see fewer_gc_passes
    try:
        reader = open_reader(plan.path, ReadOptions(**plan.opts))
        it = reader.rows()
        first = next(it, None)
        rows = itertools.chain([first], it) if first is not None else iter(())
        extract = Extractor(reader.columns, plan.mapping, plan.attributes, plan.path)
        plan_docs = table_of(plan.kind) == "documents"
        for good, bad, n, spans in produce(rows, extract, _normalizer(plan, cfg), plan.label,
                                           max(1, cfg.batch_size)):
            # document rows are plain tuples already; the other kinds are NamedTuples
            rows = good if plan_docs else [tuple(r) for r in good]
            conn.send_bytes(pickle.dumps(("b", rows, bad, n, spans), protocol=5))
        conn.send_bytes(pickle.dumps(("end",)))
    except errors_mod.VocsegError as exc:
        conn.send_bytes(pickle.dumps(("e", type(exc).__name__, exc.args[0], exc.code)))
    except BrokenPipeError:  # the parent is gone (killed): stop quietly
        pass
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises it
        conn.send_bytes(pickle.dumps(("x", traceback.format_exc())))
    finally:
        conn.close()


#: parsed batches the writer process holds ready (received and unpickled) while it writes
PREFETCH_BATCHES = 4


def _receive(conn: Any, out: queue.Queue, stop: threading.Event) -> None:
    """Thread of the writer process: receive and unpickle batches ahead of the writer.

    The writer's SQLite calls release the GIL, so this overlaps with them; and while the
    writer waits on a commit or checkpoint, the parse process can run ahead.
    """
    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    try:
        while not stop.is_set():
            msg = pickle.loads(conn.recv_bytes())
            if not put(msg) or msg[0] != "b":
                return
    except EOFError:
        put(("died",))
    except OSError:  # the writer closed the pipe: it stopped early
        if not stop.is_set():
            put(("x", traceback.format_exc()))
    except BaseException:  # noqa: BLE001 - handed to the writer, which raises it
        put(("x", traceback.format_exc()))


def _child_batches(plan: FilePlan, cfg: IngestConfig) -> Iterator[Batch]:
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    mp = multiprocessing.get_context(method)
    parent, child = mp.Pipe(duplex=False)
    proc = mp.Process(target=_child, args=(child, parent if method == "fork" else None, plan, cfg),
                      daemon=True, name="vocseg-ingest-parse")
    with models.forking() if method == "fork" else contextlib.nullcontext():
        proc.start()
    child.close()
    # documents are written by index from plain tuples; the other kinds use their field names
    make = None if table_of(plan.kind) == "documents" else ROW_TYPES[table_of(plan.kind)]._make
    ready: queue.Queue = queue.Queue(maxsize=PREFETCH_BATCHES)
    stop = threading.Event()
    pump = threading.Thread(target=_receive, args=(parent, ready, stop), name="vocseg-ingest-receive",
                            daemon=True)
    pump.start()
    try:
        while True:
            msg = ready.get()
            tag = msg[0]
            if tag == "b":
                yield (msg[1] if make is None else [make(t) for t in msg[1]]), msg[2], msg[3], msg[4]
            elif tag == "end":
                return
            elif tag == "died":
                proc.join(5)
                raise RuntimeError(f"the ingest parse process for {plan.path} died "
                                   f"(exit code {proc.exitcode})")
            elif tag == "e":
                cls = getattr(errors_mod, msg[1], errors_mod.VocsegError)
                raise cls(msg[2], code=msg[3])
            else:
                raise RuntimeError(f"the ingest parse process failed on {plan.path}:\n{msg[1]}")
    finally:
        stop.set()
        if proc.is_alive():
            proc.terminate()  # its pipe end closes, so a receive in progress ends with EOFError
        proc.join()
        pump.join()
        parent.close()
