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

The child handles one page at a time, so results come back in the order pages went in; messages are
`newscrawl.children`'s frames. If the child dies, every page waiting on it and every later one raise
`ParseProcessGone`; `article()` then parses them inline, counted under `newscrawl/parse_process/gone`.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import sys
from collections import deque
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import is_asyncio_available

from newscrawl.children import HEADER, child_environment, frame
from newscrawl.extract.page import Page, page_article
from newscrawl.items import Article, Unusable

logger = logging.getLogger(__name__)


class ParseProcessGone(RuntimeError):
    """The child process ended (killed, crashed): the page must be parsed inline."""


class ParseProcess:
    """`page_article` in a child process, awaited from the asyncio loop. Started by `start()` or on
    first use."""

    def __init__(self, crawler: Crawler | None = None) -> None:
        self.crawler = crawler
        self._spawning: asyncio.Task[asyncio.subprocess.Process] | None = None
        self._waiting: deque[asyncio.Future[tuple[Any, ...]]] = deque()
        self._gone = False
        # Work a later stage asks the child to do on each Article's body too (`also`), and its results
        # until that stage takes them (`take`): the child's spare core, not the reactor's.
        self._also: list[str] = []
        self._results: dict[tuple[str, str], Any] = {}

    def also(self, function: str) -> None:
        """Have the child apply `function` ("module:name", called with an Article's body HTML) to every
        article it makes, for `take`. Asked before the child starts (a pipeline's from_crawler)."""
        if self._spawning is None and function not in self._also:
            self._also.append(function)

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
        if self._gone:
            raise ParseProcessGone("the parse process has ended")
        process = await self.start()
        if self._gone or process.stdin is None:
            raise ParseProcessGone("the parse process has ended")
        message = frame(tuple(page))
        result: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()
        self._waiting.append(result)  # with the write, no await between: `_waiting` is in page order
        process.stdin.write(message)
        try:
            await process.stdin.drain()  # waits while the child is behind: back-pressure on the crawl
        except (BrokenPipeError, ConnectionResetError):
            pass  # the reader sees the end and fails `result`
        kind, *payload = await result
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
        if self._spawning is None:
            self._spawning = asyncio.ensure_future(self._spawn())
        return self._spawning

    async def close(self) -> None:
        """End the child (it exits when its stdin closes) and wait for it."""
        if self._spawning is None or (self._spawning.done() and self._spawning.exception()):
            return
        process = await self._spawning
        if process.stdin is not None:
            process.stdin.close()
        await process.wait()

    async def _spawn(self) -> asyncio.subprocess.Process:
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "newscrawl.extract.child",
                *self._also,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=child_environment(),
            )
        except OSError as error:  # no fork, no executable: parse inline
            self._gone = True
            raise ParseProcessGone(f"the parse process could not start ({error})") from error
        if self.crawler is not None and self.crawler.stats is not None:
            self.crawler.stats.set_value("newscrawl/parse_process/started", 1)
        asyncio.ensure_future(self._read_results(process))
        return process

    async def _read_results(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        try:
            while True:
                (size,) = HEADER.unpack(await process.stdout.readexactly(HEADER.size))
                result = pickle.loads(await process.stdout.readexactly(size))
                self._waiting.popleft().set_result(result)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._gone = True
            while self._waiting:
                self._waiting.popleft().set_exception(
                    ParseProcessGone(f"the parse process ended (exit status {process.returncode})")
                )
