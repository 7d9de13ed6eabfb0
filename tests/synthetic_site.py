"""A 快科技-shaped site that tests change between runs: articles copied from a real page under new ids
and titles, and tag pages paginated as 快科技 does (`<tag>_N.htm`, a 下一页 link). Modelled, not recorded."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import MYDRIVERS_SITE

SOURCE_ARTICLE = MYDRIVERS_SITE / "news.mydrivers.com/1/818/818612.htm"  # a real page, retitled
SOURCE_TITLE = "NVIDIA数字签名被盗"


def article_path(root: Path, article_id: str) -> Path:
    return root / f"1/{int(article_id) // 1000}/{article_id}.htm"


TAG_LINKS = re.compile(r'(?:<a href="https://news\.mydrivers\.com/tag/[^"]+">[^<]*</a>\s*)+')


def write_article(root: Path, article_id: str, title: str, tags: list[str] | None = None) -> None:
    """The real page under `article_id`, its title replaced by `title` (`root`: the host's folder); with
    `tags`, the tags it names are those (slugs) instead of the real page's."""
    target = article_path(root, article_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = SOURCE_ARTICLE.read_text(encoding="utf-8").replace(SOURCE_TITLE, title)
    if tags is not None:
        links = "\n".join(f'<a href="https://news.mydrivers.com/tag/{tag}.htm">{tag}</a>' for tag in tags) + "\n"
        text = TAG_LINKS.sub(lambda _: links, text, count=1)
    target.write_text(text, encoding="utf-8")


def write_tag(root: Path, tag: str, ids: list[str], per_page: int) -> None:
    """Tag `tag` listing `ids` (newest first), `per_page` a page; stale later pages of it removed."""
    pages = [ids[start : start + per_page] for start in range(0, len(ids), per_page)] or [[]]
    folder = root / "tag"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(f"{tag}_*.htm"):
        stale.unlink()
    for number, chunk in enumerate(pages, start=1):
        items = "".join(
            f'<li><h3><a href="https://news.mydrivers.com/1/{int(i) // 1000}/{i}.htm">{i}</a></h3>'
            f'<span class="time">2022-01-01 00:00</span></li>\n'
            for i in chunk
        )
        pager = f'<div class="pages"><a href="{tag}_{number + 1}.htm">下一页</a></div>' if number < len(pages) else ""
        name = f"{tag}.htm" if number == 1 else f"{tag}_{number}.htm"
        (folder / name).write_text(
            f'<html><head><meta charset="utf-8"></head><body><ul id="newsleft_1">\n{items}</ul>{pager}</body></html>',
            encoding="utf-8",
        )


def big_tag(root: Path, tag: str, count: int, per_page: int = 20, first_id: int = 3_000_000) -> list[str]:
    """A tag of `count` new articles (`合成文章<id>`), `per_page` a page. Returns the ids, page 1's first."""
    ids = [str(first_id + number) for number in range(count)]
    for article_id in ids:
        write_article(root, article_id, f"合成文章{article_id}")
    write_tag(root, tag, ids, per_page)
    return ids
