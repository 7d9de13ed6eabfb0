"""Item pipelines, thin on purpose, in this order: spidermon's pipeline validates against the JSON
Schema (newscrawl.pipelines.validation); number revisions against the crawl state; write the front-matter
post; append to the journal and record the export (newscrawl.state.component). Items arrive normalised
(newscrawl.extract.page); a page that cannot make one is counted under `newscrawl/dropped/<reason>` by the
spider, a known article whose content did not change under `newscrawl/articles/unchanged`.

A post or journal line that cannot be written (a full disk) drops its article as `ExportFailed`:
counted under `newscrawl/attention/export_failed` (exit 2), logged once, and left pending in the
crawl state, so the next run fetches and exports it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newscrawl.exit_codes import CannotStart, attention
from newscrawl.exporters.frontmatter import PostStyle, post_path, render_post
from newscrawl.items import Article, ExportFailed, Unchanged
from newscrawl.normalize.images import stored_files
from newscrawl.sites import site_of
from newscrawl.state.batch_writer import BatchWriter
from newscrawl.state.component import Incremental
from newscrawl.state.files import ensure_folder, fsync_folder, write_atomically

logger = logging.getLogger(__name__)


def _holds(path: Path, text: str) -> bool:
    """Whether the file at `path` already holds exactly `text`."""
    data = text.encode("utf-8")
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


class _Pipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.incremental = crawler.get_extension(Incremental)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        return cls(crawler)

    def _failed(self, item: Article, what: str, error: BaseException) -> ExportFailed:
        attention(self.crawler, "export_failed")
        return ExportFailed(f"{what} of {item.url} not written ({error}); retried next run")


class RevisionPipeline(_Pipeline):
    """New article → revision 1; changed known article → next revision (an update); unchanged → not emitted."""

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article) or self.incremental is None:
            return item
        revised = self.incremental.revise(item)
        if revised is None:
            self.crawler.stats.inc_value("newscrawl/articles/unchanged")
            raise Unchanged(f"unchanged: {item.url}", self.incremental.awaits_images(item))
        self.crawler.stats.inc_value(
            "newscrawl/articles/new" if revised.revision == 1 else "newscrawl/articles/updated"
        )
        return revised


class JournalPipeline(_Pipeline):
    """Last: the JSONL line (fsynced), then the state's record — after the post is in place. Lines are
    committed in batches on a writer thread (newscrawl.state.batch_writer); the item waits for its batch."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        if self.incremental is None:
            raise NotConfigured("a one-off run: Scrapy's FEEDS write the items")
        self._writer: BatchWriter[Article] = BatchWriter(self.incremental.commit, "journal-writer")

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, Article):
            try:
                await self._writer.submit(item)
            # Any failure of the commit (the disk, StateError, a WARC barrier's) fails the item: it stays pending.
            except Exception as error:
                raise self._failed(item, "journal line", error) from None
        return item

    def close_spider(self) -> None:
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
        self.pattern = settings.get("NEWSCRAWL_POST_FILENAME")  # checked at start (newscrawl.addon)
        self.date_mode = settings.get("NEWSCRAWL_FRONTMATTER_DATES")
        self.placeholder = settings.get("NEWSCRAWL_PLACEHOLDER_IMAGE") or None
        # NEWSCRAWL_POST_IMAGES=local: images point at the stored files, under this URL prefix
        self.image_prefix = (
            settings.get("NEWSCRAWL_POST_IMAGES_URL").rstrip("/") + "/"
            if settings.get("NEWSCRAWL_POST_IMAGES") == "local"
            else None
        )
        self.style = PostStyle.of(site_of(crawler))
        try:  # posts/<site> is newscrawl's: a link planted there is refused before anything is fetched
            ensure_folder(self.folder, self.folder / site_of(crawler).name)
        except OSError as error:
            raise CannotStart(f"NEWSCRAWL_POSTS_DIR: {error}") from None
        self._writer: BatchWriter[tuple[Path, str]] = BatchWriter(self._write_posts, "post-writer")

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, Article):
            path = post_path(self.folder / item.site, item, self.pattern)
            urls = (
                {url: self.image_prefix + file for url, file in stored_files(item.images).items()}
                if self.image_prefix is not None
                else None
            )
            try:
                await self._writer.submit((path, render_post(item, self.style, self.date_mode, self.placeholder, urls)))
            except OSError as error:
                raise self._failed(item, "post", error) from None
            self.crawler.stats.inc_value("newscrawl/posts_written")
        return item

    @staticmethod
    def _write_posts(posts: list[tuple[Path, str]]) -> list[BaseException | None]:
        """On the writer thread: each post on its own, so one failure fails only its article. A post whose
        file already says the same (an update that changed nothing it shows) is left untouched. The folders
        are fsynced once for the batch, before its articles go on to the journal: a journal line never
        survives a power cut that its post's rename did not."""
        errors: list[BaseException | None] = []
        renamed: set[Path] = set()
        for path, text in posts:
            try:
                if not _holds(path, text):
                    write_atomically(path, text, sync_folder=False)
                    renamed.add(path.parent)
                errors.append(None)
            except OSError as error:
                errors.append(error)
        for folder in renamed:
            try:
                fsync_folder(folder)
            except OSError as error:  # the renames into it may not survive: their articles stay pending
                errors = [
                    error if written is None and path.parent == folder else written
                    for (path, _), written in zip(posts, errors, strict=True)
                ]
        return errors

    def close_spider(self) -> None:
        self._writer.close()
