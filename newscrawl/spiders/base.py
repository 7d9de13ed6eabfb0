"""The one spider every site shares: tag listings → pagination → articles. Crawling only, no selectors.

Per run, an article is fetched and emitted once however many tags or URL variants lead to it (dedup
by the site's article id), and a listing page is fetched once (a "next" link back to an earlier page
ends the walk). Pagination stops at NEWSCRAWL_MAX_PAGES pages per tag.

Across runs (newscrawl.incremental): articles already exported are not fetched again (unless
`-a refresh=1` or NEWSCRAWL_REFRESH_AFTER says so), and after a clean previous walk a tag's
pagination stops at the first page whose articles are all known. Listing pages are always fetched.

Article pages become Articles in newscrawl.extract (the same function as `scrapy extract`), in a
child process when NEWSCRAWL_PARSE_PROCESS is on (newscrawl.parse_process); the spider counts the
pages that cannot (`newscrawl/dropped/<reason>`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from typing import Any, ClassVar

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.asyncio import is_asyncio_available
from twisted.python.failure import Failure

from newscrawl.extract import page_article
from newscrawl.incremental import Incremental
from newscrawl.items import Article
from newscrawl.normalize.article import Unusable
from newscrawl.normalize.dates import to_utc_iso
from newscrawl.normalize.encoding import decode_html
from newscrawl.parse_process import ParseProcess, ParseProcessGone
from newscrawl.sites import Site


GONE = (404, 410)  # an article answering these is not coming back: no reason to walk its tag again


def _split_arg(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class SiteSpider(scrapy.Spider):
    """Crawl a site's tag pages (`-a tag=a,b`) and/or single articles (`-a url=…`).

    Arguments: `tag` slugs or tag-page URLs, comma-separated; `url` article URLs, comma-separated;
    `follow_tags=N` also crawls tags found on articles, N tag hops deep (default 0);
    `max_pages=N` overrides NEWSCRAWL_MAX_PAGES for this run; `refresh=1` fetches known articles
    again and emits those whose content changed as updates.
    """

    site: ClassVar[Site]
    incremental: Incremental | None = None
    parse_process: ParseProcess | None = None

    def __init__(self, tag: str | None = None, url: str | None = None, follow_tags: str | int = 0,
                 max_pages: str | int | None = None, refresh: str | int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tags = [self.site.listing_url(value) for value in _split_arg(tag)]
        self.article_urls = _split_arg(url)
        for article_url in self.article_urls:
            if self.site.article_id(article_url) is None:
                raise ValueError(f"not a {self.site.display_name} article URL: {article_url}")
        if not self.tags and not self.article_urls:
            raise ValueError(f"nothing to crawl: pass -a tag=SLUG[,SLUG…] and/or -a url=ARTICLE_URL[,…] "
                             f"(e.g. scrapy crawl {self.name} -a tag=xiaomi12_ultra)")
        self.follow_tags = int(follow_tags)
        self.refresh = str(refresh).lower() in ("1", "true", "yes")
        self._max_pages_arg = int(max_pages) if max_pages is not None else None
        self.allowed_domains = list(self.site.hosts)
        self._seen_articles: set[str] = set()
        self._seen_listings: set[str] = set()
        self._walks: dict[str, bool] = {}  # first listing page of each tag walked → may the stop rule apply
        self._unfinished_walks: set[str] = set()  # walks with an article that failed for a reason that may pass
        self._last_activity = time.monotonic()

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        """The site's coverage rules for the layout-break alarm; `-o`/`-O` (any FEEDS) make a one-off export:
        no journal, no crawl state, unless those are set on the command line."""
        super().update_settings(settings)
        coverage = {**cls.site.expected_coverage, **settings.getdict("NEWSCRAWL_COVERAGE_RULES").get(cls.site.name, {})}
        settings.set("SPIDERMON_FIELD_COVERAGE_RULES", {f"Article/{field}": share for field, share in coverage.items()},
                     priority="spider")
        if settings.getdict("FEEDS"):
            for name in ("NEWSCRAWL_JSONL", "NEWSCRAWL_STATE"):
                if (settings.getpriority(name) or 0) < SETTINGS_PRIORITIES["cmdline"]:
                    settings.set(name, "", priority="spider")
        if redis_url := settings.get("NEWSCRAWL_REDIS_URL"):
            # One shared request queue and dupefilter in Redis (scrapy-redis); listing pages are
            # dont_filter, so they are fetched again every run.
            settings.setdict({
                "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
                "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
                "SCHEDULER_PERSIST": True,
                "SCHEDULER_QUEUE_KEY": "newscrawl:%(spider)s:requests",
                "SCHEDULER_DUPEFILTER_KEY": "newscrawl:%(spider)s:dupefilter",
                "REDIS_URL": redis_url,
            }, priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SiteSpider:
        """Open the crawl state before the first request (refusing to start if another run holds it)."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.incremental = Incremental.from_settings(crawler.settings, spider.name, spider.site.name, spider.refresh)
        if crawler.settings.getbool("NEWSCRAWL_PARSE_PROCESS") and is_asyncio_available():
            spider.parse_process = ParseProcess()
            crawler.signals.connect(spider.parse_process.start, signal=signals.spider_opened)
            crawler.signals.connect(spider.parse_process.close, signal=signals.spider_closed)
        if crawler.settings.get("NEWSCRAWL_REDIS_URL"):
            crawler.signals.connect(spider._wait_for_other_workers, signal=signals.spider_idle)
            crawler.signals.connect(spider._downloading, signal=signals.request_reached_downloader)
        return spider

    def _wait_for_other_workers(self) -> None:
        """Distributed: an empty queue may fill again from another worker's listing pages; a worker
        exits only after NEWSCRAWL_REDIS_IDLE_TIMEOUT seconds with nothing to do."""
        if time.monotonic() - self._last_activity < self.settings.getfloat("NEWSCRAWL_REDIS_IDLE_TIMEOUT"):
            raise DontCloseSpider

    def _downloading(self, request: scrapy.Request) -> None:
        """Distributed: an article request popped from the shared queue may be another worker's."""
        if self.incremental and request.callback == self.parse_article and (article_id := self.site.article_id(request.url)):
            self.incremental.downloading(article_id)

    def _active(self) -> None:
        self._last_activity = time.monotonic()

    def closed(self, reason: str) -> None:
        if self.incremental is None:
            return
        if reason == "finished":
            self.incremental.walks_ended_cleanly([walk for walk in self._walks if walk not in self._unfinished_walks])
        self.incremental.close()

    @property
    def max_pages(self) -> int:
        if self._max_pages_arg is not None:
            return self._max_pages_arg
        return self.settings.getint("NEWSCRAWL_MAX_PAGES")

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self._active()
        if self.incremental and self.incremental.released_claims:
            self.crawler.stats.set_value("newscrawl/article/released_claims", self.incremental.released_claims)
            self.logger.warning("Released %d article claim(s) this worker held when it stopped",
                                self.incremental.released_claims)
        if self.incremental and self.incremental.recovered:
            self.crawler.stats.set_value("newscrawl/journal/recovered_lines", self.incremental.recovered)
            self.logger.warning("Recovered %d journal line(s) a crash left unrecorded", self.incremental.recovered)
        for listing_url in self.tags:
            if request := self._listing_request(listing_url, page=1, depth=0):
                yield request
        for article_url in self.article_urls:
            if request := self._article_request(article_url, depth=0):
                yield request

    # Requests ------------------------------------------------------------------------------------

    def _listing_request(self, url: str, page: int, depth: int, walk: str | None = None) -> scrapy.Request | None:
        if url in self._seen_listings:
            self.crawler.stats.inc_value("newscrawl/listing/repeated_page")
            return None
        self._seen_listings.add(url)
        if walk is None:  # a tag's first page: a new walk
            walk = url
            self._walks[walk] = self.incremental.walk_started(walk) if self.incremental else False
        # Listing pages change between runs: never let a dupefilter hide them.
        return scrapy.Request(url, callback=self.parse_listing, dont_filter=True,
                              cb_kwargs={"page": page, "depth": depth, "walk": walk})

    def _article_request(self, url: str, depth: int, walk: str | None = None) -> scrapy.Request | None:
        article_id = self.site.article_id(url)
        if article_id is None:
            self.crawler.stats.inc_value("newscrawl/listing/non_article_link")
            self.logger.warning("Skipped a listing link that is not an article URL: %s", url)
            return None
        if article_id in self._seen_articles:
            self.crawler.stats.inc_value("newscrawl/article/duplicate_link")
            return None
        self._seen_articles.add(article_id)
        if self.incremental and not self.incremental.claim(article_id):
            self.crawler.stats.inc_value("newscrawl/article/claimed_by_another_worker")
            return None
        # Distributed, an article is deduplicated by its claim, not by scrapy-redis's persistent
        # dupefilter (which would lose the articles a killed worker had in flight, and block refreshes).
        distributed = bool(self.incremental and self.incremental.distributed)
        # The walk rides in meta: only the errback reads it (an unfinished walk), not the callback.
        return scrapy.Request(self.site.canonical_url(url), callback=self.parse_article, errback=self._article_failed,
                              dont_filter=distributed, cb_kwargs={"depth": depth}, meta={"newscrawl_walk": walk})

    # Callbacks -----------------------------------------------------------------------------------

    @staticmethod
    def _content_type(response: Response) -> str | None:
        return response.headers.get("Content-Type", b"").decode("latin-1") or None

    def parse_listing(self, response: Response, page: int, depth: int, walk: str) -> Iterator[scrapy.Request]:
        self._active()
        self.crawler.stats.inc_value("newscrawl/listing/pages")
        decoded = decode_html(response.body, self._content_type(response), self.site.fallback_encoding)
        if decoded.lossy:  # links still work; say so all the same
            self.crawler.stats.inc_value("newscrawl/decode/lossy")
            self.logger.warning("Undecodable bytes in listing page %s", response.url)
        listing = self.site.parse_listing(decoded.text, response.url)
        if not listing.article_urls and not listing.end:
            self.crawler.stats.inc_value("newscrawl/listing/empty")
            self.logger.warning("Listing page has no article links (layout change?): %s", response.url)
        ids = [self.site.article_id(url) for url in listing.article_urls]
        known = self.incremental.fresh([i for i in ids if i]) if self.incremental else set()
        for url, article_id in zip(listing.article_urls, ids, strict=True):
            if article_id in known:
                self.crawler.stats.inc_value("newscrawl/articles/known")
            elif request := self._article_request(url, depth, walk):
                yield request
        if listing.next_url:
            if ids and known.issuperset(ids) and self._walks[walk]:
                self.crawler.stats.inc_value("newscrawl/listing/stopped_at_known")
                self.logger.info("Every article on %s is known: not following its next page", response.url)
            elif page >= self.max_pages:
                self.crawler.stats.inc_value("newscrawl/listing/max_pages_reached")
                self.logger.info("Stopped at the page limit (%d) of %s", self.max_pages, response.url)
            elif request := self._listing_request(listing.next_url, page + 1, depth, walk):
                yield request

    async def _page_article(self, *page: Any) -> Article:
        """`extract.page_article(*page)`, in the parse process when there is one that still runs."""
        if self.parse_process is not None:
            try:
                return await self.parse_process.page_article(*page)
            except ParseProcessGone as gone:
                if not self.crawler.stats.get_value("newscrawl/parse_process/gone"):
                    self.logger.error("%s: parsing article pages in the crawl process from now on", gone)
                self.crawler.stats.inc_value("newscrawl/parse_process/gone")  # pages parsed inline since
        return page_article(*page)

    def _article_failed(self, failure: Failure) -> Failure:
        """An article that failed for a reason that may pass (5xx after retries, a timeout, a reset)
        leaves its walk unfinished, so the next run walks the whole tag again and retries it; one
        that is gone (404, 410) does not. The failure goes on to Scrapy's own logging and stats."""
        response = getattr(failure.value, "response", None)
        walk = failure.request.meta.get("newscrawl_walk")
        gone = failure.check(HttpError) and response is not None and response.status in GONE
        if walk is not None and not gone:
            self._unfinished_walks.add(walk)
        return failure

    async def parse_article(self, response: Response, depth: int) -> AsyncIterator[Article | scrapy.Request]:
        self._active()
        fetched_at = to_utc_iso(datetime.now(timezone.utc))
        url = response.url if self.site.article_id(response.url) else response.request.url
        page = (self.site.name, response.body, url, self._content_type(response), fetched_at)
        try:
            article = await self._page_article(*page)
        except Unusable as unusable:
            self.crawler.stats.inc_value(f"newscrawl/dropped/{unusable.reason}")
            self.logger.warning("Dropped %s", unusable)
            return
        yield article
        if depth < self.follow_tags:
            for tag in article.tags:
                try:
                    listing_url = self.site.listing_url(tag["url"] or "")
                except ValueError:
                    continue
                if request := self._listing_request(listing_url, page=1, depth=depth + 1):
                    yield request
