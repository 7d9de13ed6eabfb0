"""The site's own rules, on a real server: robots.txt's Crawl-delay spaces the requests (measured in the
server's log), Retry-After is waited for up to its cap and past it left to the next run, and a block or a
challenge page is a reason to look (exit 2) that leaves its article pending — not a layout break."""

import json
import time
from pathlib import Path

from conftest import Server, request_log, run_crawl


def test_crawl_delay_in_robots_txt_spaces_the_requests_to_that_host(tmp_path: Path, site_copy):
    root, _ = site_copy
    (root / "robots.txt").write_text("User-agent: *\nCrawl-delay: 2\n", encoding="utf-8")
    requests = tmp_path / "requests.log"
    server = Server([root.parent], request_log=requests)
    try:
        result = run_crawl(tmp_path, server, "-a", "tag=xiaomi12_ultra")
    finally:
        server.stop()
    assert result.returncode == 0, result.log[-3000:]
    assert len(result.items) == 2
    assert "robots.txt of news.mydrivers.com asks for 2 s between requests: honoured" in result.log
    pages = [moment for moment, where in request_log(requests) if not where.endswith("/robots.txt")]
    gaps = [later - earlier for earlier, later in zip(pages, pages[1:], strict=False)]
    assert len(pages) == 4 and min(gaps) >= 2.0, gaps  # 2 listing pages, 2 articles


def _fault(root: Path, page: str, fault: dict) -> None:
    (root / f"{page}.fault").write_text(json.dumps(fault), encoding="utf-8")


def test_a_short_retry_after_is_waited_for(tmp_path: Path, site_copy):
    root, server = site_copy
    _fault(root, "1/833/833153.htm", {"status": 429, "times": 1, "headers": {"Retry-After": "2"}})
    started = time.monotonic()
    result = run_crawl(tmp_path, server, "-a", "tag=laika", incremental=True)
    assert result.returncode == 0, result.log[-3000:]
    assert [item["article_id"] for item in result.items] == ["833153"]
    assert result.stats["newscrawl/politeness/retry_after_honoured"] == 1
    assert time.monotonic() - started >= 2.0


def test_a_long_retry_after_leaves_the_article_to_the_next_run(tmp_path: Path, site_copy):
    root, server = site_copy
    _fault(root, "1/833/833153.htm", {"status": 429, "headers": {"Retry-After": "3600"}})
    first = run_crawl(tmp_path, server, "-a", "tag=laika", incremental=True)
    assert first.returncode == 0, first.log[-3000:]  # the site's rule, not a failure: nothing to look at
    assert first.items == [] and first.stats["newscrawl/politeness/retry_after_too_long"] == 1
    assert "asking to wait 3600 s (over NEWSCRAWL_RETRY_AFTER_MAX, 120 s)" in first.log
    summary = json.loads((tmp_path / "out/summary.json").read_text(encoding="utf-8"))
    assert summary["pending"]["articles"] == 1
    (root / "1/833/833153.htm.fault").unlink()
    second = run_crawl(tmp_path, server, "-a", "tag=laika", incremental=True)
    assert second.returncode == 0 and [item["article_id"] for item in second.items] == ["833153"]


CHALLENGE = """<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>
<div class="main-wrapper"><h1>Checking your browser</h1><noscript>Enable JavaScript and cookies to continue</noscript></div>
<script>(function(){window._cf_chl_opt={cvId:'3',cZone:'news.mydrivers.com',cType:'managed'};
var a=document.createElement('script');a.src='/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray=8f';
document.getElementsByTagName('head')[0].appendChild(a);})();</script></body></html>"""


def test_a_challenge_page_served_as_200_is_a_block_not_a_layout_break(tmp_path: Path, site_copy):
    root, server = site_copy
    article = root / "1/833/833153.htm"
    real = article.read_bytes()
    article.write_text(CHALLENGE, encoding="utf-8")
    first = run_crawl(tmp_path, server, "-a", "tag=laika", incremental=True)
    assert first.returncode == 2, first.log[-3000:]
    assert first.items == [] and first.posts == {}
    summary = json.loads((tmp_path / "out/summary.json").read_text(encoding="utf-8"))
    assert set(summary["needs_attention"]) == {"blocked"} and summary["alarm"] is None, summary
    assert summary["pending"]["articles"] == 1
    assert first.stats["newscrawl/blocked/challenge_page"] == 1
    assert "Blocked by news.mydrivers.com (challenge_page)" in first.log
    article.write_bytes(real)  # the block is over: the next run exports the article
    second = run_crawl(tmp_path, server, "-a", "tag=laika", incremental=True)
    assert second.returncode == 0 and [item["article_id"] for item in second.items] == ["833153"]


def test_a_403_on_a_listing_page_is_a_block(tmp_path: Path, site_copy):
    root, server = site_copy
    _fault(root, "tag/laika.htm", {"status": 403})
    result = run_crawl(tmp_path, server, "-a", "tag=laika", incremental=True)
    assert result.returncode == 2, result.log[-3000:]
    summary = json.loads((tmp_path / "out/summary.json").read_text(encoding="utf-8"))
    assert set(summary["needs_attention"]) == {"blocked"} and summary["alarm"] is None  # not first_page_gone
    (root / "tag/laika.htm.fault").unlink()  # a tag's first page is asked for by every run
    second = run_crawl(tmp_path, server, "-a", "tag=laika", incremental=True)
    assert second.returncode == 0 and [item["article_id"] for item in second.items] == ["833153"]
