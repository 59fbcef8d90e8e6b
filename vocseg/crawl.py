"""Collect from the web: run a spider of the bundled Scrapy project into the store.

The spiders live in ``scrapers/`` (a standard Scrapy project, also runnable with
``scrapy crawl``); they extract raw fields, and their item pipeline hands batches to
:func:`vocseg.ingest.ingest_records`, the same path as ``vocseg ingest``. This module
holds the pieces both entry points share: the settings built from ``[crawl]``, the
crawl state that makes reruns incremental, and the batch writer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from vocseg import store
from vocseg.config import CrawlConfig, IngestConfig
from vocseg.errors import Errors, SourceError, UsageError, VocsegError

#: Fields of a document item that identify it, whatever page it is listed on.
FINGERPRINT_FIELDS = ("external_id", "author", "created_at", "title", "text", "product", "rating")
COUNT_KEYS = ("inserted", "updated", "duplicates", "quarantined", "redacted")


@dataclass
class CrawlResult:
    """What one crawl did. ``pages`` counts every response received (robots.txt included)."""

    spider: str
    run_id: int | None = None
    pages: int = 0
    items: int = 0
    inserted: int = 0
    updated: int = 0
    duplicates: int = 0
    quarantined: int = 0
    redacted: int = 0
    skipped_unchanged: int = 0
    skipped_robots: int = 0
    stopped_pagination: int = 0
    complete: bool = True  # False: a page the crawl state depends on failed; state not advanced
    errors: int = 0
    seconds: float = 0.0
    finish_reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(out.pop("extra"))
        return out


# --- crawl state: what earlier crawls already collected --------------------------------


def fingerprint(item: Mapping[str, Any]) -> str:
    """sha1 of an item's identifying raw fields and source (not its page URL: pages shift)."""
    key = {k: item.get(k) for k in ("source", *FINGERPRINT_FIELDS) if item.get(k) is not None}
    return hashlib.sha1(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()


class CrawlState:
    """Fingerprints and marks stored by earlier crawls of one spider, plus this run's new ones.

    Only the snapshot loaded at the start counts as "known", so an item seen twice in
    the same run does not stop pagination. New entries are written by :meth:`save`.
    """

    def __init__(self, db: sqlite_utils.Database, spider: str) -> None:
        self.db = db
        self.spider = spider
        conn = db.conn
        self._seen = {
            r[0]
            for r in conn.execute("SELECT fingerprint FROM crawl_seen WHERE spider = ?", [spider])
        }
        self._marks = dict(
            conn.execute("SELECT key, value FROM crawl_marks WHERE spider = ?", [spider]).fetchall()
        )
        self._new_seen: dict[str, str | None] = {}
        self._new_marks: dict[str, str] = {}

    @property
    def has_known(self) -> bool:
        """Did earlier crawls store anything (if not, no fingerprint needs computing)?"""
        return bool(self._seen)

    def is_known(self, fp: str) -> bool:
        """Was this fingerprint stored by an earlier crawl?"""
        return fp in self._seen

    def is_unchanged(self, key: str, value: str) -> bool:
        """Did an earlier crawl record ``key`` with exactly this value (e.g. a topic's last post time)?"""
        return self._marks.get(key) == value

    def add_seen(self, fp: str, url: str | None = None) -> None:
        self._new_seen.setdefault(fp, url)

    def set_mark(self, key: str, value: str) -> None:
        self._new_marks[key] = value

    def save(self, run_id: int | None) -> None:
        """Write this run's fingerprints and marks inside the caller's transaction."""
        now = store.now()
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO crawl_seen (spider, fingerprint, url, run_id, seen_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [(self.spider, fp, url, run_id, now) for fp, url in self._new_seen.items()],
        )
        self._new_seen.clear()
        self.db.conn.executemany(
            "INSERT INTO crawl_marks (spider, key, value, run_id, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (spider, key) DO UPDATE SET value = excluded.value, "
            "run_id = excluded.run_id, updated_at = excluded.updated_at",
            [(self.spider, k, v, run_id, now) for k, v in self._new_marks.items()],
        )
        self._new_marks.clear()


def store_batch(
    db: sqlite_utils.Database,
    records: Iterable[dict[str, Any]],
    page_errors: Iterable[dict[str, Any]],
    *,
    run_id: int | None,
    origin: str,
    ingest_cfg: IngestConfig = IngestConfig(),  # noqa: B008 - frozen dataclass
) -> dict[str, int]:
    """Hand document records to ingest (grouped by source and kind) and quarantine broken
    pages, in one transaction.

    A record carries ``_source`` and ``_kind`` besides ingest's target fields and ``_line``
    (its page URL). A page error is ``{"url", "reason", "raw"}``.

    Example: ``store_batch(db, [{"_source": "reviews:shop", "_kind": "review", "text": "ok"}],
    [], run_id=None, origin="https://shop.example/")``
    """
    counts = dict.fromkeys(COUNT_KEYS, 0)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rec in records:
        rec = dict(rec)
        groups.setdefault((rec.pop("_source"), rec.pop("_kind")), []).append(rec)
    with store.transaction(db):
        for (source, kind), recs in groups.items():
            from vocseg import ingest  # imported late: `vocseg --help` stays fast

            res = ingest.ingest_records(
                db, recs, source=source, kind=kind, origin=origin, cfg=ingest_cfg, run_id=run_id
            )
            for key in COUNT_KEYS:
                counts[key] += int(getattr(res, key, 0) or 0)
        now = store.now()
        for err in page_errors:
            db.conn.execute(
                "INSERT OR IGNORE INTO quarantine (run_id, file, line, reason, raw, created_at) "
                "VALUES (?, ?, NULL, ?, ?, ?)",
                [run_id, err["url"], err["reason"], err.get("raw"), now],
            )
            counts["quarantined"] += 1
    return counts


# --- the Scrapy project and its settings ---------------------------------------------


def project_dir(cfg: CrawlConfig) -> Path:
    """The Scrapy project folder: ``[crawl] project_dir``, else ``scrapers/`` beside this package."""
    path = (
        Path(cfg.project_dir)
        if cfg.project_dir
        else Path(__file__).resolve().parent.parent / "scrapers"
    )
    if not (path / "scrapy.cfg").is_file():
        raise SourceError(Errors.E501.format(path=path), code="E501")
    return path


def _import_project(cfg: CrawlConfig) -> None:
    # The project package is `scrapers` inside the project folder (Scrapy's template
    # shape), so that folder goes on sys.path, as `scrapy crawl` does from there.
    folder = str(project_dir(cfg))
    if folder not in sys.path:
        sys.path.insert(0, folder)


def settings_overrides(cfg: CrawlConfig, *, incremental: bool | None = None) -> dict[str, Any]:
    """Scrapy settings that ``[crawl]`` controls (applied over the project's settings.py)."""
    return {
        "USER_AGENT": cfg.user_agent,
        "ROBOTSTXT_OBEY": True,
        "DOWNLOAD_DELAY": cfg.download_delay,
        "CONCURRENT_REQUESTS": cfg.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": cfg.concurrency_per_domain,
        "AUTOTHROTTLE_ENABLED": cfg.autothrottle,
        "AUTOTHROTTLE_START_DELAY": cfg.autothrottle_start_delay,
        "AUTOTHROTTLE_MAX_DELAY": cfg.autothrottle_max_delay,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": cfg.autothrottle_target_concurrency,
        "RETRY_TIMES": cfg.retry_times,
        "RETRY_BACKOFF_BASE": cfg.retry_backoff,
        "DOWNLOAD_TIMEOUT": cfg.timeout,
        "HTTPCACHE_ENABLED": cfg.http_cache,
        "HTTPCACHE_DIR": str(Path(cfg.http_cache_dir).resolve()),
        "VOCSEG_INCREMENTAL": cfg.incremental if incremental is None else incremental,
        "VOCSEG_BATCH_SIZE": cfg.batch_size,
        "LOG_LEVEL": cfg.log_level.upper(),
    }


def scrapy_settings(cfg: CrawlConfig, *, incremental: bool | None = None):
    """The project's settings.py with ``[crawl]`` applied on top (a ``scrapy.settings.Settings``)."""
    from scrapy.settings import Settings

    _import_project(cfg)
    settings = Settings()
    settings.setmodule("scrapers.settings", priority="project")
    settings.setdict(settings_overrides(cfg, incremental=incremental), priority="cmdline")
    return settings


def spider_names(cfg: CrawlConfig = CrawlConfig()) -> list[str]:  # noqa: B008
    """Names of the project's spiders. Example: ``spider_names() == ['appstore', 'feed', ...]``"""
    from scrapy.spiderloader import get_spider_loader

    return sorted(get_spider_loader(scrapy_settings(cfg)).list())


def parse_spider_args(pairs: Iterable[str]) -> dict[str, str]:
    """``["start_urls=a,b", "source=x"]`` -> dict; a pair without ``=`` is a usage error."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(Errors.E503.format(arg=pair), code="E503")
        out[key.strip()] = value
    return out


def check_spider(settings: Any, spider: str, args: Mapping[str, str]) -> None:
    """Refuse an unknown spider (E502) or arguments it cannot work with (E505), before any
    reactor starts or request goes out."""
    from scrapy.spiderloader import get_spider_loader

    loader = get_spider_loader(settings)
    available = sorted(loader.list())
    if spider not in available:
        raise UsageError(
            Errors.E502.format(spider=spider, available=", ".join(available)), code="E502"
        )
    try:
        probe = loader.load(spider)(**args)
    except (TypeError, ValueError) as exc:
        raise UsageError(Errors.E505.format(spider=spider, reason=exc), code="E505") from None
    if getattr(probe, "arg_error", None):
        raise UsageError(Errors.E505.format(spider=spider, reason=probe.arg_error), code="E505")


def _reactor_already_ran() -> bool:
    reactor = sys.modules.get("twisted.internet.reactor")
    return bool(reactor is not None and getattr(reactor, "_startedBefore", False))


def result_from_stats(spider: str, stats: Mapping[str, Any]) -> CrawlResult:
    """A :class:`CrawlResult` from a finished crawler's Scrapy stats."""
    res = CrawlResult(spider=spider)
    res.pages = int(stats.get("response_received_count", 0))
    res.items = int(stats.get("vocseg/items", 0))
    for key in COUNT_KEYS:
        setattr(res, key, int(stats.get(f"vocseg/{key}", 0)))
    res.skipped_unchanged = int(stats.get("vocseg/skipped_unchanged", 0))
    res.skipped_robots = int(stats.get("robotstxt/forbidden", 0))
    res.stopped_pagination = int(stats.get("vocseg/stopped_pagination", 0))
    res.complete = not stats.get("vocseg/incomplete")
    res.errors = int(stats.get("log_count/ERROR", 0))
    res.finish_reason = str(stats.get("finish_reason", ""))
    res.extra = {
        "page_errors": int(stats.get("vocseg/page_errors", 0)),
        "aggregate_ratings": int(stats.get("vocseg/aggregate_ratings", 0)),
    }
    return res


def crawl(
    db: sqlite_utils.Database,
    spider: str,
    args: Mapping[str, str] | None = None,
    cfg: CrawlConfig = CrawlConfig(),  # noqa: B008 - frozen dataclass
    *,
    ingest_cfg: IngestConfig = IngestConfig(),  # noqa: B008 - frozen dataclass
    full: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
) -> CrawlResult:
    """Run one spider in this process and store what it collects; the run is recorded in ``runs``.

    Twisted's reactor starts once per process, so call this once per process (cron runs
    ``vocseg crawl`` once per site). ``full=True`` ignores the crawl state of earlier runs.

    Example: ``crawl(store.open("cx.db"), "reviews", {"start_urls": "https://shop.example/p/1"})``
    """
    args = dict(args or {})
    if _reactor_already_ran():
        raise VocsegError(Errors.E504, code="E504")
    settings = scrapy_settings(cfg, incremental=not full and cfg.incremental)
    check_spider(settings, spider, args)
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    settings.set("LOG_INSTALL_ROOT_HANDLER", True, priority="cmdline")
    process = CrawlerProcess(settings)
    # Scrapy filters below LOG_LEVEL at its handler only; raising the logger's level too
    # spares a LogRecord per page and per item (a few % of a crawl's CPU).
    logging.getLogger("scrapy").setLevel(settings.get("LOG_LEVEL"))
    t0 = time.perf_counter()
    with store.run(db, f"crawl {spider}", {"spider": spider, "args": args, "full": full}) as counts:
        crawler = process.create_crawler(spider)
        # The pipeline writes through this connection and run (see scrapers/pipelines.py).
        crawler.vocseg_db = db  # type: ignore[attr-defined]
        crawler.vocseg_run_id = counts["run_id"]  # type: ignore[attr-defined]
        crawler.vocseg_ingest_cfg = ingest_cfg  # type: ignore[attr-defined]
        failures: list[str] = []

        def on_response(**_: Any) -> None:
            if progress is not None:
                progress(1, None)

        # Scrapy holds signal receivers weakly: this local keeps it alive for the crawl.
        crawler.signals.connect(on_response, signal=signals.response_received)
        deferred = process.crawl(crawler, **args)
        deferred.addErrback(lambda f: failures.append(f.getErrorMessage()))
        process.start()
        failures += (
            [getattr(crawler, "vocseg_failure", None)] if hasattr(crawler, "vocseg_failure") else []
        )
        stats = crawler.stats.get_stats() if crawler.stats else {}
        result = result_from_stats(spider, stats)
        result.run_id = counts["run_id"]
        result.seconds = round(time.perf_counter() - t0, 3)
        counts.update({k: v for k, v in result.as_dict().items() if k not in ("spider", "run_id")})
        if failures:  # the run is recorded as failed, with what it did store
            raise SourceError(Errors.E506.format(spider=spider, reason=failures[0]), code="E506")
        if result.pages == 0 and result.errors:
            raise SourceError(Errors.E507.format(spider=spider, errors=result.errors), code="E507")
    return result
