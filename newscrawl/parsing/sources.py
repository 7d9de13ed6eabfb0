"""Listing sources: the other ways a site lists its articles besides its tag pages (its feeds, its JSON or
mobile lists), each a small declared unit of the site module.

A site lists its sources in `Site.listing_sources`. A source

- owns some URLs (`owns`) and reads one of its pages into a `Listing` (`parse`);
- may name a walk of its own (`walk`: `-a tag=rss` on 快科技 walks the news feed);
- may serve the same list as another walk (`serves`): when that walk's own pages break (an HTTP error,
  no links), the spider reads the list from the first other source that serves it, and labels the
  articles it links (`fallbacks.listing` = the source's name).

A feed shows only the newest items (`partial`): reaching its end never completes a walk. An item's
summary never stands for the article: every article page is still fetched and parsed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from newscrawl.items import Unusable


@dataclass(frozen=True, slots=True)
class Listing:
    """What a listing (tag) page links to: article URLs in page order, and the next page if any.

    `end` is True when the page itself says the listing is over (an empty page past the last one of
    an endpoint that pages by number): no articles is then expected, not a sign of a layout change.
    """

    article_urls: list[str]
    next_url: str | None
    end: bool = False
    fallback: bool = False  # the links came from the generic listing fallback, not the site's selectors
    # The page holds no items itself: they come from `next_url`, an endpoint the page declares (a 2026
    # cnBeta topic page and its JSON list). No links on it is then expected, not a layout change.
    continued: bool = False
    # The source shows only the newest items (a feed): reaching its end does not complete the walk.
    partial: bool = False
    # The date the listing shows beside an article link (article URL → the date as shown), where it
    # shows one: a check on fallback dates, and their last resort (newscrawl.parsing.fallbacks).
    article_dates: dict[str, str] = field(default_factory=dict)
    # What the list calls itself (a tag page's heading, a feed's title): its feed's title.
    title: str | None = None
    # The outlet the listing names beside an article link (cnBeta's JSON list): the article's source
    # when its page names none.
    article_outlets: dict[str, str] = field(default_factory=dict)


class ListingSource(ABC):
    """One way a site lists articles, other than its tag pages."""

    name: ClassVar[str]  # its label: the walk's feed name by default, and `fallbacks.listing` when it stands in
    # Shows only the newest items (a feed): its end does not complete a walk.
    partial: ClassVar[bool] = False
    # How `-a tag=` names its walks, for error messages (e.g. "rss").
    tag_forms: ClassVar[str] = ""

    @abstractmethod
    def owns(self, url: str) -> bool:
        """Is `url` one of this source's pages?"""

    @abstractmethod
    def parse(self, text: str, url: str) -> Listing:
        """The article links (and facts shown beside them) of one of its pages."""

    def walk(self, tag: str) -> str | None:
        """The first page of the walk `tag` names when this source is that walk's own (a short name or
        one of its URLs); None: `tag` names no walk of it."""
        return tag if self.owns(tag) else None

    def serves(self, walk: str) -> str | None:
        """The first page of this source listing what the walk `walk` lists; None: it cannot stand in."""
        return None

    def feed_name(self, walk: str) -> str:
        """The file name (no extension) of the feed of a walk of its own."""
        return self.name


def url_of(host: str, path: str, url: str) -> bool:
    """Does `url` have this host and path (any scheme, any query)?"""
    parts = urlsplit(url)
    return (parts.hostname or "").lower() == host and parts.path == path


def parse_feed(text: str, url: str) -> Listing:
    """An RSS 2.0 or Atom feed: its items' links, in feed order, with the date each shows (`pubDate`,
    Atom `published`/`updated`). A feed holds only the newest items (`partial`); one that is not XML is
    refused (Unusable "bad_feed"), never read as an empty list."""
    try:
        feed = Selector(text=text, type="xml")
    except ValueError:
        raise Unusable("bad_feed", url, "not an XML feed") from None
    feed.remove_namespaces()
    if not feed.xpath("/rss | /feed | /*[local-name()='RDF']"):
        raise Unusable("bad_feed", url, "neither RSS nor Atom")
    links: list[str] = []
    dates: dict[str, str] = {}
    for item in feed.xpath("//item | //entry"):
        link = (
            item.xpath("link/text()").get() or item.xpath("link[not(@rel) or @rel='alternate']/@href").get() or ""
        ).strip()
        if not link:
            continue
        links.append(urljoin(url, link))
        shown = item.xpath("pubDate/text() | published/text() | updated/text() | date/text()").get()
        if shown and shown.strip():
            dates[links[-1]] = shown.strip()
    title = " ".join((feed.xpath("/rss/channel/title/text() | /feed/title/text()").get() or "").split()) or None
    return Listing(article_urls=links, next_url=None, article_dates=dates, partial=True, title=title)


class Feed(ListingSource):
    """A site's RSS or Atom feed at one URL (its query included)."""

    name = "rss"
    partial = True
    url: ClassVar[str]
    # The walks whose lists the feed carries too (their first pages).
    stands_in_for: ClassVar[tuple[str, ...]] = ()

    def owns(self, url: str) -> bool:
        return url == self.url

    def walk(self, tag: str) -> str | None:
        return self.url if tag in (self.name, self.url) else None

    def parse(self, text: str, url: str) -> Listing:
        return parse_feed(text, url)

    def serves(self, walk: str) -> str | None:
        return self.url if walk in self.stands_in_for else None
