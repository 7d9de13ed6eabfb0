"""The scheduled-crawl promises under real faults, one test per case of issue 13: nothing lost, nothing
twice, no silent failure. Each fault is real (a devserver fault, a full tmpfs, a lock held by another
process, a SIGKILL at a crash point) and each test checks that it landed before judging the outcome."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import redis
from conftest import FIXTURES, REPO, Server, crawl_command, read_output, run_crawl
from faults import (
    Watcher,
    can_mount_tmpfs,
    check_invariants,
    crawl_killed_at,
    crawl_to_the_end,
    fill_disk,
    hold_write_lock,
    journal_lines,
    mode,
    replace_by_copy,
    tmpfs,
)

from newscrawl.state.journal import Journal, JournalMark
from newscrawl.state.sqlite import SCHEMA_VERSION

WINDOWS_11 = ["178519", "771820", "781034", "792466"]  # page 1: 178519, 792466; page 2: 781034, 771820


def ids(result) -> list[str]:
    return sorted(item["article_id"] for item in result.items)


def run(tmp_path: Path, server: Server, *args: str, **kwargs):
    return run_crawl(tmp_path, server, *args, incremental=True, **kwargs)


def assert_one_line_error(result, text: str) -> None:
    assert result.returncode == 1, result.log[-2000:]
    assert f"Cannot start: {text}" in result.log
    assert "Traceback" not in result.log and "Task exception" not in result.log


@pytest.fixture(scope="module")
def mountable(tmp_path_factory) -> None:
    if not can_mount_tmpfs(tmp_path_factory.mktemp("probe")):
        pytest.skip("mounting a tmpfs (a small disk to fill) needs root; CI runs as root")


# 1. A transient failure of a listing page after page 1 ------------------------------------------


@pytest.mark.parametrize("fault", [{"status": 503, "times": 3}, {"reset": True}])
def test_a_listing_page_that_failed_is_fetched_by_the_next_run(tmp_path: Path, site_copy, fault):
    root, server = site_copy
    fault_file = root / "tag/windows_11_2.htm.fault"
    fault_file.write_text(json.dumps(fault))
    first = run(tmp_path, server, "-a", "tag=windows_11")
    assert first.stats["newscrawl/listing/failed"] == 1  # the fault landed: page 2 failed after its retries
    assert first.returncode == 0 and ids(first) == ["178519", "792466"]
    assert first.stats["newscrawl/pending/listing_pages"] == 1
    fault_file.unlink()
    second = run(tmp_path, server, "-a", "tag=windows_11")
    assert second.returncode == 0, second.log[-3000:]
    assert "Resuming 1 listing page(s)" in second.log
    assert ids(second) == WINDOWS_11 and len(second.items) == 4
    third = run(tmp_path, server, "-a", "tag=windows_11")
    assert third.stats["downloader/request_count"] == 2 and len(third.items) == 4  # robots.txt and page 1


# 2. A page cap is a budget per run, not an end ----------------------------------------------------


def test_a_page_cap_delays_the_backlog_and_never_cuts_it(tmp_path: Path, site_server):
    capped = run(tmp_path, site_server, "-a", "tag=windows_11", "-a", "max_pages=1")
    assert ids(capped) == ["178519", "792466"] and capped.stats["newscrawl/listing/max_pages_reached"] == 1
    plain = run(tmp_path, site_server, "-a", "tag=windows_11")
    assert ids(plain) == WINDOWS_11, plain.log[-3000:]
    assert plain.stats["newscrawl/pending/listing_pages"] == 0


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5"])
def test_max_pages_below_one_or_not_a_number_is_refused(tmp_path: Path, site_server, value):
    result = run(tmp_path, site_server, "-a", "tag=laika", "-a", f"max_pages={value}")
    assert_one_line_error(result, f"-a max_pages= must be a whole number ≥ 1, not '{value}'")


def test_the_setting_is_checked_too(tmp_path: Path, site_server):
    result = run(tmp_path, site_server, "-a", "tag=laika", settings={"NEWSCRAWL_MAX_PAGES": "0"})
    assert_one_line_error(result, "NEWSCRAWL_MAX_PAGES must be a whole number ≥ 1, not '0'")


# 3. An export failure mid-run: exit 2, nothing lost -----------------------------------------------


@pytest.mark.parametrize("full", ["posts", "journal"])
def test_a_full_disk_mid_run_exits_2_and_the_next_run_completes(tmp_path: Path, site_server, mountable, full):
    out = tmp_path / "out"
    out.mkdir()
    disk = tmp_path / "disk"
    settings = {"DOWNLOAD_DELAY": "0.1", "NEWSCRAWL_PARSE_PROCESS": "False"}
    if full == "posts":
        settings["NEWSCRAWL_POSTS_DIR"] = str(disk / "posts")
        posts_root = disk / "posts"
    else:
        settings["NEWSCRAWL_JSONL"] = str(disk / "items.jsonl")
        posts_root = out / "posts"
    journal = disk / "items.jsonl" if full == "journal" else out / "items.jsonl"
    tags = "tag=xiaomi12_ultra,xiaomi,laika,windows_11,windowscaozuoxitong,nvidia,intel,amd,youxi,dianyuan"
    with tmpfs(disk, 512):
        args = crawl_command(out, site_server, "-a", tags, incremental=True, settings=settings)
        process = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        fillers: list[Path] = []
        watcher = Watcher(process, journal, 3, lambda: fillers.append(fill_disk(disk)))
        watcher.start()
        log = process.communicate(timeout=180)[1]
        watcher.join()
        assert watcher.landed, "the disk was not filled while the crawl ran"
        assert "No space left on device" in log  # the fault reached the writer
        assert process.returncode == 2, log[-3000:]
        assert "Needs attention (exit 2): export_failed" in log
        assert journal.read_bytes().endswith(b"\n") or not journal.read_bytes()  # no torn line, even now
        fillers[0].unlink()
        again = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=180)
        assert again.returncode == 0, again.stderr[-3000:]
        if full == "journal":
            shutil.copy(journal, out / "items.jsonl")
        else:
            shutil.copytree(posts_root, out / "posts", dirs_exist_ok=True)
    assert len(check_invariants(out)) == 16


# 4. A transient state-commit failure never duplicates ---------------------------------------------


def test_a_locked_state_makes_commits_fail_and_the_lines_are_recorded_once(tmp_path: Path, site_server):
    out = tmp_path / "out"
    out.mkdir()
    tags = "tag=xiaomi12_ultra,xiaomi,laika,windows_11,windowscaozuoxitong,nvidia,intel,amd,youxi,dianyuan"
    args = crawl_command(
        out,
        site_server,
        "-a",
        tags,
        incremental=True,
        settings={"DOWNLOAD_DELAY": "0.1", "NEWSCRAWL_STATE_BUSY_TIMEOUT": "0.5"},
    )
    process = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    watcher = Watcher(
        process,
        out / "items.jsonl",
        2,
        lambda: threading.Thread(target=hold_write_lock, args=(out / "state.sqlite", 3), daemon=True).start(),
    )
    watcher.start()
    log = process.communicate(timeout=180)[1]
    watcher.join()
    assert watcher.landed and "database is locked" in log  # the fault landed
    assert process.returncode == 2, log[-3000:]
    rerun = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=180)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    result = read_output(out, "mydrivers", 0, "")
    assert len(check_invariants(out)) == 16
    assert [item["revision"] for item in result.items] == [1] * 16


def test_a_lock_shorter_than_the_busy_timeout_is_waited_out(tmp_path: Path, site_server):
    out = tmp_path / "out"
    out.mkdir()
    args = crawl_command(
        out, site_server, "-a", "tag=windows_11,nvidia,intel", incremental=True, settings={"DOWNLOAD_DELAY": "0.1"}
    )
    process = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    holder: list[threading.Thread] = []

    def lock() -> None:
        holder.append(threading.Thread(target=hold_write_lock, args=(out / "state.sqlite", 2)))
        holder[0].start()

    watcher = Watcher(process, out / "items.jsonl", 1, lock)
    watcher.start()
    log = process.communicate(timeout=180)[1]
    watcher.join()
    holder[0].join()
    assert watcher.landed and process.returncode == 0, log[-3000:]
    assert journal_lines(out / "items.jsonl") == 9


# 5. Journal rotation, truncation, removal ---------------------------------------------------------


def test_rotation_then_a_crash_mid_line_leaves_no_torn_line(tmp_path: Path, site_server):
    out = tmp_path / "out"
    first = run(tmp_path, site_server, "-a", "tag=nvidia")
    assert len(first.items) == 2
    (out / "items.jsonl").rename(out / "items.jsonl.1")
    args = crawl_command(out, site_server, "-a", "tag=nvidia,windows_11,intel", incremental=True)
    killed = crawl_killed_at(args, "journal-mid-line:2", REPO)
    assert "rotated to items.jsonl.1" in killed.stderr
    assert not (out / "items.jsonl").read_bytes().endswith(b"\n")  # the kill tore a line
    assert "torn last line" in crawl_to_the_end(args, REPO).stderr
    assert len(check_invariants(out, journals=[out / "items.jsonl.1", out / "items.jsonl"])) == 9


def test_a_crash_then_rotation_recovers_the_rotated_file(tmp_path: Path, site_server):
    out = tmp_path / "out"
    args = crawl_command(out, site_server, "-a", "tag=nvidia,windows_11,intel", incremental=True)
    crawl_killed_at(args, "before-state-record:3", REPO)
    (out / "items.jsonl").rename(out / "items.jsonl.1")  # rotated before the next run could reconcile
    assert "rotated to items.jsonl.1" in crawl_to_the_end(args, REPO).stderr
    assert len(check_invariants(out, journals=[out / "items.jsonl.1", out / "items.jsonl"])) == 9


def test_a_removed_journal_is_said_and_nothing_is_written_twice(tmp_path: Path, site_server):
    out = tmp_path / "out"
    run(tmp_path, site_server, "-a", "tag=nvidia")
    (out / "items.jsonl").unlink()
    again = run(tmp_path, site_server, "-a", "tag=nvidia")
    assert again.returncode == 0 and again.items == []
    # A new file may get the old one's inode back: then it reads as shorter than recorded; either way it is said.
    assert (
        "is no longer at" in again.log and "delete the state too" in again.log
    ) or "removed and made anew" in again.log


def test_a_copied_journal_is_recognised_and_only_its_tail_read(tmp_path: Path, site_server):
    """Restored from a backup, or moved to another disk: another inode, the same bytes. The state holds
    its lines at their places, so nothing before the mark is read or recorded again, the walks stay
    complete, and the feeds find the lines the state recorded on the old inode in the copy. A tail the
    state had not recorded (a kill before the commit) is recovered."""
    out = tmp_path / "out"
    first = run(tmp_path, site_server, "-a", "tag=nvidia")
    assert len(first.items) == 2
    replace_by_copy(out / "items.jsonl")
    rerun = run(tmp_path, site_server, "-a", "tag=nvidia")
    assert rerun.returncode == 0 and ids(rerun) == ids(first)  # the journal as it was: nothing appended
    assert "another file than the state recorded, holding the same" in rerun.log, rerun.log[-3000:]
    assert "no longer at" not in rerun.log and "newscrawl/journal/recovered_lines" not in rerun.stats
    assert rerun.stats.get("newscrawl/feeds/missing_lines", 0) == 0
    feed = (out / "feeds" / "mydrivers" / "nvidia.xml").read_text(encoding="utf-8")
    assert all(f"{article_id}.htm" in feed for article_id in ids(first))  # read from the copy
    args = crawl_command(out, site_server, "-a", "tag=nvidia,windows_11", incremental=True)
    killed = crawl_killed_at(args, "before-state-record:1", REPO)
    assert killed.returncode != 0 and journal_lines(out / "items.jsonl") > 2  # the kill left an unrecorded tail
    replace_by_copy(out / "items.jsonl")
    last = crawl_to_the_end(args, REPO)
    assert "another file than the state recorded, holding the same" in last.stderr
    assert "Recovered" in last.stderr
    assert len(check_invariants(out)) == 6


def test_a_journal_of_the_same_length_with_other_lines_is_not_taken_for_a_copy(tmp_path: Path, site_server):
    """The same bytes count and a line ending at the mark are not enough: the same lines in another
    order are read whole and recorded again (at their new places), and nothing is exported twice."""
    out = tmp_path / "out"
    first = run(tmp_path, site_server, "-a", "tag=nvidia")
    lines = (out / "items.jsonl").read_bytes().splitlines(keepends=True)
    assert len(lines) == 2 and len(lines[0]) != len(lines[1])
    replace_by_copy(out / "items.jsonl", lines[1] + lines[0])
    again = run(tmp_path, site_server, "-a", "tag=nvidia,windows_11")
    assert again.returncode == 0, again.log[-2000:]
    assert "holding the same" not in again.log and "no longer at" in again.log
    assert ids(again) == sorted(ids(first) + WINDOWS_11)
    assert again.stats.get("newscrawl/feeds/missing_lines", 0) == 0
    assert len(check_invariants(out)) == 6


def test_a_removed_journals_inode_taken_by_another_file_is_not_read_as_the_journal(tmp_path: Path):
    """The inode of a removed journal is soon another file's (the state's WAL, seen in the suite): only
    a file that holds the recorded bytes and begins with a line of the site's journal is its rotation."""
    journal = Journal(tmp_path / "items.jsonl")
    mark, _ = journal.append([{"id": "mydrivers:1", "site": "mydrivers", "article_id": "1", "revision": 1}])
    journal.close()
    (tmp_path / "items.jsonl").rename(tmp_path / "items.jsonl.1")
    impostor = tmp_path / "state.sqlite-wal"
    impostor.write_bytes(b"\x37\x7f\x06\x82" + b"\0" * 4096)
    imposed = JournalMark(mark.offset, impostor.stat().st_dev, impostor.stat().st_ino)
    recovery = Journal(tmp_path / "items.jsonl").recover(imposed, "mydrivers")
    rotated = tmp_path / "items.jsonl.1"
    assert any("is no longer at" in note for note in recovery.notes), recovery.notes
    # The recorded file not found, the rotated one is read again whole; never the impostor.
    assert [segment.path for segment in recovery.segments] == [rotated] and recovery.count == 1
    for offset in (
        mark.offset,
        0,
    ):  # 0: the state recorded the journal before its first line (a kill in the first batch)
        honest = JournalMark(offset, rotated.stat().st_dev, rotated.stat().st_ino)
        recovery = Journal(tmp_path / "items.jsonl").recover(honest, "mydrivers")
        assert any("rotated to items.jsonl.1" in note for note in recovery.notes), recovery.notes
        assert recovery.count == (0 if offset else 1)


def back_up_state(out: Path, backup: Path) -> None:
    backup.mkdir()
    for path in out.glob("state.sqlite*"):
        if not path.name.endswith(".lock"):
            shutil.copy2(path, backup / path.name)


def restore_state(out: Path, backup: Path) -> None:
    for path in out.glob("state.sqlite*"):
        if not path.name.endswith(".lock"):
            path.unlink()
    for path in backup.iterdir():
        shutil.copy2(path, out / path.name)


def test_a_state_restored_after_its_journal_was_copied_then_rotated_exports_nothing_twice(tmp_path: Path, site_server):
    """The state's backup recorded a journal that was then copied (another inode) and rotated: the
    rotated copy holds the recorded bytes, its tail (what was exported after the backup) is read."""
    out = tmp_path / "out"
    first = run(tmp_path, site_server, "-a", "tag=nvidia")
    back_up_state(out, tmp_path / "backup")
    replace_by_copy(out / "items.jsonl")
    assert ids(run(tmp_path, site_server, "-a", "tag=nvidia,windows_11")) == sorted(ids(first) + WINDOWS_11)
    (out / "items.jsonl").rename(out / "items.jsonl.1")
    restore_state(out, tmp_path / "backup")
    again = run(tmp_path, site_server, "-a", "tag=nvidia,windows_11")
    assert again.returncode == 0, again.log[-3000:]
    assert "copied, then rotated to items.jsonl.1: its last 4 unrecorded line(s) recorded" in again.log
    assert len(check_invariants(out, journals=[out / "items.jsonl.1", out / "items.jsonl"])) == 6


def test_a_state_whose_journal_is_gone_reads_the_rotated_journals_again(tmp_path: Path, site_server):
    """The file the state recorded is gone (rotated, then compressed) and no copy of it is beside the
    journal: the lines past the mark may be in any rotated journal, so every one is read again."""
    out = tmp_path / "out"
    run(tmp_path, site_server, "-a", "tag=nvidia")
    back_up_state(out, tmp_path / "backup")
    (out / "items.jsonl").rename(out / "items.jsonl.1")
    run(tmp_path, site_server, "-a", "tag=nvidia,windows_11")  # the 4 of windows_11, in a new journal
    (out / "items.jsonl.1").rename(out / "items.jsonl.2")
    (out / "items.jsonl").rename(out / "items.jsonl.1")
    nvidia = tmp_path / "nvidia.jsonl"  # what gzip keeps of items.jsonl.2, for the invariants
    (out / "items.jsonl.2").rename(nvidia)
    (out / "items.jsonl.2.gz").write_bytes(gzip.compress(nvidia.read_bytes()))
    restore_state(out, tmp_path / "backup")
    again = run(tmp_path, site_server, "-a", "tag=nvidia,windows_11")
    assert again.returncode == 0, again.log[-3000:]
    assert "4 line(s) of the rotated journal items.jsonl.1 read again" in again.log and "no longer at" in again.log
    assert len(check_invariants(out, journals=[nvidia, out / "items.jsonl.1", out / "items.jsonl"])) == 6


def test_a_journal_truncated_in_place_is_read_from_its_start(tmp_path: Path, site_server):
    out = tmp_path / "out"
    run(tmp_path, site_server, "-a", "tag=nvidia,windows_11")
    journal = out / "items.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[:2]) + lines[2][:40])  # truncated, with a torn line
    again = run(tmp_path, site_server, "-a", "tag=nvidia,windows_11")
    assert again.returncode == 0
    assert "shorter than the state recorded" in again.log
    assert journal.read_bytes() == b"".join(lines[:2])  # the torn line is cut, nothing appended twice


# 6. One-off runs never touch the scheduled job's files ---------------------------------------------


def test_a_one_off_run_beside_the_job_leaves_its_files_alone(tmp_path: Path, site_server):
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "newscrawl.settings"}
    base = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "mydrivers",
        "-a",
        "tag=laika",
        "-s",
        f"NEWSCRAWL_OFFLINE_ROOT={site_server.url}",
        "-s",
        "DOWNLOAD_DELAY=0",
        "-s",
        "AUTOTHROTTLE_ENABLED=False",
        "-s",
        "LOG_LEVEL=INFO",
    ]
    job = subprocess.run(base, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert job.returncode == 0, job.stderr[-3000:]
    files = sorted(p for p in (tmp_path / "output").rglob("*") if p.is_file())
    before = {p: p.read_bytes() for p in files}
    assert tmp_path / "output/posts/mydrivers/833153.md" in before
    one_off = subprocess.run(
        base + ["-O", "x.jsonl", "-s", "NEWSCRAWL_FRONTMATTER_DATES=archive"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert one_off.returncode == 0, one_off.stderr[-3000:]
    assert [json.loads(line)["article_id"] for line in (tmp_path / "x.jsonl").read_text().splitlines()] == ["833153"]
    after = {p: p.read_bytes() for p in sorted(p for p in (tmp_path / "output").rglob("*") if p.is_file())}
    changed = [
        str(p) for p in after if before.get(p) != after[p] and not p.name.endswith((".sqlite-wal", ".sqlite-shm"))
    ]
    assert changed == [] and sorted(after) == sorted(before)


# 7. Broken runs say so in their exit code ----------------------------------------------------------


def test_every_tag_404_exits_2(tmp_path: Path, site_server):
    result = run(tmp_path, site_server, "-a", "tag=windwos_11,nvdia")
    assert result.returncode == 2
    assert result.stats["newscrawl/attention/first_page_gone"] == 2
    assert "The first page of tag https://news.mydrivers.com/tag/windwos_11.htm is gone" in result.log
    assert "nothing_fetched" not in result.log  # the site answered: the tags are wrong, not the site down


def test_an_unreachable_site_exits_2(tmp_path: Path):
    closed = Server.__new__(Server)
    closed.url = "http://127.0.0.1:9"  # discard port: nothing listens on loopback
    result = run(tmp_path, closed, "-a", "tag=laika", settings={"RETRY_TIMES": "0"})
    assert result.stats["newscrawl/listing/failed"] == 1  # the connection was refused
    assert result.returncode == 2 and "Needs attention (exit 2): nothing_fetched" in result.log


def test_a_state_of_the_previous_schema_is_migrated(tmp_path: Path, site_server):
    out = tmp_path / "out"
    out.mkdir()
    run(tmp_path / "fresh", site_server, "-a", "tag=nvidia")  # the articles, exported under the previous schema below
    lines = (tmp_path / "fresh/out/items.jsonl").read_bytes()
    (out / "items.jsonl").write_bytes(lines)
    with sqlite3.connect(out / "state.sqlite") as db:
        db.executescript("""
            CREATE TABLE articles (site TEXT NOT NULL, article_id TEXT NOT NULL, content_hash TEXT NOT NULL,
                revision INTEGER NOT NULL, fetched_at REAL NOT NULL, PRIMARY KEY (site, article_id));
            CREATE TABLE walks (site TEXT NOT NULL, listing_url TEXT NOT NULL, clean INTEGER NOT NULL,
                PRIMARY KEY (site, listing_url));
            CREATE TABLE journals (path TEXT PRIMARY KEY, committed_offset INTEGER NOT NULL);""")
        db.execute("INSERT INTO walks VALUES ('mydrivers', 'https://news.mydrivers.com/tag/nvidia.htm', 0)")
        db.execute("INSERT INTO journals VALUES (?, 0)", (str((out / "items.jsonl").resolve()),))
    migrated = run(tmp_path, site_server, "-a", "tag=nvidia")
    assert migrated.returncode == 0, migrated.log[-3000:]
    assert "The crawl state was upgraded: 2 journal line(s) read again" in migrated.log and len(migrated.items) == 2
    assert "newscrawl/journal/recovered_lines" not in migrated.stats  # an upgrade, not a crash's repair
    assert migrated.stats["newscrawl/listing/pages"] == 2  # the unclean walk was walked to its end again
    with sqlite3.connect(out / "state.sqlite") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a database at all" * 100, "is not a usable crawl state"),
        (None, "is a SQLite file but not a crawl state"),
    ],
)
def test_an_unusable_state_is_refused_in_one_line(tmp_path: Path, site_server, content, message):
    out = tmp_path / "out"
    out.mkdir()
    if content is None:
        with sqlite3.connect(out / "state.sqlite") as db:
            db.execute("CREATE TABLE other (x)")
    else:
        (out / "state.sqlite").write_bytes(content)
    result = run(tmp_path, site_server, "-a", "tag=laika")
    assert_one_line_error(result, "")
    assert message in result.log


def test_a_newer_state_schema_is_refused(tmp_path: Path, site_server):
    (tmp_path / "out").mkdir()
    with sqlite3.connect(tmp_path / "out/state.sqlite") as db:
        db.execute("PRAGMA user_version = 99")
    result = run(tmp_path, site_server, "-a", "tag=laika")
    assert_one_line_error(result, "")
    assert "was written by a newer newscrawl (state schema 99" in result.log


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        (
            "NEWSCRAWL_OFFLINE_ROOT",
            "http://192.0.2.1:80",
            "NEWSCRAWL_OFFLINE_ROOT must be an http:// URL on a loopback address",
        ),
        ("NEWSCRAWL_POST_FILENAME", "{title}.md", "NEWSCRAWL_POST_FILENAME must contain {article_id}"),
        (
            "NEWSCRAWL_POST_FILENAME",
            "{nope}-{article_id}.md",
            "NEWSCRAWL_POST_FILENAME '{nope}-{article_id}.md' is not a pattern",
        ),
        ("NEWSCRAWL_FRONTMATTER_DATES", "local-ish", "NEWSCRAWL_FRONTMATTER_DATES must be one of utc, local, archive"),
        (
            "NEWSCRAWL_JSONL",
            "out/%(nmae)s.jsonl",
            "NEWSCRAWL_JSONL 'out/%(nmae)s.jsonl' may use %(name)s and %(worker)s only",
        ),
    ],
)
def test_bad_settings_are_refused_at_start(tmp_path: Path, site_server, setting, value, message):
    result = run(tmp_path, site_server, "-a", "tag=laika", settings={setting: value})
    assert_one_line_error(result, message)
    assert not (tmp_path / "out/items.jsonl").exists()


def test_unknown_arguments_and_spiders_are_named(tmp_path: Path, site_server):
    result = run(tmp_path, site_server, "-a", "tag=laika", "-a", "max_page=2")
    assert_one_line_error(result, "unknown spider argument(s) max_page; known: tag (")
    assert "max_pages (" in result.log
    unknown = run(tmp_path, site_server, "-a", "tag=laika", spider="mydriver")
    assert_one_line_error(unknown, "no spider 'mydriver' (known: cnbeta, generic, mydrivers, oschina)")


# 8. Files readable as the umask says ---------------------------------------------------------------


@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o027, 0o640)])
def test_posts_journal_and_summary_follow_the_umask(tmp_path: Path, site_server, umask, expected):
    out = tmp_path / "out"
    out.mkdir()
    args = crawl_command(out, site_server, "-a", "tag=laika", incremental=True)
    done = subprocess.run(
        args, cwd=REPO, capture_output=True, text=True, timeout=120, preexec_fn=lambda: os.umask(umask)
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert mode(out / "posts/mydrivers/833153.md") == expected
    assert mode(out / "items.jsonl") == expected and mode(out / "summary.json") == expected


# 9. Spiders sharing one journal --------------------------------------------------------------------


def test_a_journal_shared_by_two_spiders_is_refused(tmp_path: Path):
    server = Server(sorted(FIXTURES.glob("*/site")))
    try:
        journal = tmp_path / "shared.jsonl"
        first = run(tmp_path / "a", server, "-a", "tag=laika", settings={"NEWSCRAWL_JSONL": str(journal)})
        assert first.returncode == 0 and journal_lines(journal) == 1
        second = run(tmp_path / "b", server, "-a", "tag=9", spider="cnbeta", settings={"NEWSCRAWL_JSONL": str(journal)})
    finally:
        server.stop()
    assert_one_line_error(second, f"{journal} holds lines of site 'mydrivers', not 'cnbeta'")
    assert journal_lines(journal) == 1


def test_a_journal_held_by_a_running_crawl_is_refused(tmp_path: Path, site_server):
    from newscrawl.state.journal import Journal

    journal = Journal(tmp_path / "held.jsonl")  # another spider's run, writing it now
    try:
        result = run(
            tmp_path, site_server, "-a", "tag=laika", settings={"NEWSCRAWL_JSONL": str(tmp_path / "held.jsonl")}
        )
    finally:
        journal.close()
    assert_one_line_error(result, f"another crawl is writing the journal {tmp_path / 'held.jsonl'}")


# 10. Distributed: claims never re-granted while young; temporaries found whatever the host ---------


def test_a_young_claim_is_not_granted_again_even_to_its_holder(redis_server):
    from newscrawl.state.redis import RedisState

    w1, w2 = RedisState(redis_server, "mydrivers", "w1", 600), RedisState(redis_server, "mydrivers", "w2", 600)
    assert w2.claim("781034")
    w1.take_over_claim("781034")  # w1 pops w2's request and downloads it
    assert not w1.claim("781034")  # w1 meets the article again on a listing page: no second request
    assert not w2.claim("781034")
    db = redis.Redis.from_url(redis_server, decode_responses=True)
    db.hset("newscrawl:mydrivers:claims", "781034", "w1|1.0")  # a claim from long ago
    assert w2.claim("781034")


def test_temporaries_from_another_host_name_are_removed(tmp_path: Path, site_server):
    posts = tmp_path / "out/posts/mydrivers"
    posts.mkdir(parents=True)
    (posts / ".tmp-container-1f3a9-x8k2.part").write_text("half a post")
    result = run(tmp_path, site_server, "-a", "tag=laika", settings={"NEWSCRAWL_WORKER": "container-77aa0"})
    assert result.returncode == 0 and result.stats["newscrawl/posts/stale_temporaries"] == 1
    assert sorted(p.name for p in posts.iterdir()) == ["833153.md"]


# 11. Bounds -------------------------------------------------------------------------------------


def test_a_listing_page_with_too_many_links_is_capped_and_counted(tmp_path: Path, site_copy):
    root, server = site_copy
    links = "".join(
        f'<li><h3><a href="https://news.mydrivers.com/1/900/{900000 + i}.htm">{i}</a></h3></li>\n' for i in range(2000)
    )
    (root / "tag/flood.htm").write_text(
        f'<html><body><ul id="newsleft_1">\n{links}</ul></body></html>', encoding="utf-8"
    )
    result = run_crawl(tmp_path, server, "-a", "tag=flood", settings={"NEWSCRAWL_MAX_LINKS_PER_PAGE": "50"})
    assert result.stats["newscrawl/listing/links_capped"] == 1
    assert result.stats["newscrawl/article/requested"] == 50
    assert "has 2000 article links: only the first 50" in result.log


def test_an_article_nested_too_deep_is_dropped_not_truncated(tmp_path: Path, site_copy):
    root, server = site_copy
    page = root / "1/833/833153.htm"
    text = page.read_text(encoding="utf-8")
    cut = text.index("<p>雷军还直言")
    page.write_text(text[:cut] + "<div>" * 10_000 + "<p>深处</p>" + "</div>" * 10_000 + text[cut:], encoding="utf-8")
    result = run_crawl(tmp_path, server, "-a", "tag=laika")
    assert result.items == [] and result.stats["newscrawl/dropped/too_deep"] == 1
    assert "Dropped too_deep: https://news.mydrivers.com/1/833/833153.htm" in result.log


def test_bidi_controls_leave_titles_and_file_names(tmp_path: Path, site_copy):
    root, server = site_copy
    page = root / "1/833/833153.htm"
    title = "小米首款徕卡旗舰7月发！雷军晒刚入手的徕卡M11/Q2相机"
    page.write_text(
        page.read_text(encoding="utf-8").replace(title, "小米\u202egpj.exe\u202c新品\u2066发布\u2069"), encoding="utf-8"
    )
    result = run_crawl(
        tmp_path, server, "-a", "tag=laika", settings={"NEWSCRAWL_POST_FILENAME": "{title}-{article_id}.md"}
    )
    assert result.items[0]["title"] == "小米gpj.exe新品发布"
    assert list(result.posts) == ["小米gpj.exe新品发布-833153.md"]
