"""One saved page to one Article, the way a crawl does it (same decoding, parser and normalisers).

Used by `scrapy extract` and by the fixture tests: no spider, no network.
"""

from __future__ import annotations

from datetime import datetime, timezone

from newscrawl.items import Article
from newscrawl.normalize.article import build_article
from newscrawl.normalize.dates import to_utc_iso
from newscrawl.normalize.encoding import decode_html
from newscrawl.sites import site_for_url


def extract_article(body: bytes, url: str, content_type: str | None = None, fetched_at: str | None = None) -> Article:
    """The Article of an article page's bytes fetched from `url`. Raises Unusable (missing title, date
    or body), LookupError (no site serves the URL) or ValueError (not an article URL of that site)."""
    site = site_for_url(url)
    decoded = decode_html(body, content_type, site.fallback_encoding)
    if decoded.lossy:
        raise ValueError(f"{url}: bytes that no plausible encoding decodes (U+FFFD would be written)")
    fetched_at = fetched_at or to_utc_iso(datetime.now(timezone.utc))
    return build_article(site.parse_article(decoded.text, url, fetched_at))
