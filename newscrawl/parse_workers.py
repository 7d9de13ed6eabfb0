"""Article pages parsed in worker processes, so a crawl uses a second core.

Why: Scrapy runs a crawl on one thread, and on a fast connection that thread is the limit. Decoding,
parsing and normalising an article page (newscrawl.extract.page_article) is ≈2 ms of it per article
— the largest share that is not Scrapy's own. Handed to a worker process, it runs beside the
reactor instead of in its way; the reactor only pickles the page's bytes and unpickles the Article.

NEWSCRAWL_PARSE_PROCESSES sets how many workers (default: 1 on a machine with 2 or more CPUs, else
0); 0 parses on the reactor thread, the same function either way. Workers start with the first
article page (a rerun that finds nothing new starts none), are started fresh ("spawn": nothing of
the reactor's threads and sockets is inherited), and exit when the crawl does — also when it is
killed with SIGKILL, which they notice within WATCH_PARENT_SECONDS.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from newscrawl.extract import page_article
from newscrawl.faults import crash_point
from newscrawl.items import Article

logger = logging.getLogger(__name__)

WATCH_PARENT_SECONDS = 0.5


def default_processes() -> int:
    return 1 if (os.cpu_count() or 1) > 1 else 0


class WorkerDied(RuntimeError):
    """A parse worker process died (killed, out of memory) while it had the page."""


class ParseWorkers:
    """`await article(...)` runs page_article in a worker process (or inline with processes=0)."""

    def __init__(self, processes: int) -> None:
        if processes < 0:
            raise ValueError(f"NEWSCRAWL_PARSE_PROCESSES must be 0 or more, not {processes}")
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    async def article(self, site_name: str, body: bytes, url: str, content_type: str | None, fetched_at: str) -> Article:
        """The page's Article; raises Unusable like page_article, or WorkerDied."""
        if not self.processes:
            return page_article(site_name, body, url, content_type, fetched_at)
        pool = self._pool or self._start()
        try:
            return await asyncio.get_running_loop().run_in_executor(
                pool, _page_article_in_worker, site_name, body, url, content_type, fetched_at)
        except BrokenProcessPool as error:
            if self._pool is pool:  # the first page to hear of it replaces the pool for all
                pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
                logger.error("A parse worker died; starting a new one")
            raise WorkerDied(f"a parse worker died while parsing {url}") from error

    def _start(self) -> ProcessPoolExecutor:
        self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_exit_with_parent, initargs=(os.getpid(),))
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _page_article_in_worker(site_name: str, body: bytes, url: str, content_type: str | None, fetched_at: str) -> Article:
    crash_point("parse-worker")  # the kill tests' way to make a worker die with a page in hand
    return page_article(site_name, body, url, content_type, fetched_at)


def _exit_with_parent(parent: int) -> None:
    """In each worker: exit when the crawl process is gone (a SIGKILLed crawl cannot tell its workers)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_PARENT_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()
