"""The crawl's stats collector (STATS_CLASS): Scrapy's MemoryStatsCollector, read without its
deprecation shim.

Scrapy's StatsCollector defines `__getattribute__` so that a call passing the deprecated `spider`
argument warns. That puts a Python function and a caught AttributeError in every attribute access of
the collector, including `inc_value`'s own read of its dict, and a crawl makes dozens of calls per
page (docs/performance.md has the cost). Here attributes are read as on any object, so a `spider`
argument is accepted and ignored without that warning; everything else is MemoryStatsCollector's.
"""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector


class MemoryStats(MemoryStatsCollector):
    """MemoryStatsCollector whose attributes are read directly."""

    __getattribute__ = object.__getattribute__
