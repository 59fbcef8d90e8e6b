"""App-store customer reviews from JSON review feeds (the iTunes customer-reviews RSS shape).

    scrapy crawl appstore -a app_id=284882215 -a country=us

Arguments: ``app_id`` (required), ``base_url`` (default ``https://itunes.apple.com``),
``country`` (default ``us``), ``url_template`` (default below; fields ``base_url``,
``country``, ``page``, ``app_id``), ``max_pages`` (default 10, the store's limit),
``product`` (name stored with each review; default the app id), ``source`` (default
``appstore:APP_ID``). Pages run newest first; paging follows the feed's next/last links.
"""

from __future__ import annotations

import json

import scrapy

from scrapers.middlewares import PAGINATE
from scrapers.spiders._base import VocsegSpider

URL_TEMPLATE = (
    "{base_url}/{country}/rss/customerreviews/page={page}/id={app_id}/sortby=mostrecent/json"
)


def label(node, *path):
    """``entry["author"]["name"]["label"]`` without KeyErrors: label(entry, "author", "name")."""
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node = node.get("label")
    return None if node is None else str(node)


class AppStoreSpider(VocsegSpider):
    name = "appstore"
    kind = "review"

    def __init__(
        self,
        app_id=None,
        base_url="https://itunes.apple.com",
        country="us",
        url_template=URL_TEMPLATE,
        max_pages="10",
        product=None,
        source=None,
        allowed_domains=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.app_id, self.base_url, self.country = str(app_id), base_url.rstrip("/"), country
        self.url_template = url_template
        self.max_pages = int(max_pages)
        self.product = product or self.app_id
        self.setup(
            [self.page_url(1)],
            source=source or f"appstore:{self.app_id}",
            allowed_domains=allowed_domains,
        )
        if not app_id:
            self.arg_error = "spider 'appstore' needs app_id=APP_ID"

    def page_url(self, page: int) -> str:
        return self.url_template.format(
            base_url=self.base_url, country=self.country, page=page, app_id=self.app_id
        )

    async def start(self):
        self.check_args()
        yield scrapy.Request(self.page_url(1), callback=self.parse, cb_kwargs={"page": 1})

    def parse(self, response, page=1):
        """One page of reviews, then the next page while the feed says there is one.

        @fixture appstore_page.json
        @cb_kwargs {"page": 1}
        @returns items 2 2
        @returns requests 1 1
        @scrapes source kind url text title author handle rating rating_best created_at external_id
        """
        try:
            feed = json.loads(response.text).get("feed") or {}
        except (ValueError, AttributeError) as exc:
            yield self.page_error(response.url, f"invalid JSON: {exc}", response.text[:2000])
            return
        entries = feed.get("entry") or []
        entries = [entries] if isinstance(entries, dict) else entries
        reviews = [e for e in entries if isinstance(e, dict) and "im:rating" in e]
        for e in reviews:
            yield self.document(
                label(e, "link", "attributes", "href") or response.url,
                external_id=label(e, "id"),
                author=label(e, "author", "name"),
                handle=label(e, "author", "name"),
                rating=label(e, "im:rating"),
                rating_best="5",
                rating_worst="1",
                title=label(e, "title"),
                text=label(e, "content"),
                created_at=label(e, "updated"),
                product=self.product,
                channel="appstore",
            )
        links = feed.get("link") or []
        links = [links] if isinstance(links, dict) else links
        rels = {
            label(link, "attributes", "rel"): label(link, "attributes", "href") for link in links
        }
        last = _page_of(rels.get("last"))
        has_next = "next" in rels and (last is None or page < last)
        if reviews and has_next and page < self.max_pages:
            yield scrapy.Request(
                self.page_url(page + 1),
                callback=self.parse,
                errback=self.part_failed,
                cb_kwargs={"page": page + 1},
                meta={PAGINATE: True},
            )


def _page_of(url: str | None) -> int | None:
    """The page number in an iTunes feed link (``.../page=7/...``), if any."""
    if not url or "page=" not in url:
        return None
    digits = url.split("page=", 1)[1].split("/", 1)[0].split("?", 1)[0]
    return int(digits) if digits.isdigit() else None
