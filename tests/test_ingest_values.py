"""Value parsers and redaction: the forms real exports use."""

from __future__ import annotations

import pytest

from vocseg.ingest import values as V
from vocseg.ingest.redact import redact


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-01T10:00:00Z", "2024-03-01T10:00:00+00:00"),
        ("2024-03-01T12:00:00+02:00", "2024-03-01T10:00:00+00:00"),
        ("2015-02-24 11:35:52 -0800", "2015-02-24T19:35:52+00:00"),
        ("Tue Oct 31 22:10:47 +0000 2017", "2017-10-31T22:10:47+00:00"),
        ("2025/3/1", "2025-03-01T00:00:00+00:00"),
        ("2011-03-10 16:16:00", "2011-03-10T16:16:00+00:00"),
        (45000, "2023-03-15T00:00:00+00:00"),  # Excel serial
        ("45000.5", "2023-03-15T12:00:00+00:00"),
        ("Tue, 31 Oct 2017 22:10:47 +0100", "2017-10-31T21:10:47+00:00"),
    ],
)
def test_dates_to_utc_iso(raw: object, expected: str) -> None:
    assert V.DateParser()(raw) == expected


def test_date_parser_keeps_working_when_formats_change() -> None:
    parse = V.DateParser()
    assert parse("2025/3/1") == "2025-03-01T00:00:00+00:00"
    assert parse("2025/12/31") == "2025-12-31T00:00:00+00:00"
    assert parse("2024-01-02") == "2024-01-02T00:00:00+00:00"  # back to ISO after a strptime format
    with pytest.raises(ValueError, match="unparseable date"):
        parse("next tuesday")


@pytest.mark.parametrize(
    ("raw", "scale", "expected"),
    [
        ("5", (1, 5), 1.0), ("1", (1, 5), 0.0), (3, (1, 5), 0.5),
        ("10", (0, 10), 1.0), ("0", (0, 10), 0.0), ("7", (0, 10), 0.7),
        ("4/5", (1, 5), 0.75), ("8 out of 10", (1, 5), 0.8), ("80%", (1, 5), 0.8),
        ("4 stars", (1, 5), 0.75), ("-4", (-4, 4), 0.0),
    ],
)
def test_ratings_normalised_with_raw_kept(raw: object, scale: tuple, expected: float) -> None:
    kept, norm = V.parse_rating(raw, scale)
    assert norm == pytest.approx(expected)
    assert kept == str(raw).strip()


@pytest.mark.parametrize("raw", ["6", "0", "11/10", "great", "-1"])
def test_rating_outside_its_scale_is_rejected(raw: str) -> None:
    with pytest.raises(ValueError):
        V.parse_rating(raw, (1, 5))


def test_numbers_in_export_forms() -> None:
    assert V.parse_number("1,234.50") == 1234.5
    assert V.parse_number("£12.00") == 12.0
    assert V.parse_number("12,5") == 12.5
    assert V.parse_number("(3.00)") == -3.0
    with pytest.raises(ValueError):
        V.parse_number("abc", "amount")


@pytest.mark.parametrize(
    ("text", "expected", "n"),
    [
        ("mail jo.doe+x@example.co.uk today", "mail [EMAIL] today", 1),
        ("call +1 (555) 010-1234 now", "call [PHONE] now", 1),
        ("card 4111 1111 1111 1111 thanks", "card [CARD] thanks", 1),
        ("card 4111-1111-1111-1111", "card [CARD]", 1),
        ("ssn 123-45-6789", "ssn [SSN]", 1),
        ("ring 07700 900123", "ring [PHONE]", 1),
        ("a@b.io and c@d.io", "[EMAIL] and [EMAIL]", 2),
    ],
)
def test_redaction(text: str, expected: str, n: int) -> None:
    assert redact(text) == (expected, n)


@pytest.mark.parametrize(
    "text",
    ["flight on 2015-02-24 at 11:35", "order 12345 of 3 items", "@115715 please DM us", "size 10 fits",
     "4111 1111 1111 1112 3"],  # 17 digits failing Luhn, too long for a phone number
)
def test_redaction_leaves_ordinary_text(text: str) -> None:
    assert redact(text) == (text, 0)
