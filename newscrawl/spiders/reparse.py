"""Re-parsing captured responses (WARC files, newscrawl.warc) with the current parsers: no network.

`scrapy reparse` reads the WARC files once and runs one of these per site found in them, with that
site's captured 200 responses. Each reparse spider has the name
and site of the site's own spider, so a scheduled job's journal, crawl state and posts are the ones
it works on: its Articles go through the same pipelines, and the revision pipeline makes an update
(revision + 1) only of an article whose normalised content changed. For each article the latest
200 response captured is read; the dates listing pages showed beside their links are taken from
the captured listing pages, as the crawl takes them.

The class has no `name`: Scrapy's spider loader lists the crawling spiders only, and the command
makes the per-site classes (`reparse_spider`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

import scrapy

from newscrawl.extract import Page, page_article
from newscrawl.items import Article, Unusable
from newscrawl.normalize.encoding import decode_html
from newscrawl.sites import Site
from newscrawl.spiders.base import NewscrawlSpider
from newscrawl.warc import Capture, read_body


class ReparseSpider(NewscrawlSpider):
    site: ClassVar[Site]
    fetches = False

    def __init__(self, captures: list[Capture], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.captures = captures
        self.walked: list[str] = []  # the tags whose first page was captured (their feeds are rebuilt)

    def _listing(self, capture: Capture, listed: dict[str, str]) -> None:
        """Learn the dates a captured listing page shows beside its links, and its tag if it is a first page."""
        decoded = decode_html(read_body(capture), capture.content_type, self.site.fallback_encoding)
        try:
            found = self.site.read_listing(decoded.text, capture.url)
        except Unusable:
            return
        for url, date in found.article_dates.items():
            if article_id := self.site.article_id(url):
                listed[article_id] = date
        walk = self.site.walk_of(capture.url)
        if walk == capture.url and walk not in self.walked:
            self.walked.append(walk)

    async def start(self) -> AsyncIterator[Article]:
        stats = self.crawler.stats
        latest: dict[str, Capture] = {}
        listed: dict[str, str] = {}
        for capture in self.captures:
            if article_id := self.site.article_id(capture.url):
                if article_id not in latest or capture.date >= latest[article_id].date:
                    latest[article_id] = capture
            elif "html" in (capture.content_type or "text/html"):
                self._listing(capture, listed)
        stats.set_value("newscrawl/reparse/articles_captured", len(latest))
        for article_id, capture in latest.items():
            page = Page(self.site.name, capture.url, read_body(capture), capture.content_type,
                        capture.fetched_at, listed.get(article_id))
            try:
                article = page_article(page)
            except Unusable as unusable:
                stats.inc_value(f"newscrawl/dropped/{unusable.reason}")
                self.logger.warning("Dropped %s", unusable)
                continue
            stats.inc_value("newscrawl/reparse/articles")
            yield article


def reparse_spider(site_spider: type[scrapy.Spider]) -> type[ReparseSpider]:
    """The reparse spider of a site: its crawling spider's name and site (so its journal and state)."""
    return type(f"Reparse{site_spider.__name__}", (ReparseSpider,),
                {"name": site_spider.name, "site": site_spider.site, "__module__": __name__})
