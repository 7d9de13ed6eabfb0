"""A crawl by several processes over one state, its pure parts: which process crawls which article,
what each process runs with, which journals belong to the state, the exit code of them all, and the
state's lock shared through an inherited descriptor."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from newscrawl import settings as defaults
from newscrawl.fetch.politeness import Politeness
from newscrawl.paths import OutputPaths
from newscrawl.run.processes import Refused, check, combined_exit, process_settings
from newscrawl.shares import BadShare, Share
from newscrawl.state.base import StateUnusable
from newscrawl.state.opening import journal_family
from newscrawl.state.sqlite import StateLock

IDS = [str(number) for number in range(800_000, 802_000)]


@pytest.mark.parametrize(
    ("value", "share"),
    [
        (None, None),
        ("", None),
        ("1/1", Share(1, 1)),
        ("1/2", Share(1, 2)),
        ("2/2", Share(2, 2)),
        ("3/16", Share(3, 16)),
    ],
)
def test_a_share_is_read_from_its_setting(value, share):
    assert Share.of(Settings({"NEWSCRAWL_PROCESS_SHARE": value})) == share


@pytest.mark.parametrize("value", ["0/2", "3/2", "1/0", "a/b", "1", "-1/2", "1/2/3", " 1/2"])
def test_a_share_that_is_not_i_of_k_is_refused(value):
    with pytest.raises(BadShare, match="i/K"):
        Share.of(Settings({"NEWSCRAWL_PROCESS_SHARE": value}))


@pytest.mark.parametrize("count", [1, 2, 3, 5, 16])
def test_every_article_has_exactly_one_process(count):
    shares = [Share(index, count) for index in range(1, count + 1)]
    owners = {article_id: [share.index for share in shares if share.owns(article_id)] for article_id in IDS}
    assert all(len(owner) == 1 for owner in owners.values())
    sizes = [sum(1 for owner in owners.values() if owner == [share.index]) for share in shares]
    assert all(len(IDS) / count * 0.75 < size < len(IDS) / count * 1.25 for size in sizes), sizes


def test_shares_are_the_same_in_every_process():
    """Python's str hash is salted per process; the share's hash must not be."""
    here = [Share(2, 3).owns(article_id) for article_id in IDS[:200]]
    code = (
        "import json; from newscrawl.shares import Share; "
        f"print(json.dumps([Share(2, 3).owns(str(n)) for n in range({IDS[0]}, {IDS[0]} + 200)]))"
    )
    for seed in ("1", "2"):
        there = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": seed}
        )
        assert there.stdout.strip() == str(here).replace("True", "true").replace("False", "false")


@pytest.mark.parametrize(
    ("codes", "combined"),
    [
        ([0, 0], 0),
        ([0, 3], 3),
        ([3, 3], 3),
        ([0, 2], 2),
        ([2, 3], 2),
        ([1, 1, 1], 1),
        ([0, 1], 2),  # one could not start while another ran: a person must look
        ([3, 1], 2),
        ([0, 137], 2),
        ([], 1),
    ],
)
def test_the_exit_code_of_several_is_the_most_urgent(codes, combined):
    assert combined_exit(codes) == combined


def test_each_process_takes_its_part_of_the_pace():
    settings = Settings(
        {
            "DOWNLOAD_DELAY": 0.5,
            "CONCURRENT_REQUESTS": 16,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
            "AUTOTHROTTLE_TARGET_CONCURRENCY": 2.0,
            "LOG_FORMAT": "%(message)s",
        }
    )
    assert process_settings(settings, Share(2, 3)) == {
        "NEWSCRAWL_PROCESS_SHARE": "2/3",
        "DOWNLOAD_DELAY": "1.5",
        "CONCURRENT_REQUESTS": "6",
        "CONCURRENT_REQUESTS_PER_DOMAIN": "2",
        "AUTOTHROTTLE_TARGET_CONCURRENCY": repr(2.0 / 3),
        "LOG_FORMAT": "[p2] %(message)s",
    }


def test_robots_floors_are_multiplied_by_the_number_of_processes():
    one = Politeness(get_crawler(settings_dict={}))
    third = Politeness(get_crawler(settings_dict={"NEWSCRAWL_PROCESS_SHARE": "1/3"}))
    for politeness in (one, third):
        politeness.robots["news.example"] = 2.0
        politeness.backoff["img.example"] = 0.5
    assert (one.floor("news.example"), one.floor("img.example")) == (2.0, 0.5)
    assert (third.floor("news.example"), third.floor("img.example")) == (6.0, 1.5)


def _settings(**values: str) -> Settings:
    settings = Settings()
    settings.setmodule(defaults)
    settings.setdict(values, priority="cmdline")
    return settings


def test_a_process_has_its_own_journal_summary_and_history_and_shares_the_state(tmp_path):
    paths = OutputPaths.of(_settings(NEWSCRAWL_PROCESS_SHARE="2/3"), "mydrivers")
    assert (paths.journal, paths.summary, paths.runs, paths.state) == (
        Path("output/mydrivers.p2.jsonl"),
        Path("output/mydrivers.summary.p2.json"),
        Path("output/mydrivers.runs.p2.jsonl"),
        Path("output/mydrivers.state.sqlite"),
    )
    named = OutputPaths.of(_settings(NEWSCRAWL_PROCESS_SHARE="2/3", NEWSCRAWL_SUMMARY_FILE="s-%(worker)s.json"), "x")
    assert named.summary == Path("s-p2.json")
    assert OutputPaths.of(_settings(), "mydrivers").journal == Path("output/mydrivers.jsonl")


def test_the_journals_of_a_state_are_the_run_alones_and_its_processes(tmp_path):
    for name in [
        "mydrivers.jsonl",
        "mydrivers.p1.jsonl",
        "mydrivers.p1.jsonl.1",
        "mydrivers.p12.jsonl",
        "mydrivers.p3.jsonl.2",  # rotated since its last run: read through its rotated files
        "mydrivers.p4.jsonl.1.gz",
        "mydrivers.px.jsonl",
        "mydrivers.runs.p1.jsonl",
        "mydrivers.w1.jsonl",
        "mydrivers.p1.jsonl.copying",
        "cnbeta.p1.jsonl",
    ]:
        (tmp_path / name).write_text("")
    settings = _settings(NEWSCRAWL_JSONL=str(tmp_path / "%(name)s.jsonl"))
    assert journal_family(settings, "mydrivers") == [
        tmp_path / name
        for name in (
            "mydrivers.jsonl",
            "mydrivers.p1.jsonl",
            "mydrivers.p12.jsonl",
            "mydrivers.p3.jsonl",
            "mydrivers.p4.jsonl",
        )
    ]
    (tmp_path / "mydrivers.jsonl").rename(tmp_path / "mydrivers.jsonl.1")
    assert journal_family(settings, "mydrivers")[0] == tmp_path / "mydrivers.jsonl"
    (tmp_path / "mydrivers.jsonl.1").unlink()
    assert journal_family(settings, "mydrivers")[0] == tmp_path / "mydrivers.p1.jsonl"
    worker_named = _settings(NEWSCRAWL_JSONL=str(tmp_path / "%(name)s.%(worker)s.jsonl"))
    assert journal_family(worker_named, "mydrivers") == []


@pytest.mark.parametrize(
    ("values", "refusal"),
    [
        ({"NEWSCRAWL_REDIS_URL": "redis://127.0.0.1:6379/0"}, "choose one"),
        ({"FEEDS": {"x.jsonl": {"format": "jsonlines"}}}, "one-off export"),
        ({"NEWSCRAWL_STATE": ""}, "needs a journal and a crawl state"),
        ({"NEWSCRAWL_JSONL": ""}, "needs a journal and a crawl state"),
        ({"NEWSCRAWL_JSONL": "output/%(name)s.%(worker)s.jsonl"}, "NEWSCRAWL_JSONL must not use %\\(worker\\)s"),
        ({"NEWSCRAWL_STATE": "output/%(worker)s.sqlite"}, "NEWSCRAWL_STATE must not use %\\(worker\\)s"),
    ],
)
def test_settings_several_processes_cannot_run_with_are_refused(values, refusal):
    with pytest.raises(Refused, match=refusal):
        check(_settings(**values))
    check(_settings())


def test_the_state_lock_is_held_through_an_inherited_descriptor(tmp_path):
    state = tmp_path / "state.sqlite"
    launcher = StateLock(state)
    launcher.acquire()
    process = StateLock(state, inherited=os.dup(launcher.descriptor()))
    process.acquire()  # the same lock: held already
    with pytest.raises(StateUnusable, match="another crawl is running"):
        StateLock(state).acquire()
    process.release()  # a process' end lets go of its descriptor, not of the lock
    with pytest.raises(StateUnusable, match="another crawl is running"):
        StateLock(state).acquire()
    launcher.release()
    alone = StateLock(state)
    alone.acquire()
    alone.release()


def test_a_descriptor_of_another_file_is_not_the_state_lock(tmp_path):
    other = os.open(tmp_path / "other", os.O_CREAT | os.O_RDWR)
    StateLock(tmp_path / "state.sqlite").path.touch()
    with pytest.raises(StateUnusable, match="is not"):
        StateLock(tmp_path / "state.sqlite", inherited=other).acquire()
    os.close(other)


def test_a_descriptor_of_an_unlocked_file_that_another_run_holds_is_refused(tmp_path):
    state = tmp_path / "state.sqlite"
    holder = StateLock(state)
    holder.acquire()
    stray = os.open(holder.path, os.O_RDWR)  # the same file, not the holder's lock
    with pytest.raises(StateUnusable, match="does not hold"):
        StateLock(state, inherited=stray).acquire()
    os.close(stray)
    holder.release()
