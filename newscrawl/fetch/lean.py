"""The lean fetch of image files (NEWSCRAWL_IMAGES_LEAN_FETCH): a GET of the file, without the engine,
the downloader's middleware chain and its slots around it, which cost an image about as much reactor
time again (docs/performance.md). It is made by the crawl's own HTTP client (newscrawl.fetch.handler:
its size cap, timeout, TLS settings and address check), or, where that client is Scrapy's aiohttp one
with its default TLS settings, by aiohttp itself (ImageClient), whose handler costs as much again.

It is used only where it changes nothing an image request would meet in the downloader:
- in a crawl whose every running downloader middleware is one whose work on an image request is
  done here or left to the downloader (KNOWN_MIDDLEWARES: a WARC capture, a cookie jar, a proxy in the
  environment, an HTTP cache or a middleware of the user's turns it off), and where nothing paces
  hosts by time (AutoThrottle, DOWNLOAD_DELAY, per-IP or per-slot settings): decided at the first image;
- for a request in the crawl's scope, whose host's robots.txt the downloader has read and which it
  allows, and whose host Politeness does not pace (a Crawl-delay, a Retry-After).
Everything else, and every answer that needs more than a GET — a redirect (followed hop by hop
through the scope rule there), a status Scrapy retries, a Content-Encoding, a failed download — is
handed over (`HandOver`) to the downloader, which does what it always does; an attempt made here
counts as one of the request's retries, and a 429 or 503 met here goes to Politeness first (its
Retry-After). The request sends what the downloader's would: its article
page as Referer, the User-Agent and default headers, no cookies, no Accept-Encoding.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.request import getproxies

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.defaultheaders import DefaultHeadersMiddleware
from scrapy.downloadermiddlewares.downloadtimeout import DownloadTimeoutMiddleware
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.httpproxy import HttpProxyMiddleware
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.downloadermiddlewares.stats import DownloaderStats
from scrapy.downloadermiddlewares.useragent import UserAgentMiddleware
from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.settings import BaseSettings, default_settings
from scrapy.utils.conf import build_component_list
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler, load_object

from newscrawl.fetch.blocks import BlockDetector
from newscrawl.fetch.handler import LoopbackDownloadHandler, loopback_url
from newscrawl.fetch.politeness import BACKING_OFF, Politeness
from newscrawl.fetch.scope import ARTICLE_PAGE, SafeRedirectMiddleware, ScopeGuard, out_of_scope

if TYPE_CHECKING:
    import aiohttp

logger = logging.getLogger(__name__)

# The downloader middlewares whose work on an image request is done here (headers, timeout, scope,
# Referer, robots.txt, pacing by Politeness), is left to the downloader by handing the request over
# (redirects, retries, encodings), or is none (offsite: image requests pass it; stats; meta refresh:
# HTML only; block detection: pages only).
KNOWN_MIDDLEWARES: tuple[type, ...] = (
    OffsiteMiddleware,
    RobotsTxtMiddleware,
    DownloadTimeoutMiddleware,
    DefaultHeadersMiddleware,
    UserAgentMiddleware,
    RetryMiddleware,
    MetaRefreshMiddleware,
    HttpCompressionMiddleware,
    RedirectMiddleware,
    DownloaderStats,
    ScopeGuard,
    BlockDetector,
    Politeness,
    SafeRedirectMiddleware,
)


class HandOver(Exception):
    """The request needs Scrapy's downloader; `tried`: an attempt was made here (one of its retries)."""

    def __init__(self, why: str, tried: bool = False) -> None:
        super().__init__(why)
        self.why = why
        self.tried = tried


def pacing_setting(crawler: Crawler) -> str | None:
    """The setting that paces hosts by time, which only the downloader's slots do; None: none does."""
    settings = crawler.settings
    if settings.getbool("AUTOTHROTTLE_ENABLED"):
        return "AUTOTHROTTLE_ENABLED"
    if settings.getfloat("DOWNLOAD_DELAY") > 0:
        return "DOWNLOAD_DELAY"
    if settings.getint("CONCURRENT_REQUESTS_PER_IP"):
        return "CONCURRENT_REQUESTS_PER_IP"
    if settings.getdict("DOWNLOAD_SLOTS"):
        return "DOWNLOAD_SLOTS"
    return None


def unknown_middlewares(crawler: Crawler, known: tuple[type, ...]) -> list[str]:
    """The running downloader middlewares not `known` (the engine must exist). Scrapy's proxy middleware
    is known while the environment names no HTTP(S) proxy: image requests set none of their own."""
    if not {"http", "https"} & set(getproxies()):
        known += (HttpProxyMiddleware,)
    unknown = []
    for path in build_component_list(crawler.settings.getwithbase("DOWNLOADER_MIDDLEWARES")):
        running = crawler.get_downloader_middleware(load_object(path))
        if running is not None and type(running) not in known:  # a subclass may do more
            unknown.append(path)
    return unknown


AIOHTTP_HANDLER = "scrapy.core.downloader.handlers._aiohttp.AiohttpDownloadHandler"
# What Scrapy's aiohttp handler does besides a GET that the lean fetch's own client does not.
_HANDLER_ONLY = (
    "DOWNLOADER_CLIENT_TLS_CIPHERS",
    "DOWNLOADER_CLIENT_TLS_METHOD",
    "DOWNLOAD_TLS_MAX_VERSION",
    "DOWNLOAD_TLS_MIN_VERSION",
    "DOWNLOAD_BIND_ADDRESS",
)


def own_client_fits(settings: BaseSettings) -> bool:
    """Whether the lean fetch may call aiohttp itself (ImageClient): the crawl's client is Scrapy's aiohttp
    handler (which resolves names itself: newscrawl.fetch.resolver's address check applies to neither),
    with Scrapy's default TLS and bind settings."""
    return settings.get("NEWSCRAWL_HTTP_HANDLER") == AIOHTTP_HANDLER and all(
        settings.get(name) == getattr(default_settings, name) for name in _HANDLER_ONLY
    )


class ImageClient:
    """aiohttp, straight: a GET of the bytes as served (no redirects followed, no decompression, no
    cookies; certificates unchecked, as Scrapy's clients leave them), the size cap holding while the
    bytes arrive. Scrapy's aiohttp handler around the same library cost an image about as much again
    (docs/performance.md)."""

    def __init__(self, settings: BaseSettings) -> None:
        self.root = settings.get("NEWSCRAWL_OFFLINE_ROOT") or None
        self.limit = settings.getint("CONCURRENT_REQUESTS")
        self.per_host = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        self.session: aiohttp.ClientSession | None = None

    async def get(self, request: Request, headers: dict[str, str], timeout: float) -> Response:
        """`request`'s response, under its URL (the bundled site's loopback one fetched where it is set)."""
        import aiohttp  # here: a crawl whose client is Twisted's never needs it
        import yarl

        if self.session is None:
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.limit, limit_per_host=self.per_host),
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                skip_auto_headers=("Accept-Encoding", "User-Agent"),
            )
        url = loopback_url(request.url, self.root) if self.root else request.url
        maxsize = request.meta.get("download_maxsize", 0)
        async with self.session.get(
            yarl.URL(url, encoded=True),
            headers=headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=timeout),
            ssl=False,
        ) as answer:
            if maxsize and answer.content_length and answer.content_length > maxsize:
                _cancel(request, answer.content_length, maxsize, "expected")
            chunks, received = [], 0
            async for chunk in answer.content.iter_any():
                chunks.append(chunk)
                received += len(chunk)
                if maxsize and received > maxsize:
                    _cancel(request, received, maxsize, "received")
            kept = {name: answer.headers[name] for name in _KEPT_HEADERS if name in answer.headers}
            return Response(
                request.url,
                status=answer.status,
                headers=kept or None,
                body=chunks[0] if len(chunks) == 1 else b"".join(chunks),
                request=request,
            )

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()


# The answer's headers the lean fetch reads (the rest are not copied).
_KEPT_HEADERS = ("Content-Encoding", "Retry-After")


def _cancel(request: Request, size: int, maxsize: int, how: str) -> NoReturn:
    message = f"Cancelling download of {request.url}: {how} size ({size}) larger than download max size ({maxsize})."
    logger.warning(message)
    raise DownloadCancelledError(message)


class LeanImageFetch:
    """One crawl's lean fetch of image files (module docstring)."""

    def __init__(self, crawler: Crawler, image_hosts: frozenset[str], known: tuple[type, ...]) -> None:
        self.crawler = crawler
        self.known = KNOWN_MIDDLEWARES + known
        settings = crawler.settings
        self.image_hosts = image_hosts
        self.obey_robots = settings.getbool("ROBOTSTXT_OBEY")
        self.user_agent = settings.get("ROBOTSTXT_USER_AGENT") or settings.get("USER_AGENT")
        self.headers = {**settings.getdict("DEFAULT_REQUEST_HEADERS"), "User-Agent": settings.get("USER_AGENT")}
        self.timeout = settings.getfloat("DOWNLOAD_TIMEOUT")
        self.retry_codes = frozenset(int(code) for code in settings.getlist("RETRY_HTTP_CODES"))
        self.per_host = max(1, settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"))
        self.robots: dict[str, RobotParser] = {}  # netloc → its robots.txt, as the downloader read it
        self.hosts: dict[str, asyncio.Semaphore] = {}
        self.handler: LoopbackDownloadHandler | None = None  # the crawl's client, or
        self.client: ImageClient | None = None  # aiohttp straight (own_client_fits)
        self.politeness: Politeness | None = None
        self.usable: bool | None = None  # decided at the first image
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(self.close, signal=signals.spider_closed)

    @classmethod
    def for_crawler(
        cls, crawler: Crawler, image_hosts: frozenset[str], known: tuple[type, ...]
    ) -> LeanImageFetch | None:
        """The lean fetch, or None when it is off or a setting paces hosts (logged). `known`: the image
        mirror's own middlewares, whose work is done here too."""
        if not crawler.settings.getbool("NEWSCRAWL_IMAGES_LEAN_FETCH"):
            return None
        if (setting := pacing_setting(crawler)) is not None:
            logger.info("Image files are fetched through Scrapy's downloader: %s paces hosts", setting)
            return None
        return cls(crawler, image_hosts, known)

    def robots_parsed(self, robotparser: RobotParser, request: Request) -> None:
        self.robots[urlparse_cached(request).netloc] = robotparser

    def ready(self) -> bool:
        """Whether image files may be fetched here; decided at the first image (the middlewares run then)."""
        if self.usable is None:
            self.usable = self._start()
        return self.usable

    def _start(self) -> bool:
        """Whether this crawl's middlewares let the fetch be lean; its client chosen."""
        unknown = unknown_middlewares(self.crawler, self.known)
        if unknown:
            logger.info("Image files are fetched through Scrapy's downloader: %s run(s)", ", ".join(unknown))
            return False
        self.politeness = self.crawler.get_downloader_middleware(Politeness)
        if own_client_fits(self.crawler.settings):
            self.client = ImageClient(self.crawler.settings)
        else:
            self.handler = build_from_crawler(LoopbackDownloadHandler, self.crawler)
        logger.info(
            "Image files are fetched lean, beside Scrapy's downloader, by %s (newscrawl.fetch.lean)",
            "aiohttp" if self.client is not None else "the crawl's download handler",
        )
        return True

    def _check(self, request: Request) -> None:
        """Hand the request over when the downloader must refuse, pace or first read robots.txt for it."""
        if out_of_scope(request.url, frozenset(), self.image_hosts, image=True) is not None:
            raise HandOver("scope")  # refused there, counted and logged as every refusal is
        parts = urlparse_cached(request)
        if self.obey_robots:
            parser = self.robots.get(parts.netloc)
            if parser is None or not parser.allowed(request.url, self.user_agent):
                raise HandOver("robots")  # read there first, or refused there
        if self.politeness is not None and self.politeness.paces(parts.hostname or ""):
            raise HandOver("paced")

    async def fetch(self, request: Request) -> Response:
        """The image's response (a 200, or a status the downloader would give up on too), once `ready`;
        raises HandOver, or the size cap's DownloadCancelledError."""
        self._check(request)
        host = urlparse_cached(request).hostname or ""
        slot = self.hosts.get(host)
        if slot is None:
            slot = self.hosts[host] = asyncio.Semaphore(self.per_host)
        async with slot:
            try:
                response = await self._download(request)
            except DownloadCancelledError:
                raise
            except Exception as error:  # a timeout, a reset, a truncated body…: retried there
                timeout = isinstance(error, TimeoutError | DownloadTimeoutError)
                raise HandOver("timeout" if timeout else type(error).__name__, tried=True) from None
        if 300 <= response.status < 400:
            raise HandOver("redirect")  # followed there, through the scope rule at each hop
        if response.status in self.retry_codes or response.status in BACKING_OFF:
            if self.politeness is not None:  # a Retry-After paces or holds the host, as in the downloader
                self.politeness.process_response(request, response)
            raise HandOver(f"http_{response.status}", tried=True)
        if (response.headers.get(b"Content-Encoding") or b"identity").strip().lower() != b"identity":
            raise HandOver("encoded")
        return response

    async def _download(self, request: Request) -> Response:
        """One GET, with the headers the downloader's middlewares would have given it."""
        timeout = request.meta.get("download_timeout", self.timeout)
        headers = {**self.headers, "Referer": request.meta[ARTICLE_PAGE]}
        if self.client is not None:
            return await self.client.get(request, headers, timeout)
        assert self.handler is not None
        for name, value in headers.items():
            request.headers.setdefault(name, value)
        request.headers["Referer"] = headers["Referer"]
        request.meta["download_timeout"] = timeout
        return await self.handler.download_request(request)

    async def close(self, spider: Any = None) -> None:
        if self.handler is not None:
            await self.handler.close()
        if self.client is not None:
            await self.client.close()
