"""Article pages made into Articles in a child process, so the crawl's reactor thread only crawls.

A crawl is bound by its one reactor thread, and making an Article (`extract.page_article`: decode,
lxml, selectors, nh3, normalisers) is the largest share of that thread's work (docs/performance.md
has the figures). With NEWSCRAWL_PARSE_PROCESS on, that runs in `python -m newscrawl.extract.child`, on another core:
pages go to the child's stdin and Articles come back on its stdout, both driven by the asyncio loop
Scrapy runs on. No helper thread takes the GIL from the reactor, which is what made a
ProcessPoolExecutor slower than parsing inline.

`ParseProcess` is a Scrapy extension (EXTENSIONS): built with the crawler when the setting is on and
the asyncio reactor runs, started when the spider asks for its first article page (so that its imports
overlap that download, and a run with nothing new starts no child) and ended on spider_closed; the
spider reaches it through `crawler.get_extension(ParseProcess)` and calls `article(page)`.

The child (a `newscrawl.helper.Helper`) handles one page at a time, so results come back in the order
pages went in. If the child dies, every page waiting on it and every later one raise
`ParseProcessGone`; `article()` then parses them inline, counted under `newscrawl/parse_process/gone`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import is_asyncio_available

from newscrawl.extract.page import Page, page_article
from newscrawl.helper import Helper, HelperGone
from newscrawl.items import Article, Unusable

logger = logging.getLogger(__name__)


class ParseProcessGone(HelperGone):
    """The child process ended (killed, crashed): the page must be parsed inline."""


class ParseProcess:
    """`page_article` in a child process, awaited from the asyncio loop. Started by `start()` or on
    first use."""

    def __init__(self, crawler: Crawler | None = None) -> None:
        self.crawler = crawler
        self._child = Helper("newscrawl.extract.child", "the parse process", ParseProcessGone, self._started)
        # Work a later stage asks the child to do on each Article too (`also`: the child's
        # arguments), and its results until that stage takes them (`take`): the child's spare core, not
        # the reactor's.
        self._results: dict[tuple[str, str], Any] = {}

    def also(self, function: str, argument: str | None = None) -> None:
        """Have the child apply `function` ("module:name", called with each Article it makes, and
        `argument` after it when given) for `take`. Asked before the child starts (a pipeline's
        from_crawler)."""
        spec = function if argument is None else f"{function}={argument}"
        if not self._child.started and spec not in self._child.args:
            self._child.args.append(spec)

    def take(self, url: str, function: str, default: Any = None) -> Any:
        """What `function` gave for the article at `url` in the child, once; `default` if it was not
        worked out there."""
        return self._results.pop((url, function), default)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ParseProcess:
        if not crawler.settings.getbool("NEWSCRAWL_PARSE_PROCESS"):
            raise NotConfigured("NEWSCRAWL_PARSE_PROCESS is off")
        if not is_asyncio_available():
            raise NotConfigured("the parse process is driven by the asyncio loop, and the reactor is not asyncio's")
        process = cls(crawler)
        crawler.signals.connect(process.close, signal=signals.spider_closed)
        return process

    async def article(self, page: Page) -> Article:
        """`page_article(page)`, in the child while it runs, else inline (counted, the first time logged)."""
        try:
            return await self.page_article(page)
        except ParseProcessGone as gone:
            stats = self.crawler.stats if self.crawler is not None and self.crawler.stats is not None else None
            if stats is not None:
                if not stats.get_value("newscrawl/parse_process/gone"):
                    logger.error("%s: parsing article pages in the crawl process from now on", gone)
                stats.inc_value("newscrawl/parse_process/gone")  # pages parsed inline since
            return page_article(page)

    async def page_article(self, page: Page) -> Article:
        """What `extract.page_article` returns or raises (Unusable) for the page, worked out in the child."""
        kind, *payload = await self._child.ask(tuple(page))
        if kind == "article":
            article, extras = payload
            for function, value in extras.items():
                self._results[(article.url, function)] = value
            return article
        if kind == "unusable":
            raise Unusable(*payload)
        raise RuntimeError(f"parsing {page.url} failed in the parse process:\n{payload[0]}")

    def start(self) -> asyncio.Future[asyncio.subprocess.Process]:
        """Start the child if it is not running yet (importing what it needs takes a while: start it
        while the first article page downloads)."""
        return self._child.start()

    async def close(self) -> None:
        """End the child (it exits when its stdin closes) and wait for it."""
        await self._child.close()

    def _started(self) -> None:
        if self.crawler is not None and self.crawler.stats is not None:
            self.crawler.stats.set_value("newscrawl/parse_process/started", 1)
