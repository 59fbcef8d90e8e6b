# Scrapy settings for the vocseg scrapers project.
#
# Polite by default: these mirror the defaults of [crawl] in vocseg.toml (vocseg/config.py),
# which `vocseg crawl` applies on top of this file. `scrapy crawl` uses this file alone;
# pass -s KEY=VALUE to change a setting there.
#
#     https://docs.scrapy.org/en/latest/topics/settings.html

import os

from vocseg.config import CrawlConfig

_CRAWL = CrawlConfig()

BOT_NAME = "scrapers"

SPIDER_MODULES = ["scrapers.spiders"]
NEWSPIDER_MODULE = "scrapers.spiders"

ADDONS = {}

# Crawl responsibly by identifying yourself (and your website) on the user-agent
USER_AGENT = _CRAWL.user_agent

# Obey robots.txt rules
ROBOTSTXT_OBEY = True

# Concurrency and throttling settings
CONCURRENT_REQUESTS = _CRAWL.concurrency
CONCURRENT_REQUESTS_PER_DOMAIN = _CRAWL.concurrency_per_domain
# Items of one response handled in parallel: the store pipeline is synchronous, so Scrapy's
# default of 100 only spawns idle asyncio tasks (it halved pages/s in benchmarks/crawl.py).
CONCURRENT_ITEMS = 8
DOWNLOAD_DELAY = _CRAWL.download_delay
DOWNLOAD_TIMEOUT = _CRAWL.timeout

# Retries with backoff (exponential, capped): failed requests go back with a growing delay.
RETRY_ENABLED = True
RETRY_TIMES = _CRAWL.retry_times
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "scrapers.middlewares.BackoffRetryMiddleware": 550,
    "scrapers.middlewares.IncrementalDownloaderMiddleware": 560,
}
RETRY_BACKOFF_BASE = _CRAWL.retry_backoff  # seconds before the first retry; doubles each time
RETRY_BACKOFF_MAX = 60.0

# Disable cookies (reviews and feeds need no session)
COOKIES_ENABLED = False

# Disable Telnet Console (enabled by default)
TELNETCONSOLE_ENABLED = False

DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,application/json;q=0.9,*/*;q=0.8",
    "Accept-Language": "en",
}

# Incremental crawls: stop paginating at items an earlier crawl stored.
SPIDER_MIDDLEWARES = {
    "scrapers.middlewares.IncrementalSpiderMiddleware": 543,
}

# Spider contracts (`scrapy check`): @fixture NAME runs a callback on fixtures/NAME offline.
SPIDER_CONTRACTS = {
    "scrapers.contracts.FixtureContract": 5,
}

# Every item goes through vocseg's ingest (dedupe, redaction, customer linking, quarantine).
ITEM_PIPELINES = {
    "scrapers.pipelines.ValidatePipeline": 100,
    "scrapers.pipelines.StorePipeline": 800,
}
VOCSEG_DB = os.environ.get("VOCSEG_DB", "vocseg.db")
VOCSEG_BATCH_SIZE = _CRAWL.batch_size
VOCSEG_INCREMENTAL = _CRAWL.incremental

# Enable and configure the AutoThrottle extension
# See https://docs.scrapy.org/en/latest/topics/autothrottle.html
AUTOTHROTTLE_ENABLED = _CRAWL.autothrottle
AUTOTHROTTLE_START_DELAY = _CRAWL.autothrottle_start_delay
AUTOTHROTTLE_MAX_DELAY = _CRAWL.autothrottle_max_delay
AUTOTHROTTLE_TARGET_CONCURRENCY = _CRAWL.autothrottle_target_concurrency
AUTOTHROTTLE_DEBUG = False

# HTTP caching, for developing a spider (off for scheduled crawls: they must see new pages)
# See https://docs.scrapy.org/en/latest/topics/downloader-middleware.html#httpcache-middleware-settings
HTTPCACHE_ENABLED = _CRAWL.http_cache
HTTPCACHE_EXPIRATION_SECS = 0
HTTPCACHE_DIR = _CRAWL.http_cache_dir
HTTPCACHE_IGNORE_HTTP_CODES = [429, 500, 502, 503, 504]
HTTPCACHE_STORAGE = "scrapy.extensions.httpcache.FilesystemCacheStorage"

# Set settings whose default value is deprecated to a future-proof value
FEED_EXPORT_ENCODING = "utf-8"
