"""The generic spider's rules, as tables: ids and shapes of article URLs, which links a listing's articles
are, its next page, page languages and their zones, site names."""

import pytest
from parsel import Selector

from newscrawl.generic.links import article_key, article_links, content_links, next_page, shape
from newscrawl.generic.site import generic_site, language_tag, page_language, site_name


@pytest.mark.parametrize(
    ("url", "key", "pattern"),
    [
        ("https://news.mydrivers.com/1/848/848601.htm", "848601", "/<n>/<n>/<n>.htm"),
        ("https://www.oschina.net/news/155820/netty-4-1-67-final-released", "155820", "/news/<n>/<slug>"),
        ("https://www.cnbeta.com.tw/articles/tech/1233391.htm", "1233391", "/articles/tech/<n>.htm"),
        ("https://x.example/2026/01/some-long-title/", "some-long-title", "/<n>/<n>/<slug>/"),
        ("https://x.example/tag/xiaomi12_ultra_2.htm", None, "/tag/xiaomi<n>_ultra_<n>.htm"),
        ("https://x.example/news/column?columnId=14", None, "/news/column"),
        ("https://x.example/", None, "/"),
        ("https://x.example/about-us", None, "/about-us"),
    ],
)
def test_article_ids_and_shapes(url, key, pattern):
    assert article_key(url) == key
    assert shape(url) == pattern


def test_the_majority_shape_in_scope_wins_once_per_id():
    links = [
        "https://a.example/news/1/2001.html",
        "https://a.example/news/1/2002.html",
        "https://a.example/news/1/2002.html?from=list",
        "https://a.example/video/3001/some-video-clip",
        "https://elsewhere.example/news/1/2003.html",
    ]
    found, pattern = article_links(links, frozenset({"a.example"}))
    assert found == ["https://a.example/news/1/2001.html", "https://a.example/news/1/2002.html"]
    assert pattern == "/news/<n>/<n>.html"
    assert article_links(["https://a.example/about"], frozenset({"a.example"})) == ([], None)


def test_links_in_chrome_are_left_out_and_data_urls_are_links():
    page = Selector(
        text="<body><nav><a href='/n/1001.html'>nav</a></nav><div class='hot-list'><a href='/n/1002.html'>hot</a>"
        "</div><div class='list'><h3 class='header'><a href='/n/1003.html'>item</a></h3>"
        "<div data-url='/n/1004.html'>scripted item</div><a href='javascript:;'>x</a></div></body>"
    )
    assert content_links(page, "https://a.example/") == [
        "https://a.example/n/1003.html",
        "https://a.example/n/1004.html",
    ]


@pytest.mark.parametrize(
    ("url", "html", "expected"),
    [
        ("https://a.example/tag/x.htm", "<a rel='next' href='x_2.htm'>2</a>", "https://a.example/tag/x_2.htm"),
        ("https://a.example/tag/x.htm", "<a href='/tag/x_2.htm'>下一页</a>", "https://a.example/tag/x_2.htm"),
        ("https://a.example/list", "<a href='/list?page=2'>Older posts</a>", "https://a.example/list?page=2"),
        (
            "https://a.example/tag/x.htm",
            "<a href='/tag/x_2.htm'>2</a><a href='/tag/x_3.htm'>3</a>",
            "https://a.example/tag/x_2.htm",
        ),
        (
            "https://a.example/tag/x_2.htm",
            "<a href='/tag/x.htm'>1</a><a href='/tag/x_3.htm'>3</a>",
            "https://a.example/tag/x_3.htm",
        ),
        ("https://a.example/blog/page/2/", "<a href='/blog/page/3/'>3</a>", "https://a.example/blog/page/3/"),
        ("https://a.example/list?page=3", "<a href='/list?page=4'>4</a>", "https://a.example/list?page=4"),
        ("https://a.example/list?page=3", "<a href='/list?page=2'>2</a>", None),
        ("https://a.example/tag/x.htm", "<a href='/tag/y_2.htm'>2</a>", None),
    ],
)
def test_the_next_page(url, html, expected):
    page = Selector(text=f"<body><div class='pages'>{html}</div></body>")
    assert next_page(page, url, content_links(page, url)) == expected


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("zh-CN", "zh-CN"),
        ("zh_cn", "zh-CN"),
        ("zh-Hans-CN", "zh-CN"),
        ("ZH", "zh"),
        ("en-gb", "en-GB"),
        ("x", None),
        ("", None),
    ],
)
def test_language_tags(value, tag):
    assert language_tag(value) == tag


@pytest.mark.parametrize(
    ("html", "language", "source"),
    [
        ("<html lang='zh-CN'><body>x</body></html>", "zh-CN", "lang"),
        ("<html><head><meta property='og:locale' content='ja_JP'></head></html>", "ja-JP", "og:locale"),
        ("<html><body><p>" + "小米自研新技术落地" * 4 + "</p></body></html>", "zh", "script"),
        ("<html><body><p>ニュースの記事です</p></body></html>", "ja", "script"),
        ("<html><body><p>plain words</p></body></html>", None, "none"),
    ],
)
def test_page_languages(html, language, source):
    assert page_language(Selector(text=html)) == (language, source)


def test_zones_come_from_the_argument_else_the_language_else_utc():
    site = generic_site(["https://news.example.test/list"])
    chinese = site.page_conventions("<html><body><p>" + "小米自研新技术落地" * 4 + "</p></body></html>")
    assert (str(chinese.timezone), chinese.zone_assumed) == ("Asia/Shanghai", "script:zh:Asia/Shanghai")
    unknown = site.page_conventions("<p>plain</p>")
    assert (str(unknown.timezone), unknown.zone_assumed, unknown.language) == ("UTC", "none:UTC", "und")
    given = generic_site(["https://news.example.test/list"], timezone="Asia/Taipei").page_conventions("<p>x</p>")
    assert (str(given.timezone), given.zone_assumed) == ("Asia/Taipei", None)


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("www.ithome.com", "ithome_com"),
        ("news.example.co.uk", "example_co_uk"),
        ("kkj.example", "kkj_example"),
        ("127.0.0.1", "site_127_0_0_1"),
    ],
)
def test_site_names(host, name):
    assert site_name(host) == name
