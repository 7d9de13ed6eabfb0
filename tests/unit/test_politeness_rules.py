"""The pure rules of politeness and blocks: Retry-After read as the RFC says, robots.txt's floor, and what
makes a response a block."""

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from scrapy.robotstxt import ProtegoRobotParser

from newscrawl.fetch.blocks import CHALLENGE_MAX_SIZE, block_reason
from newscrawl.fetch.politeness import retry_after_seconds, robots_floor

NOW = datetime(2026, 12, 4, 12, 0, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("value", "wait"),
    [
        ("120", 120.0),
        (" 3 ", 3.0),
        ("0", 0.0),
        (format_datetime(datetime(2026, 12, 4, 12, 0, 30, tzinfo=UTC), usegmt=True), 30.0),
        ("Fri, 04 Dec 2026 11:00:00 GMT", 0.0),  # a date past: no wait
        ("-5", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after(value, wait):
    assert retry_after_seconds(value, NOW) == wait


@pytest.mark.parametrize(
    ("robots", "floor"),
    [
        (b"User-agent: *\nCrawl-delay: 2\n", 2.0),
        (b"User-agent: *\nRequest-rate: 1/5\n", 5.0),
        (b"User-agent: *\nCrawl-delay: 1\nRequest-rate: 2/10\n", 5.0),  # the longer of the two
        (b"User-agent: newscrawl\nCrawl-delay: 7\n\nUser-agent: *\nCrawl-delay: 1\n", 7.0),
        (b"User-agent: otherbot\nCrawl-delay: 30\n", 0.0),
        (b"User-agent: *\nDisallow: /private\n", 0.0),
        (b"", 0.0),
    ],
)
def test_robots_floor(robots, floor):
    parser = ProtegoRobotParser(robots, None)
    assert robots_floor(parser, "Mozilla/5.0 (compatible; newscrawl/0.1; tech-news tag crawler)") == floor


CHALLENGE = b'<html><head><title>Just a moment...</title></head><body><script src="/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1"></script></body></html>'


@pytest.mark.parametrize(
    ("status", "headers", "body", "reason"),
    [
        (200, {}, b"<html><body><article>news</article></body></html>", None),
        (403, {}, b"forbidden", "http_403"),
        (429, {}, b"slow down", "http_429"),
        (429, {b"retry-after": b"5"}, b"slow down", None),  # politeness, not a block
        (503, {}, b"down", None),  # an outage, retried
        (200, {b"cf-mitigated": b"challenge"}, b"<html></html>", "waf_header"),
        (202, {b"x-amzn-waf-action": b"CAPTCHA"}, b"", "waf_header"),
        (200, {}, CHALLENGE, "challenge_page"),
        (200, {}, CHALLENGE.replace(b"cdn-cgi/challenge-platform", b"CDN-CGI/Challenge-Platform"), "challenge_page"),
        (200, {}, b"<script>var x = {}; initGeetest({gt: 'a'})</script>", "challenge_page"),
        (200, {}, CHALLENGE + b" " * CHALLENGE_MAX_SIZE, None),  # a large page quoting a marker: read as a page
        (404, {}, CHALLENGE, None),  # gone is gone
    ],
)
def test_block_reason(status, headers, body, reason):
    assert block_reason(status, headers, body) == reason


def test_a_sites_own_marker_counts():
    page = b"<html><body>\xe8\xae\xbf\xe9\x97\xae\xe9\xaa\x8c\xe8\xaf\x81 site-guard</body></html>"
    assert block_reason(200, {}, page) is None
    assert block_reason(200, {}, page, (b"site-guard",)) == "challenge_page"
