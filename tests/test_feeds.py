"""Atom feeds per tag and per site, rebuilt from the crawl state and the journal after every run."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest
from conftest import MYDRIVERS_SITE, SAMPLE_ARTICLE, run_crawl
from lxml import etree

from newscrawl.exporters.atom import FeedInfo, render_feed
from newscrawl.items import Article
from newscrawl.sites import get_site
from newscrawl.state.base import Export, ListingPage
from newscrawl.state.journal import Journal, JournalMark, LineRef, read_line
from newscrawl.state.redis import RedisState
from newscrawl.state.sqlite import SCHEMA_VERSION, SqliteState

ATOM = "{http://www.w3.org/2005/Atom}"
STRICT = etree.XMLParser(recover=False, resolve_entities=False)
SITE = get_site("mydrivers")


def crawl(tmp_path: Path, server, *args: str, settings: dict[str, str] | None = None):
    feeds = {"NEWSCRAWL_FEEDS_DIR": str(tmp_path / "out/feeds"), **(settings or {})}
    return run_crawl(tmp_path, server, *args, incremental=True, settings=feeds)


def listed_on(slug: str) -> set[str]:
    """The article ids the bundled site's pages of a tag link, read page by page as the site module reads them."""
    ids, url = set(), SITE.listing_url(slug)
    while url:
        page = MYDRIVERS_SITE / "news.mydrivers.com" / urlsplit(url).path.lstrip("/")
        listing = SITE.parse_listing(page.read_text(encoding="utf-8"), url)
        ids |= {SITE.article_id(link) for link in listing.article_urls}
        url = listing.next_url
    return ids


def tag_slugs(item: dict) -> set[str]:
    """The slugs of the 快科技 tags an exported article names (its tag links are /tag/<slug>.htm)."""
    return {
        urlsplit(tag["url"]).path[len("/tag/") : -len(".htm")]
        for tag in item["tags"]
        if tag["url"] and urlsplit(tag["url"]).path.startswith("/tag/")
    }


def latest_of(items: list[dict], ids: set[str], limit: int) -> list[dict]:
    """The latest revision of each article in `ids`, newest publication first (ties: the higher id), `limit` of them."""
    latest = {item["article_id"]: item for item in items if item["article_id"] in ids}  # the journal is in order
    return sorted(
        latest.values(), key=lambda item: (datetime.fromisoformat(item["published"]), item["article_id"]), reverse=True
    )[:limit]


def entries(path: Path) -> list[etree._Element]:
    root = etree.fromstring(path.read_bytes(), STRICT)  # a strict XML parser: any malformed byte fails here
    assert root.tag == f"{ATOM}feed"
    return root.findall(f"{ATOM}entry")


def text(entry: etree._Element, name: str) -> str:
    return entry.findtext(f"{ATOM}{name}")


def test_each_tag_feed_holds_exactly_its_latest_articles(tmp_path: Path, site_server):
    result = crawl(tmp_path, site_server, "-a", "tag=windows_11,nvidia,intel", settings={"NEWSCRAWL_FEED_ITEMS": "3"})
    assert result.returncode == 0, result.log[-3000:]
    feeds = tmp_path / "out/feeds"
    assert sorted(p.name for p in (feeds / "mydrivers").iterdir()) == ["intel.xml", "nvidia.xml", "windows_11.xml"]
    mode = 0o666 & ~_umask()
    for slug in ("windows_11", "nvidia", "intel"):
        members = listed_on(slug) | {item["article_id"] for item in result.items if slug in tag_slugs(item)}
        expected = latest_of(result.items, members, 3)
        path = feeds / "mydrivers" / f"{slug}.xml"
        assert (path.stat().st_mode & 0o777) == mode
        parsed = feedparser.parse(path.read_bytes())
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        found = entries(path)
        assert [text(entry, "id") for entry in found] == [item["url"] for item in expected], slug
        for entry, item in zip(found, expected, strict=True):
            assert text(entry, "title") == item["title"]
            assert entry.find(f"{ATOM}link[@rel='alternate']").get("href") == item["url"]
            published = datetime.fromisoformat(text(entry, "published"))
            assert (
                published == datetime.fromisoformat(item["published"])
                and published.utcoffset().total_seconds() == 8 * 3600
            )
            assert text(entry, "updated") == item["published"]  # revision 1
            assert text(entry, "content") == item["body_html"]  # the full sanitised body
            assert [c.get("term") for c in entry.findall(f"{ATOM}category")] == [tag["name"] for tag in item["tags"]]
            enclosure = entry.find(f"{ATOM}link[@rel='enclosure']")
            assert (enclosure.get("href") if enclosure is not None else None) == item["head_image"]
    site_feed = entries(feeds / "mydrivers.xml")
    assert [text(e, "id") for e in site_feed] == [
        i["url"] for i in latest_of(result.items, {i["article_id"] for i in result.items}, 3)
    ]
    assert result.stats["newscrawl/feeds/written"] == 5  # three tags, the site, and the stories (docs/stories.md)
    assert (feeds / "stories.xml").is_file()


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def test_a_refreshed_article_moves_updated_and_keeps_its_id(tmp_path: Path, site_copy):
    root, server = site_copy
    first = crawl(tmp_path, server, "-a", "tag=nvidia")
    feed = tmp_path / "out/feeds/mydrivers/nvidia.xml"
    before = {text(e, "id"): e for e in entries(feed)}
    page = root / "1/818/818612.htm"
    page.write_text(
        page.read_text(encoding="utf-8").replace("一定要小心。", "一定要小心。（更新：微软已吊销证书）"),
        encoding="utf-8",
    )
    refreshed = crawl(tmp_path, server, "-a", "tag=nvidia", "-a", "refresh=1")
    assert refreshed.returncode == 0 and refreshed.stats["newscrawl/articles/updated"] == 1, refreshed.log[-3000:]
    update = refreshed.items[-1]
    after = {text(e, "id"): e for e in entries(feed)}
    assert sorted(after) == sorted(before) and update["url"] in after  # the same ids
    changed = after[update["url"]]
    assert text(changed, "updated") == update["fetched_at"] != text(before[update["url"]], "updated")
    assert "微软已吊销证书" in text(changed, "content") and text(changed, "published") == update["published"]
    others = [url for url in after if url != update["url"]]
    assert all(text(after[url], "updated") == text(before[url], "updated") for url in others)
    assert len(first.items) + 1 == len(refreshed.items)


def test_a_run_that_found_nothing_new_leaves_the_feeds_byte_identical(tmp_path: Path, site_server):
    crawl(tmp_path, site_server, "-a", "tag=windows_11,nvidia")
    feeds = sorted((tmp_path / "out/feeds").rglob("*.xml"))
    before = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in feeds}
    again = crawl(tmp_path, site_server, "-a", "tag=windows_11,nvidia")
    assert again.returncode == 0 and again.stats["newscrawl/listing/pages"] == 2, again.log[-3000:]
    assert {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in feeds} == before
    assert again.stats["newscrawl/feeds/unchanged"] == 4 and "newscrawl/feeds/written" not in again.stats


def test_follow_tags_on_a_warm_state_walks_the_tags_its_known_articles_name(tmp_path: Path, site_server):
    first = crawl(tmp_path, site_server, "-a", "tag=xiaomi12_ultra")
    assert first.returncode == 0 and "newscrawl/articles/new" in first.stats
    warm = crawl(tmp_path, site_server, "-a", "tag=xiaomi12_ultra", "-a", "follow_tags=1")
    assert warm.returncode == 0, warm.log[-3000:]
    assert (
        warm.stats["newscrawl/articles/known"] >= 1 and "newscrawl/article/pages" not in warm.stats
    )  # nothing refetched
    named = set().union(*(tag_slugs(item) for item in first.items)) - {"xiaomi12_ultra"}
    assert named  # the bundled articles name other tags
    assert warm.stats["newscrawl/listing/pages"] == 1 + len(named)
    assert {p.stem for p in (tmp_path / "out/feeds/mydrivers").iterdir()} == named | {"xiaomi12_ultra"}


def test_a_feed_that_cannot_be_written_needs_attention(tmp_path: Path, site_server):
    """A file where the site's feed folder goes (the feeds folder itself is checked at start): the tag's
    feed cannot be written, the site's feed beside it can."""
    blocker = tmp_path / "out/feeds/mydrivers"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("a file where the site's feed folder should be")
    result = crawl(tmp_path, site_server, "-a", "tag=laika")
    assert result.returncode == 2 and result.stats["newscrawl/attention/feeds_failed"] == 1, result.log[-3000:]
    assert "Could not write the feed" in result.log and len(result.items) >= 1  # the articles are exported all the same
    assert (tmp_path / "out/feeds/mydrivers.xml").is_file()


def test_a_link_planted_where_newscrawl_makes_a_folder_is_refused(tmp_path: Path, site_server):
    """Symlinks at posts/<site> and feeds/<site>, and at the state's -wal: nothing is written through them."""
    target = tmp_path / "elsewhere"
    target.mkdir()
    out = tmp_path / "out"
    (out / "feeds").mkdir(parents=True)
    (out / "feeds/mydrivers").symlink_to(target)
    result = crawl(tmp_path, site_server, "-a", "tag=laika")
    assert result.returncode == 2 and "is a symbolic link or not a folder: refused, not followed" in result.log
    (out / "feeds/mydrivers").unlink()
    posts = tmp_path / "other-posts"
    posts.mkdir()
    (posts / "mydrivers").symlink_to(target)
    refused = crawl(tmp_path / "again", site_server, "-a", "tag=laika", settings={"NEWSCRAWL_POSTS_DIR": str(posts)})
    assert (
        refused.returncode == 1
        and "Cannot start: NEWSCRAWL_POSTS_DIR:" in refused.log
        and "Traceback" not in refused.log
    )
    (out / "state.sqlite-wal").unlink(missing_ok=True)
    (out / "state.sqlite-wal").symlink_to(target / "wal")
    wal = crawl(tmp_path, site_server, "-a", "tag=laika")
    assert wal.returncode == 1 and "state.sqlite-wal is a symbolic link or not a regular file: refused" in wal.log
    assert list(target.iterdir()) == []  # nothing landed behind any of the links


def test_a_state_of_schema_1_is_migrated_and_its_articles_reach_the_feeds(tmp_path: Path, site_server):
    fresh = crawl(tmp_path / "fresh", site_server, "-a", "tag=nvidia")
    out = tmp_path / "out"
    out.mkdir()
    journal = out / "items.jsonl"
    journal.write_bytes((tmp_path / "fresh/out/items.jsonl").read_bytes())
    status = journal.stat()
    with sqlite3.connect(out / "state.sqlite") as db:  # what newscrawl with state schema 1 kept
        db.executescript("""
            CREATE TABLE articles (site TEXT NOT NULL, article_id TEXT NOT NULL, content_hash TEXT NOT NULL,
                revision INTEGER NOT NULL, fetched_at REAL NOT NULL, PRIMARY KEY (site, article_id));
            CREATE TABLE journals (path TEXT PRIMARY KEY, committed_offset INTEGER NOT NULL, device INTEGER NOT NULL,
                inode INTEGER NOT NULL);
            CREATE TABLE pending_listings (site TEXT NOT NULL, url TEXT NOT NULL, walk TEXT NOT NULL, page INTEGER NOT NULL,
                depth INTEGER NOT NULL, PRIMARY KEY (site, url));
            CREATE TABLE pending_articles (site TEXT NOT NULL, article_id TEXT NOT NULL, url TEXT NOT NULL,
                depth INTEGER NOT NULL, PRIMARY KEY (site, article_id));
            PRAGMA user_version = 1;""")
        src = sqlite3.connect(tmp_path / "fresh/out/state.sqlite")
        db.executemany(
            "INSERT INTO articles VALUES (?, ?, ?, ?, ?)",
            src.execute("SELECT site, article_id, content_hash, revision, fetched_at FROM articles").fetchall(),
        )
        db.execute(
            "INSERT INTO journals VALUES (?, ?, ?, ?)",
            (str(journal.resolve()), status.st_size, status.st_dev, status.st_ino),
        )
    migrated = crawl(tmp_path, site_server, "-a", "tag=nvidia")
    assert migrated.returncode == 0, migrated.log[-3000:]
    assert migrated.items == fresh.items  # read again, written no more
    assert migrated.stats["newscrawl/listing/walked_past_known"] == 1  # no walk is known complete: walked whole once
    with sqlite3.connect(out / "state.sqlite") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert [text(e, "id") for e in entries(out / "feeds/mydrivers/nvidia.xml")] == [
        i["url"] for i in latest_of(fresh.items, {i["article_id"] for i in fresh.items}, 50)
    ]


HOSTILE_TITLE = "A\x00B\x1f]]>&amp;<x>\u202eC\ufffe\U0001f600"


def hostile_article(revision: int = 1) -> Article:
    return replace(
        SAMPLE_ARTICLE,
        id="mydrivers:1",
        article_id="1",
        url="https://news.mydrivers.com/1/0/1.htm?a=1&b=<2>",
        title=HOSTILE_TITLE,
        published_raw="x",
        author="\x07拾柒&",
        tags=[{"name": "]]>\x0b", "url": None}],
        head_image="https://img1.mydrivers.com/a b&c.png",
        body_html="<p>]]&gt; \x01 &amp;&amp; <![CDATA[x]]> \u2067bidi\u2069</p>",
        revision=revision,
    )


@pytest.mark.parametrize("revision", [1, 2])
def test_hostile_titles_and_bodies_make_valid_feeds(revision: int):
    document = render_feed(
        FeedInfo("https://x/\x00", "t\x1b]]>", "https://x/?a&b", "快科技\x00", "zh-CN"), [hostile_article(revision)]
    )
    entry = etree.fromstring(document, STRICT).find(f"{ATOM}entry")
    assert text(entry, "title") == "AB]]>&amp;<x>\u202eC\U0001f600"  # only what XML cannot hold is left out
    assert text(entry, "content") == "<p>]]&gt;  &amp;&amp; <![CDATA[x]]> \u2067bidi\u2069</p>"
    assert text(entry, "id") == "https://news.mydrivers.com/1/0/1.htm?a=1&b=<2>"
    assert text(entry, "updated") == ("2022-06-04T20:42:05+08:00" if revision == 1 else "2026-11-25T00:00:00Z")
    parsed = feedparser.parse(document)
    assert parsed.bozo == 0 and parsed.entries[0].title == "AB]]>&amp;<x>\u202eC\U0001f600"
    assert document.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://news.mydrivers.com/tag/xiaomi12_ultra.htm", "xiaomi12_ultra"),
        ("https://news.mydrivers.com/zhangjiyouxi.html", "zhangjiyouxi"),
        ("https://news.mydrivers.com/tag/..%2F..%2Fetc%2Fpasswd.htm", "2F___2Fetc_2Fpasswd"),
        ("https://news.mydrivers.com/tag/.htm", "htm"),
        ("https://news.mydrivers.com/", "tag"),
        ("https://news.mydrivers.com/tag/小米.htm", "小米"),
    ],
)
def test_a_feed_name_cannot_leave_its_folder(url: str, name: str):
    assert SITE.feed_name(url) == name
    assert "/" not in name and not name.startswith(".")


def test_oschina_news_list_feed_name():
    oschina = get_site("oschina")
    assert oschina.feed_name(oschina.listing_url("news")) == "news"


def test_a_journal_line_is_found_after_rotation_and_missed_once_gone(tmp_path: Path):
    journal = Journal(tmp_path / "j.jsonl")
    _, refs = journal.append([{"site": "s", "article_id": "1"}, {"site": "s", "article_id": "2", "t": "\u2028é"}])
    journal.close()
    assert read_line(refs[1]) == {"site": "s", "article_id": "2", "t": "\u2028é"}
    (tmp_path / "j.jsonl").rename(tmp_path / "j.jsonl.1")
    (tmp_path / "j.jsonl").write_text("another file\n")
    assert read_line(refs[0]) == {"site": "s", "article_id": "1"}  # found by its inode beside the new journal
    (tmp_path / "j.jsonl.1").unlink()
    assert read_line(refs[0]) is None


def _export(article_id: str, published: float, tags: tuple[str, ...], revision: int = 1) -> Export:
    return Export(
        article_id, f"h{revision}", revision, 1.0, published, tags, LineRef("/j", 1, int(published), revision)
    )


def _exercise(state) -> list:
    """One sequence of state calls: exports with tags, listing membership, a revision that drops a tag."""
    a, b = "https://s/tag/a.htm", "https://s/tag/b.htm"
    mark = JournalMark(0, 1, 1)
    state.record_exports(
        [_export("10", 100.0, (a,)), _export("11", 300.0, (a, b)), _export("12", 200.0, ())], "j", mark
    )
    state.record_pending(ListingPage(b, b, 1, 0), [], [], ["12", "13"])  # 13 shown, not exported
    answers = [
        [(e.article_id, e.revision) for e in state.latest(tag, limit)]
        for tag, limit in ((a, 5), (b, 5), (None, 2), ("https://s/tag/none.htm", 5))
    ]
    answers.append(state.tags_of(["10", "11", "12", "13"]))
    state.record_exports([_export("11", 300.0, (b,), revision=2)], "j", mark)  # the update no longer names a
    state.record_exports([_export("11", 300.0, (a, b), revision=1)], "j", mark)  # an older line read again: ignored
    answers += [[(e.article_id, e.revision, e.line.length) for e in state.latest(tag, 5)] for tag in (a, b)]
    answers.append(state.tags_of(["11"]))
    return answers


def test_both_state_backends_remember_tags_the_same_way(tmp_path: Path, redis_server: str):
    sqlite_state = SqliteState(tmp_path / "s.sqlite", "mydrivers", 5)
    redis_state = RedisState(redis_server, "mydrivers", "w1", 600)
    try:
        expected = [
            [("11", 1), ("10", 1)],
            [("11", 1), ("12", 1)],
            [("11", 1), ("12", 1)],
            [],
            {"10": ["https://s/tag/a.htm"], "11": ["https://s/tag/a.htm", "https://s/tag/b.htm"]},
            [("10", 1, 1)],
            [("11", 2, 2), ("12", 1, 1)],
            {"11": ["https://s/tag/b.htm"]},
        ]
        assert _exercise(sqlite_state) == expected
        assert _exercise(redis_state) == expected
    finally:
        sqlite_state.close()
        redis_state.close()


def test_a_feed_is_titled_by_the_name_its_listing_page_shows(tmp_path: Path):
    """快科技's biyadi and cnBeta's topic 9 show 比亚迪 and Linux; none of their articles names the tag, so
    before, their feeds were titled by the slug and the number."""
    from conftest import FIXTURES, Server

    server = Server([FIXTURES / "mydrivers/site", FIXTURES / "cnbeta/site"])
    try:
        run_crawl(tmp_path / "k", server, "-a", "tag=biyadi", incremental=True)
        run_crawl(tmp_path / "c", server, "-a", "tag=9", spider="cnbeta", incremental=True)
    finally:
        server.stop()
    titles = [
        etree.parse(str(path)).findtext(f"{ATOM}title")
        for path in (tmp_path / "k/out/feeds/mydrivers/biyadi.xml", tmp_path / "c/out/feeds/cnbeta/9.xml")
    ]
    assert titles == ["快科技 · 比亚迪", "cnBeta · Linux"]
    with sqlite3.connect(tmp_path / "c/out/state.sqlite") as db:  # kept in the state, for later runs' feeds
        assert db.execute("SELECT walk, fact, value FROM walk_facts").fetchall() == [
            ("https://www.cnbeta.com.tw/topics/9.htm", "name", "Linux")
        ]
