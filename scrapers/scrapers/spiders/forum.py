"""Community forums with a Discourse-style JSON API: latest topics, then each topic's posts.

    scrapy crawl forum -a start_urls=https://forum.example.com

Arguments: ``start_urls`` (forum base URLs, comma-separated), ``source`` (default
``forum:HOST``), ``allowed_domains``. A rerun skips topics whose last post time and
post count are unchanged, and stops paging "latest" at the first unchanged topic.
Staff posts (admins, moderators) are stored with role ``agent``.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode, urlsplit, urlunsplit

import scrapy

from scrapers.middlewares import MARK, PAGINATE
from scrapers.spiders._base import VocsegSpider, html_text, split_arg

POSTS_PER_REQUEST = 20  # Discourse serves at most 20 posts per post_ids[] request


def json_url(base: str, path: str) -> str:
    """``/latest?page=1`` -> ``BASE/latest.json?page=1`` (Discourse serves JSON at ``.json``)."""
    parts = urlsplit(path)
    p = parts.path if parts.path.endswith(".json") else parts.path.rstrip("/") + ".json"
    return base.rstrip("/") + urlunsplit(("", "", p, parts.query, ""))


class ForumSpider(VocsegSpider):
    name = "forum"
    kind = "social"

    def __init__(self, start_urls=None, source=None, allowed_domains=None, **kwargs):
        super().__init__(**kwargs)
        self.bases = [u.rstrip("/") for u in split_arg(start_urls)]
        self.setup(self.bases, source=source, allowed_domains=allowed_domains)

    async def start(self):
        self.check_args()
        for base in self.bases:
            yield scrapy.Request(
                json_url(base, "/latest"), callback=self.parse, cb_kwargs={"base": base}
            )

    def _json(self, response):
        try:
            return json.loads(response.text), None
        except (ValueError, AttributeError) as exc:
            return None, self.page_error(response.url, f"invalid JSON: {exc}", response.text[:2000])

    def parse(self, response, base=None):
        """One page of latest topics: a request per topic, then the next page.

        @fixture forum_latest.json
        @cb_kwargs {"base": "https://forum.example.com"}
        @returns items 0 0
        @returns requests 3 3
        """
        data, error = self._json(response)
        if error:
            yield error
            return
        base = base or response.url.rsplit("/latest", 1)[0]
        topic_list = (data or {}).get("topic_list") or {}
        for topic in topic_list.get("topics") or []:
            tid, slug = topic.get("id"), topic.get("slug") or "topic"
            if tid is None:
                continue
            version = f"{topic.get('last_posted_at') or topic.get('bumped_at')};{topic.get('posts_count')}"
            yield scrapy.Request(
                json_url(base, f"/t/{slug}/{tid}"),
                callback=self.parse_topic,
                errback=self.part_failed,
                cb_kwargs={"base": base},
                meta={MARK: (f"topic:{base}/t/{tid}", version)},
            )
        more = topic_list.get("more_topics_url")
        if more:  # a path from the site root (subfolder installs include their prefix)
            root = response.urljoin("/").rstrip("/")
            yield scrapy.Request(
                json_url(root, more),
                callback=self.parse,
                errback=self.part_failed,
                cb_kwargs={"base": base},
                meta={PAGINATE: True},
            )

    def parse_topic(self, response, base=None):
        """A topic's first posts, and requests for the rest of its post stream.

        @fixture forum_topic.json
        @cb_kwargs {"base": "https://forum.example.com"}
        @returns items 2 2
        @returns requests 0 0
        @scrapes source kind url text author handle created_at conversation_id turn role
        """
        data, error = self._json(response)
        if error:
            yield error
            return
        base = base or response.url.split("/t/", 1)[0]
        stream = data.get("post_stream") or {}
        posts = stream.get("posts") or []
        yield from self._posts(posts, data, base)
        loaded = {p.get("id") for p in posts}
        rest = [pid for pid in stream.get("stream") or [] if pid not in loaded]
        tid = data.get("id")
        for i in range(0, len(rest), POSTS_PER_REQUEST):
            query = urlencode([("post_ids[]", pid) for pid in rest[i : i + POSTS_PER_REQUEST]])
            yield scrapy.Request(
                f"{json_url(base, f'/t/{tid}/posts')}?{query}",
                callback=self.parse_posts,
                errback=self.part_failed,  # a gap in the topic: fetch it again next time
                cb_kwargs={
                    "base": base,
                    "topic": {"id": tid, "title": data.get("title"), "slug": data.get("slug")},
                },
            )

    def parse_posts(self, response, base=None, topic=None):
        """Posts of a topic beyond its first page (a ``post_ids[]`` request).

        @fixture forum_posts.json
        @cb_kwargs {"base": "https://forum.example.com", "topic": {"id": 11, "slug": "app-crashes"}}
        @returns items 2 2
        @returns requests 0 0
        @scrapes source kind url text author handle created_at external_id turn reply_to
        """
        data, error = self._json(response)
        if error:
            yield error
            return
        yield from self._posts(
            (data.get("post_stream") or {}).get("posts") or [], topic or {}, base
        )

    def _posts(self, posts, topic, base):
        tid, slug = topic.get("id"), topic.get("slug") or "topic"
        for post in posts:
            number = post.get("post_number")
            staff = post.get("staff") or post.get("admin") or post.get("moderator")
            reply = post.get("reply_to_post_number")
            yield self.document(
                f"{base}/t/{slug}/{tid}/{number}",
                # topic/post_number, as in the post's URL: replies name their parent that way
                external_id=f"{tid}/{number}",
                text=html_text(post.get("cooked") or post.get("raw")),
                title=topic.get("title") if number == 1 else None,
                created_at=post.get("created_at"),
                author=post.get("name") or post.get("username"),
                handle=post.get("username"),
                conversation_id=str(tid),
                turn=number,
                role="agent" if staff else "customer",
                reply_to=f"{tid}/{reply}" if reply else None,
                channel="forum",
            )
