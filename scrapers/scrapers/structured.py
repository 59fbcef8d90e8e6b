"""schema.org reviews in a page's structured data (JSON-LD and microdata, read by extruct).

Pure functions: bytes in, raw review dicts out. Values are kept as the page states them
(ingest normalises dates, rating scales and whitespace).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import extruct
from extruct.jsonld import JsonLdExtractor
from extruct.utils import parse_html

#: schema.org defaults when a Rating states no scale (https://schema.org/Rating).
DEFAULT_BEST, DEFAULT_WORST = "5", "1"
RAW_LIMIT = 2000


@dataclass
class PageData:
    reviews: list[dict[str, Any]] = field(default_factory=list)
    aggregate_ratings: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (reason, raw excerpt)


def _types(node: dict[str, Any]) -> set[str]:
    t = node.get("@type") or node.get("type") or []
    types = t if isinstance(t, list) else [t]
    return {str(x).rsplit("/", 1)[-1] for x in types}


def _first(value: Any) -> Any:
    while isinstance(value, list):
        value = value[0] if value else None
    return value


def _text(value: Any) -> str | None:
    """A plain value from a string, number, or a node with a name / @value."""
    value = _first(value)
    if isinstance(value, dict):
        for key in ("name", "@value", "value", "alternateName"):
            if value.get(key) is not None:
                return _text(value[key])
        return None
    if value is None or isinstance(value, bool):
        return None
    return str(value)


def _review_record(node: dict[str, Any], product: str | None) -> dict[str, Any]:
    rating = _first(node.get("reviewRating"))
    rating_value = best = worst = None
    if isinstance(rating, dict):
        rating_value = _text(rating.get("ratingValue"))
        best = _text(rating.get("bestRating")) or DEFAULT_BEST
        worst = _text(rating.get("worstRating")) or DEFAULT_WORST
    elif rating is not None:
        rating_value = _text(rating)
        best, worst = DEFAULT_BEST, DEFAULT_WORST
    reviewed = _text(node.get("itemReviewed"))
    author = _first(node.get("author"))
    # A reviewer's profile URL or id is unique on the site: it links their reviews to one
    # customer (display names alone are not, so they never link).
    profile = None
    if isinstance(author, dict):
        profile = _text(author.get("url") or author.get("@id") or author.get("identifier"))
    return {
        "external_id": _text(node.get("@id") or node.get("identifier")),
        "author": _text(author),
        "handle": profile,
        "created_at": _text(node.get("datePublished") or node.get("dateCreated")),
        "title": _text(node.get("name") or node.get("headline")),
        "text": _text(node.get("reviewBody") or node.get("description") or node.get("text")),
        "rating": rating_value,
        "rating_best": best if rating_value is not None else None,
        "rating_worst": worst if rating_value is not None else None,
        "product": reviewed or product,
        "language": _text(node.get("inLanguage")),
    }


def _walk(node: Any, product: str | None, out: PageData) -> None:
    if isinstance(node, list):
        for x in node:
            _walk(x, product, out)
        return
    if not isinstance(node, dict):
        return
    types = _types(node)
    if "Review" in types or "UserReview" in types or "CriticReview" in types:
        out.reviews.append(_review_record(node, product))
        return
    if "AggregateRating" in types:
        out.aggregate_ratings += 1
        return
    if types & {
        "Product",
        "LocalBusiness",
        "Organization",
        "SoftwareApplication",
        "Book",
        "Movie",
        "Place",
        "Service",
        "Hotel",
        "Restaurant",
        "Course",
        "Event",
        "CreativeWork",
    }:
        product = _text(node.get("name")) or product
    for key, value in node.items():
        if key in ("@context", "@type", "type"):
            continue
        _walk(value, product, out)


def _jsonld_items(tree: Any, out: PageData) -> Iterator[Any]:
    # One script at a time, so one broken block does not hide the valid ones beside it.
    for i, script in enumerate(tree.xpath('//script[@type="application/ld+json"]'), 1):
        try:
            yield from _JSONLD.extract_items(script)
        except ValueError as exc:
            raw = script.xpath("string()")
            out.errors.append((f"invalid JSON-LD in script {i}: {exc}", raw[:RAW_LIMIT]))


_JSONLD = JsonLdExtractor()


def extract_reviews(
    body: bytes, url: str, encoding: str = "utf-8", *, tree: Any = None
) -> PageData:
    """Reviews (JSON-LD and microdata), AggregateRating count and parse errors of one page.

    ``tree`` is the page already parsed by lxml (e.g. ``response.selector.root``), to
    avoid parsing it twice.

    Example: ``extract_reviews(b'<script type="application/ld+json">{"@type": "Review", '
    b'"reviewBody": "Great"}</script>', "https://shop.example/p/1").reviews[0]["text"] == "Great"``
    """
    out = PageData()
    if tree is None:
        try:
            tree = parse_html(body, encoding=encoding)
        except (ValueError, TypeError) as exc:  # lxml: empty or undecodable document
            out.errors.append(
                (f"unreadable HTML: {exc}", body[:RAW_LIMIT].decode("utf-8", "replace"))
            )
            return out
    if tree is None:
        return out
    _walk(list(_jsonld_items(tree, out)), None, out)
    if b"itemscope" in body:  # microdata extraction walks the whole tree: only when there is some
        try:
            micro = extruct.extract(tree, base_url=url, syntaxes=["microdata"], uniform=True)
        except ValueError as exc:
            out.errors.append((f"invalid microdata: {exc}", ""))
        else:
            _walk(micro["microdata"], None, out)
    return out
