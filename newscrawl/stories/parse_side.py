"""The story stage's work in the parse process (newscrawl.stories.pipeline asks for it with
`ParseProcess.also`): each article's signature, and where the index is an SQLite file, its story told
there, so that the crawl's reactor thread only reads the answer.

Told in the crawl process, a story cost its reactor thread several times what it costs here: each of
SQLite's calls gives the GIL up, and the crawl's writer threads take it (docs/performance.md).
Nothing here imports Scrapy (the parse process imports none).
"""

from __future__ import annotations

import sqlite3
from functools import cache
from pathlib import Path

from newscrawl.dev.crash_points import crash_point
from newscrawl.items import Article
from newscrawl.stories.index import Member, SqliteStoryIndex, Told
from newscrawl.stories.signature import signature_bytes


def signed(article: Article) -> bytes | None:
    """The article's signature, for a story told in the crawl process (an index on Redis)."""
    return signature_bytes(article.body_html)


@cache
def _index(path: str) -> SqliteStoryIndex:
    return SqliteStoryIndex.open(Path(path))


def told(article: Article, path: str) -> Told | str:
    """The article's story from the index at `path`, recorded there; or why it could not be (the story
    stage then holds the article back as it would for its own failure)."""
    try:
        place = _index(path).assign(Member.of(article), signature_bytes(article.body_html))
    except (sqlite3.Error, OSError) as error:
        return str(error)
    crash_point("story-told")  # recorded, not yet answered
    return place
