"""Atom 1.0 feeds (RFC 4287) of full articles, written with lxml's element tree, never by joining strings.

The writer escapes text (`&`, `<`, `]]>` …) itself. What XML 1.0 cannot hold at all — C0 controls but
tab, LF and CR, U+FFFE/U+FFFF, lone surrogates — is left out of the feed's text (the journal keeps it).
The output depends on the articles alone (the feed's `updated` is its newest entry's), so the same
articles give the same bytes.

Each entry: the article URL as its `id` and `alternate` link, the title, `published` (the site's UTC
offset) and `updated` (the publication time for revision 1, the fetch time of the revision otherwise:
it moves when the article changes), the author, the tags as categories, the head image as an
`enclosure` link, and the sanitised body as HTML `content` (its URLs are absolute).
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from newscrawl.items import Article

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """What a feed says of itself: a stable id, its title, the page it stands for, who publishes it."""

    id: str
    title: str
    link: str
    author: str
    language: str


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 cannot hold."""
    return _NOT_XML.sub("", text)


def entry_updated(article: Article) -> str:
    """When the entry last changed: published for the first revision, the revision's fetch time after."""
    return article.published if article.revision <= 1 else article.fetched_at


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _add(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(
        parent, f"{{{ATOM}}}{tag}", {name: xml_text(value) for name, value in attributes.items()}
    )
    if text is not None:
        element.text = xml_text(text)
    return element


def render_feed(info: FeedInfo, articles: list[Article], related: Mapping[str, list[Related]] | None = None) -> bytes:
    """The Atom document of `articles` (in the order given, newest first), UTF-8 with its declaration;
    `related`: by article URL, the other articles telling its story, as `rel="related"` links."""
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    feed.set(XML_LANG, info.language)
    _add(feed, "id", info.id)
    _add(feed, "title", info.title)
    _add(feed, "link", href=info.link, rel="alternate", type="text/html")
    updated = max((entry_updated(article) for article in articles), key=_instant, default="1970-01-01T00:00:00+00:00")
    _add(feed, "updated", updated)
    _add(_add(feed, "author"), "name", info.author)
    _add(feed, "generator", "newscrawl")
    for article in articles:
        entry = _add(feed, "entry")
        _add(entry, "id", article.url)
        _add(entry, "title", article.title, type="text")
        _add(entry, "link", href=article.url, rel="alternate", type="text/html")
        _add(entry, "published", article.published)
        _add(entry, "updated", entry_updated(article))
        if article.author:
            _add(_add(entry, "author"), "name", article.author)
        for tag in article.tags:
            _add(entry, "category", term=tag["name"])
        if article.head_image:
            kind = mimetypes.guess_type(article.head_image)[0]
            _add(entry, "link", href=article.head_image, rel="enclosure", **({"type": kind} if kind else {}))
        for other in (related or {}).get(article.url, []):
            _add(entry, "link", href=other.url, rel="related", type="text/html", title=xml_text(other.title))
        _add(entry, "content", article.body_html, type="html")
    return etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@dataclass(frozen=True, slots=True)
class Related:
    """Another article telling an entry's story."""

    url: str
    title: str


def render_stories(info: FeedInfo, stories: list[tuple[StoryEntry, list[Related]]]) -> bytes:
    """The Atom document of stories, each once: its lead's title, link and time, links to the others."""
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    feed.set(XML_LANG, info.language)
    _add(feed, "id", info.id)
    _add(feed, "title", info.title)
    _add(feed, "link", href=info.link, rel="alternate", type="text/html")
    updated = max((lead.published for lead, _ in stories), key=_instant, default="1970-01-01T00:00:00+00:00")
    _add(feed, "updated", updated)
    _add(_add(feed, "author"), "name", info.author)
    _add(feed, "generator", "newscrawl")
    for lead, others in stories:
        entry = _add(feed, "entry")
        _add(entry, "id", lead.url)
        _add(entry, "title", lead.title, type="text")
        _add(entry, "link", href=lead.url, rel="alternate", type="text/html")
        _add(entry, "published", lead.published)
        _add(entry, "updated", lead.published)
        for other in others:
            _add(entry, "link", href=other.url, rel="related", type="text/html", title=xml_text(other.title))
        _add(entry, "summary", lead.site + (f"; also told by {len(others)} other article(s)" if others else ""))
    return etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@dataclass(frozen=True, slots=True)
class StoryEntry:
    """A story's lead, as the stories feed shows it."""

    url: str
    title: str
    site: str
    published: str
