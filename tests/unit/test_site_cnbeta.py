"""cnBeta-specific checks (the site contract covers the bundled pages and posts)."""

import pytest
from conftest import FETCHED_AT, FIXTURES

from newscrawl.normalize.article import build_article
from newscrawl.sites import get_site

SITE = get_site("cnbeta")
FRAGMENT = FIXTURES / "cnbeta/real/touch-article-587662-fragment.html"


def test_the_real_2017_mobile_fragment():
    """The one real cnBeta page on record; every value below was read off the fragment by eye."""
    raw = SITE.parse_article(
        FRAGMENT.read_text(encoding="utf-8"), "https://www.cnbeta.com.tw/articles/tech/587662.htm", FETCHED_AT
    )
    article = build_article(raw, SITE)
    assert article.title == "代码缺陷导致 CloudFlare 泄露大量客户站点的密码等私密信息"
    assert article.published == "2017-02-24T15:25:43+08:00"
    assert (article.source, article.editor, article.author) == ("cnBeta.COM", "raymon725", None)
    assert article.images == [
        {
            "url": "http://static.cnbetacdn.com/article/2017/0224/cf723653006ab30.png",
            "thumbnail": "http://static.cnbetacdn.com/article/2017/0224/cf723653006ab30.png",
            "alt": "cloud.0.png",
        },
        {
            "url": "http://static.cnbetacdn.com/article/2017/0224/1f10cb84eb3c79d.jpg",
            "thumbnail": "http://static.cnbetacdn.com/article/2017/0224/1f10cb84eb3c79d.jpg",
            "alt": "20170224 Tavis Ormandy - Twitter.jpg",
        },
    ]
    assert article.body_html.startswith("<b>摘要：</b><p><strong>据外媒报道")
    assert article.body_html.endswith(
        '<a href="http://www.theverge.com/2017/2/24/14723184/cloudflare-leak-cloudbleed-passwords-dating-site-messages" target="_self">TheVerge</a>]</p>'
    )
    for absent in ("<script", "$$(", "bdsharebuttonbox", "编辑：raymon725"):
        assert absent not in article.body_html


def test_editor_line_at_the_end_of_the_desktop_content():
    page = (FIXTURES / "cnbeta/site/www.cnbeta.com.tw/articles/tech/1233391.htm").read_text(encoding="utf-8")
    page = page.replace(
        "Firefox Telemetry数据。</p> </div>", "Firefox Telemetry数据。</p><p>[责任编辑：ugmbbc]</p> </div>"
    )
    article = build_article(
        SITE.parse_article(page, "https://www.cnbeta.com.tw/articles/tech/1233391.htm", FETCHED_AT), SITE
    )
    assert article.editor == "ugmbbc"


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://www.cnbeta.com.tw/articles/tech/1233391.htm", "https://www.cnbeta.com.tw/articles/tech/1233391.htm"),
        (
            "http://www.cnbeta.com/articles/soft/1233391.htm?utm=x",
            "https://www.cnbeta.com.tw/articles/soft/1233391.htm",
        ),
        ("https://www.cnbeta.com/articles/1233391.htm", "https://www.cnbeta.com.tw/articles/tech/1233391.htm"),
    ],
)
def test_canonical_urls(url: str, canonical: str):
    assert SITE.canonical_url(url) == canonical and SITE.article_id(url) == "1233391"


def test_topics():
    assert SITE.listing_url("9") == "https://www.cnbeta.com.tw/topics/9.htm"
    assert SITE.listing_url("https://www.cnbeta.com.tw/topics/9_2.htm") == "https://www.cnbeta.com.tw/topics/9_2.htm"
    for bad in ("linux", "https://www.cnbeta.com.tw/articles/tech/1.htm", "https://evil.example/topics/9.htm"):
        with pytest.raises(ValueError):
            SITE.listing_url(bad)
    assert SITE.article_id("https://www.cnbeta.com.tw/topics/9.htm") is None


def test_listing_page():
    listing = SITE.parse_listing(
        (FIXTURES / "cnbeta/site/www.cnbeta.com.tw/topics/9.htm").read_text(encoding="utf-8"),
        "https://www.cnbeta.com.tw/topics/9.htm",
    )
    assert listing.article_urls == ["https://www.cnbeta.com.tw/articles/tech/1233391.htm"]
    assert listing.next_url == "https://www.cnbeta.com.tw/topics/9_2.htm"
