"""Scheduling with a real scrapyd 1.6 on 127.0.0.1 (SQLite job storage), pointed at the project."""

import json
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO, Server

SCRAPYD_CONF = """[scrapyd]
bind_address = 127.0.0.1
http_port = {port}
jobstorage = scrapyd.jobstorage.SqliteJobStorage
dbs_dir = {root}/dbs
logs_dir = {root}/logs
eggs_dir = {root}/eggs
poll_interval = 0.2
max_proc = 2

[settings]
newscrawl = newscrawl.settings
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def scrapyd(tmp_path: Path):
    port = free_port()
    (tmp_path / "scrapyd.conf").write_text(SCRAPYD_CONF.format(port=port, root=tmp_path))
    (tmp_path / "scrapy.cfg").write_text((REPO / "scrapy.cfg").read_text())  # scrapyd runs `scrapy` in its folder
    log = open(tmp_path / "scrapyd.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/daemonstatus.json", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError((tmp_path / "scrapyd.log").read_text())
    yield url, tmp_path
    process.terminate()
    process.wait(timeout=20)
    log.close()


def schedule(url: str, spider: str, **args: str) -> str:
    fields = [("project", "newscrawl"), ("spider", spider)]
    for name, value in args.items():
        if name == "settings":
            fields += [("setting", setting) for setting in value.split("|")]
        else:
            fields.append((name, value))
    answer = json.load(
        urllib.request.urlopen(f"{url}/schedule.json", data=urllib.parse.urlencode(fields).encode(), timeout=10)
    )
    assert answer["status"] == "ok", answer
    return answer["jobid"]


def wait_finished(url: str, job: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = json.load(urllib.request.urlopen(f"{url}/listjobs.json?project=newscrawl", timeout=10))
        for finished in jobs["finished"]:
            if finished["id"] == job:
                return finished
        time.sleep(0.3)
    raise TimeoutError(f"scrapyd job {job} did not finish")


def job_settings(out: Path, server: Server) -> str:
    return "|".join(
        [
            f"NEWSCRAWL_OFFLINE_ROOT={server.url}",
            f"NEWSCRAWL_JSONL={out}/items.jsonl",
            f"NEWSCRAWL_STATE={out}/state.sqlite",
            f"NEWSCRAWL_POSTS_DIR={out}/posts",
            f"NEWSCRAWL_SUMMARY_FILE={out}/summary.json",
            f"NEWSCRAWL_RUNS_FILE={out}/runs.jsonl",
            f"NEWSCRAWL_FEEDS_DIR={out}/feeds",
            "DOWNLOAD_DELAY=0",
            "AUTOTHROTTLE_ENABLED=False",
            "NEWSCRAWL_PARSE_PROCESS=True",
        ]
    )


def test_scheduled_tag_crawl_and_a_failed_job_on_altered_markup(scrapyd, site_server, site_copy):
    url, root = scrapyd
    spiders = json.load(urllib.request.urlopen(f"{url}/listspiders.json?project=newscrawl", timeout=30))
    assert sorted(spiders["spiders"]) == ["cnbeta", "generic", "mydrivers", "oschina"]

    good = schedule(url, "mydrivers", tag="xiaomi12_ultra", settings=job_settings(root / "good", site_server))
    wait_finished(url, good)
    items = [json.loads(line) for line in (root / "good/items.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(item["article_id"] for item in items) == ["833153", "848601"]
    good_summary = json.loads((root / "good/summary.json").read_text())
    assert good_summary["articles"]["new"] == 2
    assert "newscrawl/parse_process/gone" not in good_summary["stats"]  # the job's parse process ran

    # The same job again, as cron would: nothing new, nothing emitted.
    again = schedule(url, "mydrivers", tag="xiaomi12_ultra", settings=job_settings(root / "good", site_server))
    wait_finished(url, again)
    assert len((root / "good/items.jsonl").read_text(encoding="utf-8").splitlines()) == 2

    # Markup changed (in a copy): the body container is renamed; the main-content fallback reads the
    # bodies, and the job fails with the layout-break alarm naming the field.
    altered_root, altered_server = site_copy
    for page in (altered_root / "1").rglob("*.htm"):
        page.write_bytes(page.read_bytes().replace(b'class="news_info"', b'class="news_content"'))
    bad = schedule(url, "mydrivers", tag="xiaomi12_ultra", settings=job_settings(root / "bad", altered_server))
    wait_finished(url, bad)
    log = (root / "scrapyd.log").read_text()
    assert f"Process died: exitstatus=3 project='newscrawl' spider='mydrivers' job='{bad}'" in log
    assert f"Process finished: project='newscrawl' spider='mydrivers' job='{good}'" in log
    summary = json.loads((root / "bad/summary.json").read_text())
    assert "fields found only by fallbacks (the site's markup changed?): body_html in 2 article(s)" in summary["alarm"]


def test_a_scheduled_job_by_two_processes(scrapyd, site_server):
    """scrapyd's runner is process 1: it starts process 2 with its own command line (scrapyd's)."""
    url, root = scrapyd
    tags = "xiaomi12_ultra,xiaomi,laika,windows_11,windowscaozuoxitong,nvidia,intel,amd,youxi,dianyuan"
    job = schedule(
        url, "mydrivers", tag=tags, settings=job_settings(root / "two", site_server) + "|NEWSCRAWL_PROCESSES=2"
    )
    wait_finished(url, job)
    assert f"Process finished: project='newscrawl' spider='mydrivers' job='{job}'" in (root / "scrapyd.log").read_text()
    by_process = {
        name: [json.loads(line)["article_id"] for line in (root / f"two/items.{name}.jsonl").read_text().splitlines()]
        for name in ("p1", "p2")
    }
    everything = by_process["p1"] + by_process["p2"]
    assert by_process["p1"] and by_process["p2"] and sorted(everything) == sorted(set(everything))
    assert len(everything) == 16
