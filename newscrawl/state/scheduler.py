"""The Redis scheduler of distributed runs (scrapy-redis's), whose failures end the run as the crawl
state's do. Imported only when NEWSCRAWL_REDIS_URL names it (newscrawl.addon): redis and scrapy-redis
cost a local run nothing."""

from __future__ import annotations

import warnings

import redis
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import ScrapyDeprecationWarning
from scrapy_redis.scheduler import Scheduler

from newscrawl.state.component import Incremental

# scrapy-redis 0.9.1, its latest release, still passes `spider=` to StatsCollector.inc_value(), which
# Scrapy deprecated in 2.14 (scrapy/scrapy#7011): two warnings a distributed run, about the library's
# code, not this project's. newscrawl's own STATS_CLASS does not warn; a user's Scrapy collector would.
# Only those are silenced; drop this once a scrapy-redis release stops it.
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
