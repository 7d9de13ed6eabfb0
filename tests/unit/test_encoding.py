from conftest import FIXTURES

from newscrawl.normalize.encoding import decode_html

REAL_PAGE = FIXTURES / "mydrivers/real/news-doc-index-2017-gb2312-meta-utf8-body.html"


def test_real_page_declaring_gb2312_over_utf8_bytes():
    """A real 快科技 page (see fixtures/mydrivers/real/SOURCES.md): declares gb2312, holds UTF-8 bytes."""
    decoded = decode_html(REAL_PAGE.read_bytes(), "text/html; charset=gb2312", fallback="gb18030")
    assert decoded.encoding == "utf-8" and not decoded.lossy
    assert "\ufffd" not in decoded.text
    assert "<title>新闻中心 ——驱动之家：您身边的电脑专家</title>" in decoded.text


def test_gbk_bytes_with_gb2312_declared():
    page = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312"><p>徕卡·镕</p>'.encode("gbk")
    decoded = decode_html(page, "text/html")
    assert decoded.text.endswith("<p>徕卡·镕</p>") and decoded.encoding == "gb18030"


def test_gb18030_characters_outside_gbk():
    page = '<meta charset="gbk"><p>€ 𠀀</p>'.encode("gb18030")
    assert decode_html(page).text.endswith("<p>€ 𠀀</p>")


def test_utf8_without_any_charset():
    assert decode_html("<p>小米12 Ultra</p>".encode(), "text/html").text == "<p>小米12 Ultra</p>"


def test_gbk_without_any_charset_uses_the_site_fallback():
    decoded = decode_html("<p>小米</p>".encode("gbk"), "text/html", fallback="gb18030")
    assert decoded.text == "<p>小米</p>" and not decoded.lossy


def test_header_charset_that_lies_is_not_trusted():
    decoded = decode_html("<p>小米</p>".encode("gbk"), "text/html; charset=utf-8", fallback="gb18030")
    assert decoded.text == "<p>小米</p>"


def test_undecodable_bytes_are_reported_lossy():
    decoded = decode_html(b"<p>\xff\xfe\xfd\x80</p>", "text/html", fallback="utf-8")
    assert decoded.lossy and "\ufffd" in decoded.text


def test_bom_wins():
    assert decode_html(b"\xef\xbb\xbf<p>\xe5\xb0\x8f</p>", "text/html; charset=gbk").text == "<p>小</p>"
