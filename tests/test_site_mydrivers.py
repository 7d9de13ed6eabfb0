"""快科技-specific checks, without spider or network (the site contract covers every page and post)."""

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import pytest
from conftest import FETCHED_AT, FIXTURES, MYDRIVERS_SITE, run_crawl
from lxml import html as lxml_html

from newscrawl.exporters.frontmatter import PostStyle, render_post
from newscrawl.extract.page import extract_article
from newscrawl.items import Unusable
from newscrawl.sites import get_site, site_for_url

SITE = get_site("mydrivers")


def page_file(article_id: str) -> Path:
    return MYDRIVERS_SITE / f"news.mydrivers.com/1/{int(article_id) // 1000}/{article_id}.htm"


def extract(article_id: str, body: bytes | None = None):
    return extract_article(
        body if body is not None else page_file(article_id).read_bytes(),
        f"https://news.mydrivers.com/1/{int(article_id) // 1000}/{article_id}.htm",
        "text/html",
        FETCHED_AT,
    )


def test_seed_in_default_mode_differs_only_by_the_true_utc_date_and_hexo_safe_blank_lines():
    seed = (FIXTURES / "mydrivers/posts/seed-example.md").read_text(encoding="utf-8")
    ours = render_post(extract("833153"), PostStyle.of(SITE), "utc")
    differing = [(a, b) for a, b in zip(seed.split("\n"), ours.split("\n"), strict=True) if a != b]
    blank_lines = [(a, b) for a, b in differing if not a.strip()]
    assert [(a, b) for a, b in differing if a.strip()] == [
        ("date: Sat, 04 Jun 2022 20:42:05 GMT", "date: Sat, 04 Jun 2022 12:42:05 GMT"),
        (
            '          <p class="url"><span style="color:#666">责任编辑：拾柒</span><a href="javascript:;" class="jiucuo" id="leftjiucuo">文章纠错</a></p>',
            '          <p class="url"><span style="color:#666">责任编辑：拾柒</span><a class="jiucuo" id="leftjiucuo">文章纠错</a></p>',
        ),
    ]
    # The body's blank lines, written as empty comments so Hexo's Markdown keeps the body one HTML block.
    assert len(blank_lines) == 4 and all(b == a + "<!---->" for a, b in blank_lines)


SEED_SHA256 = "a121827ae56e3449bad76a0f8c391abaeaf7c7d81de98df0d752a8ff0a5bce5b"  # of the team's reference post, when it was copied here


def test_seed_reference_copy_is_the_reference_post():
    """The copy in fixtures/ is the reference post byte for byte (its hash, taken from the original);
    beside the team's shared folder, it is also compared with the original itself."""
    copy = (FIXTURES / "mydrivers/posts/seed-example.md").read_bytes()
    assert hashlib.sha256(copy).hexdigest() == SEED_SHA256
    shared = FIXTURES.parent.parent / "shared/reference/seed-example.md"
    if shared.exists():
        assert shared.read_bytes() == copy


@pytest.mark.parametrize(("article_id", "charset"), [("762514", "gb18030"), ("850166", "utf-8")])
def test_gbk_and_no_charset_pages_decode_without_replacement(article_id: str, charset: str):
    article = extract(article_id)
    assert "\ufffd" not in json.dumps(article.to_dict(), ensure_ascii=False)
    assert article.title in page_file(article_id).read_bytes().decode(charset)


def mutate(article_id: str, old: str, new: str) -> bytes:
    text = page_file(article_id).read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1).encode("utf-8")


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("2022-06-04 20:42:05  出处", "出处", "missing_date"),
        ("2022-06-04 20:42:05  出处", "二〇二二年某日  出处", "invalid_date"),
    ],
)
def test_missing_parts_are_named(old: str, new: str, reason: str):
    with pytest.raises(Unusable) as error:
        extract("833153", mutate("833153", old, new))
    assert error.value.reason == reason


def test_a_missing_title_block_falls_back_to_og_title_and_says_so():
    article = extract(
        "833153",
        mutate(
            "833153",
            '<div class="news_bt" id="thread_subject">小米首款徕卡旗舰7月发！雷军晒刚入手的徕卡M11/Q2相机</div>',
            "",
        ),
    )
    assert article.title == "小米首款徕卡旗舰7月发！雷军晒刚入手的徕卡M11/Q2相机"
    assert article.fallbacks == {"title": "og:title"}


def test_a_missing_body_container_falls_back_to_the_main_content_and_says_so():
    exact = extract("833153")
    article = extract("833153", mutate("833153", '<div class="news_info">', '<div class="gone">'))
    assert article.fallbacks == {"body_html": "trafilatura", "images": "trafilatura"}
    paragraphs = [p for p in lxml_html.fromstring(exact.body_html).xpath("//p/text()") if len(p.strip()) > 20]
    assert len(paragraphs) >= 3 and all(p.strip() in article.body_html for p in paragraphs)
    # Every article image, in order; the generic extractor cannot know the site's end-of-article mark.
    assert [image["thumbnail"] for image in article.images] == [image["thumbnail"] for image in exact.images] + [
        "https://icons.mydrivers.com/news/end_article.png"
    ]
    assert (article.title, article.published) == (exact.title, exact.published)


def test_no_title_anywhere_is_missing_title():
    text = page_file("833153").read_text(encoding="utf-8")
    for part in (
        '<div class="news_bt" id="thread_subject">小米首款徕卡旗舰7月发！雷军晒刚入手的徕卡M11/Q2相机</div>',
        '<meta property="og:title" content="小米首款徕卡旗舰7月发！雷军晒刚入手的徕卡M11/Q2相机">',
        "<title>小米首款徕卡旗舰7月发！雷军晒刚入手的徕卡M11/Q2相机--快科技--科技改变未来</title>",
    ):
        text = text.replace(part, "")
    with pytest.raises(Unusable, match="missing_title"):
        extract("833153", text.encode())


def test_title_falls_back_to_the_title_tag_without_its_suffix():
    text = page_file("762514").read_bytes().decode("gb18030")
    text = text.replace('<div class="news_bt" id="thread_subject">', '<div class="x">').replace(
        'property="og:title"', 'name="x"'
    )
    article = extract("762514", text.encode("gb18030"))
    assert article.title == "Win10更新惹祸 游戏卡顿、掉帧：微软正式回应"
    assert article.fallbacks == {"title": "title"}


def test_scraper_junk_and_lazy_images_in_the_body():
    body = mutate(
        "833153",
        '<div class="news_info">',
        '<div class="news_info"><div id="AiSummaryLink">AI 摘要</div><script>track()</script>'
        '<p><img src="https://icons.mydrivers.com/loading.gif" data-original="//img1.mydrivers.com/img/1/lazy.jpg" alt="lazy"></p>',
    )
    article = extract("833153", body)
    assert "AI 摘要" not in article.body_html and "track()" not in article.body_html
    assert article.body_html.startswith(
        '<p><img src="https://img1.mydrivers.com/img/1/lazy.jpg" alt="lazy" referrerpolicy="no-referrer"></p>'
    )
    assert article.images[0] == {
        "url": "https://img1.mydrivers.com/img/1/lazy.jpg",
        "thumbnail": "https://img1.mydrivers.com/img/1/lazy.jpg",
        "alt": "lazy",
    }


def test_listing_page():
    listing = SITE.parse_listing(
        (MYDRIVERS_SITE / "news.mydrivers.com/tag/windows_11.htm").read_text(encoding="utf-8"),
        "https://news.mydrivers.com/tag/windows_11.htm",
    )
    assert listing.article_urls == [
        "https://news.mydrivers.com/1/178/178519.htm",
        "https://news.mydrivers.com/1/792/792466.htm",
    ]
    assert listing.next_url == "https://news.mydrivers.com/tag/windows_11_2.htm"
    last = SITE.parse_listing(
        (MYDRIVERS_SITE / "news.mydrivers.com/tag/windows_11_2.htm").read_text(encoding="utf-8"),
        "https://news.mydrivers.com/tag/windows_11_2.htm",
    )
    assert last.next_url is None and len(last.article_urls) == 2


@pytest.mark.parametrize(
    ("url", "article_id"),
    [
        ("https://news.mydrivers.com/1/833/833153.htm", "833153"),
        ("http://news.mydrivers.com/1/833/833153.htm?from=rss", "833153"),
        ("https://m.mydrivers.com/newsview/833153.html", "833153"),
        ("https://news.mydrivers.com/tag/xiaomi.htm", None),
        ("https://evil.example/1/833/833153.htm", None),
    ],
)
def test_article_ids(url: str, article_id: str | None):
    assert SITE.article_id(url) == article_id


def test_urls():
    assert (
        SITE.canonical_url("https://m.mydrivers.com/newsview/178519.html?x=1")
        == "https://news.mydrivers.com/1/178/178519.htm"
    )
    assert SITE.listing_url("xiaomi12_ultra") == "https://news.mydrivers.com/tag/xiaomi12_ultra.htm"
    assert SITE.listing_url("https://news.mydrivers.com/tag/laika.htm") == "https://news.mydrivers.com/tag/laika.htm"
    with pytest.raises(ValueError):
        SITE.listing_url("https://evil.example/tag/laika.htm")
    assert site_for_url("https://m.mydrivers.com/newsview/1.html") is SITE
    with pytest.raises(LookupError):
        site_for_url("https://example.com/")


def test_raw_article_has_no_normalised_values():
    """The site module hands over strings as seen: the byline keeps its labels, the title its markup."""
    text = page_file("833153").read_text(encoding="utf-8")
    raw = SITE.parse_article(text, "https://news.mydrivers.com/1/833/833153.htm", FETCHED_AT)
    assert asdict(raw)["byline"].startswith("2022-06-04 20:42:05  出处：快科技  作者：拾柒")
    assert raw.editor_line == "责任编辑：拾柒"


# 2026 markup (modelled: fixtures/mydrivers/README.md) ------------------------------------------------


def test_a_2026_tag_page_with_protocol_relative_links_is_read_by_the_selectors():
    listing = SITE.read_listing(
        (MYDRIVERS_SITE / "news.mydrivers.com/tag/biyadi.htm").read_text(encoding="utf-8"),
        "https://news.mydrivers.com/tag/biyadi.htm",
    )
    assert len(listing.article_urls) == 12 and not listing.fallback
    assert all(url.startswith("https://news.mydrivers.com/1/") for url in listing.article_urls)


def test_a_column_page_url_is_a_tag_argument():
    assert (
        SITE.listing_url("https://news.mydrivers.com/zhangjiyouxi.html")
        == "https://news.mydrivers.com/zhangjiyouxi.html"
    )
    with pytest.raises(ValueError):
        SITE.listing_url("https://news.mydrivers.com/1/833/833153.htm")


JSONP_URL = (
    "https://blog.mydrivers.com/news/getdatelist_search.aspx?ac=55&timeks=&timeend=&page=4&minid=900&callback=NewsList"
)
ITEM = '<li><div class="news_right"><h3><a href="//news.mydrivers.com/1/833/833153.htm">t</a></h3></div></li>'


@pytest.mark.parametrize(
    ("answer", "links", "next_page", "end"),
    [
        (
            f'NewsList({{"data": [{{"html": {json.dumps(ITEM)}, "minid": 833153, "datalist": 20}}]}})',
            1,
            "page=5&minid=833153",
            False,
        ),
        (
            f'NewsList({{"html": {json.dumps(ITEM)}, "minid": 833153, "datalist": 20}});',
            1,
            "page=5&minid=833153",
            False,
        ),
        (f'NewsList({{"data": [{{"html": {json.dumps(ITEM)}, "minid": 833153, "datalist": -1}}]}})', 1, None, False),
        ('NewsList({"data": [{"html": "", "minid": 0, "datalist": -2}]})', 0, None, True),
    ],
)
def test_jsonp_answers(answer: str, links: int, next_page: str | None, end: bool):
    listing = SITE.read_listing(answer, JSONP_URL)
    assert len(listing.article_urls) == links and listing.end == end and not listing.fallback
    assert (
        (listing.next_url is None) if next_page is None else listing.next_url.endswith(f"{next_page}&callback=NewsList")
    )


@pytest.mark.parametrize("answer", ["<html>blocked</html>", "NewsList({not json})", 'NewsList(["x"])'])
def test_a_jsonp_answer_that_is_not_one_is_a_counted_drop(answer: str):
    with pytest.raises(Unusable) as dropped:
        SITE.read_listing(answer, JSONP_URL)
    assert dropped.value.reason == "bad_jsonp"


def test_a_column_is_walked_through_its_jsonp_pages_to_the_end(tmp_path, site_server):
    result = run_crawl(tmp_path, site_server, "-a", "tag=https://news.mydrivers.com/zhangjiyouxi.html")
    assert result.returncode == 0, result.log[-3000:]
    assert sorted(item["article_id"] for item in result.items) == sorted(
        ["850190", "850166", "848601", "847312", "845077", "833153"]
    )
    assert result.stats["newscrawl/listing/pages"] == 3  # the column page, then two JSONP answers
    assert "newscrawl/listing/empty" not in result.stats and "newscrawl/listing/fallback" not in result.stats
