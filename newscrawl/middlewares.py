"""Downloader middleware: redirects to anything but http(s) end cleanly, counted and logged once.

Scrapy's RedirectMiddleware raises a ValueError (with a traceback) on `Location: javascript:…` and
passes a `file:///etc/passwd` redirect on as an unexplained 301. Both are hostile or broken: this
middleware, closer to the downloader, ignores such responses under `newscrawl/redirect/bad_scheme`.
"""

from __future__ import annotations

import logging
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

logger = logging.getLogger(__name__)
_REDIRECTS = {301, 302, 303, 307, 308}


class SafeRedirectMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SafeRedirectMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status not in _REDIRECTS or b"Location" not in response.headers:
            return response
        location = response.headers[b"Location"].decode("latin-1").strip()
        scheme = urlsplit(urljoin(request.url, location)).scheme.lower()
        if scheme in ("http", "https"):
            return response
        self.crawler.stats.inc_value("newscrawl/redirect/bad_scheme")
        logger.warning("Ignored a redirect from %s to a %s: URL (%r)", request.url, scheme or "schemeless", location[:200])
        raise IgnoreRequest(f"redirect to a non-http URL: {location[:200]}")
