# Middlewares of the vocseg scrapers project.
#
# See documentation in:
# https://docs.scrapy.org/en/latest/topics/spider-middleware.html
# https://docs.scrapy.org/en/latest/topics/downloader-middleware.html

import asyncio

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest

from scrapers.items import DocumentItem
from vocseg.crawl import fingerprint

#: Request.meta keys the spiders set:
#: ``vocseg_paginate``: True on a "next page" request (dropped once a page shows known items);
#: ``vocseg_mark``: (key, value) of what the request fetches, e.g. ("topic:…", last_posted_at);
#: skipped when an earlier crawl recorded the same value.
PAGINATE = "vocseg_paginate"
MARK = "vocseg_mark"
#: Requests with either key get the spider's ``part_failed`` errback: a failure leaves the
#: crawl incomplete, and an incomplete crawl does not advance the crawl state.


class IncrementalSpiderMiddleware:
    """Stop paginating where an earlier crawl left off.

    Listings run newest first (reviews, app-store feeds, Discourse's latest topics), so
    a page that shows an item an earlier crawl stored (or links an unchanged topic) means
    the pages after it hold nothing new: its "next page" requests are dropped.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.enabled = crawler.settings.getbool("VOCSEG_INCREMENTAL")

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _filter(self, response, outputs):
        state = getattr(self.crawler, "vocseg_state", None)
        if state is None:
            return outputs
        mark = response.meta.get(MARK)
        if mark:
            state.set_mark(*mark)
        if not self.enabled:
            return outputs
        known = (
            state.has_known
            and any(
                isinstance(o, DocumentItem) and state.is_known(fingerprint(vars(o)))
                for o in outputs
            )
            or any(
                isinstance(o, Request) and o.meta.get(MARK) and state.is_unchanged(*o.meta[MARK])
                for o in outputs
            )
        )
        if not known:
            return outputs
        kept = [o for o in outputs if not (isinstance(o, Request) and o.meta.get(PAGINATE))]
        if len(kept) < len(outputs):
            self.crawler.stats.inc_value("vocseg/stopped_pagination")
        return kept

    def process_spider_output(self, response, result):
        yield from self._filter(response, list(result))

    async def process_spider_output_async(self, response, result):
        outputs = [o async for o in result]
        for o in self._filter(response, outputs):
            yield o


class IncrementalDownloaderMiddleware:
    """Skip a request whose mark an earlier crawl recorded unchanged (e.g. a forum topic
    with no new post since), before it is downloaded."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.enabled = crawler.settings.getbool("VOCSEG_INCREMENTAL")

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request):
        state = getattr(self.crawler, "vocseg_state", None)
        mark = request.meta.get(MARK)
        if self.enabled and state is not None and mark and state.is_unchanged(*mark):
            self.crawler.stats.inc_value("vocseg/skipped_unchanged")
            raise IgnoreRequest(f"unchanged since the last crawl: {mark[0]}")


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware, waiting before each retry: RETRY_BACKOFF_BASE seconds,
    doubling per attempt up to RETRY_BACKOFF_MAX, or the server's Retry-After if longer."""

    @classmethod
    def from_crawler(cls, crawler):
        mw = super().from_crawler(crawler)
        mw.backoff_base = crawler.settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        mw.backoff_max = crawler.settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
        return mw

    def _delay(self, retry: Request, response=None) -> float:
        attempt = max(1, int(retry.meta.get("retry_times", 1)))
        delay = self.backoff_base * 2 ** (attempt - 1)
        if response is not None:
            after = response.headers.get(b"Retry-After")
            if after and after.strip().isdigit():
                delay = max(delay, float(after))
        return min(delay, self.backoff_max)

    async def process_response(self, request, response):
        result = super().process_response(request, response)
        if isinstance(result, Request):
            await asyncio.sleep(self._delay(result, response))
        return result

    async def process_exception(self, request, exception):
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await asyncio.sleep(self._delay(result))
        return result
