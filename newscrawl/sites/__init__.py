"""The site registry: every module in this package that defines `SITE` is a supported site."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from newscrawl.parsing.site import Listing, Site, SiteDefinitionError

__all__ = ["Listing", "Site", "SiteDefinitionError", "all_sites", "get_site", "site_for_url"]


@cache
def all_sites() -> dict[str, Site]:
    """Sites by name, found by importing this package's modules."""
    sites: dict[str, Site] = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        site = getattr(module, "SITE", None)
        if isinstance(site, Site):
            if site.name in sites:
                raise SiteDefinitionError(f"two site modules are named {site.name!r}: {module.__name__} and "
                                          f"{type(sites[site.name]).__module__}")
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
    raise LookupError(f"no site module serves {url}; known hosts: "
                      + ", ".join(h for s in all_sites().values() for h in s.hosts))
