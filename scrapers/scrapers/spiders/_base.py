"""What every vocseg spider shares: comma-separated arguments, source naming, domains."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import scrapy
from w3lib.html import remove_tags, replace_entities

from scrapers.items import DocumentItem, PageErrorItem


def split_arg(value: str | list[str] | None) -> list[str]:
    """``-a start_urls=a,b`` -> ["a", "b"] (a list, as from Python, passes through)."""
    if not value:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(",") if v.strip()]


_BREAKS = re.compile(r"<br\s*/?>|</p\s*>|</li\s*>", re.IGNORECASE)


def html_text(html: str | None) -> str | None:
    """Visible text of an HTML fragment (a forum post's ``cooked``, a feed's summary)."""
    if html is None:
        return None
    # line breaks and paragraph ends become newlines, so sentences do not run together
    return replace_entities(remove_tags(_BREAKS.sub("\n", html)))


def links(response, css: str) -> list[str]:
    """hrefs a CSS selector picks: ``a.next`` (elements) or ``a.next::attr(href)`` alike."""
    if "::attr(" in css or "::text" in css:
        return [h for h in response.css(css).getall() if h and h.strip()]
    return [el.attrib["href"] for el in response.css(css) if el.attrib.get("href")]


def host(url: str) -> str:
    return urlsplit(url).hostname or ""


class VocsegSpider(scrapy.Spider):
    """Base: ``source`` (store source name), ``origin`` (where the crawl starts) and
    ``allowed_domains`` (the start URLs' hosts unless ``-a allowed_domains=`` says otherwise)."""

    kind = "other"

    #: Why the arguments cannot work (None: fine). Checked by ``vocseg crawl`` before the
    #: crawl starts and by :meth:`check_args` at start; ``scrapy check`` needs no arguments.
    arg_error: str | None = None

    def __init__(self, *args, **kwargs):
        unknown = sorted(k for k in kwargs if k != "name")
        super().__init__(*args, **kwargs)
        #: a request the crawl state depends on failed (see part_failed)
        self.incomplete = False
        if unknown:
            self.arg_error = f"unknown argument(s) {', '.join(unknown)} for spider '{self.name}'"

    def setup(self, urls: list[str], *, source: str | None, allowed_domains: str | None) -> None:
        bad = [u for u in urls if urlsplit(u).scheme not in ("http", "https", "file")]
        if not urls:
            self.arg_error = f"spider '{self.name}' needs start_urls=URL[,URL...]"
        elif bad:
            self.arg_error = f"'{bad[0]}' is not an http(s) URL"
        first = urls[0] if urls else ""
        self.origin = first
        self.source = source or f"{self.name}:{urlsplit(first).netloc or 'local'}"
        # Offsite filtering wants bare host names (no port, no scheme).
        self.allowed_domains = split_arg(allowed_domains) or sorted(
            {host(u) for u in urls if host(u)}
        )

    def part_failed(self, failure) -> None:
        """Errback of requests the incremental state depends on (next pages, topics): if one
        fails for a reason that may pass (network, 5xx), this crawl is incomplete and does not
        advance the crawl state, so the next crawl walks past the gap instead of stopping
        before it. A page that is gone (404, 410) is not a gap."""
        response = getattr(failure.value, "response", None)
        if response is not None and response.status in (404, 410):
            return
        self.incomplete = True
        self.logger.warning("%s failed: %s", failure.request.url, failure.getErrorMessage())

    def check_args(self) -> None:
        if self.arg_error:
            raise ValueError(self.arg_error)

    def document(self, url: str, **fields) -> DocumentItem:
        return DocumentItem(source=self.source, kind=self.kind, url=url, **fields)

    def page_error(self, url: str, reason: str, raw: str | None = None) -> PageErrorItem:
        return PageErrorItem(source=self.source, url=url, reason=reason, raw=raw)
