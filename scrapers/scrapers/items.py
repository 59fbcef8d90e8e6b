# Items of the vocseg spiders: dataclasses that mirror vocseg's ingest records.
#
# See documentation in:
# https://docs.scrapy.org/en/latest/topics/items.html
# and the record fields of vocseg.ingest.ingest_records in team CONTRACTS / docs/crawl.md.

from dataclasses import dataclass


@dataclass
class DocumentItem:
    """One review, post or comment, with raw fields as the site published them.

    Spiders only extract; ingest cleans (dates, rating scales, whitespace, redaction).
    ``source`` names the store source (e.g. ``reviews:shop.example``), ``kind`` the
    document kind (review, social, ...), ``url`` the page it was found on.
    """

    source: str
    kind: str
    url: str
    text: str | None = None
    title: str | None = None
    created_at: str | None = None
    external_id: str | None = None
    author: str | None = None
    handle: str | None = None
    rating: str | None = None
    rating_best: str | None = None
    rating_worst: str | None = None
    product: str | None = None
    channel: str | None = None
    language: str | None = None
    conversation_id: str | None = None
    turn: int | None = None
    role: str | None = None
    reply_to: str | None = None


@dataclass
class PageErrorItem:
    """A page whose data could not be read (e.g. broken JSON-LD): it goes to quarantine."""

    source: str
    url: str
    reason: str
    raw: str | None = None
