"""What an operator reads at INFO while a crawl runs: one start line, then a progress line every
NEWSCRAWL_PROGRESS_INTERVAL seconds (instead of Scrapy's LogStats once a minute); the run summary
(newscrawl.run.summary) ends it.

    Crawling 快科技 (mydrivers): tags xiaomi12_ultra; incremental (journal output/mydrivers.jsonl, state …); posts …
    Progress: 412 pages fetched, 380 exported, 35 queued, 0 dropped, 0 errors — 41.2 pages/s

"queued" is what the scheduler holds (Scrapy's scheduler/enqueued less scheduler/dequeued stats).
"""

from __future__ import annotations

import logging
import time

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from newscrawl.exit_codes import failed_requests, pages_fetched
from newscrawl.paths import OutputPaths
from newscrawl.sites import spider_of
from newscrawl.state.component import Incremental

logger = logging.getLogger(__name__)


class Progress:
    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.started = time.monotonic()
        self._loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        interval = crawler.settings.getfloat("NEWSCRAWL_PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured("NEWSCRAWL_PROGRESS_INTERVAL is 0")
        progress = cls(crawler, interval)
        crawler.signals.connect(progress.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(progress.spider_closed, signal=signals.spider_closed)
        return progress

    def spider_opened(self) -> None:
        logger.info("%s", self.start_line())
        self.started = time.monotonic()
        self._loop = task.LoopingCall(self.log_progress)
        self._loop.start(self.interval, now=False)

    def start_line(self) -> str:
        spider, settings = spider_of(self.crawler), self.crawler.settings
        site = spider.site
        walks = [site.feed_name(tag) for tag in spider.tags]
        what = [f"tags {', '.join(walks)}"] if walks else []
        if urls := spider.article_urls:
            what.append(f"{len(urls)} article URL(s)")
        if captures := spider.captures:
            what.append(f"{len(captures)} captured page(s)")
        incremental = self.crawler.get_extension(Incremental)
        if incremental is not None:
            state = settings.get("NEWSCRAWL_REDIS_URL") or OutputPaths.of(settings, spider.name).state
            mode = f"incremental (journal {incremental.journal.path}, state {state})"
        else:
            mode = "one-off (" + ", ".join(str(uri) for uri in settings.getdict("FEEDS")) + ")"
        extras = [
            f"{name} {settings.get(setting)}"
            for name, setting in (
                ("posts", "NEWSCRAWL_POSTS_DIR"),
                ("feeds", "NEWSCRAWL_FEEDS_DIR"),
                ("WARC", "NEWSCRAWL_WARC_DIR"),
            )
            if settings.get(setting)
        ]
        return f"Crawling {site.display_name} ({spider.name}): {'; '.join(what) or 'nothing'}; {mode}" + (
            f"; {', '.join(extras)}" if extras else ""
        )

    def log_progress(self) -> None:
        stats = self.crawler.stats
        elapsed = max(time.monotonic() - self.started, 1e-9)
        figures = stats.get_stats()
        pages = pages_fetched(figures)
        dropped = sum(int(value) for key, value in figures.items() if key.startswith("newscrawl/dropped/"))
        errors = sum(failed_requests(figures))
        queued = int(stats.get_value("scheduler/enqueued", 0)) - int(stats.get_value("scheduler/dequeued", 0))
        logger.info(
            "Progress: %d pages fetched, %d exported, %d queued, %d dropped, %d failed requests — %.1f pages/s",
            pages,
            int(stats.get_value("item_scraped_count", 0)),
            queued,
            dropped,
            errors,
            pages / elapsed,
        )

    def spider_closed(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
