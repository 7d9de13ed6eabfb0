"""Distributed crawls on scrapy-redis with a real redis-server: two worker processes, one crawl."""

import json
import os
import subprocess
from pathlib import Path

import redis
from conftest import REPO, Server, crawl_command, requested_paths

ALL_TAGS = "tag=xiaomi12_ultra,xiaomi,laika,windows_11,windowscaozuoxitong,nvidia,intel,amd,youxi,dianyuan"


def worker(
    out: Path, server, redis_url: str, name: str, env: dict | None = None, delay: str = "0.25"
) -> subprocess.Popen:
    args = crawl_command(
        out,
        server,
        "-a",
        ALL_TAGS,
        incremental=True,
        settings={
            "NEWSCRAWL_REDIS_URL": redis_url,
            "NEWSCRAWL_WORKER": name,
            "NEWSCRAWL_REDIS_IDLE_TIMEOUT": "3",
            "DOWNLOAD_DELAY": delay,
        },
    )  # the default delay: slow enough that both workers find work, and a fault lands mid-run
    log = open(out / f"{name}.log", "w")
    return subprocess.Popen(args, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})


def journal(out: Path, name: str) -> list[str]:
    path = out / f"items.{name}.jsonl"
    return (
        [json.loads(line)["article_id"] for line in path.read_text(encoding="utf-8").splitlines()]
        if path.exists()
        else []
    )


def test_two_workers_share_one_crawl(tmp_path: Path, site_server, redis_server):
    out = tmp_path / "out"
    out.mkdir()
    first, second = worker(out, site_server, redis_server, "w1"), worker(out, site_server, redis_server, "w2")
    assert first.wait(timeout=120) == 0 and second.wait(timeout=120) == 0  # both exit by themselves
    one, two = journal(out, "w1"), journal(out, "w2")
    assert sorted(one + two) == sorted(set(one + two)) and len(one + two) == 16  # every article once, across workers
    assert one and two, f"both workers must have exported something: w1 {one}, w2 {two}"
    for name in ("w1", "w2"):  # quiet: scrapy-redis's deprecated StatsCollector calls are filtered
        assert "DeprecationWarning" not in (out / f"{name}.log").read_text(encoding="utf-8")
    posts = sorted(p.name for p in (out / "posts/mydrivers").iterdir())
    assert posts == sorted(f"{i}.md" for i in one + two)
    db = redis.Redis.from_url(redis_server, decode_responses=True)
    assert db.hlen("newscrawl:mydrivers:articles") == 16 and db.hlen("newscrawl:mydrivers:claims") == 0
    assert db.zcard("newscrawl:mydrivers:requests") == 0  # the shared queue is drained


def test_a_killed_worker_reruns_and_nothing_is_lost_or_doubled(tmp_path: Path, site_server, redis_server):
    out = tmp_path / "out"
    out.mkdir()
    doomed = worker(out, site_server, redis_server, "w1", env={"NEWSCRAWL_CRASH_AT": "before-state-record:3"})
    survivor = worker(out, site_server, redis_server, "w2")
    assert doomed.wait(timeout=120) == -9  # SIGKILL mid-crawl, holding claims and an unrecorded journal line
    assert survivor.wait(timeout=120) == 0
    rerun = worker(out, site_server, redis_server, "w1")
    assert rerun.wait(timeout=120) == 0
    log = (out / "w1.log").read_text()
    assert "Recovered 1 journal line(s) a crash left unrecorded" in log
    assert "article claim(s) this worker held when it stopped" in log
    everything = journal(out, "w1") + journal(out, "w2")
    assert len(everything) == 16 and len(set(everything)) == 16
    db = redis.Redis.from_url(redis_server, decode_responses=True)
    assert db.hlen("newscrawl:mydrivers:articles") == 16 and db.hlen("newscrawl:mydrivers:claims") == 0


def test_a_claim_follows_its_request_to_the_worker_that_downloads_it(redis_server):
    """w2 claims and queues an article, w1 pops it and dies: w1's restart must free the claim, or the
    article waits for the claim TTL (600 s) while w2 may be long gone."""
    from newscrawl.state.redis import RedisState

    w1, w2 = RedisState(redis_server, "mydrivers", "w1", 600), RedisState(redis_server, "mydrivers", "w2", 600)
    assert w2.claim("781034")
    w1.take_over_claim("781034")  # w1 starts the download
    assert RedisState(redis_server, "mydrivers", "w1", 600).release_own_claims() == 1  # w1 restarts
    assert RedisState(redis_server, "mydrivers", "w3", 600).claim("781034")  # free again
    w1.take_over_claim("833153")  # nobody claims it (exported, say): taking over creates no claim
    assert redis.Redis.from_url(redis_server).hexists("newscrawl:mydrivers:claims", "833153") == 0


def test_redis_killed_under_a_worker_exits_2_and_a_restart_loses_nothing(tmp_path: Path, site_server, redis_process):
    """Redis killed once the worker's journal shows progress: one line, exit 2, no traceback; restarted
    empty (no persistence), the next run rebuilds what it knew from the journal and finishes, each article once."""
    from faults import wait_for

    out = tmp_path / "out"
    out.mkdir()
    process = worker(out, site_server, redis_process.url, "w1")
    try:
        assert wait_for(lambda: len(journal(out, "w1")) >= 2, process), "the worker made no progress"
        redis_process.kill()
        process.wait(timeout=90)
    finally:
        process.kill()
    log = (out / "w1.log").read_text(encoding="utf-8")
    assert process.returncode == 2, log[-3000:]
    assert "The crawl state stopped answering" in log and "state_unavailable" in log
    assert "Traceback" not in log, log[-4000:]
    redis_process.start()
    rerun = worker(out, site_server, redis_process.url, "w1")
    assert rerun.wait(timeout=120) == 0, (out / "w1.log").read_text(encoding="utf-8")[-3000:]
    ids = journal(out, "w1")
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 16


def test_a_distributed_worker_never_follows_a_redirect_out_of_scope(tmp_path: Path, site_copy, redis_server):
    """An article redirected to the metadata address: refused at the hop (the server never sees the
    request), settled as gone, not pending forever."""
    root, _ = site_copy
    (root / "1/833/833153.htm.redirect").write_text("http://169.254.169.254/latest/meta-data/")
    requests = tmp_path / "requests.log"
    server = Server([root.parent], request_log=requests)
    out = tmp_path / "out"
    out.mkdir()
    try:
        process = worker(out, server, redis_server, "w1", delay="0")
        assert process.wait(timeout=120) == 0, (out / "w1.log").read_text(encoding="utf-8")[-3000:]
    finally:
        server.stop()
    log = (out / "w1.log").read_text(encoding="utf-8")
    assert "Refused a request out of the crawl's scope (host): http://169.254.169.254/latest/meta-data/" in log
    assert all(path.startswith("/news.mydrivers.com/") for path in requested_paths(requests))
    assert "833153" not in journal(out, "w1") and len(journal(out, "w1")) == 15
    db = redis.Redis.from_url(redis_server, decode_responses=True)
    assert not db.hexists("newscrawl:mydrivers:pending:articles", "833153")
    assert json.loads(db.hget("newscrawl:mydrivers:gone", "833153"))[2] == "refused"
