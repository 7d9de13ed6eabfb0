"""`scrapy crawl`, as Scrapy's own, but exiting 3 when the layout-break alarm fired.

Cron, scrapyd and CI see a failed run through the exit code; the alarm's reasons are in the log and
in the run summary file. Exit 1 stays Scrapy's: the crawl could not start (bad arguments, or another
run holds the crawl state).
"""

from __future__ import annotations

import argparse
from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.crawler import Crawler

from newscrawl.extensions import ALARM_STAT

ALARM_EXIT_CODE = 3


class Command(ScrapyCrawlCommand):
    _crawler: Crawler | None = None

    def _create_crawler(self, spidercls: Any) -> Crawler:
        self._crawler = super()._create_crawler(spidercls)
        return self._crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        super().run(args, opts)
        if self.exitcode == 0 and self._crawler is not None and self._crawler.stats.get_value(ALARM_STAT):
            self.exitcode = ALARM_EXIT_CODE
