"""Log items by reason and URL, not by dumping the whole item (bodies are long): a drop once at
WARNING, a scraped article at DEBUG."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import logformatter

from newscrawl.items import ExportFailed, Unchanged


class NewscrawlLogFormatter(logformatter.LogFormatter):
    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any = None) -> Any:
        """A refresh that found nothing new is not a warning; an export that failed is an error."""
        level = {Unchanged: logging.DEBUG, ExportFailed: logging.ERROR}.get(type(exception), logging.WARNING)
        return {"level": level, "msg": "Dropped %(exception)s", "args": {"exception": exception}}

    def scraped(self, item: Any, response: Any, spider: Any = None) -> Any:
        return {"level": logging.DEBUG, "msg": "Scraped %(id)s from <%(url)s>",
                "args": {"id": getattr(item, "id", "?"), "url": getattr(response, "url", "?")}}
