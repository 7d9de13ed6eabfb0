"""When the site's selectors find nothing: the generic fallbacks (newscrawl/parsing/fallbacks.py).

The redesigned pages are built here from a real fixture body (快科技 833153) in markup none of the
快科技 selectors match, in the forms pages commonly carry their metadata: JSON-LD only, meta + <time>
only, visible text only. Each must give the true title, instant and body, flagged as fallbacks; a
crawl of such pages exports them and exits 3 with the alarm naming the fields.
"""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path

import pytest
from conftest import FETCHED_AT, FIXTURES, run_crawl
from lxml import html as lxml_html

from newscrawl.extract.page import Listed, Page, extract_article, page_article
from newscrawl.items import Unusable
from newscrawl.sites import get_site

URL = "https://news.mydrivers.com/1/833/833153.htm"
EXPECTED = json.loads(
    (FIXTURES / "mydrivers/site/news.mydrivers.com/1/833/833153.expected.json").read_text(encoding="utf-8")
)
TITLE = EXPECTED["title"]
PUBLISHED = EXPECTED["published"]  # 2022-06-04T20:42:05+08:00
BODY = EXPECTED["body_html"]
SITE = get_site("mydrivers")


def page(head: str, before_body: str = "") -> bytes:
    """A redesigned article page: `head`, then the real body in markup the site module does not know."""
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8">{head}</head><body>'
        '<nav class="top-nav"><a href="/">首页</a></nav>'
        f'<main><article class="story">{before_body}<section class="story-text">{BODY}</section></article></main>'
        '<footer class="site-footer">© 快科技</footer></body></html>'
    ).encode()


def body_paragraphs(html: str) -> list[str]:
    return [text.strip() for text in lxml_html.fromstring(html).xpath("//p/text()") if len(text.strip()) > 20]


FORMS = {
    "json-ld only": (
        page(
            '<script type="application/ld+json">'
            + json.dumps(
                {
                    "@context": "https://schema.org",
                    "@type": "NewsArticle",
                    "headline": TITLE,
                    "datePublished": PUBLISHED,
                    "author": {"@type": "Person", "name": "拾柒"},
                },
                ensure_ascii=False,
            )
            + "</script>"
        ),
        {"title": "json-ld", "published": "json-ld", "author": "json-ld"},
    ),
    "meta and time only": (
        page(
            f'<meta property="og:title" content="{escape(TITLE)}">'
            f'<meta property="article:published_time" content="{PUBLISHED}">',
            f'<time datetime="{PUBLISHED}">6月4日</time>',
        ),
        {"title": "og:title", "published": "meta:article:published_time"},
    ),
    "visible text only": (
        page(
            "",
            f'<h1 class="story-title">{escape(TITLE)}</h1>'
            '<div class="story-meta">2022-06-04 20:42:05 来源：快科技</div>',
        ),
        {"title": "h1", "published": "text beside the title"},
    ),
}


@pytest.mark.parametrize("form", FORMS)
def test_a_page_no_selector_matches_gives_the_true_title_instant_and_body_flagged(form: str):
    body, sources = FORMS[form]
    article = extract_article(body, URL, "text/html; charset=utf-8", FETCHED_AT)
    assert (article.title, article.published) == (TITLE, PUBLISHED)
    assert {name: article.fallbacks[name] for name in sources} == sources
    assert article.fallbacks["body_html"] == "trafilatura"
    expected = body_paragraphs(BODY)
    assert len(expected) >= 3 and all(paragraph in article.body_html for paragraph in expected)
    assert "首页" not in article.body_html and "©" not in article.body_html  # navigation and footer left out
    # The images as shown (trafilatura keeps <img> but not the <a href> to the full-size file around it).
    assert {image["thumbnail"] for image in EXPECTED["images"]} <= {image["thumbnail"] for image in article.images}
    if "author" in sources:
        assert article.author == "拾柒"


def test_structured_dates_that_disagree_drop_the_page_with_a_reason():
    body = page(
        f'<meta property="og:title" content="{escape(TITLE)}">'
        '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2022-06-04T20:42:05+08:00"}</script>'
        '<meta property="article:published_time" content="2022-06-09T08:00:00+08:00">'
    )
    with pytest.raises(Unusable) as dropped:
        extract_article(body, URL, "text/html; charset=utf-8", FETCHED_AT)
    assert dropped.value.reason == "fallback_dates_disagree"
    assert "json-ld 2022-06-04T20:42:05+08:00" in str(dropped.value)


def test_a_page_the_site_module_reads_whole_uses_no_fallback():
    raw = (FIXTURES / "mydrivers/site/news.mydrivers.com/1/833/833153.htm").read_bytes()
    assert extract_article(raw, URL, "text/html", FETCHED_AT).fallbacks == {}


def test_too_little_main_content_is_no_body():
    body = (
        f'<html><head><meta property="og:title" content="{escape(TITLE)}">'
        f'<meta property="article:published_time" content="{PUBLISHED}"></head>'
        "<body><main><p>短。</p></main></body></html>"
    ).encode()
    with pytest.raises(Unusable, match="missing_body"):
        extract_article(body, URL, "text/html; charset=utf-8", FETCHED_AT)


# Listing pages ------------------------------------------------------------------------------------

REDESIGNED_LISTING = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>小米12 Ultra</title></head><body>
<header class="top"><a href="//news.mydrivers.com/1/999/999001.htm">头条</a></header>
<div class="layout"><div class="tag-feed">
  <div class="card"><a href="//news.mydrivers.com/1/833/833153.htm">A</a></div>
  <div class="card"><a href="https://news.mydrivers.com/1/834/834000.htm?from=tag">B</a></div>
  <div class="card"><a href="/1/835/835000.htm">C</a> <a href="//news.mydrivers.com/1/833/833153.htm">A again</a></div>
  <a href="https://news.mydrivers.com/tag/xiaomi.htm">小米</a>
</div>
<div class="side-box"><a href="//news.mydrivers.com/1/999/999002.htm">热门</a></div>
<aside><a href="//news.mydrivers.com/1/999/999003.htm">推荐</a></aside></div>
<a class="pager" rel="next" href="/tag/xiaomi12_ultra_2.htm">下一页</a>
<footer><a href="//news.mydrivers.com/1/999/999004.htm">关于</a></footer></body></html>"""


def test_the_listing_fallback_finds_the_feed_not_the_sidebar():
    listing = SITE.read_listing(REDESIGNED_LISTING, "https://news.mydrivers.com/tag/xiaomi12_ultra.htm")
    assert listing.fallback
    assert [SITE.article_id(url) for url in listing.article_urls] == ["833153", "834000", "835000"]
    assert listing.next_url == "https://news.mydrivers.com/tag/xiaomi12_ultra_2.htm"


def test_a_listing_the_selectors_read_uses_no_fallback():
    path = FIXTURES / "mydrivers/site/news.mydrivers.com/tag/xiaomi12_ultra.htm"
    listing = SITE.read_listing(path.read_text(encoding="utf-8"), "https://news.mydrivers.com/tag/xiaomi12_ultra.htm")
    assert listing.article_urls and not listing.fallback


# A crawl of a redesigned site ---------------------------------------------------------------------


def redesign(root: Path) -> int:
    """Rename every class and id the 快科技 module reads, on every page of the copy: its selectors now
    find nothing, while what any page carries (og:title, <title>, the text) stays."""
    changed = 0
    for path in root.rglob("*.htm"):
        raw = path.read_bytes()
        charset = "gb18030" if b"charset=gb2312" in raw else "utf-8"
        text = raw.decode(charset)
        new = re.sub(
            r'(class|id)="(news_bt|thread_subject|news_bt1_left|news_info|pc_info|newsleft_1)"', r'\1="x-\2"', text
        )
        if new != text:
            path.write_bytes(new.encode(charset))
            changed += 1
    return changed


def test_a_crawl_of_a_redesigned_site_keeps_its_data_flowing_and_exits_3(site_copy, tmp_path: Path):
    root, server = site_copy
    assert redesign(root) >= 10
    result = run_crawl(tmp_path, server, "-a", "tag=xiaomi12_ultra,windows_11")
    assert result.returncode == 3, result.log[-3000:]
    assert len(result.items) >= 5
    expected = {
        path.name.split(".")[0]: json.loads(path.read_text(encoding="utf-8"))
        for path in (FIXTURES / "mydrivers/site").rglob("*.expected.json")
    }
    for item in result.items:
        assert item["fallbacks"]["title"] == "og:title"
        assert item["fallbacks"]["body_html"] == "trafilatura"
        truth = expected[item["article_id"]]
        assert (item["title"], item["published"]) == (truth["title"], truth["published"]), item["fallbacks"]
    alarm = result.stats["newscrawl/alarm"]
    assert "fields found only by fallbacks" in alarm and "title in" in alarm and "body_html in" in alarm
    assert "had their article links found only by the listing fallback" in alarm
    assert result.stats["newscrawl/listing/fallback"] >= 2
    assert result.stats["newscrawl/fallback/title"] == len(result.items)


# The listing's date ---------------------------------------------------------------------------------


def page_with_date(iso: str) -> bytes:
    return page(
        f'<meta property="og:title" content="{escape(TITLE)}"><meta property="article:published_time" content="{iso}">'
    )


def test_a_fallback_date_far_from_the_listings_drops_the_page():
    wrong = Page(
        "mydrivers",
        URL,
        page_with_date("2021-06-04T20:42:05+08:00"),
        "text/html; charset=utf-8",
        FETCHED_AT,
        listed=Listed("2022-06-04 20:42"),
    )
    with pytest.raises(Unusable) as dropped:
        page_article(wrong)
    assert dropped.value.reason == "fallback_date_far_from_listing"
    right = wrong._replace(body=page_with_date(PUBLISHED))
    assert page_article(right).published == PUBLISHED


def test_the_listings_date_is_the_last_resort_and_says_so():
    no_date = page(f'<meta property="og:title" content="{escape(TITLE)}">')
    article = page_article(
        Page("mydrivers", URL, no_date, "text/html; charset=utf-8", FETCHED_AT, listed=Listed("2022-06-04 20:42"))
    )
    assert article.published == "2022-06-04T20:42:00+08:00" and article.fallbacks["published"] == "listing"
    with pytest.raises(Unusable, match="missing_date"):
        page_article(Page("mydrivers", URL, no_date, "text/html; charset=utf-8", FETCHED_AT))


def test_a_listing_shows_its_dates_beside_the_links():
    path = FIXTURES / "mydrivers/site/news.mydrivers.com/tag/windows_11.htm"
    listing = SITE.read_listing(path.read_text(encoding="utf-8"), "https://news.mydrivers.com/tag/windows_11.htm")
    assert listing.article_dates == {
        "https://news.mydrivers.com/1/178/178519.htm": "2022-07-09 00:22",
        "https://news.mydrivers.com/1/792/792466.htm": "2021-11-01 14:19",
    }


def test_a_page_whose_body_class_mentions_a_sidebar_still_has_a_main_content():
    listing = SITE.read_listing(
        REDESIGNED_LISTING.replace("<body>", '<body class="has-sidebar">'),
        "https://news.mydrivers.com/tag/xiaomi12_ultra.htm",
    )
    assert [SITE.article_id(url) for url in listing.article_urls] == ["833153", "834000", "835000"]
