"""What an article's trip through the item pipelines may end in besides its export: Scrapy's DropItem,
with the reason. Apart from the schema (newscrawl.items), which the parse process imports without
Scrapy."""

from __future__ import annotations

from scrapy.exceptions import DropItem


class Unchanged(DropItem):
    """A refreshed article whose content is what was exported before: nothing to emit (not an error).
    `still_pending`: it has image files a later run tries again, so it is not settled."""

    def __init__(self, message: str, still_pending: bool = False) -> None:
        super().__init__(message)
        self.still_pending = still_pending


class ExportFailed(DropItem):
    """An article whose post or journal line could not be written: it stays pending for the next run."""
