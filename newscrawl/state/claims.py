"""Distributed runs' pieces around the shared state: the Redis scheduler whose failures end the run as
the state's do, and the claims an article request takes over when a worker pops it from the queue."""

from __future__ import annotations

import warnings

import redis
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured, ScrapyDeprecationWarning
from scrapy_redis.scheduler import Scheduler

from newscrawl.state.component import ARTICLE_ID, Incremental

# scrapy-redis 0.9.1, its latest release, still passes `spider=` to StatsCollector.inc_value(), which
# Scrapy deprecated in 2.14 (scrapy/scrapy#7011): two warnings a distributed run, about the library's
# code, not this project's. Only those are silenced; drop this once a scrapy-redis release stops it.
warnings.filterwarnings(
    "ignore",
    message=r"Passing a 'spider' argument to StatsCollector\.inc_value\(\) is deprecated",
    category=ScrapyDeprecationWarning,
    module=r"scrapy_redis\.scheduler",
)


class RedisScheduler(Scheduler):
    """scrapy-redis's scheduler, for distributed crawls, with a Redis that stops answering handled as the
    crawl state's (`Incremental.unavailable`: one line, exit 2, the run stops) rather than a traceback
    from the engine's loop at every turn."""

    crawler: Crawler | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisScheduler:
        scheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        return scheduler

    def _unavailable(self, what: str, error: redis.RedisError) -> None:
        incremental = self.crawler.get_extension(Incremental) if self.crawler is not None else None
        if incremental is not None:
            incremental.unavailable(what, error)

    def enqueue_request(self, request: Request) -> bool:
        try:
            return bool(super().enqueue_request(request))
        except redis.RedisError as error:
            self._unavailable("queueing a request in Redis", error)
            return False

    def next_request(self) -> Request | None:
        try:
            return super().next_request()
        except redis.RedisError as error:
            self._unavailable("taking a request from Redis", error)
            return None

    def has_pending_requests(self) -> bool:
        try:
            return bool(super().has_pending_requests())
        except redis.RedisError as error:
            self._unavailable("counting the requests in Redis", error)
            return False


class ExportedElsewhere(IgnoreRequest):
    """Distributed: another worker exported the article meanwhile; nothing is wrong with it."""


class DownloadClaims:
    """Downloader middleware, distributed crawls only: the worker that pops an article request from the
    shared queue takes its claim over, or drops it when another worker exported the article meanwhile."""

    def __init__(self, crawler: Crawler) -> None:
        incremental = crawler.get_extension(Incremental)
        if incremental is None or incremental.state.exclusive:
            raise NotConfigured("not a distributed crawl")
        self.crawler = crawler
        self.incremental = incremental

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DownloadClaims:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        article_id = request.meta.get(ARTICLE_ID)
        if article_id is not None and not self.incremental.downloading(article_id):
            self.crawler.stats.inc_value("newscrawl/article/exported_elsewhere")
            raise ExportedElsewhere(f"exported by another worker meanwhile: {request.url}")
