"""`scrapy crawl`, as Scrapy's own, with exit codes a scheduler can act on (newscrawl.outcome).

0 done, 1 could not start (one line naming the problem, no traceback), 2 a person must look,
3 the layout-break alarm. The reasons are in the log and in the run summary file.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from newscrawl.outcome import CANNOT_START, CannotStart, exit_code
from newscrawl.spiders.base import ARGUMENTS

logger = logging.getLogger(__name__)


class StartErrors:
    """Watches crawls being started: a CannotStart is logged as its one line (no traceback), anything
    else whole; `failed` says whether any crawl could not start."""

    def __init__(self) -> None:
        self.failed = False

    def watch(self, running: Deferred[Any] | asyncio.Future[Any]) -> None:
        if isinstance(running, Deferred):
            running.addErrback(self._start_failed)
        else:
            running.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            self._note(error)
            if not isinstance(error, CannotStart):  # retrieving it silenced asyncio's report: a bug, shown whole
                logger.error("The crawl failed to start", exc_info=error)

    def _start_failed(self, failure: Failure) -> Failure | None:
        self._note(failure.value)
        return None if failure.check(CannotStart) else failure

    def _note(self, error: BaseException) -> None:
        self.failed = True
        if isinstance(error, CannotStart):
            logger.error("Cannot start: %s", error)


class Command(ScrapyCrawlCommand):
    def long_desc(self) -> str:
        arguments = "; ".join(f"{name}: {meaning}" for name, meaning in ARGUMENTS.items())
        return (f"Run a newscrawl spider. Spider arguments (-a NAME=VALUE): {arguments}. Exit codes: 0 done, "
                "1 could not start, 2 ran but a person must look (nothing fetched, a tag's first page gone, "
                "a write failed), 3 layout-break alarm.")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name")
        assert self.crawler_process is not None
        try:
            crawler = self.crawler_process.create_crawler(args[0])
        except KeyError:
            known = ", ".join(sorted(self.crawler_process.spider_loader.list()))
            logger.error("Cannot start: no spider %r (known: %s)", args[0], known)
            self.exitcode = CANNOT_START
            return
        errors = StartErrors()
        errors.watch(self.crawler_process.crawl(crawler, **opts.spargs))
        self.crawler_process.start()
        if errors.failed or self.crawler_process.bootstrap_failed:
            self.exitcode = CANNOT_START
        else:
            self.exitcode = exit_code(crawler.stats.get_stats())
