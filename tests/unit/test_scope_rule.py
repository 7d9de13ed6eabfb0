"""The scope rule as a table: URLs a hostile page may write, in their many spellings."""

from __future__ import annotations

import pytest

from newscrawl.fetch.scope import out_of_scope

HOSTS = frozenset({"news.mydrivers.com"})
IMAGES = frozenset({"img1.mydrivers.com"})


@pytest.mark.parametrize(
    "url, reason",
    [
        ("https://news.mydrivers.com/tag/x.htm", None),
        ("http://news.mydrivers.com/1/833/833153.htm", None),
        ("HTTPS://NEWS.MYDRIVERS.COM/tag/x.htm", None),
        ("https://news.mydrivers.com./tag/x.htm", None),  # the root's dot
        ("https://news.mydrivers.com:443/tag/x.htm", None),
        ("http://news.mydrivers.com:80/x", None),
        ("https://news.mydrivers.com/robots.txt", None),
        ("file:///etc/hostname", "scheme"),
        ("ftp://news.mydrivers.com/x", "scheme"),
        ("data:text/html,<p>x", "scheme"),
        ("s3://bucket/key", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("gopher://news.mydrivers.com/", "scheme"),
        ("//news.mydrivers.com/x", "scheme"),
        ("http://169.254.169.254/latest/meta-data/", "host"),
        ("http://10.0.0.1/", "host"),
        ("http://127.0.0.1:8080/", "port"),
        ("http://[::1]/", "host"),
        ("http://0x7f000001/", "host"),
        ("http://2130706433/", "host"),
        ("http://017700000001/", "host"),
        ("http://news.mydrivers.com@169.254.169.254/", "userinfo"),
        ("http://user:pw@news.mydrivers.com/", "userinfo"),
        ("http://news.mydrivers.com.evil.example/", "host"),
        ("http://evil-news.mydrivers.com/", "host"),
        ("http://mydrivers.com/", "host"),
        ("http://news.mydrivers.com:8080/x", "port"),
        ("http://news.mydrivers.com:443/x", "port"),
        ("https://news.mydrivers.com:80/x", "port"),
        ("http://news.mydrivers.com:99999/x", "malformed"),
        ("http://news.mydrivers.com:abc/x", "malformed"),
        ("https://img1.mydrivers.com/img/a.png", "host"),  # an image host, for a page request
        ("https://img1.mydrivers.com/robots.txt", None),  # whose robots.txt is obeyed
    ],
)
def test_page_requests(url: str, reason: str | None):
    assert out_of_scope(url, HOSTS, IMAGES, image=False) == reason


@pytest.mark.parametrize(
    "url, reason",
    [
        ("https://img1.mydrivers.com/img/20220604/a.png", None),
        ("https://news.mydrivers.com/img/a.png", "host"),
        ("http://169.254.169.254/latest/meta-data/", "host"),
        ("https://img1.mydrivers.com:8443/a.png", "port"),
        ("file:///etc/passwd", "scheme"),
    ],
)
def test_image_requests(url: str, reason: str | None):
    assert out_of_scope(url, HOSTS, IMAGES, image=True) == reason
