"""What a page commonly carries besides a site's own markup: the fallbacks used when a site module's
selectors find nothing, each value labelled with where it came from.

A site module is exact on the layouts it knows; the live site may have changed since. Rather than
drop the article (Fundus) or guess every field generically (news-please, trafilatura alone), newscrawl
fills only the fields the site module left empty, from, in order of trust:

- title: schema.org JSON-LD `headline` → `og:title` → the page's only `<h1>` → `<title>` (the site's
  suffixes are stripped later, as for any title);
- published: JSON-LD `datePublished` → `article:published_time` (and its `itemprop`/`pubdate`
  spellings) → `<time datetime>` → a date written as text beside the title → the date the listing
  page showed beside the link. When two structured sources disagree by more than a day the page is
  dropped (`fallback_dates_disagree`): one of them is wrong and nothing says which; so is a page whose
  fallback date is more than a day from the listing's (`fallback_date_far_from_listing`);
- author: JSON-LD `author.name`, when the page has no byline at all;
- body_html and images: trafilatura's main-content extraction (HTML output, images and links kept,
  recall favoured: its precision mode lost leads written outside a <p>, such as cnBeta's summary),
  which then goes through the same sanitiser, image and URL normalisers as any body. Blocks that
  repeat the title or the date line are page chrome and are taken out; a result with fewer than
  MIN_BODY_CHARACTERS characters of text left is not taken (the page is dropped as missing_body).
  trafilatura is chosen because it is maintained, handles Chinese pages (no word-based heuristics
  that need spaces), and keeps paragraphs, lists, code and images as HTML; it loses the `<a>` around
  an image (the item keeps the image as shown, not its full-size link) and footer lines.

Every field filled here is named in `RawArticle.fallbacks` (field → source), which becomes the item's
`fallbacks`, the `newscrawl/fallback/<field>` stats and the layout-break alarm (newscrawl.run.monitors).
Nothing here runs for a page the site module read whole.

For a listing page whose selectors find no article links, `article_links` takes the links the site
module recognises as article URLs (protocol-relative ones too), from the page's main content: links
inside navigation, headers, footers, asides and side/hot/rank boxes are left out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from lxml import html as lxml_html
from parsel import Selector

from newscrawl.items import RawArticle, RawImage, Unusable
from newscrawl.normalize.bylines import split_byline
from newscrawl.normalize.dates import parse_date
from newscrawl.normalize.html import inner_html
from newscrawl.normalize.images import shown_source

ARTICLE_TYPES = {"NewsArticle", "Article", "BlogPosting", "ReportageNewsArticle", "TechArticle", "AnalysisNewsArticle"}
MIN_BODY_CHARACTERS = 80  # less text than this from the extractor is not an article body
DATES_AGREE_WITHIN = timedelta(days=1)
_META_DATES = (
    ('meta[property="article:published_time"]::attr(content)', "meta:article:published_time"),
    ('meta[itemprop="datePublished"]::attr(content)', "meta:itemprop:datePublished"),
    ('meta[name="pubdate"]::attr(content), meta[name="publishdate"]::attr(content)', "meta:pubdate"),
)
_VISIBLE_DATE = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}\s+\d{1,2}:\d{2}(?::\d{2})?|\d{4}年\d{1,2}月\d{1,2}日\s*\d{1,2}:\d{2}(?::\d{2})?"
)


def incomplete(raw: RawArticle) -> bool:
    """Did the site module miss a field every article needs (title, date, body)? Only then are
    fallbacks looked for (the author's among them), so a page read whole costs nothing more."""
    return not (raw.title and raw.body_html and (raw.published or split_byline(raw.byline).date_text))


def fill_gaps(raw: RawArticle, page: Selector, timezone: ZoneInfo, listed: str | None = None) -> RawArticle:
    """`raw` with every empty field the page offers elsewhere filled in and named in `raw.fallbacks`;
    `listed` is the date the listing showed beside the link, if any. Raises Unusable when the page's
    own dates contradict each other or the listing's."""
    linked_data = _article_linked_data(page)
    if not raw.title:
        _take(raw, "title", *_title(page, linked_data))
    if not (raw.published or split_byline(raw.byline).date_text):
        value, source = _published(page, linked_data, raw, timezone)
        if value is not None and listed:
            _check_against_listing(value, source, listed, raw, timezone)
        _take(raw, "published", *((value, source) if value is not None else (listed, "listing")))
    if not raw.byline and (author := _author(linked_data)):
        raw.byline = f"作者：{author}"
        raw.fallbacks["author"] = "json-ld"
    if not raw.body_html:
        body = _main_content(page, [raw.title, raw.published or split_byline(raw.byline).date_text])
        if body is not None:
            raw.body_html, raw.images = body
            raw.fallbacks["body_html"] = "trafilatura"
            if raw.images:
                raw.fallbacks["images"] = "trafilatura"
    return raw


def _take(raw: RawArticle, name: str, value: str | None, source: str | None) -> None:
    if value:
        setattr(raw, name, value)
        raw.fallbacks[name] = source or "?"


# Listing pages -----------------------------------------------------------------------------------

_CHROME_TAGS = {"nav", "header", "footer", "aside"}
_BOXES = {"div", "section", "ul", "ol", "dl", "table", "tbody", "tr", "td", "iframe", "form"}
_CHROME_NAMES = re.compile(
    r"(^|[-_ ])(nav|menu|header|footer|side|sidebar|aside|hot|rank|recommend|related|breadcrumb)"
    r"([-_ 0-9]|$)",
    re.I,
)


def article_links(page: Selector, url: str, article_id: Callable[[str], str | None]) -> list[str]:
    """Article URLs linked from the page's main content, in page order, once per article id."""
    roots = page.css("main, [role=main]") or [page]
    found: dict[str, str] = {}
    for root in roots:
        for link in root.root.iter("a"):
            href = link.get("href")
            if not href or in_chrome(link):
                continue
            absolute = urljoin(url, href.strip())
            if (key := article_id(absolute)) is not None and key not in found:
                found[key] = absolute
    return list(found.values())


def in_chrome(element: Any) -> bool:
    """Inside navigation, a header, footer, aside or a side/hot/rank box (the page's <body> and <html>,
    whose classes describe the whole page, do not count; nor do a heading's or an inline element's: an
    item's `h3.header` is its title, not the page's header)."""
    for ancestor in element.iterancestors():
        if ancestor.tag in ("body", "html"):
            return False
        if ancestor.tag in _CHROME_TAGS or (
            ancestor.tag in _BOXES and _CHROME_NAMES.search(f"{ancestor.get('class', '')} {ancestor.get('id', '')}")
        ):
            return True
    return False


# JSON-LD ------------------------------------------------------------------------------------------


def _article_linked_data(page: Selector) -> dict[str, Any]:
    """The page's first schema.org article object in JSON-LD (top level, a list, or an @graph)."""
    for script in page.css('script[type="application/ld+json"]::text').getall():
        try:
            data = json.loads(script)
        except ValueError:
            continue
        for thing in _things(data):
            types = thing.get("@type")
            if ARTICLE_TYPES & set(types if isinstance(types, list) else [types]):
                return thing
    return {}


def _things(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for element in data:
            yield from _things(element)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _things(data["@graph"])


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _author(linked_data: dict[str, Any]) -> str | None:
    author = linked_data.get("author")
    if isinstance(author, list):
        author = author[0] if author else None
    return _text(author.get("name")) if isinstance(author, dict) else _text(author)


# Title and date -----------------------------------------------------------------------------------


def _title(page: Selector, linked_data: dict[str, Any]) -> tuple[str | None, str | None]:
    if headline := _text(linked_data.get("headline")) or _text(linked_data.get("name")):
        return headline, "json-ld"
    if og := _text(page.css('meta[property="og:title"]::attr(content)').get()):
        return og, "og:title"
    headings = [text for h1 in page.css("h1") if (text := " ".join(h1.css("::text").getall()).strip())]
    if len(headings) == 1:
        return headings[0], "h1"
    if title := _text(" ".join(page.css("title::text").getall())):
        return title, "title"
    return None, None


def _published(
    page: Selector, linked_data: dict[str, Any], raw: RawArticle, timezone: ZoneInfo
) -> tuple[str | None, str | None]:
    """The first structured date, after checking the structured ones agree; else a date beside the title."""
    candidates: list[tuple[str, str]] = []
    if value := _text(linked_data.get("datePublished")):
        candidates.append((value, "json-ld"))
    for query, source in _META_DATES:
        if value := _text(page.css(query).get()):
            candidates.append((value, source))
    if value := _text(page.css("time::attr(datetime)").get()):
        candidates.append((value, "time"))
    fetched = datetime.fromisoformat(raw.fetched_at)
    moments = [(moment, source) for value, source in candidates if (moment := parse_date(value, timezone, fetched))]
    if moments:
        earliest, latest = min(m for m, _ in moments), max(m for m, _ in moments)
        if latest - earliest > DATES_AGREE_WITHIN:
            raise Unusable(
                "fallback_dates_disagree",
                raw.url,
                "; ".join(f"{source} {moment.isoformat()}" for moment, source in moments),
            )
        return next(value for value, source in candidates if source == moments[0][1]), moments[0][1]
    return _date_beside_title(page, raw.title)


def _check_against_listing(value: str, source: str | None, listed: str, raw: RawArticle, timezone: ZoneInfo) -> None:
    fetched = datetime.fromisoformat(raw.fetched_at)
    found, shown = parse_date(value, timezone, fetched), parse_date(listed, timezone, fetched)
    if found is not None and shown is not None and abs(found - shown) > DATES_AGREE_WITHIN:
        raise Unusable(
            "fallback_date_far_from_listing", raw.url, f"{source} {found.isoformat()}, the listing {shown.isoformat()}"
        )


def date_in(text: str | None) -> str | None:
    """The first date written in `text` (`YYYY-MM-DD HH:MM[:SS]` or `YYYY年M月D日 HH:MM`), as written."""
    match = _VISIBLE_DATE.search(text or "")
    return match.group(0) if match else None


def _date_beside_title(page: Selector, title: str | None) -> tuple[str | None, str | None]:
    """A date written as text in the title's block: the heading's parent, then grandparent."""
    headings = page.xpath("//h1") or (
        page.xpath(f"//*[normalize-space(text())={_xpath_literal(title)}]") if title else []
    )
    for heading in headings[:1]:
        for block in (heading.xpath(".."), heading.xpath("../..")):
            text = " ".join(block.xpath(".//text()[not(ancestor::script or ancestor::style)]").getall())
            if found := date_in(text):
                return found, "text beside the title"
    return None, None


def _xpath_literal(text: str) -> str:
    if "'" not in text:
        return f"'{text}'"
    return "concat('" + "', \"'\", '".join(text.split("'")) + "')"


# Body ---------------------------------------------------------------------------------------------


def _main_content(page: Selector, headline: list[str | None]) -> tuple[str, list[RawImage]] | None:
    """trafilatura's main content as HTML, and its images; None when too little text is left once the
    blocks repeating the title or the date line (`headline`: page chrome, not body) are taken out."""
    import trafilatura  # imported on first use: a page the site module reads whole never pays for it

    extracted = trafilatura.extract(
        page.get(),
        output_format="html",
        include_images=True,
        include_links=True,
        include_tables=True,
        include_comments=False,
        favor_recall=True,
    )
    if not extracted:
        return None
    tree = lxml_html.fromstring(extracted)
    body = tree.find(".//body")
    container = body if body is not None else tree
    markers = [" ".join(text.split()) for text in headline if text and text.strip()]
    for block in list(container):
        text = " ".join(block.text_content().split())
        if block.find(".//img") is None and text and any(text == marker or marker in text for marker in markers):
            block.drop_tree()
    if len("".join(container.text_content().split())) < MIN_BODY_CHARACTERS:
        return None
    images = [
        RawImage(
            src=shown_source(dict(img.attrib)),
            link=next((a.get("href") for a in img.iterancestors("a")), None),
            alt=img.get("alt"),
        )
        for img in container.iter("img")
    ]
    return inner_html(container), images
