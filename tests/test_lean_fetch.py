"""The lean fetch's decisions (newscrawl.fetch.lean): when a crawl may fetch image files beside the
downloader, and when Politeness makes a host's requests wait. Its downloads are tested end to end in
tests/test_images.py (the hostile images, through the downloader and lean with each HTTP client)."""

from __future__ import annotations

import asyncio
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from scrapy import Request, Spider
from scrapy.downloadermiddlewares.cookies import CookiesMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import DownloadCancelledError
from scrapy.http import Response
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from newscrawl.fetch.lean import (
    AIOHTTP_HANDLER,
    KNOWN_MIDDLEWARES,
    ImageClient,
    own_client_fits,
    pacing_setting,
    unknown_middlewares,
)
from newscrawl.fetch.politeness import Politeness


class _Unpaced(Spider):
    name = "unpaced"


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, None),
        ({"AUTOTHROTTLE_ENABLED": True}, "AUTOTHROTTLE_ENABLED"),
        ({"DOWNLOAD_DELAY": 0.5}, "DOWNLOAD_DELAY"),
        ({"CONCURRENT_REQUESTS_PER_IP": 2}, "CONCURRENT_REQUESTS_PER_IP"),
        ({"DOWNLOAD_SLOTS": {"img1.mydrivers.com": {"delay": 2}}}, "DOWNLOAD_SLOTS"),
    ],
)
def test_a_setting_that_paces_hosts_keeps_images_in_the_downloader(settings: dict, expected: str | None):
    assert pacing_setting(get_crawler(_Unpaced, settings)) == expected


def test_politeness_says_which_hosts_it_paces():
    crawler = get_crawler(_Unpaced, {"ROBOTSTXT_USER_AGENT": "newscrawl", "NEWSCRAWL_RETRY_AFTER_MAX": 120})
    politeness = Politeness(crawler)
    assert not politeness.paces("img1.mydrivers.com")
    politeness.robots["img1.mydrivers.com"] = 2.0  # its robots.txt's Crawl-delay
    assert politeness.paces("img1.mydrivers.com") and not politeness.paces("static.cnbetacdn.com")
    politeness.held_until["static.cnbetacdn.com"] = time.time() + 600
    assert politeness.paces("static.cnbetacdn.com")


@pytest.mark.parametrize(
    ("settings", "fits"),
    [
        ({"NEWSCRAWL_HTTP_HANDLER": AIOHTTP_HANDLER}, True),
        ({"NEWSCRAWL_HTTP_HANDLER": "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler"}, False),
        ({"NEWSCRAWL_HTTP_HANDLER": AIOHTTP_HANDLER, "DOWNLOADER_CLIENT_TLS_CIPHERS": "HIGH"}, False),
        ({"NEWSCRAWL_HTTP_HANDLER": AIOHTTP_HANDLER, "DOWNLOAD_BIND_ADDRESS": ("127.0.0.2", 0)}, False),
    ],
)
def test_aiohttp_itself_only_where_the_crawl_uses_it_with_scrapys_defaults(settings: dict, fits: bool):
    """The Twisted client checks each address it connects to (newscrawl.fetch.resolver); a GET by aiohttp
    would not: images go through that client, as do settings only Scrapy's handler applies."""
    assert own_client_fits(Settings(settings)) is fits


class _Chunked(BaseHTTPRequestHandler):
    """Bodies of `size` bytes (the path), sent in chunks with no Content-Length, or with one."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        size = int(self.path.strip("/").split("/")[-1])
        self.send_response(200)
        if "declared" in self.path:
            self.send_header("Content-Length", str(size))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for start in range(0, size, 4096):
            chunk = b"x" * min(4096, size - start)
            self.wfile.write(chunk if "declared" in self.path else b"%x\r\n%s\r\n" % (len(chunk), chunk))
        if "declared" not in self.path:
            self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def chunked_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Chunked)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("path", ["/declared/50000", "/chunked/50000"])
def test_aiohttp_itself_holds_the_size_cap_while_the_bytes_arrive(chunked_server: str, path: str):
    """Declared or not, a body over download_maxsize is refused (the image's `too_large`), and one under
    it arrives whole."""
    client = ImageClient(Settings({"CONCURRENT_REQUESTS": 4, "CONCURRENT_REQUESTS_PER_DOMAIN": 4}))

    async def fetch(maxsize: int) -> Response:
        try:
            return await client.get(Request(chunked_server + path, meta={"download_maxsize": maxsize}), {}, 5.0)
        finally:
            await client.close()
            client.session = None

    with pytest.raises(DownloadCancelledError, match="larger than download max size"):
        asyncio.run(fetch(20000))
    response = asyncio.run(fetch(60000))
    assert (response.status, len(response.body), response.url) == (200, 50000, chunked_server + path)


class _OwnRetry(RetryMiddleware):
    """A user's retry middleware: a subclass of a known one may do more than it."""


@pytest.mark.parametrize(
    ("running", "unknown"),
    [
        ({RetryMiddleware: RetryMiddleware}, []),
        ({RetryMiddleware: _OwnRetry}, ["scrapy.downloadermiddlewares.retry.RetryMiddleware"]),
        ({CookiesMiddleware: CookiesMiddleware}, ["scrapy.downloadermiddlewares.cookies.CookiesMiddleware"]),
    ],
)
def test_only_middlewares_it_knows_exactly_let_images_past_the_downloader(
    running: dict[type, type], unknown: list[str]
):
    """Which running downloader middlewares keep the lean fetch off (the crawl's own instances are read
    from the crawler; here, which classes run is given)."""
    crawler = get_crawler(_Unpaced)
    instances = {cls: made.__new__(made) for cls, made in running.items()}
    crawler.get_downloader_middleware = instances.get  # type: ignore[method-assign]
    assert unknown_middlewares(crawler, KNOWN_MIDDLEWARES) == unknown
