"""`vocseg crawl`: run a spider of the bundled Scrapy project into the store."""

from __future__ import annotations

from typing import Annotated

import typer

from vocseg.cli._common import print_json, progress, say, state


def crawl(
    ctx: typer.Context,
    spider: Annotated[str, typer.Argument(help="Spider: reviews, forum, feed or appstore.")],
    arg: Annotated[
        list[str] | None,
        typer.Option(
            "-a", "--arg", help="Spider argument KEY=VALUE (repeat), e.g. -a start_urls=URL,URL."
        ),
    ] = None,
    full: Annotated[
        bool,
        typer.Option("--full", help="Ignore what earlier crawls stored: fetch every page again."),
    ] = False,
    json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Crawl a site politely (robots.txt, throttling) and store what it finds, like `vocseg ingest`.

    Spiders: reviews (schema.org reviews in JSON-LD or microdata; args start_urls, follow,
    next_selector, allowed_domains), forum (Discourse JSON; start_urls), feed (RSS/Atom;
    start_urls), appstore (review JSON feeds; app_id, country, base_url). Reruns are
    incremental. Settings come from [crawl] in vocseg.toml.

    Example: vocseg crawl reviews -a start_urls=https://shop.example/products/kettle --json
    """
    from vocseg import crawl as crawl_mod

    st = state(ctx)
    cfg = st.load_config()
    args = crawl_mod.parse_spider_args(arg or [])
    db = st.open_db()
    with progress(st, f"Crawling ({spider})") as update:
        result = crawl_mod.crawl(
            db, spider, args, cfg.crawl, ingest_cfg=cfg.ingest, full=full, progress=update
        )
    if json:
        print_json(result.as_dict())
        return
    say(
        st,
        f"Crawled {result.pages} pages with '{spider}': {result.items} items, {result.inserted} new, "
        f"{result.duplicates} duplicates, {result.quarantined} quarantined "
        f"({result.skipped_robots} pages forbidden by robots.txt, {result.skipped_unchanged} unchanged "
        f"skipped) in {result.seconds:.1f}s [run {result.run_id}].",
    )


def register(app: typer.Typer) -> None:
    app.command("crawl")(crawl)
