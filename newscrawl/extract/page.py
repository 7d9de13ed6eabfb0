"""One article page to one Article: decode, the site module's parser, its fallbacks, every normaliser.

The one way a page becomes an item: the crawl's spider, `scrapy extract` and the fixture tests all
call it. No spider, no network.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from newscrawl.items import Article, Unusable
from newscrawl.normalize.article import build_article
from newscrawl.normalize.dates import has_offset, to_utc_iso
from newscrawl.normalize.encoding import decode_html
from newscrawl.parsing.fallbacks import fill_gaps, incomplete
from newscrawl.parsing.site import parse_page
from newscrawl.sites import Site, get_site, site_for_url

# The key of `fallbacks` naming the fallback listing source that linked an article (not a field).
LISTING = "listing"


def article_text(site: Site, body: bytes, url: str, content_type: str | None) -> str:
    """An article page's text; raises Unusable("undecodable") rather than let U+FFFD reach an item."""
    decoded = decode_html(body, content_type, site.fallback_encoding)
    if decoded.lossy:
        raise Unusable("undecodable", url, "no plausible charset decodes its bytes")
    return decoded.text


class Listed(NamedTuple):
    """What the listing page showed beside an article's link, where it shows it."""

    date: str | None = None  # a check on fallback dates, and their last resort
    outlet: str | None = None  # the article's source when its page names none


class Page(NamedTuple):
    """A fetched article page, as the crawl hands it to `page_article` (in this process or the parse process)."""

    site: str  # the site module's name
    url: str  # the article URL it was fetched from (after redirects, when that is still an article URL)
    body: bytes
    content_type: str | None  # the Content-Type header, for the charset
    fetched_at: str  # ISO 8601 UTC
    listed: Listed = Listed()
    listing_source: str | None = None  # the fallback listing source that linked it (`Site.listing_source`)


def page_article(page: Page) -> Article:
    """The Article of `page`. Raises Unusable (undecodable, missing title, date or body, implausible date)."""
    return site_article(get_site(page.site), page)


def site_article(site: Site, page: Page) -> Article:
    """The Article of `page`, a page of `site` (registered, or defined elsewhere: a test's site)."""
    text = article_text(site, page.body, page.url, page.content_type)
    conventions = site.page_conventions(text)
    raw = site.parse_article(text, page.url, page.fetched_at)
    if incomplete(raw):  # the site's selectors missed a required field: the page may still carry it
        raw = fill_gaps(raw, parse_page(text, page.url), conventions.timezone, page.listed.date)
    if conventions.zone_assumed and raw.published and not has_offset(raw.published, raw.fetched_at):
        raw.fallbacks["published_zone"] = conventions.zone_assumed
    if page.listed.outlet and not (raw.byline or raw.source_link):
        raw.byline = f"出处：{page.listed.outlet}"
        raw.fallbacks["source"] = LISTING
    if page.listing_source:
        raw.fallbacks[LISTING] = page.listing_source
    return build_article(raw, conventions)


def extract_article(
    body: bytes, url: str, content_type: str | None = None, fetched_at: str | None = None, site: Site | None = None
) -> Article:
    """The Article of an article page's bytes fetched from `url`, a page of `site` (by default the site
    serving the URL). Raises Unusable (see page_article), LookupError (no site serves the URL) or
    ValueError (not an article URL of it)."""
    site = site or site_for_url(url)
    return site_article(site, Page(site.name, url, body, content_type, fetched_at or to_utc_iso(datetime.now(UTC))))
