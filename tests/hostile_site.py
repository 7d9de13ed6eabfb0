"""A hostile copy of the bundled 快科技 site, made inside the tests (the fixtures are never edited).

Every case gets its own article URL on one tag page (`tag/hostile.htm`); `CASES` says what each
URL does and how the crawl must end for it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import MYDRIVERS_SITE

SEED = "833153"
SEED_TITLE = "小米首款徕卡旗舰7月发！雷军晒刚入手的徕卡M11/Q2相机"
SEED_DATE = "2022-06-04 20:42:05"

HOSTILE_TITLE = "'\"小米: #1 --- - &anchor *alias !!python/object:os.system {{x}} [a] ? |"
HOSTILE_BODY = """<p>正文 <script>alert(1)</script><b onclick="alert(2)" onmouseover=alert(3)>粗</b></p>
<p><a href="javascript:alert(4)">a</a><a href="JaVaScRiPt:alert(5)">b</a><a href="&#106;avascript:alert(6)">c</a>
<a href="jav&#x09;ascript:alert(7)">d</a><a href="data:text/html;base64,PHNjcmlwdD4=">e</a><a href="vbscript:msgbox(8)">f</a></p>
<iframe src="https://evil.example/"></iframe><object data="x.swf"></object><embed src="x.swf">
<svg onload="alert(9)"><circle r="1"/></svg><p style="width: expression(alert(10))">css</p>
<p><img src="/img/relative.jpg" alt="relative"><img src="//img1.mydrivers.com/img/proto.jpg" alt="protocol-relative">
<img src="https://icons.mydrivers.com/loading.gif" data-src="https://img1.mydrivers.com/img/lazy-src.jpg" alt="data-src">
<img src="https://icons.mydrivers.com/loading.gif" data-original="https://img1.mydrivers.com/img/lazy-original.jpg" alt="data-original">
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="data-uri">
<img src="https://tracker.example/pixel.gif" width="1" height="1" alt="pixel"></p>"""

# id → (what the server does, how the crawl must end for it)
CASES: dict[str, tuple[str, str]] = {
    SEED: ("a normal page", "exported"),
    "848601": ("503 twice, then the page", "exported"),
    "797238": ("502 twice, then the page", "exported"),
    "781034": ("500 once, then the page", "exported"),
    "809583": ("the page trickles in slowly", "exported"),
    "990001": ("404", "http_404"),
    "990002": ("410", "http_410"),
    "990003": ("connection reset", "download_error"),
    "990004": ("stalls past the download timeout", "download_error"),
    "990005": ("Content-Length larger than the body", "download_error"),
    "990006": ("a gzip bomb", "too_large"),
    "990007": ("a 20 MB page", "too_large"),
    "990008": ("redirects to itself", "redirect_loop"),
    "990009": ("redirects off the site", "offsite"),
    "990010": ("redirects to javascript:", "bad_redirect"),
    "990011": ("redirects to file:///etc/passwd", "bad_redirect"),
    "990012": ("GBK bytes, no charset in headers or meta", "exported"),
    "990013": ("GB18030 with characters outside GBK, declared gbk", "exported"),
    "990014": ("GBK bytes, header and meta both say utf-8", "exported"),
    "990015": ("malformed HTML: unclosed tags, nested bodies", "exported"),
    "990016": ("no title anywhere", "missing_title"),
    "990017": ("no date", "missing_date"),
    "990018": ("no body: the container empty, nothing else on the page but chrome", "missing_body"),
    "990019": ("dated 2099", "implausible_date"),
    "990020": ("dated 1970-01-01", "implausible_date"),
    "990021": ("hostile title and body, every kind of image URL", "exported"),
    "990022": ("title with ../, /, a control character", "exported"),
    "990023": ("title CON (a Windows-reserved name)", "exported"),
    "990024": ("a 500-character title", "exported"),
}
DUPLICATE_LINKS = [  # the seed again, under other URLs: fetched once
    f"https://news.mydrivers.com/1/833/{SEED}.htm?from=rss",
    f"https://news.mydrivers.com/1/833/{SEED}.htm/",
    f"https://m.mydrivers.com/newsview/{SEED}.html",
]


def url(article_id: str) -> str:
    return f"https://news.mydrivers.com/1/{int(article_id) // 1000}/{article_id}.htm"


def build(root: Path) -> Path:
    """Copy the bundled site to `root` and add the hostile cases; returns the host folder."""
    shutil.copytree(MYDRIVERS_SITE, root)
    host = root / "news.mydrivers.com"
    seed = (host / f"1/833/{SEED}.htm").read_text(encoding="utf-8")

    def page(article_id: str, text: str | bytes, fault: dict | None = None, redirect: str | None = None) -> None:
        path = host / url(article_id).split("news.mydrivers.com/", 1)[1]
        path.parent.mkdir(parents=True, exist_ok=True)
        if redirect is not None:
            path.with_name(path.name + ".redirect").write_text(redirect)
        elif text:
            path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        if fault is not None:
            path.with_name(path.name + ".fault").write_text(json.dumps(fault))

    def variant(title: str | None = None, date: str | None = None, body: str | None = None) -> str:
        text = seed
        if title is not None:
            text = text.replace(SEED_TITLE, title)
        if date is not None:
            text = text.replace(SEED_DATE, date)
        if body is not None:
            start = text.index('<div class="news_info">') + len('<div class="news_info">')
            text = text[:start] + body + text[text.index('<div id="weixin">') - len("</div>\n") :]
        return text

    gbk = (host / "1/762/762514.htm").read_bytes()
    faults = {
        "848601": {"status": 503, "times": 2},
        "797238": {"status": 502, "times": 2},
        "781034": {"status": 500, "times": 1},
        "809583": {"trickle": 0.5},
    }
    for article_id, fault in faults.items():
        page(article_id, "", fault)
    page("990002", "", {"status": 410})
    page("990003", variant(), {"reset": True})
    page("990004", variant(), {"stall": 4})
    page("990005", variant(), {"truncate": True})
    page("990006", variant(), {"gzip_bomb": 60_000_000})
    page("990007", variant(), {"size": 20_000_000})
    page("990008", "", redirect=url("990008"))
    page("990009", "", redirect="https://evil.example/stolen.htm")
    page("990010", "", redirect="javascript:alert(1)")
    page("990011", "", redirect="file:///etc/passwd")
    page("990012", gbk.replace(b'<meta http-equiv="Content-Type" content="text/html; charset=gb2312">\n', b""))
    page(
        "990013",
        variant(title="小米€新品𠀀发布").replace('<meta charset="utf-8">', '<meta charset="gbk">').encode("gb18030"),
    )
    page(
        "990014",
        gbk.replace(b"charset=gb2312", b"charset=utf-8"),
        {"headers": {"Content-Type": "text/html; charset=utf-8"}},
    )
    page(
        "990015",
        variant().replace("<p>雷军还直言", "<body><div><span><p>雷军还直言").replace("</body>", "<body></html></body>"),
    )
    page(
        "990016",
        variant()
        .replace(f'<div class="news_bt" id="thread_subject">{SEED_TITLE}</div>', "")
        .replace(f'<meta property="og:title" content="{SEED_TITLE}">', "")
        .replace(f"<title>{SEED_TITLE}--快科技--科技改变未来</title>", ""),
    )
    page("990017", variant(date=""))
    page(
        "990018", variant(body="")
    )  # a renamed container is a layout change the fallbacks read: tests/test_fallbacks.py
    page("990019", variant(date="2099-01-01 08:00:00"))
    page("990020", variant(date="1970-01-01 00:00:00"))
    page(
        "990021",
        variant(
            title=HOSTILE_TITLE.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            + "<script>alert(0)</script>",
            body=HOSTILE_BODY,
        ),
    )
    page("990022", variant(title="../../etc/passwd /root \x01 title"))
    page("990023", variant(title="CON"))
    page("990024", variant(title="长" * 500))
    links = "".join(
        f'<li><h3><a href="{link}">{article_id}</a></h3></li>\n'
        for article_id, link in [(i, url(i)) for i in CASES] + [("dup", d) for d in DUPLICATE_LINKS]
    )
    (host / "tag/hostile.htm").write_text(
        f'<html><body><ul id="newsleft_1">\n{links}</ul></body></html>', encoding="utf-8"
    )
    return host
