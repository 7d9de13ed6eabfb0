"""Article pages parsed in the child process (NEWSCRAWL_PARSE_PROCESS) give what parsing inline gives,
and a crawl whose child dies loses nothing: the spider parses inline from then on."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys

import pytest
from conftest import FETCHED_AT, MYDRIVERS_SITE, run_crawl

from newscrawl.extract.page import Page, page_article
from newscrawl.extract.process import ParseProcess, ParseProcessGone
from newscrawl.items import Unusable

PAGES = sorted((MYDRIVERS_SITE / "news.mydrivers.com/1").rglob("*.htm"))


def url_of(path) -> str:
    return f"https://news.mydrivers.com/1/{path.parent.name}/{path.name}"


def page_of(path) -> Page:
    return Page("mydrivers", url_of(path), path.read_bytes(), "text/html", FETCHED_AT)


def test_the_child_starts_without_scrapy():
    """The crawl waits for the child's start-up before its first article: Scrapy (and Twisted), or the
    story signature's datasketch with its scipy, would add their imports to it for nothing."""
    probe = (
        "import sys, newscrawl.extract.child, newscrawl.stories.signature; "
        "print(sorted({'scrapy', 'twisted', 'datasketch', 'scipy'} & set(sys.modules)))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_the_child_makes_the_same_articles_and_drops_as_inline():
    broken = Page(
        "mydrivers",
        "https://news.mydrivers.com/1/1/1000.htm",
        b"<html><body><p>no title, no date</p></body></html>",
        "text/html",
        FETCHED_AT,
    )

    async def in_child():
        process = ParseProcess()
        try:
            articles = await asyncio.gather(*(process.page_article(page_of(path)) for path in PAGES))
            with pytest.raises(Unusable) as dropped:
                await process.page_article(broken)
        finally:
            await process.close()
        return articles, dropped.value

    articles, dropped = asyncio.run(in_child())
    assert len(PAGES) >= 10
    for path, article in zip(PAGES, articles, strict=True):
        inline = page_article(page_of(path))
        assert dataclasses.asdict(article) == dataclasses.asdict(inline)
    with pytest.raises(Unusable) as inline_drop:
        page_article(broken)
    assert (dropped.reason, dropped.url, str(dropped)) == (
        inline_drop.value.reason,
        inline_drop.value.url,
        str(inline_drop.value),
    )


def test_pages_waiting_on_a_dead_child_raise_gone(monkeypatch):
    monkeypatch.setenv("NEWSCRAWL_CRASH_AT", "parse-process:2")  # the child SIGKILLs itself on its 2nd page

    async def in_child():
        process = ParseProcess()
        outcomes = await asyncio.gather(
            *(process.page_article(page_of(path)) for path in PAGES[:4]), return_exceptions=True
        )
        with pytest.raises(ParseProcessGone):  # and every page after
            await process.page_article(page_of(PAGES[0]))
        await process.close()
        return outcomes

    outcomes = asyncio.run(in_child())
    assert outcomes[0].article_id == PAGES[0].stem
    assert all(isinstance(outcome, ParseProcessGone) for outcome in outcomes[1:])


def test_crawl_in_and_out_of_process_and_with_a_killed_child(tmp_path, site_server):
    def crawl(name: str, enabled: bool, env: dict[str, str] | None = None):
        result = run_crawl(
            tmp_path / name,
            site_server,
            "-a",
            "tag=xiaomi12_ultra,windows_11",
            settings={"NEWSCRAWL_PARSE_PROCESS": str(enabled), "LOG_LEVEL": "DEBUG"},
            env=env,
        )
        assert result.returncode == 0, result.log[-3000:]
        return result

    inline = crawl("inline", False)
    child = crawl("child", True)
    killed = crawl("killed", True, env={"NEWSCRAWL_CRASH_AT": "parse-process:3"})

    def content(result):
        return sorted(
            (item["article_id"], {k: v for k, v in item.items() if k != "fetched_at"}) for item in result.items
        )

    assert len(inline.items) >= 5
    assert content(child) == content(inline) == content(killed)
    assert child.posts.keys() == inline.posts.keys() == killed.posts.keys()
    enabled = "'newscrawl.extract.process.ParseProcess'"  # as Scrapy lists the enabled extensions
    assert enabled in child.log and enabled not in inline.log
    assert "DEBUG: Disabled newscrawl.extract.process.ParseProcess: NEWSCRAWL_PARSE_PROCESS is off" in inline.log
    assert "newscrawl/parse_process/gone" not in child.stats
    assert killed.stats["newscrawl/parse_process/gone"] >= len(inline.items) - 2
    assert "parsing article pages in the crawl process from now on" in killed.log


def test_a_child_that_cannot_start_means_gone(monkeypatch, tmp_path):
    monkeypatch.setattr("sys.executable", str(tmp_path / "no-such-python"))

    async def in_child():
        process = ParseProcess()
        with pytest.raises(ParseProcessGone, match="could not start"):
            await process.page_article(page_of(PAGES[0]))
        with pytest.raises(ParseProcessGone):
            await process.page_article(page_of(PAGES[0]))
        await process.close()

    asyncio.run(in_child())


def test_a_run_with_nothing_new_starts_no_parse_process(tmp_path, site_server):
    """The child starts with the first article request: a rerun that finds every article known has none."""
    runs = [
        run_crawl(
            tmp_path,
            site_server,
            "-a",
            "tag=xiaomi12_ultra",
            incremental=True,
            settings={"NEWSCRAWL_PARSE_PROCESS": "True"},
        )
        for _ in range(2)
    ]
    assert [run.returncode for run in runs] == [0, 0]
    assert runs[0].stats["newscrawl/parse_process/started"] == 1 and runs[0].stats["item_scraped_count"] == 2
    assert "newscrawl/parse_process/started" not in runs[1].stats and "item_scraped_count" not in runs[1].stats
