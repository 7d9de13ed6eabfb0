"""Politeness by the site's own rules: robots.txt's Crawl-delay and Request-rate, and Retry-After.

A downloader middleware. When a host's robots.txt is parsed (Scrapy's `robots_parsed` signal) its
`Crawl-delay` (or `Request-rate`, as seconds per request) becomes that host's floor: its download
slot waits at least that long between requests, without jitter, and stays there when AutoThrottle
would go faster (AutoThrottle may still go slower). A 429 or 503 carrying `Retry-After` raises the
floor to that wait until the host answers again, when the wait is at most NEWSCRAWL_RETRY_AFTER_MAX;
a longer wait is not waited for: the request is not retried, and the host's other requests this run
are held back (`BackedOff`): they stay pending, and the next run fetches them. A process of a crawl by
K (newscrawl.shares) waits K times each floor: the host sees the pace it asked for from all of them.
"""

from __future__ import annotations

import logging
import time
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.httpobj import urlparse_cached

from newscrawl.shares import Share

logger = logging.getLogger(__name__)

BACKING_OFF = (429, 503)
# Added to a floor: the slot's delay runs from when a request is sent, and the host sees it a little
# later or earlier by the network's jitter; the host's clock must never see two requests closer.
JITTER_MARGIN = 0.05


class BackedOff(IgnoreRequest):
    """The host asked for a longer pause than this run waits (Retry-After): the request stays pending."""


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """The wait a `Retry-After` header asks for: delta-seconds or an HTTP date (RFC 9110); None when
    absent or unreadable. A date in the past is no wait."""
    if not value or not (value := value.strip()):
        return None
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - now)


def robots_floor(parser: RobotParser, user_agent: str) -> float:
    """The least time between two requests robots.txt asks of `user_agent`: `Crawl-delay`, or the
    seconds per request of `Request-rate` (Protego's parser reads it), whichever is longer; 0: none."""
    delay = parser.crawl_delay(user_agent) or 0.0
    protego = getattr(parser, "rp", None)
    rate = protego.request_rate(user_agent) if protego is not None and hasattr(protego, "request_rate") else None
    if rate is not None and rate.requests > 0:
        delay = max(delay, rate.seconds / rate.requests)
    return max(0.0, float(delay))


class Politeness:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.user_agent = crawler.settings.get("ROBOTSTXT_USER_AGENT") or crawler.settings.get("USER_AGENT")
        self.retry_after_max = crawler.settings.getfloat("NEWSCRAWL_RETRY_AFTER_MAX")
        share = Share.of(crawler.settings)
        self.processes = share.count if share is not None else 1  # processes asking the same hosts
        self.robots: dict[str, float] = {}  # host → the floor its robots.txt asks for
        self.backoff: dict[str, float] = {}  # host → the Retry-After wait it asked for, until it answers again
        self.held_until: dict[str, float] = {}  # host → when this run may ask it again (a wait past the cap)
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)
        # Connected after AutoThrottle's handler (an extension, built before the downloader): runs after it.
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Politeness:
        return cls(crawler)

    def floor(self, host: str) -> float:
        return max(self.robots.get(host, 0.0), self.backoff.get(host, 0.0)) * self.processes

    def paces(self, host: str) -> bool:
        """Whether requests to `host` wait between them (a floor) or are held back this run."""
        return self.floor(host) > 0 or host in self.held_until

    def _hold_slot(self, key: str | None, host: str) -> None:
        """The host's download slot waits at least its floor between requests, without jitter."""
        engine = self.crawler.engine
        slot = engine.downloader.slots.get(key or host) if engine is not None else None
        floor = self.floor(host)
        if slot is not None and floor > 0 and slot.delay < floor + JITTER_MARGIN:
            slot.delay = floor + JITTER_MARGIN
            slot.jitter = 0.0

    def robots_parsed(self, robotparser: RobotParser, request: Request) -> None:
        host = urlparse_cached(request).hostname or ""
        floor = robots_floor(robotparser, self.user_agent)
        if floor <= 0:
            return
        self.robots[host] = floor
        self.crawler.stats.set_value(f"newscrawl/politeness/robots_delay/{host}", floor)
        logger.info("robots.txt of %s asks for %g s between requests: honoured", host, floor)
        self._hold_slot(request.meta.get("download_slot"), host)

    def response_downloaded(self, response: Response, request: Request, spider: Any = None) -> None:
        host = urlparse_cached(request).hostname or ""
        if response.status not in BACKING_OFF and host in self.backoff:
            del self.backoff[host]  # it answers again: back to its robots floor (and AutoThrottle)
        self._hold_slot(request.meta.get("download_slot"), host)

    def process_request(self, request: Request) -> None:
        host = urlparse_cached(request).hostname or ""
        until = self.held_until.get(host)
        if until is not None and time.time() < until:
            self.crawler.stats.inc_value("newscrawl/politeness/held_back")
            raise BackedOff(f"{host} asked to wait until {time.strftime('%H:%M:%S', time.localtime(until))}")

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status not in BACKING_OFF:
            return response
        header = response.headers.get(b"Retry-After")
        wait = retry_after_seconds(header.decode("latin-1") if header else None, time.time())
        if wait is None:
            return response
        host = urlparse_cached(request).hostname or ""
        stats = self.crawler.stats
        if wait <= self.retry_after_max:
            stats.inc_value("newscrawl/politeness/retry_after_honoured")
            self.backoff[host] = max(wait, self.backoff.get(host, 0.0))
            self._hold_slot(request.meta.get("download_slot"), host)
            return response
        stats.inc_value("newscrawl/politeness/retry_after_too_long")
        if host not in self.held_until:
            logger.warning(
                "%s answered %d asking to wait %d s (over NEWSCRAWL_RETRY_AFTER_MAX, %g s): its requests wait "
                "for the next run",
                host,
                response.status,
                wait,
                self.retry_after_max,
            )
        self.held_until[host] = time.time() + wait
        request.meta["dont_retry"] = True
        return response
