"""Bylines: `出处：… 作者：… 编辑：…` split into source, author and editor; 责任编辑 from the body's end;
an English `By NAME` is the author."""

from __future__ import annotations

import re
from dataclasses import dataclass

from newscrawl.normalize.titles import collapse_whitespace

# Label → field. 来源 is the usual synonym of 出处 on Chinese news sites.
_LABELS = {"出处": "source", "来源": "source", "作者": "author", "编辑": "editor", "责任编辑": "editor"}
# Labels that end the previous part but whose values we do not keep (counters).
_IGNORED = ("人气", "评论", "阅读")
_PART = re.compile(r"(责任编辑|出处|来源|作者|编辑|人气|评论|阅读)\s*[：:]\s*")
_BY = re.compile(r"^by\s+(?P<name>\S.*)$", re.IGNORECASE)
_EDITOR_LINE = re.compile(r"(?:责任)?编辑\s*[：:]\s*([^\s\]】)]+)")


@dataclass(frozen=True, slots=True)
class Byline:
    source: str | None = None
    author: str | None = None
    editor: str | None = None
    date_text: str | None = None  # what stood before the first label (the date, on 快科技)


def split_byline(text: str | None) -> Byline:
    """Split a byline into its labelled parts; any part may be missing."""
    if not text:
        return Byline()
    text = collapse_whitespace(text)
    found: dict[str, str] = {}
    matches = list(_PART.finditer(text))
    if not matches and (by := _BY.match(text)):
        return Byline(author=by.group("name"))
    head = text[: matches[0].start()] if matches else text
    for i, match in enumerate(matches):
        label = match.group(1)
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        value = text[match.end() : end].strip()
        if label in _IGNORED or not value:
            continue
        found.setdefault(_LABELS[label], value)
    return Byline(
        source=found.get("source"),
        author=found.get("author"),
        editor=found.get("editor"),
        date_text=head.strip() or None,
    )


def editor_from_footer(text: str | None) -> str | None:
    """The name in `责任编辑：NAME` (also `[责任编辑：NAME]`, `[ 编辑：NAME ]`), or None."""
    if not text:
        return None
    match = _EDITOR_LINE.search(collapse_whitespace(text))
    return match.group(1) if match else None
