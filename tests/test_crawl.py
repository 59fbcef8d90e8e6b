"""`vocseg crawl` end to end against a fixture site on 127.0.0.1 (no other network).

Twisted's reactor starts once per process, so every crawl runs as its own `vocseg`
process, as cron runs it; the site is served from a thread of the test process.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from crawl_site import EMAIL, Server, Site

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r"\bqz[a-z]+\b")

# Polite features stay on (robots.txt, AutoThrottle, retries); only the waits are shortened.
USER_AGENT = "vocseg-test (+https://example.invalid/contact)"
CONFIG = f"""
[crawl]
user_agent = "{USER_AGENT}"
download_delay = 0.0
autothrottle_start_delay = 0.0
retry_backoff = 0.1
concurrency_per_domain = 8
"""


@pytest.fixture
def site():
    with Server(Site()) as srv:
        yield srv


# One crawl per process (Twisted's reactor starts once): the library call in a child process.
LIBRARY_RUN = """
import json, sys
from vocseg import config, crawl, store
from vocseg.errors import VocsegError
db, cfg_path, spider, args, full = sys.argv[1:6]
cfg = config.load(cfg_path)
try:
    res = crawl.crawl(store.open(db), spider, json.loads(args), cfg.crawl, ingest_cfg=cfg.ingest,
                      full=full == "full")
except VocsegError as exc:
    print(json.dumps({"error": exc.code, "message": str(exc)}))
    sys.exit(1)
print(json.dumps(res.as_dict()))
"""


@pytest.fixture
def crawl(tmp_path, db_path):
    """``crawl("reviews", "-a", "k=v", cli=True)``: the `vocseg crawl` command, or (default)
    `vocseg.crawl.crawl` in a child process (faster: skips the CLI's imports)."""
    cfg = tmp_path / "vocseg.toml"

    def run(spider: str, *args: str, cli: bool = False, expect: int = 0, extra: str = "") -> dict:
        cfg.write_text(CONFIG + extra)
        if cli:
            cmd = [
                sys.executable,
                "-m",
                "vocseg",
                "--db",
                str(db_path),
                "--config",
                str(cfg),
                "crawl",
                spider,
                *args,
                "--json",
            ]
        else:
            pairs = dict(a.split("=", 1) for a in args if a not in ("-a", "--full"))
            full = "full" if "--full" in args else "incremental"
            cmd = [
                sys.executable,
                "-c",
                LIBRARY_RUN,
                str(db_path),
                str(cfg),
                spider,
                json.dumps(pairs),
                full,
            ]
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            check=False,
            env={**os.environ, "VOCSEG_DB": ""},
        )
        assert proc.returncode == expect, proc.stderr[-3000:] + proc.stdout[-1000:]
        if cli:
            return json.loads(proc.stdout) if expect == 0 else {"stderr": proc.stderr}
        return json.loads(proc.stdout.strip().splitlines()[-1])

    return run


def rows(db_path: Path, sql: str, *params) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def token_counts(db_path: Path, source_like: str) -> Counter:
    texts = rows(
        db_path,
        "SELECT d.text FROM documents d JOIN sources s ON s.id = d.source_id WHERE s.name LIKE ?",
        source_like,
    )
    return Counter(t for (text,) in texts for t in TOKEN.findall(text))


def test_reviews_arrive_once_robots_obeyed_broken_page_quarantined_and_rerun_is_incremental(
    site, crawl, db_path
):
    args = ("-a", f"start_urls={site.url}/", "-a", "follow=a.product")
    first = crawl("reviews", *args, cli=True)

    stored = token_counts(db_path, "reviews:%")
    assert set(stored) == site.site.review_tokens()
    assert all(n == 1 for n in stored.values()), [t for t, n in stored.items() if n > 1]
    assert first["inserted"] == len(site.site.review_tokens()) == first["items"]
    # robots.txt: the private product was never requested, and nothing of it is stored
    assert not site.site.private_tokens() & set(stored)
    assert site.site.hits["/private/secret-grill"] == 0
    assert first["skipped_robots"] >= 1
    # links off the start URL's domain are not followed
    assert site.site.hits["/products/elsewhere"] == 0
    assert not {e.token for e in site.site.offsite} & set(stored)
    # every request said who we are, with the contact from config
    assert set(site.site.user_agents) == {USER_AGENT}
    # the flaky page answered 503 once and was retried
    assert site.site.hits["/products/flaky-fan"] == 2
    # the broken JSON-LD block is quarantined with its URL and reason; its valid neighbour is kept
    q = rows(db_path, "SELECT file, reason FROM quarantine")
    assert [f for f, _ in q] == [f"{site.url}/products/broken-blender"]
    assert "JSON-LD" in q[0][1]
    assert first["quarantined"] == 1
    # the microdata page's 0..10 scale reaches ingest: 8/10 is stored as 0.8
    micro = site.site.microdata[0]
    (rating,) = rows(db_path, "SELECT rating FROM documents WHERE text LIKE ?", f"%{micro.token}%")[
        0
    ]
    assert rating == pytest.approx(micro.rating * 2 / 10)
    # ingest's redaction applied on the crawled text
    assert not rows(db_path, "SELECT id FROM documents WHERE text LIKE ?", f"%{EMAIL}%")
    assert rows(
        db_path,
        "SELECT id FROM documents WHERE text LIKE ?",
        f"%{site.site.catalog['product-0'][0].token}%",
    )

    second = crawl("reviews", *args)
    assert second["inserted"] == 0 and second["quarantined"] == 0
    assert second["pages"] * 2 <= first["pages"], (first["pages"], second["pages"])
    assert second["stopped_pagination"] >= len(site.site.catalog)

    # more new reviews than fit on a page: pagination goes on until it meets a known one
    new = [site.site.add_review("product-2") for _ in range(site.site.per_page + 1)]
    third = crawl("reviews", *args)
    assert third["inserted"] == len(new)
    stored = token_counts(db_path, "reviews:%")
    assert all(stored[e.token] == 1 for e in new) and set(stored) == site.site.review_tokens()

    # --full ignores the crawl state: every page again, nothing stored twice
    full = crawl("reviews", *args, "--full")
    assert full["pages"] >= first["pages"] and full["inserted"] == 0
    assert full["stopped_pagination"] == 0

    runs = rows(db_path, "SELECT command, status, counts FROM runs ORDER BY id")
    assert [(c, s) for c, s, _ in runs] == [("crawl reviews", "ok")] * 4
    assert json.loads(runs[0][2])["inserted"] == first["inserted"]
    assert {"pages", "items", "inserted", "duplicates", "quarantined"} <= set(first)


def test_forum_topics_and_posts_arrive_once_and_unchanged_topics_are_skipped(site, crawl, db_path):
    args = ("-a", f"start_urls={site.url}/forum")
    first = crawl("forum", *args)
    stored = token_counts(db_path, "forum:%")
    assert set(stored) == site.site.forum_tokens()
    assert all(n == 1 for n in stored.values())
    # the long topic needed a posts.json request beyond the first 20 posts
    assert site.site.hits["/forum/t/100/posts.json"] == 1
    # thread structure and staff replies (agent turns are not customer voice)
    conv = rows(
        db_path,
        "SELECT turn, role, conversation_id FROM documents WHERE url LIKE ? ORDER BY turn",
        "%/t/topic-1/101/%",
    )
    assert [t for t, _, _ in conv] == list(range(1, len(site.site.topics[1]["posts"]) + 1))
    assert [r for _, r, _ in conv][:2] == ["customer", "agent"]
    assert len({c for _, _, c in conv}) == 1
    # customers' posts by the same username are linked to one customer, one per username
    linked = rows(
        db_path,
        "SELECT author, COUNT(DISTINCT customer_id), COUNT(customer_id), COUNT(*) "
        "FROM documents WHERE role = 'customer' AND url LIKE '%/t/%' GROUP BY author",
    )
    assert len(linked) > 1 and all(
        n_cust == 1 and n_linked == n for _, n_cust, n_linked, n in linked
    )
    assert len(
        rows(
            db_path,
            "SELECT DISTINCT customer_id FROM documents WHERE role = 'customer' AND "
            "url LIKE '%/t/%'",
        )
    ) == len(linked)

    second = crawl("forum", *args)
    assert second["inserted"] == 0
    assert second["skipped_unchanged"] >= 1
    assert second["pages"] * 2 <= first["pages"], (first["pages"], second["pages"])

    new = site.site.add_post(topic=3)
    third = crawl("forum", *args)
    assert third["inserted"] == 1
    assert token_counts(db_path, "forum:%")[new.token] == 1


def test_a_topic_whose_later_posts_failed_is_fetched_again(site, crawl, db_path):
    site.site.fail_posts = 1  # the long topic's posts.json fails once (no retries here)
    args = ("-a", f"start_urls={site.url}/forum")
    first = crawl("forum", *args, extra="retry_times = 0\n")
    missing = site.site.forum_tokens() - set(token_counts(db_path, "forum:%"))
    assert len(missing) == site.site.long_topic_posts - 20
    assert first["errors"] >= 1 and not first["complete"]
    second = crawl("forum", *args, extra="retry_times = 0\n")
    assert second["inserted"] == len(missing) and second["complete"]
    stored = token_counts(db_path, "forum:%")
    assert set(stored) == site.site.forum_tokens() and all(n == 1 for n in stored.values())
    # the complete crawl advanced the state: the next one skips every unchanged topic
    third = crawl("forum", *args)
    assert third["inserted"] == 0 and third["pages"] < second["pages"]


def test_appstore_reviews_arrive_once_and_rerun_stops_at_known_ones(site, crawl, db_path):
    app_args = ("-a", "app_id=42", "-a", f"base_url={site.url}/appstore")
    app = crawl("appstore", *app_args)
    stored = token_counts(db_path, "appstore:42")
    assert set(stored) == site.site.app_tokens() and all(n == 1 for n in stored.values())
    assert app["pages"] == site.site.app_pages + 1  # + robots.txt
    ratings = rows(
        db_path,
        "SELECT rating FROM documents d JOIN sources s ON s.id = d.source_id "
        "WHERE s.name = 'appstore:42'",
    )
    assert all(0 <= r <= 1 for (r,) in ratings)

    again = crawl("appstore", *app_args)
    assert again["inserted"] == 0 and again["pages"] < app["pages"]


def test_bad_spider_arguments_are_a_usage_error_before_any_request(site, cli, db_path):
    # refused before the reactor starts, so these run in this process
    code, _, err = cli("crawl", "reviews")
    assert code == 2 and "E505" in err and "start_urls" in err
    code, _, err = cli("crawl", "reviews", "-a", f"start_urls={site.url}/", "-a", "folow=a")
    assert code == 2 and "E505" in err and "folow" in err
    code, _, err = cli("crawl", "appstore", "-a", f"base_url={site.url}")
    assert code == 2 and "app_id" in err
    code, _, err = cli("crawl", "nosuch")
    assert code == 2 and "E502" in err and "reviews" in err
    code, _, err = cli("crawl", "feed", "-a", "start_urls")
    assert code == 2 and "E503" in err
    assert sum(site.site.hits.values()) == 0
    assert "twisted.internet.reactor" not in sys.modules


def test_feed_rerun_is_served_by_the_http_cache_and_stores_nothing_twice(
    site, crawl, db_path, tmp_path
):
    cache = 'http_cache = true\nhttp_cache_dir = "cache"\n'
    args = ("-a", f"start_urls={site.url}/feed.rss")
    first = crawl("feed", *args, extra=cache)
    assert set(token_counts(db_path, "feed:%")) == site.site.feed_tokens()
    assert first["inserted"] == len(site.site.feed_tokens())
    again = crawl("feed", *args, extra=cache)
    assert again["inserted"] == 0 and again["duplicates"] == first["inserted"]
    assert site.site.hits["/feed.rss"] == 1  # the second crawl read the cache
    assert any((tmp_path / "cache").rglob("*"))


def test_an_unreachable_site_fails_the_run(crawl, db_path):
    with Server(Site()) as srv:
        url = srv.url  # a port that nothing listens on once the server is closed
    out = crawl("feed", "-a", f"start_urls={url}/feed.rss", expect=1, extra="retry_times = 1\n")
    assert out["error"] == "E507"
    assert rows(db_path, "SELECT command, status FROM runs") == [("crawl feed", "failed")]


def test_scrapy_crawl_from_the_project_folder_uses_the_same_pipeline(site, tmp_path):
    db = tmp_path / "standalone.db"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "feed",
            "-a",
            f"start_urls={site.url}/feed.rss",
            "-s",
            "DOWNLOAD_DELAY=0",
            "-s",
            "AUTOTHROTTLE_START_DELAY=0",
            "-s",
            "LOG_LEVEL=WARNING",
        ],
        cwd=ROOT / "scrapers",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "VOCSEG_DB": str(db)},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert set(token_counts(db, "feed:%")) == site.site.feed_tokens()
    ((status, counts),) = rows(db, "SELECT status, counts FROM runs WHERE command = 'crawl feed'")
    assert status == "ok" and json.loads(counts)["inserted"] == len(site.site.feed_tokens())


def test_scrapy_check_spider_contracts_pass():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "check",
            "-s",
            "DOWNLOAD_DELAY=0",
            "-s",
            "AUTOTHROTTLE_ENABLED=False",
        ],
        cwd=ROOT / "scrapers",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    ran = re.search(r"Ran (\d+) contracts", proc.stderr)
    assert ran and int(ran.group(1)) >= 10, proc.stderr[-2000:]
