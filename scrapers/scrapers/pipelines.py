# Item pipelines: validate each item, then hand batches to vocseg's ingest.
#
# Don't forget to add your pipeline to the ITEM_PIPELINES setting
# See: https://docs.scrapy.org/en/latest/topics/item-pipeline.html

import json
import logging
from dataclasses import asdict, fields

from scrapy import signals
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro

from scrapers.items import DocumentItem, PageErrorItem
from vocseg import store
from vocseg.config import IngestConfig
from vocseg.crawl import COUNT_KEYS, CrawlState, fingerprint, store_batch

logger = logging.getLogger(__name__)

KINDS = {"review", "chat", "social", "survey", "ticket", "other"}
_INT_FIELDS = {"turn"}


def problems(item: DocumentItem) -> list[str]:
    """What makes a document item unusable before ingest sees it (empty list: fine)."""
    out = []
    for name in ("source", "kind", "url"):
        if not isinstance(getattr(item, name), str) or not getattr(item, name).strip():
            out.append(f"'{name}' is missing")
    if item.kind not in KINDS:
        out.append(f"kind '{item.kind}' is not one of {sorted(KINDS)}")
    for f in fields(item):
        value = getattr(item, f.name)
        if value is None:
            continue
        if f.name in _INT_FIELDS:
            if not isinstance(value, int) or isinstance(value, bool):
                out.append(f"'{f.name}' must be an integer, got {value!r}")
        elif not isinstance(value, str):
            out.append(f"'{f.name}' must be text, got {type(value).__name__}")
    if not (item.text or "").strip() and not (item.title or "").strip():
        out.append("no text and no title")
    return out


class ValidatePipeline:
    """Turn a malformed document item into a quarantine entry naming its URL and problem."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        if isinstance(item, PageErrorItem):
            return item
        if not isinstance(item, DocumentItem):
            raise DropItem(f"not a vocseg item: {type(item).__name__}")
        found = problems(item)
        if not found:
            return item
        self.crawler.stats.inc_value("vocseg/invalid_items")
        raw = json.dumps(asdict(item), ensure_ascii=False, default=str)[:2000]
        return PageErrorItem(
            source=str(item.source),
            url=str(item.url),
            reason="invalid item: " + "; ".join(found),
            raw=raw,
        )


class StorePipeline:
    """Batch items per spider and store them through vocseg.ingest.ingest_records.

    Under `vocseg crawl` the store, run id and ingest config come from the crawler; under
    `scrapy crawl` it opens the VOCSEG_DB setting and records its own run in `runs`.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.batch_size = crawler.settings.getint("VOCSEG_BATCH_SIZE", 500)
        self.records, self.errors = [], []
        self.failed = False

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self):
        spider = self.crawler.spider
        self.db = getattr(self.crawler, "vocseg_db", None)
        self.own_db = self.db is None
        if self.own_db:
            self.db = store.open(self.crawler.settings.get("VOCSEG_DB"))
        self.ingest_cfg = getattr(self.crawler, "vocseg_ingest_cfg", None) or IngestConfig()
        self.run_id = getattr(self.crawler, "vocseg_run_id", None)
        self.own_run = self.run_id is None
        if self.own_run:
            self.run_id = store.start_run(
                self.db, f"crawl {spider.name}", {"spider": spider.name, "via": "scrapy crawl"}
            )
        self.state = CrawlState(self.db, spider.name)
        self.crawler.vocseg_state = self.state  # read by the incremental middlewares

    def process_item(self, item):
        if self.failed:
            raise DropItem("the store failed earlier in this crawl", log_level="DEBUG")
        stats = self.crawler.stats
        if isinstance(item, PageErrorItem):
            fp = fingerprint(
                {"source": item.source, "external_id": f"error {item.url} {item.reason}"}
            )
            stats.inc_value("vocseg/page_errors")
            if not self.state.is_known(fp):  # a broken page is quarantined once, not per crawl
                self.state.add_seen(fp, item.url)
                self.errors.append({"url": item.url, "reason": item.reason, "raw": item.raw})
        else:
            rec = dict(vars(item))  # flat dataclass: no need for asdict's deep copy
            self.state.add_seen(fingerprint(rec), item.url)
            record = {k: v for k, v in rec.items() if v is not None and k not in ("source", "kind")}
            record.update(_source=item.source, _kind=item.kind, _line=item.url)
            self.records.append(record)
            stats.inc_value("vocseg/items")
        if len(self.records) + len(self.errors) >= self.batch_size:
            self.flush()
        return item

    def flush(self, final: bool = False):
        """Store the pending batch (one transaction). The crawl state is written apart, once
        the spider has closed (see spider_closed)."""
        records, errors = self.records, self.errors
        self.records, self.errors = [], []
        spider = self.crawler.spider
        try:
            counts = store_batch(
                self.db,
                records,
                errors,
                run_id=self.run_id,
                origin=getattr(spider, "origin", spider.name),
                ingest_cfg=self.ingest_cfg,
            )
        except Exception as exc:
            # Stop here: `vocseg crawl` turns this into a failed run with a one-line error.
            self.failed = True
            self.crawler.vocseg_failure = f"storing {len(records)} items failed: {exc}"
            if not final:
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="store_failed"))
            raise
        for key in COUNT_KEYS:
            self.crawler.stats.inc_value(f"vocseg/{key}", counts[key])

    def close_spider(self):
        if not self.failed:
            self.flush(final=True)

    def spider_closed(self, spider, reason):
        """Advance the crawl state only after a complete crawl: it finished on its own (not
        stopped or killed), every page it depends on came back, and everything was stored.
        Otherwise the next crawl walks past the gap instead of stopping before it."""
        complete = reason == "finished" and not self.failed and not spider.incomplete
        try:
            if complete:
                with store.transaction(self.db):
                    self.state.save(self.run_id)
            else:
                self.crawler.stats.set_value("vocseg/incomplete", 1)
                logger.warning("Crawl incomplete (%s): the crawl state is not advanced.", reason)
        finally:
            if self.own_run:
                stats = self.crawler.stats.get_stats()
                counts = {
                    k.split("/", 1)[1]: v for k, v in stats.items() if k.startswith("vocseg/")
                }
                counts["pages"] = stats.get("response_received_count", 0)
                status = "failed" if self.failed else "ok"
                store.finish_run(self.db, self.run_id, status=status, counts=counts)
            if self.own_db:
                self.db.conn.close()
