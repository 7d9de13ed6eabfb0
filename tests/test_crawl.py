"""End to end: the real `scrapy crawl` in a subprocess, through Scrapy's downloader, against the
bundled site served on 127.0.0.1."""

import json
import re
from pathlib import Path

import pytest
from conftest import run_crawl
from jsonschema import Draft202012Validator

from newscrawl.exporters.frontmatter import PostStyle, render_post
from newscrawl.items import Article, json_schema
from newscrawl.sites import get_site

ALL_TAGS = "xiaomi12_ultra,xiaomi,laika,windows_11,windowscaozuoxitong,nvidia,intel,amd,youxi,dianyuan"
VALIDATOR = Draft202012Validator(json_schema())


def ids(result) -> list[str]:
    return sorted(item["article_id"] for item in result.items)


def items_by_id(result) -> dict[str, dict]:
    return {item["article_id"]: item for item in result.items}


def test_main_job_xiaomi12_ultra(tmp_path: Path, site_server):
    result = run_crawl(tmp_path, site_server, "-a", "tag=xiaomi12_ultra")
    assert result.returncode == 0, result.log
    assert ids(result) == ["833153", "848601"]
    for item in result.items:
        VALIDATOR.validate(item)
        assert item["url"].startswith("https://news.mydrivers.com/1/")  # the real URL, never the loopback one
        assert "127.0.0.1" not in json.dumps(item)
        assert result.posts[f"{item['article_id']}.md"] == render_post(
            Article(**item), PostStyle.of(get_site(item["site"])), "utc"
        )
    assert list(result.items[0]) == list(json_schema()["properties"])  # stable field order
    assert result.stats["newscrawl/listing/pages"] == 2
    assert result.stats["robotstxt/request_count"] == 1
    # Which known layout read each page, counted: 833153 ends with the end image, 848601 with none.
    assert (result.stats["newscrawl/layout/footer-b"], result.stats["newscrawl/layout/footer-c"]) == (1, 1)
    assert "newscrawl/layout/none" not in result.stats


def test_every_tag_every_article_once(tmp_path: Path, site_server):
    result = run_crawl(tmp_path, site_server, "-a", f"tag={ALL_TAGS}")
    assert result.returncode == 0, result.log
    assert ids(result) == sorted(set(ids(result)))
    assert len(result.items) == 16 and len(result.posts) == 16
    for item in result.items:
        VALIDATOR.validate(item)
        assert "\ufffd" not in json.dumps(item, ensure_ascii=False)
    # Articles listed under several tags were fetched once each.
    assert result.stats["downloader/request_count"] == 1 + 15 + 16  # robots.txt, listing pages, articles
    assert result.stats["newscrawl/article/duplicate_link"] > 0
    assert not any(key.startswith("newscrawl/dropped") for key in result.stats)


def test_articles_reached_through_two_tags_are_emitted_once(tmp_path: Path, site_server):
    result = run_crawl(
        tmp_path, site_server, "-a", "tag=xiaomi12_ultra,xiaomi,https://news.mydrivers.com/tag/laika.htm"
    )
    assert ids(result) == ["833153", "848601"]
    assert result.stats["newscrawl/article/duplicate_link"] == 3


def test_single_article_by_mobile_url(tmp_path: Path, site_server):
    result = run_crawl(tmp_path, site_server, "-a", "url=https://m.mydrivers.com/newsview/762514.html")
    assert [item["url"] for item in result.items] == ["https://news.mydrivers.com/1/762/762514.htm"]
    assert result.items[0]["title"] == "Win10更新惹祸 游戏卡顿、掉帧：微软正式回应"  # GBK page, gb2312 declared


def test_follow_tags_to_bounded_depth(tmp_path: Path, site_server):
    seed = "url=https://news.mydrivers.com/1/833/833153.htm"
    assert ids(run_crawl(tmp_path / "0", site_server, "-a", seed)) == ["833153"]
    followed = run_crawl(tmp_path / "1", site_server, "-a", seed, "-a", "follow_tags=1")
    assert ids(followed) == ["833153", "848601"]  # via xiaomi12_ultra (2 pages), laika, xiaomi
    assert followed.stats["newscrawl/listing/pages"] == 4


def test_max_pages_guard(tmp_path: Path, site_server):
    result = run_crawl(tmp_path, site_server, "-a", "tag=windows_11", "-a", "max_pages=1")
    assert ids(result) == ["178519", "792466"]
    assert result.stats["newscrawl/listing/max_pages_reached"] == 1


def test_endless_pagination_stops(tmp_path: Path, site_copy):
    root, server = site_copy
    tag = root / "tag"
    page = (tag / "laika.htm").read_text(encoding="utf-8")
    for n in range(1, 40):  # an endless-looking chain of "next" pages, all listing the same article
        name = "endless.htm" if n == 1 else f"endless_{n}.htm"
        (tag / name).write_text(
            page.replace('<div class="pages">', f'<div class="pages"><a href="endless_{n + 1}.htm">下一页</a>')
        )
    # A tag whose last page points back to the first.
    (tag / "loop.htm").write_text(
        page.replace('<div class="pages">', '<div class="pages"><a href="loop_2.htm">下一页</a>')
    )
    (tag / "loop_2.htm").write_text(
        page.replace('<div class="pages">', '<div class="pages"><a href="loop.htm">下一页</a>')
    )
    result = run_crawl(tmp_path, server, "-a", "tag=endless,loop", settings={"NEWSCRAWL_MAX_PAGES": "5"})
    assert result.returncode == 0, result.log
    assert ids(result) == ["833153"]
    assert result.stats["newscrawl/listing/pages"] == 5 + 2
    assert result.stats["newscrawl/listing/max_pages_reached"] == 1
    assert result.stats["newscrawl/listing/repeated_page"] == 1


def test_bad_pages_are_counted_drops_and_the_crawl_goes_on(tmp_path: Path, site_copy):
    root, server = site_copy
    seed = root / "1/833/833153.htm"
    seed.write_text(seed.read_text(encoding="utf-8").replace("2022-06-04 20:42:05  出处", "出处"), encoding="utf-8")
    renamed_body = root / "1/848/848601.htm"
    renamed_body.write_text(
        renamed_body.read_text(encoding="utf-8").replace('class="news_info"', 'class="x"'), encoding="utf-8"
    )
    (root / "1/845/845077.htm").unlink()  # a listed article that is gone (404)
    (root / "1/847/847312.htm.redirect").write_text("https://evil.example/stolen.htm")  # off-site redirect
    result = run_crawl(tmp_path, server, "-a", "tag=xiaomi12_ultra,intel")
    assert result.returncode == 3, result.log  # 2 of 3 article pages read by fallbacks: the alarm fires
    alarm = result.stats["newscrawl/alarm"]
    assert "fields found only by fallbacks (the site's markup changed?): body_html in 1 article(s)" in alarm
    assert "published in 1 article(s)" in alarm
    assert ids(result) == ["809583", "833153", "848601"]
    assert items_by_id(result)["848601"]["fallbacks"] == {"body_html": "trafilatura", "images": "trafilatura"}
    # No date on the page: the date its listing showed (to the minute), said so.
    seed_item = items_by_id(result)["833153"]
    assert (seed_item["published"], seed_item["fallbacks"]) == ("2022-06-04T20:42:00+08:00", {"published": "listing"})
    assert result.stats["httperror/response_ignored_status_count/404"] == 1
    assert result.stats["newscrawl/scope/refused/host"] == 1  # the redirect to evil.example, refused at the hop
    assert sorted(result.posts) == ["809583.md", "833153.md", "848601.md"]


def test_layout_change_on_listing_is_noticed_and_the_listing_fallback_reads_it(tmp_path: Path, site_copy, site_server):
    root, server = site_copy
    listing = root / "tag/laika.htm"
    original = listing.read_text(encoding="utf-8")
    listing.write_text(original.replace('id="newsleft_1"', 'id="newslist"'), encoding="utf-8")
    result = run_crawl(tmp_path / "renamed", server, "-a", "tag=laika")
    assert result.returncode == 3  # the layout-break alarm
    assert result.stats["newscrawl/alarm"] == (
        "Listing layout/listing links come from the site's selectors: 1 listing "
        "page(s) had their article links found only by the listing fallback"
    )
    assert "the site's selectors found no article links" in result.log
    exact = run_crawl(tmp_path / "exact", site_server, "-a", "tag=laika")
    assert exact.returncode == 0 and exact.items
    assert ids(result) == ids(exact)  # the same articles, found without the site's selectors

    listing.write_text(re.sub(r'<ul id="newsleft_1">.*?</ul>', "", original, flags=re.S), encoding="utf-8")
    empty = run_crawl(tmp_path / "empty", server, "-a", "tag=laika")
    assert empty.returncode == 3
    assert (
        empty.stats["newscrawl/alarm"]
        == "Listing layout/listing pages have article links: 1 listing page(s) had no article links"
    )
    assert empty.items == [] and empty.stats["newscrawl/listing/empty"] == 1
    assert "Listing page has no article links (layout change?): https://news.mydrivers.com/tag/laika.htm" in empty.log


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-a", "tag=https://evil.example/tag/x.htm"], "not a 快科技 tag slug or tag-page URL"),
        (["-a", "url=https://news.mydrivers.com/tag/x.htm"], "not a 快科技 article URL"),
        ([], "nothing to crawl"),
    ],
)
def test_bad_arguments_fail_clearly(tmp_path: Path, site_server, args, message):
    result = run_crawl(tmp_path, site_server, *args)
    assert result.returncode != 0
    assert message in result.log


def test_undecodable_article_is_dropped_not_written_with_replacement_characters(tmp_path: Path, site_copy):
    root, server = site_copy
    page = root / "1/833/833153.htm"
    page.write_bytes(page.read_bytes().replace("<p>雷军还直言".encode(), b"<p>\xff\xfe\x80\xff"))
    result = run_crawl(tmp_path, server, "-a", "tag=xiaomi12_ultra")
    assert ids(result) == ["848601"]
    assert result.stats["newscrawl/dropped/undecodable"] == 1
    assert "Dropped undecodable: https://news.mydrivers.com/1/833/833153.htm" in result.log


def test_no_spider_callback_is_a_generator_returning_a_value():
    """Scrapy's per-response check (WARN_ON_GENERATOR_RETURN_VALUE, off in settings.py for speed), run once here."""
    from scrapy.utils.misc import is_generator_with_return_value

    from newscrawl.spiders.base import SiteSpider

    callbacks = [getattr(SiteSpider, name) for name in dir(SiteSpider) if name.startswith("parse_")]
    assert len(callbacks) >= 2
    for callback in callbacks:
        assert not is_generator_with_return_value(callback), callback.__name__
