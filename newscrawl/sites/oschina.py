"""开源中国 (www.oschina.net) news: URLs, selectors, timezone and quirks.

Verified: article bodies (the archive's real posts, `div.content` with lists and code blocks). From
public scrapers: article URLs `/news/<id>/<slug>` and the news list endpoint
`/news/widgets/_news_index_generic_list?p=<N>&type=ajax` with `h3 > a` items. Modelled: the article
page chrome (title, date) and how the list ends — fixtures/oschina/README.md says how.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit
from zoneinfo import ZoneInfo

from parsel import Selector

from newscrawl.parsing.layout import Layout, first_text, tag_links
from newscrawl.parsing.site import Site, parse_page
from newscrawl.parsing.sources import Feed, Listing

_ARTICLE = re.compile(r"^/news/(?P<id>\d+)(?:/[^/]*)?/?$")
_LIST_PATH = "/news/widgets/_news_index_generic_list"
_META_DATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?$")
_LISTS = {"news": _LIST_PATH}  # the generic news list; project news lists' markup is not known
_COLUMN_PATH = "/news/column"
_COLUMN_TAG = re.compile(r"^column:(\d+)$")
_FEED = "https://www.oschina.net/news/rss"


def _column_page(number: str) -> str:
    return f"https://www.oschina.net{_COLUMN_PATH}?columnId={number}"


def _list_page(number: int) -> str:
    return f"https://www.oschina.net{_LIST_PATH}?p={number}&type=ajax"


class NewsFeed(Feed):
    """The news feed (RSS 2.0, the newest items): `-a tag=rss`, and the stand-in for the news list."""

    url = _FEED
    stands_in_for = (_list_page(1),)
    tag_forms = "rss (the news feed)"


class ArticleBox(Layout):
    """div.article-box: h1.article-box__title, a <time>, the body in div.article-detail (modelled:
    MARKUP.md says only "expect h1 / og:title, a time element")."""

    name = "article-box"
    seen = "modelled (fixtures/oschina/README.md); the bodies are real (the archive)"
    fixture = (
        "site/www.oschina.net/news/155820/netty-4-1-67-final-released",
        "https://www.oschina.net/news/155820/netty-4-1-67-final-released",
    )

    body_drop = ("script", "style", ".ad-wrap")

    @classmethod
    def holds(cls, page: Selector) -> bool:
        return bool(page.css(".article-box .article-detail"))

    def title(self) -> str | None:
        """Only the article box's heading: a bare `h1` would take a heading inside the body (kisso's has
        one); without the box, the generic fallbacks look (og:title, a page's only <h1>) and say so."""
        return first_text(self.page, ".article-box h1")

    def published(self) -> str | None:
        return self.page.css(".article-box time::attr(datetime)").get() or first_text(self.page, ".article-box time")

    def byline(self) -> str | None:
        author = first_text(self.page, ".article-box .author")
        return f"作者：{author}" if author else None

    def tags(self) -> list[tuple[str, str | None]]:
        return tag_links(self.page.css(".article-box .tags a"))

    def body(self) -> list[Selector]:
        return list(self.page.css(".article-detail")[:1])


class ArticleBox2026(ArticleBox):
    """The article box as 2026 scrapers read it: the meta in `div.article-box__meta div.item-list` (the
    author a link to `my.oschina.net/u/…`, the date `YYYY-MM-DD HH:MM:SS` in an item of its own), the body
    in `div.content` directly in the box, tags as `div.tags-box a.tag-item` (modelled page, MARKUP.md)."""

    name = "article-box-2026"
    seen = "2025–2026, RSSHub's oschina routes (MARKUP.md); fixture modelled, no 2026 page on record"
    fixture = ("modelled-2026/155820.html", "https://www.oschina.net/news/155820/netty-4-1-67-final-released")

    @classmethod
    def holds(cls, page: Selector) -> bool:
        return bool(page.css(".article-box div.article-box__meta div.item-list"))

    def published(self) -> str | None:
        items = self.page.css(".article-box div.article-box__meta div.item-list div.item")
        return next(
            (text for item in items if _META_DATE.match(text := "".join(item.css("::text").getall()).strip())), None
        )

    def modified(self) -> str | None:
        return self.page.css('meta[property="bytedance:updated_time"]::attr(content)').get()

    def byline(self) -> str | None:
        author = first_text(self.page, '.article-box div.article-box__meta a[href*="my.oschina.net/u/"]')
        return f"作者：{author}" if author else None

    def tags(self) -> list[tuple[str, str | None]]:
        return tag_links(self.page.css("div.tags-box a.tag-item"))

    def body(self) -> list[Selector]:
        return list(self.page.css(".article-box > div.content")[:1])


class OsChina(Site):
    name = "oschina"
    display_name = "开源中国"
    hosts = ("www.oschina.net", "oschina.net", "m.oschina.net")
    image_hosts = ("static.oschina.net", "oscimg.oschina.net")  # older uploads; recent bodies (MARKUP.md)
    timezone = ZoneInfo("Asia/Shanghai")
    language = "zh-CN"
    title_suffixes = (" - OSCHINA - 中文开源技术交流社区", " - 开源中国", "_开源中国")
    archive_categories = ("编程", "开源中国", "资讯")
    archive_author = "开源中国"
    archive_dates = "wall"  # the archive's `date:` is Beijing wall time labelled GMT (fixtures/oschina/README.md)

    layouts = (ArticleBox2026, ArticleBox)
    listing_sources = (NewsFeed(),)

    def article_id(self, url: str) -> str | None:
        match = self.path_match(url, _ARTICLE)
        return match.group("id") if match else None

    def canonical_url(self, url: str) -> str:
        article_id = self.article_id(url)
        if article_id is None:
            raise ValueError(f"not a 开源中国 news URL: {url}")
        slug = urlsplit(url).path.strip("/").split("/")[2:3]
        return f"https://www.oschina.net/news/{article_id}" + (f"/{slug[0]}" if slug and slug[0] else "")

    def tag_page_url(self, tag: str) -> str:
        if tag in _LISTS:
            return _list_page(1)
        if (column := _COLUMN_TAG.match(tag)) is not None:
            return _column_page(column.group(1))
        parts = urlsplit(tag)
        if (parts.hostname or "") in self.hosts and parts.path == _LIST_PATH:
            return _list_page(self._page_number(tag))
        if (parts.hostname or "") in self.hosts and parts.path == _COLUMN_PATH:
            number = parse_qs(parts.query).get("columnId", [""])[0]
            if number.isdigit():
                return _column_page(number)
        raise ValueError(
            f"not a 开源中国 news list or column: {tag!r} (use news, column:N, a {_COLUMN_PATH}?columnId=N URL "
            f"or a {_LIST_PATH}?p=N URL)"
        )

    def tag_feed_name(self, listing_url: str) -> str:
        """The news list's feed is `news` (`news-p3` for a walk that started at its page 3); a column's
        `column-N`."""
        parts = urlsplit(listing_url)
        if parts.path == _COLUMN_PATH:
            return "column-" + parse_qs(parts.query).get("columnId", ["0"])[0]
        number = self._page_number(listing_url)
        return "news" if number == 1 else f"news-p{number}"

    def listing_headers(self, url: str) -> dict[str, str]:
        """The list fragments answer an XHR from the news page (MARKUP.md: `X-Requested-With` and a Referer;
        the cookie `/news` sets is not sent: the crawl never fetches `/news` itself)."""
        if urlsplit(url).path.startswith("/news/widgets/"):
            return {"X-Requested-With": "XMLHttpRequest", "Referer": "https://www.oschina.net/news"}
        return {}

    @staticmethod
    def _page_number(url: str) -> int:
        values = parse_qs(urlsplit(url).query).get("p", ["1"])
        return int(values[0]) if values[0].isdigit() else 1

    def parse_tag_page(self, html: str, url: str) -> Listing:
        """The list pages by number; a page with no markup at all is past the last one. A column page's
        items are `div.news-item[data-url]` (how a column pages on is not known: only a `rel=next` or
        下一页 link is followed)."""
        if urlsplit(url).path == _COLUMN_PATH:
            page = parse_page(html, url)
            links = page.css("div.news-item::attr(data-url)").getall()
            return Listing(
                article_urls=[urljoin(url, link) for link in links],
                next_url=self.next_page_url(page, url),
                title=self.listing_title(page),
            )
        if not html.strip():
            return Listing(article_urls=[], next_url=None, end=True)
        links = parse_page(html, url).css("div.content h3 > a::attr(href)").getall()
        next_url = _list_page(self._page_number(url) + 1) if links else None
        return Listing(article_urls=[urljoin(url, link) for link in links], next_url=next_url)


SITE = OsChina()
