"""The front-matter post format (YAML front matter + HTML body), exactly as the reference archive lays it out.

This is the one place that knows the archive's conventions (see ../shared/reference/seed-example.md):
key order, `categories: ` with its trailing space, quoting, `_` for characters the archive's generator
could not hold in a title, `{`/`}` as `&#123;`/`&#125;` in the whole file, the body wrapper, and the
date convention, and where a post goes (one file per article, under a stable name; newscrawl.state.files
writes it atomically).
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path

from newscrawl.items import Article
from newscrawl.sites import get_site

DATE_MODES = ("utc", "archive")
POST_FILENAME_FIELDS = ("site", "article_id", "title")  # what NEWSCRAWL_POST_FILENAME may use

# Characters the archive's generator replaced with `_` in titles (see MARKUP.md and the posts).
_ARCHIVE_TITLE_UNSAFE = re.compile(r'[:/\\?*<>|\[\]\u201c\u201d]')


def archive_title(title: str) -> str:
    """The title as the archive writes it: `M11/Q2` → `M11_Q2`, `“难以修复”` → `_难以修复_`."""
    return _ARCHIVE_TITLE_UNSAFE.sub("_", title)


def yaml_quoted(value: str) -> str:
    """The archive's quoting, always valid YAML: single quotes, or double quotes when the value holds `'`."""
    if "'" not in value:
        return f"'{value}'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def post_date(published: str, mode: str, archive_dates: str = "utc") -> str:
    """The `date:` value in RFC 1123. "utc": the true instant (`Sat, 04 Jun 2022 12:42:05 GMT`).
    "archive": as the archive wrote it for the site — for `archive_dates == "wall"` (快科技) the site's
    wall time labelled GMT (`Sat, 04 Jun 2022 20:42:05 GMT` for 20:42:05 Beijing time)."""
    if mode not in DATE_MODES:
        raise ValueError(f"NEWSCRAWL_FRONTMATTER_DATES must be one of {DATE_MODES}, not {mode!r}")
    moment = datetime.fromisoformat(published)
    if mode == "archive" and archive_dates == "wall":
        return format_datetime(moment.replace(tzinfo=timezone.utc), usegmt=True)
    return format_datetime(moment.astimezone(timezone.utc), usegmt=True)


def _escape_braces(text: str) -> str:
    return text.replace("{", "&#123;").replace("}", "&#125;")


def render_post(article: Article, date_mode: str = "utc", placeholder_image: str | None = None) -> str:
    """The whole post file for `article`. Without a head image (and no placeholder set), `headimg:`
    and `thumbnail:` are left out rather than invented."""
    site = get_site(article.site)
    image = article.head_image or placeholder_image
    lines = ["", "---", f"title: {yaml_quoted(archive_title(article.title))}", "categories: "]
    lines += [f" - {category}" for category in site.archive_categories]
    if image:
        lines.append(f"headimg: {yaml_quoted(image)}")
    lines += [f"author: {site.archive_author}", "comments: false", f"date: {post_date(article.published, date_mode, site.archive_dates)}"]
    if image:
        lines.append(f"thumbnail: {yaml_quoted(image)}")
    lines += ["---", "", "<div>   ", article.body_html + "  ", "</div>", " " * 12]
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
