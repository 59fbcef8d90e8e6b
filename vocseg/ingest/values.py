"""Value parsers: dates to UTC ISO-8601, ratings to 0..1, numbers. Pure functions, no IO.

Each parser returns the parsed value or raises ``ValueError`` with a short reason that
ends up in the quarantine table.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import re

UTC = dt.UTC
_EXCEL_EPOCH = dt.datetime(1899, 12, 30, tzinfo=UTC)  # Excel's day 0 (with its 1900 leap-year bug)

#: strptime formats tried after ``fromisoformat``; the last one that worked is tried first next time.
DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S %z",  # 2015-02-24 11:35:52 -0800 (airline tweets)
    "%a %b %d %H:%M:%S %z %Y",  # Tue Oct 31 22:10:47 +0000 2017 (Twitter API)
    "%Y/%m/%d",  # 2025/3/1 (CFPB)
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%Y-%m-%dT%H:%M:%S.%f%z",
)

MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "nat", "#n/a", "-"})


def is_missing(value: object) -> bool:
    """True for None and the spellings exports use for an empty cell (NA, null, NaN ...)."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return len(value) < 6 and value.strip().lower() in MISSING
    return False


class DateParser:
    """Parse dates in the forms real exports use and return UTC ISO-8601 strings.

    Keeps the format that worked last, so a column in one format costs one attempt per
    value. Naive times are taken as UTC. Example: ``DateParser()("2015-02-24 11:35:52 -0800")``
    gives ``'2015-02-24T19:35:52+00:00'``.
    """

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: str | None = None

    def __call__(self, value: object) -> str:
        if type(value) is str and len(value) == 19 and self._last is None:
            # fast path for the commonest export form, naive 'YYYY-MM-DD HH:MM:SS' (taken as UTC)
            try:
                dt.datetime.fromisoformat(value)  # validates
            except ValueError:
                pass
            else:
                return f"{value[:10]}T{value[11:]}+00:00"
        if isinstance(value, dt.datetime):
            return _utc(value)
        if isinstance(value, dt.date):
            return _utc(dt.datetime(value.year, value.month, value.day))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _number_date(float(value))
        s = str(value).strip()
        if not s:
            raise ValueError("empty date")
        last = self._last
        if last is None:
            try:
                return _utc(dt.datetime.fromisoformat(s))
            except ValueError:
                pass
        else:
            try:
                return _utc(dt.datetime.strptime(s, last))
            except ValueError:
                pass
        return self._slow(s)

    def _slow(self, s: str) -> str:
        try:
            d = dt.datetime.fromisoformat(s.replace("Z", "+00:00") if s.endswith("Z") else s)
            self._last = None
            return _utc(d)
        except ValueError:
            pass
        for fmt in DATE_FORMATS:
            try:
                d = dt.datetime.strptime(s, fmt)
            except ValueError:
                continue
            self._last = fmt
            return _utc(d)
        if _NUMBER.fullmatch(s):
            return _number_date(float(s))
        try:
            d = email.utils.parsedate_to_datetime(s)  # RFC 2822 (e-mail, RSS)
        except (TypeError, ValueError, IndexError):
            d = None
        if d is not None:
            return _utc(d)
        raise ValueError(f"unparseable date {s[:40]!r}")


_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def _utc(d: dt.datetime) -> str:
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    elif d.utcoffset():
        d = d.astimezone(UTC)
    else:
        d = d.replace(tzinfo=UTC)
    return d.replace(microsecond=0).isoformat()


def _number_date(x: float) -> str:
    """Excel serial day numbers (1950..2100) and Unix epoch seconds/milliseconds."""
    if 18_264 <= x <= 73_051:  # 1950-01-01 .. 2100-01-01 as Excel serials
        return _utc(_EXCEL_EPOCH + dt.timedelta(days=x))
    if 1e8 <= x < 1e10:
        return _utc(dt.datetime.fromtimestamp(x, UTC))
    if 1e11 <= x < 1e13:
        return _utc(dt.datetime.fromtimestamp(x / 1000, UTC))
    raise ValueError(f"number {x:g} is neither an Excel date serial nor a Unix time")


# --- ratings --------------------------------------------------------------------

_RATING = re.compile(
    r"^\s*([+-]?\d+(?:[.,]\d+)?)\s*(?:(?:/|out\s+of|of)\s*(\d+(?:\.\d+)?))?\s*(%|stars?|points?)?\s*$",
    re.IGNORECASE,
)

#: default scales by document kind: NPS surveys are 0-10, star ratings 1-5
DEFAULT_SCALES = {"survey": (0.0, 10.0)}
STAR_SCALE = (1.0, 5.0)


def parse_scale(text: str) -> tuple[float, float]:
    """'1-5', '0-10', '-4..4', '0:100' -> (worst, best)."""
    m = re.fullmatch(r"\s*([+-]?\d+(?:\.\d+)?)\s*(?:-|\.\.|:|to)\s*([+-]?\d+(?:\.\d+)?)\s*", text)
    if not m:
        raise ValueError(f"rating scale {text!r} is not LOW-HIGH (e.g. 1-5 or 0-10)")
    lo, hi = float(m.group(1)), float(m.group(2))
    if hi <= lo:
        raise ValueError(f"rating scale {text!r} has its best value below its worst")
    return lo, hi


def parse_rating(value: object, scale: tuple[float, float]) -> tuple[str, float]:
    """Return (raw, normalised 0..1). A value may state its own scale: '4/5', '8 out of 10', '80%'."""
    if isinstance(value, bool):
        raise ValueError(f"rating {value!r} is not a number")  # noqa: TRY004 - a bad value, quarantined
    if isinstance(value, (int, float)):
        x = float(value)
        raw = str(value)
        lo, hi = scale
    elif type(value) is str and value.isdigit():  # fast path: '4'
        raw = value
        x = float(value)
        lo, hi = scale
    else:
        raw = str(value).strip()
        m = _RATING.match(raw)
        if not m:
            raise ValueError(f"rating {raw[:30]!r} is not a number")
        x = float(m.group(1).replace(",", "."))
        lo, hi = scale
        if m.group(2):
            lo, hi = (0.0 if float(m.group(2)) in (10.0, 100.0) else 1.0), float(m.group(2))
            if x == 0 and lo == 1.0:
                lo = 0.0
        elif m.group(3) == "%":
            lo, hi = 0.0, 100.0
    if not lo <= x <= hi:
        raise ValueError(f"rating {raw[:30]} is outside the scale {lo:g}-{hi:g}")
    return raw, round((x - lo) / (hi - lo), 6)


# --- numbers --------------------------------------------------------------------

_CURRENCY = re.compile(r"[^\d,.\-+eE]")


def parse_number(value: object, what: str = "value") -> float:
    """Amounts and quantities: '1,234.50', '£12.00', '12,5' (decimal comma), '-3'."""
    if isinstance(value, bool):
        raise ValueError(f"{what} {value!r} is not a number")  # noqa: TRY004 - a bad value, quarantined
    if isinstance(value, (int, float)):
        x = float(value)
    else:
        s = str(value).strip()
        try:
            x = float(s)
        except ValueError:
            t = _CURRENCY.sub("", s)
            if "," in t and "." in t:
                t = t.replace(",", "") if t.rfind(".") > t.rfind(",") else t.replace(".", "").replace(",", ".")
            elif "," in t:
                head, _, tail = t.rpartition(",")
                t = f"{head.replace(',', '')}.{tail}" if len(tail) != 3 else t.replace(",", "")
            try:
                x = float(t)
            except ValueError:
                raise ValueError(f"{what} {s[:30]!r} is not a number") from None
            if s.startswith("(") and s.endswith(")"):  # accounting negative
                x = -x
    if not math.isfinite(x):
        raise ValueError(f"{what} {value!r} is not a finite number")
    return x
