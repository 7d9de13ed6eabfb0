"""The body sanitiser: checked with a real HTML parser (lxml), not with regexes over the output."""

import pytest
from lxml import html as lxml_html

from newscrawl.normalize.html import minimal_references, sanitize_html

BASE = "https://news.mydrivers.com/1/833/833153.htm"
UNSAFE_SCHEMES = ("javascript:", "vbscript:", "data:")


def assert_safe(output: str) -> None:
    tree = lxml_html.fragment_fromstring(output, create_parent="div")
    for element in tree.iter():
        assert element.tag not in ("script", "style", "iframe", "object", "embed", "svg", "form"), output
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), output
            if name in ("href", "src", "poster", "action", "formaction"):
                assert not value.strip().lower().startswith(UNSAFE_SCHEMES), output
            if name == "style":
                assert "expression" not in value.lower() and "url(" not in value.lower(), output


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script><p>x</p>",
        "<p onclick=alert(1) onmouseover='x'>x</p>",
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<a href="&#106;avascript:alert(1)">x</a>',
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<a href="vbscript:msgbox">x</a>',
        '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
        '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
        "<img src=x onerror=alert(1)>",
        "<iframe src='https://evil.example/'></iframe>",
        "<object data='x.swf'></object><embed src='x.swf'>",
        "<svg onload=alert(1)><circle/></svg>",
        '<p style="width: expression(alert(1))">x</p>',
        '<p style="background: url(javascript:alert(1))">x</p>',
        "<style>p{color:red}</style><p>x</p>",
        "<form action='javascript:x'><input></form>",
        "<p>unclosed <b>bold <i>italic",
    ],
)
def test_hostile_markup_is_neutralised(hostile):
    assert_safe(sanitize_html(hostile, BASE))


def test_archive_markup_is_kept_byte_for_byte():
    body = (
        '<p align="center"><a href="https://img1.mydrivers.com/img/1/a.png" target="_blank">'
        '<img alt="M11/Q2" h="374" src="https://img1.mydrivers.com/img/1/s_a.png" style="border: black 1px solid;" w="593"></a></p>\n'
        '<p class="MsoNormal"><span lang="EN-US">AMD</span> && x\u00a0</p>\n'
        '<div class="page_article" id="bnext">\n \n</div>'
    )
    assert sanitize_html(body, BASE) == body.replace(' w="593">', ' w="593" referrerpolicy="no-referrer">')


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        (
            '<a href="https://x.org/a" _src="https://x.org/a" target="_blank">x</a>',
            '<a href="https://x.org/a" _src="https://x.org/a" target="_blank">x</a>',
        ),
        (
            '<img src="https://x.org/a.png" _src="https://x.org/a.png">',
            '<img src="https://x.org/a.png" _src="https://x.org/a.png" referrerpolicy="no-referrer">',
        ),
        (
            '<a href="https://x.org/a" _onclick="alert(1)" onclick="alert(1)" _src2="x">x</a>',
            '<a href="https://x.org/a">x</a>',
        ),
    ],
)
def test_inert_url_copies_editors_leave_are_kept_and_nothing_else_new(body, kept):
    assert sanitize_html(body, BASE) == kept


def test_javascript_link_loses_href_and_keeps_the_rest():
    body = '<a href="javascript:;" class="jiucuo" id="leftjiucuo">文章纠错</a>'
    assert sanitize_html(body, BASE) == '<a class="jiucuo" id="leftjiucuo">文章纠错</a>'


def test_relative_urls_become_absolute():
    out = sanitize_html(
        '<a href="/1/1/1000.htm">x</a><img src="../img/a.png"><img src="b.png"><img src="//img1.mydrivers.com/c.png">',
        BASE,
    )
    assert out == (
        '<a href="https://news.mydrivers.com/1/1/1000.htm">x</a>'
        '<img src="https://news.mydrivers.com/1/img/a.png" referrerpolicy="no-referrer">'
        '<img src="https://news.mydrivers.com/1/833/b.png" referrerpolicy="no-referrer">'
        '<img src="https://img1.mydrivers.com/c.png" referrerpolicy="no-referrer">'
    )


@pytest.mark.parametrize(
    ("serialised", "minimal"),
    [
        ("a &amp;&amp; b", "a && b"),
        ("AT&amp;T", "AT&T"),
        ("&amp;lt; stays escaped", "&amp;lt; stays escaped"),
        ("&amp;#60; stays escaped", "&amp;#60; stays escaped"),
        ("&amp;copy stays escaped", "&amp;copy stays escaped"),
        ('href="?a=1&amp;euid=2&amp;t=3"', 'href="?a=1&euid=2&t=3"'),
        ("x&nbsp;y", "x\u00a0y"),
    ],
)
def test_minimal_references(serialised, minimal):
    assert minimal_references(serialised) == minimal
