"""A crawl by several processes over one SQLite state (`-s NEWSCRAWL_PROCESSES=K`), end to end against
the bundled site on 127.0.0.1: every article once across the processes' journals, whatever K from
one run to the next, a killed process, an interrupt, or a rebuilt state."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, crawl_command
from faults import crawl_killed_at, journal_lines, journals_of, wait_for, wait_until_unlocked
from scrapy.settings import Settings

from newscrawl.exit_codes import CannotStart
from newscrawl.run import processes
from newscrawl.state.sqlite import StateLock

ALL_TAGS = "tag=xiaomi12_ultra,xiaomi,laika,windows_11,windowscaozuoxitong,nvidia,intel,amd,youxi,dianyuan"
ARTICLES = 16  # the bundled site's articles under ALL_TAGS


def exported(out: Path) -> list[str]:
    """Every article id in every journal of the state (the run alone's and its processes')."""
    return [
        json.loads(line)["article_id"]
        for journal in journals_of(out)
        for line in journal.read_text(encoding="utf-8").splitlines()
    ]


def args_for(out: Path, server, processes: int, *spider_args: str, **settings: str) -> list[str]:
    """The scheduled crawl of `spider_args` (every tag of the bundled site by default) by `processes`."""
    return crawl_command(
        out,
        server,
        *(spider_args or ("-a", ALL_TAGS)),
        incremental=True,
        settings={"NEWSCRAWL_PROCESSES": str(processes), **settings},
    )


def crawl(out: Path, server, processes: int, *spider_args: str, **settings: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        args_for(out, server, processes, *spider_args, **settings),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_two_processes_crawl_each_article_once_and_any_k_goes_on_from_there(tmp_path: Path, site_server):
    out = tmp_path / "out"
    out.mkdir()
    first = crawl(out, site_server, 2)
    assert first.returncode == 0, first.stderr[-3000:]
    p1, p2 = (
        [json.loads(line)["article_id"] for line in (out / f"items.{name}.jsonl").read_text().splitlines()]
        for name in ("p1", "p2")
    )
    assert p1 and p2, f"each process has a share: p1 {p1}, p2 {p2}"
    assert sorted(p1 + p2) == sorted(set(p1 + p2)) and len(p1 + p2) == ARTICLES
    assert sorted(path.stem for path in (out / "posts/mydrivers").glob("*.md")) == sorted(p1 + p2)
    for name in ("p1", "p2"):
        summary = json.loads((out / f"summary.{name}.json").read_text())
        assert summary["stats"]["item_scraped_count"] == len(p1 if name == "p1" else p2)
    feed = (out / "feeds/mydrivers.xml").read_text(encoding="utf-8")
    assert all(f"/{article_id}.htm" in feed for article_id in p1 + p2)  # the last writer saw every process' articles
    assert "[p2] " in first.stderr and "Processes ended with exit codes 0, 0: 0" in first.stderr

    again = crawl(out, site_server, 2)
    assert again.returncode == 0 and len(exported(out)) == ARTICLES
    alone = crawl(out, site_server, 1)  # the run alone reads the processes' journals: nothing is new
    assert alone.returncode == 0 and len(exported(out)) == ARTICLES
    for leftover in out.glob("state.sqlite*"):
        if not leftover.name.endswith(".lock"):
            leftover.unlink()
    rebuilt = crawl(out, site_server, 3)  # p1 rebuilds the state from all three journals before p2, p3 start
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert f"Rebuilt the crawl state from {ARTICLES} journal line(s)" in rebuilt.stderr
    assert sorted(exported(out)) == sorted(set(p1 + p2))


def test_processes_killed_mid_commit_and_a_different_k_lose_nothing_and_export_nothing_twice(
    tmp_path: Path, site_server
):
    """Every process SIGKILLs itself at its 2nd article, after its journal line and before the state
    records it; p1 is the launcher, so the run dies under p2, which holds the state's lock until it dies
    too. The run alone that follows records what both journals hold unrecorded and finishes the rest."""
    out = tmp_path / "out"
    out.mkdir()
    crawl_killed_at(args_for(out, site_server, 2, DOWNLOAD_DELAY="0.1"), "before-state-record:2", REPO)  # p1: -9
    deadline = time.monotonic() + 120
    while True:  # p2 holds the lock until its own crash point kills it
        rerun = crawl(out, site_server, 1)
        if rerun.returncode != 1 or time.monotonic() > deadline:
            break
        assert "another crawl is running" in rerun.stderr, rerun.stderr[-2000:]
        time.sleep(0.2)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert journal_lines(out / "items.p1.jsonl") >= 2 and journal_lines(out / "items.p2.jsonl") >= 2
    assert "journal line(s) a crash left unrecorded" in rerun.stderr
    ids = exported(out)
    assert sorted(ids) == sorted(set(ids)) and len(ids) == ARTICLES
    assert len(list((out / "posts/mydrivers").glob("*.md"))) == ARTICLES
    assert not list((out / "posts/mydrivers").glob(".tmp-*"))


def test_an_interrupt_reaches_every_process_and_the_state_is_held_until_they_end(tmp_path: Path, site_server):
    out = tmp_path / "out"
    out.mkdir()
    args = args_for(out, site_server, 2, DOWNLOAD_DELAY="0.3")
    launcher = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: journal_lines(out / "items.p2.jsonl") >= 1, launcher, timeout=90), "p2 made no progress"
        overlap = crawl(out, site_server, 1)
        assert overlap.returncode == 1 and "another crawl is running" in overlap.stderr
        launcher.send_signal(signal.SIGINT)
        log = launcher.communicate(timeout=90)[1]
    finally:
        launcher.kill()
    assert launcher.returncode in (0, 2), log[-3000:]
    for name in ("p1", "p2"):  # each stopped gracefully: the interrupt was passed on to p2
        assert json.loads((out / f"summary.{name}.json").read_text())["finish_reason"] == "shutdown", (
            name,
            log[-5000:],
        )
    assert len(exported(out)) < ARTICLES, "the interrupt came after the crawl's end: it proved nothing"
    finish = crawl(out, site_server, 2)
    assert finish.returncode == 0, finish.stderr[-3000:]
    ids = exported(out)
    assert sorted(ids) == sorted(set(ids)) and len(ids) == ARTICLES


def test_what_several_processes_cannot_do_is_refused_in_one_line(tmp_path: Path, site_server):
    out = tmp_path / "out"
    out.mkdir()
    one_off = crawl_command(out, site_server, "-a", "tag=xiaomi12_ultra", settings={"NEWSCRAWL_PROCESSES": "2"})
    done = subprocess.run(one_off, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Cannot start: a one-off export (-o/-O) runs as one process" in done.stderr
    assert "Traceback" not in done.stderr and not (out / "items.jsonl").exists()
    for bad in ("0", "two"):
        refused = crawl(out, site_server, bad)  # type: ignore[arg-type]
        assert refused.returncode == 1 and "NEWSCRAWL_PROCESSES must be a whole number" in refused.stderr
    assert not exported(out)


def test_a_rebuilt_state_keeps_each_post_at_the_latest_revision_whichever_journal_is_read_first(
    tmp_path: Path, site_copy
):
    """848601 is p1's (of 2): its revision 2 is in p1's journal, its revision 1 in the run alone's. p1
    rebuilding the state reads its own journal first; the older line read after must not put the older
    post back."""
    from newscrawl.shares import Share

    assert Share(1, 2).owns("848601") and not Share(1, 2).owns("833153")
    root, server = site_copy
    out = tmp_path / "out"
    out.mkdir()

    def run(processes: int, *extra: str) -> subprocess.CompletedProcess:
        done = crawl(out, server, processes, "-a", "tag=xiaomi12_ultra", *extra)
        assert done.returncode == 0, done.stderr[-3000:]
        return done

    run(1)
    page = root / "1/848/848601.htm"
    page.write_text(
        page.read_text(encoding="utf-8").replace("小米自研新技术落地", "小米自研新技术再落地"), encoding="utf-8"
    )
    run(2, "-a", "refresh=1")
    newer = [json.loads(line) for line in (out / "items.p1.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(item["article_id"], item["revision"]) for item in newer] == [("848601", 2)]
    for leftover in out.glob("state.sqlite*"):
        if not leftover.name.endswith(".lock"):
            leftover.unlink()
    (out / "posts/mydrivers/848601.md").unlink()  # a post the rebuild must write back, at revision 2
    rebuilt = run(2)
    assert "Rebuilt the crawl state from 3 journal line(s)" in rebuilt.stderr
    post = (out / "posts/mydrivers/848601.md").read_text(encoding="utf-8")
    assert "小米自研新技术再落地" in post, post[:400]
    assert len(exported(out)) == 3  # nothing exported again


def test_a_second_interrupt_forces_every_process_and_the_next_run_finishes(tmp_path: Path, site_copy):
    """Ctrl-C twice while each process waits on a stalled article page of its share: the first is
    passed on and each starts closing; the second forces each to stop (exit 2, `forced_shutdown`)."""
    from synthetic_site import big_tag

    from newscrawl.shares import Share

    root, server = site_copy
    ids = big_tag(root, "many", 30)
    stalled = [next(i for i in ids[5:] if Share(index, 2).owns(i)) for index in (1, 2)]
    for article_id in stalled:
        (root / f"1/{int(article_id) // 1000}/{article_id}.htm.fault").write_text('{"stall": 60}')
    out = tmp_path / "out"
    out.mkdir()
    args = args_for(out, server, 2, "-a", "tag=many", DOWNLOAD_TIMEOUT="90")
    launcher = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        progress = lambda: all(journal_lines(out / f"items.{name}.jsonl") >= 3 for name in ("p1", "p2"))  # noqa: E731
        assert wait_for(progress, launcher, timeout=90), "the processes made no progress"
        launcher.send_signal(signal.SIGINT)
        assert not wait_for(lambda: False, launcher, timeout=1) and launcher.poll() is None  # the stalls hold it
        launcher.send_signal(signal.SIGINT)
        log = launcher.communicate(timeout=60)[1]
    finally:
        launcher.kill()
    assert launcher.returncode == 2, log[-3000:]
    for name in ("p1", "p2"):
        summary = json.loads((out / f"summary.{name}.json").read_text())
        assert (summary["finish_reason"], summary["exit_code"]) == ("forced_shutdown", 2), name
    for article_id in stalled:
        (root / f"1/{int(article_id) // 1000}/{article_id}.htm.fault").unlink()
    finish = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert finish.returncode == 0, finish.stderr[-3000:]
    assert sorted(exported(out)) == sorted(ids)  # each once


def test_journals_rotated_after_a_kill_are_read_by_the_next_run_whatever_its_k(tmp_path: Path, site_server):
    """Found by the operations model: both processes killed after a journal line the state did not record,
    then every journal rotated (mv to .1); the run alone that follows has no p1 or p2 journal file, and
    must still read their rotated files, or it exports those articles a second time."""
    out = tmp_path / "out"
    out.mkdir()
    crawl_killed_at(args_for(out, site_server, 2), "before-state-record:1", REPO)
    wait_until_unlocked(out / "state.sqlite")  # p2 dies at its own first article
    unrecorded = exported(out)
    assert journal_lines(out / "items.p1.jsonl") and journal_lines(out / "items.p2.jsonl")
    for journal in out.glob("items*.jsonl"):
        journal.rename(journal.with_name(journal.name + ".1"))
    alone = crawl(out, site_server, 1)
    assert alone.returncode == 0, alone.stderr[-3000:]
    assert f"Recovered {len(unrecorded)} journal line(s) a crash left unrecorded" in alone.stderr
    ids = [
        json.loads(line)["article_id"]
        for journal in sorted(out.glob("items*.jsonl*"))
        for line in journal.read_text(encoding="utf-8").splitlines()
    ]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == ARTICLES


def test_a_process_the_system_will_not_start_stops_the_others_and_lets_the_state_go(tmp_path: Path, monkeypatch):
    """Starting p3 fails (no such program): one line, p2 ends without crawling, and the state's lock is
    free for the next run."""
    state = tmp_path / "state.sqlite"
    settings = Settings({"NEWSCRAWL_JSONL": str(tmp_path / "items.jsonl"), "NEWSCRAWL_STATE": str(state)})
    started = tmp_path / "p2.pid"
    p2 = (
        "import os, sys; open(sys.argv[2], 'w').write(str(os.getpid())); "
        "sys.exit(0 if os.read(int(sys.argv[1]), 3) == b'go\\n' else 7)"
    )

    def command_line(overrides: dict[str, str]) -> list[str]:
        if overrides["NEWSCRAWL_PROCESS_SHARE"] == "2/3":
            return [sys.executable, "-c", p2, overrides["NEWSCRAWL_WAIT_FD"], str(started)]
        return [str(tmp_path / "no-such-python")]

    monkeypatch.setattr(processes, "command_line", command_line)
    launcher = processes.Launcher(settings, "mydrivers", 3)
    with pytest.raises(CannotStart, match=r"process p3 of 3 could not be started \(.*No such file"):
        launcher.start_others()
    pid = int(started.read_text())  # p2 did start, and has ended (reaped: no such process)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not launcher.children
    lock = StateLock(state)
    lock.acquire()  # StateUnusable if the launcher still held it
    lock.release()


def test_processes_written_01_is_one_process_alone(tmp_path: Path, site_server):
    """NEWSCRAWL_PROCESSES=01 is the number 1: the run is alone, with the journal of a run alone."""
    out = tmp_path / "out"
    done = crawl(out, site_server, "01", "-a", "tag=xiaomi12_ultra")  # type: ignore[arg-type]
    assert done.returncode == 0, done.stderr[-2000:]
    assert [path.name for path in journals_of(out)] == ["items.jsonl"]
    assert "Crawling with" not in done.stderr


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"NEWSCRAWL_PROCESSES": "1"}, False),
        ({"NEWSCRAWL_PROCESSES": 1}, False),
        ({"NEWSCRAWL_PROCESSES": " 01 "}, False),
        ({"NEWSCRAWL_PROCESSES": "2"}, True),
        ({"NEWSCRAWL_PROCESSES": "two"}, True),  # refused by the add-on's check, in the launcher's path
        ({"NEWSCRAWL_PROCESSES": "2", "NEWSCRAWL_PROCESS_SHARE": "2/2"}, False),  # already one of several
    ],
)
def test_which_commands_start_several_processes(settings: dict, expected: bool):
    assert processes.several(Settings(settings)) is expected
