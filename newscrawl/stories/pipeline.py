"""The item pipeline stage giving each article its story (`story`, `story_lead`), before revisions are
numbered and anything is written: an article the index cannot record is dropped as `ExportFailed`
(pending, exit 2), never exported without its story.

NEWSCRAWL_STORIES: `auto` (the default) keeps the index beside the crawl state (`stories.sqlite` in its
folder, shared by every site whose state is there) or on the crawl's Redis; a path names the SQLite
file; empty turns stories off. A one-off export (`-O`) has no crawl state, so no stories with `auto`.

With a parse process, an SQLite index's story is told there as the article is made (counted under
`newscrawl/stories/told_in_parse_process`), and this stage reads the answer; an article it cannot
record there is held back here all the same. Without one, or with Redis, it is told here.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.settings import BaseSettings

from newscrawl.dev.crash_points import crash_point
from newscrawl.drops import ExportFailed
from newscrawl.exit_codes import CannotStart, attention
from newscrawl.extract.process import ParseProcess
from newscrawl.items import Article
from newscrawl.paths import OutputPaths
from newscrawl.state.opening import configured
from newscrawl.stories.index import Member, RedisStoryIndex, SqliteStoryIndex, StoryIndex, Told

INDEX_FILE = "stories.sqlite"


def story_index_place(settings: BaseSettings, spider_name: str) -> str | Path | None:
    """Where the story index is: a Redis URL, an SQLite file, or None (stories off)."""
    value = settings.get("NEWSCRAWL_STORIES") or ""
    if value != "auto":
        return Path(value) if value else None
    if not configured(settings):
        return None
    if settings.get("NEWSCRAWL_REDIS_URL"):
        return str(settings.get("NEWSCRAWL_REDIS_URL"))
    state = OutputPaths.of(settings, spider_name).state
    return state.parent / INDEX_FILE if state is not None else None


def open_index(place: str | Path) -> StoryIndex:
    return SqliteStoryIndex.open(place) if isinstance(place, Path) else RedisStoryIndex(place)


# Asked of the parse process when there is one (newscrawl.stories.parse_side): the story itself with an
# SQLite index, the signature with Redis's; else both are worked out here.
TOLD = "newscrawl.stories.parse_side:told"
SIGNED = "newscrawl.stories.parse_side:signed"
_NOT_MADE = object()


class StoryPipeline:
    def __init__(self, crawler: Crawler, index: StoryIndex, place: str | Path) -> None:
        self.crawler = crawler
        self.index = index
        self.parse_process = crawler.get_extension(ParseProcess)
        self.asked, argument = (TOLD, str(place)) if isinstance(place, Path) else (SIGNED, None)
        if self.parse_process is not None:
            self.parse_process.also(self.asked, argument)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoryPipeline:
        assert crawler.spidercls.name is not None
        place = story_index_place(crawler.settings, crawler.spidercls.name)
        if place is None:
            raise NotConfigured("stories are off")
        try:
            index = open_index(place)
        except (OSError, sqlite3.Error, ConnectionError) as error:
            raise CannotStart(f"cannot open the story index {place} ({error})") from None
        pipeline = cls(crawler, index, place)
        crawler.signals.connect(pipeline.index.close, signal=signals.spider_closed)
        return pipeline

    def process_item(self, item: Article) -> Article:
        made = self.parse_process.take(item.url, self.asked, _NOT_MADE) if self.parse_process else _NOT_MADE
        if isinstance(made, Told):
            told = made
            self.crawler.stats.inc_value("newscrawl/stories/told_in_parse_process")
        elif isinstance(made, str):  # the parse process could not record it
            self._not_recorded(item, made)
        else:
            if made is _NOT_MADE:  # no parse process: made here (its module imported on first need)
                from newscrawl.stories.signature import signature_bytes

                made = signature_bytes(item.body_html)
            try:
                told = self.index.assign(Member.of(item), made if isinstance(made, bytes) else None)
            except self.index.errors as error:
                self._not_recorded(item, str(error))
        crash_point("story-recorded")
        if not told.lead:
            self.crawler.stats.inc_value("newscrawl/stories/joined")
        return replace(item, story=told.story, story_lead=None if told.lead else told.story)

    def _not_recorded(self, item: Article, error: str) -> NoReturn:
        attention(self.crawler, "export_failed")
        raise ExportFailed(f"story of {item.url} not recorded ({error}); retried next run") from None
