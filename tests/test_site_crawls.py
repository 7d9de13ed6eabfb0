"""Every registered site crawls end to end from its bundled listings, and the CLI knows it (subprocess
runs; the in-process site contract is tests/unit/test_site_contract.py)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import site_contract
from conftest import FIXTURES, REPO, Server, run_crawl

from newscrawl.sites import all_sites

SITES = sorted(all_sites())


@pytest.mark.parametrize("name", SITES)
def test_listings_crawl_end_to_end(name: str, tmp_path: Path):
    fixtures = site_contract.load(name, FIXTURES)
    server = Server([fixtures.folder / "site"])
    try:
        tags = ",".join(tag["slug"] for tag in fixtures.spec["tags"])
        result = run_crawl(tmp_path, server, "-a", f"tag={tags}", spider=name)
    finally:
        server.stop()
    assert result.returncode == 0, result.log
    assert sorted(item["url"] for item in result.items) == sorted(fixtures.listed_article_urls())
    for item in result.items:
        site_contract.VALIDATOR.validate(item)
    assert len(result.posts) == len(result.items)


def test_scrapy_list_shows_every_site():
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "list"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.split() == sorted([*SITES, "generic"])


@pytest.mark.parametrize("name", SITES)
def test_scrapy_extract_picks_the_site_from_the_url(name: str):
    fixtures = site_contract.load(name, FIXTURES)
    article = fixtures.spec["articles"][0]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "extract",
            str(fixtures.page(article["url"])),
            "--url",
            article["url"],
            "--fetched-at",
            site_contract.FETCHED_AT,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(fixtures.expected(article["url"]).read_text(encoding="utf-8"))
