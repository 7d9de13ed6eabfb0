import pytest

from newscrawl.items import RawImage
from newscrawl.normalize.images import head_image, is_thumbnail_of, normalize_images, shown_source
from newscrawl.normalize.urls import absolute_url, is_loopback_host

BASE = "https://news.mydrivers.com/1/833/833153.htm"
PREFIXES = ("s_", "S")


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("https://img1.mydrivers.com/a.png", "https://img1.mydrivers.com/a.png"),
        ("//img1.mydrivers.com/a.png", "https://img1.mydrivers.com/a.png"),
        ("/img/a.png", "https://news.mydrivers.com/img/a.png"),
        ("a b.png", "https://news.mydrivers.com/1/833/a%20b.png"),
        ("data:image/gif;base64,R0lGOD", None),
        ("javascript:alert(1)", None),
        ("  ", None),
        (None, None),
    ],
)
def test_absolute_url(value, url):
    assert absolute_url(value, BASE) == url


def test_thumbnail_pairs():
    full = "https://img1.mydrivers.com/img/20220604/baaad79a.png"
    assert is_thumbnail_of("https://img1.mydrivers.com/img/20220604/s_baaad79a.png", full, PREFIXES)
    assert is_thumbnail_of("https://img1.mydrivers.com/img/20220604/Sbaaad79a.png", full, PREFIXES)
    assert not is_thumbnail_of("https://img1.mydrivers.com/img/20220605/s_baaad79a.png", full, PREFIXES)
    assert not is_thumbnail_of("https://img1.mydrivers.com/img/20220604/x_baaad79a.png", full, PREFIXES)


def test_normalize_images():
    raw = [
        RawImage(src="data:image/gif;base64,AAAA", link=None, alt="pixel"),
        RawImage(src="//img1.mydrivers.com/img/1/s_a.png", link="https://img1.mydrivers.com/img/1/a.png", alt=" A\n"),
        RawImage(
            src="https://img1.mydrivers.com/img/1/s_a.png", link="https://img1.mydrivers.com/img/1/a.png", alt="dup"
        ),
        RawImage(src="/img/1/b.jpg", link=None, alt=None),
        RawImage(src="https://img1.mydrivers.com/img/1/Sc.jpg", link="https://example.com/page.htm", alt=""),
    ]
    assert normalize_images(raw, BASE, PREFIXES) == [
        {
            "url": "https://img1.mydrivers.com/img/1/a.png",
            "thumbnail": "https://img1.mydrivers.com/img/1/s_a.png",
            "alt": "A",
        },
        {
            "url": "https://news.mydrivers.com/img/1/b.jpg",
            "thumbnail": "https://news.mydrivers.com/img/1/b.jpg",
            "alt": None,
        },
        {
            "url": "https://img1.mydrivers.com/img/1/Sc.jpg",
            "thumbnail": "https://img1.mydrivers.com/img/1/Sc.jpg",
            "alt": None,
        },
    ]
    assert head_image(normalize_images(raw, BASE, PREFIXES)) == "https://img1.mydrivers.com/img/1/s_a.png"
    assert head_image([]) is None


@pytest.mark.parametrize(
    ("attributes", "source"),
    [
        ({"src": "loading.gif", "data-original": "real.jpg"}, "real.jpg"),
        ({"src": "loading.gif", "data-src": "real.jpg"}, "real.jpg"),
        ({"src": "real.jpg", "data-original": "data:image/gif;base64,AAA"}, "real.jpg"),
        ({"src": "real.jpg"}, "real.jpg"),
        ({}, None),
    ],
)
def test_lazy_source(attributes, source):
    assert shown_source(attributes) == source


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("10.0.0.1", False),
        ("example.com", False),
        ("", False),
        ("localhost.example.com", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool):
    assert is_loopback_host(host) is loopback
