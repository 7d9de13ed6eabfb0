"""Blocks are not layout breaks: a page the site refused to show is recognised, and stays pending.

A downloader middleware, after the retries (it sees what they gave up on). A page request is blocked
when the answer is a 403, a 429 without `Retry-After` (newscrawl.fetch.politeness handles those
with one), a WAF's challenge header (`cf-mitigated: challenge`, `x-amzn-waf-action`), or a small
2xx HTML page carrying a challenge platform's marker (Cloudflare's challenge scripts, AWS WAF's,
DataDome's, Imperva's, GeeTest's, or the site's own `Site.block_markers`) that holds none of the
site's article layouts. Such a response raises `Blocked`: counted as the attention reason `blocked`
(exit 2), logged once per host, the page or article left pending for the next run, nothing parsed
from it — no fallback extraction from a challenge page, and no layout alarm.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from parsel import Selector
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached

from newscrawl.exit_codes import attention
from newscrawl.fetch.scope import ARTICLE_PAGE
from newscrawl.sites import NotASiteCrawl, Site, site_of

logger = logging.getLogger(__name__)

# What challenge pages carry and articles do not: scripts and forms of the platforms that serve them.
CHALLENGE_MARKERS = (
    b"/cdn-cgi/challenge-platform/",
    b"window._cf_chl_opt",
    b"cf-browser-verification",
    b"awswafintegration",
    b"aws-waf-token",
    b"captcha-delivery.com",
    b"_incapsula_resource",
    b"initgeetest",
)
# A challenge page is small; an article page that quotes a marker in its text is not, and holds a layout.
CHALLENGE_MAX_SIZE = 64 * 1024
_WAF_HEADERS = {b"cf-mitigated": (b"challenge",), b"x-amzn-waf-action": (b"challenge", b"captcha")}


class Blocked(IgnoreRequest):
    """The site refused to show the page (a block or a challenge): it stays pending for the next run."""


def block_reason(
    status: int, headers: Mapping[bytes, bytes], body: bytes, markers: tuple[bytes, ...] = CHALLENGE_MARKERS
) -> str | None:
    """Why a response looks like a block (`http_403`, `http_429`, `waf_header`, `challenge_page`), or
    None. `headers`: lower-case names. A challenge marker counts only in a small page; whether the page
    holds an article layout is the caller's check."""
    if status == 403 or (status == 429 and b"retry-after" not in headers):
        return f"http_{status}"
    for name, values in _WAF_HEADERS.items():
        if headers.get(name, b"").strip().lower() in values:
            return "waf_header"
    if 200 <= status < 300 and len(body) <= CHALLENGE_MAX_SIZE:
        head = body.lower()
        if any(marker in head for marker in markers):
            return "challenge_page"
    return None


class BlockDetector:
    def __init__(self, crawler: Crawler, site: Site) -> None:
        self.crawler = crawler
        self.site = site
        self.markers = CHALLENGE_MARKERS + tuple(marker.lower().encode() for marker in site.block_markers)
        self.reported: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BlockDetector:
        try:
            return cls(crawler, site_of(crawler))
        except NotASiteCrawl:
            raise NotConfigured("not a site's spider") from None

    def process_response(self, request: Request, response: Response) -> Response:
        parts = urlparse_cached(request)
        if ARTICLE_PAGE in request.meta or parts.path == "/robots.txt":  # images and robots.txt are not pages
            return response
        headers = {bytes(name).lower(): bytes(values[-1]) for name, values in response.headers.items() if values}
        reason = block_reason(response.status, headers, response.body, self.markers)
        if reason == "challenge_page" and self._holds_an_article(response):
            return response
        if reason is None:
            return response
        host = parts.hostname or ""
        attention(self.crawler, "blocked")
        self.crawler.stats.inc_value(f"newscrawl/blocked/{reason}")
        if host not in self.reported:
            self.reported.add(host)
            logger.error(
                "Blocked by %s (%s) at %s: the page stays pending; a person must look (exit 2)",
                host,
                reason,
                request.url,
            )
        raise Blocked(f"blocked by {host} ({reason}): {request.url}")

    def _holds_an_article(self, response: Response) -> bool:
        try:
            return self.site.layout_of(Selector(text=response.text)) is not None
        except (AttributeError, ValueError):  # not text: no layout
            return False
