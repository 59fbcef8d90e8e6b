"""A made-up website served from 127.0.0.1 for the crawl tests and benchmark (no other network).

It publishes, from a small in-memory model that a test can change between crawls:
- ``/``: a shop index linking products (``a.product``), incl. one under ``/private/``;
- ``/robots.txt``: disallows ``/private/``;
- ``/products/SLUG?page=N``: schema.org Product + Review JSON-LD, newest first, ``rel=next``;
- ``/microdata/toaster?page=N``: the same in microdata;
- ``/products/broken-blender``: one valid JSON-LD block and one broken one;
- ``/products/flaky-fan``: answers 503 to its first request (retry with backoff);
- ``/forum/latest.json``, ``/forum/t/SLUG/ID.json``, ``/forum/t/ID/posts.json``: Discourse-style;
- ``/feed.rss``: RSS 2.0 comments; ``/appstore/...``: iTunes-style review JSON pages.

Every review, post and comment carries a unique token (``qz...``) so tests can check that
each arrived exactly once.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, urlsplit

WORDS = (
    "kettle boils fast",
    "lid feels flimsy",
    "delivery was late",
    "great value for money",
    "support never answered",
    "battery lasts all day",
    "the app keeps crashing",
    "easy to clean",
    "too loud at night",
    "arrived broken",
)


MEMBERS = ("ann_forum", "bob_forum", "cyd_forum", "dee_forum")
EMAIL = "jane.doe@example.com"  # in one review body: ingest must redact it


def token(i: int) -> str:
    """qzaa, qzab, ...: unique, letters only (no digits that redaction could take for a number)."""
    letters = ""
    i += 26 * 26
    while i:
        i, r = divmod(i, 26)
        letters = chr(97 + r) + letters
    return "qz" + letters


@dataclass
class Entry:
    token: str
    author: str
    date: str
    title: str
    body: str
    rating: int


@dataclass
class Site:
    products: int = 4
    pages_per_product: int = 5
    per_page: int = 3
    forum_topics: int = 5
    forum_posts: int = 3
    long_topic_posts: int = 25
    feed_items: int = 5
    app_pages: int = 3
    app_per_page: int = 4
    _n: int = 0
    catalog: dict[str, list[Entry]] = field(default_factory=dict)
    microdata: list[Entry] = field(default_factory=list)
    private: list[Entry] = field(default_factory=list)
    broken_valid: list[Entry] = field(default_factory=list)
    flaky: list[Entry] = field(default_factory=list)
    topics: list[dict] = field(default_factory=list)
    feed: list[Entry] = field(default_factory=list)
    app: list[Entry] = field(default_factory=list)
    hits: Counter = field(default_factory=Counter)
    user_agents: Counter = field(default_factory=Counter)
    fail_posts: int = 0  # answer 500 to this many posts.json requests first
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for p in range(self.products):
            self.catalog[f"product-{p}"] = [
                self.entry() for _ in range(self.pages_per_product * self.per_page)
            ]
        first = self.catalog["product-0"][0]
        first.body += f" Write to me at {EMAIL} if you want photos."
        self.microdata = [self.entry() for _ in range(2 * self.per_page)]
        self.private = [self.entry() for _ in range(self.per_page)]
        self.offsite = [self.entry()]
        self.broken_valid = [self.entry()]
        self.flaky = [self.entry() for _ in range(2)]
        for t in range(self.forum_topics):
            n = self.long_topic_posts if t == 0 else self.forum_posts
            self.topics.append(
                {
                    "id": 100 + t,
                    "slug": f"topic-{t}",
                    "title": f"Topic {t}",
                    "posts": [self.entry() for _ in range(n)],
                }
            )
        self.feed = [self.entry() for _ in range(self.feed_items)]
        self.app = [self.entry() for _ in range(self.app_pages * self.app_per_page)]

    def entry(self) -> Entry:
        i = self._n
        self._n += 1
        tok = token(i)
        day = dt.date(2023, 1, 1) + dt.timedelta(days=i)  # later entries are newer
        return Entry(
            tok,
            f"user_{tok}",
            day.isoformat(),
            f"Title {tok}",
            f"Review {tok}: the {WORDS[i % len(WORDS)]}.",
            1 + i % 5,
        )

    # --- what tests compare with ---------------------------------------------------
    def review_tokens(self) -> set[str]:
        """Tokens the reviews spider must store (not private, incl. broken page's valid block)."""
        out = {e.token for es in self.catalog.values() for e in es}
        out |= {e.token for e in self.microdata + self.broken_valid + self.flaky}
        return out

    def private_tokens(self) -> set[str]:
        return {e.token for e in self.private}

    def forum_tokens(self) -> set[str]:
        return {e.token for t in self.topics for e in t["posts"]}

    def feed_tokens(self) -> set[str]:
        return {e.token for e in self.feed}

    def app_tokens(self) -> set[str]:
        return {e.token for e in self.app}

    def add_review(self, slug: str = "product-0") -> Entry:
        """A new review at the top of a product's first page (lists run newest first)."""
        with self.lock:
            e = self.entry()
            self.catalog[slug].insert(0, e)
            return e

    def add_post(self, topic: int = 1) -> Entry:
        with self.lock:
            e = self.entry()
            self.topics[topic]["posts"].append(e)
            return e

    # --- pages -------------------------------------------------------------------------
    def route(self, path: str, query: dict[str, list[str]]) -> tuple[int, str, str]:
        page = int(query.get("page", ["1"])[0])
        if path == "/robots.txt":
            return 200, "text/plain", "User-agent: *\nDisallow: /private/\n"
        if path == "/":
            links = [f"/products/{s}" for s in self.catalog] + [
                "/microdata/toaster",
                "/products/broken-blender",
                "/products/flaky-fan",
                "/private/secret-grill",
                # same server, another host name: off the start URL's domain
                f"http://localhost:{self.port}/products/elsewhere",
            ]
            body = "".join(f'<li><a class="product" href="{u}">{u}</a></li>' for u in links)
            return 200, "text/html", f"<html><body><h1>Shop</h1><ul>{body}</ul></body></html>"
        if path.startswith("/products/") and path[10:] in self.catalog:
            return (
                200,
                "text/html",
                self.jsonld_page(path, path[10:], self.catalog[path[10:]], page),
            )
        if path == "/products/elsewhere":
            return 200, "text/html", self.jsonld_page(path, "Elsewhere", self.offsite, page)
        if path == "/private/secret-grill":
            return 200, "text/html", self.jsonld_page(path, "Secret grill", self.private, page)
        if path == "/microdata/toaster":
            return 200, "text/html", self.microdata_page(path, page)
        if path == "/products/broken-blender":
            return 200, "text/html", self.broken_page()
        if path == "/products/flaky-fan":
            if self.hits[path] == 1:
                return 503, "text/plain", "busy, try again"
            return 200, "text/html", self.jsonld_page(path, "Flaky fan", self.flaky, 1)
        if path.startswith("/forum/"):
            return self.forum(path[len("/forum") :], query)
        if path == "/feed.rss":
            return 200, "application/rss+xml", self.rss()
        if path.startswith("/appstore/us/rss/customerreviews/page="):
            n = int(path.split("page=")[1].split("/")[0])
            return 200, "application/json", self.app_page(n)
        return 404, "text/plain", "not found"

    def _slice(self, entries: list[Entry], page: int) -> tuple[list[Entry], bool]:
        start = (page - 1) * self.per_page
        return entries[start : start + self.per_page], start + self.per_page < len(entries)

    def jsonld_page(self, path: str, product: str, entries: list[Entry], page: int) -> str:
        shown, more = self._slice(entries, page)
        data = {
            "@context": "https://schema.org",
            "@type": "Product",
            "name": product,
            "aggregateRating": {
                "@type": "AggregateRating",
                "ratingValue": "3.9",
                "reviewCount": str(len(entries)),
            },
            "review": [
                {
                    "@type": "Review",
                    "author": {"@type": "Person", "name": e.author},
                    "datePublished": e.date,
                    "name": e.title,
                    "reviewBody": e.body,
                    "reviewRating": {
                        "@type": "Rating",
                        "ratingValue": str(e.rating),
                        "bestRating": "5",
                        "worstRating": "1",
                    },
                }
                for e in shown
            ],
        }
        nxt = f'<link rel="next" href="{path}?page={page + 1}">' if more else ""
        script = json.dumps(data).replace("</", "<\\/")
        return (
            f'<html><head>{nxt}<script type="application/ld+json">{script}</script></head>'
            f"<body><h1>{escape(product)}</h1></body></html>"
        )

    def microdata_page(self, path: str, page: int) -> str:
        shown, more = self._slice(self.microdata, page)
        reviews = "".join(
            f'<div itemprop="review" itemscope itemtype="https://schema.org/Review">'
            f'<span itemprop="author" itemscope itemtype="https://schema.org/Person">'
            f'<span itemprop="name">{e.author}</span></span>'
            f'<meta itemprop="datePublished" content="{e.date}"><h3 itemprop="name">{e.title}</h3>'
            f'<div itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating">'
            f'<meta itemprop="ratingValue" content="{e.rating * 2}"><meta itemprop="bestRating" '
            f'content="10"><meta itemprop="worstRating" content="0"></div>'
            f'<p itemprop="reviewBody">{escape(e.body)}</p></div>'
            for e in shown
        )
        nxt = f'<a rel="next" href="{path}?page={page + 1}">older</a>' if more else ""
        return (
            f'<html><body><div itemscope itemtype="https://schema.org/Product">'
            f'<h1 itemprop="name">Toaster T2</h1>{reviews}</div>{nxt}</body></html>'
        )

    def broken_page(self) -> str:
        good = self.jsonld_page("/products/broken-blender", "Blender B3", self.broken_valid, 1)
        broken = (
            '<script type="application/ld+json">{"@type": "Review", "reviewBody": "cut off</script>'
        )
        return good.replace("</head>", broken + "</head>")

    # --- forum -------------------------------------------------------------------------
    def _post(self, t: dict, n: int, e: Entry) -> dict:
        user = MEMBERS[(t["id"] + n) % len(MEMBERS)]
        return {
            "id": t["id"] * 1000 + n,
            "post_number": n,
            "username": user,
            "name": user.title(),
            "created_at": f"{e.date}T10:00:00.000Z",
            "cooked": f"<p>{escape(e.body)}</p>",
            "reply_to_post_number": None if n == 1 else 1,
            "staff": n == 2,
            "admin": False,
            "moderator": False,
        }

    def forum(self, path: str, query: dict[str, list[str]]) -> tuple[int, str, str]:
        per_page = 3
        if path == "/latest.json":
            page = int(query.get("page", ["0"])[0])
            ordered = sorted(
                self.topics, key=lambda t: (t["posts"][-1].date, t["id"]), reverse=True
            )
            shown = ordered[page * per_page : (page + 1) * per_page]
            topics = [
                {
                    "id": t["id"],
                    "slug": t["slug"],
                    "title": t["title"],
                    "posts_count": len(t["posts"]),
                    "last_posted_at": f"{t['posts'][-1].date}T10:00:00.000Z",
                    "bumped_at": f"{t['posts'][-1].date}T10:00:00.000Z",
                }
                for t in shown
            ]
            tl = {"topics": topics, "per_page": per_page}
            if (page + 1) * per_page < len(ordered):
                tl["more_topics_url"] = f"/forum/latest?page={page + 1}"
            return 200, "application/json", json.dumps({"users": [], "topic_list": tl})
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "t" and parts[2] == "posts.json":
            if self.hits[f"/forum{path}"] <= self.fail_posts:
                return 500, "text/plain", "server error"
            t = self._topic(int(parts[1]))
            wanted = {int(x) for x in query.get("post_ids[]", [])}
            posts = [self._post(t, n, e) for n, e in enumerate(t["posts"], 1)]
            return (
                200,
                "application/json",
                json.dumps(
                    {
                        "post_stream": {"posts": [p for p in posts if p["id"] in wanted]},
                        "id": t["id"],
                    }
                ),
            )
        if len(parts) == 3 and parts[0] == "t" and parts[2].endswith(".json"):
            t = self._topic(int(parts[2][:-5]))
            if t is None:
                return 404, "text/plain", "no topic"
            posts = [self._post(t, n, e) for n, e in enumerate(t["posts"], 1)]
            return (
                200,
                "application/json",
                json.dumps(
                    {
                        "id": t["id"],
                        "title": t["title"],
                        "slug": t["slug"],
                        "posts_count": len(posts),
                        "post_stream": {"posts": posts[:20], "stream": [p["id"] for p in posts]},
                    }
                ),
            )
        return 404, "text/plain", "not found"

    def _topic(self, tid: int) -> dict | None:
        return next((t for t in self.topics if t["id"] == tid), None)

    # --- feed and app store ----------------------------------------------------------------
    def rss(self) -> str:
        items = "".join(
            f"<item><title>{e.title}</title><link>http://blog.invalid/{e.token}</link>"
            f"<guid>{e.token}</guid><pubDate>Mon, 0{1 + i % 9} Apr 2024 09:00:00 GMT</pubDate>"
            f"<author>{e.author}</author><description>{escape('<p>' + e.body + '</p>')}</description></item>"
            for i, e in enumerate(self.feed)
        )
        return (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>Comments</title>'
            f"<link>http://blog.invalid/</link><description>c</description>{items}</channel></rss>"
        )

    def app_page(self, page: int) -> str:
        shown = self.app[(page - 1) * self.app_per_page : page * self.app_per_page]
        base = "http://apps.invalid/us/rss/customerreviews"
        entries = [{"im:name": {"label": "Demo App"}}] if page == 1 else []
        entries += [
            {
                "author": {"name": {"label": e.author}},
                "updated": {"label": f"{e.date}T09:00:00-07:00"},
                "im:rating": {"label": str(e.rating)},
                "id": {"label": f"r{e.token}"},
                "title": {"label": e.title},
                "content": {"label": e.body},
            }
            for e in shown
        ]
        links = [{"attributes": {"rel": "last", "href": f"{base}/page={self.app_pages}/id=42/xml"}}]
        if page < self.app_pages:
            links.append(
                {"attributes": {"rel": "next", "href": f"{base}/page={page + 1}/id=42/xml"}}
            )
        return json.dumps({"feed": {"entry": entries, "link": links}})


class _Handler(BaseHTTPRequestHandler):
    site: Site
    protocol_version = "HTTP/1.1"  # keep-alive, as real sites serve

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        with self.site.lock:
            self.site.hits[parts.path] += 1
            self.site.user_agents[self.headers.get("User-Agent", "")] += 1
        status, ctype, body = self.site.route(parts.path, parse_qs(parts.query))
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{ctype}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if status == 503:
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:  # quiet
        pass


class Server:
    """``with Server(Site()) as srv: srv.url`` serves the site on a free port of 127.0.0.1."""

    def __init__(self, site: Site) -> None:
        self.site = site
        handler = type("Handler", (_Handler,), {"site": site})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        site.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{site.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
