"""`scrapy extract` as a user runs it (a subprocess in the project folder)."""

import json
import subprocess
import sys

from conftest import FETCHED_AT, FIXTURES, MYDRIVERS_SITE, REPO

SEED_PAGE = MYDRIVERS_SITE / "news.mydrivers.com/1/833/833153.htm"
SEED_URL = "https://news.mydrivers.com/1/833/833153.htm"


def extract(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "extract", *args], cwd=REPO, input=stdin, capture_output=True, timeout=60
    )


def test_json_equals_the_expected_item():
    done = extract(str(SEED_PAGE), "--url", SEED_URL, "--fetched-at", FETCHED_AT)
    assert done.returncode == 0, done.stderr
    expected = json.loads(SEED_PAGE.with_suffix(".expected.json").read_text(encoding="utf-8"))
    assert json.loads(done.stdout) == expected


def test_frontmatter_from_stdin_with_settings():
    done = extract(
        "-",
        "--url",
        SEED_URL,
        "--format",
        "frontmatter",
        "-s",
        "NEWSCRAWL_FRONTMATTER_DATES=archive",
        stdin=SEED_PAGE.read_bytes(),
    )
    assert done.returncode == 0, done.stderr
    seed = (FIXTURES / "mydrivers/posts/seed-example.md").read_text(encoding="utf-8")
    assert done.stdout.decode("utf-8") == seed.replace('<a href="javascript:;" class="jiucuo"', '<a class="jiucuo"')


def test_gbk_page_by_its_mobile_url():
    page = MYDRIVERS_SITE / "news.mydrivers.com/1/762/762514.htm"
    done = extract(str(page), "--url", "https://m.mydrivers.com/newsview/762514.html")
    item = json.loads(done.stdout)
    assert item["title"] == "Win10更新惹祸 游戏卡顿、掉帧：微软正式回应"
    assert item["url"] == "https://news.mydrivers.com/1/762/762514.htm"


def test_unusable_pages_exit_1_with_the_reason():
    done = extract("-", "--url", SEED_URL, stdin=b"<html><body><p>nothing</p></body></html>")
    assert done.returncode == 1 and b"missing_title: " + SEED_URL.encode() in done.stderr
    done = extract(str(SEED_PAGE), "--url", "https://example.com/a.htm")
    assert done.returncode == 1 and b"no site module serves https://example.com/a.htm" in done.stderr
    done = extract("no-such-file.htm", "--url", SEED_URL)
    assert done.returncode == 1 and b"FileNotFoundError" in done.stderr
