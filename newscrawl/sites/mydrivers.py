"""快科技 (news.mydrivers.com): URLs, selectors, timezone and quirks.

What is verified and what is assumed is written in `fixtures/mydrivers/README.md` and `docs/sites.md`;
in short, article selectors come from public scrapers and the archive's real bodies, while the tag
page's pagination is unverified (modelled as `<slug>_<N>.htm` links, followed by a "下一页" link or
`rel=next`, whichever the page has). Drops and the listing/empty stat tell when the live site differs.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from urllib.parse import parse_qs, urljoin, urlsplit
from zoneinfo import ZoneInfo

from parsel import Selector

from newscrawl.items import Unusable
from newscrawl.parsing.layout import Layout, first_text, tag_links
from newscrawl.parsing.site import Site, parse_page
from newscrawl.parsing.sources import Feed, Listing, ListingSource, url_of

_DESKTOP_ARTICLE = re.compile(r"^/1/\d+/(\d+)\.html?/?$")
_MOBILE_ARTICLE = re.compile(r"^/newsview/(\d+)\.html?$")
_TAG_PATH = re.compile(r"^/tag/[A-Za-z0-9_\-]+(?:_\d+)?\.htm$")
_COLUMN_PATH = re.compile(r"^/[a-z0-9_]+\.html$")  # a column page, e.g. /zhangjiyouxi.html
_SLUG = re.compile(r"^[A-Za-z0-9_\-]+$")
_ARTICLE_HOSTS = ("news.mydrivers.com", "m.mydrivers.com")
# Column pages load further items from this JSONP endpoint (MARKUP.md); `ac` is the column's number.
_JSONP_HOST, _JSONP_PATH = "blog.mydrivers.com", "/news/getdatelist_search.aspx"
_JSONP_DECLARED = re.compile(r"getdatelist_search\.aspx\?ac=(\d+)")
_JSONP_ANSWER = re.compile(r"^\s*[\w$.]+\((.*)\)\s*;?\s*$", re.S)


def jsonp_url(ac: str, page: int, minid: int | str) -> str:
    """The column's JSONP page `page`, after the items down to `minid` (0 for the first, page 2)."""
    return f"https://{_JSONP_HOST}{_JSONP_PATH}?ac={ac}&timeks=&timeend=&page={page}&minid={minid}&callback=NewsList"


_FEED_HOST, _FEED_PATH = "rss.mydrivers.com", "/rss.aspx"
_ALL_NEWS_FEED = f"https://{_FEED_HOST}{_FEED_PATH}?Tid=1"
_MOBILE_HOST, _MOBILE_PATH = "m.mydrivers.com", "/m/newslist.ashx"
_MOBILE_LISTS = ("new", "hot")


def mobile_list_url(kind: str) -> str:
    """The mobile list `ac=new` (the newest news) or `ac=hot`."""
    return f"https://{_MOBILE_HOST}{_MOBILE_PATH}?ac={kind}"


class NewsFeed(Feed):
    """The official feeds (summary only): `-a tag=rss` is all news (`?Tid=1`), a feed URL with `?cid=N` a
    category's. All news stands in for the mobile list of the newest news."""

    url = _ALL_NEWS_FEED
    stands_in_for = (mobile_list_url("new"),)
    tag_forms = "rss (the all-news feed) or a rss.mydrivers.com/rss.aspx?cid=N feed URL"

    def owns(self, url: str) -> bool:
        return url_of(_FEED_HOST, _FEED_PATH, url)

    def walk(self, tag: str) -> str | None:
        if tag == self.name:
            return self.url
        query = parse_qs(urlsplit(tag).query)
        if not self.owns(tag):
            return None
        if (category := query.get("cid", [""])[0]).isdigit():
            return f"https://{_FEED_HOST}{_FEED_PATH}?cid={category}"
        return self.url

    def feed_name(self, walk: str) -> str:
        category = parse_qs(urlsplit(walk).query).get("cid", [""])[0]
        return f"rss-cid-{category}" if category else "rss"


class MobileList(ListingSource):
    """The mobile list endpoint: `-a tag=mobile` (the newest news, `ac=new`) or `mobile:hot`. Items
    `li[data-id]` with `div.news_title span.newst a` and the time in `p.ttime` (MARKUP.md, "Mobile"); how
    it pages on is not known, so it shows the newest items only. Stands in for the all-news feed."""

    name = "mobile"
    partial = True
    tag_forms = "mobile or mobile:hot (the mobile news lists)"

    def owns(self, url: str) -> bool:
        return url_of(_MOBILE_HOST, _MOBILE_PATH, url)

    def walk(self, tag: str) -> str | None:
        named, _, kind = tag.partition(":")
        if named == self.name:
            kind = kind or "new"
        elif self.owns(tag):
            kind = parse_qs(urlsplit(tag).query).get("ac", ["new"])[0]
        else:
            return None
        return mobile_list_url(kind) if kind in _MOBILE_LISTS else None

    def parse(self, text: str, url: str) -> Listing:
        links, dates = [], {}
        for item in parse_page(f"<ul>{text}</ul>", url).css("li[data-id]"):
            href = item.css("div.news_title span.newst a::attr(href)").get()
            if not href:
                continue
            links.append(urljoin(url, href.strip()))
            if shown := (item.css("p.ttime::text").get() or "").strip():
                dates[links[-1]] = shown
        return Listing(article_urls=links, next_url=None, article_dates=dates)

    def serves(self, walk: str) -> str | None:
        return mobile_list_url("new") if walk == _ALL_NEWS_FEED else None

    def feed_name(self, walk: str) -> str:
        return "mobile-" + parse_qs(urlsplit(walk).query).get("ac", ["new"])[0]


_BODY_CONTAINERS = ("div.news_info", "div.pc_info", "#content")
_BODY = ", ".join(_BODY_CONTAINERS)


# What public scrapers strip from the body (ads, share and navigation boxes).
_BODY_DROP: tuple[str, ...] = (".jcuo1", "#weixin", ".news_bq", ".btnPrev", ".btnNext", "script", "style")


def _in_body(css: str) -> str:
    """`css` inside any of the body containers."""
    return ", ".join(f"{container} {css}" for container in _BODY_CONTAINERS)


class FooterA(Layout):
    """The body ends in `<p class="end"> - THE END -</p>`, tags as `<a><i>#</i>X</a>` in p.bqian.
    Every later layout changes only the body's end: the fields are read here for all of them, from the
    first body container; a page without one has a title and a byline, nothing else."""

    name = "footer-a"
    seen = "2021-04 → 2022-01 (the archive's posts, dated by their front matter; MARKUP.md)"
    fixture = ("site/news.mydrivers.com/1/771/771820.htm", "https://news.mydrivers.com/1/771/771820.htm")
    body_drop = _BODY_DROP

    @classmethod
    def holds(cls, page: Selector) -> bool:
        return "THE END" in "".join(page.css(_in_body("p.end::text")).getall())

    def __init__(self, page: Selector, url: str) -> None:
        super().__init__(page, url)
        self.container = page.css(_BODY)[:1]

    def title(self) -> str | None:
        return first_text(self.page, "div.news_bt", "#thread_subject", "div.news_t")

    def byline(self) -> str | None:
        return first_text(self.page, "div.news_bt1_left")

    def editor_line(self) -> str | None:
        return next(
            (text for text in self.container.css("p.url ::text, .url ::text").getall() if "责任编辑" in text), None
        )

    def source_link(self) -> tuple[str, str] | None:
        source = self.container.xpath(".//*[contains(text(), '原文链接')]//a[@href][1]")
        return ("".join(source[0].css("::text").getall()).strip(), source[0].attrib["href"]) if source else None

    def tags(self) -> list[tuple[str, str | None]]:
        if not self.container:
            return []
        return tag_links(
            self.container.css("p.bqian a, span.news_bq_list a") or self.page.css("span.news_bq_list a, div.bqian1 a")
        )

    def body(self) -> list[Selector]:
        return list(self.container)


class FooterB(FooterA):
    """The end mark became an image (`p.end img`, end_article.png): chrome, not an article image; a
    文章纠错 link in the editor line; tags after an empty div#bnext."""

    name = "footer-b"
    seen = "2022-02 → 2022-08 (the archive's posts; MARKUP.md)"
    fixture = ("site/news.mydrivers.com/1/833/833153.htm", "https://news.mydrivers.com/1/833/833153.htm")
    body_decorations = ("p.end",)

    @classmethod
    def holds(cls, page: Selector) -> bool:
        return bool(page.css(_in_body("p.end img")))


class FooterC(FooterA):
    """No end mark and no tags; 如需转载 in p.zhuanzai and the editor line without 文章纠错."""

    name = "footer-c"
    seen = "2022-08 → (the archive's latest posts; MARKUP.md: current pages may differ again)"
    fixture = ("site/news.mydrivers.com/1/847/847312.htm", "https://news.mydrivers.com/1/847/847312.htm")

    @classmethod
    def holds(cls, page: Selector) -> bool:
        return bool(page.css(_BODY)) and not page.css(_in_body("p.end"))


class AiSummary2026(FooterC):
    """Footer C with an AI-written summary box (`div#AiSummaryLink`) opening the body: not article
    content, removed (2026 scrapers remove it too)."""

    name = "ai-summary-2026"
    seen = "2026 (MARKUP.md: a PHP scraper maintained in 2026 removes it); fixture modelled, no 2026 page on record"
    fixture = ("modelled-2026/848601.htm", "https://news.mydrivers.com/1/848/848601.htm")
    body_drop = (*_BODY_DROP, "#AiSummaryLink")

    @classmethod
    def holds(cls, page: Selector) -> bool:
        return bool(page.css(_in_body("#AiSummaryLink")))


class MyDrivers(Site):
    name = "mydrivers"
    display_name = "快科技"
    hosts = ("news.mydrivers.com", "m.mydrivers.com", _JSONP_HOST, _FEED_HOST)
    image_hosts = (
        "img1.mydrivers.com",
    )  # body images (MARKUP.md); icons.mydrivers.com serves chrome (placeholders, end marks)
    timezone = ZoneInfo("Asia/Shanghai")
    language = "zh-CN"
    title_suffixes = (
        "--快科技--科技改变未来",
        "——快科技(驱动之家旗下媒体)--科技改变未来",
        "-快科技",
        "_快科技",
    )
    thumbnail_prefixes = ("s_", "S")
    fallback_encoding = "gb18030"  # old pages are GBK without always saying so
    archive_categories = ("新媒体", "快科技（原驱动之家）", "最新新闻")
    archive_author = "快科技（原驱动之家）"
    archive_dates = "wall"  # the archive's `date:` is Beijing wall time labelled GMT
    expected_coverage = {**Site.expected_coverage, "images": 0.5, "editor": 0.5, "tags": 0.3}

    layouts = (AiSummary2026, FooterC, FooterB, FooterA)
    # Tag pages (absolute links until 2022, protocol-relative in 2026) and 2026 column pages.
    listing_links_css = "ul#newsleft_1 li h3 a::attr(href), li div.news_right h3 a::attr(href)"
    listing_sources = (NewsFeed(), MobileList())

    def article_id(self, url: str) -> str | None:
        host = (urlsplit(url).hostname or "").lower()
        if host not in _ARTICLE_HOSTS:
            return None
        match = self.path_match(url, _MOBILE_ARTICLE if host == "m.mydrivers.com" else _DESKTOP_ARTICLE)
        return match.group(1) if match else None

    def canonical_url(self, url: str) -> str:
        article_id = self.article_id(url)
        if article_id is None:
            raise ValueError(f"not a 快科技 article URL: {url}")
        return f"https://news.mydrivers.com/1/{int(article_id) // 1000}/{article_id}.htm"

    def tag_page_url(self, tag: str) -> str:
        if _SLUG.match(tag):
            return f"https://news.mydrivers.com/tag/{tag}.htm"
        parts = urlsplit(tag)
        if parts.hostname == "news.mydrivers.com" and (_TAG_PATH.match(parts.path) or _COLUMN_PATH.match(parts.path)):
            return f"https://news.mydrivers.com{parts.path}"
        raise ValueError(
            f"not a 快科技 tag slug or tag-page URL: {tag!r} (e.g. xiaomi12_ultra, or a column page "
            "such as https://news.mydrivers.com/zhangjiyouxi.html)"
        )

    def listing_dates(self, page: Selector, url: str) -> dict[str, str]:
        """`span.time` (`YYYY-MM-DD HH:MM`, Beijing) of each tag or column list item, by its `h3 a` link."""
        dates = {}
        for item in page.css("li"):
            href, shown = item.css("h3 a::attr(href)").get(), item.css("span.time::text").get()
            if href and shown and shown.strip():
                dates[urljoin(url, href)] = shown.strip()
        return dates

    def parse_tag_page(self, html: str, url: str) -> Listing:
        """A tag or column page; a column page that declares its JSONP "more" endpoint goes on to it."""
        if url_of(_JSONP_HOST, _JSONP_PATH, url):
            return self._parse_jsonp(html, url)
        listing = super().parse_tag_page(html, url)
        if listing.next_url is None and (declared := _JSONP_DECLARED.search(html)):
            return replace(listing, next_url=jsonp_url(declared.group(1), 2, 0))
        return listing

    def _parse_jsonp(self, text: str, url: str) -> Listing:
        """`NewsList({...})`: `html` holds the items, `minid` where the next page starts, `datalist` -1 or
        -2 at the end (MARKUP.md; the answer's fields may sit in `data[0]`)."""
        wrapped = _JSONP_ANSWER.match(text)
        try:
            answer = json.loads(wrapped.group(1)) if wrapped else None
        except ValueError:
            answer = None
        if isinstance(answer, dict) and isinstance(answer.get("data"), list):
            answer = answer["data"][0] if answer["data"] else {}
        if not isinstance(answer, dict):
            raise Unusable("bad_jsonp", url, "not a NewsList(…) answer")
        items = parse_page(f"<ul>{answer.get('html') or ''}</ul>", url)
        links = [urljoin(url, href) for href in items.css("li h3 a::attr(href)").getall()]
        ended = str(answer.get("datalist")) in ("-1", "-2")
        query = parse_qs(urlsplit(url).query)
        page = int(query.get("page", ["2"])[0]) if query.get("page", [""])[0].isdigit() else 2
        next_url = (
            None if ended or not links else jsonp_url(query.get("ac", ["0"])[0], page + 1, answer.get("minid", 0))
        )
        return Listing(
            article_urls=links, next_url=next_url, end=ended and not links, article_dates=self.listing_dates(items, url)
        )


SITE = MyDrivers()
