"""Re-parsing captured responses (WARC files, newscrawl.archive.warc) with the current parsers: no network.

`scrapy reparse` reads the WARC files once and runs one of these per site found in them, with that
site's captured 200 responses. Each reparse spider has the name
and site of the site's own spider, so a scheduled job's journal, crawl state and posts are the ones
it works on: its Articles go through the same pipelines, and the revision pipeline makes an update
(revision + 1) only of an article whose normalised content changed. For each article one 200
response is read: the one captured closest in time to the fetch of the journal's latest revision of
it (so a capture whose WARC-Date a skewed clock put later never turns older content into a newer
revision), or, for an article the journal does not hold, the latest captured. The dates listing
pages showed beside their links are taken from the captured listing pages, as the crawl takes them.
A payload that decodes past the cap is not read (`newscrawl/reparse/too_large`).

The class has no `name`: Scrapy's spider loader lists the crawling spiders only, and the command
makes the per-site classes (`reparse_spider`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from newscrawl.archive.warc import Capture, CaptureUnreadable, PayloadTooLarge, read_body
from newscrawl.exit_codes import attention
from newscrawl.extract.page import Listed, Page, page_article
from newscrawl.items import Article, Unusable
from newscrawl.normalize.encoding import decode_html
from newscrawl.spiders.base import NewscrawlSpider, SiteSpider
from newscrawl.state.component import Incremental


def _instant(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def chosen_capture(captures: list[Capture], exported_fetch: str | None) -> Capture:
    """The capture to re-parse of one article: the one closest in time to `exported_fetch` (the fetch
    time of the journal's latest revision), the later of two equally close; without it, the latest."""
    if exported_fetch is None:
        return max(captures, key=lambda capture: capture.date)
    target = _instant(exported_fetch)
    return min(captures, key=lambda capture: (abs(_instant(capture.date) - target), -_instant(capture.date)))


# What a captured listing page may be served as: tag pages, JSON and JSONP lists, feeds.
_LISTING_TYPES = ("html", "json", "javascript", "xml")


class ReparseSpider(NewscrawlSpider):
    """The captured pages, in the order captured, through the site spider's pipelines (`scrapy reparse`)."""

    fetches = False

    def __init__(self, captures: list[Capture], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.captures: list[Capture] = captures
        self._walked: list[str] = []

    @property
    def walked(self) -> list[str]:
        """The tags whose first page was captured (their feeds are rebuilt)."""
        return self._walked

    def _body(self, capture: Capture) -> bytes | None:
        """The captured payload, or None (counted, logged) when it is past the cap or cannot be read."""
        try:
            return read_body(capture)
        except PayloadTooLarge as error:
            self.crawler.stats.inc_value("newscrawl/reparse/too_large")
            self.logger.warning("%s", error)
        except CaptureUnreadable as error:
            attention(self.crawler, "capture_unreadable")
            self.logger.error("%s", error)
        return None

    def _listing(self, capture: Capture, listed: dict[str, Listed]) -> None:
        """Learn what a captured listing page shows beside its links, and its tag if it is a first page."""
        body = self._body(capture)
        if body is None:
            return
        decoded = decode_html(body, capture.content_type, self.site.fallback_encoding)
        try:
            found = self.site.read_listing(decoded.text, capture.url)
        except Unusable:
            return
        for url in found.article_urls:
            if article_id := self.site.article_id(url):
                listed[article_id] = Listed(found.article_dates.get(url), found.article_outlets.get(url))
        walk = self.site.walk_of(capture.url)
        if walk == capture.url and walk not in self._walked:
            self._walked.append(walk)

    async def start(self) -> AsyncIterator[Article]:
        stats = self.crawler.stats
        by_article: dict[str, list[Capture]] = {}
        listed: dict[str, Listed] = {}
        for capture in self.captures:
            if article_id := self.site.article_id(capture.url):
                by_article.setdefault(article_id, []).append(capture)
            elif any(kind in (capture.content_type or "text/html") for kind in _LISTING_TYPES):
                self._listing(capture, listed)
        stats.set_value("newscrawl/reparse/articles_captured", len(by_article))
        incremental = self.crawler.get_extension(Incremental)
        for article_id, captures in by_article.items():
            line = incremental.exported_line(article_id) if incremental is not None and len(captures) > 1 else None
            capture = chosen_capture(captures, line.get("fetched_at") if line else None)
            body = self._body(capture)
            if body is None:
                continue
            page = Page(
                self.site.name,
                capture.url,
                body,
                capture.content_type,
                capture.fetched_at,
                listed.get(article_id, Listed()),
            )
            try:
                article = page_article(page)
            except Unusable as unusable:
                stats.inc_value(f"newscrawl/dropped/{unusable.reason}")
                self.logger.warning("Dropped %s", unusable)
                continue
            stats.inc_value("newscrawl/reparse/articles")
            yield article


def reparse_spider(site_spider: type[SiteSpider]) -> type[ReparseSpider]:
    """The reparse spider of a site: its crawling spider's name and site (so its journal and state)."""
    return type(
        f"Reparse{site_spider.__name__}",
        (ReparseSpider,),
        {"name": site_spider.name, "site": site_spider.site, "__module__": __name__},
    )
