"""快科技 (news.mydrivers.com): URLs, selectors, timezone and quirks.

What is verified and what is assumed is written in `fixtures/mydrivers/README.md` and the README;
in short, article selectors come from public scrapers and the archive's real bodies, while the tag
page's pagination is unverified (modelled as `<slug>_<N>.htm` links, followed by a "下一页" link or
`rel=next`, whichever the page has). Drops and the listing/empty stat tell when the live site differs.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo


from newscrawl.items import RawArticle
from newscrawl.sites.base import Site, parse_page

_DESKTOP_ARTICLE = re.compile(r"^/1/\d+/(\d+)\.html?/?$")
_MOBILE_ARTICLE = re.compile(r"^/newsview/(\d+)\.html?$")
_TAG_PATH = re.compile(r"^/tag/[A-Za-z0-9_\-]+(?:_\d+)?\.htm$")
_SLUG = re.compile(r"^[A-Za-z0-9_\-]+$")


class MyDrivers(Site):
    name = "mydrivers"
    display_name = "快科技"
    hosts = ("news.mydrivers.com", "m.mydrivers.com")
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

    # What public scrapers strip from the body (ads, share and navigation boxes).
    body_drop = (".jcuo1", "#weixin", ".news_bq", ".btnPrev", ".btnNext", "#AiSummaryLink", "script", "style")
    # The end-of-article mark is an image on layout B; it is chrome, not an article image.
    body_decorations = ("p.end",)
    listing_links_css = "ul#newsleft_1 li h3 a::attr(href)"

    def article_id(self, url: str) -> str | None:
        pattern = _MOBILE_ARTICLE if (urlsplit(url).hostname or "").lower() == "m.mydrivers.com" else _DESKTOP_ARTICLE
        match = self.path_match(url, pattern)
        return match.group(1) if match else None

    def canonical_url(self, url: str) -> str:
        article_id = self.article_id(url)
        if article_id is None:
            raise ValueError(f"not a 快科技 article URL: {url}")
        return f"https://news.mydrivers.com/1/{int(article_id) // 1000}/{article_id}.htm"

    def listing_url(self, tag: str) -> str:
        tag = tag.strip()
        if _SLUG.match(tag):
            return f"https://news.mydrivers.com/tag/{tag}.htm"
        parts = urlsplit(tag)
        if parts.hostname == "news.mydrivers.com" and _TAG_PATH.match(parts.path):
            return f"https://news.mydrivers.com{parts.path}"
        raise ValueError(f"not a 快科技 tag slug or tag-page URL: {tag!r} (e.g. xiaomi12_ultra)")

    def parse_article(self, html: str, url: str, fetched_at: str) -> RawArticle:
        page = parse_page(html, url)
        raw = self.new_article(url, fetched_at)
        raw.title = self.title_text(page, "div.news_bt", "#thread_subject", "div.news_t")
        raw.byline = self.first_text(page, "div.news_bt1_left")
        containers = page.css("div.news_info, div.pc_info, #content")
        if not containers:
            return raw
        body = containers[0]
        raw.editor_line = next(
            (text for text in body.css("p.url ::text, .url ::text").getall() if "责任编辑" in text), None
        )
        source = body.xpath(".//*[contains(text(), '原文链接')]//a[@href][1]")
        if source:
            raw.source_link = ("".join(source[0].css("::text").getall()).strip(), source[0].attrib["href"])
        raw.tags = self.tag_links(body.css("p.bqian a, span.news_bq_list a") or page.css("span.news_bq_list a, div.bqian1 a"))
        raw.body_html, raw.images = self.body_parts(body.root)
        return raw


SITE = MyDrivers()
