"""Nothing lost, nothing twice in ordinary use: a new tag, a rebuilt state, a reset after a rotation,
budgets. The walk policy (newscrawl.spiders.walk) and the state's memory of complete walks, end to end."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from conftest import run_crawl
from synthetic_site import big_tag


def exported(out: Path) -> Counter:
    """(article id, revision) → how many times across the journal and its rotated files."""
    counts: Counter = Counter()
    for journal in sorted(out.glob("items.jsonl*")):
        for line in journal.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            counts[(item["article_id"], item["revision"])] += 1
    return counts


def remove_state(out: Path) -> None:
    for path in out.glob("state.sqlite*"):
        path.unlink()


def test_a_new_tag_is_walked_whole_though_its_first_page_is_known(tmp_path: Path, site_server):
    """windows_11 and amd export every article on windowscaozuoxitong's page 1; its page 2 holds 762514."""
    for tag in ("windows_11", "amd"):
        assert run_crawl(tmp_path, site_server, "-a", f"tag={tag}", incremental=True).returncode == 0
    before = exported(tmp_path / "out")
    third = run_crawl(tmp_path, site_server, "-a", "tag=windowscaozuoxitong", incremental=True)
    assert third.returncode == 0, third.log[-3000:]
    new = set(exported(tmp_path / "out")) - set(before)
    assert ("762514", 1) in new, sorted(new)
    assert third.stats.get("newscrawl/listing/walked_past_known") == 1  # page 1 all known, walked through
    again = run_crawl(tmp_path, site_server, "-a", "tag=windowscaozuoxitong", incremental=True)
    assert again.returncode == 0 and again.stats["newscrawl/listing/stopped_at_known"] == 1  # now it is complete
    assert again.stats["downloader/request_count"] == 2  # robots.txt and page 1


def test_a_rebuilt_state_walks_the_backlog_and_exports_nothing_twice(tmp_path: Path, site_copy):
    root, server = site_copy
    ids = big_tag(root, "backlog", 100)
    out = tmp_path / "out"
    first = run_crawl(tmp_path, server, "-a", "tag=backlog", "-a", "max_pages=2", incremental=True)
    assert first.returncode == 0, first.log[-3000:]
    assert len(exported(out)) == 40
    remove_state(out)
    runs = []
    for _ in range(6):
        result = run_crawl(tmp_path, server, "-a", "tag=backlog", "-a", "max_pages=2", incremental=True)
        assert result.returncode == 0, result.log[-3000:]
        runs.append(result)
        if not result.stats.get("newscrawl/pending/listing_pages"):
            break
    counts = exported(out)
    assert sorted(counts) == sorted((i, 1) for i in ids), f"{len(counts)} of {len(ids)} exported"
    assert max(counts.values()) == 1, [key for key, n in counts.items() if n > 1]
    assert "Rebuilt the crawl state from 40 journal line(s)" in runs[0].log
    assert "a crash left unrecorded" not in runs[0].log
    assert not runs[-1].stats.get("newscrawl/pending/articles")


def test_reset_after_a_rotation_exports_nothing_twice(tmp_path: Path, site_server):
    """The documented recipes: rotate the journal (mv), later delete the state: the state rebuilt from
    the journal and the rotated one knows every article."""
    out = tmp_path / "out"
    assert run_crawl(tmp_path, site_server, "-a", "tag=nvidia", incremental=True).returncode == 0
    (out / "items.jsonl").rename(out / "items.jsonl.1")
    assert run_crawl(tmp_path, site_server, "-a", "tag=laika", incremental=True).returncode == 0
    remove_state(out)
    both = run_crawl(tmp_path, site_server, "-a", "tag=nvidia,laika", incremental=True)
    assert both.returncode == 0, both.log[-3000:]
    counts = exported(out)
    assert max(counts.values()) == 1, [key for key, n in counts.items() if n > 1]
    assert both.stats.get("newscrawl/articles/new", 0) == 0
    assert "rotated journal items.jsonl.1 read" in both.log and "Rebuilt the crawl state" in both.log


def test_a_page_budget_walks_a_new_tag_over_several_runs_without_loss(tmp_path: Path, site_copy):
    """A tag deeper than the budget: each run goes on from where the last stopped, while new articles
    push old ones to later pages, until the walk reaches its end; then runs stop at known pages."""
    root, server = site_copy
    ids = big_tag(root, "deep", 90)
    out = tmp_path / "out"
    results = []
    for run in range(8):
        if run == 2:  # 15 new articles arrive on page 1, shifting every page by 15
            ids = big_tag(root, "deep", 105, first_id=2_999_985)
        results.append(run_crawl(tmp_path, server, "-a", "tag=deep", "-a", "max_pages=2", incremental=True))
        assert results[-1].returncode == 0, results[-1].log[-3000:]
        if not results[-1].stats.get("newscrawl/pending/listing_pages") and run >= 2:
            break
    counts = exported(out)
    assert sorted(counts) == sorted((i, 1) for i in ids)
    last = run_crawl(tmp_path, server, "-a", "tag=deep", "-a", "max_pages=2", incremental=True)
    assert last.stats["newscrawl/listing/stopped_at_known"] == 1 and last.stats["downloader/request_count"] == 2


def test_an_upgraded_state_walks_each_tag_whole_once(tmp_path: Path, site_server):
    """A schema-2 state (before walks were remembered) knows no complete walk."""
    import sqlite3

    out = tmp_path / "out"
    assert run_crawl(tmp_path, site_server, "-a", "tag=windows_11", incremental=True).returncode == 0
    with sqlite3.connect(out / "state.sqlite") as db:
        db.execute("DROP TABLE complete_walks")
        db.execute("PRAGMA user_version = 2")
    upgraded = run_crawl(tmp_path, site_server, "-a", "tag=windows_11", incremental=True)
    assert upgraded.returncode == 0, upgraded.log[-3000:]
    assert upgraded.stats["newscrawl/listing/walked_past_known"] == 1
    assert upgraded.stats.get("newscrawl/articles/new", 0) == 0
    settled = run_crawl(tmp_path, site_server, "-a", "tag=windows_11", incremental=True)
    assert settled.stats["newscrawl/listing/stopped_at_known"] == 1


def test_small_runs_do_not_raise_the_layout_alarm(tmp_path: Path, site_server):
    """A max_pages=1 run, then a plain run exporting page 2's articles (without tags); a -a url= run of an
    article without tags: a handful of articles is no evidence of a layout break."""
    first = run_crawl(tmp_path, site_server, "-a", "tag=xiaomi12_ultra", "-a", "max_pages=1", incremental=True)
    assert first.returncode == 0, first.log[-3000:]
    plain = run_crawl(tmp_path, site_server, "-a", "tag=xiaomi12_ultra", incremental=True)
    assert plain.returncode == 0, plain.stats.get("newscrawl/alarm")
    assert plain.stats["newscrawl/articles/new"] >= 1
    one = run_crawl(tmp_path / "one", site_server, "-a", "url=https://news.mydrivers.com/1/848/848601.htm")
    assert one.returncode == 0, one.stats.get("newscrawl/alarm")
    assert [item["tags"] for item in one.items] == [[]]


def test_resuming_counts_only_the_pages_this_run_requests(tmp_path: Path, site_server):
    """nvidia's page 2, left pending by a budget, is not requested by a run of laika: not said to be resumed."""
    first = run_crawl(tmp_path, site_server, "-a", "tag=nvidia", "-a", "max_pages=1", incremental=True)
    assert first.returncode == 0 and first.stats["newscrawl/pending/listing_pages"] == 1
    other = run_crawl(tmp_path, site_server, "-a", "tag=laika", incremental=True)
    assert other.returncode == 0 and "Resuming" not in other.log
    assert other.stats["newscrawl/pending/listing_pages"] == 1  # still there for nvidia's next run
    again = run_crawl(tmp_path, site_server, "-a", "tag=nvidia", incremental=True)
    assert "Resuming 1 listing page(s) and 0 article(s)" in again.log
    assert again.stats["newscrawl/pending/listing_pages"] == 0
