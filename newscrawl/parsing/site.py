"""What a site module is: data about one site plus page parsers that need nothing but HTML and a URL.

A site module subclasses `Site`, fills in the class attributes, its layouts and the three URL methods, and
sets a module-level `SITE = MySite()`. The registry finds it; spiders, pipelines and exporters are
shared and never name a site.

The contract is checked when the subclass is defined (`Site.__init_subclass__`): every attribute in
`REQUIRED_ATTRIBUTES` must be set, with the right kind of value, or the import fails with a
`SiteDefinitionError` naming the site and what is wrong. Everything else has a declared default.

Each known layout of a site's article pages is a page object, a `Layout` subclass (newscrawl.parsing.layout)
with a method per field; the site lists them, and `parse_article` reads a page with the first whose
`holds(page)` says the page is of it — chosen by what the page holds, not by its date. A page no layout
holds is read field by field by each layout in turn, newest first (its item's `layout` is null).

A site without a Hexo archive leaves `archive_categories` and `archive_author` unset: its posts are
written in the generic style (the site's display name as category and author).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import ClassVar, TypeGuard, TypeVar
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

from parsel import Selector

from newscrawl.items import RawArticle, Unusable
from newscrawl.parsing import fallbacks
from newscrawl.parsing.layout import Layout
from newscrawl.parsing.sources import Listing, ListingSource

T = TypeVar("T")


def parse_page(html: str, url: str) -> Selector:
    """The page's tree. libxml2 stops at 2,048 nested elements even with huge_tree and keeps what came
    before: such a page is refused (Unusable "too_deep"), never passed on with its rest silently gone."""
    page = Selector(text=html)
    if any(error.type_name == "ERR_RESOURCE_LIMIT" for error in page.root.getroottree().parser.error_log):
        raise Unusable("too_deep", url, "nested deeper than the HTML parser's limit")
    return page


@dataclass(frozen=True, slots=True)
class PageConventions:
    """What normalising one page reads of its site (newscrawl.normalize.article.SiteConventions), and
    where its zone was assumed rather than known (`fallbacks.published_zone`)."""

    name: str
    timezone: ZoneInfo
    language: str
    title_suffixes: tuple[str, ...]
    thumbnail_prefixes: tuple[str, ...]
    zone_assumed: str | None = None

    @classmethod
    def of(
        cls, site: Site, timezone: ZoneInfo | None = None, language: str | None = None, zone_assumed: str | None = None
    ) -> PageConventions:
        """The site's conventions, with a page's own zone and language where given."""
        return cls(
            site.name,
            timezone or site.timezone,
            language or site.language,
            site.title_suffixes,
            site.thumbnail_prefixes,
            zone_assumed,
        )


class SiteDefinitionError(TypeError):
    """A site module breaks the Site contract (raised when its class is defined, i.e. on import)."""


def _are_layouts(value: object) -> bool:
    if not (isinstance(value, tuple) and value and all(isinstance(v, type) and issubclass(v, Layout) for v in value)):
        return False
    names = [getattr(layout, "name", None) for layout in value]
    return (
        len(set(names)) == len(names)
        and all(isinstance(name, str) and name for name in names)
        and all(
            isinstance(getattr(layout, "seen", None), str)
            and isinstance(getattr(layout, "fixture", None), tuple)
            and _is_str_tuple(layout.body_drop)
            and _is_str_tuple(layout.body_decorations)
            for layout in value
        )
    )


def _is_str_tuple(value: object) -> TypeGuard[tuple[str, ...]]:
    return isinstance(value, tuple) and all(isinstance(part, str) and part for part in value)


_SITE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_NOT_FILE_SAFE = re.compile(r"[^\w-]")
# What every site must set, and what its value must look like.
REQUIRED_ATTRIBUTES: dict[str, tuple[str, Callable[[object], bool]]] = {
    "name": ("a lower-case identifier", lambda v: isinstance(v, str) and bool(_SITE_NAME.match(v))),
    "display_name": ("a non-empty string", lambda v: isinstance(v, str) and bool(v)),
    "hosts": (
        "a non-empty tuple of lower-case host names",
        lambda v: _is_str_tuple(v) and bool(v) and all(h == h.lower() for h in v),
    ),
    "timezone": ("a zoneinfo.ZoneInfo", lambda v: isinstance(v, ZoneInfo)),
    "language": ("a language tag such as 'zh-CN'", lambda v: isinstance(v, str) and bool(v)),
    "layouts": (
        "a non-empty tuple of Layout subclasses, newest first, each with a unique name, seen, fixture "
        "and tuples of strings as body_drop and body_decorations",
        _are_layouts,
    ),
}
ARCHIVE_DATE_STYLES = ("utc", "wall")


class Site(ABC):
    """One news site: its URLs, selectors, timezone and archive conventions, as data and pure parsers."""

    # Required (REQUIRED_ATTRIBUTES) -------------------------------------------------------------
    name: ClassVar[str]  # spider name and the `site` field, e.g. "mydrivers"
    display_name: ClassVar[str]
    hosts: ClassVar[tuple[str, ...]]  # every host the site serves pages from
    timezone: ClassVar[ZoneInfo]  # wall time of dates shown on its pages
    language: ClassVar[str]
    # The known layouts of its article pages, newest first.
    layouts: ClassVar[tuple[type[Layout], ...]]

    # Optional, with their defaults --------------------------------------------------------------
    # The Hexo archive's conventions for this site, where it has an archive (both set, or neither).
    archive_categories: ClassVar[tuple[str, ...]] = ()
    archive_author: ClassVar[str] = ""
    title_suffixes: ClassVar[tuple[str, ...]] = ()  # what the site appends to titles in <title>
    thumbnail_prefixes: ClassVar[tuple[str, ...]] = ()  # file-name prefixes of thumbnail copies of images
    # The hosts its article images are served from: the only ones NEWSCRAWL_IMAGES_STORE downloads from.
    image_hosts: ClassVar[tuple[str, ...]] = ()
    # What the site's own block or challenge pages carry (newscrawl.fetch.blocks adds the common ones).
    block_markers: ClassVar[tuple[str, ...]] = ()
    fallback_encoding: ClassVar[str] = "utf-8"  # for bytes that are not UTF-8 and declare nothing usable
    # How the archive wrote `date:` for this site: "utc" (the true instant) or "wall" (the site's wall
    # time labelled GMT). NEWSCRAWL_FRONTMATTER_DATES=archive follows it.
    archive_dates: ClassVar[str] = "utc"
    # Where a listing page's article links are (parse_listing's default; a site may override parse_listing).
    listing_links_css: ClassVar[str] = ""
    # Its other ways of listing articles (feeds, JSON or mobile lists: newscrawl.parsing.sources), in the
    # order they stand in for a walk whose own pages break.
    listing_sources: ClassVar[tuple[ListingSource, ...]] = ()
    # Share of articles expected to have each field (layout-break alarm; NEWSCRAWL_COVERAGE_RULES overrides).
    expected_coverage: ClassVar[dict[str, float]] = {"title": 1.0, "published": 1.0, "body_html": 1.0}
    # Its fields come from the generic fallbacks by design (a site without a module): no alarm for them.
    fallbacks_expected: ClassVar[bool] = False

    def __init_subclass__(cls, template: bool = False, **kwargs: object) -> None:
        """Check the contract of every site class that can be instantiated (no abstract method left, not
        declared a `template` for sites made at run time)."""
        super().__init_subclass__(**kwargs)
        if template or any(
            getattr(getattr(cls, attribute, None), "__isabstractmethod__", False) for attribute in dir(cls)
        ):
            return  # an intermediate base, not a site
        problems = [
            f"{attribute} must be {meaning}" + ("" if hasattr(cls, attribute) else " (not set)")
            for attribute, (meaning, valid) in REQUIRED_ATTRIBUTES.items()
            if not (hasattr(cls, attribute) and valid(getattr(cls, attribute)))
        ]
        if cls.archive_dates not in ARCHIVE_DATE_STYLES:
            problems.append(f"archive_dates must be one of {ARCHIVE_DATE_STYLES}, not {cls.archive_dates!r}")
        for attribute in ("title_suffixes", "thumbnail_prefixes", "archive_categories", "block_markers"):
            if not _is_str_tuple(getattr(cls, attribute)):
                problems.append(f"{attribute} must be a tuple of strings")
        if not isinstance(cls.archive_author, str) or bool(cls.archive_categories) != bool(cls.archive_author):
            problems.append("archive_categories and archive_author are set together (an archive) or not at all")
        if problems:
            raise SiteDefinitionError(f"site class {cls.__module__}.{cls.__qualname__}: " + "; ".join(problems))

    def owns(self, url: str) -> bool:
        """True for URLs on one of the site's hosts."""
        return (urlsplit(url).hostname or "").lower() in self.hosts

    @abstractmethod
    def article_id(self, url: str) -> str | None:
        """The stable article id in an article URL, or None when the URL is not an article."""

    @abstractmethod
    def canonical_url(self, url: str) -> str:
        """The one URL of the article `url` points to (desktop host, no query): every variant maps to it."""

    @abstractmethod
    def tag_page_url(self, tag: str) -> str:
        """The first tag (or column) page of a tag given as the site's slug or as a page URL; ValueError
        for anything else."""

    def listing_url(self, tag: str) -> str:
        """The first listing page of the walk `tag` names: a tag page (`tag_page_url`), or a walk of one
        of the site's listing sources (`-a tag=rss`). ValueError, naming every form, for anything else."""
        tag = tag.strip()
        for source in self.listing_sources:
            if (url := source.walk(tag)) is not None:
                return url
        try:
            return self.tag_page_url(tag)
        except ValueError as error:
            forms = [source.tag_forms for source in self.listing_sources if source.tag_forms]
            raise ValueError(f"{error}; or {', '.join(forms)}" if forms else str(error)) from None

    def walk_of(self, url: str) -> str | None:
        """`listing_url(url)`, or None for a URL that names no tag of the site."""
        try:
            return self.listing_url(url)
        except ValueError:
            return None

    def feed_name(self, listing_url: str) -> str:
        """The file name (no extension) of the feed of the walk whose first listing page is `listing_url`:
        its listing source's name for it, else `tag_feed_name`."""
        source = self.source_of(listing_url)
        return source.feed_name(listing_url) if source is not None else self.tag_feed_name(listing_url)

    def tag_feed_name(self, listing_url: str) -> str:
        """The feed name of a tag page walk: the last part of its path without extension
        (`…/tag/xiaomi12_ultra.htm` → `xiaomi12_ultra`), with anything but letters, digits, `_`, `-` made
        `_` so that it names a file in the feeds folder."""
        stem = PurePosixPath(urlsplit(listing_url).path).stem
        return _NOT_FILE_SAFE.sub("_", stem).lstrip("_-") or "tag"

    def read_listing(self, html: str, url: str) -> Listing:
        """`parse_listing`, and when its selectors find no article links on a page that is not the
        listing's end, the links the generic fallback finds (`Listing.fallback` says so)."""
        found = self.parse_listing(html, url)
        if found.article_urls or found.end or found.continued:
            return found
        page = parse_page(html, url)
        links = fallbacks.article_links(page, url, self.article_id)
        if not links:
            return found
        return Listing(article_urls=links, next_url=found.next_url or self.next_page_url(page, url), fallback=True)

    def parse_listing(self, html: str, url: str) -> Listing:
        """A page of one of the site's listing sources, read by it; else a tag page (`parse_tag_page`)."""
        if (source := self.source_of(url)) is not None:
            found = source.parse(html, url)
            return replace(found, partial=True) if source.partial else found
        return self.parse_tag_page(html, url)

    def parse_tag_page(self, html: str, url: str) -> Listing:
        """Article links (`listing_links_css`) and the next page of one tag page."""
        page = parse_page(html, url)
        links = page.css(self.listing_links_css).getall()
        return Listing(
            article_urls=[urljoin(url, link) for link in links],
            next_url=self.next_page_url(page, url),
            article_dates=self.listing_dates(page, url),
            title=self.listing_title(page),
        )

    def source_of(self, url: str) -> ListingSource | None:
        """The listing source `url` is a page of; None for the site's tag pages."""
        return next((source for source in self.listing_sources if source.owns(url)), None)

    def fallback_listing(self, walk: str, failed: str) -> str | None:
        """When `failed` (a page of the walk `walk`) breaks, the first page of the next source serving the
        same list: the walk's own source first, then the declared ones in order; None: none left."""
        own = self.source_of(walk)
        order: list[ListingSource | None] = [own, *(source for source in self.listing_sources if source is not own)]
        failing = self.source_of(failed)
        if failing not in order:
            return None
        for source in order[order.index(failing) + 1 :]:
            if source is not None and (url := source.serves(walk)) is not None and url != failed:
                return url
        return None

    def listing_source(self, url: str, walk: str) -> str | None:
        """The name of the source `url` belongs to when it stands in for the walk `walk`'s own pages (its
        articles are labelled with it); None when `url` is one of the walk's own pages."""
        source = self.source_of(url)
        return source.name if source is not None and source is not self.source_of(walk) else None

    def listing_title(self, page: Selector) -> str | None:
        """What a listing page calls its list: its one `<h1>`, else its `<title>` without the site's suffix."""
        headings = [" ".join("".join(h.css("::text").getall()).split()) for h in page.css("h1")]
        if len(headings) == 1 and headings[0]:
            return headings[0]
        title = " ".join((page.css("title::text").get() or "").split())
        for suffix in self.title_suffixes:
            title = title.removesuffix(suffix).strip()
        return title or None

    def listing_headers(self, url: str) -> dict[str, str]:
        """Request headers a listing page of the site needs to be served (none by default)."""
        return {}

    def listing_dates(self, page: Selector, url: str) -> dict[str, str]:
        """The date shown beside each article link of a listing page (none by default)."""
        return {}

    def page_conventions(self, html: str) -> PageConventions:
        """How one of its pages is normalised: the site's zone and language (a generic site reads them
        from the page)."""
        return PageConventions.of(self)

    @property
    def has_archive(self) -> bool:
        """Whether the site has a Hexo archive whose posts ours must reproduce."""
        return bool(self.archive_categories)

    def parse_article(self, html: str, url: str, fetched_at: str) -> RawArticle:
        """The raw fields of one article page (strings as seen; normalising happens later), read by the
        layout the page holds; a page no layout holds is read field by field by each layout, newest
        first. A field nobody finds is left to the generic fallbacks."""
        page = parse_page(html, url)
        raw = self.new_article(url, fetched_at)
        layout = self.layout_of(page)
        readers = [layout(page, url)] if layout is not None else [known(page, url) for known in self.layouts]
        raw.title = _first(reader.title() for reader in readers)
        raw.published = _first(reader.published() for reader in readers)
        raw.modified = _first(reader.modified() for reader in readers)
        raw.byline = _first(reader.byline() for reader in readers)
        raw.editor_line = _first(reader.editor_line() for reader in readers)
        raw.source_link = _first(reader.source_link() for reader in readers)
        raw.tags = _first(reader.tags() for reader in readers) or []
        for reader in readers:
            if parts := reader.body():
                bodies = [reader.body_parts(part.root) for part in parts]
                raw.body_html = "".join(body for body, _ in bodies)
                raw.images = [image for _, images in bodies for image in images]
                raw.layout = reader.name if layout is not None else None
                break
        return raw

    # Helpers for subclasses -------------------------------------------------------------------

    def path_match(self, url: str, pattern: re.Pattern[str]) -> re.Match[str] | None:
        """`pattern` matched against the path of `url`, when the URL is on one of the site's hosts."""
        parts = urlsplit(url)
        return pattern.match(parts.path) if (parts.hostname or "").lower() in self.hosts else None

    def new_article(self, url: str, fetched_at: str) -> RawArticle:
        """An empty RawArticle for the canonical form of `url` (raises ValueError for non-article URLs)."""
        canonical = self.canonical_url(url)
        return RawArticle(
            site=self.name, url=canonical, article_id=self.article_id(canonical) or "", fetched_at=fetched_at
        )

    @staticmethod
    def next_page_url(page: Selector, url: str) -> str | None:
        """The listing's next page: a `rel=next` link, else a link reading 下一页 / 下页 / Next."""
        link = (
            page.css("a[rel~=next]::attr(href)").get()
            or page.xpath(
                "//a[normalize-space(.)='下一页' or normalize-space(.)='下页' or normalize-space(.)='Next']/@href"
            ).get()
        )
        return urljoin(url, link) if link else None

    def layout_of(self, page: Selector) -> type[Layout] | None:
        """The first of the site's layouts (newest first) that holds `page`; None: no known layout."""
        return next((layout for layout in self.layouts if layout.holds(page)), None)


def _first(values: Iterable[T | None]) -> T | None:
    """The first value that is not None or empty (later ones are not computed)."""
    return next((value for value in values if value), None)
