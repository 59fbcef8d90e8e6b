"""The pure parts of crawling: structured-data extraction, spider arguments, crawl state."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from vocseg import crawl, store
from vocseg.errors import UsageError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scrapers"))
from scrapers.structured import extract_reviews

JSONLD_GRAPH = b"""<html><head><script type="application/ld+json">
{"@context": "https://schema.org", "@graph": [
  {"@type": "Organization", "name": "Shop"},
  {"@type": "Product", "name": "Desk lamp",
   "aggregateRating": {"@type": "AggregateRating", "ratingValue": 4.1, "reviewCount": 9},
   "review": {"@type": "Review", "author": {"@type": "Person", "name": "Ines",
                                            "url": "https://shop.example/u/ines"},
              "datePublished": "2024-03-05", "headline": "Bright",
              "reviewBody": "Bright enough to read.", "reviewRating": {"ratingValue": 9, "bestRating": 10,
              "worstRating": 0}}}]}
</script></head><body></body></html>"""

STANDALONE = b"""<script type="application/ld+json">[
 {"@type": "Review", "itemReviewed": {"@type": "Product", "name": "Chair"},
  "author": "Jo", "reviewBody": "Wobbly.", "reviewRating": {"ratingValue": "2"}},
 {"@type": "Review", "itemReviewed": "Table", "author": "Kim", "reviewBody": "Solid."}]</script>"""

MICRODATA = b"""<div itemscope itemtype="http://schema.org/LocalBusiness"><span itemprop="name">Cafe Uno</span>
<div itemprop="review" itemscope itemtype="http://schema.org/Review">
<span itemprop="author">Lee</span><span itemprop="reviewBody">Good coffee, slow service.</span>
<div itemprop="reviewRating" itemscope itemtype="http://schema.org/Rating">
<meta itemprop="ratingValue" content="3"></div></div></div>"""


def test_jsonld_graph_nested_review_keeps_product_scale_and_fields():
    data = extract_reviews(JSONLD_GRAPH, "https://shop.example/lamp")
    assert data.errors == [] and data.aggregate_ratings == 1
    (r,) = data.reviews
    assert (r["product"], r["author"], r["title"], r["text"]) == (
        "Desk lamp",
        "Ines",
        "Bright",
        "Bright enough to read.",
    )
    assert r["handle"] == "https://shop.example/u/ines"  # a profile links; a bare name does not
    assert no_handles(STANDALONE)
    assert (r["rating"], r["rating_best"], r["rating_worst"], r["created_at"]) == (
        "9",
        "10",
        "0",
        "2024-03-05",
    )


def no_handles(page: bytes) -> bool:
    return all(r["handle"] is None for r in extract_reviews(page, "https://x.example/").reviews)


def test_standalone_reviews_use_item_reviewed_and_schema_org_default_scale():
    data = extract_reviews(STANDALONE, "https://shop.example/")
    assert [(r["product"], r["author"], r["text"]) for r in data.reviews] == [
        ("Chair", "Jo", "Wobbly."),
        ("Table", "Kim", "Solid."),
    ]
    assert (data.reviews[0]["rating_best"], data.reviews[0]["rating_worst"]) == ("5", "1")
    assert data.reviews[1]["rating"] is None and data.reviews[1]["rating_best"] is None


def test_microdata_reviews_are_read():
    data = extract_reviews(MICRODATA, "https://cafe.example/")
    (r,) = data.reviews
    assert (r["product"], r["author"], r["text"], r["rating"]) == (
        "Cafe Uno",
        "Lee",
        "Good coffee, slow service.",
        "3",
    )


def test_a_broken_jsonld_block_is_reported_and_its_neighbours_still_read():
    page = JSONLD_GRAPH.replace(
        b"</head>", b'<script type="application/ld+json">{"@type": "Rev</script></head>'
    )
    page = page.replace(b"<body>", b"<body>" + MICRODATA)
    data = extract_reviews(page, "https://shop.example/lamp")
    assert len(data.reviews) == 2
    ((reason, raw),) = data.errors
    assert "JSON-LD" in reason and "script 2" in reason and raw.startswith('{"@type": "Rev')


def test_a_page_without_structured_data_gives_nothing():
    data = extract_reviews(
        b"<html><body><p>No reviews yet.</p></body></html>", "https://x.example/"
    )
    assert (data.reviews, data.errors, data.aggregate_ratings) == ([], [], 0)


def test_spider_arguments_must_be_key_value():
    assert crawl.parse_spider_args(["start_urls=https://a/x?p=1,https://b/", "source=s"]) == {
        "start_urls": "https://a/x?p=1,https://b/",
        "source": "s",
    }
    with pytest.raises(UsageError) as exc:
        crawl.parse_spider_args(["start_urls"])
    assert exc.value.code == "E503"


def test_fingerprint_ignores_the_page_an_item_was_found_on():
    item = {
        "source": "reviews:shop",
        "author": "Ana",
        "text": "Great",
        "url": "https://shop/p?page=1",
    }
    moved = {**item, "url": "https://shop/p?page=2"}
    assert crawl.fingerprint(item) == crawl.fingerprint(moved)
    assert crawl.fingerprint(item) != crawl.fingerprint({**item, "text": "Great!"})
    assert crawl.fingerprint(item) != crawl.fingerprint({**item, "source": "reviews:other"})


def test_crawl_state_counts_only_earlier_runs_as_known(db):
    state = crawl.CrawlState(db, "reviews")
    state.add_seen("fp1", "https://shop/p")
    state.set_mark("topic:1", "t1;3")
    assert not state.is_known("fp1")  # this run's items do not stop this run's pagination
    with store.transaction(db):
        state.save(None)
    later = crawl.CrawlState(db, "reviews")
    assert later.is_known("fp1") and later.is_unchanged("topic:1", "t1;3")
    assert not later.is_unchanged("topic:1", "t2;4")
    assert not crawl.CrawlState(db, "forum").is_known("fp1")


def test_settings_keep_robots_and_throttling_on_and_take_the_user_agent_from_config():
    from vocseg.config import CrawlConfig

    s = crawl.scrapy_settings(CrawlConfig(user_agent="acme-voc (+https://acme.example/bot)"))
    assert s.getbool("ROBOTSTXT_OBEY") and s.getbool("AUTOTHROTTLE_ENABLED")
    assert s.get("USER_AGENT") == "acme-voc (+https://acme.example/bot)"
    assert s.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == CrawlConfig().concurrency_per_domain
    assert s.getfloat("DOWNLOAD_DELAY") >= 1.0
    assert "scrapers.middlewares.BackoffRetryMiddleware" in s.getdict("DOWNLOADER_MIDDLEWARES")
    assert crawl.spider_names() == ["appstore", "feed", "forum", "reviews"]


def test_html_text_keeps_line_breaks_between_paragraphs():
    from scrapers.spiders._base import html_text

    assert (
        html_text("<p>Fast &amp; quiet.</p><p>But<br/>pricey</p>") == "Fast & quiet.\nBut\npricey\n"
    )
    assert html_text(None) is None
