"""Full-text Atom feeds, rebuilt from the crawl state and the journal after every run (an extension).

For every tag the run walked, `<NEWSCRAWL_FEEDS_DIR>/<site>/<tag>.xml` holds that tag's latest
NEWSCRAWL_FEED_ITEMS articles, newest first; `<NEWSCRAWL_FEEDS_DIR>/<site>.xml` the site's latest
across tags; with stories on, `<NEWSCRAWL_FEEDS_DIR>/stories.xml` the latest stories of every site
sharing the story index, each once (its lead, linking the others). NEWSCRAWL_FEED_STORIES shows each
story once in the site's own feeds too (its first entry, linking the others the feed holds).

A tag's articles are those a page of its walk showed and those that name it (the state remembers
both, newscrawl.state). Entries are read from the journal lines the state points at, so
an article exported by any earlier run is in its feeds, and a feed costs its entries' lines, not
the journal's length.

A feed is written (atomically, readable as the umask says) only when its bytes change: a run that
found nothing new leaves every feed as it was, mtime included. A line that cannot be read (its
journal removed or compressed away) leaves its entry out, counted under `newscrawl/feeds/missing_lines`;
a feed that cannot be written is an attention reason (`feeds_failed`, exit 2) and is rebuilt next run.
Off when NEWSCRAWL_FEEDS_DIR is empty, and in one-off runs (no crawl state to rebuild from).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.settings import BaseSettings

from newscrawl.exit_codes import attention
from newscrawl.exporters.atom import FeedInfo, Related, StoryEntry, render_feed, render_stories
from newscrawl.exporters.frontmatter import local_image_urls
from newscrawl.items import Article
from newscrawl.normalize.images import stored_files
from newscrawl.sites import Site, site_of, spider_of
from newscrawl.state.base import Exported, StateError
from newscrawl.state.component import Incremental, state_closing
from newscrawl.state.files import folder_held, remove_stale_temporaries, write_atomically
from newscrawl.state.journal import LineRef, read_line
from newscrawl.state.opening import configured
from newscrawl.stories.pipeline import open_index, story_index_place

logger = logging.getLogger(__name__)


def feed_image_prefix(settings: BaseSettings) -> str | None:
    """Where feed readers fetch stored images, when posts show them (NEWSCRAWL_POST_IMAGES=local):
    NEWSCRAWL_FEED_IMAGES_URL, else NEWSCRAWL_POST_IMAGES_URL when it is absolute; None: the sites' URLs
    (a reader cannot resolve a blog's relative path)."""
    if settings.get("NEWSCRAWL_POST_IMAGES") != "local":
        return None
    for name in ("NEWSCRAWL_FEED_IMAGES_URL", "NEWSCRAWL_POST_IMAGES_URL"):
        value = settings.get(name) or ""
        if urlsplit(value).scheme in ("http", "https"):
            return value.rstrip("/") + "/"
    return None


def with_stored_images(article: Article, prefix: str) -> Article:
    """`article` with its stored images (body and head image) at `prefix` + their path in the store."""
    urls = {url: prefix + path for url, path in stored_files(article.images).items()}
    if not urls:
        return article
    return replace(
        article,
        body_html=local_image_urls(article.body_html, urls),
        head_image=urls.get(article.head_image or "", article.head_image),
    )


def once_per_story(articles: list[Article]) -> tuple[list[Article], dict[str, list[Related]]]:
    """Each story once: its first article in the feed's order, linking the others the feed would show."""
    kept: dict[str, Article] = {}
    related: dict[str, list[Related]] = {}
    for article in articles:
        story = article.story or article.id
        if story in kept:
            related.setdefault(kept[story].url, []).append(Related(article.url, article.title))
        else:
            kept[story] = article
    return list(kept.values()), related


class Feeds:
    def __init__(self, crawler: Crawler, folder: Path, items: int) -> None:
        self.crawler = crawler
        self.folder = folder
        self.items = items
        settings = crawler.settings
        self.once_per_story = settings.getbool("NEWSCRAWL_FEED_STORIES")
        self.image_prefix = feed_image_prefix(settings)
        assert crawler.spidercls.name is not None
        self.stories = story_index_place(settings, crawler.spidercls.name)
        self.site: Site = site_of(crawler)
        self._articles: dict[LineRef, Article | None] = {}  # lines read this run, shared by the feeds

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Feeds:
        settings = crawler.settings
        folder = settings.get("NEWSCRAWL_FEEDS_DIR")
        if not folder:
            raise NotConfigured("NEWSCRAWL_FEEDS_DIR is empty")
        if not configured(settings):
            raise NotConfigured("feeds are rebuilt from the crawl state, and this run keeps none")
        feeds = cls(
            crawler, Path(folder), settings.getint("NEWSCRAWL_FEED_ITEMS")
        )  # checked at start (newscrawl.addon)
        crawler.signals.connect(feeds.write_feeds, signal=state_closing)
        return feeds

    def write_feeds(self, incremental: Incremental) -> None:
        """The feed of every tag this run walked, then the site's. The processes of a crawl by several
        (newscrawl.shares) write them one at a time, each from what the state holds when its turn
        comes: the last one's feeds hold every process' articles."""
        if incremental.share is None:
            self._write_feeds(incremental)
            return
        try:
            with folder_held(self.folder):
                self._write_feeds(incremental)
        except OSError as error:
            attention(self.crawler, "feeds_failed")
            logger.error("Could not hold the feeds folder %s to rebuild its feeds: %s", self.folder, error)

    def _write_feeds(self, incremental: Incremental) -> None:
        stats = self.crawler.stats
        started = time.monotonic()
        feeds: list[tuple[Path, str | None]] = [
            (self.folder / self.site.name / f"{self.site.feed_name(walk)}.xml", walk)
            for walk in spider_of(self.crawler).walked
        ]
        feeds.append((self.folder / f"{self.site.name}.xml", None))
        for folder in (self.folder, self.folder / self.site.name):  # what a killed run left
            remove_stale_temporaries(
                folder,
                0 if incremental.state.exclusive else self.crawler.settings.getfloat("NEWSCRAWL_REDIS_CLAIM_TTL"),
            )
        try:
            names = incremental.state.walk_facts("name")
        except StateError:
            names = {}
        for path, walk in feeds:
            try:
                articles = self._read(incremental.state.latest(walk, self.items))
            except (OSError, StateError, TypeError) as error:  # the state, or a line not an article: rebuilt next run
                attention(self.crawler, "feeds_failed")
                logger.error("Could not read the articles of feed %s from the crawl state: %s", path, error)
                continue
            if not articles:
                continue
            if self.image_prefix is not None:
                articles = [with_stored_images(article, self.image_prefix) for article in articles]
            related: dict[str, list[Related]] = {}
            if self.once_per_story:
                articles, related = once_per_story(articles)
            self._write(path, render_feed(self._info(walk, articles, names), articles, related))
        if self.stories is not None:
            self._write_stories(self.stories)
        stats.set_value("newscrawl/feeds/seconds", round(time.monotonic() - started, 3))
        if missing := stats.get_value("newscrawl/feeds/missing_lines"):
            logger.warning(
                "Feeds: %d article(s) left out, their journal lines no longer where the state says "
                "(a journal removed or compressed, or another worker's not readable here)",
                missing,
            )

    def _write(self, path: Path, document: bytes) -> None:
        """Write a feed whose bytes changed; a feed that cannot be written is rebuilt next run (exit 2)."""
        try:
            if path.is_file() and path.read_bytes() == document:
                self.crawler.stats.inc_value("newscrawl/feeds/unchanged")
                return
            write_atomically(path, document.decode("utf-8"), root=self.folder)
        except OSError as error:
            attention(self.crawler, "feeds_failed")
            logger.error("Could not write the feed %s: %s", path, error)
            return
        self.crawler.stats.inc_value("newscrawl/feeds/written")

    def _write_stories(self, place: str | Path) -> None:
        """`stories.xml`: the latest stories of every site sharing the story index, each once."""
        try:
            index = open_index(place)
        except (OSError, sqlite3.Error) as error:
            attention(self.crawler, "feeds_failed")
            logger.error("Could not open the story index %s for the stories feed: %s", place, error)
            return
        try:
            latest = index.latest(self.items)
        except index.errors as error:
            attention(self.crawler, "feeds_failed")
            logger.error("Could not read the story index %s for the stories feed: %s", place, error)
            return
        finally:
            index.close()
        stories = [
            (StoryEntry(lead.url, lead.title, lead.site, lead.published), [Related(m.url, m.title) for m in others])
            for lead, *others in latest
            if lead
        ]
        if stories:
            info = FeedInfo(
                "newscrawl:stories", "newscrawl · stories", stories[0][0].url, "newscrawl", self.site.language
            )
            self._write(self.folder / "stories.xml", render_stories(info, stories))

    def _read(self, exported: list[Exported]) -> list[Article]:
        """The articles of `exported` from their journal lines; a line gone or not theirs is counted."""
        articles = []
        for record in exported:
            if record.line not in self._articles:
                line = read_line(record.line)
                matches = (
                    line is not None
                    and line.get("article_id") == record.article_id
                    and line.get("revision") == record.revision
                )
                self._articles[record.line] = Article(**line) if line is not None and matches else None
                if not matches:
                    self.crawler.stats.inc_value("newscrawl/feeds/missing_lines")
            if (article := self._articles[record.line]) is not None:
                articles.append(article)
        return articles

    def _info(self, walk: str | None, articles: list[Article], names: dict[str, str]) -> FeedInfo:
        """The feed of a tag is titled by the name its listing page shows (kept in the state), else as its
        articles show it, else by its file name."""
        site = self.site
        if walk is None:
            return FeedInfo(
                f"https://{site.hosts[0]}/",
                site.display_name,
                f"https://{site.hosts[0]}/",
                site.display_name,
                site.language,
            )
        name = names.get(walk) or next(
            (
                tag["name"]
                for article in articles
                for tag in article.tags
                if tag["url"] and site.walk_of(tag["url"]) == walk
            ),
            site.feed_name(walk),
        )
        return FeedInfo(walk, f"{site.display_name} · {name}", walk, site.display_name, site.language)
