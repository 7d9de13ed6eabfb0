"""What makes a new revision of an article: its content fields, their hash, and which of them changed."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from newscrawl.items import Article


def content_fields(line: dict[str, Any]) -> dict[str, Any]:
    """What makes a revision, of an article's line: everything but the fetch time, the revision number,
    the layout and the story (which other articles tell the same news is not the article's content)."""
    fields = {
        name: value
        for name, value in line.items()
        if name not in ("fetched_at", "revision", "layout", "story", "story_lead")
    }
    for name in ("fallbacks", "modified"):  # empty, as before the field existed: known articles keep their hashes
        if not fields.get(name, True):
            fields.pop(name)
    return fields


def content_hash(article: Article) -> str:
    return hashlib.sha256(
        json.dumps(content_fields(article.to_dict()), ensure_ascii=False, sort_keys=True).encode("utf-8")
    ).hexdigest()


def changed_fields(old_line: dict[str, Any], article: Article) -> list[str]:
    """The content fields in which `article` differs from its exported journal line."""
    old, new = content_fields(old_line), content_fields(article.to_dict())
    return sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))
