"""Reviews published as schema.org Review / AggregateRating (JSON-LD or microdata).

    scrapy crawl reviews -a start_urls=https://shop.example/products/kettle
    scrapy crawl reviews -a start_urls=https://shop.example/ -a follow="a.product-link"

Arguments: ``start_urls`` (comma-separated), ``allowed_domains`` (default: the start
URLs' hosts), ``next_selector`` (CSS for the next-page link; default ``rel=next``),
``follow`` (CSS for links to product pages to visit, e.g. from a category page),
``source`` (store source name; default ``reviews:HOST``).
"""

from __future__ import annotations

import scrapy
from scrapy.http import TextResponse

from scrapers.middlewares import PAGINATE
from scrapers.spiders._base import VocsegSpider, links, split_arg
from scrapers.structured import extract_reviews

REL_NEXT = 'link[rel~="next"]::attr(href), a[rel~="next"]::attr(href)'


class ReviewsSpider(VocsegSpider):
    name = "reviews"
    kind = "review"

    def __init__(
        self,
        start_urls=None,
        allowed_domains=None,
        next_selector=None,
        follow=None,
        source=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.start_urls = split_arg(start_urls)
        self.setup(self.start_urls, source=source, allowed_domains=allowed_domains)
        self.next_selector = next_selector or REL_NEXT
        self.follow = follow or None

    async def start(self):
        self.check_args()
        for url in self.start_urls:
            yield scrapy.Request(url, callback=self.parse)

    def parse(self, response):
        """Reviews of one page, then its next page and the pages it links to.

        @fixture reviews_product.html
        @returns items 3 3
        @returns requests 1 1
        @scrapes source kind url text title author created_at rating rating_best product
        """
        if not isinstance(response, TextResponse):
            return
        data = extract_reviews(
            response.body, response.url, response.encoding, tree=response.selector.root
        )
        for reason, raw in data.errors:
            yield self.page_error(response.url, reason, raw)
        if data.aggregate_ratings:
            self.crawler.stats.inc_value("vocseg/aggregate_ratings", data.aggregate_ratings)
        for review in data.reviews:
            yield self.document(response.url, **review)
        for href in links(response, self.next_selector)[:1]:
            yield response.follow(
                href, callback=self.parse, errback=self.part_failed, meta={PAGINATE: True}
            )
        if self.follow:
            for href in links(response, self.follow):
                yield response.follow(href, callback=self.parse)
