"""开源中国-specific checks (the site contract covers the bundled pages and posts)."""

import re

import pytest
import yaml
from conftest import FETCHED_AT, FIXTURES

from newscrawl.exporters.frontmatter import PostStyle, render_post
from newscrawl.extract.page import extract_article
from newscrawl.sites import get_site

SITE = get_site("oschina")
STYLE = PostStyle.of(SITE)
KISSO = FIXTURES / "oschina/site/www.oschina.net/news/155130/kisso-3-7-7-released"
KISSO_URL = "https://www.oschina.net/news/155130/kisso-3-7-7-released"


def test_code_blocks_survive_byte_for_byte():
    page = KISSO.read_text(encoding="utf-8")
    blocks = re.findall(r"<pre>.*?</pre>", page, re.S)
    assert len(blocks) == 2 and "&lt;dependency&gt;" in blocks[0] and "\n\n// 解析票据\n" in blocks[1]
    body = extract_article(KISSO.read_bytes(), KISSO_URL, "text/html", FETCHED_AT).body_html
    assert re.findall(r"<pre>.*?</pre>", body, re.S) == blocks


def test_no_image_means_no_invented_head_image():
    article = extract_article(KISSO.read_bytes(), KISSO_URL, "text/html", FETCHED_AT)
    assert article.images == [] and article.head_image is None
    front = yaml.safe_load(render_post(article, STYLE).split("\n---\n")[1])
    assert "headimg" not in front and "thumbnail" not in front
    front = yaml.safe_load(
        render_post(article, STYLE, placeholder_image="https://example.org/fixed.png").split("\n---\n")[1]
    )
    assert front["headimg"] == front["thumbnail"] == "https://example.org/fixed.png"


def test_archive_dates_are_beijing_wall_time_labelled_gmt():
    """The page shows 2021-08-09 18:18 Beijing time; the archive wrote that wall time as GMT, the true
    instant is 10:18 UTC (evidence: fixtures/oschina/README.md)."""
    article = extract_article(KISSO.read_bytes(), KISSO_URL, "text/html", FETCHED_AT)
    assert article.published == "2021-08-09T18:18:00+08:00"
    assert "date: Mon, 09 Aug 2021 18:18:00 GMT" in render_post(article, STYLE, "archive")
    assert "date: Mon, 09 Aug 2021 10:18:00 GMT" in render_post(article, STYLE, "utc")
    assert "date: 2021-08-09 18:18:00" in render_post(article, STYLE, "local")


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (KISSO_URL, KISSO_URL),
        ("http://oschina.net/news/155130/kisso-3-7-7-released?from=rss", KISSO_URL),
        ("https://www.oschina.net/news/155130", "https://www.oschina.net/news/155130"),
    ],
)
def test_canonical_urls(url: str, canonical: str):
    assert SITE.article_id(url) == "155130" and SITE.canonical_url(url) == canonical


def test_news_list_pages_by_number_and_ends_on_an_empty_page():
    first = SITE.listing_url("news")
    assert first == "https://www.oschina.net/news/widgets/_news_index_generic_list?p=1&type=ajax"
    page = (FIXTURES / "oschina/site/www.oschina.net/news/widgets/_news_index_generic_list@p=1&type=ajax").read_text(
        encoding="utf-8"
    )
    listing = SITE.parse_listing(page, first)
    assert listing.article_urls == ["https://www.oschina.net/news/155820/netty-4-1-67-final-released"]
    assert listing.next_url == "https://www.oschina.net/news/widgets/_news_index_generic_list?p=2&type=ajax"
    assert SITE.parse_listing("  \n", listing.next_url).end
    assert not SITE.parse_listing("<div class='changed'><a href='/news/1/x'>x</a></div>", first).end
    with pytest.raises(ValueError):
        SITE.listing_url("linux")
