"""A site nobody wrote a module for, made for one run from its listing pages' URLs (`generic_site`).

It knows no selector: its one layout holds no page, so every field comes from the generic fallbacks and
names its source in `fallbacks`. Article links and the next page are inferred (newscrawl.generic.links).
A date without an offset is read in `-a timezone=`, else in the zone of the page's language (its
`lang`, else its script: Han without kana is Chinese), else UTC; the guess is recorded
(`fallbacks.published_zone`).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parsel import Selector

from newscrawl.generic.links import article_key, article_links, content_links, next_page
from newscrawl.parsing.layout import Layout
from newscrawl.parsing.site import PageConventions, Site, parse_page
from newscrawl.parsing.sources import Listing

# The zone a language's news sites write their dates in, where a language has one.
LANGUAGE_ZONES = {
    "zh": "Asia/Shanghai",
    "zh-cn": "Asia/Shanghai",
    "zh-hans": "Asia/Shanghai",
    "zh-tw": "Asia/Taipei",
    "zh-hant": "Asia/Taipei",
    "zh-hk": "Asia/Hong_Kong",
    "en-gb": "Europe/London",
    "en-ie": "Europe/Dublin",
    "ja": "Asia/Tokyo",
    "ko": "Asia/Seoul",
    "ru": "Europe/Moscow",
    "de": "Europe/Berlin",
    "fr": "Europe/Paris",
}
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_NAME = re.compile(r"[^a-z0-9]+")
_SITE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@cache
def _domains() -> Any:
    """The Public Suffix List as bundled with tldextract (no network), loaded by the generic spider only."""
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class NoLayout(Layout):
    """Holds no page and finds nothing: every field is the fallbacks'."""

    name = "none"
    seen = "any site without a module"
    fixture = ()

    @classmethod
    def holds(cls, page: Selector) -> bool:
        return False


def site_name(host: str) -> str:
    """A site name from a host: its registrable domain as an identifier (`news.example.co.uk` → `example_co_uk`)."""
    found = _domains()(host)
    domain = ".".join((found.domain, found.suffix)) if found.domain and found.suffix else host
    name = _NAME.sub("_", domain.lower()).strip("_")
    return name if name[:1].isalpha() else f"site_{name}"


def language_tag(value: str) -> str | None:
    """`zh-Hans-CN`, `zh_cn`, `ZH` as the schema's `zh-CN`, `zh`; None for what is no language tag."""
    parts = value.strip().replace("_", "-").split("-")
    if not re.fullmatch(r"[A-Za-z]{2}", parts[0]):
        return None
    region = next((part.upper() for part in parts[1:] if re.fullmatch(r"[A-Za-z]{2}", part)), None)
    return parts[0].lower() + (f"-{region}" if region else "")


def page_language(page: Selector) -> tuple[str | None, str]:
    """The language a page declares (`<html lang>`, Content-Language, `og:locale`), else the one its
    script shows; and where it was read."""
    for source, query in (
        ("lang", "html::attr(lang)"),
        ("content-language", 'meta[http-equiv="content-language" i]::attr(content)'),
        ("og:locale", 'meta[property="og:locale"]::attr(content)'),
    ):
        if language := language_tag(page.css(query).get() or ""):
            return language, source
    text = " ".join(page.css("title::text, h1 ::text, p ::text").getall()[:200])
    if _KANA.search(text):
        return "ja", "script"
    if _HANGUL.search(text):
        return "ko", "script"
    if len(_HAN.findall(text)) > 20:
        return "zh", "script"
    return None, "none"


class GenericSite(Site, template=True):
    """What every generic site shares; `generic_site` makes one per run."""

    layouts: ClassVar[tuple[type[Layout], ...]] = (NoLayout,)
    fallbacks_expected = True
    # From `-a timezone=`: dates without an offset are read in it, no guess made.
    given_timezone: ClassVar[ZoneInfo | None] = None
    # The article URL shape each walk's pages showed (logged when first seen).
    patterns: dict[str, str]

    def __init__(self) -> None:
        self.patterns = {}

    def article_id(self, url: str) -> str | None:
        return article_key(url) if self.owns(url) else None

    def canonical_url(self, url: str) -> str:
        """The URL without its query and fragment (ids live in paths here)."""
        if self.article_id(url) is None:
            raise ValueError(f"not an article URL of {self.display_name}: {url}")
        parts = urlsplit(url)
        return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path, "", ""))

    def tag_page_url(self, tag: str) -> str:
        if self.owns(tag) and urlsplit(tag).scheme in ("http", "https"):
            return tag.split("#", 1)[0]
        raise ValueError(f"not a listing page URL on {', '.join(self.hosts)}: {tag!r}")

    def parse_tag_page(self, html: str, url: str) -> Listing:
        page = parse_page(html, url)
        links = content_links(page, url)
        found, pattern = article_links(links, frozenset(self.hosts))
        if pattern is not None:
            self.patterns.setdefault(url, pattern)
        return Listing(article_urls=found, next_url=next_page(page, url, links))

    def page_conventions(self, html: str) -> PageConventions:
        """The zone and language of one page: `-a timezone=`, else its language's, else UTC."""
        language, read_from = page_language(Selector(text=html))
        if self.given_timezone is not None:
            return PageConventions.of(self, language=language or self.language, timezone=self.given_timezone)
        zone = LANGUAGE_ZONES.get((language or "").lower()) or LANGUAGE_ZONES.get((language or "").split("-")[0])
        assumed = f"{read_from}:{language}:{zone}" if zone else "none:UTC"
        return PageConventions.of(
            self, language=language or self.language, timezone=ZoneInfo(zone or "UTC"), zone_assumed=assumed
        )


def generic_site(listing_urls: list[str], name: str | None = None, timezone: str | None = None) -> GenericSite:
    """The generic site of a run that starts at `listing_urls` (on one or more hosts of one site).
    ValueError for a URL that is not http(s), a bad name or an unknown zone."""
    hosts = []
    for url in listing_urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL of a listing page: {url!r}")
        host = parts.hostname.lower()
        hosts.append(host)
        if host.startswith("www."):  # the bare domain and its www. name serve one site
            hosts.append(host[4:])
        elif _domains()(host).top_domain_under_public_suffix == host:
            hosts.append(f"www.{host}")
    if not hosts:
        raise ValueError("no listing page: pass -a url=LISTING_URL[,…]")
    chosen = name or site_name(hosts[0])
    if not _SITE_NAME.match(chosen):
        raise ValueError(f"-a name= must be a lower-case identifier (letters, digits, _), not {chosen!r}")
    try:
        zone = ZoneInfo(timezone) if timezone else None
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {timezone!r} (an IANA name such as Asia/Shanghai)") from None
    attributes = {
        "name": chosen,
        "display_name": name or hosts[0],
        "hosts": tuple(dict.fromkeys(hosts)),
        "timezone": zone or ZoneInfo("UTC"),
        "language": "und",
        "given_timezone": zone,
        "__module__": __name__,
    }
    return type(f"Generic_{chosen}", (GenericSite,), attributes)()
