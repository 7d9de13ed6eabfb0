"""The generic spider on a real server: the bundled sites under foreign host names (no module can claim
them), an incremental run and its rerun, a page that is not an article, and the mistakes a person makes."""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, Server, run_crawl

ARTICLE = """<!DOCTYPE html><html lang="en-GB"><head><title>{title} | Lantern</title>
<meta property="og:title" content="{title}"></head><body><nav><a href="/">Home</a></nav><main><article>
<h1>{title}</h1><time datetime="2026-03-0{n}T09:30:00">3 March 2026, 09:30</time>
{paragraphs}</article></main></body></html>"""
NOT_AN_ARTICLE = """<!DOCTYPE html><html lang="en-GB"><head><title>Gallery</title></head><body><main>
<h1>Photos of the week</h1><img src="/p/1.jpg"></main></body></html>"""
LISTING = """<!DOCTYPE html><html lang="en-GB"><head><title>Harbour news</title></head><body>
<header><a href="/news/9999/site-wide-banner-story">Banner</a></header><main><ul>
<li><a href="/news/1001/tides-rise-at-the-harbour">Tides</a></li>
<li><a href="/news/1002/ferry-timetable-changes-again">Ferry</a></li>
<li><a href="/news/1003/photos-of-the-week-gallery">Photos</a></li>
<li><a href="/tag/harbour-and-sea-news">a tag</a></li></ul>
<a href="/tag/harbour_2.html">Older</a></main><aside><a href="/news/5555/most-read-story-of-all">Hot</a></aside></body></html>"""


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("generic-eval")
    done = subprocess.run(
        [sys.executable, "benchmarks/generic_eval.py", "--json", "--work", str(work)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("site", ["mydrivers", "cnbeta", "oschina"])
def test_the_bundled_sites_under_a_foreign_host_are_read_right(evaluation, site):
    figures = evaluation[site]
    assert figures["found"] >= 2 and figures["right"]["all"] >= 0.9 * figures["found"]
    assert figures["not_articles"] == [] and figures["unnamed_fields"] == 0
    for reading in ("bundled generic", "redesigned generic"):
        pages = evaluation["pages"][site][reading]
        assert pages["pages"] >= 2 and pages["all"] >= 0.9 * pages["pages"], reading


def write_site(root: Path) -> Path:
    site = root / "lantern.example"
    (site / "tag").mkdir(parents=True)
    (site / "tag/harbour.html").write_text(LISTING, encoding="utf-8")
    (site / "tag/harbour_2.html").write_text(
        LISTING.replace("1001/tides-rise-at-the-harbour", "1004/lighthouse-keeper-retires-today").replace(
            '<a href="/tag/harbour_2.html">Older</a>', ""
        ),
        encoding="utf-8",
    )
    paragraphs = "".join(f"<p>Paragraph {i} of a story long enough to be an article's body text.</p>" for i in range(8))
    for n, slug in enumerate(
        ["tides-rise-at-the-harbour", "ferry-timetable-changes-again", "lighthouse-keeper-retires-today"], start=1
    ):
        number = {1: 1001, 2: 1002, 3: 1004}[n]
        path = site / f"news/{number}/{slug}"
        path.parent.mkdir(parents=True)
        path.write_text(ARTICLE.format(title=slug.replace("-", " ").capitalize(), n=n, paragraphs=paragraphs))
    (site / "news/1003").mkdir(parents=True)
    (site / "news/1003/photos-of-the-week-gallery").write_text(NOT_AN_ARTICLE, encoding="utf-8")
    return root


def test_an_unknown_site_crawls_incrementally_and_drops_what_is_not_an_article(tmp_path: Path):
    server = Server([write_site(tmp_path / "site")])
    try:
        args = ("-a", "url=https://lantern.example/tag/harbour.html")
        first = run_crawl(tmp_path, server, *args, spider="generic", incremental=True)
        second = run_crawl(tmp_path, server, *args, spider="generic", incremental=True)
        listing = tmp_path / "site/lantern.example/tag/harbour.html"  # a redesign: articles under /stories/
        listing.write_text(listing.read_text(encoding="utf-8").replace('"/news/', '"/stories/'), encoding="utf-8")
        third = run_crawl(tmp_path, server, *args, spider="generic", incremental=True)
    finally:
        server.stop()
    ids = sorted(item["article_id"] for item in first.items)
    assert ids == ["1001", "1002", "1004"], first.log[-3000:]  # the next page followed; banner, hot, tag left out
    assert first.stats["newscrawl/dropped/missing_date"] == 1  # the gallery: counted, not exported
    assert {item["site"] for item in first.items} == {"lantern_example"}
    tides = next(item for item in first.items if item["article_id"] == "1001")
    assert tides["published"] == "2026-03-01T09:30:00+00:00" and tides["language"] == "en-GB"
    assert tides["fallbacks"]["published_zone"] == "lang:en-GB:Europe/London"  # no offset shown: assumed, and said
    assert {"title", "published", "body_html"} <= tides["fallbacks"].keys()
    assert "Article links on https://lantern.example/tag/harbour.html: /news/<n>/<slug>" in first.log
    assert second.returncode == 0 and len(second.items) == 3  # the journal holds the first run's three only
    assert second.stats.get("item_scraped_count", 0) == 0
    with sqlite3.connect(tmp_path / "out/state.sqlite") as db:  # the shape learned, kept for later runs
        assert db.execute("SELECT walk, value FROM walk_facts WHERE fact = 'article_urls'").fetchall() == [
            ("https://lantern.example/tag/harbour.html", "/stories/<n>/<slug>")  # the latest
        ]
    assert "newscrawl/generic/pattern_changed" not in second.stats
    assert third.stats["newscrawl/generic/pattern_changed"] == 1
    assert "changed shape: /news/<n>/<slug> before, /stories/<n>/<slug> now" in third.log


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["-a", "url=ftp://lantern.example/tag/harbour.html"], "not an http(s) URL of a listing page"),
        (["-a", "url=https://lantern.example/", "-a", "timezone=Mars/Base"], "unknown time zone 'Mars/Base'"),
        (["-a", "url=https://lantern.example/", "-a", "name=mydrivers"], "is a site with a module"),
        (["-a", "tag=harbour"], "takes listing pages as -a url="),
        (["-a", "url=https://lantern.example/", "-a", "name=Lantern Daily"], "must be a lower-case identifier"),
    ],
)
def test_a_mistake_is_one_line_and_exit_1(tmp_path: Path, args, says):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "generic",
            *args,
            "-s",
            f"NEWSCRAWL_SUMMARY_FILE={tmp_path / 's.json'}",
            "-s",
            f"NEWSCRAWL_RUNS_FILE={tmp_path / 'r.jsonl'}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert says in done.stderr and "Traceback" not in done.stderr
