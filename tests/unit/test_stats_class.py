"""newscrawl.run.stats.MemoryStats: the project's STATS_CLASS keeps Scrapy's stats, read without the
per-access shim."""

from __future__ import annotations

from typing import Any

import pytest
from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.misc import load_object
from scrapy.utils.test import get_crawler

from newscrawl import settings as project_settings
from newscrawl.run.stats import MemoryStats

CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("inc_value", ("pages",), {}),
    ("inc_value", ("pages",), {"count": 3}),
    ("inc_value", ("bytes", 10), {"start": 5}),
    ("max_value", ("depth", 4), {}),
    ("max_value", ("depth", 2), {}),
    ("min_value", ("first", 9), {}),
    ("min_value", ("first", 12), {}),
    ("set_value", ("reason", "finished"), {}),
]


def test_the_project_settings_name_it() -> None:
    settings = Settings()
    settings.setmodule(project_settings)
    assert load_object(settings["STATS_CLASS"]) is MemoryStats


@pytest.mark.parametrize("upto", range(1, len(CALLS) + 1))
def test_it_counts_as_scrapys_own(upto: int) -> None:
    ours, scrapys = MemoryStats(get_crawler()), MemoryStatsCollector(get_crawler())
    for collector in (ours, scrapys):
        for name, args, kwargs in CALLS[:upto]:
            getattr(collector, name)(*args, **kwargs)
    assert ours.get_stats() == scrapys.get_stats()
    assert ours.get_value("pages", "none") == scrapys.get_value("pages", "none")


def test_attributes_are_read_directly() -> None:
    # Scrapy's shim is a Python __getattribute__ on StatsCollector; this class reads as any object does.
    assert MemoryStats.__getattribute__ is object.__getattribute__
    assert MemoryStatsCollector.__getattribute__ is not object.__getattribute__
