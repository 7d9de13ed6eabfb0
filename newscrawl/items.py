"""The one schema: what a site parser hands over (RawArticle) and what every exporter writes (Article).

`Article` is the single definition of an exported article. Its field order is the JSONL field order,
and `article.schema.json` beside this module is its JSON Schema (tests keep the two in step).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from functools import cache
from importlib import resources
from typing import Any, NotRequired, TypedDict


class Tag(TypedDict):
    name: str
    url: str | None


class StoredFile(TypedDict):
    """What became of one image file in a run with NEWSCRAWL_IMAGES_STORE (newscrawl.archive.images)."""

    status: str  # "stored", "failed" (could not get it) or "refused" (got it or saw it, and would not keep it)
    path: str | None  # where the file is, relative to the store: "ab/<sha256>.jpg" (stored only)
    checksum: str | None  # SHA-256 (hex) of the bytes as served (stored only)
    reason: str | None  # why it is not stored: "http_404", "timeout", "not_raster", … (docs/images.md)
    failed_since: str | None  # ISO 8601 UTC of the first failure that may pass: later runs retry it until
    # NEWSCRAWL_IMAGES_RETRY_DAYS after this


class Image(TypedDict):
    url: str  # the full-size image (the link target when the page links one, else the shown image)
    thumbnail: str  # the image as the page shows it (its `src`)
    alt: str | None
    # With NEWSCRAWL_IMAGES_STORE only: the full-size file, and the thumbnail's (None when it is the same URL).
    file: NotRequired[StoredFile]
    thumbnail_file: NotRequired[StoredFile | None]


@dataclass(slots=True)
class RawImage:
    """An `<img>` of the body as the page has it: nothing resolved or made absolute yet."""

    src: str | None
    link: str | None  # href of the enclosing <a>, if any
    alt: str | None


@dataclass(slots=True)
class RawArticle:
    """Strings as the page shows them, found by a site module's selectors. No normalising here."""

    site: str
    url: str  # canonical article URL (the real site's, never a loopback one)
    article_id: str
    fetched_at: str  # ISO 8601 UTC
    title: str | None = None
    published: str | None = None  # the date string as seen
    byline: str | None = None  # e.g. "2022-06-04 20:42:05  出处：快科技  作者：拾柒  编辑：雪花"
    editor_line: str | None = None  # e.g. "责任编辑：拾柒" from the body's end
    source_link: tuple[str, str] | None = None  # (outlet name, URL) from "原文链接"
    tags: list[tuple[str, str | None]] = field(default_factory=list)
    images: list[RawImage] = field(default_factory=list)
    body_html: str | None = None  # the body container's inner HTML, unsanitised
    # Fields the site module's selectors did not find, filled from what the page carries elsewhere
    # (newscrawl.parsing.fallbacks): field name → where the value came from, e.g. {"title": "og:title"}.
    fallbacks: dict[str, str] = field(default_factory=dict)
    layout: str | None = None  # the name of the site's Layout the page was read with (None: no known one)
    modified: str | None = None  # when the page says the article was last modified, as seen


@dataclass(slots=True)
class Article:
    """One article in the schema every site shares. All values are JSON-ready (dates as ISO strings)."""

    id: str  # canonical id: "<site>:<article id>"
    site: str
    article_id: str
    url: str
    title: str
    published: str  # ISO 8601 with the site's UTC offset
    published_raw: str  # the date string as the page showed it
    author: str | None
    editor: str | None
    source: str | None  # outlet the story is from (出处), e.g. 快科技 or 中关村在线
    source_url: str | None  # the outlet's original URL (原文链接), when the page gives one
    tags: list[Tag]
    images: list[Image]
    head_image: str | None  # first body image as shown (its thumbnail), as the archive uses it
    body_html: str  # sanitised body HTML
    language: str
    revision: int  # 1 when first exported; an update of the article (its content changed) has the next number
    fetched_at: str  # ISO 8601 UTC
    # The site layout the page was read with (newscrawl.parsing.site.Layout), null when none of the known
    # ones held the page. Lines written before the field existed lack it.
    layout: str | None = None
    # Fields that came from a fallback, not the site module's own selectors: field → source
    # ({} when the site module read the page whole). Lines written before the field existed lack it.
    fallbacks: dict[str, str] = field(default_factory=dict)
    # When the page says the article was last modified (ISO 8601 with the site's offset); null where it
    # does not say. Lines written before the field existed lack it.
    modified: str | None = None
    # The story the article tells (newscrawl.stories): its lead's id; the lead's id again in `story_lead`
    # for the others, null for the lead. Null where stories are off (a one-off run, NEWSCRAWL_STORIES
    # empty); lines written before the fields existed lack them.
    story: str | None = None
    story_lead: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A plain dict in schema field order (what one JSONL line holds)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


class Unusable(ValueError):
    """An article page that cannot make an Article; `reason` is the stat name it is counted under."""

    def __init__(self, reason: str, url: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {url}" + (f" ({detail})" if detail else ""))
        self.reason = reason
        self.url = url
        self.detail = detail


@cache
def json_schema() -> dict[str, Any]:
    """The shipped JSON Schema of `Article`."""
    text = resources.files("newscrawl").joinpath("article.schema.json").read_text(encoding="utf-8")
    return json.loads(text)
