"""Item pipelines, thin on purpose, in this order: spidermon's pipeline validates against the JSON
Schema (newscrawl.validation); number revisions against the crawl state; write the front-matter
post; append to the journal and record the export (newscrawl.incremental). Items arrive normalised
(newscrawl.extract); a page that cannot make one is counted under `newscrawl/dropped/<reason>` by the
spider, a known article whose content did not change under `newscrawl/articles/unchanged`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

from newscrawl.batch_writer import BatchWriter
from newscrawl.exporters.frontmatter import DATE_MODES, post_path, render_post, write_atomically
from newscrawl.incremental import worker_name
from newscrawl.items import Article


class _Pipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        return cls(crawler)


class Unchanged(DropItem):
    """A refreshed article whose content is what was exported before: nothing to emit (not an error)."""


class RevisionPipeline(_Pipeline):
    """New article → revision 1; changed known article → next revision (an update); unchanged → not emitted."""

    def process_item(self, item: Any) -> Any:
        incremental = getattr(self.crawler.spider, "incremental", None)
        if not isinstance(item, Article) or incremental is None:
            return item
        revised = incremental.revise(item)
        if revised is None:
            self.crawler.stats.inc_value("newscrawl/articles/unchanged")
            raise Unchanged(f"unchanged: {item.url}")
        self.crawler.stats.inc_value("newscrawl/articles/new" if revised.revision == 1 else "newscrawl/articles/updated")
        return revised


class JournalPipeline(_Pipeline):
    """Last: the JSONL line (fsynced), then the state's record — after the post is in place. Lines are
    committed in batches on a writer thread (newscrawl.batch_writer); the item waits for its batch."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._writer: BatchWriter[Article] | None = None

    async def process_item(self, item: Any) -> Any:
        incremental = getattr(self.crawler.spider, "incremental", None)
        if isinstance(item, Article) and incremental is not None:
            if self._writer is None:
                self._writer = BatchWriter(incremental.commit, "journal-writer")
            await self._writer.submit(item)
        return item

    def close_spider(self) -> None:
        if self._writer is not None:
            self._writer.close()


class FrontMatterPipeline(_Pipeline):
    """One front-matter post per article in NEWSCRAWL_POSTS_DIR (off when that setting is empty)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        folder = settings.get("NEWSCRAWL_POSTS_DIR")
        if not folder:
            raise NotConfigured("NEWSCRAWL_POSTS_DIR is empty")
        self.folder = Path(folder)
        self.pattern = settings.get("NEWSCRAWL_POST_FILENAME")
        if "{article_id}" not in self.pattern:  # two articles may share a title, never an id
            raise ValueError(f"NEWSCRAWL_POST_FILENAME must contain {{article_id}}: {self.pattern!r}")
        self.date_mode = settings.get("NEWSCRAWL_FRONTMATTER_DATES")
        if self.date_mode not in DATE_MODES:
            raise ValueError(f"NEWSCRAWL_FRONTMATTER_DATES must be one of {DATE_MODES}, not {self.date_mode!r}")
        self.placeholder = settings.get("NEWSCRAWL_PLACEHOLDER_IMAGE") or None
        self.owner = worker_name(settings)
        self._writer: BatchWriter[tuple[Path, str]] = BatchWriter(self._write_posts, "post-writer")

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, Article):
            path = post_path(self.folder / item.site, item, self.pattern)
            await self._writer.submit((path, render_post(item, self.date_mode, self.placeholder)))
            self.crawler.stats.inc_value("newscrawl/posts_written")
        return item

    def _write_posts(self, posts: list[tuple[Path, str]]) -> list[BaseException | None]:
        """On the writer thread: each post on its own, so one failure fails only its article."""
        errors: list[BaseException | None] = []
        for path, text in posts:
            try:
                write_atomically(path, text, self.owner)
                errors.append(None)
            except OSError as error:
                errors.append(error)
        return errors

    def open_spider(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    def close_spider(self) -> None:
        self._writer.close()
