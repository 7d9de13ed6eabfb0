"""One saved page to one Article, the way a crawl does it (same decoding, parser and normalisers).

Used by `scrapy extract` and by the fixture tests: no spider, no network.
"""

from __future__ import annotations

from datetime import datetime, timezone

from newscrawl.items import Article
from newscrawl.normalize.article import Unusable, build_article
from newscrawl.normalize.dates import to_utc_iso
from newscrawl.normalize.encoding import decode_html
from newscrawl.sites import Site, site_for_url


def article_text(site: Site, body: bytes, url: str, content_type: str | None) -> str:
    """An article page's text; raises Unusable("undecodable") rather than let U+FFFD reach an item."""
    decoded = decode_html(body, content_type, site.fallback_encoding)
    if decoded.lossy:
        raise Unusable("undecodable", url, "no plausible charset decodes its bytes")
    return decoded.text


def extract_article(body: bytes, url: str, content_type: str | None = None, fetched_at: str | None = None) -> Article:
    """The Article of an article page's bytes fetched from `url`. Raises Unusable (undecodable, missing
    title, date or body), LookupError (no site serves the URL) or ValueError (not an article URL of it)."""
    site = site_for_url(url)
    text = article_text(site, body, url, content_type)
    fetched_at = fetched_at or to_utc_iso(datetime.now(timezone.utc))
    return build_article(site.parse_article(text, url, fetched_at))
