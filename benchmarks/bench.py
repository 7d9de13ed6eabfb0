"""newscrawl benchmark: the real tag crawl against a synthetic site, side by side with `scrapy bench`.

    python benchmarks/bench.py [--articles 2000] [--repeat 3] [--rss-sizes 1000,5000] [--json out.json]

Builds a site of N articles from the real recorded 快科技 fixture pages (same size and markup; ids,
titles, dates and image URLs varied) with tag pages listing 20 each, serves it on 127.0.0.1 (nginx
when installed, else the project's threaded Python server — the output says which), runs
`scrapy bench` and the project's real crawl (real pipelines: validation, posts, journal, state) in
the same invocation, and prints pages/s and their ratio, the cost of Atom feeds and of WARC capture
(pages/s on vs off, disk per 1,000 articles) and of image mirroring (pages/s with images off and
on, images/s, MB/s, MB stored), CPU per stage per article, peak RSS at
several sizes, what a history of 10,000 articles (--history) costs: the run that records them from the journal, a
rerun with nothing new, the same after the journal was copied and after the state was deleted, and
`scrapy report`, date-parsing cost per format, the incremental rerun's request share, and the
settings used. The same figures go to a JSON file. Nothing here asserts a time: it measures.

A VM's speed wanders by ±15 % from one run to the next, so `scrapy bench` and each crawl run
--repeat times, interleaved (bench, default, recommended, recommended without feeds, recommended
with WARC capture, recommended mirroring images, recommended with Scrapy's Twisted client, recommended
without stories, recommended with all of Scrapy's middlewares, bench, …):
the figures are the medians, the ratio
is the median crawl over the median bench, and each run's figure is kept as well.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
FIXTURE_PAGES = sorted((REPO / "fixtures/mydrivers/site/news.mydrivers.com/1").rglob("*.htm"))
PER_LISTING_PAGE = 20
BASE_SETTINGS = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "LOG_LEVEL": "INFO"}
# Recommended for speed: more concurrency, fewer logs, no cookies, fewer Scrapy middlewares
# (NEWSCRAWL_LEAN_MIDDLEWARES), and Scrapy's aiohttp HTTP client (≈10 % faster than its Twisted one
# here; Scrapy 2.19 marks it experimental, and the hostile-web tests pass with both). The same with
# the Twisted client is measured too.
RECOMMENDED = {
    **BASE_SETTINGS,
    "CONCURRENT_REQUESTS": "32",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "32",
    "LOG_LEVEL": "WARNING",
    "COOKIES_ENABLED": "False",
    "NEWSCRAWL_LEAN_MIDDLEWARES": "True",
    "NEWSCRAWL_HTTP_HANDLER": "scrapy.core.downloader.handlers._aiohttp.AiohttpDownloadHandler",
}
TWISTED = {**RECOMMENDED, "NEWSCRAWL_HTTP_HANDLER": "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler"}

sys.path.insert(0, str(REPO))


# The synthetic site ----------------------------------------------------------------------------

_IMAGE_URL = re.compile(r'https://img1\.mydrivers\.com(/img/[^"\'\s<>?#]+)')


def _image_pool(size: int = 64) -> list[bytes]:
    """JPEGs of noise (≈25 kB each, a news picture's order of size): each image file of the site is one
    of them with a byte string of its own after the end marker, so every file is a different picture."""
    import random
    from io import BytesIO

    from PIL import Image

    rng = random.Random(7)
    pool = []
    for _ in range(size):
        out = BytesIO()
        Image.frombytes("RGB", (200, 150), rng.randbytes(200 * 150 * 3)).save(out, "JPEG", quality=75)
        pool.append(out.getvalue())
    return pool


# Where a 快科技 article's body starts (its body containers, newscrawl.sites.mydrivers), and the text
# between two tags after it.
_BODY_START = re.compile(r'<div class="(?:news_info|pc_info)"[^>]*>')
_TEXT = re.compile(r">([^<]+)<")
# The CJK ideographs of GBK: two bytes each in GB18030, three in UTF-8, so moving one within the range
# keeps a page's size.
_HAN_FIRST, _HAN_LAST = 0x4E00, 0x9FA5


def distinct_body(page: str, shift: int) -> str:
    """`page` with every CJK ideograph after its body's start moved `shift` places along the range,
    wrapping: the same markup and size, and text no page with another shift shares (a site whose
    articles are all different news, where copies of one body would make every article an exact copy
    of another, which the story index finds by a digest alone)."""
    start = _BODY_START.search(page)
    if start is None:
        return page
    span = _HAN_LAST - _HAN_FIRST + 1

    def moved(text: re.Match[str]) -> str:
        return (
            ">"
            + "".join(
                chr(_HAN_FIRST + (ord(c) - _HAN_FIRST + shift) % span) if _HAN_FIRST <= ord(c) <= _HAN_LAST else c
                for c in text.group(1)
            )
            + "<"
        )

    return page[: start.end()] + _TEXT.sub(moved, page[start.end() :])


def build_site(root: Path, articles: int, images: bool = False, distinct_bodies: bool = False) -> list[str]:
    """`articles` article pages made from the real fixture pages, and tag pages `bench[_N].htm`; with
    `images`, every image file the pages name, under img1.mydrivers.com/; with `distinct_bodies`, the
    pages made from one fixture page each have a body of their own (`distinct_body`), so only the
    fixture pages' own near-copies (850166 and 850190, one story told twice) make stories."""
    pool = _image_pool() if images else []
    written = 0
    templates = []
    for path in FIXTURE_PAGES:
        raw = path.read_bytes()
        charset = "gb18030" if b"charset=gb2312" in raw else "utf-8"
        text = raw.decode(charset)
        title = re.search(r'id="thread_subject">(.*?)</div>', text).group(1)
        date = re.search(r'news_bt1_left">(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})', text).group(1)
        templates.append((text, charset, title, date))
    host = root / "news.mydrivers.com"
    urls = []
    start = datetime(2022, 1, 1)
    for i in range(articles):
        text, charset, title, date = templates[i % len(templates)]
        article_id = 2_000_000 + i
        stamp = datetime.fromtimestamp(start.timestamp() + i * 3_607).strftime("%Y-%m-%d %H:%M:%S")
        page = (
            text.replace(title, f"{title}（{i}）")
            .replace(date, stamp)
            .replace("img1.mydrivers.com/img/", f"img1.mydrivers.com/img/b{i}/")
        )
        if distinct_bodies:
            page = distinct_body(page, 1 + 7 * (i // len(templates)))
        path = host / f"1/{article_id // 1000}/{article_id}.htm"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(page.encode(charset))
        for image_path in dict.fromkeys(_IMAGE_URL.findall(page)) if images else ():
            target = root / "img1.mydrivers.com" / image_path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(pool[written % len(pool)] + f"{i}:{image_path}".encode())
            written += 1
        urls.append(f"https://news.mydrivers.com/1/{article_id // 1000}/{article_id}.htm")
    (host / "tag").mkdir(parents=True, exist_ok=True)
    pages = [urls[i : i + PER_LISTING_PAGE] for i in range(0, len(urls), PER_LISTING_PAGE)]
    for number, chunk in enumerate(pages, start=1):
        items = "".join(
            f'<li><h3><a href="{u}">{u}</a></h3><span class="time">2022-01-01 00:00</span></li>\n' for u in chunk
        )
        pager = f'<div class="pages"><a href="bench_{number + 1}.htm">下一页</a></div>' if number < len(pages) else ""
        name = "bench.htm" if number == 1 else f"bench_{number}.htm"
        (host / "tag" / name).write_text(
            f'<html><body><ul id="newsleft_1">\n{items}</ul>{pager}</body></html>', encoding="utf-8"
        )
    return urls


def start_server(root: Path) -> tuple[subprocess.Popen, str, str]:
    if shutil.which("nginx"):
        port = _free_port()
        conf = root.parent / "nginx.conf"
        conf.write_text(
            f"daemon off; worker_processes 1; pid {root.parent}/nginx.pid; error_log {root.parent}/nginx.err;\n"
            f"events {{ worker_connections 1024; }}\nhttp {{ access_log off; default_type text/html;\n"
            f"  server {{ listen 127.0.0.1:{port}; root {root}; }} }}\n"
        )
        process = subprocess.Popen(["nginx", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        return process, f"http://127.0.0.1:{port}", "nginx"
    process = subprocess.Popen(
        [sys.executable, "-m", "newscrawl.dev.server", "--root", str(root)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    line = process.stdout.readline()
    return process, line.split()[1], "Python ThreadingHTTPServer (newscrawl.dev.server; nginx not installed)"


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Measured runs ---------------------------------------------------------------------------------


# Runs a command and writes its exit status, CPU time and peak RSS (wait4) to the file argv[1]. The
# benchmark starts every measured child through it: a child started straight from the benchmark reports
# at least the benchmark's own peak RSS (Linux keeps the spawning process' high-water mark across the exec).
_MEASURE = """
import json, os, sys
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump([os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime, usage.ru_maxrss], out)
"""


def run_measured(args: list[str], cwd: Path) -> tuple[str, dict]:
    """Run a child to its end; its log and its own CPU time and peak RSS (not its children's)."""
    with tempfile.NamedTemporaryFile(prefix="newscrawl-measure-", suffix=".json") as measured:
        done = subprocess.run(
            [sys.executable, "-S", "-c", _MEASURE, measured.name, *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        status, cpu, rss = json.loads(Path(measured.name).read_text() or "[-1, 0, 0]")
    if done.returncode != 0 and status == -1:
        raise RuntimeError(f"measuring {args[:3]} failed:\n{done.stdout[-3000:]}")
    return done.stdout, {"exit_status": status, "cpu_seconds": cpu, "peak_rss_mb": round(rss / 1024, 1)}


def scrapy_bench(seconds: int, work: Path) -> dict:
    """Scrapy's own `scrapy bench` (outside the project, so with Scrapy's default settings)."""
    log, usage = run_measured(
        [sys.executable, "-m", "scrapy", "bench", "-s", f"CLOSESPIDER_TIMEOUT={seconds}", "-s", "LOG_LEVEL=INFO"], work
    )
    received = re.search(r"'response_received_count': (\d+)", log)  # absent when nothing was crawled
    pages = int(received.group(1)) if received else 0
    elapsed = float(re.search(r"'elapsed_time_seconds': ([\d.]+)", log).group(1))
    return {"pages": pages, "seconds": round(elapsed, 2), "pages_per_second": round(pages / elapsed, 1), **usage}


def crawl_command(server: str, settings: dict[str, str]) -> list[str]:
    """`scrapy crawl` of the synthetic tag `bench` from `server`, with `settings` (`-s` each)."""
    args = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "mydrivers",
        "-a",
        "tag=bench",
        "-a",
        "max_pages=100000",
        "-s",
        f"NEWSCRAWL_OFFLINE_ROOT={server}",
    ]
    for name, value in settings.items():
        args += ["-s", f"{name}={value}"]
    return args


def output_files(out: Path, worker: str = "") -> dict[str, str]:
    """Every file a crawl writes, under `out`: the benchmark leaves the checkout's output/ alone."""
    suffix = f".{worker}" if worker else ""
    return {
        "NEWSCRAWL_JSONL": f"{out}/items.jsonl",
        "NEWSCRAWL_STATE": f"{out}/state.sqlite",
        "NEWSCRAWL_POSTS_DIR": f"{out}/posts",
        "NEWSCRAWL_SUMMARY_FILE": f"{out}/summary{suffix}.json",
        "NEWSCRAWL_RUNS_FILE": f"{out}/runs{suffix}.jsonl",
        "NEWSCRAWL_FEEDS_DIR": f"{out}/feeds{suffix}",
    }


def crawl(server: str, out: Path, settings: dict[str, str], rerun: bool = False) -> dict:
    log, usage = run_measured(crawl_command(server, {**output_files(out), **settings}), REPO)
    if usage["exit_status"] != 0:
        raise RuntimeError(f"crawl failed ({usage['exit_status']}):\n{log[-3000:]}")
    stats = json.loads((out / "summary.json").read_text(encoding="utf-8"))["stats"]
    pages, elapsed = stats["response_received_count"], stats["elapsed_time_seconds"]
    articles = stats.get("item_scraped_count", 0)
    if not articles and not rerun:
        raise RuntimeError(f"the crawl exported nothing — is the server serving the site? stats: {stats}")
    warc = Path(settings.get("NEWSCRAWL_WARC_DIR") or out / "no-capture")
    warc_bytes = sum(path.stat().st_size for path in warc.glob("*.warc.gz"))
    images, image_bytes = stats.get("newscrawl/images/stored", 0), stats.get("newscrawl/images/bytes", 0)
    # Image responses are not pages; the downloader's are counted in both figures, the lean fetch's in neither.
    pages -= stats.get("newscrawl/images/responses", 0)
    return {
        "pages": pages,
        "articles": articles,
        "requests": stats["downloader/request_count"],
        "seconds": round(elapsed, 2),
        "pages_per_second": round(pages / elapsed, 1),
        "feed_seconds": stats.get("newscrawl/feeds/seconds", 0.0),
        "warc_bytes": warc_bytes,
        "articles_per_second": round(articles / elapsed, 1),
        "images": images,
        "image_bytes": image_bytes,
        "images_per_second": round(images / elapsed, 1),
        **usage,
    }


def crawl_processes(server: str, out: Path, settings: dict[str, str], count: int) -> dict:
    """The crawl by `count` processes over one state (NEWSCRAWL_PROCESSES): pages and articles of them
    all, over the time from the first one's start to the last one's end (as `crawl` takes a run's
    elapsed time); CPU and peak RSS are the launcher's (process 1's) own."""
    log, usage = run_measured(
        crawl_command(server, {**output_files(out), **settings, "NEWSCRAWL_PROCESSES": str(count)}), REPO
    )
    if usage["exit_status"] != 0:
        raise RuntimeError(f"the crawl by {count} processes failed ({usage['exit_status']}):\n{log[-3000:]}")
    stats = [json.loads(path.read_text(encoding="utf-8"))["stats"] for path in sorted(out.glob("summary.p*.json"))]
    started = min(datetime.fromisoformat(s["start_time"]) for s in stats)
    finished = max(datetime.fromisoformat(s["finish_time"]) for s in stats)
    elapsed = (finished - started).total_seconds()
    pages = sum(s.get("response_received_count", 0) for s in stats)
    articles = [s.get("item_scraped_count", 0) for s in stats]
    return {
        "processes": count,
        "pages": pages,
        "articles": sum(articles),
        "articles_by_process": articles,
        "seconds": round(elapsed, 2),
        "pages_per_second": round(pages / elapsed, 1),
        "articles_per_second": round(sum(articles) / elapsed, 1),
        **usage,
    }


def crawl_two_workers(server: str, out: Path, settings: dict[str, str], articles: int) -> dict | None:
    """The same crawl by 2 processes sharing one Redis (distributed mode): what the second core gives.

    None when redis-server is not installed. Workers wait for each other before they exit, so the
    time is taken from the first worker's start to the moment the journals hold every article."""
    executable = shutil.which("redis-server")
    if not executable:
        return None
    port = _free_port()
    redis = subprocess.Popen(
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    out.mkdir(parents=True, exist_ok=True)
    workers = []
    try:
        for name in ("w1", "w2"):
            distributed = {
                **output_files(out, name),
                "NEWSCRAWL_REDIS_URL": f"redis://127.0.0.1:{port}/0",
                "NEWSCRAWL_WORKER": name,
                "NEWSCRAWL_REDIS_IDLE_TIMEOUT": "2",
            }
            workers.append(
                subprocess.Popen(
                    crawl_command(server, {**distributed, **settings}),
                    cwd=REPO,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        journals = [out / "items.w1.jsonl", out / "items.w2.jsonl"]
        done_at = None
        while any(worker.poll() is None for worker in workers):
            if done_at is None and sum(_lines(j) for j in journals) >= articles:
                done_at = datetime.now(UTC)
            time.sleep(0.02)
        done_at = done_at or datetime.now(UTC)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
        redis.terminate()
    stats = [json.loads((out / f"summary.{name}.json").read_text(encoding="utf-8"))["stats"] for name in ("w1", "w2")]
    started = min(datetime.fromisoformat(s["start_time"]) for s in stats)
    elapsed = (done_at - started).total_seconds()
    pages = sum(s.get("response_received_count", 0) for s in stats)  # a worker may get no request at all
    exported = sum(_lines(j) for j in journals)
    return {
        "workers": 2,
        "pages": pages,
        "articles": exported,
        "seconds": round(elapsed, 2),
        "pages_per_second": round(pages / elapsed, 1),
        "articles_per_second": round(exported / elapsed, 1),
        "articles_by_worker": [_lines(j) for j in journals],
    }


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


# CPU per stage, in this process, on the same pages -----------------------------------------------


def stage_costs(site_root: Path, sample: int = 300) -> dict[str, float]:
    """µs per article for each stage the crawl runs after the download."""
    from newscrawl.exporters.frontmatter import PostStyle, render_post
    from newscrawl.normalize import article as normalize_article
    from newscrawl.normalize.dates import parse_date
    from newscrawl.normalize.encoding import decode_html
    from newscrawl.normalize.html import sanitize_html
    from newscrawl.sites import get_site
    from newscrawl.state.journal import Journal
    from newscrawl.state.revisions import content_hash

    site = get_site("mydrivers")
    pages = sorted((site_root / "news.mydrivers.com/1").rglob("*.htm"))[:sample]
    bodies = [(p.read_bytes(), f"https://news.mydrivers.com/1/{p.parent.name}/{p.name}") for p in pages]
    fetched = "2026-11-25T00:00:00Z"

    def per_article(function) -> float:
        started = time.process_time()
        results = [function(body, url) for body, url in bodies]
        return (time.process_time() - started) / len(bodies) * 1e6, results

    decode_us, texts = per_article(lambda body, url: decode_html(body, "text/html", site.fallback_encoding).text)
    text_by_url = {url: text for (_, url), text in zip(bodies, texts, strict=True)}
    parse_us, raws = per_article(lambda body, url: site.parse_article(text_by_url[url], url, fetched))
    raw_by_url = {raw.url: raw for raw in raws}
    sanitize_us, _ = per_article(lambda body, url: sanitize_html(raw_by_url[url].body_html, url))
    build_us, articles = per_article(lambda body, url: normalize_article.build_article(raw_by_url[url], site))
    tz, when = ZoneInfo("Asia/Shanghai"), datetime(2026, 11, 25, tzinfo=UTC)
    dates_us, _ = per_article(lambda body, url: parse_date(raw_by_url[url].byline.split("  ")[0], tz, when))
    article_by_url = {a.url: a for a in articles}
    style = PostStyle.of(site)
    render_us, _ = per_article(lambda body, url: render_post(article_by_url[url], style, "utc"))
    with tempfile.TemporaryDirectory() as scratch:
        journal = Journal(Path(scratch) / "j.jsonl")
        journal_us, _ = per_article(lambda body, url: journal.append([article_by_url[url].to_dict()]))
        journal.close()
    hash_us, _ = per_article(lambda body, url: content_hash(article_by_url[url]))
    return {
        "decode": round(decode_us, 1),
        "html_parse_and_selectors": round(parse_us, 1),
        "normalisers_without_sanitiser": round(build_us - sanitize_us - dates_us, 1),
        "dates": round(dates_us, 1),
        "sanitiser": round(sanitize_us, 1),
        "front_matter_render": round(render_us, 1),
        "journal_append_fsync": round(journal_us, 1),
        "content_hash": round(hash_us, 1),
    }


def date_costs() -> dict[str, float]:
    """µs per call of parse_date for each format the sites use, and the dateparser fallback.

    Each figure is the best of 5 rounds of 20,000 calls (timeit's advice: the other rounds measure
    the VM's neighbours), and `datetime.strptime` is timed the same way as the machine's yardstick."""
    from newscrawl.normalize.dates import parse_date

    tz, when = ZoneInfo("Asia/Shanghai"), datetime(2026, 11, 25, tzinfo=UTC)
    samples = {
        "YYYY-MM-DD HH:MM:SS (快科技)": "2022-06-04 20:42:05",
        "YYYY年MM月DD日 HH:mm (cnBeta)": "2022年02月07日 17:05",
        "YYYY-MM-DD HH:MM (开源中国)": "2021-08-18 14:11",
        "M月D日 HH:mm (no year)": "06月04日 20:42",
        "RFC 1123": "Sat, 04 Jun 2022 12:42:05 GMT",
        "ISO 8601": "2022-06-04T20:42:05+08:00",
    }

    def best_us(call) -> float:
        return round(min(timeit.repeat(call, number=20_000, repeat=5)) / 20_000 * 1e6, 2)

    costs = {name: best_us(lambda text=text: parse_date(text, tz, when)) for name, text in samples.items()}
    # The yardstick, on this machine at this moment: the issue's "strptime ≈ 5 µs" was measured elsewhere.
    costs["yardstick: datetime.strptime of the 快科技 format"] = best_us(
        lambda: datetime.strptime("2022-06-04 20:42:05", "%Y-%m-%d %H:%M:%S")
    )
    started = time.perf_counter()
    parse_date("3小时前", tz, when)
    costs["fallback, first call (dateparser import + warm-up)"] = round((time.perf_counter() - started) * 1e6, 0)
    calls = 200
    costs["fallback: 3小时前 (dateparser)"] = round(
        timeit.timeit(lambda: parse_date("3小时前", tz, when), number=calls) / calls * 1e6, 1
    )
    return costs


# Main --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000, help="articles in the synthetic site (default 2000)")
    parser.add_argument("--rss-sizes", default="1000,5000", help="site sizes for the peak-RSS runs (default 1000,5000)")
    parser.add_argument(
        "--history",
        default="10000",
        help="history sizes (articles in the state and journal) for the rerun, copied-journal, rebuilt-state "
        "and report costs (default 10000; 100000 writes a journal of ≈2.5 GB)",
    )
    parser.add_argument("--bench-seconds", type=int, default=10, help="how long `scrapy bench` runs (default 10)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of scrapy bench and of each crawl; medians reported (default 3)"
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=Path(tempfile.gettempdir()) / "newscrawl-benchmark.json",
        help="where the figures go (default: newscrawl-benchmark.json in the temporary folder)",
    )
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="newscrawl-bench-"))
    work.chmod(0o755)  # nginx's workers run as another user
    report: dict = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "when": datetime.now(UTC).isoformat(),
        },
        "articles": args.articles,
    }
    try:
        site = work / "site"
        build_site(site, args.articles, images=True)
        server, url, server_kind = start_server(site)
        report["server"] = server_kind
        distinct = work / "distinct" / "site"
        build_site(distinct, args.articles, distinct_bodies=True)
        distinct_server, distinct_url, _ = start_server(distinct)
        try:
            runs: dict[str, list[dict]] = {
                "scrapy_bench": [],
                "crawl_default": [],
                "crawl_recommended": [],
                "crawl_recommended_feeds_off": [],
                "crawl_recommended_capture": [],
                "crawl_recommended_images": [],
                "crawl_recommended_twisted": [],
                "crawl_recommended_stories_off": [],
                "crawl_recommended_all_middlewares": [],
                "crawl_recommended_two_processes": [],
                "crawl_recommended_distinct_bodies": [],
                "crawl_recommended_distinct_bodies_stories_off": [],
            }
            arms = {
                "crawl_default": lambda attempt: crawl(url, work / f"default-{attempt}", BASE_SETTINGS),
                "crawl_recommended": lambda attempt: crawl(url, work / f"recommended-{attempt}", RECOMMENDED),
                "crawl_recommended_feeds_off": lambda attempt: crawl(
                    url, work / f"feeds-off-{attempt}", {**RECOMMENDED, "NEWSCRAWL_FEEDS_DIR": ""}
                ),
                "crawl_recommended_capture": lambda attempt: crawl(
                    url,
                    work / f"capture-{attempt}",
                    {**RECOMMENDED, "NEWSCRAWL_WARC_DIR": str(work / f"capture-{attempt}" / "warc")},
                ),
                "crawl_recommended_images": lambda attempt: _images_run(url, work / f"images-{attempt}"),
                "crawl_recommended_twisted": lambda attempt: crawl(url, work / f"twisted-{attempt}", TWISTED),
                "crawl_recommended_stories_off": lambda attempt: crawl(
                    url, work / f"stories-off-{attempt}", {**RECOMMENDED, "NEWSCRAWL_STORIES": ""}
                ),
                "crawl_recommended_all_middlewares": lambda attempt: crawl(
                    url, work / f"all-middlewares-{attempt}", {**RECOMMENDED, "NEWSCRAWL_LEAN_MIDDLEWARES": "False"}
                ),
                "crawl_recommended_two_processes": lambda attempt: crawl_processes(
                    url, work / f"two-processes-{attempt}", RECOMMENDED, 2
                ),
                "crawl_recommended_distinct_bodies": lambda attempt: crawl(
                    distinct_url, work / f"distinct-{attempt}", RECOMMENDED
                ),
                "crawl_recommended_distinct_bodies_stories_off": lambda attempt: crawl(
                    distinct_url, work / f"distinct-stories-off-{attempt}", {**RECOMMENDED, "NEWSCRAWL_STORIES": ""}
                ),
            }
            for attempt in range(args.repeat):
                runs["scrapy_bench"].append(scrapy_bench(args.bench_seconds, work))
                progress(f"round {attempt + 1}/{args.repeat}: scrapy bench", runs["scrapy_bench"][-1])
                for arm, run in arms.items():
                    runs[arm].append(run(attempt))
                    progress(f"round {attempt + 1}/{args.repeat}: {arm}", runs[arm][-1])
            for key, measured in runs.items():
                report[key] = _median_run(measured)
            on, off = report["crawl_recommended"], report["crawl_recommended_feeds_off"]
            report["feeds"] = {
                **_cost(on, off),
                "feed_writing_seconds": on["feed_seconds"],
                "feed_writing_share_of_run": round(on["feed_seconds"] / on["seconds"], 4),
            }
            on, off = report["crawl_recommended_capture"], report["crawl_recommended"]
            report["capture"] = {
                **_cost(on, off),
                "warc_mb_per_1000_articles": round(on["warc_bytes"] / on["articles"] * 1000 / 1e6, 2),
                "warc_kb_per_page": round(on["warc_bytes"] / on["pages"] / 1e3, 2),
            }
            on, off = report["crawl_recommended"], report["crawl_recommended_stories_off"]
            report["stories"] = _cost_and_cpu(on, off)
            report["stories_distinct_bodies"] = _cost_and_cpu(
                report["crawl_recommended_distinct_bodies"], report["crawl_recommended_distinct_bodies_stories_off"]
            )
            lean, full = report["crawl_recommended"], report["crawl_recommended_all_middlewares"]
            report["lean_middlewares"] = {
                "pages_per_second_lean": lean["pages_per_second"],
                "pages_per_second_all": full["pages_per_second"],
                "gain": round(lean["pages_per_second"] / full["pages_per_second"] - 1, 4),
                "cpu_seconds_lean": lean["cpu_seconds"],
                "cpu_seconds_all": full["cpu_seconds"],
            }
            on, off = report["crawl_recommended_images"], report["crawl_recommended"]
            report["images"] = {
                "pages_per_second_on": on["pages_per_second"],
                "pages_per_second_off": off["pages_per_second"],
                "images": on["images"],
                "images_per_second": on["images_per_second"],
                "mb_stored": round(on["image_bytes"] / 1e6, 1),
                "mb_per_second": round(on["image_bytes"] / 1e6 / on["seconds"], 2),
                "seconds_on": on["seconds"],
                "seconds_off": off["seconds"],
                **image_cpu(runs["crawl_recommended_images"], runs["crawl_recommended"]),
            }
            two = crawl_two_workers(url, work / "two-workers", RECOMMENDED, args.articles)
            progress("two workers on Redis", two or {})
            if two is not None:
                report["crawl_two_workers"] = two
            rerun = crawl(url, work / "recommended-0", RECOMMENDED, rerun=True)
            progress("incremental rerun", rerun)
            report["incremental_rerun"] = {
                "requests": rerun["requests"],
                "articles": rerun["articles"],
                "share_of_first_run_requests": round(rerun["requests"] / report["crawl_recommended"]["requests"], 4),
            }
            report["peak_rss_mb"] = {}
            for size in [int(s) for s in args.rss_sizes.split(",") if s]:
                sized = work / f"site-{size}"
                build_site(sized, size)
                sized_server, sized_url, _ = start_server(sized)
                try:
                    sized_run = crawl(sized_url, work / f"rss-{size}", RECOMMENDED)
                    report["peak_rss_mb"][size] = sized_run["peak_rss_mb"]
                    progress(f"peak RSS at {size} articles ({sized_run['peak_rss_mb']} MB)", sized_run)
                finally:
                    sized_server.terminate()
            report["history"] = {
                size: history_costs(url, work, size) for size in (int(s) for s in args.history.split(",") if s)
            }
        finally:
            server.terminate()
            distinct_server.terminate()
        bench_pps = report["scrapy_bench"]["pages_per_second"]
        for key in (
            "crawl_default",
            "crawl_recommended",
            "crawl_recommended_twisted",
            "crawl_recommended_two_processes",
            "crawl_two_workers",
        ):
            if key in report:
                report[key]["ratio_to_scrapy_bench"] = round(report[key]["pages_per_second"] / bench_pps, 2)
        report["cpu_us_per_article"] = stage_costs(site)
        crawl_cpu = report["crawl_recommended"]["cpu_seconds"] / max(1, report["crawl_recommended"]["articles"]) * 1e6
        report["cpu_us_per_article"]["whole_crawl_process"] = round(crawl_cpu, 1)
        report["cpu_us_per_article"]["download_and_framework (rest)"] = round(
            crawl_cpu - sum(v for k, v in report["cpu_us_per_article"].items() if k != "whole_crawl_process"), 1
        )
        report["date_parse_us_per_call"] = date_costs()
        report["settings"] = {
            "default": BASE_SETTINGS,
            "recommended": RECOMMENDED,
            "recommended_twisted_client": TWISTED,
            "project": {k: v for k, v in _project_settings().items()},
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print_report(report, args.json)
    return report


STARTED = time.monotonic()


def progress(phase: str, figures: dict | None = None) -> None:
    """One line per phase as it ends, with its speed when it has one: the benchmark is never silent for long."""
    speed = f": {figures.get('pages_per_second', '?')} pages/s" if figures is not None else ""
    print(f"[{time.monotonic() - STARTED:6.0f} s] {phase}{speed}", file=sys.stderr, flush=True)


def grow_history(out: Path, size: int) -> int:
    """Make the journal in `out` hold `size` articles: the crawled ones, then copies of the longest crawled
    line under new ids, appended through the project's journal but not recorded in the state, as a run
    killed before its commits would leave them. Returns the journal's size in bytes."""
    from newscrawl.state.journal import Journal

    path = out / "items.jsonl"
    lines = path.read_bytes().splitlines()
    template = json.loads(max(lines, key=len))
    published = datetime.fromisoformat(template["published"]).timestamp()
    journal = Journal(path)
    try:
        for start in range(len(lines), size, 1000):
            records = []
            for number in range(start, min(size, start + 1000)):
                article_id = f"9{number:08d}"
                records.append(
                    {
                        **template,
                        "id": f"mydrivers:{article_id}",
                        "article_id": article_id,
                        "story": f"mydrivers:{article_id}",  # a story of its own, as most articles are
                        "url": f"https://news.mydrivers.com/1/{article_id[:3]}/{article_id}.htm",
                        "title": f"{template['title']} {number}",
                        "published": datetime.fromtimestamp(published - number * 60, UTC).isoformat(),
                    }
                )
            journal.append(records)
    finally:
        journal.close()
    return path.stat().st_size


def history_costs(url: str, work: Path, size: int) -> dict:
    """What `size` articles of history cost: the run that finds them in the journal unrecorded (and
    records them and writes their posts), a rerun with nothing new, the same rerun after the journal was
    copied (restored from a backup: another inode, the same bytes), `scrapy report` over the folder, and
    a rerun after the state was deleted (rebuilt from the journal) — each one's time and peak RSS."""
    out = work / f"history-{size}"
    crawl(url, out, RECOMMENDED)
    journal_bytes = grow_history(out, size)
    figures: dict = {"articles": size, "journal_mb": round(journal_bytes / 1e6, 1)}
    figures["recovering_rerun"] = _history_run(crawl(url, out, RECOMMENDED, rerun=True))
    progress(f"history of {size}: recovering rerun ({figures['recovering_rerun']['peak_rss_mb']} MB)")
    figures["ordinary_rerun"] = _history_run(crawl(url, out, RECOMMENDED, rerun=True))
    progress(f"history of {size}: ordinary rerun ({figures['ordinary_rerun']['peak_rss_mb']} MB)")
    journal = out / "items.jsonl"
    copy = journal.with_name("items.jsonl.restoring")
    shutil.copyfile(journal, copy)
    os.replace(copy, journal)
    figures["copied_journal_rerun"] = _history_run(crawl(url, out, RECOMMENDED, rerun=True))
    progress(f"history of {size}: copied journal ({figures['copied_journal_rerun']['peak_rss_mb']} MB)")
    log, usage = run_measured(
        [sys.executable, "-m", "scrapy", "report", str(out), "-o", str(work / f"report-{size}.html")], REPO
    )
    if usage["exit_status"] != 0:
        raise RuntimeError(f"scrapy report failed ({usage['exit_status']}):\n{log[-3000:]}")
    figures["report"] = {"cpu_seconds": round(usage["cpu_seconds"], 2), "peak_rss_mb": usage["peak_rss_mb"]}
    progress(f"history of {size}: scrapy report ({usage['peak_rss_mb']} MB)")
    for path in out.glob("state.sqlite*"):
        path.unlink()
    figures["rebuilt_state_rerun"] = _history_run(crawl(url, out, RECOMMENDED, rerun=True))
    progress(f"history of {size}: rebuilt state ({figures['rebuilt_state_rerun']['peak_rss_mb']} MB)")
    ordinary = figures["ordinary_rerun"]["peak_rss_mb"]
    for phase in ("recovering_rerun", "copied_journal_rerun", "report", "rebuilt_state_rerun"):
        figures[phase]["peak_rss_over_ordinary_rerun"] = round(figures[phase]["peak_rss_mb"] / ordinary, 2)
    shutil.rmtree(out)
    return figures


def _history_run(run: dict) -> dict:
    return {key: run[key] for key in ("articles", "seconds", "cpu_seconds", "peak_rss_mb")}


def _images_run(url: str, out: Path) -> dict:
    """A crawl mirroring images; its store (hundreds of MB) removed once measured."""
    measured = crawl(url, out, {**RECOMMENDED, "NEWSCRAWL_IMAGES_STORE": str(out / "images")})
    shutil.rmtree(out / "images")
    return measured


def image_cpu(on: list[dict], off: list[dict]) -> dict:
    """What an image costs in CPU (the crawl process and its parse process), medians over the rounds:
    the run's CPU over its images, and what the run with images took beyond the same round's run without,
    over its images (the images' own cost; images per CPU-second is its inverse)."""
    whole = statistics.median(run["cpu_seconds"] / run["images"] * 1000 for run in on)
    beyond = statistics.median(
        (with_images["cpu_seconds"] - without["cpu_seconds"]) / with_images["images"] * 1000
        for with_images, without in zip(on, off, strict=True)
    )
    return {
        "cpu_ms_per_image": round(whole, 3),
        "cpu_ms_per_image_beyond_articles": round(beyond, 3),
        "images_per_cpu_second": round(1000 / beyond, 1) if beyond > 0 else None,
    }


def _cost(on: dict, off: dict) -> dict:
    """What a feature costs: pages/s with it and without, and the share of speed it takes."""
    return {
        "pages_per_second_on": on["pages_per_second"],
        "pages_per_second_off": off["pages_per_second"],
        "cost_share": round(1 - on["pages_per_second"] / off["pages_per_second"], 4),
    }


def _cost_and_cpu(on: dict, off: dict) -> dict:
    """`_cost`, with the CPU time of each run."""
    return {**_cost(on, off), "cpu_seconds_on": on["cpu_seconds"], "cpu_seconds_off": off["cpu_seconds"]}


def _median_run(runs: list[dict]) -> dict:
    """The run with the median pages/s, and every run's pages/s beside it."""
    ordered = sorted(runs, key=lambda run: run["pages_per_second"])
    return {**ordered[(len(ordered) - 1) // 2], "pages_per_second_each_run": [run["pages_per_second"] for run in runs]}


def _project_settings() -> dict:
    from scrapy.utils.project import get_project_settings

    os.chdir(REPO)
    settings = get_project_settings()
    return {
        name: settings.get(name)
        for name in (
            "CONCURRENT_REQUESTS",
            "CONCURRENT_REQUESTS_PER_DOMAIN",
            "CONCURRENT_ITEMS",
            "DOWNLOAD_DELAY",
            "AUTOTHROTTLE_ENABLED",
            "WARN_ON_GENERATOR_RETURN_VALUE",
        )
    }


def print_report(report: dict, path: Path) -> None:
    bench, default, recommended = report["scrapy_bench"], report["crawl_default"], report["crawl_recommended"]
    print(
        f"newscrawl benchmark — {report['articles']} articles, server: {report['server']}, "
        f"{report['machine']['cpus']} CPUs, Python {report['machine']['python']}"
    )
    print(
        f"  scrapy bench:            {bench['pages_per_second']:8.1f} pages/s  "
        f"(runs: {bench['pages_per_second_each_run']})"
    )
    for name, run in (
        ("crawl, default", default),
        ("crawl, recommended", recommended),
        ("rec., Twisted client", report["crawl_recommended_twisted"]),
    ):
        print(
            f"  {name + ':':24s} {run['pages_per_second']:8.1f} pages/s  {run['articles_per_second']:7.1f} articles/s"
            f"  = {run['ratio_to_scrapy_bench']:.2f}× scrapy bench  (runs: {run['pages_per_second_each_run']}; "
            f"peak RSS {run['peak_rss_mb']} MB)"
        )
    processes = report["crawl_recommended_two_processes"]
    gain = processes["articles_per_second"] / recommended["articles_per_second"]
    print(
        f"  2 processes, one state:  {processes['pages_per_second']:8.1f} pages/s  "
        f"{processes['articles_per_second']:7.1f} articles/s  = {processes['ratio_to_scrapy_bench']:.2f}× scrapy bench"
        f"  (runs: {processes['pages_per_second_each_run']}; articles by process: "
        f"{processes['articles_by_process']}; {gain:.2f}× one process' articles/s)"
    )
    if two := report.get("crawl_two_workers"):
        print(
            f"  2 workers (Redis), rec.: {two['pages_per_second']:8.1f} pages/s  "
            f"{two['articles_per_second']:7.1f} articles/s"
            f"  = {two['ratio_to_scrapy_bench']:.2f}× scrapy bench  (articles by worker: {two['articles_by_worker']}; "
            f"listing pages are fetched by both)"
        )
    else:
        print("  2 workers (Redis):       not measured (redis-server is not installed)")
    feeds = report["feeds"]
    print(
        f"  feeds (rec.):            on {feeds['pages_per_second_on']} vs off {feeds['pages_per_second_off']} pages/s "
        f"(cost {feeds['cost_share']:.1%}); writing them took {feeds['feed_writing_seconds']} s "
        f"= {feeds['feed_writing_share_of_run']:.2%} of the run"
    )
    for label, key, note in (
        ("stories (rec.):         ", "stories", ""),
        (
            "stories, distinct bodies:",
            "stories_distinct_bodies",
            " (every article a body of its own but the site's one real pair)",
        ),
    ):
        stories = report[key]
        print(
            f"  {label} on {stories['pages_per_second_on']} vs off {stories['pages_per_second_off']} "
            f"pages/s (cost {stories['cost_share']:.1%}); CPU {stories['cpu_seconds_on']:.1f} s vs "
            f"{stories['cpu_seconds_off']:.1f} s{note}"
        )
    lean = report["lean_middlewares"]
    print(
        f"  lean middlewares (rec.): {lean['pages_per_second_lean']} vs {lean['pages_per_second_all']} pages/s with "
        f"Scrapy's Referer, URL length, proxy and meta refresh middlewares ({lean['gain']:+.1%}); CPU "
        f"{lean['cpu_seconds_lean']:.1f} s vs {lean['cpu_seconds_all']:.1f} s"
    )
    capture = report["capture"]
    print(
        f"  WARC capture (rec.):     on {capture['pages_per_second_on']} "
        f"vs off {capture['pages_per_second_off']} pages/s "
        f"(cost {capture['cost_share']:.1%}); {capture['warc_mb_per_1000_articles']} MB per 1,000 articles "
        f"({capture['warc_kb_per_page']} kB per page)"
    )
    images = report["images"]
    print(
        f"  images (rec.):           off {images['pages_per_second_off']} pages/s ({images['seconds_off']} s); on "
        f"{images['pages_per_second_on']} pages/s ({images['seconds_on']} s) with {images['images']} images stored: "
        f"{images['images_per_second']} images/s, {images['mb_per_second']} MB/s, {images['mb_stored']} MB; "
        f"CPU {images['cpu_ms_per_image']} ms per image in all, {images['cpu_ms_per_image_beyond_articles']} ms "
        f"beyond the crawl without images"
        + (f" ({images['images_per_cpu_second']} images per CPU-second)" if images["images_per_cpu_second"] else "")
    )
    print(
        f"  incremental rerun:       {report['incremental_rerun']['requests']} requests "
        f"= {report['incremental_rerun']['share_of_first_run_requests']:.2%} of the first run's"
    )
    print("  peak RSS by site size:   " + ", ".join(f"{k}: {v} MB" for k, v in report["peak_rss_mb"].items()))
    for size, history in report["history"].items():
        print(
            f"  history of {size} articles ({history['journal_mb']} MB journal), peak RSS and CPU: "
            + "; ".join(
                f"{phase.replace('_', ' ')} {history[phase]['peak_rss_mb']} MB, {history[phase]['cpu_seconds']} s"
                for phase in (
                    "recovering_rerun",
                    "ordinary_rerun",
                    "copied_journal_rerun",
                    "rebuilt_state_rerun",
                    "report",
                )
            )
        )
    print("  CPU µs per article:      " + ", ".join(f"{k} {v}" for k, v in report["cpu_us_per_article"].items()))
    print("  date parsing µs/call:    " + ", ".join(f"{k} {v}" for k, v in report["date_parse_us_per_call"].items()))
    print(f"  settings: default {report['settings']['default']}; recommended {report['settings']['recommended']}")
    print(f"  figures written to {path}")


if __name__ == "__main__":
    main()
