"""Shared test helpers: the bundled site on a real 127.0.0.1 server, and `scrapy crawl` as a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from newscrawl.items import Article

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
MYDRIVERS_SITE = FIXTURES / "mydrivers" / "site"
FETCHED_AT = "2026-11-25T00:00:00Z"  # the fetch time the expected JSON files were written for
# Debian's Chromium, driven by Playwright (scripts/test.sh installs both), headless and quiet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium() -> str:
    """The Chromium executable the browser tests drive."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    assert Path(path).is_file(), "Chromium is not installed (Debian: apt-get install chromium; scripts/test.sh does it)"
    return path


class Server:
    """`python -m newscrawl.dev.server` in a subprocess, serving `roots` on a free 127.0.0.1 port."""

    def __init__(self, roots: list[Path], request_log: Path | None = None) -> None:
        args = [sys.executable, "-m", "newscrawl.dev.server"]
        for root in roots:
            args += ["--root", str(root)]
        if request_log is not None:
            args += ["--log", str(request_log)]
        self.process = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line.startswith("serving http://127.0.0.1:"):
            self.process.kill()
            raise RuntimeError(f"devserver did not start: {line!r}")
        self.url = line.split()[1]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _checkout_output() -> dict[str, tuple[int, int]]:
    """The checkout's output/ folder: every file's size and modification time, and every folder (a
    folder made is a write too)."""
    folder = REPO / "output"
    if not folder.exists():
        return {}
    return {
        str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns) if path.is_file() else (-1, 0)
        for path in [folder, *sorted(folder.rglob("*"))]
    }


@pytest.fixture(scope="session", autouse=True)
def checkout_output_untouched() -> Iterator[None]:
    """Tests write only under temporary folders: the user's output/ is the same after the suite."""
    before = _checkout_output()
    yield
    after = _checkout_output()
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    assert not changed, f"the test suite wrote into the checkout's output/: {changed[:20]}"


@pytest.fixture(scope="session")
def site_server() -> Iterator[Server]:
    server = Server([MYDRIVERS_SITE])
    yield server
    server.stop()


@pytest.fixture
def site_copy(tmp_path: Path) -> Iterator[tuple[Path, Server]]:
    """A copy of the bundled site that a test may alter, served on its own port."""
    root = tmp_path / "site"
    shutil.copytree(MYDRIVERS_SITE, root)
    server = Server([root])
    yield root / "news.mydrivers.com", server
    server.stop()


def request_log(path: Path) -> list[tuple[float, str]]:
    """What a `Server(…, request_log=path)` received: (unix time, path) per request, in order."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [(float(moment), where) for moment, where in (line.split(" ", 1) for line in lines)]


def requested_paths(path: Path) -> list[str]:
    return [where for _, where in request_log(path)]


# An Article with every field at its plainest: what tests of the post format vary with `replace`.
SAMPLE_ARTICLE = Article(
    id="mydrivers:1000",
    site="mydrivers",
    article_id="1000",
    url="https://news.mydrivers.com/1/1/1000.htm",
    title="T",
    published="2022-06-04T20:42:05+08:00",
    published_raw="2022-06-04 20:42:05",
    author=None,
    editor=None,
    source=None,
    source_url=None,
    tags=[],
    images=[],
    head_image=None,
    body_html="<p>x</p>",
    language="zh-CN",
    revision=1,
    fetched_at="2026-11-25T00:00:00Z",
)


@dataclass
class CrawlResult:
    returncode: int
    items: list[dict]
    posts: dict[str, str]  # file name → text
    stats: dict
    log: str


def crawl_command(
    out: Path,
    server: Server,
    *spider_args: str,
    spider: str = "mydrivers",
    settings: dict[str, str] | None = None,
    incremental: bool = False,
) -> list[str]:
    """The real `scrapy crawl` against `server`, politeness delays off (loopback only). One-off (`-O`)
    unless `incremental`: then the journal, the crawl state and the posts live in `out` across runs."""
    output = (
        ["-s", f"NEWSCRAWL_JSONL={out / 'items.jsonl'}", "-s", f"NEWSCRAWL_STATE={out / 'state.sqlite'}"]
        if incremental
        else ["-O", str(out / "items.jsonl")]
    )
    args = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        spider,
        *spider_args,
        *output,
        "-s",
        f"NEWSCRAWL_OFFLINE_ROOT={server.url}",
        "-s",
        f"NEWSCRAWL_POSTS_DIR={out / 'posts'}",
        "-s",
        f"NEWSCRAWL_SUMMARY_FILE={out / 'summary.json'}",
        "-s",
        f"NEWSCRAWL_RUNS_FILE={out / 'runs.jsonl'}",
        "-s",
        f"NEWSCRAWL_FEEDS_DIR={out / 'feeds'}",
        "-s",
        "DOWNLOAD_DELAY=0",
        "-s",
        "AUTOTHROTTLE_ENABLED=False",
        "-s",
        "LOG_LEVEL=INFO",
    ]
    for name, value in (settings or {}).items():
        args += ["-s", f"{name}={value}"]
    return args


def job_settings(out: Path) -> list[str]:
    """The settings of a scheduled job whose files live in `out` (feeds off), for commands besides crawl."""
    return [
        "-s",
        f"NEWSCRAWL_JSONL={out / 'items.jsonl'}",
        "-s",
        f"NEWSCRAWL_STATE={out / 'state.sqlite'}",
        "-s",
        f"NEWSCRAWL_POSTS_DIR={out / 'posts'}",
        "-s",
        f"NEWSCRAWL_SUMMARY_FILE={out / 'summary.json'}",
        "-s",
        f"NEWSCRAWL_RUNS_FILE={out / 'runs.jsonl'}",
        "-s",
        "NEWSCRAWL_FEEDS_DIR=",
    ]


def run_crawl(
    tmp_path: Path,
    server: Server,
    *spider_args: str,
    spider: str = "mydrivers",
    settings: dict[str, str] | None = None,
    incremental: bool = False,
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> CrawlResult:
    """Run `crawl_command` to its end and read what it wrote."""
    out = tmp_path / "out"
    out.mkdir(parents=True, exist_ok=True)
    args = crawl_command(out, server, *spider_args, spider=spider, settings=settings, incremental=incremental)
    done = subprocess.run(
        args, cwd=REPO, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )
    return read_output(out, spider, done.returncode, done.stderr)


def read_output(out: Path, spider: str, returncode: int, log: str) -> CrawlResult:
    jsonl = out / "items.jsonl"
    items = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()] if jsonl.exists() else []
    posts_dir = out / "posts" / spider
    posts = {p.name: p.read_text(encoding="utf-8") for p in sorted(posts_dir.glob("*"))} if posts_dir.exists() else {}
    summary_file = out / "summary.json"
    stats = json.loads(summary_file.read_text(encoding="utf-8"))["stats"] if summary_file.exists() else {}
    return CrawlResult(returncode, items, posts, stats, log)


class RedisServer:
    """A real redis-server on a free 127.0.0.1 port, in a temporary folder (.ci/run installs it); a test
    may kill it and start it again on the same port (its data is not kept: --save "")."""

    def __init__(self, folder: Path) -> None:
        import socket

        self.executable = shutil.which("redis-server")
        assert self.executable, "redis-server is not installed (Debian: apt-get install redis-server; .ci/run does it)"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        import socket
        import time

        self.process = subprocess.Popen(
            [
                self.executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        self.process.kill()
        raise RuntimeError(f"redis-server did not answer on 127.0.0.1:{self.port}")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    yield server
    server.kill()


@pytest.fixture
def redis_server(redis_process: RedisServer) -> str:
    """The URL of a real redis-server on 127.0.0.1 (redis_process)."""
    return redis_process.url
