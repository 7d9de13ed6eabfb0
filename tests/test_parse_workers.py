"""Article pages parsed in worker processes (newscrawl/parse_workers.py): same items as inline, drops
counted the same, workers gone with the crawl however it ends, a dead worker costs only its pages."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from conftest import REPO, crawl_command, read_output, run_crawl

ALL_TAGS = "tag=xiaomi12_ultra,xiaomi,laika,windows_11,windowscaozuoxitong,nvidia,intel,amd,youxi,dianyuan"


def _without_fetch_time(items: list[dict]) -> list[dict]:
    return sorted(({k: v for k, v in item.items() if k != "fetched_at"} for item in items), key=lambda i: i["id"])


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_workers_and_inline_give_the_same_items_and_drops(tmp_path: Path, site_copy):
    root, server = site_copy
    no_body = root / "1/848/848601.htm"
    no_body.write_text(no_body.read_text(encoding="utf-8").replace('class="news_info"', 'class="x"'), encoding="utf-8")
    runs = {}
    for processes in ("0", "2"):
        runs[processes] = run_crawl(tmp_path / processes, server, "-a", ALL_TAGS,
                                    settings={"NEWSCRAWL_PARSE_PROCESSES": processes})
    inline, workers = runs["0"], runs["2"]
    assert len(inline.items) == 15 and inline.stats["newscrawl/dropped/missing_body"] == 1
    assert _without_fetch_time(workers.items) == _without_fetch_time(inline.items)
    assert workers.posts == inline.posts
    assert workers.stats["newscrawl/dropped/missing_body"] == 1
    assert workers.log.count("Dropped missing_body: https://news.mydrivers.com/1/848/848601.htm") == 1


def test_workers_exit_when_the_crawl_is_killed(tmp_path: Path, site_server):
    """SIGKILL leaves no chance to stop them: they watch for their parent and go."""
    out = tmp_path / "out"
    args = crawl_command(out, site_server, "-a", ALL_TAGS, settings={"NEWSCRAWL_PARSE_PROCESSES": "2"}, incremental=True)
    # Slow the crawl so it is still running when the workers exist.
    args += ["-s", "DOWNLOAD_DELAY=0.3", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
    crawl = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while time.monotonic() < deadline and len(workers) < 2:
            workers = {pid for pid in _children(crawl.pid)
                       if b"multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes()}
            time.sleep(0.1)
        assert len(workers) >= 2, "the parse workers never started"
        os.kill(crawl.pid, signal.SIGKILL)
        crawl.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in workers), "parse workers outlived the killed crawl"
    finally:
        if crawl.poll() is None:
            crawl.kill()


def test_a_worker_that_dies_costs_only_its_pages_and_the_rerun_fetches_them(tmp_path: Path, site_server):
    out = tmp_path / "out"
    args = crawl_command(out, site_server, "-a", ALL_TAGS, settings={"NEWSCRAWL_PARSE_PROCESSES": "1"}, incremental=True)
    first = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120,
                           env={**os.environ, "NEWSCRAWL_CRASH_AT": "parse-worker:3"})  # each worker dies on its 3rd page
    result = read_output(out, "mydrivers", first.returncode, first.stderr)
    died = result.stats["newscrawl/parse_workers/died"]
    assert died >= 1 and len(result.items) + died == 16, result.log[-3000:]
    assert "A parse worker died; starting a new one" in result.log
    exported = {item["article_id"] for item in result.items}
    assert len(exported) == len(result.items)

    rerun = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120)
    again = read_output(out, "mydrivers", rerun.returncode, rerun.stderr)
    assert rerun.returncode == 0, again.log[-3000:]
    ids = [item["article_id"] for item in again.items]  # the journal: both runs' lines
    assert len(ids) == len(set(ids)) == 16
