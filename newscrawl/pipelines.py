"""Item pipelines, thin on purpose: normalise (the work is in newscrawl.normalize), validate against
the JSON Schema, write front-matter posts. Each drop is counted under `newscrawl/dropped/<reason>`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

from newscrawl.exporters.frontmatter import DATE_MODES, post_path, render_post, write_atomically
from newscrawl.items import Article, RawArticle, json_schema
from newscrawl.normalize.article import Unusable, build_article


class _CountingPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        return cls(crawler)

    def drop(self, reason: str, message: str) -> DropItem:
        self.crawler.stats.inc_value(f"newscrawl/dropped/{reason}")
        return DropItem(message)


class NormalizePipeline(_CountingPipeline):
    """RawArticle → Article; an article missing its title, date or body is dropped, not crashed on."""

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, RawArticle):
            return item
        try:
            return build_article(item)
        except Unusable as unusable:
            raise self.drop(unusable.reason, str(unusable)) from None


class SchemaPipeline(_CountingPipeline):
    """Every Article is checked against the shipped JSON Schema before any exporter sees it."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.validator = Draft202012Validator(json_schema())

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Article):
            error = next(iter(self.validator.iter_errors(item.to_dict())), None)
            if error is not None:
                path = "/".join(str(part) for part in error.absolute_path) or "(item)"
                raise self.drop("schema_invalid", f"schema_invalid: {item.url} ({path}: {error.message})")
        return item


class FrontMatterPipeline(_CountingPipeline):
    """One front-matter post per article in NEWSCRAWL_POSTS_DIR (off when that setting is empty)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        folder = settings.get("NEWSCRAWL_POSTS_DIR")
        if not folder:
            raise NotConfigured("NEWSCRAWL_POSTS_DIR is empty")
        self.folder = Path(folder)
        self.pattern = settings.get("NEWSCRAWL_POST_FILENAME")
        self.date_mode = settings.get("NEWSCRAWL_FRONTMATTER_DATES")
        if self.date_mode not in DATE_MODES:
            raise ValueError(f"NEWSCRAWL_FRONTMATTER_DATES must be one of {DATE_MODES}, not {self.date_mode!r}")
        self.placeholder = settings.get("NEWSCRAWL_PLACEHOLDER_IMAGE") or None

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Article):
            path = post_path(self.folder / item.site, item, self.pattern)
            write_atomically(path, render_post(item, self.date_mode, self.placeholder))
            self.crawler.stats.inc_value("newscrawl/posts_written")
        return item

    def open_spider(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
