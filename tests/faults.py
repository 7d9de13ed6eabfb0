"""Real faults for the scheduled-run tests and the fault campaign: a small disk that fills, a state file
another process holds locked, a kill when the crawl shows progress — each triggered by what the crawl
has visibly done (journal lines on disk), never by a timer, and each reporting whether it landed."""

from __future__ import annotations

import argparse
import errno
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def crawl_killed_at(args: list[str], crash_at: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run the crawl `args` with the crash point `crash_at` armed (newscrawl.dev.crash_points); asserts the kill landed."""
    killed = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=120, env={**os.environ, "NEWSCRAWL_CRASH_AT": crash_at}
    )
    assert killed.returncode == -9, f"no SIGKILL at {crash_at}: {killed.stderr[-2000:]}"
    return killed


def crawl_to_the_end(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run the crawl `args` without faults; asserts it ended well (exit 0)."""
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def journal_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def wait_for(condition, process: subprocess.Popen | None, timeout: float = 60) -> bool:
    """Poll `condition` until it holds (True) or the process ends or time runs out (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if process is not None and process.poll() is not None:
            return bool(condition())
        time.sleep(0.005)
    return False


@contextmanager
def tmpfs(folder: Path, size_kib: int) -> Iterator[Path]:
    """A real tmpfs of `size_kib` mounted at `folder` (needs root; CI runs as root)."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k,mode=0755", "tmpfs", str(folder)],
        check=True,
        capture_output=True,
    )
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, capture_output=True)


def can_mount_tmpfs(scratch: Path) -> bool:
    probe = scratch / "tmpfs-probe"
    try:
        with tmpfs(probe, 64):
            return True
    except (subprocess.CalledProcessError, FileNotFoundError):
        return False


def fill_disk(folder: Path) -> Path:
    """Write a filler file in `folder` until the file system is full, down to the last byte; returns it
    (delete it to free the space)."""
    filler = folder / "filler.bin"
    with open(filler, "wb", buffering=0) as stream:
        for size in (1 << 20, 1 << 16, 4096, 512, 64, 1):
            try:
                while True:
                    stream.write(b"\0" * size)
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
    return filler


class Watcher(threading.Thread):
    """Does `act()` once `journal` holds at least `lines` lines, while `process` runs. `landed` says
    whether the action happened while the crawl was still running."""

    def __init__(self, process: subprocess.Popen, journal: Path, lines: int, act) -> None:
        super().__init__(daemon=True)
        self.process, self.journal, self.lines, self.act = process, journal, lines, act
        self.landed = False

    def run(self) -> None:
        if wait_for(lambda: journal_lines(self.journal) >= self.lines, self.process) and self.process.poll() is None:
            self.act()
            self.landed = True


def wait_until_unlocked(state: Path, timeout: float = 120) -> None:
    """Wait until no process holds the crawl state's lock: the processes of a crawl by several outlive
    a launcher that was killed, and hold the lock until they end."""
    import fcntl

    lock = state.with_name(state.name + ".lock")
    deadline = time.monotonic() + timeout
    while lock.exists():
        with lock.open("rb") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass
        assert time.monotonic() < deadline, f"{state} still locked after {timeout} s"
        time.sleep(0.05)


def hold_write_lock(state: Path, seconds: float) -> None:
    """Another process's write transaction on the state file for `seconds` (a backup, a sqlite3 shell)."""
    db = sqlite3.connect(state, timeout=10, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    time.sleep(seconds)
    db.execute("ROLLBACK")
    db.close()


def check_invariants(out: Path, site: str = "mydrivers", journals: list[Path] | None = None) -> list[str]:
    """Each revision of an article exactly once across the journal(s) (revisions 1, 2, … without a gap:
    an update only when its content changed, such as an image that arrived late) and each article as a
    post, no torn line, no temporary file, the state agreeing with both, nothing pending, each line's
    story the one the story index holds for its article. Returns the article ids."""
    revisions: list[tuple[str, int]] = []
    lines: list[dict] = []
    for journal in journals or [out / "items.jsonl"]:
        data = journal.read_bytes() if journal.exists() else b""
        assert not data or data.endswith(b"\n"), f"{journal.name} ends with a torn line"
        for number, line in enumerate(data.splitlines(), start=1):
            try:
                item = json.loads(line)
            except ValueError:
                raise AssertionError(f"{journal.name} line {number} is not JSON: {line[:80]!r}") from None
            revisions.append((item["article_id"], item["revision"]))
            lines.append(item)
    twice = sorted({r for r in revisions if revisions.count(r) > 1})
    assert not twice, f"duplicated in the journal: {twice}"
    latest: dict[str, int] = {}
    for article_id, revision in revisions:
        latest[article_id] = max(latest.get(article_id, 0), revision)
    gaps = sorted(
        i for i, top in latest.items() if sorted(r for a, r in revisions if a == i) != list(range(1, top + 1))
    )
    assert not gaps, f"revisions with a gap or not from 1: {gaps}"
    ids = sorted(latest)
    posts = sorted(path.name for path in (out / "posts" / site).iterdir())
    assert posts == [f"{i}.md" for i in sorted(ids, key=lambda i: f"{i}.md")], (
        f"posts and journal disagree (or a temporary was left): {posts}"
    )
    with sqlite3.connect(out / "state.sqlite") as db:
        known = dict(db.execute("SELECT article_id, revision FROM articles"))
        pending = (
            db.execute("SELECT count(*) FROM pending_articles").fetchone()[0]
            + db.execute("SELECT count(*) FROM pending_listings").fetchone()[0]
        )
    assert known == latest, "the state disagrees with the journal"
    assert pending == 0, f"{pending} pending entries left after the runs without faults"
    check_stories(out, lines)
    return ids


def check_stories(out: Path, lines: list[dict]) -> None:
    """Each journal line in the story the story index beside the state (if any) gave its article."""
    if not (out / "stories.sqlite").exists():
        return
    with sqlite3.connect(out / "stories.sqlite") as db:
        indexed = dict(db.execute("SELECT id, story FROM story_articles"))
    wrong = sorted({line["id"] for line in lines if line.get("story") != indexed.get(line["id"])})
    assert not wrong, f"journal lines whose story is not the index's: {wrong}"


def check_mirrored(store: Path, out: Path, site: str = "mydrivers") -> int:
    """Every image file of every article's latest revision is stored (the faults are over), whole: its
    bytes hash to its name and checksum; every local image URL of a post names a stored file. Returns
    how many files the articles name."""
    import hashlib
    import re

    latest: dict[str, dict] = {}
    lines = [line for journal in journals_of(out) for line in journal.read_text(encoding="utf-8").splitlines()]
    for line in lines:
        item = json.loads(line)
        if item["revision"] >= latest.get(item["article_id"], {}).get("revision", 0):
            latest[item["article_id"]] = item
    named = set()
    for item in latest.values():
        for image in item["images"]:
            for record in (image["file"], image["thumbnail_file"]):
                if record is None:
                    continue
                assert record["status"] == "stored", f"{item['article_id']}: {image['url']} {record}"
                data = (store / record["path"]).read_bytes()
                assert hashlib.sha256(data).hexdigest() == record["checksum"] == Path(record["path"]).stem
                named.add(record["path"])
    for post in (out / "posts" / site).iterdir():
        for path in re.findall(
            r'(?:src|href|headimg: |thumbnail: )["\']?/images/([0-9a-f]{2}/[0-9a-f]{64}\.\w+)', post.read_text()
        ):
            assert (store / path).is_file(), f"{post.name} points at a missing file {path}"
    return len(named)


def mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777


def journals_of(out: Path) -> list[Path]:
    """The journals of the crawl state in `out`: the run alone's and those of the processes of crawls by
    several (`items.p2.jsonl`)."""
    return sorted(path for path in out.glob("items*.jsonl") if path.name == "items.jsonl" or ".p" in path.name)


def check_captured(warc: Path, journals: list[Path]) -> None:
    """Every article of the journals has a 200 response in a finished WARC file, every finished file reads
    whole with warcio (no torn record), and no unfinished (.open) file is left."""
    from warcio.archiveiterator import ArchiveIterator

    assert not list(warc.glob("*.warc.gz.open")), f"unfinished WARC files left: {list(warc.glob('*.open'))}"
    captured = set()
    for path in sorted(warc.glob("*.warc.gz")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream, check_digests="raise"):  # a wrong digest raises
                record.content_stream().read()
                if record.rec_type == "response" and record.http_headers.get_statuscode() == "200":
                    captured.add(record.rec_headers.get_header("WARC-Target-URI"))
    urls = [
        json.loads(line)["url"] for journal in journals for line in journal.read_text(encoding="utf-8").splitlines()
    ]
    missing = sorted(set(urls) - captured)
    assert not missing, f"articles in the journal without a captured response: {missing}"


def campaign_cli(
    description: str,
    default_schedules: int,
    run: Callable[[int, Path], Any],
    line: Callable[[Any], str],
    summary: Callable[[list[Any]], str],
) -> None:
    """The command line of a seeded campaign: --schedules N --seed S, one line a schedule as it ends, a
    summary, and the plain 'N passed, N failed' closing line; exit 1 when any schedule failed (its `error`)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--schedules", type=int, default=default_schedules)
    parser.add_argument("--seed", type=int, default=1, help="first seed; schedule i uses seed + i")
    args = parser.parse_args()
    started = time.monotonic()
    outcomes = []
    with tempfile.TemporaryDirectory() as scratch:
        for i in range(args.schedules):
            outcomes.append(run(args.seed + i, Path(scratch)))
            print(line(outcomes[-1]) + (f", FAILED: {outcomes[-1].error}" if outcomes[-1].error else ""), flush=True)
    failed = [outcome for outcome in outcomes if outcome.error]
    print(f"\n{summary(outcomes)}; {len(failed)} failed; {time.monotonic() - started:.0f} s")
    print(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


def replace_by_copy(path: Path, data: bytes | None = None) -> None:
    """`path` becomes another file (another inode) holding `data`, or the bytes it held: a restore from a
    backup, a move to another disk."""
    inode = path.stat().st_ino
    copy = path.with_name(path.name + ".restoring")
    copy.write_bytes(path.read_bytes() if data is None else data)
    os.replace(copy, path)
    assert path.stat().st_ino != inode
