"""Listing sources on a real server: a 2026 cnBeta topic read through the JSON list its page declares, a
开源中国 column, and a list whose own pages break served by the site's feed, its articles labelled."""

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO, Server, requested_paths, run_crawl


@pytest.fixture
def oschina_copy(tmp_path: Path):
    root = tmp_path / "site"
    shutil.copytree(FIXTURES / "oschina/site", root)
    server = Server([root])
    yield root / "www.oschina.net", server
    server.stop()


def test_a_2026_cnbeta_topic_is_read_through_its_json_list(tmp_path: Path):
    server = Server([FIXTURES / "cnbeta/site"])
    try:
        result = run_crawl(tmp_path, server, "-a", "tag=455", spider="cnbeta")
    finally:
        server.stop()
    assert result.returncode == 0, result.log[-3000:]
    assert sorted(item["article_id"] for item in result.items) == ["1218640", "1233391"]
    assert result.stats["newscrawl/listing/pages"] == 4  # the topic page, then the list's pages 1–3
    assert "newscrawl/listing/empty" not in result.stats  # the topic page holds no items: expected
    assert all(item["fallbacks"] == {} for item in result.items)


def test_an_oschina_column_crawls_end_to_end(tmp_path: Path, oschina_copy):
    _, server = oschina_copy
    result = run_crawl(tmp_path, server, "-a", "tag=column:14", spider="oschina", incremental=True)
    assert result.returncode == 0, result.log[-3000:]
    assert sorted(item["article_id"] for item in result.items) == ["155130", "155820"]
    assert (tmp_path / "out/feeds/oschina/column-14.xml").is_file()


def test_a_list_whose_pages_fail_is_read_from_the_feed_labelled(tmp_path: Path, oschina_copy):
    root, server = oschina_copy
    (root / "news/widgets/_news_index_generic_list@p=1&type=ajax.fault").write_text(json.dumps({"status": 503}))
    first = run_crawl(tmp_path, server, "-a", "tag=news", spider="oschina", incremental=True)
    assert first.returncode == 0, first.log[-3000:]  # an outage of one source, served by another
    assert sorted(item["article_id"] for item in first.items) == ["155130", "155820"]
    assert all(item["fallbacks"] == {"listing": "rss"} for item in first.items)
    assert first.stats["newscrawl/listing/source_fallback"] == 1 and first.stats["newscrawl/listing/source/rss"] == 1
    assert "the list is read from https://www.oschina.net/news/rss instead" in first.log
    with sqlite3.connect(tmp_path / "out/state.sqlite") as db:  # a feed shows the newest items only
        assert db.execute("SELECT count(*) FROM complete_walks").fetchone()[0] == 0
    (root / "news/widgets/_news_index_generic_list@p=1&type=ajax.fault").unlink()
    second = run_crawl(tmp_path, server, "-a", "tag=news", spider="oschina", incremental=True)
    assert second.returncode == 0 and second.stats.get("item_scraped_count", 0) == 0  # every article known
    assert "newscrawl/listing/source_fallback" not in second.stats


def test_a_list_page_without_links_is_an_alarm_and_the_feed_keeps_the_data_flowing(tmp_path: Path, oschina_copy):
    root, server = oschina_copy
    (root / "news/widgets/_news_index_generic_list@p=1&type=ajax").write_text("<div class='changed'></div>")
    result = run_crawl(tmp_path, server, "-a", "tag=news", spider="oschina", incremental=True)
    assert result.returncode == 3, result.log[-3000:]  # the list's markup changed: a person must fix it
    assert sorted(item["article_id"] for item in result.items) == ["155130", "155820"]
    assert all(item["fallbacks"] == {"listing": "rss"} for item in result.items)
    with sqlite3.connect(tmp_path / "out/state.sqlite") as db:  # an unreadable page is not the list's end
        assert db.execute("SELECT count(*) FROM complete_walks").fetchone()[0] == 0


def test_scrapy_doctor_checks_every_source_of_a_list_and_says_which_work(oschina_copy):
    root, server = oschina_copy
    (root / "news/widgets/_news_index_generic_list@p=1&type=ajax").write_text("<div class='changed'></div>")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "doctor",
            "oschina",
            "-a",
            "tag=news",
            "-s",
            f"NEWSCRAWL_OFFLINE_ROOT={server.url}",
            "-s",
            "AUTOTHROTTLE_ENABLED=False",
            "-s",
            "DOWNLOAD_DELAY=0",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3, done.stdout + done.stderr[-3000:]
    out = done.stdout
    assert "FIX  listing https://www.oschina.net/news/widgets/_news_index_generic_list?p=1&type=ajax" in out
    assert "ok   listing https://www.oschina.net/news/rss" in out
    assert "source rss: 2 article link(s)" in out


def test_scrapy_doctor_follows_a_2026_topic_page_to_its_json_list():
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "doctor", "cnbeta", "-a", "tag=455", "--offline"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "no items of its own: they come from the list it declares" in done.stdout
    assert "ok   listing https://www.cnbeta.com.tw/home/more?type=topic-455&page=1&_csrf=" in done.stdout


def test_a_kuaikeji_feed_walk_whose_feed_fails_is_served_by_the_mobile_list_labelled(tmp_path: Path):
    root = tmp_path / "site"
    shutil.copytree(FIXTURES / "mydrivers/site", root)
    (root / "rss.mydrivers.com/rss.aspx@Tid=1.fault").write_text(json.dumps({"status": 503}))
    server = Server([root], request_log=tmp_path / "requests.log")
    try:
        result = run_crawl(tmp_path, server, "-a", "tag=rss", spider="mydrivers", incremental=True)
    finally:
        server.stop()
    assert result.returncode == 0, result.log[-3000:]  # an outage of one source, served by another
    assert requested_paths(tmp_path / "requests.log").count("/rss.mydrivers.com/rss.aspx?Tid=1") == 3  # met, retried
    assert sorted(item["article_id"] for item in result.items) == ["847312", "848601", "850166"]
    assert all(item["fallbacks"].get("listing") == "mobile" for item in result.items)
    assert result.stats["newscrawl/listing/source/mobile"] == 1
    assert (tmp_path / "out/feeds/mydrivers/rss.xml").is_file()


def test_the_oschina_list_fragments_are_asked_for_as_the_news_page_asks(tmp_path: Path, oschina_copy):
    root, server = oschina_copy
    (root / ".referer").write_text("https://www.oschina.net/\n")  # the site answers 403 to anything else
    result = run_crawl(tmp_path, server, "-a", "tag=news", spider="oschina", incremental=True)
    assert result.returncode == 0, result.log[-3000:]
    assert sorted(item["article_id"] for item in result.items) == ["155130", "155820"]
    assert "newscrawl/listing/source_fallback" not in result.stats  # the list itself answered
