"""Distributed runs: the claim an article request takes over when a worker pops it from the shared queue
(the Redis scheduler is newscrawl.state.scheduler's)."""

from __future__ import annotations

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newscrawl.state.base import ExportedElsewhere
from newscrawl.state.component import ARTICLE_ID, Incremental


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
