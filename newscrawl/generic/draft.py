"""A site module drafted from what a generic crawl learned (`scrapy newsite`).

From the pages a generic crawl fetched and the items it made of them, `learn` finds the selectors that
give the same values on every page — the element holding the title, the date, the body; the links a
listing's articles are — and `module_source` writes them as a site module with one layout, for a person
to read against the pages and confirm. Pure: pages in, text out.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree
from parsel import Selector

from newscrawl.generic.links import article_key
from newscrawl.parsing.fallbacks import date_in
from newscrawl.parsing.layout import first_text

_TOKEN = re.compile(r"<n>|<slug>")
_SPACE = re.compile(r"\s+")
_BLOCKS = ("div", "article", "section", "main", "td")


@dataclass(frozen=True)
class ArticlePage:
    url: str
    page: Selector
    title: str
    published_raw: str
    body_html: str


@dataclass(frozen=True)
class ListingPage:
    url: str
    page: Selector
    article_urls: list[str]


@dataclass(frozen=True)
class Learned:
    """What the drafted module reads with, each a piece of Python for the layout's method, and where from."""

    title: str
    published: str
    body_css: str
    listing_css: str
    article_regex: str

    def lines(self) -> list[str]:
        return [
            f"title: {self.title}",
            f"published: {self.published}",
            f"body: {self.body_css}",
            f"listing links: {self.listing_css}",
            f"article URLs: {self.article_regex}",
        ]


class CannotLearn(ValueError):
    """No selector gives the same values on every page: say which field."""


def text_of(value: str | Selector | etree._Element) -> str:
    if isinstance(value, str):
        return _SPACE.sub("", etree.HTML(f"<div>{value}</div>").xpath("string()") if value.strip() else "")
    root = value.root if isinstance(value, Selector) else value
    return _SPACE.sub("", root.xpath("string()"))


def css_of(element: etree._Element) -> str:
    """A CSS selector for an element: `tag#id`, `tag.class`, else its parent's and ` > tag`."""
    parts: list[str] = []
    current: etree._Element | None = element
    while current is not None and isinstance(current.tag, str) and current.tag not in ("html", "body"):
        if current.get("id"):
            parts.append(f"{current.tag}#{current.get('id')}")
            break
        classes = (current.get("class") or "").split()
        if classes:
            parts.append(f"{current.tag}.{classes[0]}")
            break
        parts.append(current.tag)
        current = current.getparent()
    return " > ".join(reversed(parts))


def _agreeing(candidates: Iterable[str], holds: Sequence[Any], check: Callable[[str, Any], bool]) -> str | None:
    """The first candidate selector `check(selector, each)` accepts for every page in `holds`."""
    for candidate in candidates:
        if all(check(candidate, each) for each in holds):
            return candidate
    return None


def _title(pages: Sequence[ArticlePage]) -> str:
    first = pages[0]
    elements = [
        element
        for element in first.page.root.iter("h1", "h2", "div", "span", "p")
        if _SPACE.sub(" ", element.xpath("string()")).strip() == first.title
    ]
    elements.sort(key=lambda element: ("h1", "h2").index(element.tag) if element.tag in ("h1", "h2") else 2)
    found = _agreeing(
        (css_of(element) for element in elements),
        pages,
        lambda css, each: (first_text(each.page, css) or "") == each.title,
    )
    if found:
        return f"first_text(self.page, {found!r})"
    if all(each.page.css('meta[property="og:title"]::attr(content)').get() == each.title for each in pages):
        return "self.page.css('meta[property=\"og:title\"]::attr(content)').get()"
    raise CannotLearn("title: no element or og:title holds the title on every page")


def _published(pages: Sequence[ArticlePage]) -> str:
    first = pages[0]
    for attribute in ("content", "datetime"):
        for element in first.page.root.xpath(f"//*[@{attribute}]"):
            if element.get(attribute, "").strip() == first.published_raw:
                css = css_of(element) if element.tag != "meta" else _meta_css(element)
                query = f"{css}::attr({attribute})"
                if all((each.page.css(query).get() or "").strip() == each.published_raw for each in pages):
                    return f"self.page.css({query!r}).get()"
    holders = [
        element
        for element in first.page.root.iter(*_BLOCKS, "span", "p", "time", "em")
        if first.published_raw in _SPACE.sub(" ", "".join(element.itertext())).strip()
        and len(element.xpath("string()")) < 200
    ]
    holders.sort(key=lambda element: len(element.xpath("string()")))
    found = _agreeing(
        (css_of(element) for element in holders),
        pages,
        lambda css, each: date_in(first_text(each.page, css)) == each.published_raw,
    )
    if found:
        return f"date_in(first_text(self.page, {found!r}))"
    raise CannotLearn("published: no element shows the date on every page")


def _meta_css(element: etree._Element) -> str:
    for attribute in ("property", "name", "itemprop"):
        if element.get(attribute):
            return f'meta[{attribute}="{element.get(attribute)}"]'
    return "meta"


def _body(pages: Sequence[ArticlePage]) -> str:
    """The block whose text is closest to the body the fallbacks found, on every page."""
    scored = []
    for each in pages[:1]:
        wanted = text_of(each.body_html)
        for element in each.page.root.iter(*_BLOCKS):
            text = text_of(element)
            if 0.5 * len(wanted) <= len(text) <= 3 * len(wanted):
                scored.append((difflib.SequenceMatcher(None, text, wanted, autojunk=False).ratio(), element))
    scored.sort(key=lambda pair: -pair[0])

    def close(css: str, each: ArticlePage) -> bool:
        found = each.page.css(css)
        return (
            len(found) == 1 and difflib.SequenceMatcher(None, text_of(found[0]), text_of(each.body_html)).ratio() >= 0.8
        )

    found = _agreeing((css_of(element) for _, element in scored[:10]), pages, close)
    if found is None:
        raise CannotLearn("body: no one block holds the body on every page")
    return found


def _listing(listings: Sequence[ListingPage]) -> str:
    """The selector of the article links: the anchors' nearest named ancestor and `a`, or items' data-url."""
    first = listings[0]
    wanted = set(first.article_urls)
    candidates: Counter[str] = Counter()
    for element in first.page.root.iter("a", "div", "li", "article"):
        target = element.get("href") if element.tag == "a" else element.get("data-url")
        if not target or urljoin(first.url, target.strip()).split("#")[0] not in wanted:
            continue
        if element.tag != "a":
            candidates[f"{css_of(element)}::attr(data-url)"] += 1
            continue
        ancestor = element.getparent()
        for _ in range(4):
            if ancestor is None or ancestor.tag in ("body", "html"):
                break
            if ancestor.get("id") or ancestor.get("class"):
                candidates[f"{css_of(ancestor)} a::attr(href)"] += 1
            ancestor = ancestor.getparent()

    def exact(css: str, each: ListingPage) -> bool:
        found = {urljoin(each.url, link.strip()).split("#")[0] for link in each.page.css(css).getall()}
        return {link for link in found if article_key(link)} == set(each.article_urls)

    found = _agreeing((css for css, _ in candidates.most_common()), listings, exact)
    if found is None:
        raise CannotLearn("listing: no selector gives exactly the article links on every listing page")
    return found


def article_regex(shape: str) -> str:
    """`/news/<n>/<slug>` → `^/news/\\d+/[A-Za-z0-9-]+$`."""
    pieces = _TOKEN.split(shape)
    tokens = _TOKEN.findall(shape)
    out = re.escape(pieces[0])
    for token, piece in zip(tokens, pieces[1:], strict=True):
        out += (r"\d+" if token == "<n>" else r"[A-Za-z0-9-]+") + re.escape(piece)
    return f"^{out}$"


def learn(articles: Sequence[ArticlePage], listings: Sequence[ListingPage], shape: str) -> Learned:
    """The selectors giving the generic crawl's values on every page (CannotLearn names the field that has none)."""
    if not articles or not listings:
        raise CannotLearn("no article page or no listing page was fetched")
    return Learned(_title(articles), _published(articles), _body(articles), _listing(listings), article_regex(shape))


def module_source(
    learned: Learned,
    *,
    name: str,
    display_name: str,
    hosts: Sequence[str],
    timezone: str,
    language: str,
    fixture: tuple[str, str],
    provenance: str,
) -> str:
    """The drafted site module's text."""
    class_name = "".join(part.capitalize() for part in name.split("_")) or "Drafted"
    return f'''"""{display_name} ({", ".join(hosts)}): a site module DRAFTED by `scrapy newsite` ({provenance}).

Every selector was learned from the pages in the fixtures beside it, the values each gave checked on
all of them. A draft: read each selector against the pages, correct what is wrong, confirm the expected
items (rename each `*.expected.draft.json` to `*.expected.json`), then move this file into
newscrawl/sites/ and its fixtures into fixtures/ (docs/generic.md, "A module from a crawl").
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from parsel import Selector

from newscrawl.generic.links import article_key, content_links, next_page
from newscrawl.parsing.fallbacks import date_in
from newscrawl.parsing.layout import Layout, first_text
from newscrawl.parsing.site import Site, parse_page
from newscrawl.parsing.sources import Listing

_ARTICLE = re.compile({learned.article_regex!r})


class Drafted(Layout):
    """The article page as `scrapy newsite` read it."""

    name = "drafted"
    seen = {("drafted by scrapy newsite: " + provenance)!r}
    fixture = {fixture!r}

    @classmethod
    def holds(cls, page: Selector) -> bool:
        return bool(page.css({learned.body_css!r}))

    def title(self) -> str | None:
        return {learned.title}

    def published(self) -> str | None:
        return {learned.published}

    def body(self) -> list[Selector]:
        return list(self.page.css({learned.body_css!r})[:1])


class {class_name}(Site):
    name = {name!r}
    display_name = {display_name!r}
    hosts = {tuple(hosts)!r}
    timezone = ZoneInfo({timezone!r})
    language = {language!r}
    layouts = (Drafted,)
    listing_links_css = {learned.listing_css!r}

    def article_id(self, url: str) -> str | None:
        return article_key(url) if self.path_match(url, _ARTICLE) else None

    def canonical_url(self, url: str) -> str:
        if self.article_id(url) is None:
            raise ValueError(f"not a {{self.display_name}} article URL: {{url}}")
        parts = urlsplit(url)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))

    def tag_page_url(self, tag: str) -> str:
        if self.owns(tag) and self.article_id(tag) is None:
            return tag
        raise ValueError(f"not a listing page URL of {{self.display_name}}: {{tag!r}}")

    def parse_tag_page(self, html: str, url: str) -> Listing:
        page = parse_page(html, url)
        links = [urljoin(url, link.strip()) for link in page.css(self.listing_links_css).getall()]
        return Listing(article_urls=links, next_url=next_page(page, url, content_links(page, url)))


SITE = {class_name}()
'''


def page_path(url: str) -> str:
    """Where the bundled site keeps `url`: `site/<host>/<path>[@query]`."""
    parts = urlsplit(url)
    return f"site/{parts.hostname}/{parts.path.lstrip('/')}" + (f"@{parts.query}" if parts.query else "")
