"""`scrapy doctor SITE [-a tag=…] [-a url=…]`: a live check of one site module against the site.

Fetches page 1 of each tag and its first few articles (and the articles asked for by URL), through
the same download handler, robots.txt, retries and site module as a crawl, and prints, per listing,
how many article links the site's selectors found (or the listing fallback) and whether a next page
was found; per article and field, whether the site's selector, a fallback (and which), or nothing
found it. Nothing is written: no journal, no state, no posts.

Exit codes, as `scrapy crawl`'s: 0 every listing and every required field (title, published,
body_html) came from the site's selectors; 1 could not start; 2 nothing could be fetched; 3 a listing
or a required field came only from a fallback or not at all (the site module needs work).
`--offline` checks the bundled site (fixtures/) on a 127.0.0.1 server it starts itself.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.http import Response
from scrapy.utils.misc import arg_to_iter
from twisted.python.failure import Failure

from newscrawl.commands.crawl import refuse_usage
from newscrawl.exit_codes import ALARM, ATTENTION_NEEDED, CANNOT_START, DONE, CannotStart
from newscrawl.extract.page import Page, page_article
from newscrawl.items import Article, Unusable
from newscrawl.normalize.dates import to_utc_iso
from newscrawl.normalize.encoding import decode_html
from newscrawl.sites import Site, all_sites
from newscrawl.spiders.base import NewscrawlSpider, content_type, failed_request

logger = logging.getLogger(__name__)
REQUIRED = ("title", "published", "body_html")
REPORTED = ("title", "published", "author", "editor", "source", "tags", "images", "body_html")
ARTICLES_PER_TAG = 3


@dataclass
class Findings:
    """What the check saw: one line per listing page, a field table per article."""

    listings: list[tuple[str, str, bool]] = field(default_factory=list)  # (url, what was found, healthy)
    articles: list[tuple[str, dict[str, tuple[str, str]] | str]] = field(default_factory=list)  # url → fields or a drop
    fetched: int = 0


class DoctorSpider(NewscrawlSpider):
    """Page 1 of each tag, its first articles, and the articles asked for by URL; reports, never exports."""

    custom_settings = {
        "ITEM_PIPELINES": {},
        "SPIDERMON_ENABLED": False,
        "NEWSCRAWL_JSONL": "",
        "NEWSCRAWL_STATE": "",
        "NEWSCRAWL_POSTS_DIR": "",
        "NEWSCRAWL_SUMMARY_FILE": "",
        "NEWSCRAWL_RUNS_FILE": "",
        "NEWSCRAWL_FEEDS_DIR": "",
        "NEWSCRAWL_REDIS_URL": None,
        "NEWSCRAWL_PARSE_PROCESS": False,
        "EXTENSIONS": {"newscrawl.run.summary.RunSummary": None},
    }

    def __init__(
        self,
        findings: Findings,
        tag: str | None = None,
        url: str | None = None,
        articles: int = ARTICLES_PER_TAG,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.findings = findings
        self.articles_per_tag = articles
        try:
            self.tags = [self.site.listing_url(value.strip()) for value in (tag or "").split(",") if value.strip()]
        except ValueError as error:
            raise CannotStart(f"-a tag=: {error}") from None
        self.urls = [value.strip() for value in (url or "").split(",") if value.strip()]
        for article_url in self.urls:
            if self.site.article_id(article_url) is None:
                raise CannotStart(f"-a url=: not a {self.site.display_name} article URL: {article_url}")
        if not self.tags and not self.urls:
            raise CannotStart(
                f"nothing to check: pass -a tag=SLUG and/or -a url=ARTICLE_URL (e.g. scrapy doctor "
                f"{self.site.name} -a tag=…)"
            )
        self.allowed_domains = list(self.site.hosts)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for listing_url in self.tags:
            yield self._listing(listing_url)
            tried = listing_url  # then every other source of the same list: which of them work
            while (other := self.site.fallback_listing(listing_url, tried)) is not None:
                yield self._listing(other)
                tried = other
        for article_url in self.urls:
            yield self._article(article_url)

    def _listing(self, url: str) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.check_listing,
            errback=self.failed,
            dont_filter=True,
            headers=self.site.listing_headers(url),
        )

    def _article(self, url: str) -> scrapy.Request:
        return scrapy.Request(self.site.canonical_url(url), callback=self.check_article, errback=self.failed)

    def check_listing(self, response: Response) -> Any:
        self.findings.fetched += 1
        decoded = decode_html(
            response.body,
            content_type(response),
            self.site.fallback_encoding,
        )
        try:
            found = self.site.read_listing(decoded.text, response.url)
        except Unusable as unusable:
            self.findings.listings.append((response.url, f"unusable: {unusable}", False))
            return
        if found.fallback:
            what, healthy = (
                f"no article link by the site's selectors; {len(found.article_urls)} by the listing fallback",
                False,
            )
        elif found.article_urls:
            what, healthy = f"{len(found.article_urls)} article link(s) by the site's selectors", True
        elif found.end:
            what, healthy = "the listing's end (no articles, as expected past the last page)", True
        elif found.continued:
            what, healthy = "no items of its own: they come from the list it declares (checked next)", True
        else:
            what, healthy = "no article links at all", False
        if (source := self.site.source_of(response.url)) is not None:
            what = f"source {source.name}: {what}"
        what += f"; next page: {found.next_url or 'none found'}"
        if decoded.lossy:
            what += "; undecodable bytes"
        self.findings.listings.append((response.url, what, healthy))
        if found.continued and found.next_url:
            yield self._listing(found.next_url)
        for article_url in found.article_urls[: self.articles_per_tag]:
            yield self._article(article_url)

    def check_article(self, response: Response) -> None:
        self.findings.fetched += 1
        url = response.url if self.site.article_id(response.url) or response.request is None else response.request.url
        page = Page(
            self.site.name,
            url,
            response.body,
            content_type(response),
            to_utc_iso(datetime.now(UTC)),
        )
        try:
            article = page_article(page)
        except Unusable as unusable:
            self.findings.articles.append((url, f"dropped: {unusable}"))
            return
        self.findings.articles.append((url, field_report(article)))

    def failed(self, failure: Failure) -> None:
        request = failed_request(failure)
        what = f"not fetched: {failure.getErrorMessage()}"
        if request.callback == self.check_listing:
            self.findings.listings.append((request.url, what, False))
        else:
            self.findings.articles.append((request.url, what))


def field_report(article: Article) -> dict[str, tuple[str, str]]:
    """Per reported field: (who found it, a short view of the value)."""
    report = {}
    for name in REPORTED:
        value = getattr(article, name)
        if name in article.fallbacks:
            who = f"fallback ({article.fallbacks[name]})"
        elif value in (None, "", []):
            who = "nothing"
        else:
            who = "site"
        if isinstance(value, list):
            shown = f"{len(value)}"
        elif name == "body_html":
            shown = f"{len(value):,} characters"
        else:
            shown = str(value or "")[:60]
        report[name] = (who, shown)
    report["layout"] = ("site", article.layout or "")
    return report


def verdict(findings: Findings) -> tuple[int, list[str]]:
    """The exit code and the problems that decide it."""
    if not findings.fetched:
        return ATTENTION_NEEDED, ["nothing could be fetched (site down, blocked, DNS?)"]
    problems = [f"listing {url}: {what}" for url, what, healthy in findings.listings if not healthy]
    for url, fields in findings.articles:
        if isinstance(fields, str):
            problems.append(f"article {url}: {fields}")
        else:
            weak = [f"{name} {fields[name][0]}" for name in REQUIRED if fields[name][0] != "site"]
            if weak:
                problems.append(f"article {url}: " + ", ".join(weak))
    return (ALARM if problems else DONE), problems


def print_report(site: Site, findings: Findings, out: Any, offline: bool = False) -> None:
    what = "offline check of the bundled site" if offline else "live check"
    print(f"{site.display_name} ({site.name}): {what}, {to_utc_iso(datetime.now(UTC))}", file=out)
    for url, what, healthy in findings.listings:
        print(f"{'ok  ' if healthy else 'FIX '} listing {url}\n       {what}", file=out)
    for url, fields in findings.articles:
        if isinstance(fields, str):
            print(f"FIX  article {url}\n       {fields}", file=out)
            continue
        healthy = all(fields[name][0] == "site" for name in REQUIRED)
        print(f"{'ok  ' if healthy else 'FIX '} article {url}", file=out)
        print(f"       {'layout':<10} {fields.pop('layout')[1] or 'none of the known layouts'}", file=out)
        for name, (who, shown) in fields.items():
            print(f"       {name:<10} {who:<28} {shown}", file=out)


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_LEVEL": "ERROR"}  # the report is the output; -L INFO shows the crawl

    def syntax(self) -> str:
        return "SITE [-a tag=SLUG[,…]] [-a url=ARTICLE_URL[,…]] [-a articles=N] [--offline]"

    def short_desc(self) -> str:
        return "Check a site module against the site: which fields its selectors still find"

    def long_desc(self) -> str:
        return __doc__.split("\n\n", 1)[1].replace("\n", " ")

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.error = refuse_usage("doctor")  # type: ignore[method-assign]
        parser.add_argument(
            "-a",
            dest="spargs",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="tag=… and/or url=… as for scrapy crawl; articles=N per tag (default 3)",
        )
        parser.add_argument(
            "--offline",
            action="store_true",
            help="check the bundled site (fixtures/) on a 127.0.0.1 server started for the check",
        )

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        try:
            opts.spargs = dict(arg.split("=", 1) for arg in arg_to_iter(opts.spargs))
        except ValueError:
            raise UsageError("-a takes NAME=VALUE", print_help=False) from None

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one site")
        sites = all_sites()
        if args[0] not in sites:
            logger.error("Cannot start: no site %r (known: %s)", args[0], ", ".join(sites))
            self.exitcode = CANNOT_START
            return
        unknown = set(opts.spargs) - {"tag", "url", "articles"}
        if unknown:
            logger.error("Cannot start: unknown argument(s) %s; known: tag, url, articles", ", ".join(sorted(unknown)))
            self.exitcode = CANNOT_START
            return
        site = sites[args[0]]
        server = _start_bundled_site() if opts.offline else None
        try:
            if server is not None:  # its own server on 127.0.0.1: no politeness owed
                assert self.settings is not None
                self.settings.set("NEWSCRAWL_OFFLINE_ROOT", server[1], priority="cmdline")
                self.settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
                self.settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")
            self.exitcode = self._check(site, opts.spargs, offline=server is not None)
        finally:
            if server is not None:
                server[0].terminate()
                server[0].wait(timeout=10)

    def _check(self, site: Site, spargs: dict[str, str], offline: bool = False) -> int:
        assert self.crawler_process is not None
        findings = Findings()
        spider = type(f"{type(site).__name__}Doctor", (DoctorSpider,), {"name": f"doctor-{site.name}", "site": site})
        articles = spargs.pop("articles", str(ARTICLES_PER_TAG))
        if not articles.isdigit():
            logger.error("Cannot start: -a articles= must be a whole number ≥ 0, not %r", articles)
            return CANNOT_START
        crawler = self.crawler_process.create_crawler(spider)
        errors: list[BaseException] = []
        running = self.crawler_process.crawl(crawler, findings=findings, articles=int(articles), **spargs)
        _on_error(running, errors.append)
        self.crawler_process.start()
        if errors or self.crawler_process.bootstrap_failed:
            for error in errors:
                logger.error("Cannot start: %s", error)
            return CANNOT_START
        print_report(site, findings, sys.stdout, offline)
        code, problems = verdict(findings)
        print("verdict: " + ("healthy" if code == DONE else f"exit {code}: " + "; ".join(problems)))
        return code


def _on_error(running: Any, record: Any) -> None:
    """Record the error a crawl's start raised (a Deferred or an asyncio future, by Scrapy's reactor)."""
    if hasattr(running, "addErrback"):
        running.addErrback(lambda failure: record(failure.value))
    else:
        running.add_done_callback(
            lambda task: record(task.exception()) if not task.cancelled() and task.exception() else None
        )


def _start_bundled_site() -> tuple[subprocess.Popen[str], str]:
    """`python -m newscrawl.dev.server` on a free 127.0.0.1 port; (process, its URL)."""
    process = subprocess.Popen([sys.executable, "-m", "newscrawl.dev.server"], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline() if process.stdout else ""
    if not line.startswith("serving "):
        process.kill()
        raise UsageError(f"the bundled-site server did not start: {line!r}", print_help=False)
    return process, line.split()[1]
