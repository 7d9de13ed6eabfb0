"""One article page to one Article: decode, the site module's parser, every normaliser.

The one way a page becomes an item: the crawl's spider, `scrapy extract` and the fixture tests all
call it. No spider, no network.
"""

from __future__ import annotations

from datetime import datetime, timezone

from newscrawl.items import Article, Unusable
from newscrawl.normalize.article import build_article
from newscrawl.normalize.dates import to_utc_iso
from newscrawl.normalize.encoding import decode_html
from newscrawl.sites import Site, get_site, site_for_url


def article_text(site: Site, body: bytes, url: str, content_type: str | None) -> str:
    """An article page's text; raises Unusable("undecodable") rather than let U+FFFD reach an item."""
    decoded = decode_html(body, content_type, site.fallback_encoding)
    if decoded.lossy:
        raise Unusable("undecodable", url, "no plausible charset decodes its bytes")
    return decoded.text


def page_article(site_name: str, body: bytes, url: str, content_type: str | None, fetched_at: str) -> Article:
    """The Article of a page of site `site_name` fetched from `url`. Raises Unusable (undecodable,
    missing title, date or body, implausible date)."""
    site = get_site(site_name)
    return build_article(site.parse_article(article_text(site, body, url, content_type), url, fetched_at))


def extract_article(body: bytes, url: str, content_type: str | None = None, fetched_at: str | None = None) -> Article:
    """The Article of an article page's bytes fetched from `url`. Raises Unusable (see page_article),
    LookupError (no site serves the URL) or ValueError (not an article URL of it)."""
    site = site_for_url(url)
    return page_article(site.name, body, url, content_type, fetched_at or to_utc_iso(datetime.now(timezone.utc)))
