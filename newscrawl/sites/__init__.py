"""The site registry: every module in this package that defines `SITE` is a supported site; and which
site (and which spider) a crawler runs, typed, for the components that need to know."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, ClassVar, Protocol, cast

from newscrawl.parsing.site import Listing, Site, SiteDefinitionError

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

__all__ = [
    "Listing",
    "NotASiteCrawl",
    "Site",
    "SiteCrawl",
    "SiteDefinitionError",
    "all_sites",
    "get_site",
    "site_for_url",
    "site_of",
    "spider_class_of",
    "spider_of",
]


class NotASiteCrawl(TypeError):
    """The crawler's spider is not one of newscrawl's (it has no site)."""


class SiteCrawl(Protocol):
    """What components may read of a newscrawl spider (`newscrawl.spiders.base.NewscrawlSpider` declares
    each with its default): the site, whether it fetches, what it was asked to walk, what it walked."""

    name: str
    site: ClassVar[Site]
    fetches: ClassVar[bool]
    refresh: bool
    tags: Sequence[str]
    article_urls: Sequence[str]
    captures: Sequence[object]

    @property
    def walked(self) -> Sequence[str]: ...


def spider_class_of(crawler: Crawler) -> type[SiteCrawl]:
    """The crawler's spider class, as a newscrawl spider's (known before the spider is built)."""
    if not isinstance(getattr(crawler.spidercls, "site", None), Site):
        raise NotASiteCrawl(f"spider {crawler.spidercls.__name__} has no site: not a newscrawl spider")
    return cast(type[SiteCrawl], crawler.spidercls)


def site_of(crawler: Crawler) -> Site:
    """The one site a crawler crawls: its spider class's `site`."""
    return spider_class_of(crawler).site


def spider_of(crawler: Crawler) -> SiteCrawl:
    """The crawler's running spider, as a newscrawl spider (after the engine opened it)."""
    site_of(crawler)
    if crawler.spider is None:
        raise NotASiteCrawl("the crawler has no spider yet")
    return cast(SiteCrawl, crawler.spider)


@cache
def all_sites() -> dict[str, Site]:
    """Sites by name, found by importing this package's modules."""
    sites: dict[str, Site] = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        site = getattr(module, "SITE", None)
        if isinstance(site, Site):
            if site.name in sites:
                raise SiteDefinitionError(
                    f"two site modules are named {site.name!r}: {module.__name__} and "
                    f"{type(sites[site.name]).__module__}"
                )
            sites[site.name] = site
    return dict(sorted(sites.items()))


def get_site(name: str) -> Site:
    """The site called `name` (KeyError listing the known ones otherwise)."""
    try:
        return all_sites()[name]
    except KeyError:
        raise KeyError(f"unknown site {name!r}; known: {', '.join(all_sites())}") from None


def site_for_url(url: str) -> Site:
    """The site whose hosts serve `url`."""
    for site in all_sites().values():
        if site.owns(url):
            return site
    raise LookupError(
        f"no site module serves {url}; known hosts: " + ", ".join(h for s in all_sites().values() for h in s.hosts)
    )
