"""How far one Redis carries a distributed newscrawl: measured here, at small scale, on 127.0.0.1.

    python benchmarks/redis_capacity.py [--fingerprints 200000]

Starts its own redis-server (a free port, a temporary folder), then measures
- the memory one million request fingerprints take in scrapy-redis's dupefilter (a Redis set of
  40-character SHA1 hex strings), from `used_memory` before and after adding N of them;
- the Redis commands one article costs a newscrawl worker, replayed from the real code paths
  (scrapy-redis's PriorityQueue push and pop, newscrawl's known-check, claim and export record), how
  many such articles per second one Redis serves to one client process, and the state's memory;
- redis-benchmark's plain command rate with 50 clients, for the arithmetic across many workers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def start_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            shutil.which("redis-server"),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(folder),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping()
            return process, url
        except redis.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def fingerprint_memory(db: redis.Redis, count: int) -> float:
    """Bytes of used_memory per fingerprint in a dupefilter-like set."""
    db.flushdb()
    before = db.info("memory")["used_memory"]
    batch = db.pipeline(transaction=False)
    for i in range(count):
        batch.sadd("bench:dupefilter", hashlib.sha1(str(i).encode()).hexdigest())
        if i % 10_000 == 9_999:
            batch.execute()
    batch.execute()
    return (db.info("memory")["used_memory"] - before) / count


def article_round_trips(url: str, articles: int) -> dict:
    """Replay one article's Redis work per newscrawl worker, with the real classes."""
    from scrapy import Request, Spider
    from scrapy_redis.queue import PriorityQueue

    from newscrawl.state.base import Export
    from newscrawl.state.journal import JournalMark
    from newscrawl.state.redis import RedisState

    db = redis.Redis.from_url(url)
    db.flushdb()

    class _Spider(Spider):
        name = "mydrivers"

    queue = PriorityQueue(db, _Spider(), "bench:requests")
    state = RedisState(url, "mydrivers", "bench", 600)
    monitor = db.info("commandstats")
    started = time.perf_counter()
    for i in range(articles):
        article_id = str(2_000_000 + i)
        url_i = f"https://news.mydrivers.com/1/{int(article_id) // 1000}/{article_id}.htm"
        state.known([article_id])  # the listing page's known-check (batched per page in reality)
        state.claim(article_id)
        queue.push(Request(url_i, dont_filter=True))
        queue.pop()
        # one article a batch: the worst case (a busy worker's journal batches hold several)
        state.record_exports(
            [Export(article_id, "h" * 64, 1, time.time())], "bench:journal", JournalMark(i * 5000, 1, 1)
        )
    elapsed = time.perf_counter() - started
    calls = sum(v["calls"] for v in db.info("commandstats").values()) - sum(v["calls"] for v in monitor.values())
    state_bytes = db.memory_usage("newscrawl:mydrivers:articles") / articles
    return {
        "articles": articles,
        "seconds": round(elapsed, 3),
        "articles_per_second_one_client": round(articles / elapsed),
        "redis_commands_per_article": round(calls / articles, 1),
        "state_bytes_per_article": round(state_bytes, 1),
        "state_mb_per_million_articles": round(state_bytes * 1e6 / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fingerprints", type=int, default=200_000)
    parser.add_argument("--articles", type=int, default=5_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="newscrawl-redis-"))
    process, url = start_redis(folder)
    try:
        db = redis.Redis.from_url(url)
        per_fingerprint = fingerprint_memory(db, args.fingerprints)
        rounds = article_round_trips(url, args.articles)
        ops = (
            subprocess.run(
                [
                    "redis-benchmark",
                    "-p",
                    url.split(":")[2].split("/")[0],
                    "-q",
                    "-n",
                    "100000",
                    "-t",
                    "sadd,hset,zadd",
                ],
                capture_output=True,
                text=True,
            ).stdout
            if shutil.which("redis-benchmark")
            else ""
        )
    finally:
        process.terminate()
        shutil.rmtree(folder, ignore_errors=True)
    report = {
        "bytes_per_fingerprint": round(per_fingerprint, 1),
        "mb_per_million_fingerprints": round(per_fingerprint * 1e6 / 2**20, 1),
        **rounds,
        "redis_benchmark_50_clients": [
            line.strip() for line in ops.replace("\r", "\n").splitlines() if "requests per second" in line
        ],
    }
    print(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
