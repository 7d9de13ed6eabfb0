"""`scrapy report`: the page made from real crawls of the bundled site, opened in a real headless Chromium
(Debian's package, driven by Playwright): it loads from the file with no console error, shows its
charts, and runs nothing a crawled title holds. The screenshot is kept in the test's folder."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import CHROMIUM_ARGS, REPO, SAMPLE_ARTICLE, chromium, run_crawl

from newscrawl.exporters.report import Material, articles_per_day, brief

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
        walks = page.locator("table.walks").inner_text()  # from the crawl state, read-only
        assert "小米12 Ultra" in walks and "complete" in walks and page.locator("table.walks tr").count() == 5
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
                f"s:{n}": brief({"id": f"s:{n}", "site": "s", "published": f"{day}T10:00:00+08:00"}, 0, 0)
                for n, day in enumerate(days)
            }
        )

    short = articles_per_day(material("2022-01-01", "2022-01-03", "2022-01-03"))
    assert "2022-01-01 · s: 1<" in short and "2022-01-02: none<" in short and "2022-01-03 · s: 2<" in short
    long = articles_per_day(material("2022-01-01", "2022-01-31", "2022-09-01"))
    assert "Articles per month" in long and "2022-01 · s: 2<" in long and "2022-05: none<" in long


def runs_file(path: Path, count: int) -> Path:
    """`count` runs, ten minutes apart, some needing a person."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    lines = []
    for number in range(count):
        finished = (start + timedelta(minutes=10 * number)).isoformat()
        attention = {"blocked": 1} if number % 97 == 5 else {}
        lines.append(
            json.dumps(
                {
                    "spider": "mydrivers",
                    "finished": finished,
                    "finish_reason": "finished",
                    "exit_code": 2 if attention else 0,
                    "needs_attention": attention,
                    "articles": {"exported": number % 7},
                    "dropped": {},
                    "errors": {"http_503": number % 3},
                }
            )
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


OVERLAPS = """
() => [...document.querySelectorAll('svg.chart')].map(svg => {
  const frame = svg.getBoundingClientRect();
  const boxes = [...svg.querySelectorAll('text')].map(t => t.getBoundingClientRect());
  const outside = boxes.filter(b => b.left < frame.left - 0.5 || b.right > frame.right + 0.5
                                  || b.top < frame.top - 0.5 || b.bottom > frame.bottom + 0.5).length;
  let overlapping = 0;
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) overlapping++;
  }
  return {labels: boxes.length, outside, overlapping};
})
"""


@pytest.mark.parametrize("runs", [10, 1000])
def test_the_runs_chart_reads_well_at_10_and_1000_runs(tmp_path: Path, runs: int):
    playwright = pytest.importorskip("playwright.sync_api", reason="the test extras install Playwright")
    from newscrawl.exporters.report import read_material, render_report

    material = read_material([runs_file(tmp_path / "runs.jsonl", runs)])
    page_file = tmp_path / "report.html"
    page_file.write_text(render_report(material), encoding="utf-8")
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        page.goto(page_file.as_uri())
        charts = page.evaluate(OVERLAPS)
        page.screenshot(path=str(tmp_path / f"report-{runs}.png"), full_page=True)
        caption = page.locator("figcaption").nth(1).inner_text()
        attention = page.locator("table.attention").inner_text() if page.locator("table.attention").count() else ""
        bars = page.locator("svg.chart").nth(1).locator("rect").count()
        browser.close()
    print(f"screenshot: {tmp_path / f'report-{runs}.png'}")
    runs_chart = charts[1]
    assert runs_chart["labels"] >= 4 and runs_chart["overlapping"] == 0 and runs_chart["outside"] == 0, charts
    assert "blocked" in attention
    if runs == 10:
        assert caption.startswith("Runs (UTC)") and bars >= 10  # one bar a run
    else:
        assert caption.startswith("1000 runs, summed per day") and bars < 200  # 7 days of runs, not 1000 bars


def test_shown_articles_are_read_again_from_their_latest_lines(tmp_path: Path):
    """The report keeps a brief of each article and reads the lines of those it shows (the latest, the
    stories' members) again: the latest revision's title and URL, the stories' leads and members; a line
    too long to be an article's, before them, is skipped without moving their places."""
    from newscrawl.exporters.report import MAX_LINE, read_material, render_report

    template = json.loads(json.dumps(dataclasses.asdict(SAMPLE_ARTICLE)))

    def line(number: int, revision: int, title: str, story: str | None, day: int) -> dict:
        return {
            **template,
            "id": f"mydrivers:{number}",
            "article_id": str(number),
            "url": f"https://news.mydrivers.com/1/{number}.htm",
            "title": title,
            "revision": revision,
            "story": story,
            "published": f"2026-11-{day:02d}T10:00:00+08:00",
        }

    lines = [
        line(1, 1, "one, first", "mydrivers:1", 1),
        line(2, 1, "two", "mydrivers:1", 2),
        line(3, 1, "three", None, 3),
        line(1, 2, "one, revised", "mydrivers:1", 1),
        *(line(number, 1, f"told again {number}", "mydrivers:10", 4) for number in range(10, 23)),
    ]
    journal = tmp_path / "items.jsonl"
    journal.write_bytes(
        b'{"long": "' + b"x" * MAX_LINE + b'"}\n' + b"".join(json.dumps(x).encode() + b"\n" for x in lines)
    )
    material = read_material([journal])
    assert material.unreadable_lines == 1 and len(material.articles) == 16
    page = render_report(material)
    latest = page[page.index('<table class="latest">') :]
    assert (
        latest.index(">told again 22<")
        < latest.index(">three<")
        < latest.index(">two<")
        < latest.index(">one, revised<")
    )
    assert "one, first" not in page
    stories = page[page.index('<table class="stories">') : page.index('<table class="latest">')]
    assert ">one, revised</a>" in stories and '1/2.htm" rel="noopener noreferrer">mydrivers:2</a>' in stories
    assert (
        ">told again 10</a>" in stories
        and stories.count('noreferrer">mydrivers:') == 10 + 1
        and "and 2 more" in stories
    )
    journal.write_bytes(b"")  # rewritten since it was read: the shown articles are their ids
    assert ">mydrivers:3<" in render_report(material)
    journal.unlink()  # gone since it was read: the same
    assert ">mydrivers:3<" in render_report(material)
