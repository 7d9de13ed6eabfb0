"""The front-matter post format (YAML front matter + HTML body), exactly as the reference archive lays it out.

This is the one place that knows the archive's conventions (the reference post:
fixtures/mydrivers/posts/seed-example.md):
key order, `categories: ` with its trailing space, quoting, `_` for characters the archive's generator
could not hold in a title, `{`/`}` as `&#123;`/`&#125;` in the whole file, the body wrapper, and the
date convention, and where a post goes (one file per article, under a stable name; newscrawl.state.files
writes it atomically). What differs by site (categories, author, date convention) comes in as a
`PostStyle`, made from the site module by `PostStyle.of(site)`: the exporter never looks sites up.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from newscrawl.items import Article

# NEWSCRAWL_FRONTMATTER_DATES: how `date:` is written (post_date; docs/hexo.md says which to pick).
DATE_MODES = ("utc", "local", "archive")
POST_FILENAME_FIELDS = ("site", "article_id", "title")  # what NEWSCRAWL_POST_FILENAME may use
# NEWSCRAWL_POST_IMAGES: the sites' image URLs, or the stored files' (newscrawl.archive.images).
POST_IMAGE_MODES = ("original", "local")

# Characters the archive's generator replaced with `_` in titles (see MARKUP.md and the posts).
_ARCHIVE_TITLE_UNSAFE = re.compile(r"[:/\\?*<>|\[\]\u201c\u201d]")


class ArchiveConventions(Protocol):
    """What a post's style is made from (every newscrawl.sites.Site has these)."""

    @property
    def display_name(self) -> str: ...
    @property
    def archive_categories(self) -> tuple[str, ...]: ...
    @property
    def archive_author(self) -> str: ...
    @property
    def archive_dates(self) -> str: ...
    @property
    def timezone(self) -> ZoneInfo: ...


@dataclass(frozen=True, slots=True)
class PostStyle:
    """How one site's posts are written: the archive's categories and author, the site's wall clock
    (for the `local` date mode), and how the archive wrote `date:` ("utc": the true instant; "wall":
    the site's wall time labelled GMT) for the `archive` date mode."""

    categories: tuple[str, ...]
    author: str
    timezone: ZoneInfo
    archive_dates: str = "utc"

    @classmethod
    def of(cls, site: ArchiveConventions) -> PostStyle:
        """The site's archive's style; for a site without an archive, the generic one: its display name
        as the one category and as the author."""
        if not site.archive_categories:
            return cls((site.display_name,), site.display_name, site.timezone, site.archive_dates)
        return cls(tuple(site.archive_categories), site.archive_author, site.timezone, site.archive_dates)


def archive_title(title: str) -> str:
    """The title as the archive writes it: `M11/Q2` → `M11_Q2`, `“难以修复”` → `_难以修复_`."""
    return _ARCHIVE_TITLE_UNSAFE.sub("_", title)


def yaml_quoted(value: str) -> str:
    """The archive's quoting, always valid YAML: single quotes, or double quotes when the value holds `'`."""
    if "'" not in value:
        return f"'{value}'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def post_date(published: str, mode: str, style: PostStyle) -> str:
    """The `date:` value for an article published at `published` (ISO 8601 with offset).

    "utc": the true instant in RFC 1123 (`Sat, 04 Jun 2022 12:42:05 GMT`) — what a Hexo site with the
    default `timezone: ''` reads right. "local": the site's wall time without a zone
    (`2022-06-04 20:42:05`) — what a Hexo site whose `timezone` is the site's zone reads right, on a
    build machine in any zone. "archive": as the archive wrote it for the site — for
    `archive_dates == "wall"` (快科技) the site's wall time labelled GMT (`Sat, 04 Jun 2022 20:42:05 GMT`
    for 20:42:05 Beijing time), else as "utc".
    """
    if mode not in DATE_MODES:
        raise ValueError(f"NEWSCRAWL_FRONTMATTER_DATES must be one of {DATE_MODES}, not {mode!r}")
    moment = datetime.fromisoformat(published)
    if mode == "local":
        return moment.astimezone(style.timezone).strftime("%Y-%m-%d %H:%M:%S")
    if mode == "archive" and style.archive_dates == "wall":
        wall = moment.astimezone(style.timezone).replace(tzinfo=UTC)
        return format_datetime(wall, usegmt=True)
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _escape_braces(text: str) -> str:
    return text.replace("{", "&#123;").replace("}", "&#125;")


def one_html_block(html: str) -> str:
    """`html` with each blank line inside it written as an empty comment (`<!---->`), which no browser
    shows. Markdown renderers (Hexo's marked) end an HTML block at a blank line and read what follows as
    Markdown: an indented line becomes a code block showing the markup, `_x_` becomes emphasis. Without
    blank lines the body stays one HTML block and reaches the page as written."""
    *inner, last = html.split("\n")
    return "\n".join([line + "<!---->" if not line.strip(" \t") else line for line in inner] + [last])


# An <img> or <a> start tag as nh3 writes it (attribute values in double quotes, which may hold `>`),
# and its src/href attribute.
_LINKING_TAG = re.compile(r'<(?:img|a)\b(?:[^>"]|"[^"]*")*>', re.IGNORECASE)
_LINK_ATTRIBUTE = re.compile(r'(\s(?:src|href)=")([^"]*)(")', re.IGNORECASE)


def local_image_urls(body_html: str, urls: Mapping[str, str]) -> str:
    """`body_html` with each `<img src>` and `<a href>` found in `urls` (image URL → where the blog serves
    its stored file) pointing there instead; every other byte as it was."""

    def attribute(match: re.Match[str]) -> str:
        local = urls.get(html.unescape(match[2]))
        return match[0] if local is None else f"{match[1]}{html.escape(local)}{match[3]}"

    return _LINKING_TAG.sub(lambda tag: _LINK_ATTRIBUTE.sub(attribute, tag[0]), body_html) if urls else body_html


def render_post(
    article: Article,
    style: PostStyle,
    date_mode: str = "utc",
    placeholder_image: str | None = None,
    image_urls: Mapping[str, str] | None = None,
) -> str:
    """The whole post file for `article` in its site's `style`. Without a head image (and no placeholder
    set), `headimg:` and `thumbnail:` are left out rather than invented. The body's blank lines are kept
    as they are only in the "archive" date mode (a byte-exact reproduction of the archive); otherwise
    they are written as comments (`one_html_block`), so Hexo renders the body as HTML. `image_urls`
    (NEWSCRAWL_POST_IMAGES=local) points images at their stored files (`local_image_urls`)."""
    urls = image_urls or {}
    image = urls.get(article.head_image or "", article.head_image) or placeholder_image
    lines = ["", "---", f"title: {yaml_quoted(archive_title(article.title))}", "categories: "]
    lines += [f" - {category}" for category in style.categories]
    if image:
        lines.append(f"headimg: {yaml_quoted(image)}")
    lines += [f"author: {style.author}", "comments: false", f"date: {post_date(article.published, date_mode, style)}"]
    if image:
        lines.append(f"thumbnail: {yaml_quoted(image)}")
    body = local_image_urls(article.body_html, urls)
    body = body if date_mode == "archive" else one_html_block(body)
    lines += ["---", "", "<div>   ", body + "  ", "</div>", " " * 12]
    return _escape_braces("\n".join(lines))


# Names Windows reserves whatever the extension; a post named after a title must not be one.
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.I)
# Separators, controls, characters Windows refuses, and bidi embedding/override/isolate controls (a
# U+202E makes `gpj.exe` show as `exe.jpg`).
_FILENAME_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*\u202a-\u202e\u2066-\u2069]+')


def safe_file_stem(text: str, max_bytes: int = 150) -> str:
    """A file-name stem from arbitrary text: no separators, controls, reserved names, leading dots."""
    stem = _FILENAME_UNSAFE.sub("_", text).strip(" .")
    if _WINDOWS_RESERVED.match(stem):
        stem = f"_{stem}"
    encoded = stem.encode("utf-8")[:max_bytes]
    return encoded.decode("utf-8", errors="ignore").strip(" .") or "_"


def post_path(folder: Path, article: Article, pattern: str) -> Path:
    """Where the post of `article` goes: `pattern` filled with site, article_id and a safe title.
    The result is checked to stay inside `folder`."""
    name = pattern.format(
        site=safe_file_stem(article.site),
        article_id=safe_file_stem(article.article_id),
        title=safe_file_stem(article.title),
    )
    root = _resolved(folder)
    path = Path(os.path.normpath(root / name))  # lexical: no file-system call per post
    if not path.is_relative_to(root) or path == root:
        raise ValueError(f"post file name {name!r} would leave {root}")
    return path


@lru_cache(maxsize=64)
def _resolved(folder: Path) -> Path:
    return folder.resolve()
