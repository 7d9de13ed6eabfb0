"""One spider per registered site, made from the shared SiteSpider: `scrapy list` shows them all.

Adding a site never touches this package: a site module with `SITE` is enough.
"""

from __future__ import annotations

from newscrawl.sites import all_sites
from newscrawl.spiders.base import SiteSpider

__all__ = ["SiteSpider"]

for _site in all_sites().values():
    _class_name = f"{_site.__class__.__name__}Spider"
    globals()[_class_name] = type(
        _class_name,
        (SiteSpider,),
        {
            "name": _site.name,
            "site": _site,
            "__module__": __name__,
            "__doc__": f"{_site.display_name} ({', '.join(_site.hosts)}). {SiteSpider.__doc__}",
        },
    )
    __all__.append(_class_name)
