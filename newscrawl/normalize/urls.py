"""URLs: made absolute and safe; unusable ones (data:, javascript:, empty) become None. And whether a
host is this machine (loopback)."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urljoin

from w3lib.url import safe_url_string

_WEB_SCHEMES = ("http://", "https://")
# An absolute http(s) URL made only of characters that need no escaping: returned as it is (the common
# case, and w3lib's full treatment is costly a URL at a time).
_ALREADY_SAFE = re.compile(
    r"^https?://[A-Za-z0-9.-]+(?::\d+)?(?:/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*)?(?:\?[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*)?$"
)


def absolute_url(value: str | None, base_url: str) -> str | None:
    """An absolute http(s) URL for `value` relative to `base_url`, or None.

    Protocol-relative `//host/x` takes the base's scheme; `data:`, `javascript:` and other schemes give
    None, so they never reach an item.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if _ALREADY_SAFE.match(value) and "%" not in value:
        return value
    joined = safe_url_string(urljoin(base_url, value))
    return joined if joined.lower().startswith(_WEB_SCHEMES) else None


def is_loopback_host(host: str) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
