"""Every failure is non-zero and one line, and the run summary tells the process's truth: a damaged state,
a run that cannot start, a summary or run history that cannot be written, a link planted where
newscrawl writes. Each fault is real (a damaged SQLite page, a full tmpfs, a symlink) and each test
asserts it landed."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, crawl_command, run_crawl
from faults import can_mount_tmpfs, fill_disk, tmpfs


def summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def damage_pages(state: Path, table: str) -> None:
    """Overwrite the pages of `table` (its root page and the rest of the file after it) with garbage."""
    with sqlite3.connect(state) as db:
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        size = db.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(state.read_bytes())
    data[(root - 1) * size : root * size] = b"\x07" * size
    state.write_bytes(bytes(data))


def test_a_damaged_state_is_refused_in_one_line_and_rebuilt_once_moved_aside(tmp_path: Path, site_server):
    out = tmp_path / "out"
    first = run_crawl(tmp_path, site_server, "-a", "tag=windows_11", incremental=True)
    assert first.returncode == 0 and len(first.items) == 4
    damage_pages(out / "state.sqlite", "articles")
    refused = run_crawl(tmp_path, site_server, "-a", "tag=windows_11", incremental=True)
    assert refused.returncode == 1, refused.log[-3000:]
    assert "Cannot start: " in refused.log and "the next run rebuilds it from the journal" in refused.log
    assert "Traceback" not in refused.log
    assert (summary(out)["finish_reason"], summary(out)["exit_code"]) == ("cannot_start", 1)
    for path in out.glob("state.sqlite*"):
        path.rename(path.with_name(path.name + ".damaged"))
    rebuilt = run_crawl(tmp_path, site_server, "-a", "tag=windows_11", incremental=True)
    assert rebuilt.returncode == 0, rebuilt.log[-3000:]
    assert rebuilt.items == first.items  # nothing exported twice
    assert "Rebuilt the crawl state from 4 journal line(s)" in rebuilt.log


@pytest.fixture
def full_disk(tmp_path: Path):
    if not can_mount_tmpfs(tmp_path / "probe"):
        pytest.skip("mounting a tmpfs (a small disk to fill) needs root; CI runs as root")
    with tmpfs(tmp_path / "disk", 256) as disk:
        yield disk


def test_a_summary_that_cannot_be_written_is_exit_2_and_no_stale_summary_is_left(
    tmp_path: Path, site_server, full_disk
):
    disk = full_disk
    settings = {"NEWSCRAWL_SUMMARY_FILE": str(disk / "summary.json"), "NEWSCRAWL_RUNS_FILE": str(disk / "runs.jsonl")}
    first = run_crawl(tmp_path, site_server, "-a", "tag=laika", incremental=True, settings=settings)
    assert first.returncode == 0 and (disk / "summary.json").exists()
    history = (disk / "runs.jsonl").read_bytes()
    filler = fill_disk(disk)
    full = run_crawl(tmp_path, site_server, "-a", "tag=laika", incremental=True, settings=settings)
    assert full.returncode == 2, full.log[-3000:]
    assert "No space left on device" in full.log  # the fault landed
    assert "Needs attention (exit 2): summary_failed" in full.log and "Traceback" not in full.log
    assert not (disk / "summary.json").exists()  # the previous run's figures are not read as this run's
    now = (disk / "runs.jsonl").read_bytes()
    assert now.startswith(history) and now.endswith(b"\n")  # no torn line
    added = [json.loads(line) for line in now[len(history) :].splitlines()]  # a line that fit in the last page
    assert all(run["exit_code"] == 2 and "summary_failed" in run["needs_attention"] for run in added), added
    filler.unlink()
    again = run_crawl(tmp_path, site_server, "-a", "tag=laika", incremental=True, settings=settings)
    assert again.returncode == 0 and json.loads((disk / "summary.json").read_text(encoding="utf-8"))["exit_code"] == 0


@pytest.mark.parametrize("name", ["state.sqlite.lock", "items.jsonl", "runs.jsonl"])
def test_a_symlink_where_newscrawl_writes_is_refused_not_followed(tmp_path: Path, site_server, name: str):
    out = tmp_path / "out"
    out.mkdir()
    target = tmp_path / "precious.txt"
    target.write_text("not yours\n", encoding="utf-8")
    (out / name).symlink_to(target)
    done = subprocess.run(
        crawl_command(out, site_server, "-a", "tag=laika", incremental=True),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert target.read_text(encoding="utf-8") == "not yours\n"
    assert "is a symbolic link: refused, not followed" in done.stderr, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert done.returncode == (2 if name == "runs.jsonl" else 1)


def test_work_settles_redirected_away_too_large_and_failing_articles_and_retry_gone_brings_them_back(
    tmp_path: Path, site_copy
):
    """Nothing stays pending forever: an article redirected to a column page, one over DOWNLOAD_MAXSIZE and
    one answering 503 run after run are settled as gone with their reasons, and not fetched again while
    their listings show them; `-a retry_gone=1` fetches them again."""
    root, server = site_copy
    (root / "1/833/833153.htm.redirect").write_text("https://news.mydrivers.com/tag/windows_11.htm")
    (root / "1/845/845077.htm.fault").write_text('{"status": 503}')
    big = root / "1/848/848601.htm"
    original = big.read_text(encoding="utf-8")
    big.write_text(original.replace("</body>", "<!--" + "x" * (2 << 20) + "--></body>"), encoding="utf-8")
    settings = {"NEWSCRAWL_GIVE_UP_AFTER_RUNS": "2", "RETRY_TIMES": "0", "DOWNLOAD_MAXSIZE": str(1 << 20)}
    runs = [
        run_crawl(tmp_path, server, "-a", "tag=xiaomi12_ultra,intel", incremental=True, settings=settings)
        for _ in range(3)
    ]
    assert [run.returncode for run in runs] == [0, 0, 0], runs[-1].log[-3000:]
    out = tmp_path / "out"
    first = json.loads((out / "runs.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["gone"] == {"redirected_to_non_article": 1, "too_large": 1}
    assert first["pending"]["articles"] == 1  # the 503 may pass
    assert summary(out)["gone"] == {} and summary(out)["pending"] == {"listing_pages": 0, "articles": 0}
    second = json.loads((out / "runs.jsonl").read_text(encoding="utf-8").splitlines()[1])
    assert second["gone"] == {"failing_http_503": 1}
    assert second["given_up"] == ["https://news.mydrivers.com/1/845/845077.htm"]
    assert runs[2].stats.get("newscrawl/article/requested", 0) == 0  # nothing is fetched again and again
    (root / "1/833/833153.htm.redirect").unlink()
    (root / "1/845/845077.htm.fault").unlink()
    big.write_text(original, encoding="utf-8")
    retried = run_crawl(
        tmp_path, server, "-a", "tag=xiaomi12_ultra,intel", "-a", "retry_gone=1", incremental=True, settings=settings
    )
    assert retried.returncode == 0, retried.log[-3000:]
    assert "Trying again 3 article(s) settled as gone" in retried.log
    assert {"833153", "845077", "848601"} <= {item["article_id"] for item in retried.items}


def test_network_failures_are_one_line_each_and_counted_once(tmp_path: Path, site_server):
    """A refused connection (nothing listens on port 1): one line per failed page, no traceback, each
    failed request counted once (not once per retry), nothing fetched: exit 2."""
    urls = "https://news.mydrivers.com/1/833/833153.htm,https://news.mydrivers.com/1/848/848601.htm"
    done = subprocess.run(
        crawl_command(
            tmp_path / "out",
            site_server,
            "-a",
            f"url={urls}",
            incremental=True,
            settings={"NEWSCRAWL_OFFLINE_ROOT": "http://127.0.0.1:1"},
        ),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and "Connection was refused" in done.stderr  # the fault landed
    assert "0 pages fetched" in done.stderr and ", 2 failed requests," in done.stderr
    assert summary(tmp_path / "out")["errors"]["download"] == 2
    assert summary(tmp_path / "out")["needs_attention"].keys() == {"nothing_fetched"}


def test_an_article_asked_for_by_url_that_is_known_is_counted_as_skipped(tmp_path: Path, site_server):
    url = "url=https://news.mydrivers.com/1/833/833153.htm"
    assert run_crawl(tmp_path, site_server, "-a", url, incremental=True).returncode == 0
    again = run_crawl(tmp_path, site_server, "-a", url, incremental=True)
    assert summary(tmp_path / "out")["articles"]["skipped_known"] == 1
    assert "0 exported (0 new, 0 updated), 1 skipped as known" in again.log


@pytest.mark.parametrize("line", ["5", "[]", '"text"', '{"site": "mydrivers", "article_id": "1", "revision": 1}'])
def test_a_journal_line_that_is_json_but_not_an_article_is_refused_in_one_line(tmp_path: Path, site_server, line: str):
    out = tmp_path / "out"
    assert run_crawl(tmp_path, site_server, "-a", "tag=laika", incremental=True).returncode == 0
    with open(out / "items.jsonl", "a", encoding="utf-8") as journal:
        journal.write(line + "\n")
    refused = run_crawl(tmp_path, site_server, "-a", "tag=laika", incremental=True)
    assert refused.returncode == 1 and "Traceback" not in refused.log, refused.log[-3000:]
    assert "is not an article" in refused.log and "move the journal aside" in refused.log


def test_a_second_interrupt_is_exit_2_with_a_summary_and_the_next_run_finishes(tmp_path: Path, site_copy):
    """Ctrl-C twice (the second forces Scrapy to stop before the spider closes): sent once the journal
    shows progress, while an article page stalls."""
    import signal

    from faults import crawl_to_the_end, journal_lines, wait_for
    from synthetic_site import big_tag

    root, server = site_copy
    ids = big_tag(root, "many", 30)
    (root / f"1/{int(ids[-1]) // 1000}/{ids[-1]}.htm.fault").write_text('{"stall": 60}')
    out = tmp_path / "out"
    out.mkdir()
    args = crawl_command(out, server, "-a", "tag=many", incremental=True, settings={"DOWNLOAD_TIMEOUT": "90"})
    process = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: journal_lines(out / "items.jsonl") >= 5, process), "the crawl made no progress"
        process.send_signal(signal.SIGINT)
        assert (
            wait_for(lambda: False, process, timeout=1) is False and process.poll() is None
        )  # closing: the stall holds it
        process.send_signal(signal.SIGINT)
        log = process.communicate(timeout=60)[1]
    finally:
        process.kill()
    assert process.returncode == 2, log[-3000:]
    assert "forced_shutdown" in log and "Traceback" not in log
    assert (summary(out)["finish_reason"], summary(out)["exit_code"]) == ("forced_shutdown", 2)
    (root / f"1/{int(ids[-1]) // 1000}/{ids[-1]}.htm.fault").unlink()
    crawl_to_the_end(args, REPO)
    exported = [
        json.loads(line)["article_id"] for line in (out / "items.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert sorted(exported) == sorted(ids)  # each once


def test_a_journal_line_past_the_cap_is_refused_without_reading_it_whole(tmp_path: Path):
    """A tail of 40 MiB with no newline (not an article of newscrawl's): refused after MAX_LINE bytes."""
    from newscrawl.state.journal import MAX_LINE, Journal, JournalError

    path = tmp_path / "items.jsonl"
    path.write_bytes(b'{"site": "mydrivers", "body": "' + b"x" * (40 << 20))
    journal = Journal(path)
    try:
        with pytest.raises(JournalError, match=f"longer than {MAX_LINE} bytes"):
            journal.recover(None, "mydrivers")
    finally:
        journal.close()
    assert path.stat().st_size > 40 << 20  # nothing cut: it is not a torn line a crash left
