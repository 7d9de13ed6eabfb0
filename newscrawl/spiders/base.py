"""The one spider every site shares: tag listings → pagination → articles. Crawling only, no selectors.

Per run, an article is fetched and emitted once however many tags or URL variants lead to it (dedup
by the site's article id), and a listing page is fetched once (a "next" link back to an earlier page
ends the walk). A tag's walk fetches at most NEWSCRAWL_MAX_PAGES listing pages per run (`-a max_pages`).

Across runs (newscrawl.state.component, reached through the crawler): articles already exported are not
fetched again (unless `-a refresh=1` or NEWSCRAWL_REFRESH_AFTER says so); the walk's frontier is kept
in the crawl state — every listing page found and not yet fetched, every article found and not yet
exported — and each run starts with it, so a page cap, a 5xx, a reset or a kill only delays work.
Page 1 of every tag is fetched every run; how far its pagination is followed is the walk policy's
(newscrawl.spiders.walk): past pages of known articles until a walk of the tag has reached its end.

Article pages become Articles in newscrawl.extract.page (the same function as `scrapy extract`), handed
over as one `extract.Page`, in a child process when NEWSCRAWL_PARSE_PROCESS is on (the
newscrawl.extract.process extension); the spider counts the pages that cannot (`newscrawl/dropped/<reason>`).
The components the spider uses (crawl state, parse process) are reached through the crawler.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, cast

import scrapy
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from newscrawl.exit_codes import CannotStart, attention
from newscrawl.extract.page import LISTING, Listed, Page, site_article
from newscrawl.extract.process import ParseProcess
from newscrawl.fetch.blocks import Blocked
from newscrawl.fetch.politeness import BackedOff
from newscrawl.items import Article, Unusable
from newscrawl.normalize.dates import to_utc_iso
from newscrawl.normalize.encoding import decode_html
from newscrawl.sites import Site, all_sites
from newscrawl.spiders.walk import Step, capped, ends_walk, frontiers, next_step, records_next, resumed_pages
from newscrawl.state.base import ExportedElsewhere, ListingPage, PendingArticle
from newscrawl.state.component import ARTICLE_ID, Incremental, named_tags

GONE = (404, 410)  # a page answering these is not coming back
ARGUMENTS = {
    "tag": "tag slugs, tag-page URLs or a listing source's walk (rss, …: docs/sites.md), comma-separated",
    "url": "article URLs, comma-separated",
    "follow_tags": "also crawl the tags the articles name (remembered for known ones), N hops deep (default 0)",
    "max_pages": "listing pages per tag this run, ≥ 1 (default NEWSCRAWL_MAX_PAGES); later runs go on from there",
    "refresh": "1: fetch known articles again and emit those whose content changed as updates",
    "retry_gone": "1: fetch again the articles settled as gone (404, refused, unusable, given up after failing)",
}
EXAMPLES = (
    "scrapy crawl mydrivers -a tag=xiaomi12_ultra                 # a tag, incremental: output/mydrivers.jsonl",
    "scrapy crawl mydrivers -a tag=windows_11,nvidia -a max_pages=3",
    "scrapy crawl mydrivers -a tag=xiaomi -a follow_tags=1        # and the tags its articles name",
    "scrapy crawl mydrivers -a url=https://news.mydrivers.com/1/833/833153.htm -O one.jsonl   # one-off",
    "scrapy crawl cnbeta -a tag=9 -a refresh=1                    # fetch known articles again, emit changes",
    "scrapy crawl mydrivers -a tag=rss                            # the site's feed: its newest items",
    "scrapy crawl generic -a url=https://www.ithome.com/tag/xiaomi/ # any site without a module (docs/generic.md)",
    "scrapy crawl mydrivers -a tag=xiaomi -s NEWSCRAWL_IMAGES_STORE=output/images -s NEWSCRAWL_POST_IMAGES=local"
    "   # keep the images; posts show them",
    "scrapy crawl mydrivers -a tag=xiaomi -s NEWSCRAWL_PROCESSES=2  # two processes over one state (every core)",
)


def split_arg(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _whole_number(name: str, value: str | int, minimum: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = minimum - 1
    if number < minimum:
        raise CannotStart(f"-a {name}= must be a whole number ≥ {minimum}, not {value!r}")
    return number


def _flag(name: str, value: str | int) -> bool:
    text = str(value).strip().lower()
    if text in ("1", "true", "yes"):
        return True
    if text in ("0", "false", "no", ""):
        return False
    raise CannotStart(f"-a {name}= must be 1 or 0 (true/false, yes/no), not {value!r}")


def content_type(response: Response) -> str | None:
    """The response's Content-Type header, decoded; None when it has none."""
    return (response.headers.get("Content-Type") or b"").decode("latin-1") or None


def failed_request(failure: Failure) -> scrapy.Request:
    """The request an errback's failure is about (Scrapy sets `failure.request`, untyped)."""
    return cast(scrapy.Request, failure.request)  # type: ignore[attr-defined]


# Failures that say nothing about the article (the site blocked the crawler, or asked it to wait): the
# article stays pending without counting towards NEWSCRAWL_GIVE_UP_AFTER_RUNS.
ABOUT_THE_SITE = ("blocked", "backed_off")


def failure_reason(failure: Failure) -> tuple[str, bool]:
    """Why a request failed, and whether the next run would meet it again (permanent): 404/410, a body over
    DOWNLOAD_MAXSIZE, a request refused on purpose (robots.txt, offsite, a bad redirect). Anything else (5xx,
    resets, timeouts, DNS) may pass."""
    if failure.check(HttpError):
        status = cast(HttpError, failure.value).response.status
        return f"http_{status}", status in GONE
    if failure.check(DownloadCancelledError) and "max size" in failure.getErrorMessage():
        return "too_large", True
    if failure.check(Blocked):
        return "blocked", False
    if failure.check(BackedOff):
        return "backed_off", False
    if failure.check(IgnoreRequest):
        return "refused", True
    return failure.type.__name__ if failure.type is not None else "error", False


class NewscrawlSpider(scrapy.Spider):
    """What every newscrawl spider shares: `log` without Scrapy's deprecation warning (spidermon's report
    still calls it), and spidermon's report of monitors that passed at DEBUG — failures stay at ERROR."""

    site: ClassVar[Site]
    # False for a spider that reads what was captured (`scrapy reparse`): nothing fetches for it.
    fetches: ClassVar[bool] = True
    # What the components read of a run (`newscrawl.sites.SiteCrawl`), empty unless a spider sets them.
    refresh: bool = False
    tags: Sequence[str] = ()
    article_urls: Sequence[str] = ()
    captures: Sequence[object] = ()

    @property
    def walked(self) -> Sequence[str]:
        """The tags (their walks' first-page URLs) whose feeds this run rebuilds."""
        return ()

    def log(self, message: Any, level: int = logging.DEBUG, **kwargs: Any) -> None:
        if level == logging.INFO and str(message).startswith("[Spidermon]"):
            level = logging.DEBUG
        self.logger.log(level, message, **kwargs)


class SiteSpider(NewscrawlSpider):
    """Crawl a site's tag pages (`-a tag=a,b`) and/or single articles (`-a url=…`); the arguments
    (`-a NAME=VALUE`) are `ARGUMENTS`, listed by `scrapy crawl --help`."""

    incremental: Incremental | None = None  # crawler components, looked up when the run starts
    parse_process: ParseProcess | None = None

    def __init__(
        self,
        tag: str | None = None,
        url: str | None = None,
        follow_tags: str | int = 0,
        max_pages: str | int | None = None,
        refresh: str | int = 0,
        retry_gone: str | int = 0,
        **kwargs: Any,
    ) -> None:
        unknown = sorted(name for name in kwargs if name not in ("name", "_job"))  # scrapyd passes _job
        if unknown:
            raise CannotStart(
                f"unknown spider argument(s) {', '.join(unknown)}; known: "
                + "; ".join(f"{name} ({meaning})" for name, meaning in ARGUMENTS.items())
            )
        super().__init__(**kwargs)
        try:
            self.tags = [self.site.listing_url(value) for value in split_arg(tag)]
        except ValueError as error:
            raise CannotStart(f"-a tag=: {error}") from None
        self.article_urls = split_arg(url)
        for article_url in self.article_urls:
            if self.site.article_id(article_url) is None:
                raise CannotStart(f"-a url=: not a {self.site.display_name} article URL: {article_url}")
        if not self.tags and not self.article_urls:
            raise CannotStart(
                f"nothing to crawl: pass -a tag=SLUG[,SLUG…] and/or -a url=ARTICLE_URL[,…] "
                f"(e.g. scrapy crawl {self.name} -a tag=xiaomi12_ultra)"
            )
        self.follow_tags = _whole_number("follow_tags", follow_tags, 0)
        self.refresh = _flag("refresh", refresh)
        self.retry_gone = _flag("retry_gone", retry_gone)
        self._max_pages_arg = _whole_number("max_pages", max_pages, 1) if max_pages is not None else None
        self.allowed_domains = list(self.site.hosts)
        self._seen_articles: set[str] = set()
        self._requested_listings: dict[str, ListingPage] = {}  # this run's listing requests, by URL
        self._walk_pages: dict[str, int] = {}  # listing pages requested this run, per walk
        self._complete_walks: set[str] = set()  # walks once followed to their end (the state's)
        self._frontiers: dict[str, int] = {}  # per walk, the page an earlier run stopped at that this run resumes
        self._walk_names: dict[str, str] = {}  # the names walks' first pages showed (the state's), kept when unchanged

    @property
    def max_pages(self) -> int:
        if self._max_pages_arg is not None:
            return self._max_pages_arg
        return self.settings.getint("NEWSCRAWL_MAX_PAGES")

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self.incremental = self.crawler.get_extension(Incremental)
        # The parse process finds a site by its name in the registry: a registered site's only.
        registered = all_sites().get(self.site.name) is self.site
        self.parse_process = self.crawler.get_extension(ParseProcess) if registered else None
        pages = [ListingPage(tag, tag, 1, 0) for tag in self.tags]
        articles = [
            PendingArticle(article_id, url, 0)
            for url in self.article_urls
            if (article_id := self.site.article_id(url)) is not None
        ]
        if self.incremental is not None:
            self._report_repairs(self.incremental)
            if self.retry_gone:
                self.logger.info(
                    "Trying again %d article(s) settled as gone (-a retry_gone=1)", self.incremental.retry_gone()
                )
            listings, pending_articles = self.incremental.pending()
            resumed = [
                page for page in resumed_pages(listings, self.tags, self.follow_tags) if page.url not in self.tags
            ]
            self._frontiers = frontiers(resumed)
            self._complete_walks = self.incremental.complete_walks()
            self._walk_names = self.incremental.walk_facts("name")
            fresh = self.incremental.fresh([article.article_id for article in articles])
            if fresh:
                self.crawler.stats.inc_value("newscrawl/articles/known", len(fresh))
            articles = [article for article in articles if article.article_id not in fresh]
            # Articles asked for by URL are pending until exported, like those found on listing pages.
            if articles and not self.incremental.record_pending(None, articles, []):
                self.logger.error("Not crawling: the crawl state cannot record this run's requested articles")
                return
            articles += pending_articles
            pages += resumed
            if resumed or pending_articles:
                self.logger.info(
                    "Resuming %d listing page(s) and %d article(s) earlier runs left pending",
                    len(resumed),
                    len(pending_articles),
                )
        for page in pages:
            if request := self._listing_request(page):
                yield request
        for article in articles:
            if request := self._article_request(article.url, article.depth):
                yield request

    def _report_repairs(self, incremental: Incremental) -> None:
        for stat, count, message in (
            (
                "newscrawl/article/released_claims",
                incremental.released_claims,
                "Released %d article claim(s) this worker held when it stopped",
            ),
            (
                "newscrawl/journal/rebuilt_lines",
                incremental.recovered if incremental.rebuilt else 0,
                "Rebuilt the crawl state from %d journal line(s): nothing exported before is exported again; "
                "every tag is walked whole once",
            ),
            (
                "newscrawl/journal/recovered_lines",
                0 if incremental.rebuilt else incremental.recovered,
                "Recovered %d journal line(s) a crash left unrecorded (or a lost -wal file, or a state "
                "restored from a backup): every tag is walked whole once",
            ),
            (
                "newscrawl/posts/stale_temporaries",
                incremental.stale_temporaries,
                "Removed %d temporary post file(s) a killed run left",
            ),
        ):
            if count:
                self.crawler.stats.set_value(stat, count)
                self.logger.warning(message, count)

    # Requests ------------------------------------------------------------------------------------

    def _listing_request(self, page: ListingPage) -> scrapy.Request | None:
        if page.url in self._requested_listings:
            self.crawler.stats.inc_value("newscrawl/listing/repeated_page")
            return None
        self._requested_listings[page.url] = page
        self._walk_pages[page.walk] = self._walk_pages.get(page.walk, 0) + 1
        self.crawler.stats.inc_value("newscrawl/listing/requested")
        # Listing pages change between runs: never let a dupefilter hide them.
        return scrapy.Request(
            page.url,
            callback=self.parse_listing,
            errback=self._listing_failed,
            dont_filter=True,
            headers=self.site.listing_headers(page.url),
            cb_kwargs={"listing": page},
        )

    def _article_request(
        self, url: str, depth: int, listed: Listed | None = None, source: str | None = None
    ) -> scrapy.Request | None:
        article_id = self.site.article_id(url)
        if article_id is None:
            self.crawler.stats.inc_value("newscrawl/listing/non_article_link")
            self.logger.warning("Skipped a listing link that is not an article URL: %s", url)
            return None
        if article_id in self._seen_articles:
            self.crawler.stats.inc_value("newscrawl/article/duplicate_link")
            return None
        self._seen_articles.add(article_id)
        if self.incremental is not None and not self.incremental.claim(article_id):
            self.crawler.stats.inc_value("newscrawl/article/claimed_by_another_worker")
            return None
        self.crawler.stats.inc_value("newscrawl/article/requested")
        if self.parse_process is not None:
            self.parse_process.start()  # its imports overlap this download; a run with no article starts none
        # Distributed, an article is deduplicated by its claim, not by scrapy-redis's persistent
        # dupefilter (which would lose the articles a killed worker had in flight, and block refreshes).
        distributed = self.incremental is not None and not self.incremental.state.exclusive
        return scrapy.Request(
            self.site.canonical_url(url),
            callback=self.parse_article,
            errback=self._article_failed,
            dont_filter=distributed,
            cb_kwargs={"depth": depth, "listed": listed, "source": source},
            meta={ARTICLE_ID: article_id},
        )

    # Callbacks -----------------------------------------------------------------------------------

    def parse_listing(self, response: Response, listing: ListingPage) -> Iterator[scrapy.Request]:
        stats = self.crawler.stats
        stats.inc_value("newscrawl/listing/pages")
        decoded = decode_html(response.body, content_type(response), self.site.fallback_encoding)
        if decoded.lossy:  # links still work; say so all the same
            stats.inc_value("newscrawl/decode/lossy")
            self.logger.warning("Undecodable bytes in listing page %s", response.url)
        source = self.site.listing_source(response.url, listing.walk)
        if source is not None:
            stats.inc_value(f"newscrawl/listing/source/{source}")
        try:
            found = self.site.read_listing(decoded.text, response.url)
        except Unusable as unusable:  # too deep to parse whole: its links would be a silent part of them
            stats.inc_value(f"newscrawl/listing/dropped/{unusable.reason}")
            self.logger.error("Dropped listing page %s", unusable)
            return
        if found.fallback:
            stats.inc_value("newscrawl/listing/fallback")
            self.logger.warning(
                "Listing page %s: the site's selectors found no article links; %d found by the "
                "listing fallback (layout change?)",
                response.url,
                len(found.article_urls),
            )
        if not found.article_urls and not found.end and not found.continued:
            stats.inc_value("newscrawl/listing/empty")
            self.logger.warning("Listing page has no article links (layout change?): %s", response.url)
            if request := self._fallback_source(listing, "has no article links"):
                yield request
        limit = self.settings.getint("NEWSCRAWL_MAX_LINKS_PER_PAGE")
        urls, cut = capped(found.article_urls, limit)
        if cut:
            stats.inc_value("newscrawl/listing/links_capped")
            self.logger.warning(
                "Listing page %s has %d article links: only the first %d (NEWSCRAWL_MAX_LINKS_PER_PAGE) are followed",
                response.url,
                len(found.article_urls),
                limit,
            )
        ids = [self.site.article_id(url) for url in urls]
        known = self.incremental.fresh([i for i in ids if i]) if self.incremental else set()
        if known:
            stats.inc_value("newscrawl/articles/known", sum(1 for i in ids if i in known))
        wanted = {i: url for url, i in zip(urls, ids, strict=True) if i and i not in known}
        step = self._next_step(found.next_url, listing, all_known=bool(ids) and known.issuperset(ids))
        # A walk is complete when it reached the list's true end: not when a feed (the newest items only)
        # ran out, nor when a page that could not be read (no links: a layout change) had no next link.
        completes = ends_walk(step) and not found.partial and bool(found.article_urls or found.end)
        next_pages = (
            [ListingPage(found.next_url, listing.walk, listing.page + 1, listing.depth)]
            if found.next_url and records_next(step)
            else []
        )
        if self.incremental is not None:
            self.incremental.record_pending(
                listing,
                [PendingArticle(i, url, listing.depth) for i, url in wanted.items()],
                next_pages,
                [i for i in ids if i],
                completes,
            )
        if completes:
            self._complete_walks.add(listing.walk)
        name = found.title if listing.page == 1 and source is None else None  # the walk's own first page names it
        if name and name != self._walk_names.get(listing.walk) and self.incremental is not None:
            if self.incremental.note_walk(listing.walk, "name", name):
                self._walk_names[listing.walk] = name
        for url, article_id in zip(urls, ids, strict=True):
            if article_id in known:
                continue
            listed = Listed(found.article_dates.get(url), found.article_outlets.get(url))
            if request := self._article_request(url, listing.depth, listed, source):
                yield request
        # known articles are not fetched: their tags are remembered
        if known and listing.depth < self.follow_tags and self.incremental is not None:
            for walk in self.incremental.tags_of([i for i in ids if i in known]):
                if request := self._tag_request(walk, listing.depth + 1):
                    yield request
        if step is Step.FOLLOW:
            for page in next_pages:
                if request := self._listing_request(page):
                    yield request

    def _next_step(self, next_url: str | None, listing: ListingPage, all_known: bool) -> Step:
        """What the walk policy makes of `listing`'s next link, counted and logged."""
        earlier = self._requested_listings.get(next_url) if next_url else None
        step = next_step(
            next_url=next_url,
            seen=earlier is not None,
            loops_back=earlier is not None and earlier.walk == listing.walk and earlier.page <= listing.page,
            all_known=all_known,
            complete=listing.walk in self._complete_walks,
            behind_frontier=listing.page < self._frontiers.get(listing.walk, 0),
            pages_requested=self._walk_pages.get(listing.walk, 0),
            budget=self.max_pages,
        )
        stats = self.crawler.stats
        if step in (Step.CAME_ROUND, Step.MERGED):
            stats.inc_value("newscrawl/listing/repeated_page")
        elif step is Step.STOP_AT_KNOWN:
            stats.inc_value("newscrawl/listing/stopped_at_known")
            self.logger.info("Every article on %s is known: not following its next page", listing.url)
        elif step is Step.DEFER:
            stats.inc_value("newscrawl/listing/max_pages_reached")
            self.logger.info(
                "Stopped %s at this run's page limit (%d); the next run goes on from %s",
                listing.walk,
                self.max_pages,
                next_url,
            )
        elif step is Step.FOLLOW and all_known:
            stats.inc_value("newscrawl/listing/walked_past_known")
        return step

    def _fallback_source(self, listing: ListingPage, what: str) -> scrapy.Request | None:
        """When a walk's first page breaks, the same list from the site's fallback source (its feed),
        counted and logged; the articles it links are labelled (`fallbacks.listing`)."""
        if listing.page != 1 or (url := self.site.fallback_listing(listing.walk, listing.url)) is None:
            return None
        request = self._listing_request(ListingPage(url, listing.walk, 1, listing.depth))
        if request is not None:
            self.crawler.stats.inc_value("newscrawl/listing/source_fallback")
            self.logger.warning("Listing page %s %s: the list is read from %s instead", listing.url, what, url)
        return request

    def _listing_failed(self, failure: Failure) -> Failure | scrapy.Request:
        """A listing page that failed for a reason that may pass stays pending (its walk goes on from it
        next run); one that is gone is settled. A tag whose first page is gone needs a person. A walk's
        first page that failed goes on to the site's fallback source for the same list, if it has one."""
        listing: ListingPage = failed_request(failure).cb_kwargs["listing"]
        self._count_failure(failure)
        if not failure_reason(failure)[1]:
            self.crawler.stats.inc_value("newscrawl/listing/failed")
            self.logger.warning(
                "Listing page %s failed (%s): the next run tries it again", listing.url, failure.getErrorMessage()
            )
        else:
            if listing.page == 1 and listing.depth == 0:
                attention(self.crawler, "first_page_gone")
                self.logger.error(
                    "The first page of tag %s is gone (%s): is the tag right?", listing.url, failure.getErrorMessage()
                )
            if self.incremental is not None:
                self.incremental.listing_gone(listing)
        return self._fallback_source(listing, f"failed ({failure_reason(failure)[0]})") or failure

    def _article_failed(self, failure: Failure) -> Failure:
        """An article that failed for a reason that may pass stays pending, so the next run fetches it, until
        it has failed NEWSCRAWL_GIVE_UP_AFTER_RUNS runs in a row; one that is gone (404, 410, too large) or
        refused is settled as gone, with its reason. The failure goes on to Scrapy's own logging."""
        request = failed_request(failure)
        reason, permanent = failure_reason(failure)
        if failure.check(ExportedElsewhere):
            return failure
        self._count_failure(failure)
        if not permanent:
            self.crawler.stats.inc_value("newscrawl/article/failed")
        if self.incremental is not None:
            article_id, url = request.meta[ARTICLE_ID], request.meta.get("redirect_urls", [request.url])[0]
            depth = request.cb_kwargs.get("depth", 0)
            if permanent:
                self.incremental.gone(article_id, url, depth, reason)
            elif reason not in ABOUT_THE_SITE:
                self.incremental.failed(article_id, url, depth, reason)
        return failure

    def _count_failure(self, failure: Failure) -> None:
        """A page request that failed on the network for good (HTTP errors are Scrapy's httperror stats)."""
        if not failure.check(HttpError, IgnoreRequest):
            self.crawler.stats.inc_value("newscrawl/errors/download")

    async def parse_article(
        self, response: Response, depth: int, listed: Listed | None = None, source: str | None = None
    ) -> AsyncIterator[Article | scrapy.Request]:
        self.crawler.stats.inc_value("newscrawl/article/pages")
        requested = response.meta[ARTICLE_ID]
        served = self.site.article_id(response.url)
        if served is None:  # redirected to a page that is not an article (a removed article sent to a column)
            first = response.meta.get("redirect_urls", [response.url])[0]
            self.crawler.stats.inc_value("newscrawl/dropped/redirected_to_non_article")
            self.logger.warning(
                "Dropped %s: redirected to %s, which is not an article page; settled as gone", first, response.url
            )
            if self.incremental is not None:
                self.incremental.gone(requested, first, depth, "redirected_to_non_article")
            return
        if served != requested and self.incremental is not None:  # the article moved: the old id is settled
            self.crawler.stats.inc_value("newscrawl/article/redirected_to_another")
            self.incremental.settled([requested])
        url = response.url
        page = Page(
            self.site.name,
            url,
            response.body,
            content_type(response),
            to_utc_iso(datetime.now(UTC)),
            listed or Listed(),
            source,
        )
        try:
            article = (
                await self.parse_process.article(page)
                if self.parse_process is not None
                else site_article(self.site, page)
            )
        except Unusable as unusable:
            self.crawler.stats.inc_value(f"newscrawl/dropped/{unusable.reason}")
            self.logger.warning("Dropped %s", unusable)
            if self.incremental is not None:  # the page will not improve by fetching it again soon
                self.incremental.gone(requested, response.meta.get("redirect_urls", [url])[0], depth, unusable.reason)
            return
        self.crawler.stats.inc_value(f"newscrawl/layout/{article.layout or 'none'}")
        for name, source in article.fallbacks.items():  # the layout-break alarm names these (newscrawl.run.monitors)
            if name == LISTING:  # not a field: counted per listing page (newscrawl/listing/source/<name>)
                continue
            self.crawler.stats.inc_value(f"newscrawl/fallback/{name}")
            self.crawler.stats.inc_value(f"newscrawl/fallback/{name}/{source}")
        yield article
        if depth < self.follow_tags:
            for walk in named_tags(article, self.site):
                if request := self._tag_request(walk, depth + 1):
                    yield request

    def _tag_request(self, walk: str, depth: int) -> scrapy.Request | None:
        """The first page of a tag an article names (follow_tags)."""
        return self._listing_request(ListingPage(walk, walk, 1, depth))

    @property
    def walked(self) -> list[str]:
        """The tags (their walks' first-page URLs) this run requested listing pages of."""
        return list(self._walk_pages)
