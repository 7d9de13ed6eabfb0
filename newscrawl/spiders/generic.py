"""`scrapy crawl generic -a url=LISTING_URL[,…]`: any news site, without a module.

The run's site is made from the listing URLs (newscrawl.generic.site): named after their registrable
domain (or `-a name=`), so its journal, state, posts and feeds are its own, as a site module's would be.
Everything else is the site spiders' crawl: the same walk rule, increments, schema and summary.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, cast

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response

from newscrawl.exit_codes import CannotStart
from newscrawl.generic.site import GenericSite, generic_site
from newscrawl.sites import all_sites
from newscrawl.spiders.base import SiteSpider, split_arg
from newscrawl.state.base import ListingPage

ARTICLE_URLS = "article_urls"  # the walk fact: the shape of its article links (newscrawl.generic.links)


class GenericSpider(SiteSpider):
    """Any news site without a module, from its listing pages (`-a url=`; `-a name=`, `-a timezone=`):
    article links and pagination inferred, every field from the fallbacks with its source named."""

    name = "generic"
    site: ClassVar[GenericSite]

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> GenericSpider:
        """The spider of a class made for this run's site, which the crawler's components then read."""
        if "site" in cls.__dict__:  # that class
            return super().from_crawler(crawler, *args, **kwargs)
        urls, name, zone = kwargs.pop("url", None), kwargs.pop("name", None), kwargs.pop("timezone", None)
        if "tag" in kwargs:
            raise CannotStart("scrapy crawl generic takes listing pages as -a url=, not -a tag=")
        if name in all_sites():
            raise CannotStart(f"-a name={name} is a site with a module: scrapy crawl {name}")
        try:
            site = generic_site(split_arg(urls), name, zone)
        except ValueError as error:
            raise CannotStart(str(error)) from None
        run_class = cast(
            type[GenericSpider], type(f"GenericSpider_{site.name}", (cls,), {"name": site.name, "site": site})
        )
        crawler.spidercls = run_class
        return run_class.from_crawler(crawler, *args, tag=",".join(split_arg(urls)), **kwargs)

    def parse_listing(self, response: Response, listing: ListingPage) -> Iterator[scrapy.Request]:
        """The site spiders' listing step; the article URL shape inferred on a walk's page is logged, and
        the first page's is kept in the crawl state: a later run whose shape differs says so (a redesign)."""
        known = set(self.site.patterns)
        yield from super().parse_listing(response, listing)
        for url in self.site.patterns.keys() - known:
            shape = self.site.patterns[url]
            self.crawler.stats.inc_value("newscrawl/generic/patterns")
            self.logger.info("Article links on %s: %s", url, shape)
            if url != listing.walk or self.incremental is None:
                continue
            before = self.incremental.walk_facts(ARTICLE_URLS).get(url)
            if before is not None and before != shape:
                self.crawler.stats.inc_value("newscrawl/generic/pattern_changed")
                self.logger.warning(
                    "The article links of %s changed shape: %s before, %s now (the site redesigned?)",
                    url,
                    before,
                    shape,
                )
            if before != shape:
                self.incremental.note_walk(url, ARTICLE_URLS, shape)
