"""`scrapy doctor`: the live check, run on the bundled site and on a copy whose markup changed."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from conftest import REPO
from test_fallbacks import redesign


def doctor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "doctor", *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )


def test_the_bundled_site_is_healthy():
    done = doctor("mydrivers", "-a", "tag=windows_11,xiaomi", "--offline")
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    out = done.stdout
    assert "ok   listing https://news.mydrivers.com/tag/windows_11.htm" in out
    assert (
        "2 article link(s) by the site's selectors; next page: https://news.mydrivers.com/tag/windows_11_2.htm" in out
    )
    assert out.count("ok   article https://news.mydrivers.com/1/") == 4  # 2 on windows_11, the 2 of xiaomi
    assert "title      site" in out and "body_html  site" in out
    assert done.stderr == ""  # the report is the output: no log lines at the default level
    assert "fallback" not in out and "FIX" not in out
    assert out.rstrip().endswith("verdict: healthy")


def test_a_site_whose_markup_changed_is_reported_field_by_field_and_exits_3(site_copy):
    root, server = site_copy
    assert redesign(root) >= 10
    done = doctor("mydrivers", "-a", "tag=xiaomi12_ultra", "-s", f"NEWSCRAWL_OFFLINE_ROOT={server.url}")
    assert done.returncode == 3, done.stdout + done.stderr[-3000:]
    out = done.stdout
    assert "FIX  listing https://news.mydrivers.com/tag/xiaomi12_ultra.htm" in out
    assert (
        "no article link by the site's selectors; 3 by the listing fallback" in out or "by the listing fallback" in out
    )
    assert "fallback (og:title)" in out and "fallback (trafilatura)" in out
    assert "verdict: exit 3: listing https://news.mydrivers.com/tag/xiaomi12_ultra.htm" in out


def test_an_article_asked_for_by_url_is_checked_without_a_tag():
    done = doctor("oschina", "-a", "url=https://www.oschina.net/news/155130/kisso-3-7-7-released", "--offline")
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "ok   article https://www.oschina.net/news/155130/kisso-3-7-7-released" in done.stdout
    assert "published  site" in done.stdout


def test_mistakes_get_one_line_and_exit_1():
    unknown = doctor("mydriver", "-a", "tag=x")
    assert (
        unknown.returncode == 1
        and "Cannot start: no site 'mydriver' (known: cnbeta, mydrivers, oschina)" in unknown.stderr
    )
    nothing = doctor("mydrivers")
    assert nothing.returncode == 1 and "nothing to check" in nothing.stderr
    assert "Traceback" not in nothing.stderr
    bad_tag = doctor("mydrivers", "-a", "tag=https://example.org/x")
    assert bad_tag.returncode == 1 and "not a 快科技 tag slug" in bad_tag.stderr


def test_a_site_that_cannot_be_reached_exits_2(tmp_path: Path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = doctor(
        "mydrivers",
        "-a",
        "tag=xiaomi12_ultra",
        "-s",
        f"NEWSCRAWL_OFFLINE_ROOT=http://127.0.0.1:{port}",
        "-s",
        "RETRY_TIMES=0",
    )
    assert done.returncode == 2, done.stdout + done.stderr[-3000:]
    assert "nothing could be fetched" in done.stdout
