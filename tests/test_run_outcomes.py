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
from newscrawl.state.sqlite import StateLock


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


def test_a_run_that_cannot_start_replaces_the_last_summary_and_records_exit_1(tmp_path: Path, site_server):
    out = tmp_path / "out"
    assert run_crawl(tmp_path, site_server, "-a", "tag=laika", incremental=True).returncode == 0
    assert summary(out)["exit_code"] == 0
    lock = StateLock(out / "state.sqlite")
    lock.acquire()  # a run in progress
    try:
        refused = run_crawl(tmp_path, site_server, "-a", "tag=laika", incremental=True)
    finally:
        lock.release()
    assert refused.returncode == 1 and "cron overlap" in refused.log
    assert (summary(out)["finish_reason"], summary(out)["exit_code"]) == ("cannot_start", 1)
    assert "cron overlap" in summary(out)["error"]
    runs = [json.loads(line) for line in (out / "runs.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [run["exit_code"] for run in runs] == [0, 1]


@pytest.fixture
def full_disk(tmp_path: Path):
    if not can_mount_tmpfs(tmp_path / "probe"):
        pytest.skip("mounting a tmpfs (a small disk to fill) needs root; CI runs as root")
    with tmpfs(tmp_path / "disk", 256) as disk:
        yield disk


def test_a_summary_that_cannot_be_written_is_exit_2_and_no_stale_summary_is_left(tmp_path: Path, site_server, full_disk):
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
    added = [json.loads(line) for line in now[len(history):].splitlines()]  # a line that fit in the last page
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
    done = subprocess.run(crawl_command(out, site_server, "-a", "tag=laika", incremental=True), cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert target.read_text(encoding="utf-8") == "not yours\n"
    assert "is a symbolic link: refused, not followed" in done.stderr, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert done.returncode == (2 if name == "runs.jsonl" else 1)
