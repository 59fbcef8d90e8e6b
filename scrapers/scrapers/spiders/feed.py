"""RSS and Atom feeds of posts or comments (read by feedparser).

    scrapy crawl feed -a start_urls=https://blog.example.com/comments/feed

Arguments: ``start_urls`` (feed URLs, comma-separated), ``source`` (default
``feed:HOST``), ``allowed_domains``. Paged feeds (RFC 5005 ``rel="next"``) are followed.
"""

from __future__ import annotations

import feedparser
import scrapy

from scrapers.middlewares import PAGINATE
from scrapers.spiders._base import VocsegSpider, html_text, split_arg


class FeedSpider(VocsegSpider):
    name = "feed"
    kind = "social"

    def __init__(self, start_urls=None, source=None, allowed_domains=None, **kwargs):
        super().__init__(**kwargs)
        self.start_urls = split_arg(start_urls)
        self.setup(self.start_urls, source=source, allowed_domains=allowed_domains)

    async def start(self):
        self.check_args()
        for url in self.start_urls:
            yield scrapy.Request(url, callback=self.parse)

    def parse(self, response):
        """Entries of one feed document, then its next page if it is paged.

        @fixture feed.rss
        @returns items 3 3
        @returns requests 0 0
        @scrapes source kind url text title author created_at external_id
        """
        feed = feedparser.parse(response.body, response_headers={"content-location": response.url})
        if feed.bozo and not feed.entries:
            yield self.page_error(
                response.url,
                f"unreadable feed: {feed.get('bozo_exception')}",
                response.body[:2000].decode("utf-8", "replace"),
            )
            return
        for entry in feed.entries:
            content = entry.get("content") or []
            body = content[0].get("value") if content else entry.get("summary")
            yield self.document(
                entry.get("link") or response.url,
                external_id=entry.get("id") or entry.get("link"),
                title=entry.get("title"),
                text=html_text(body),
                created_at=entry.get("published") or entry.get("updated"),
                author=entry.get("author"),
                channel="feed",
            )
        for link in feed.feed.get("links") or []:
            if link.get("rel") == "next" and link.get("href"):
                yield response.follow(
                    link["href"],
                    callback=self.parse,
                    errback=self.part_failed,
                    meta={PAGINATE: True},
                )
