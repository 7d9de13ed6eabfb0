"""cnBeta (www.cnbeta.com.tw): URLs, selectors, timezone and quirks.

Verified: article bodies (the archive's real posts) and the 2017 mobile article view (a real
fragment, parsed through the fallback selectors). From public scrapers, unverified here: the desktop
title/meta/summary/content selectors. Modelled: topic pages (`/topics/<n>.htm`), their item markup
and pagination — fixtures/cnbeta/README.md says how, and `newscrawl/listing/empty` says when the live
site differs.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit
from zoneinfo import ZoneInfo

from parsel import Selector

from newscrawl.items import Unusable
from newscrawl.parsing.layout import Layout, first_text, tag_links
from newscrawl.parsing.site import Site, parse_page
from newscrawl.parsing.sources import Feed, Listing

_ARTICLE = re.compile(r"^/articles/(?:(?P<section>[a-z]+)/)?(?P<id>\d+)\.html?$")
_TOPIC_PATH = re.compile(r"^/topics/\d+(?:_\d+)?\.htm$")
_CATEGORY_PATH = re.compile(r"^/category/(?P<name>[a-z0-9_-]+)\.htm$")
_CATEGORY_TAG = re.compile(r"^category:(?P<name>[a-z0-9_-]+)$")
_MORE_PATH = "/home/more"
_EDITOR_MARK = re.compile(r"^\s*[\[【]\s*(?:责任)?编辑\s*[：:]")


def more_url(kind: str, page: int, token: str) -> str:
    """Page `page` of the JSON list a 2026 topic or category page declares (`div[data-type]`, its csrf
    token); RSSHub adds a cache-busting `_=<ms>`, left out here."""
    return f"https://www.cnbeta.com.tw{_MORE_PATH}?" + urlencode({"type": kind, "page": page, "_csrf": token})


class Backend(Feed):
    """The site's feed, `backend.php` (empty in late 2022, answering again in 2026: MARKUP.md): `-a tag=rss`."""

    url = "https://www.cnbeta.com.tw/backend.php"
    tag_forms = "rss (the backend.php feed)"


class CnBetaPage(Layout):
    """What every cnBeta article layout shares: the topic links as tags, the editor line, the body and
    what it drops."""

    body_drop = (".topic", ".article-topic", ".article-global", "script", "style", "[id^=J_article]")

    def tags(self) -> list[tuple[str, str | None]]:
        return tag_links(self.page.css(".article-topic a, .topic a"))

    def editor_line(self) -> str | None:
        """ "[责任编辑：NAME]" (desktop, ending the content) or "[ 编辑：NAME ]" (mobile, in .article-tail)."""
        texts = self.page.css(".article-tail ::text, .article-content ::text, .article-body ::text").getall()
        return next((text for text in texts if _EDITOR_MARK.match(text)), None)

    def body(self) -> list[Selector]:
        """The summary, then the text (.article-content on the desktop, .article-body on mobile)."""
        return list(self.page.css(".article-summary, .article-content, .article-body"))


class Desktop(CnBetaPage):
    """The desktop article: `header.title` (h1, div.meta with the date and span.source), the summary
    in .article-summary and the text in .article-content."""

    name = "desktop"
    seen = "desktop pages as public scrapers read them (selectors unverified here; bodies real: the archive)"
    fixture = (
        "site/www.cnbeta.com.tw/articles/tech/1233391.htm",
        "https://www.cnbeta.com.tw/articles/tech/1233391.htm",
    )

    @classmethod
    def holds(cls, page: Selector) -> bool:
        return bool(page.css("header.title"))

    def title(self) -> str | None:
        return first_text(self.page, "header.title h1")

    def published(self) -> str | None:
        """The first span of div.meta."""
        return first_text(self.page, "header.title div.meta > span:first-child")

    def byline(self) -> str | None:
        source = first_text(self.page, "header.title div.meta span.source")
        return f"出处：{source}" if source else None


class Mobile2017(CnBetaPage):
    """The 2017 mobile ("touch") view: .article-title, .article-byline with .time and .source, the text
    in .article-body, the editor in .article-tail."""

    name = "mobile-2017"
    seen = "2017-02, the one real cnBeta page on record (real/SOURCES.md)"
    fixture = ("real/touch-article-587662-fragment.html", "https://www.cnbeta.com.tw/articles/tech/587662.htm")

    @classmethod
    def holds(cls, page: Selector) -> bool:
        return bool(page.css(".article-byline"))

    def title(self) -> str | None:
        return first_text(self.page, ".article-title")

    def published(self) -> str | None:
        return first_text(self.page, ".article-byline .time")

    def byline(self) -> str | None:
        source = first_text(self.page, ".article-byline .source")
        return f"出处：{source}" if source else None


class CnBeta(Site):
    name = "cnbeta"
    display_name = "cnBeta"
    hosts = ("www.cnbeta.com.tw", "cnbeta.com.tw", "www.cnbeta.com", "m.cnbeta.com.tw", "m.cnbeta.com")
    image_hosts = ("static.cnbetacdn.com",)  # body images (MARKUP.md)
    timezone = ZoneInfo("Asia/Shanghai")
    language = "zh-CN"
    title_suffixes = ("_cnBeta.COM - 中文业界资讯站", "_cnBeta.COM 中文业界资讯站", "_cnBeta.COM")
    archive_categories = ("新媒体", "cnBeta", "最新")
    archive_author = "cnBeta"
    archive_dates = "utc"  # the archive's `date:` values are true UTC
    expected_coverage = {**Site.expected_coverage, "images": 0.5, "source": 0.5}

    layouts = (Desktop, Mobile2017)
    listing_sources = (Backend(),)
    listing_links_css = ".items-area .item dl dt a::attr(href)"  # modelled: unverified

    def article_id(self, url: str) -> str | None:
        match = self.path_match(url, _ARTICLE)
        return match.group("id") if match else None

    def canonical_url(self, url: str) -> str:
        match = self.path_match(url, _ARTICLE)
        if match is None:
            raise ValueError(f"not a cnBeta article URL: {url}")
        return f"https://www.cnbeta.com.tw/articles/{match.group('section') or 'tech'}/{match.group('id')}.htm"

    def parse_tag_page(self, html: str, url: str) -> Listing:
        """A topic page's items; a 2026 topic or category page, whose items come from the JSON list it
        declares (its csrf token and `div[data-type]`), goes on to that list; the list's pages until one
        is empty."""
        if urlsplit(url).path == _MORE_PATH:
            return self._parse_more(html, url)
        listing = super().parse_tag_page(html, url)
        if listing.article_urls or listing.next_url:
            return listing
        page = parse_page(html, url)
        kind, token = (
            page.css("[data-type]::attr(data-type)").get(),
            page.css('meta[name="csrf-token"]::attr(content)').get(),
        )
        if kind and token:
            return replace(listing, next_url=more_url(kind, 1, token), continued=True)
        return listing

    def _parse_more(self, text: str, url: str) -> Listing:
        """`{"result": {"list": [...]}}`: each item's `url_show` (protocol-relative or http:, made https:),
        `inputtime` (Beijing) and the outlet in `source` (`"<outlet>@<its URL>"`); an empty list ends it."""
        try:
            answer = json.loads(text)
        except ValueError:
            raise Unusable("bad_json", url, "not a JSON list answer") from None
        result = answer.get("result") if isinstance(answer, dict) else None
        items = result.get("list") if isinstance(result, dict) else result
        if not isinstance(items, list):
            raise Unusable("bad_json", url, "no result list in the answer")
        links, dates, outlets = [], {}, {}
        for item in items:
            shown = item.get("url_show") if isinstance(item, dict) else None
            if not isinstance(shown, str) or not shown:
                continue
            link = (
                "https:" + shown.split(":", 1)[1]
                if shown.startswith("http:")
                else urljoin("https://www.cnbeta.com.tw/", shown)
            )
            links.append(link)
            if isinstance(item.get("inputtime"), str):
                dates[link] = item["inputtime"]
            if isinstance(item.get("source"), str) and (outlet := item["source"].partition("@")[0].strip()):
                outlets[link] = outlet
        if not links:
            return Listing(article_urls=[], next_url=None, end=True)
        query = parse_qs(urlsplit(url).query)
        page = int(query["page"][0]) if query.get("page", [""])[0].isdigit() else 1
        next_url = more_url(query.get("type", [""])[0], page + 1, query.get("_csrf", [""])[0])
        return Listing(article_urls=links, next_url=next_url, article_dates=dates, article_outlets=outlets)

    def tag_page_url(self, tag: str) -> str:
        if tag.isdigit():
            return f"https://www.cnbeta.com.tw/topics/{tag}.htm"
        if category := _CATEGORY_TAG.match(tag):
            return f"https://www.cnbeta.com.tw/category/{category.group('name')}.htm"
        parts = urlsplit(tag)
        if (parts.hostname or "") in self.hosts and (_TOPIC_PATH.match(parts.path) or _CATEGORY_PATH.match(parts.path)):
            return f"https://www.cnbeta.com.tw{parts.path}"
        raise ValueError(
            f"not a cnBeta topic number, category or topic/category-page URL: {tag!r} (e.g. 9 or category:science)"
        )

    def tag_feed_name(self, listing_url: str) -> str:
        """A topic's feed is its number (`9`); a category's `category-<name>`."""
        category = _CATEGORY_PATH.match(urlsplit(listing_url).path)
        return f"category-{category.group('name')}" if category else super().tag_feed_name(listing_url)


SITE = CnBeta()
