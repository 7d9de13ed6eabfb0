"""Downloader middlewares that keep a crawl on its site, whatever the pages it reads say.

The scope rule is enforced twice, so that no request leaves in any order of Scrapy's components:
ScopeGuard, where every request passes on its way to the downloader (the tag's pages and their next
links, articles, followed tags, robots.txt, images), whatever `dont_filter` or `allow_offsite` say;
and SafeRedirectMiddleware, on each redirect's Location before RedirectMiddleware makes a request of
it (Scrapy's OffsiteMiddleware would drop an off-site hop when it is scheduled, without telling the
spider, so the article would stay pending forever; refused here, its errback settles it). The rule:
http or https, no user name or password in the URL, the default port, and a host
of the site (`Site.hosts`), or for an image request (and robots.txt on such a host) one of the site's
image hosts (`Site.image_hosts`). Anything else is dropped before it is sent, counted under
`newscrawl/scope/refused/<reason>` and logged once per host. An IP literal is never a site's host,
so loopback, private and link-local addresses are out of scope by the same rule. Crawls of the bundled
site keep the real URLs (NEWSCRAWL_OFFLINE_ROOT swaps only the socket, newscrawl.fetch.handler), so the rule
is the same offline and live.

A Location that is not http(s) (`javascript:…`, on which RedirectMiddleware raises a ValueError with a
traceback, or `file:`) is counted under `newscrawl/redirect/bad_scheme` as well.
"""

from __future__ import annotations

import logging
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from w3lib.url import safe_url_string

from newscrawl.sites import NotASiteCrawl, site_of

logger = logging.getLogger(__name__)
_REDIRECTS = {301, 302, 303, 307, 308}
_DEFAULT_PORTS = {"http": 80, "https": 443}
ARTICLE_PAGE = "newscrawl_article_page"  # request meta: the article page an image request is for


class OutOfScope(IgnoreRequest):
    """A request refused by the scope rule; `reason` is scheme, userinfo, port, host or malformed."""

    def __init__(self, reason: str, url: str) -> None:
        super().__init__(f"out of the crawl's scope ({reason}): {url[:200]}")
        self.reason = reason


def out_of_scope(url: str, hosts: frozenset[str], image_hosts: frozenset[str], image: bool) -> str | None:
    """Why `url` is outside the crawl's scope (scheme, userinfo, port, host), or None when it is inside."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "malformed"
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return "scheme"
    if parts.username is not None or parts.password is not None:
        return "userinfo"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        return "port"
    host = (parts.hostname or "").rstrip(".")
    if image:
        return None if host in image_hosts else "host"
    if host in hosts or (host in image_hosts and parts.path == "/robots.txt"):
        return None
    return "host"


class Scope:
    """The scope rule for one crawl: its site's hosts and (images mirrored) image hosts; refusals counted
    and logged once per host."""

    def __init__(self, crawler: Crawler) -> None:
        try:
            site = site_of(crawler)
        except NotASiteCrawl:
            raise NotConfigured("not a site's spider") from None
        self.crawler = crawler
        self.hosts = frozenset(site.hosts)
        self.image_hosts = (
            frozenset(site.image_hosts) if crawler.settings.get("NEWSCRAWL_IMAGES_STORE") else frozenset()
        )
        self._logged: set[str] = set()

    def check(self, url: str, request: Request) -> None:
        """Raise IgnoreRequest when `url` (`request`'s own, or where it is redirected) is out of scope."""
        reason = out_of_scope(url, self.hosts, self.image_hosts, image=ARTICLE_PAGE in request.meta)
        if reason is None:
            return
        self.crawler.stats.inc_value(f"newscrawl/scope/refused/{reason}")
        key = (urlsplit(url).hostname or url[:60]) if reason != "malformed" else "malformed"
        if key not in self._logged:
            self._logged.add(key)
            origin = request.meta.get("redirect_urls", [request.url])[0] if url != request.url else None
            logger.warning(
                "Refused a request out of the crawl's scope (%s): %s%s (further ones to this host are "
                "counted, not logged)",
                reason,
                url[:200],
                f", redirected from {origin}" if origin else "",
            )
        raise OutOfScope(reason, url)


class ScopeGuard:
    """The scope rule on every request, at the downloader's door (module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        self.scope = Scope(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScopeGuard:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        self.scope.check(request.url, request)


class SafeRedirectMiddleware:
    """The scope rule on each redirect's Location (module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        try:
            self.scope: Scope | None = Scope(crawler)
        except NotConfigured:  # a spider of no site: the scheme alone is checked
            self.scope = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SafeRedirectMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status not in _REDIRECTS or b"Location" not in response.headers:
            return response
        location = (response.headers.get(b"Location") or b"").decode("latin-1").strip()
        target = urljoin(request.url, location)
        scheme = urlsplit(target).scheme.lower()
        if scheme in ("http", "https"):
            if self.scope is not None:
                self.scope.check(safe_url_string(target), request)
            return response
        self.crawler.stats.inc_value("newscrawl/redirect/bad_scheme")
        logger.warning(
            "Ignored a redirect from %s to a %s: URL (%r)", request.url, scheme or "schemeless", location[:200]
        )
        raise IgnoreRequest(f"redirect to a non-http URL: {location[:200]}")
