"""Log a dropped item once, by its reason and URL, not by dumping the whole item (bodies are long)."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import logformatter


class NewscrawlLogFormatter(logformatter.LogFormatter):
    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any = None) -> Any:
        return {"level": logging.WARNING, "msg": "Dropped %(exception)s", "args": {"exception": exception}}
