"""Turn a mapped record (target field -> raw value) into a clean row, or reject it.

Pure: no IO. ``Normalizer.document`` / ``.transaction`` / ``.customer`` return a row
object or raise :class:`BadRecord` with the reason that goes to the quarantine table.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from vocseg.errors import Errors, SourceError
from vocseg.ingest import values as V
from vocseg.ingest.mapping import DOCUMENT_KINDS, Preset
from vocseg.ingest.redact import redact

_ROLES = {
    "customer": "customer", "user": "customer", "client": "customer", "consumer": "customer",
    "inbound": "customer", "visitor": "customer", "buyer": "customer",
    "agent": "agent", "support": "agent", "staff": "agent", "brand": "agent", "company": "agent",
    "outbound": "agent", "bot": "agent", "operator": "agent", "employee": "agent",
}


class BadRecord(ValueError):
    """A record that cannot be stored; the message is the quarantine reason."""


#: (customer external id, normalised e-mail, normalised handle, name); a plain tuple so
#: batches cross to the writer process cheaply
Identity = tuple


def identity_keys(ident: tuple) -> list[tuple[str, str]]:
    """(kind, value) identities of a person, strongest first."""
    out = []
    if ident[0]:
        out.append(("external_id", ident[0]))
    if ident[1]:
        out.append(("email", ident[1]))
    if ident[2]:
        out.append(("handle", ident[2]))
    return out


class Doc(NamedTuple):
    kind: str
    external_id: str
    conversation_id: str | None
    turn: int | None
    role: str | None
    author: str | None
    title: str | None
    text: str
    created_at: str | None
    rating_raw: str | None
    rating: float | None
    language: str | None
    channel: str | None
    url: str | None
    content_hash: str
    identity: tuple | None
    product: str | None
    attributes: str | None
    reply_to: str | None
    redacted: int


class Txn(NamedTuple):
    external_id: str
    occurred_at: str
    amount: float
    currency: str | None
    quantity: float | None
    product: str | None
    channel: str | None
    identity: tuple | None
    attributes: dict[str, Any] | None


class Cust(NamedTuple):
    identity: tuple
    attributes: dict[str, Any]


ROW_TYPES = {"documents": Doc, "transactions": Txn, "customers": Cust}


def _s(value: Any) -> str | None:
    """A cell as a stripped string, None when missing; 3.0 -> '3' (ids from floats)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value or (len(value) < 6 and value.lower() in V.MISSING):
            return None
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
    return str(value)


def normalise_email(value: Any) -> str | None:
    s = _s(value)
    if s is None:
        return None
    s = s.lower()
    s = s.removeprefix("mailto:")
    local, at, domain = s.partition("@")
    if not at or not local or "." not in domain or " " in s:
        return None
    return s


def normalise_handle(value: Any) -> str | None:
    s = _s(value)
    if s is None:
        return None
    return s.lstrip("@").lower() or None


def _json_cell(v: Any) -> Any:
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


class Extractor:
    """Pulls the mapped fields (and attribute columns) out of a list row or a dict row."""

    def __init__(self, columns: Sequence[str] | None, mapping: dict[str, str],
                 attributes: Sequence[str], path: Any) -> None:
        self.columns = list(columns) if columns else None
        if self.columns is not None:
            index = {c: i for i, c in enumerate(self.columns)}
            for fld, col in mapping.items():
                if col not in index:
                    raise SourceError(
                        Errors.E107.format(path=path, column=col, field=fld,
                                           columns=", ".join(self.columns)),
                        code="E107",
                    )
            self.items = [(f, index[c]) for f, c in mapping.items()]
            self.attr_items = [(c, index[c]) for c in attributes if c in index]
        else:
            self.items = list(mapping.items())
            self.attr_items = [(c, c) for c in attributes]
        self.is_list = self.columns is not None

    def __call__(self, row: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
        if self.is_list:
            rec = {f: row[i] for f, i in self.items}
            attrs = {c: row[i] for c, i in self.attr_items} if self.attr_items else None
            return rec, attrs
        rec = {f: _get(row, c) for f, c in self.items}
        attrs = {c: _get(row, c) for c, _ in self.attr_items} if self.attr_items else None
        return rec, attrs

    def raw(self, row: Any) -> str:
        """The row as JSON, for the quarantine table."""
        if self.is_list and isinstance(row, list):
            row = dict(zip(self.columns or [], row))
        try:
            return json.dumps(row, ensure_ascii=False, default=str)[:20000]
        except (TypeError, ValueError):
            return str(row)[:20000]


def _get(row: dict[str, Any], key: str) -> Any:
    if key in row:
        return row[key]
    if "." in key:  # nested JSON: "user.id"
        cur: Any = row
        for part in key.split("."):
            if not isinstance(cur, dict) or part not in cur:
                return None
            cur = cur[part]
        return cur
    return None


class Normalizer:
    """Per-file settings (kind, scale, constants, value maps) applied to each record."""

    def __init__(self, kind: str, *, preset: Preset | None, scale: tuple[float, float] | None,
                 max_text_chars: int, do_redact: bool, id_prefix: str | None = None) -> None:
        self.kind = kind
        self.constants = dict(preset.constants) if preset else {}
        self.values = dict(preset.values) if preset else {}
        self.scale = scale or (preset.rating_scale if preset else None)
        self.max_chars = max_text_chars
        self.do_redact = do_redact
        self.id_prefix = id_prefix
        self.dates: dict[str, V.DateParser] = {}
        self.columns: dict[str, str] = {}  # field -> source column, for quarantine reasons
        self._sha1: Callable[..., Any] = hashlib.sha1

    def _date(self, fld: str, value: Any) -> str | None:
        if value is None or (isinstance(value, str) and V.is_missing(value)):
            return None
        parser = self.dates.get(fld)
        if parser is None:
            parser = self.dates[fld] = V.DateParser()
        try:
            return parser(value)
        except (ValueError, OverflowError, OSError) as exc:
            raise BadRecord(f"{fld}: {exc}") from None

    def _apply(self, rec: dict[str, Any]) -> dict[str, Any]:
        for fld, value in self.constants.items():
            if rec.get(fld) is None:
                rec[fld] = value
        for fld, table in self.values.items():
            v = rec.get(fld)
            if v is not None:
                rec[fld] = table.get(str(v).strip(), v)
        return rec

    def _identity(self, rec: dict[str, Any]) -> Identity | None:
        get = rec.get
        v = get("customer")
        cust = None if v is None else _s(v)
        v = get("email")
        email = None if v is None else normalise_email(v)
        v = get("handle")
        handle = None if v is None else normalise_handle(v)
        if cust is None and email is None and handle is None:
            return None
        v = get("name")
        return (cust, email, handle, None if v is None else _s(v))

    def _text(self, fld: str, value: Any, required: bool) -> tuple[str | None, int]:
        s = None if value is None else value.strip() if isinstance(value, str) else _s(value)
        if not s or (len(s) < 6 and s.lower() in V.MISSING):
            if required:
                col = self.columns.get(fld)
                raise BadRecord(f"missing {fld}" + (f" (column '{col}' is empty)" if col and col != fld else ""))
            return None, 0
        if "\x00" in s:
            raise BadRecord(f"{fld} contains NUL characters")
        if len(s) > self.max_chars:
            raise BadRecord(
                f"{fld} is {len(s):,} characters, over the limit of {self.max_chars:,} "
                "(ingest.max_text_chars)"
            )
        if self.do_redact:
            return redact(s)
        return s, 0

    def document(self, rec: dict[str, Any], attrs: dict[str, Any] | None) -> tuple:
        """A document row: a plain tuple in ``Doc``'s field order (``Doc._make`` names it).

        Plain, because a million of them cross to the writer process per run; fields the
        mapping leaves out are None in ``rec`` and are skipped without a call.
        """
        if self.constants or self.values:
            rec = self._apply(rec)
        get = rec.get
        raw_text = get("text")
        text, n1 = self._text("text", raw_text, True)
        raw_title = get("title")
        if raw_title is None:
            title, n2 = None, 0
        else:
            title, n2 = self._text("title", raw_title, False)
        kind = self.kind
        v = get("kind")
        if v is not None:
            k = _s(v)
            if k is not None:
                k = k.lower()
                if k not in DOCUMENT_KINDS:
                    raise BadRecord(f"kind {k!r} is not one of {', '.join(DOCUMENT_KINDS)}")
                kind = k
        v = get("created_at")
        created = None if v is None else self._date("created_at", v)
        rating_raw = rating = None
        rv = get("rating")
        if rv is not None and not V.is_missing(rv):
            scale = self._scale(rec, kind)
            try:
                rating_raw, rating = V.parse_rating(rv, scale)
            except ValueError as exc:
                raise BadRecord(str(exc)) from None
        role = get("role")
        if role is not None:
            r = _s(role)
            if r is not None:
                role = _ROLES.get(r.lower())
                if role is None:
                    raise BadRecord(f"role {r!r} is neither customer nor agent")
            else:
                role = None
        turn = get("turn")
        if turn is not None:
            t = _s(turn)
            try:
                turn = int(float(t)) if t is not None else None
            except ValueError:
                raise BadRecord(f"turn {t!r} is not a whole number") from None
        v = get("author")
        author = None if v is None else _s(v)
        v = get("external_id")
        ext = None if v is None else _s(v)
        if ext is None:
            base = f"{author or ''}\x1f{created or ''}\x1f{_s(raw_title) or ''}\x1f{raw_text}"
            ext = self._sha1(base.encode("utf-8", "surrogatepass")).hexdigest()
        elif self.id_prefix:
            ext = f"{self.id_prefix}:{ext}"
        identity = None if role == "agent" else self._identity(rec)
        v = get("product")
        product = None if v is None else _s(v)
        attributes = None
        if attrs:
            kept = {k: _json_cell(v) for k, v in attrs.items() if not V.is_missing(v)}
            if kept:
                attributes = json.dumps(kept, ensure_ascii=False, sort_keys=True)
        v = get("reply_to")
        reply_to = None if v is None else _s(v)
        if reply_to is not None and self.id_prefix:
            reply_to = f"{self.id_prefix}:{reply_to}"
        v = get("conversation_id")
        conversation = None if v is None else _s(v)
        if conversation is None and kind == "chat" and reply_to is None:
            conversation = ext  # a message that starts (or alone makes) a conversation
            turn = 1 if turn is None else turn
        v = get("language")
        language = None if v is None else _s(v)
        v = get("channel")
        channel = None if v is None else _s(v)
        v = get("url")
        url = None if v is None else _s(v)
        return (
            kind, ext, conversation, turn, role, author, title, text, created,
            rating_raw, rating, language, channel, url,
            self._sha1(text.encode("utf-8", "surrogatepass")).hexdigest(),
            identity, product, attributes, reply_to, n1 + n2,
        )

    def _scale(self, rec: dict[str, Any], kind: str) -> tuple[float, float]:
        best, worst = rec.get("rating_best"), rec.get("rating_worst")
        if best is not None and not V.is_missing(best):
            try:
                hi = V.parse_number(best, "rating_best")
                lo = V.parse_number(worst, "rating_worst") if worst is not None and not V.is_missing(worst) \
                    else (0.0 if hi in (10.0, 100.0) else 1.0)
            except ValueError as exc:
                raise BadRecord(str(exc)) from None
            if hi <= lo:
                raise BadRecord(f"rating scale {lo:g}-{hi:g} has its best value below its worst")
            return lo, hi
        if self.scale:
            return self.scale
        return V.DEFAULT_SCALES.get(kind, V.STAR_SCALE)

    def transaction(self, rec: dict[str, Any], attrs: dict[str, Any] | None, raw_values: Any) -> Txn:
        if self.constants or self.values:
            rec = self._apply(rec)
        occurred = self._date("occurred_at", rec.get("occurred_at"))
        if occurred is None:
            raise BadRecord("missing occurred_at")
        try:
            qty = rec.get("quantity")
            quantity = None if qty is None or V.is_missing(qty) else V.parse_number(qty, "quantity")
            amt = rec.get("amount")
            if amt is not None and not V.is_missing(amt):
                amount = V.parse_number(amt, "amount")
            else:
                price = rec.get("unit_price")
                if price is None or V.is_missing(price):
                    raise BadRecord("missing amount (map amount=COLUMN, or unit_price and quantity)")
                amount = round(V.parse_number(price, "unit_price") * (1.0 if quantity is None else quantity), 6)
        except ValueError as exc:
            raise BadRecord(str(exc)) from None
        ext = _s(rec.get("external_id"))
        if ext is None:  # the whole row, so exact repeats are duplicates and nothing else is
            blob = json.dumps(raw_values, default=str, ensure_ascii=False, sort_keys=True)
            ext = self._sha1(blob.encode("utf-8", "surrogatepass")).hexdigest()
        elif self.id_prefix:
            ext = f"{self.id_prefix}:{ext}"
        currency = _s(rec.get("currency"))
        return Txn(ext, occurred, amount, currency.upper() if currency else None, quantity,
                   _s(rec.get("product")), _s(rec.get("channel")), self._identity(rec),
                   {k: _json_cell(v) for k, v in attrs.items() if not V.is_missing(v)} if attrs else None)

    def customer(self, rec: dict[str, Any], attrs: dict[str, Any] | None) -> Cust:
        if self.constants or self.values:
            rec = self._apply(rec)
        identity = self._identity(rec)
        if identity is None:
            raise BadRecord("no customer id, e-mail or handle")
        kept = {k: _json_cell(v) for k, v in (attrs or {}).items() if not V.is_missing(v)}
        return Cust(identity, kept)
