"""The scope rule's last hop: a site's host name that resolves to a loopback, private, link-local or
otherwise non-public address is refused (a DNS entry pointed inward, rebinding), for live crawls.

Scrapy's resolver (TWISTED_DNS_RESOLVER), with every answer checked before Twisted's HTTP client connects to
it. A run pointed at a local server on purpose (NEWSCRAWL_OFFLINE_ROOT: the bundled site, the tests)
connects to 127.0.0.1 by design and is not checked. Scrapy's aiohttp client (NEWSCRAWL_HTTP_HANDLER)
resolves names itself: this check does not apply to it (docs/reliability.md).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from scrapy.crawler import Crawler
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError


def public_address(address: str) -> bool:
    """Whether `address` is on the public internet (not loopback, private, link-local, reserved, …)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.is_global and not ip.is_multicast


class PublicAddressesOnly(CachingThreadedResolver):
    allow_local = False

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> PublicAddressesOnly:
        resolver = super().from_crawler(crawler, reactor)
        resolver.allow_local = bool(crawler.settings.get("NEWSCRAWL_OFFLINE_ROOT"))
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:  # noqa: N802 (Twisted's name)
        answer = super().getHostByName(name, timeout)
        if not self.allow_local:
            answer.addCallback(self._public, name)
        return answer

    @staticmethod
    def _public(address: str, name: str) -> str:
        if not public_address(address):
            raise DNSLookupError(f"{name} resolves to {address}, not a public address: refused (the crawl's scope)")
        return address
