"""Crawl state: what earlier crawls already collected, so a rerun fetches only what is new."""

VERSION = 40
NAME = "crawl_state"

# No customer_id and no text here: a fingerprint is a sha1 of an item's raw fields, so
# `vocseg forget` has nothing to erase in these tables, and an erased person's review is
# not collected again by the next crawl (its fingerprint is still "seen").
SQL = """
CREATE TABLE crawl_seen (
    spider TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    url TEXT,
    run_id INTEGER REFERENCES runs(id),
    seen_at TEXT NOT NULL,
    PRIMARY KEY (spider, fingerprint)
);
CREATE TABLE crawl_marks (
    spider TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    run_id INTEGER REFERENCES runs(id),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (spider, key)
);
"""
