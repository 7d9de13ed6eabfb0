"""Item pipelines, thin on purpose, in this order: spidermon's pipeline validates against the JSON
Schema (newscrawl.pipelines.validation); number revisions against the crawl state; stage the
front-matter post; append to the journal, put the post in place and record the export
(newscrawl.state.component). Items arrive normalised (newscrawl.extract.page); a page that cannot make
one is counted under `newscrawl/dropped/<reason>` by the spider, a known article whose content did not
change under `newscrawl/articles/unchanged`.

A post or journal line that cannot be written (a full disk) drops its article as `ExportFailed`:
counted under `newscrawl/attention/export_failed` (exit 2), logged once, and left pending in the
crawl state, so the next run fetches and exports it.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, NamedTuple

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newscrawl.drops import ExportFailed, Unchanged
from newscrawl.exit_codes import CannotStart, attention
from newscrawl.exporters.frontmatter import PostStyle, post_path, render_post
from newscrawl.items import Article
from newscrawl.normalize.images import stored_files
from newscrawl.sites import site_of
from newscrawl.state.batch_writer import BatchWriter
from newscrawl.state.component import Incremental
from newscrawl.state.files import ensure_folder, fsync_folder, holds, publish_staged, write_atomically
from newscrawl.state.stager import Staged, Stager, StagerGone, stage

logger = logging.getLogger(__name__)


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
    """One front-matter post per article in NEWSCRAWL_POSTS_DIR (off when that setting is empty).

    In a scheduled run a post is staged (a fsynced temporary file: by the post staging process,
    newscrawl.state.stager, while it runs, else on the post writer's thread), and renamed into place by the
    journal's commit once the article's line is durable (`Incremental.add_publisher`): no post is
    visible that the journal does not hold. Lines a kill left unrecorded have their posts written again
    from the lines when the next run starts. In a one-off run (no journal) posts are written at once."""

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
        self._writer: BatchWriter[_Post] = BatchWriter(self._stage_posts, "post-writer")
        # Posts staged and not yet published, by (article id, revision): written by the post writer's
        # thread, renamed by the journal writer's.
        self._staged: dict[tuple[str, int], tuple[Path, Path]] = {}
        self._staged_lock = threading.Lock()
        # Posts staged in a process of their own (newscrawl.state.stager) while it runs; those the thread
        # staged itself after it ended, for the stats at the end.
        self._stager = Stager() if settings.getbool("NEWSCRAWL_POSTS_STAGE_PROCESS") else None
        self._staged_here = 0
        if self.incremental is not None:
            self.incremental.add_publisher(self._publish, self._restore)

    def _post(self, item: Article) -> _Post:
        path = post_path(self.folder / item.site, item, self.pattern)
        urls = (
            {url: self.image_prefix + file for url, file in stored_files(item.images).items()}
            if self.image_prefix is not None
            else None
        )
        return _Post(
            (item.article_id, item.revision),
            path,
            render_post(item, self.style, self.date_mode, self.placeholder, urls),
        )

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, Article):
            try:
                await self._writer.submit(self._post(item))
            except OSError as error:
                raise self._failed(item, "post", error) from None
            self.crawler.stats.inc_value("newscrawl/posts_written")
        return item

    def _stage_posts(self, posts: list[_Post]) -> list[BaseException | None]:
        """On the post writer's thread: each post on its own, so one failure fails only its article. A post
        whose file already says the same (an update that changed nothing it shows) is left untouched. With
        no journal to wait for, posts are renamed at once and their folders fsynced once for the batch."""
        if self.incremental is None:
            return _write_posts([(post.path, post.text) for post in posts])
        outcomes = self._stage_elsewhere(posts) or [self._stage_here(post) for post in posts]
        errors: list[BaseException | None] = []
        for post, outcome in zip(posts, outcomes, strict=True):
            if isinstance(outcome, Path):
                with self._staged_lock:
                    self._staged[post.key] = (outcome, post.path)
            errors.append(outcome if isinstance(outcome, OSError) else None)
        return errors

    def _stage_elsewhere(self, posts: list[_Post]) -> list[Staged] | None:
        """The posts staged by the staging process; None when it is off or has ended (logged once)."""
        if self._stager is None or self._stager.gone:
            return None
        try:
            return self._stager.stage([(post.path, post.text) for post in posts])
        except StagerGone as gone:
            logger.error("%s: staging posts in the crawl process from now on", gone)
            return None

    def _stage_here(self, post: _Post) -> Staged:
        """One post staged on this thread: the staging process is off, or ended (then counted)."""
        self._staged_here += self._stager is not None
        return stage(post.path, post.text)

    def _publish(self, articles: list[Article]) -> None:
        """In the journal's commit, its lines durable: the batch's staged posts renamed into place, their
        folders fsynced before the state records the articles. Raises OSError (the batch fails)."""
        folders = set()
        for article in articles:
            with self._staged_lock:
                staged = self._staged.pop((article.article_id, article.revision), None)
            if staged is not None:
                publish_staged(*staged)
                folders.add(staged[1].parent)
        for folder in folders:
            fsync_folder(folder)

    def _restore(self, articles: list[Article]) -> None:
        """At the start of a run, for the articles whose lines a kill left unrecorded: their posts, as the
        lines say. Raises OSError (the run stops; the next one tries again)."""
        for error in _write_posts([(post.path, post.text) for post in map(self._post, articles)]):
            if error is not None:
                raise error

    def close_spider(self) -> None:
        self._writer.close()
        if self._stager is not None:
            self._stager.close()
            if self._staged_here:
                self.crawler.stats.set_value("newscrawl/posts/stage_process_gone", self._staged_here)
        with self._staged_lock:
            for staged, _ in self._staged.values():  # articles whose journal commit failed: stay pending
                staged.unlink(missing_ok=True)
            self._staged.clear()


class _Post(NamedTuple):
    key: tuple[str, int]  # article id, revision
    path: Path
    text: str


def _write_posts(posts: list[tuple[Path, str]]) -> list[BaseException | None]:
    """Each post written whole on its own (unless its file says the same already), then the folders
    fsynced once; a folder that cannot be fsynced fails the posts renamed into it."""
    errors: list[BaseException | None] = []
    renamed: set[Path] = set()
    for path, text in posts:
        try:
            if not holds(path, text):
                write_atomically(path, text, sync_folder=False)
                renamed.add(path.parent)
            errors.append(None)
        except OSError as error:
            errors.append(error)
    for folder in renamed:
        try:
            fsync_folder(folder)
        except OSError as error:
            errors = [
                error if written is None and path.parent == folder else written
                for (path, _), written in zip(posts, errors, strict=True)
            ]
    return errors
