"""`scrapy crawl`, as Scrapy's own, with exit codes a scheduler can act on (newscrawl.exit_codes).

0 done, 1 could not start (one line naming the problem, no traceback), 2 a person must look,
3 the layout-break alarm. The reasons are in the log and in the run summary file.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable
from typing import Any, NoReturn

from scrapy.commands import ScrapyHelpFormatter
from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError
from scrapy.utils.asyncio import call_later
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from newscrawl.addon import check_settings
from newscrawl.exit_codes import ATTENTION_NEEDED, ATTENTION_REASONS, CANNOT_START, EXIT_CODES, CannotStart, exit_code
from newscrawl.run.processes import Launcher, Refused, several, spider_settings
from newscrawl.run.summary import record_unfinished
from newscrawl.sites import all_sites
from newscrawl.spiders.base import ARGUMENTS, EXAMPLES
from newscrawl.state.base import StateUnusable
from newscrawl.state.component import journals_read

logger = logging.getLogger(__name__)


class StartErrors:
    """Watches crawls being started: a CannotStart is logged as its one line (no traceback), anything
    else whole; `failed` says whether any crawl could not start."""

    def __init__(self) -> None:
        self.failed = False
        self.message = "the crawl failed to start (see the log)"

    def watch(self, running: Awaitable[Any]) -> None:
        """`running`: what `CrawlerProcess.crawl` returned (a Deferred, or a Future with asyncio's process)."""
        if isinstance(running, Deferred):
            running.addErrback(self._start_failed)
        else:
            asyncio.ensure_future(running).add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            self._note(error)
            if not isinstance(error, CannotStart):  # retrieving it silenced asyncio's report: a bug, shown whole
                logger.error("The crawl failed to start", exc_info=error)

    def _start_failed(self, failure: Failure) -> Failure | None:
        self._note(failure.value)
        return None if failure.check(CannotStart) else failure

    def _note(self, error: BaseException | None) -> None:
        self.failed = True
        if isinstance(error, CannotStart):
            self.message = str(error)
            logger.error("Cannot start: %s", error)


class _KeepLayout(argparse.RawDescriptionHelpFormatter, ScrapyHelpFormatter):
    """Scrapy's help layout, with the description's lines kept as written (tables of arguments and codes)."""


def refuse_usage(command: str) -> Any:
    """An `ArgumentParser.error` for a command line that cannot run: one line, exit 1 (could not start),
    where argparse and Scrapy's UsageError would print the usage and exit 2 ("a person must look")."""

    def error(message: str) -> NoReturn:
        print(f"Cannot start: {message} (scrapy {command} --help)", file=sys.stderr)
        sys.exit(CANNOT_START)

    return error


class Command(ScrapyCrawlCommand):
    default_settings = {"LOG_LEVEL": "INFO"}  # a start line, progress, the summary; -L DEBUG for everything

    def short_desc(self) -> str:
        return "Crawl a site's tags or articles (incremental, or -O for a one-off); exit codes for schedulers"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.formatter_class = _KeepLayout
        parser.error = refuse_usage("crawl")  # type: ignore[method-assign]

    def long_desc(self) -> str:
        sites = ", ".join(f"{name} ({site.display_name})" for name, site in all_sites().items())
        width = max(map(len, ARGUMENTS))
        return "\n".join(
            [
                "Crawl a site's tag pages (and/or single articles) into the journal, posts and feeds of a scheduled",
                "job (incremental: new articles and changes only), or with -O/-o into one file (a one-off export).",
                "",
                f"Sites: {sites}; any other: generic, with -a url=LISTING_PAGE_URL (docs/generic.md)",
                "",
                "Spider arguments (-a NAME=VALUE):",
                *(f"  {name:<{width}}  {meaning}" for name, meaning in ARGUMENTS.items()),
                "",
                "Examples:",
                *(f"  {example}" for example in EXAMPLES),
                "",
                "Exit codes:",
                *(f"  {code}  {meaning}" for code, meaning in EXIT_CODES.items()),
            ]
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not args:
            raise UsageError("give a spider name: " + ", ".join(sorted([*all_sites(), "generic"])))
        if len(args) > 1:
            raise UsageError(f"unrecognised argument(s): {' '.join(args[1:])}")
        assert self.crawler_process is not None and self.settings is not None
        launcher = None
        if several(self.settings):
            launcher = self._launcher(args[0])
            if launcher is None:
                return
        try:
            crawler = self.crawler_process.create_crawler(args[0])
        except KeyError:
            known = ", ".join(sorted(self.crawler_process.spider_loader.list()))
            logger.error("Cannot start: no spider %r (known: %s)", args[0], known)
            self.exitcode = CANNOT_START
            return
        if launcher is not None:
            crawler.signals.connect(launcher.journals_read, signal=journals_read)
            # Scrapy sets its interrupt handlers as the reactor starts; a delayed call runs after.
            call_later(0, launcher.pass_interrupts_on)
        errors = StartErrors()
        errors.watch(self.crawler_process.crawl(crawler, **opts.spargs))
        self.crawler_process.start()
        if errors.failed or self.crawler_process.bootstrap_failed:
            self.exitcode = CANNOT_START
            record_unfinished(crawler.settings, crawler.spidercls.name, "cannot_start", errors.message)
        elif crawler.stats.get_value("finish_reason") is None:  # a second interrupt: the spider never closed
            self.exitcode = ATTENTION_NEEDED
            logger.error("Needs attention (exit 2): forced_shutdown — %s", ATTENTION_REASONS["forced_shutdown"])
            record_unfinished(
                crawler.settings,
                crawler.spidercls.name,
                "forced_shutdown",
                "stopped by a second interrupt",
                dict(crawler.stats.get_stats()),
            )
        else:
            self.exitcode = exit_code(crawler.stats.get_stats())
        if launcher is not None:
            self.exitcode = launcher.finish(self.exitcode)

    def _launcher(self, spider_name: str) -> Launcher | None:
        """A crawl by several processes over one state (newscrawl.run.processes): the other processes
        started, this one's settings set; None when it cannot start (said, exit 1)."""
        assert self.crawler_process is not None and self.settings is not None
        try:
            spidercls = self.crawler_process.spider_loader.load(spider_name)
            settings = spider_settings(self.settings, spidercls)
            check_settings(settings)  # the add-on's checks, before any other process starts
            launcher = Launcher(settings, spider_name, settings.getint("NEWSCRAWL_PROCESSES"))
            self.settings.setdict(launcher.start_others(), priority="cmdline")
        except CannotStart as error:
            self._refuse(spider_name, str(error))
        except KeyError:
            known = ", ".join(sorted(self.crawler_process.spider_loader.list()))
            self._refuse(spider_name, f"no spider {spider_name!r} (known: {known})")
        except (Refused, StateUnusable) as error:
            self._refuse(spider_name, str(error))
        else:
            return launcher
        return None

    def _refuse(self, spider_name: str, message: str) -> None:
        assert self.settings is not None
        logger.error("Cannot start: %s", message)
        self.exitcode = CANNOT_START
        record_unfinished(self.settings, spider_name, "cannot_start", message)
