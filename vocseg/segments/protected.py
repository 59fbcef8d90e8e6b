"""Protected attributes: never segmentation features, only an opt-in audit.

A name is protected when one of its word parts (split on anything not a letter or digit,
lower-cased) names a characteristic that anti-discrimination law protects (EU Charter art. 21,
GDPR art. 9 special categories, US Civil Rights Act / ADA / ADEA). Word parts, not substrings,
so ``average_order_value`` or ``usage`` are fine while ``age``, ``age_band`` or ``Gender`` are not.
"""

from __future__ import annotations

import re

from vocseg.errors import ConfigError, Errors

#: word part -> category shown in the refusal
PROTECTED: dict[str, str] = {
    **dict.fromkeys(["gender", "sex", "transgender", "pronoun", "pronouns"], "sex or gender"),
    **dict.fromkeys(
        ["race", "racial", "ethnicity", "ethnic", "ethnicities", "colour", "color", "skin"],
        "race or ethnicity",
    ),
    **dict.fromkeys(
        ["religion", "religious", "faith", "belief", "beliefs", "caste"], "religion or belief"
    ),
    **dict.fromkeys(
        ["age", "ages", "dob", "birth", "birthdate", "birthday", "birthyear", "born", "yob"], "age"
    ),
    **dict.fromkeys(
        ["disability", "disabilities", "disabled", "handicap", "impairment"], "disability"
    ),
    **dict.fromkeys(
        ["nationality", "citizenship", "citizen", "national", "immigration", "passport"],
        "nationality or national origin",
    ),
    **dict.fromkeys(["orientation", "lgbt", "lgbtq", "sexuality"], "sexual orientation"),
    **dict.fromkeys(
        ["marital", "married", "pregnancy", "pregnant", "maternity"], "marital status or pregnancy"
    ),
    **dict.fromkeys(["health", "medical", "genetic", "diagnosis"], "health or genetic data"),
    **dict.fromkeys(["political", "politics", "union"], "political opinion or union membership"),
}


def category(name: str) -> str | None:
    """The protected category ``name`` falls in, or None.

    Example: ``category("customer_age_band") == "age"``; ``category("average_order") is None``
    """
    parts = [p for p in re.split(r"[^0-9a-z]+", name.lower()) if p]
    for part in parts:
        if part in PROTECTED:
            return PROTECTED[part]
    return None


def refuse(names: list[str], *, key: str, where: str = "vocseg.toml") -> None:
    """Raise ConfigError E401 for the first protected name in ``names``."""
    for name in names:
        cat = category(name)
        if cat:
            raise ConfigError(
                Errors.E401.format(where=where, key=key, name=name, category=cat), code="E401"
            )
