"""What the log says of items and of Scrapy's start.

Items by reason and URL, not by dumping the whole item (bodies are long): a drop once at WARNING, a
scraped article at DEBUG. Scrapy's lists of enabled components and overridden settings at start
(some 70 lines), and its warnings that a newscrawl component is off, are shown at DEBUG only
(`quiet_start`). A download that failed on the network (DNS, a refused or lost connection, a timeout,
a body over the size cap) is one line naming the error, not a traceback: it is the web, not a bug.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import exceptions, logformatter
from twisted.internet import error as twisted_errors
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from newscrawl.drops import ExportFailed, Unchanged

STARTUP_LISTS = {
    "scrapy.addons": "Enabled addons:",
    "scrapy.middleware": "Enabled ",
    "scrapy.crawler": "Overridden settings:",
}


class _StartupListsAtDebug(logging.Filter):
    """Drops one logger's INFO records that start with `prefix` (Scrapy's start-up lists)."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.INFO and str(record.msg).startswith(self.prefix))


class _OwnComponentsOffAtDebug(logging.Filter):
    """Scrapy warns "Disabled X: why" for every component that declines to run. A newscrawl component
    that is off is a mode (a one-off run keeps no journal; no second CPU, no parse process), not a
    problem: its line is logged at DEBUG instead. Other components' lines are left as they are."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, dict) else {}
        if (
            record.levelno == logging.WARNING
            and str(record.msg).startswith("Disabled ")
            and str(args.get("clspath", "")).startswith("newscrawl.")
        ):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    exceptions.DownloadConnectionRefusedError,
    exceptions.CannotResolveHostError,
    exceptions.DownloadTimeoutError,
    exceptions.DownloadCancelledError,
    exceptions.DownloadFailedError,
    exceptions.ResponseDataLossError,
    twisted_errors.ConnectError,
    twisted_errors.ConnectionLost,
    twisted_errors.TimeoutError,
    ResponseFailed,
    ResponseNeverReceived,
    TimeoutError,
    ConnectionError,
)


class _NetworkErrorsInOneLine(logging.Filter):
    """Scrapy's "Error downloading <request>" with a network error's traceback becomes one line naming
    the error; any other exception keeps its traceback (it may be a bug)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and isinstance(error, NETWORK_ERRORS) and str(record.msg).startswith("Error downloading"):
            detail = " ".join(str(error).split())[:300] or type(error).__name__
            record.msg = f"{record.msg}: {type(error).__name__}: {detail.replace('%', '%%')}"
            record.exc_info = record.exc_text = None
        return True


def quiet_start(log_level: str | int) -> None:
    """What Scrapy logs while a crawler starts, made to fit a log read at INFO (once per process):
    newscrawl's components that are off at DEBUG; below DEBUG, no start-up lists."""
    middleware = logging.getLogger("scrapy.middleware")
    if not any(isinstance(existing, _OwnComponentsOffAtDebug) for existing in middleware.filters):
        middleware.addFilter(_OwnComponentsOffAtDebug())
    for name in ("scrapy.core.scraper", "scrapy.downloadermiddlewares.robotstxt"):  # both log "Error downloading"
        target = logging.getLogger(name)
        if not any(isinstance(existing, _NetworkErrorsInOneLine) for existing in target.filters):
            target.addFilter(_NetworkErrorsInOneLine())
    level = logging.getLevelName(log_level.upper()) if isinstance(log_level, str) else log_level
    if not isinstance(level, int) or level <= logging.DEBUG:
        return
    for name, prefix in STARTUP_LISTS.items():
        target = logging.getLogger(name)
        if not any(isinstance(existing, _StartupListsAtDebug) for existing in target.filters):
            target.addFilter(_StartupListsAtDebug(prefix))


class NewscrawlLogFormatter(logformatter.LogFormatter):
    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any = None) -> Any:
        """A refresh that found nothing new is not a warning; an export that failed is an error."""
        level = {Unchanged: logging.DEBUG, ExportFailed: logging.ERROR}.get(type(exception), logging.WARNING)
        return {"level": level, "msg": "Dropped %(exception)s", "args": {"exception": exception}}

    def scraped(self, item: Any, response: Any, spider: Any = None) -> Any:
        return {
            "level": logging.DEBUG,
            "msg": "Scraped %(id)s from <%(url)s>",
            "args": {"id": getattr(item, "id", "?"), "url": getattr(response, "url", "?")},
        }
