"""Log items by reason and URL, not by dumping the whole item (bodies are long): a drop once at
WARNING, a scraped article at DEBUG."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import logformatter

from newscrawl.pipelines import Unchanged  # a refresh that found nothing new is not a warning


class NewscrawlLogFormatter(logformatter.LogFormatter):
    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any = None) -> Any:
        level = logging.DEBUG if isinstance(exception, Unchanged) else logging.WARNING
        return {"level": level, "msg": "Dropped %(exception)s", "args": {"exception": exception}}

    def scraped(self, item: Any, response: Any, spider: Any = None) -> Any:
        return {"level": logging.DEBUG, "msg": "Scraped %(id)s from <%(url)s>",
                "args": {"id": getattr(item, "id", "?"), "url": getattr(response, "url", "?")}}
