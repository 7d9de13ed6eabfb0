"""`scrapy report`: the page made from real crawls of the bundled site, opened in a real headless Chromium
(Debian's package, driven by Playwright): it loads from the file with no console error, shows its
charts, and runs nothing a crawled title holds. The screenshot is kept in the test's folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CHROMIUM_ARGS, REPO, chromium, run_crawl

from newscrawl.exporters.report import Material, articles_per_day

TAGS = "tag=xiaomi12_ultra,windows_11,nvidia,intel"


def report(out: Path, target: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "report", str(out), "-o", str(target)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def crawled(tmp_path: Path, site_server) -> Path:
    """Two scheduled runs of the bundled site (the second finds nothing new), and a hostile journal line."""
    for _ in range(2):
        assert run_crawl(tmp_path, site_server, "-a", TAGS, incremental=True).returncode == 0
    out = tmp_path / "out"
    hostile = json.loads((out / "items.jsonl").read_text(encoding="utf-8").splitlines()[0])
    hostile.update(
        id="mydrivers:1", article_id="1", revision=1, title="<script>alert(1)</script><img src=x onerror=alert(2)>"
    )
    # Lines newscrawl never writes: skipped and counted, never charted (a javascript: URL, malformed tags, no site).
    foreign = [
        {**hostile, "id": "mydrivers:2", "article_id": "2", "url": "javascript:alert(3)"},
        {**hostile, "id": "mydrivers:3", "article_id": "3", "tags": "小米"},
        {key: value for key, value in {**hostile, "id": "mydrivers:4", "article_id": "4"}.items() if key != "site"},
        {"finish_reason": "finished", "articles": {"exported": "many"}},
    ]
    (out / "hostile.jsonl").write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in [hostile, *foreign]), encoding="utf-8"
    )
    return out


def test_the_report_counts_what_the_journal_and_run_history_hold(crawled: Path, tmp_path: Path):
    done = report(crawled, tmp_path / "report.html")
    assert done.returncode == 0, done.stderr
    runs = (crawled / "runs.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(runs) == 2 and json.loads(runs[1])["articles"]["exported"] == 0
    articles = len((crawled / "items.jsonl").read_text(encoding="utf-8").splitlines()) + 1
    assert f"wrote {tmp_path / 'report.html'}: {articles} articles, 2 runs (4 line(s) skipped" in done.stdout
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "javascript:" not in page.replace("default-src", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_missing_folder_is_one_line_and_exit_1(tmp_path: Path):
    done = report(tmp_path / "nothing", tmp_path / "report.html")
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "no such journal" in done.stderr


def test_the_report_renders_in_chromium(crawled: Path, tmp_path: Path):
    playwright = pytest.importorskip("playwright.sync_api", reason="the test extras install Playwright")
    target = tmp_path / "report.html"
    assert report(crawled, target).returncode == 0
    problems: list[str] = []
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        page.on(
            "console",
            lambda message: (
                problems.append(f"console {message.type}: {message.text}")
                if message.type in ("error", "warning")
                else None
            ),
        )
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("dialog", lambda dialog: (problems.append(f"a dialog opened: {dialog.message}"), dialog.dismiss()))
        page.on(
            "request",
            lambda request: (
                problems.append(f"fetched {request.url}") if not request.url.startswith("file://") else None
            ),
        )
        page.goto(target.as_uri())
        charts = page.locator("svg.chart")
        assert charts.count() == 2
        assert page.locator("svg.chart rect").count() >= 5  # bars drawn, in both charts
        assert page.locator("svg.chart").nth(1).locator("rect").count() >= 2  # the two runs
        box = charts.nth(0).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100  # laid out, visible
        assert page.locator("table.coverage tr").count() == 2  # the header and 快科技
        assert page.locator("table.latest a").count() >= 10
        assert page.get_by_text("<script>alert(1)</script>", exact=False).count() == 1  # shown as text
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    print(f"screenshot: {tmp_path / 'report.png'}")
    assert not problems, problems


def test_the_days_chart_has_every_day_and_a_long_span_counts_by_month():
    def material(*days: str) -> Material:
        return Material(
            articles={
                f"s:{n}": {"id": f"s:{n}", "site": "s", "published": f"{day}T10:00:00+08:00"}
                for n, day in enumerate(days)
            }
        )

    short = articles_per_day(material("2022-01-01", "2022-01-03", "2022-01-03"))
    assert "2022-01-01 · s: 1<" in short and "2022-01-02: none<" in short and "2022-01-03 · s: 2<" in short
    long = articles_per_day(material("2022-01-01", "2022-01-31", "2022-09-01"))
    assert "Articles per month" in long and "2022-01 · s: 2<" in long and "2022-05: none<" in long
