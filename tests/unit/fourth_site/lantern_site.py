"""Lantern Daily: a fourth site, defined by a test, without a Hexo archive.

It exists to prove that a site module with no archive, written outside `newscrawl/sites/`, passes the
site contract (tests/unit/test_fourth_site.py). The site is invented (`lantern.example` is a reserved name);
its pages are modelled, described in lantern/README.md.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from parsel import Selector

from newscrawl.parsing.layout import Layout, first_text, tag_links
from newscrawl.parsing.site import Site

_ARTICLE = re.compile(r"^/news/\d{4}/\d{2}/(?P<id>\d+)-[a-z0-9-]+\.html$")
_TAG = re.compile(r"^[a-z0-9-]+$")


class Story2025(Layout):
    """`article.story`: h1.headline, time.published, p.byline, the text in div.story-body, tags in .tags."""

    name = "story-2025"
    seen = "modelled (lantern/README.md)"
    fixture = (
        "site/lantern.example/news/2026/11/1001-harbour-lights.html",
        "https://lantern.example/news/2026/11/1001-harbour-lights.html",
    )
    body_drop = ("script", "style", "aside.promo")

    @classmethod
    def holds(cls, page: Selector) -> bool:
        return bool(page.css("article.story p.byline"))

    def title(self) -> str | None:
        return first_text(self.page, "article.story h1.headline")

    def published(self) -> str | None:
        return self.page.css("article.story time.published::attr(datetime)").get()

    def byline(self) -> str | None:
        return first_text(self.page, "article.story p.byline")

    def tags(self) -> list[tuple[str, str | None]]:
        return tag_links(self.page.css("article.story .tags a"))

    def body(self) -> list[Selector]:
        return list(self.page.css("article.story div.story-body"))


class Story2026(Story2025):
    """The byline moved into `footer.credit`; everything else as in 2025."""

    name = "story-2026"
    seen = "modelled (lantern/README.md)"
    fixture = (
        "site/lantern.example/news/2026/11/1002-night-ferry.html",
        "https://lantern.example/news/2026/11/1002-night-ferry.html",
    )

    @classmethod
    def holds(cls, page: Selector) -> bool:
        return bool(page.css("article.story footer.credit"))

    def byline(self) -> str | None:
        return first_text(self.page, "article.story footer.credit")


class Lantern(Site):
    name = "lantern"
    display_name = "Lantern Daily"
    hosts = ("lantern.example",)
    timezone = ZoneInfo("Europe/London")
    language = "en"
    title_suffixes = (" | Lantern Daily",)
    layouts = (Story2026, Story2025)
    listing_links_css = "ul.stories li a.story-link::attr(href)"

    def article_id(self, url: str) -> str | None:
        match = self.path_match(url, _ARTICLE)
        return match.group("id") if match else None

    def canonical_url(self, url: str) -> str:
        if self.article_id(url) is None:
            raise ValueError(f"not a Lantern Daily article URL: {url}")
        return url.split("?", 1)[0].split("#", 1)[0]

    def tag_page_url(self, tag: str) -> str:
        if _TAG.match(tag.strip()):
            return f"https://lantern.example/tag/{tag.strip()}.html"
        raise ValueError(f"not a Lantern Daily tag: {tag!r}")


SITE = Lantern()
