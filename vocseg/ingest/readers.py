"""One reader per file format. Each turns a file into rows, streaming, with line numbers.

A reader is opened with :func:`open_reader` and gives ``columns`` (the header, or None
for records that are dicts) and ``rows()``, which yields ``(line, values, error)``:
``values`` is a list (CSV, XLSX, Parquet) or a dict (JSON); ``error`` is None, or
``(reason, raw)`` for a row that could not be parsed (the reader carries on after it).
A file that cannot be read at all raises ``SourceError``.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vocseg.errors import Errors, SourceError

Row = tuple[int, Any, "tuple[str, str] | None"]

#: file name endings we ingest when given a directory or a glob
EXTENSIONS = (".csv", ".tsv", ".tab", ".txt", ".jsonl", ".ndjson", ".json", ".parquet", ".pq", ".xlsx")
PROBE_BYTES = 1 << 20


@dataclass
class ReadOptions:
    """How to read a file: from a preset or auto-detected."""

    header: tuple[str, ...] | None = None  # column names for a file without a header row
    delimiter: str | None = None
    quoting: bool = True
    max_field_chars: int = 1_000_000
    warnings: list[str] = field(default_factory=list)


def _err(path: Path, reason: object, code: str = "E101") -> SourceError:
    return SourceError(getattr(Errors, code).format(path=path, reason=reason), code=code)


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def format_of(path: Path) -> str:
    """csv, jsonl, json, parquet or xlsx, from the name (ignoring .gz) or, failing that, the bytes."""
    name = path.name.lower()
    name = name.removesuffix(".gz")
    ext = os.path.splitext(name)[1]
    if ext in (".csv", ".tsv", ".tab", ".txt"):
        return "csv"
    if ext in (".jsonl", ".ndjson"):
        return "jsonl"
    if ext == ".json":
        return "json"
    if ext in (".parquet", ".pq"):
        return "parquet"
    if ext in (".xlsx", ".xlsm"):
        return "xlsx"
    with _open_binary(path) as f:
        head = f.read(4096)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"["):
        return "json"
    if stripped.startswith(b"{"):
        return "jsonl"
    return "csv"


def _open_binary(path: Path):
    raw = open(path, "rb")  # noqa: SIM115 - returned to the caller
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        return gzip.GzipFile(fileobj=raw, mode="rb")
    raw.seek(0)
    return raw


class _Reader:
    fmt = "?"

    def __init__(self, path: Path, opts: ReadOptions) -> None:
        self.path = path
        self.opts = opts
        self.columns: list[str] | None = None
        self.position = 0  # bytes of the (possibly compressed) file read so far, for progress

    def rows(self) -> Iterator[Row]:  # pragma: no cover - abstract
        raise NotImplementedError


def _name_columns(names: list[Any]) -> list[str]:
    """Header cells as strings; empty ones become column_N, repeats get a _2 suffix."""
    out: list[str] = []
    seen: set[str] = set()
    for i, n in enumerate(names):
        s = "" if n is None else str(n).strip()
        if not s:
            s = f"column_{i + 1}"
        base, k = s, 2
        while s in seen:
            s = f"{base}_{k}"
            k += 1
        seen.add(s)
        out.append(s)
    return out


# --- CSV / TSV -----------------------------------------------------------------------


def _detect_encoding(head: bytes) -> tuple[str, bool]:
    """(encoding, is_fallback) from the first megabyte."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", False
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", False
    cut = head.rfind(b"\n")
    sample = head[: cut + 1] if 0 <= cut and len(head) >= PROBE_BYTES else head
    try:
        sample.decode("utf-8")
        return "utf-8", False
    except UnicodeDecodeError:
        pass
    # Some lines fail UTF-8. If other lines hold valid multi-byte UTF-8 (é as C3 A9), the file is
    # UTF-8 with a few corrupt rows (quarantined as invalid bytes); otherwise it is a legacy encoding.
    ok = bad = 0
    for line in sample.split(b"\n"):
        if max(line, default=0) < 0x80:
            continue
        try:
            line.decode("utf-8")
            ok += 1
        except UnicodeDecodeError:
            bad += 1
    if ok and bad <= ok:
        return "utf-8", False
    try:
        sample.decode("cp1252")
        return "cp1252", True
    except UnicodeDecodeError:
        return "latin-1", True


def _sniff_delimiter(first_line: str, path: Path) -> str:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".tsv", ".tab")):
        return "\t"
    counts = {d: _count_outside_quotes(first_line, d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _count_outside_quotes(line: str, delim: str) -> int:
    n, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delim and not quoted:
            n += 1
    return n


class CsvReader(_Reader):
    """CSV and TSV: dialect sniffed from the header line; UTF-8 (with or without BOM), UTF-16
    with BOM, else cp1252/latin-1 with a warning. Rows with broken quoting, the wrong number of
    fields, NUL or invalid bytes are reported and reading resumes on the next line."""

    fmt = "csv"

    def __init__(self, path: Path, opts: ReadOptions) -> None:
        super().__init__(path, opts)
        self._raw = open(path, "rb")  # noqa: SIM115 - closed in rows()
        gz = self._raw.read(2) == b"\x1f\x8b"
        self._raw.seek(0)
        self._bin = gzip.GzipFile(fileobj=self._raw, mode="rb") if gz else self._raw
        head = b""
        try:
            while len(head) < PROBE_BYTES:
                chunk = self._bin.read(1 << 16)
                if not chunk:
                    break
                head += chunk
        except (OSError, EOFError, zlib.error) as exc:
            if not head:  # not even a beginning: unreadable. Otherwise rows() reads up to the break
                self._raw.close()
                raise _err(path, f"cannot decompress ({exc})") from None
        try:
            self._bin.seek(0)
        except (OSError, EOFError, zlib.error) as exc:
            self._raw.close()
            raise _err(path, f"cannot decompress ({exc})") from None
        self.encoding, fallback = _detect_encoding(head)
        if fallback:
            opts.warnings.append(
                f"{path}: not valid UTF-8, read as {self.encoding}; re-save it as UTF-8 if characters look wrong"
            )
        if self.encoding == "utf-16":
            text = head.decode("utf-16", errors="replace")
        else:
            text = head.decode(self.encoding, errors="replace")
        first = text.split("\n", 1)[0]
        self.delimiter = opts.delimiter or _sniff_delimiter(first, path)
        self._lines_read = 0

    def _lines(self, pending: list[str], pushback: list[str], bad: dict[int, str]) -> Iterator[str]:
        """Decoded physical lines; remembers the current row's lines so a bad row can be re-read."""
        enc = self.encoding
        first = True
        if enc == "utf-16":
            source: Any = io.TextIOWrapper(self._bin, encoding="utf-16", errors="replace", newline="")
        else:
            source = self._bin
        while True:
            while pushback:
                line = pushback.pop()
                pending.append(line)
                yield line
            for bline in source:
                self._lines_read += 1
                if enc == "utf-16":
                    line = bline
                else:
                    try:
                        line = bline.decode(enc)
                    except UnicodeDecodeError:
                        line = bline.decode(enc, errors="replace")
                        bad[self._lines_read] = "invalid bytes for the file's encoding " + enc
                if "\x00" in line:
                    bad[self._lines_read] = "contains NUL bytes"
                    if first and enc == "utf-8-sig":
                        line = line.lstrip("\ufeff")
                first = False
                pending.append(line)
                yield line
                if pushback:
                    break
            else:
                if not pushback:
                    return

    def rows(self) -> Iterator[Row]:
        pending: list[str] = []
        pushback: list[str] = []
        bad: dict[int, str] = {}  # physical line -> why it is unusable
        limit = max(self.opts.max_field_chars, 131072)
        csv.field_size_limit(limit)
        lines = self._lines(pending, pushback, bad)
        # line numbers: physical line where each row starts
        start = 1
        ncols = None
        dialect: dict[str, Any] = {"delimiter": self.delimiter, "strict": True}
        if not self.opts.quoting:
            dialect["quoting"] = csv.QUOTE_NONE
        try:
            reader = csv.reader(lines, **dialect)
            if self.opts.header:
                self.columns = list(self.opts.header)
                ncols = len(self.columns)
            while True:
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raw = "".join(pending)
                    reason = _csv_reason(str(exc), limit)
                    first_line = pending[0] if pending else ""
                    rest = pending[1:]
                    pending.clear()
                    pushback.extend(reversed(rest))
                    yield start, None, (reason, first_line if rest else raw)
                    start += 1
                    reader = csv.reader(lines, **dialect)
                    continue
                nlines = len(pending)
                if ncols is None:  # the header row
                    self.columns = _name_columns(values)
                    ncols = len(self.columns)
                    pending.clear()
                    start += nlines
                    continue
                if bad and any(start <= b < start + nlines for b in bad):
                    reason = next(bad[b] for b in range(start, start + nlines) if b in bad)
                    yield start, None, (reason, "".join(pending).replace("\x00", "\\0"))
                    pending.clear()
                    start += nlines
                    continue
                if len(values) != ncols:
                    if not values:  # blank line
                        pending.clear()
                        start += nlines
                        continue
                    if nlines > 1:  # a quote opened and never closed swallowed the next lines
                        first_line = pending[0]
                        rest = pending[1:]
                        pending.clear()
                        pushback.extend(reversed(rest))
                        yield start, None, (
                            f"broken quoting: {len(values)} fields across {nlines} lines, expected {ncols}",
                            first_line,
                        )
                        start += 1
                        reader = csv.reader(lines, **dialect)
                        continue
                    yield start, None, (f"has {len(values)} fields, expected {ncols}", "".join(pending))
                    pending.clear()
                    start += nlines
                    continue
                pending.clear()
                yield start, values, None
                start += nlines
                if not start & 1023:  # tell() is a system call: not per row
                    self.position = self._raw.tell()
        except (OSError, EOFError, zlib.error) as exc:  # truncated or corrupt compressed data
            raise _err(self.path, f"cannot read past line {start} ({exc}); the rows before it were read") from None
        finally:
            self._raw.close()


def _csv_reason(msg: str, limit: int) -> str:
    if "field larger than field limit" in msg:
        return f"a field is over {limit:,} characters (an unclosed quote?)"
    if "NUL" in msg:
        return "contains NUL bytes"
    if "expected after" in msg or "end of data" in msg or "new-line" in msg:
        return f"broken quoting ({msg})"
    return f"unparseable CSV ({msg})"


# --- JSON Lines and JSON arrays ------------------------------------------------------------


class JsonlReader(_Reader):
    """One JSON object per line; a line that is not a JSON object is reported."""

    fmt = "jsonl"

    def rows(self) -> Iterator[Row]:
        try:
            f = _open_binary(self.path)
        except OSError as exc:
            raise _err(self.path, exc) from None
        loads = json.loads
        raw_f = getattr(f, "fileobj", f)
        with f:
            try:
                for n, bline in enumerate(f, 1):
                    if not bline.strip():
                        continue
                    try:
                        obj = loads(bline)
                    except UnicodeDecodeError:
                        yield n, None, ("invalid UTF-8 bytes", bline.decode("utf-8", "replace"))
                        continue
                    except ValueError as exc:
                        yield n, None, (f"invalid JSON ({exc})", bline.decode("utf-8", "replace"))
                        continue
                    if not isinstance(obj, dict):
                        yield n, None, (f"a JSON {type(obj).__name__}, not an object", bline.decode("utf-8", "replace"))
                        continue
                    yield n, obj, None
                    if n % 1024 == 0:
                        self.position = raw_f.tell()
            except (OSError, EOFError, zlib.error) as exc:
                raise _err(self.path, f"cannot decompress ({exc})") from None


class JsonArrayReader(_Reader):
    """A JSON array of objects (or an object holding one), decoded incrementally so memory
    stays flat. Record numbers are 1-based positions in the array."""

    fmt = "json"
    CHUNK = 1 << 20

    def rows(self) -> Iterator[Row]:
        try:
            f = _open_binary(self.path)
        except OSError as exc:
            raise _err(self.path, exc) from None
        decoder = json.JSONDecoder()
        raw_f = getattr(f, "fileobj", f)
        with f:
            text = io.TextIOWrapper(f, encoding="utf-8-sig", errors="strict")
            try:
                buf = text.read(self.CHUNK)
            except UnicodeDecodeError as exc:
                raise _err(self.path, f"not UTF-8 JSON ({exc})") from None
            buf = buf.lstrip()
            if buf.startswith("{"):
                yield from self._object(buf, text)
                return
            if not buf.startswith("["):
                raise _err(self.path, "not a JSON array or object")
            pos, n, eof = 1, 0, False
            while True:
                while pos < len(buf) and buf[pos] in " \t\r\n,":
                    pos += 1
                if pos < len(buf) and buf[pos] == "]":
                    return
                if pos >= len(buf) - 1 or len(buf) - pos < self.CHUNK // 2:
                    if not eof:
                        try:
                            more = text.read(self.CHUNK)
                        except UnicodeDecodeError as exc:
                            yield n + 1, None, (f"invalid UTF-8 bytes ({exc}); the rest of the file was not read", "")
                            return
                        buf = buf[pos:] + more
                        pos = 0
                        eof = not more
                        self.position = raw_f.tell()
                        continue
                    if pos >= len(buf):
                        yield n + 1, None, ("the JSON array is not closed with ']'", "")
                        return
                try:
                    obj, end = decoder.raw_decode(buf, pos)
                except json.JSONDecodeError as exc:
                    if not eof:
                        more = text.read(self.CHUNK)
                        if more:
                            buf = buf[pos:] + more
                            pos = 0
                            continue
                    yield n + 1, None, (f"invalid JSON ({exc.msg}); the rest of the file was not read",
                                        buf[pos: pos + 2000])
                    return
                n += 1
                if isinstance(obj, dict):
                    yield n, obj, None
                else:
                    yield n, None, (f"a JSON {type(obj).__name__}, not an object", json.dumps(obj)[:2000])
                pos = end

    def _object(self, buf: str, text: io.TextIOWrapper) -> Iterator[Row]:
        """A top-level object: its first list of objects holds the records (``{"reviews": [...]}``)."""
        try:
            data = json.loads(buf + text.read())
        except ValueError as exc:
            raise _err(self.path, f"invalid JSON ({exc})") from None
        records = next((v for v in data.values() if isinstance(v, list)), None)
        if records is None:
            records = [data]
        for n, obj in enumerate(records, 1):
            if isinstance(obj, dict):
                yield n, obj, None
            else:
                yield n, None, (f"a JSON {type(obj).__name__}, not an object", json.dumps(obj)[:2000])


# --- Parquet and XLSX ------------------------------------------------------------------------


def _plain_copy(path: Path) -> tuple[Path, Path | None]:
    """Parquet and XLSX need a seekable file: decompress a .gz copy to a temp file."""
    if not is_gzip(path):
        return path, None
    tmpdir = Path(tempfile.mkdtemp(prefix="vocseg-"))
    out = tmpdir / path.name.removesuffix(".gz")
    try:
        with gzip.open(path, "rb") as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    except (OSError, EOFError, zlib.error) as exc:
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise _err(path, f"cannot decompress ({exc})") from None
    return out, tmpdir


class ParquetReader(_Reader):
    """Parquet, read in record batches; record numbers are 1-based row positions."""

    fmt = "parquet"

    def rows(self) -> Iterator[Row]:
        import pyarrow.parquet as pq

        plain, tmpdir = _plain_copy(self.path)
        try:
            try:
                pf = pq.ParquetFile(plain)
            except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a corrupt file
                raise _err(self.path, f"not a readable Parquet file ({exc})") from None
            self.columns = _name_columns(pf.schema_arrow.names)
            n = 0
            for batch in pf.iter_batches(batch_size=4096):
                cols = [c.to_pylist() for c in batch.columns]
                for values in zip(*cols):
                    n += 1
                    yield n, list(values), None
                self.position = int(os.path.getsize(plain) * n / max(pf.metadata.num_rows, 1))
        finally:
            if tmpdir:
                shutil.rmtree(tmpdir, ignore_errors=True)


class XlsxReader(_Reader):
    """The first worksheet of an XLSX workbook, streamed; line numbers are Excel row numbers."""

    fmt = "xlsx"

    def rows(self) -> Iterator[Row]:
        import openpyxl

        plain, tmpdir = _plain_copy(self.path)
        try:
            try:
                wb = openpyxl.load_workbook(plain, read_only=True, data_only=True)
            except Exception as exc:  # noqa: BLE001 - zipfile/openpyxl raise several types for a corrupt file
                raise _err(self.path, f"not a readable XLSX workbook ({exc})") from None
            try:
                ws = wb.worksheets[0]
                it = ws.iter_rows(values_only=True)
                ncols = None
                if self.opts.header:
                    self.columns = list(self.opts.header)
                    ncols = len(self.columns)
                for n, values in enumerate(it, 1):
                    if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                        continue
                    if ncols is None:
                        self.columns = _name_columns(list(values))
                        while self.columns and self.columns[-1].startswith("column_"):
                            self.columns.pop()  # trailing empty header cells
                        ncols = len(self.columns)
                        continue
                    row = list(values[:ncols])
                    if len(row) < ncols:
                        row += [None] * (ncols - len(row))
                    yield n, row, None
            finally:
                wb.close()
        finally:
            if tmpdir:
                shutil.rmtree(tmpdir, ignore_errors=True)


def estimate_rows(path: Path) -> int | None:
    """A quick estimate of the rows in a file, for the progress bar (None when unknown)."""
    try:
        fmt = format_of(path)
        if fmt == "parquet" and not is_gzip(path):
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
        if fmt not in ("csv", "jsonl"):
            return None
        size = path.stat().st_size
        with open(path, "rb") as raw:
            if raw.read(2) == b"\x1f\x8b":
                raw.seek(-4, os.SEEK_END)  # gzip trailer: uncompressed size mod 2**32
                size = int.from_bytes(raw.read(4), "little")
                raw.seek(0)
                head = gzip.GzipFile(fileobj=raw).read(PROBE_BYTES)
            else:
                raw.seek(0)
                head = raw.read(PROBE_BYTES)
        lines = head.count(b"\n")
        if not head or not lines:
            return None
        return max(1, int(lines * max(size, len(head)) / len(head)) - (1 if fmt == "csv" else 0))
    except (OSError, EOFError, zlib.error, ValueError):
        return None


READERS = {"csv": CsvReader, "jsonl": JsonlReader, "json": JsonArrayReader,
           "parquet": ParquetReader, "xlsx": XlsxReader}


def open_reader(path: Path, opts: ReadOptions) -> _Reader:
    """The reader for ``path`` (format from its name or bytes; gzip handled transparently)."""
    try:
        if not path.is_file():
            raise _err(path, "it is not a file")
        if not os.access(path, os.R_OK):
            raise _err(path, "permission denied")
        fmt = format_of(path)
    except OSError as exc:
        raise _err(path, exc) from None
    try:
        return READERS[fmt](path, opts)
    except OSError as exc:
        raise _err(path, exc) from None
