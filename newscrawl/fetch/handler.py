"""Offline crawling: the spider requests the real URLs; with NEWSCRAWL_OFFLINE_ROOT set, this download
handler fetches `https://news.mydrivers.com/tag/x.htm` from `<root>/news.mydrivers.com/tag/x.htm`
instead (the bundled site, served on 127.0.0.1) and hands back a response carrying the real URL.

It sits below every middleware, so robots.txt, redirects, retries, offsite filtering and stats run
exactly as they do live; only the socket goes to the loopback server. Live crawls use the same
handler: it wraps the HTTP client NEWSCRAWL_HTTP_HANDLER names (Scrapy's Twisted one by default, whose
pool it lets keep more connections alive; or Scrapy's aiohttp one, faster and marked experimental by
Scrapy), so offline and live crawls download through the same client.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.misc import build_from_crawler, load_object

logger = logging.getLogger(__name__)


def loopback_url(url: str, root: str) -> str:
    """`https://host/path?q` → `<root>/host/path?q`."""
    parts = urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{root.rstrip('/')}/{parts.hostname}{parts.path or '/'}{query}"


def keep_more_connections_alive(client: HTTP11DownloadHandler, per_host: int) -> bool:
    """Let the Twisted client's connection pool keep `per_host` idle connections per host.

    Twisted's pool closes a connection coming back when as many idle ones as maxPersistentPerHost are
    cached, and Scrapy sizes it to CONCURRENT_REQUESTS_PER_DOMAIN. A slot starts its next request
    before the last ones' connections are back, so at full speed most connections were closed on
    their return and new ones opened (docs/performance.md). The pool never opens more than the crawl
    needs at once; the cap only decides how many are closed on their return.

    Scrapy has no public setting for it: this is the one place newscrawl uses a private attribute of
    Scrapy's (`HTTP11DownloadHandler._pool`), and tests/test_connections.py fails when it goes away.
    Returns False (and Scrapy's own sizing stays) when this Scrapy has no such pool.
    """
    pool = getattr(client, "_pool", None)
    if pool is None or not hasattr(pool, "maxPersistentPerHost"):
        return False
    pool.maxPersistentPerHost = per_host
    return True


class LoopbackDownloadHandler(BaseDownloadHandler):
    """The HTTP client (NEWSCRAWL_HTTP_HANDLER: Scrapy's own by default), pointed at the bundled site
    when NEWSCRAWL_OFFLINE_ROOT is set. It is the handler of live crawls too."""

    lazy = False

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.client = build_from_crawler(load_object(crawler.settings.get("NEWSCRAWL_HTTP_HANDLER")), crawler)
        if isinstance(self.client, HTTP11DownloadHandler):
            per_host = 4 * crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
            if not keep_more_connections_alive(self.client, per_host):
                logger.warning(
                    "This Scrapy's HTTP client has no connection pool newscrawl knows how to size: "
                    "connections are closed as Scrapy decides (slower, not wrong)"
                )
        self.root = (
            crawler.settings.get("NEWSCRAWL_OFFLINE_ROOT") or None
        )  # a loopback URL (checked by newscrawl.addon)

    async def download_request(self, request: Request) -> Response:
        if not self.root:
            return await self.client.download_request(request)
        response = await self.client.download_request(request.replace(url=loopback_url(request.url, self.root)))
        # A new response of the same class rather than `response.replace()`, which would work out a
        # text response's encoding (a scan of the body) that a live download leaves for later.
        return type(response)(
            url=request.url,
            status=response.status,
            headers=response.headers,
            body=response.body,
            flags=response.flags,
            request=request,
            certificate=response.certificate,
            ip_address=response.ip_address,
            protocol=response.protocol,
        )

    async def close(self) -> None:
        await self.client.close()
