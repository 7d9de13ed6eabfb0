"""Scheduled runs: incremental, crash-safe (kill -9 at exact crash points), refusing to overlap."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, crawl_command, read_output, run_crawl
from faults import check_invariants, crawl_killed_at, crawl_to_the_end, journal_lines, wait_for

from newscrawl.state.sqlite import StateLock

ALL_TAGS = "tag=xiaomi12_ultra,xiaomi,laika,windows_11,windowscaozuoxitong,nvidia,intel,amd,youxi,dianyuan"


def article_ids(result) -> list[str]:
    return sorted(item["article_id"] for item in result.items)


def new_article(root: Path, article_id: str, title: str) -> None:
    """A new article appears: a copy of 818612's page under a new id and title, first on nvidia's page 1."""
    page = (root / "1/818/818612.htm").read_text(encoding="utf-8").replace("NVIDIA数字签名被盗", title)
    target = root / f"1/{int(article_id) // 1000}/{article_id}.htm"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    listing = root / "tag/nvidia.htm"
    text = listing.read_text(encoding="utf-8")
    item = text[text.index("<li>") : text.index("</li>") + 5]
    listing.write_text(
        text.replace(
            "<li>",
            item.replace("818612", article_id)
            .replace("/1/818/", f"/1/{int(article_id) // 1000}/")
            .replace("NVIDIA数字签名被盗", title)
            + "\n<li>",
            1,
        ),
        encoding="utf-8",
    )


def test_rerun_with_nothing_new_fetches_page_one_per_tag_and_emits_nothing(tmp_path: Path, site_server):
    first = run_crawl(tmp_path, site_server, "-a", "tag=windows_11,nvidia", incremental=True)
    assert first.returncode == 0, first.log
    assert article_ids(first) == ["178519", "771820", "781034", "792466", "797238", "818612"]
    assert first.stats["downloader/request_count"] == 1 + 4 + 6
    second = run_crawl(tmp_path, site_server, "-a", "tag=windows_11,nvidia", incremental=True)
    assert second.returncode == 0, second.log
    assert second.stats["downloader/request_count"] == 1 + 2  # robots.txt and each tag's page 1
    assert second.stats["newscrawl/listing/stopped_at_known"] == 2
    assert second.items == first.items  # the journal has nothing more
    assert (
        "Run summary: 3 pages fetched, 0 exported (0 new, 0 updated), 3 skipped as known, 0 unchanged, 0 dropped"
        in second.log
    )


def test_a_new_article_on_page_one_is_emitted_alone(tmp_path: Path, site_copy):
    root, server = site_copy
    run_crawl(tmp_path, server, "-a", "tag=nvidia,windows_11", incremental=True)
    new_article(root, "851001", "NVIDIA新驱动发布")
    again = run_crawl(tmp_path, server, "-a", "tag=nvidia,windows_11", incremental=True)
    assert again.returncode == 0, again.log
    assert [item["article_id"] for item in again.items][-1:] == ["851001"]
    assert article_ids(again) == ["178519", "771820", "781034", "792466", "797238", "818612", "851001"]
    assert again.stats["newscrawl/articles/new"] == 1 and again.items[-1]["revision"] == 1
    assert "851001.md" in again.posts


def test_refresh_emits_one_update_and_replaces_its_post(tmp_path: Path, site_copy):
    root, server = site_copy
    first = run_crawl(tmp_path, server, "-a", "tag=nvidia", incremental=True)
    page = root / "1/818/818612.htm"
    page.write_text(
        page.read_text(encoding="utf-8").replace("一定要小心。", "一定要小心。（更新：微软已吊销证书）"),
        encoding="utf-8",
    )
    refreshed = run_crawl(tmp_path, server, "-a", "tag=nvidia", "-a", "refresh=1", incremental=True)
    assert refreshed.returncode == 0, refreshed.log
    assert len(refreshed.items) == len(first.items) + 1
    update = refreshed.items[-1]
    assert (update["id"], update["revision"]) == ("mydrivers:818612", 2)
    assert refreshed.stats["newscrawl/articles/updated"] == 1 and refreshed.stats["newscrawl/articles/unchanged"] == 1
    assert sorted(refreshed.posts) == ["797238.md", "818612.md"]
    assert "微软已吊销证书" in refreshed.posts["818612.md"]


def test_refresh_after_max_age(tmp_path: Path, site_server):
    run_crawl(tmp_path, site_server, "-a", "tag=laika", incremental=True)
    aged = run_crawl(
        tmp_path, site_server, "-a", "tag=laika", incremental=True, settings={"NEWSCRAWL_REFRESH_AFTER": "0.001"}
    )
    assert aged.stats["newscrawl/articles/unchanged"] == 1 and "newscrawl/articles/known" not in aged.stats


def test_a_second_run_on_the_same_state_refuses(tmp_path: Path, site_server):
    """...and says so in the summary and the run history, in place of the last run's figures."""
    out = tmp_path / "out"
    assert run_crawl(tmp_path, site_server, "-a", "tag=laika", incremental=True).returncode == 0
    lock = StateLock(out / "state.sqlite")
    lock.acquire()  # a run in progress
    try:
        refused = run_crawl(tmp_path, site_server, "-a", "tag=laika", incremental=True)
    finally:
        lock.release()
    assert refused.returncode == 1
    assert "another crawl is running on" in refused.log and "refuses to start (cron overlap)" in refused.log
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (summary["finish_reason"], summary["exit_code"]) == ("cannot_start", 1) and "cron overlap" in summary[
        "error"
    ]
    runs = [json.loads(line) for line in (out / "runs.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [run["exit_code"] for run in runs] == [0, 1]
    assert len(refused.items) == 1  # the first run's line only
    assert run_crawl(tmp_path, site_server, "-a", "tag=laika", incremental=True).returncode == 0


def test_summary_file(tmp_path: Path, site_server):
    result = run_crawl(tmp_path, site_server, "-a", "tag=xiaomi12_ultra", incremental=True)
    summary = json.loads((tmp_path / "out/summary.json").read_text(encoding="utf-8"))
    assert summary["finish_reason"] == "finished" and summary["alarm"] is None and summary["mode"] == "incremental"
    assert summary["articles"] == {"new": 2, "updated": 0, "skipped_known": 0, "unchanged": 0, "exported": 2}
    assert summary["pages_fetched"] == 5 and summary["listing_pages"] == 2
    assert summary["dropped"] == {} and summary["errors"] == {"http": 0, "download": 0, "logged": 0}
    assert summary["duration_seconds"] > 0 and result.stats["item_scraped_count"] == 2


@pytest.mark.parametrize(
    "crash_at",
    [
        "post-before-rename:3",
        "journal-mid-line:4",
        "before-state-record:5",
        "after-state-record:2",
        "journal-mid-line:1",
        "post-before-rename:11",
        "story-recorded:4",
    ],
)
def test_kill_9_at_a_crash_point_then_rerun(tmp_path: Path, site_server, crash_at: str):
    out = tmp_path / "out"
    args = crawl_command(out, site_server, "-a", ALL_TAGS, incremental=True)
    crawl_killed_at(args, crash_at, REPO)
    rerun = crawl_to_the_end(args, REPO)
    assert len(check_invariants(out)) == 16
    if crash_at.startswith("before-state-record"):  # the killed batch's lines, one or more
        recovered = re.search(r"Recovered (\d+) journal line\(s\) a crash left unrecorded", rerun.stderr)
        assert recovered and int(recovered.group(1)) >= 1, rerun.stderr[-3000:]
    again = read_output(out, "mydrivers", 0, "")
    assert len(again.items) == 16


def test_kill_9_when_the_journal_shows_progress(tmp_path: Path, site_server):
    """Kills wherever the crawl happens to be once the journal holds 1, 6 and 11 lines (the crash points
    above aim at exact moments); each kill must land while the crawl runs."""
    out = tmp_path / "out"
    args = crawl_command(out, site_server, "-a", ALL_TAGS, incremental=True, settings={"DOWNLOAD_DELAY": "0.05"})
    for lines in (1, 6, 11):
        process = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        landed = wait_for(lambda n=lines: journal_lines(out / "items.jsonl") >= n, process) and process.poll() is None
        process.kill()
        assert process.wait(timeout=60) == -9 and landed, f"the kill at {lines} line(s) came after the crawl ended"
    final = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr[-3000:]
    assert len(check_invariants(out)) == 16


def test_state_reset_is_deleting_the_state_file(tmp_path: Path, site_server):
    run_crawl(tmp_path, site_server, "-a", "tag=laika", incremental=True)
    for name in ("state.sqlite", "state.sqlite-wal", "state.sqlite-shm"):
        (tmp_path / "out" / name).unlink(missing_ok=True)
    shutil.rmtree(tmp_path / "out/posts")
    (tmp_path / "out/items.jsonl").unlink()
    fresh = run_crawl(tmp_path, site_server, "-a", "tag=laika", incremental=True)
    assert article_ids(fresh) == ["833153"] and fresh.stats["newscrawl/articles/new"] == 1


def test_layout_alarm_names_the_fields_that_fell(tmp_path: Path, site_copy):
    """Markup altered in a copy: images lose their `src` (a lazy-loading switch the parser does not know).
    Every tag: 16 articles without a picture where half should have one cannot be chance."""
    root, server = site_copy
    for page in (root / "1").rglob("*.htm"):
        raw = page.read_bytes()
        charset = "gb18030" if b"charset=gb2312" in raw else "utf-8"
        page.write_bytes(
            raw.decode(charset).replace("<img ", "<img data-x ").replace(" src=", " data-lazy=").encode(charset)
        )
    result = run_crawl(tmp_path, server, "-a", ALL_TAGS, incremental=True)
    assert result.returncode == 3, result.log[-3000:]
    alarm = result.stats["newscrawl/alarm"]
    assert (
        alarm.startswith("Field Coverage Monitor")
        and "Article/images (expected 0.5, got 0.0 in 16 article(s))" in alarm
    )
    assert "Article/title" not in alarm and "Article/editor" not in alarm
    summary = json.loads((tmp_path / "out/summary.json").read_text(encoding="utf-8"))
    assert summary["alarm"] == alarm and "Layout-break alarm: Field Coverage Monitor" in result.log
    assert len(result.items) == 16  # the articles are still exported; the run is marked failed


def test_an_article_that_failed_for_a_passing_reason_is_fetched_by_the_next_run(tmp_path: Path, site_copy):
    """nvidia lists 818612 on page 1 and 797238 on page 2. A 503 on 797238 leaves it pending, so the next
    run fetches it straight away (page 1 being all known, the walk stops there); a 404 settles it."""
    root, server = site_copy
    fault = root / "1/797/797238.htm.fault"
    fault.write_text('{"status": 503}')
    out = tmp_path / "out"
    first = run_crawl(tmp_path, server, "-a", "tag=nvidia", incremental=True)
    assert [item["article_id"] for item in first.items] == ["818612"]
    assert first.stats["retry/max_reached"] == 1 and first.stats["newscrawl/pending/articles"] == 1
    fault.unlink()
    second = read_output(out, "mydrivers", *_run(crawl_command(out, server, "-a", "tag=nvidia", incremental=True)))
    assert [item["article_id"] for item in second.items] == ["818612", "797238"]
    assert "Resuming 0 listing page(s) and 1 article(s)" in second.log
    assert second.stats["downloader/request_count"] == 3  # robots.txt, page 1, the pending article
    assert second.stats["newscrawl/pending/articles"] == 0

    gone_root = tmp_path / "gone"
    (root / "1/797/797238.htm").rename(root / "1/797/797238.htm.away")
    third = run_crawl(gone_root, server, "-a", "tag=nvidia", incremental=True)
    assert third.stats["httperror/response_ignored_status_count/404"] == 1
    assert third.stats["newscrawl/pending/articles"] == 0  # gone: not pending
    fourth = read_output(
        gone_root / "out",
        "mydrivers",
        *_run(crawl_command(gone_root / "out", server, "-a", "tag=nvidia", incremental=True)),
    )
    assert fourth.stats["newscrawl/listing/stopped_at_known"] == 1
    assert fourth.stats["downloader/request_count"] == 2  # robots.txt and page 1


def _run(args: list[str]) -> tuple[int, str]:
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stderr


def _torn_article(journal: Path) -> str:
    """The article id at the start of the journal's torn last line (a kill at journal-mid-line)."""
    tail = journal.read_bytes().rsplit(b"\n", 1)[-1]
    found = re.search(rb'"article_id": "(\d+)"', tail)
    assert tail and found, f"no torn line at the end of {journal}: {tail[:80]!r}"
    return found.group(1).decode()


def test_an_article_killed_mid_export_then_taken_down_leaves_no_post(tmp_path: Path, site_copy):
    """Killed while the article's line is half written: its post was not in place yet. The article is then
    taken down (404): the next run settles it as gone, and no post of it is visible without its line."""
    root, server = site_copy
    out = tmp_path / "out"
    args = crawl_command(out, server, "-a", ALL_TAGS, incremental=True)
    crawl_killed_at(args, "journal-mid-line:6", REPO)
    victim = _torn_article(out / "items.jsonl")
    assert not (out / "posts/mydrivers" / f"{victim}.md").exists(), "a post is in place before its line"
    (root / f"1/{int(victim) // 1000}/{victim}.htm").unlink()
    crawl_to_the_end(args, REPO)
    ids = check_invariants(out)  # posts and journal agree, nothing pending
    assert victim not in ids and len(ids) == 15


def test_killed_after_the_line_before_the_post_the_next_start_writes_the_post(tmp_path: Path, site_server):
    """Killed with the batch's lines durable and its posts not yet renamed: the next start writes those posts
    from the lines and records them, fetching none of them again."""
    out = tmp_path / "out"
    args = crawl_command(out, site_server, "-a", ALL_TAGS, incremental=True)
    crawl_killed_at(args, "post-before-rename:4", REPO)
    lines = [json.loads(line) for line in (out / "items.jsonl").read_text(encoding="utf-8").splitlines()]
    unpublished = [
        line["article_id"] for line in lines if not (out / "posts/mydrivers" / f"{line['article_id']}.md").exists()
    ]
    assert unpublished, "the kill left no line without its post"
    rerun = crawl_to_the_end(args, REPO)
    assert re.search(r"Recovered \d+ journal line\(s\) a crash left unrecorded", rerun.stderr), rerun.stderr[-3000:]
    assert len(check_invariants(out)) == 16  # each revision once: the recovered ones were not exported again
    for article_id in unpublished:
        post = (out / "posts/mydrivers" / f"{article_id}.md").read_text(encoding="utf-8")
        line = next(line for line in lines if line["article_id"] == article_id)
        assert line["title"].replace("'", "''") in post or line["title"] in post


def test_a_recovered_line_whose_post_cannot_be_written_stops_the_run_and_the_next_one_recovers_it(
    tmp_path: Path, site_server
):
    """Killed with a line durable and its post not renamed; at the next start the post cannot be written (a
    folder stands at its name): nothing is recorded or fetched, exit 2; once that is cleared, the run after
    recovers the line, writes its post, and every article ends up once."""
    out = tmp_path / "out"
    args = crawl_command(out, site_server, "-a", "tag=windows_11", incremental=True)
    crawl_killed_at(args, "post-before-rename:1", REPO)
    lines = [json.loads(line) for line in (out / "items.jsonl").read_text(encoding="utf-8").splitlines()]
    unpublished = [
        line["article_id"] for line in lines if not (out / f"posts/mydrivers/{line['article_id']}.md").exists()
    ]
    assert unpublished, "the kill left no line without its post"
    blocker = out / "posts/mydrivers" / f"{unpublished[0]}.md"
    blocker.mkdir()
    stopped = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert stopped.returncode == 2, stopped.stderr[-3000:]
    assert f"Could not restore what {len(lines)} recovered journal line(s) publish: [Errno 21]" in stopped.stderr
    assert "0 pages fetched" in stopped.stderr
    blocker.rmdir()
    rerun = crawl_to_the_end(args, REPO)
    assert f"Recovered {len(lines)} journal line(s)" in rerun.stderr
    assert len(check_invariants(out)) == 4
