"""Redaction of personal data in free text: e-mails, card numbers, phone numbers, SSNs.

Runs on every text and title before storage. Cheap pre-checks ('@' present, a run of
digits present) skip the full patterns for the common text that has nothing to redact.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
# a run of digits with the separators people type in phone and card numbers
_DIGITS = re.compile(r"(?<![\w@#/])\+?\(?\d[\d\s().-]{5,}\d(?![\w/])")
_ANY_DIGIT_RUN = re.compile(r"\d[\d\s().-]{5,}\d")
_SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
_DATE_LIKE = re.compile(r"\d{4}[-.]\d{1,2}[-.]\d{1,2}|\d{1,2}[-.]\d{1,2}[-.]\d{2,4}")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _number(m: re.Match[str], counter: list[int]) -> str:
    s = m.group(0)
    digits = "".join(ch for ch in s if ch.isdigit())
    n = len(digits)
    if 13 <= n <= 19 and _luhn(digits):
        counter[0] += 1
        return "[CARD]"
    if _SSN.fullmatch(s.strip()):
        counter[0] += 1
        return "[SSN]"
    if _DATE_LIKE.fullmatch(s.strip()):
        return s
    if 10 <= n <= 15 or (s.lstrip().startswith("+") and 8 <= n <= 15):
        counter[0] += 1
        return "[PHONE]"
    return s


def redact(text: str) -> tuple[str, int]:
    """Replace e-mails, card numbers (Luhn-checked), SSNs and phone numbers; return (text, count).

    Example: ``redact("mail jo@x.org or call +1 555 010 1234")`` gives
    ``('mail [EMAIL] or call [PHONE]', 2)``.
    """
    count = 0
    if "@" in text:
        text, n = EMAIL.subn("[EMAIL]", text)
        count += n
    if _ANY_DIGIT_RUN.search(text) is not None:
        counter = [0]
        text = _DIGITS.sub(lambda m: _number(m, counter), text)
        count += counter[0]
    return text, count
