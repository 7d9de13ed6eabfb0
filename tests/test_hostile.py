"""The hostile web: one real crawl of a hostile copy of the site (faults injected by the devserver),
then one test per case on how it ended. The crawl finishes, every good article is exported, every
loss is counted under a named reason and logged once with its URL. All of it with each HTTP client
NEWSCRAWL_HTTP_HANDLER may name: Scrapy's Twisted one (the default) and its aiohttp one."""

import json

import hostile_site
import pytest
import yaml
from conftest import Server, run_crawl
from hostile_site import CASES, url
from lxml import html as lxml_html

HTTP_CLIENTS = {
    "twisted": "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler",
    "aiohttp": "scrapy.core.downloader.handlers._aiohttp.AiohttpDownloadHandler",
}


@pytest.fixture(scope="module", params=sorted(HTTP_CLIENTS))
def crawl(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"hostile-{request.param}")
    hostile_site.build(root / "site")
    server = Server([root / "site"])
    try:
        # Short timeouts keep the stall case quick; the drop-rate alarm is off: this site is meant to be broken.
        result = run_crawl(
            root,
            server,
            "-a",
            "tag=hostile",
            settings={
                "DOWNLOAD_TIMEOUT": "2",
                "NEWSCRAWL_POST_FILENAME": "{title}-{article_id}.md",
                "NEWSCRAWL_ALARM_MAX_DROP_RATE": "1",
                "NEWSCRAWL_HTTP_HANDLER": HTTP_CLIENTS[request.param],
            },
        )
    finally:
        server.stop()
    result.folder = root / "out"
    result.client = request.param
    return result


def items_by_id(crawl) -> dict[str, dict]:
    return {item["article_id"]: item for item in crawl.items}


def test_the_crawl_finishes_and_exports_exactly_the_good_articles(crawl):
    assert crawl.returncode == 0, crawl.log[-3000:]
    assert crawl.stats["finish_reason"] == "finished"
    assert sorted(items_by_id(crawl)) == sorted(i for i, (_, outcome) in CASES.items() if outcome == "exported")
    assert len(crawl.items) == len(items_by_id(crawl))  # none twice
    assert len(crawl.posts) == len(crawl.items)


def test_the_named_http_client_is_the_one_loaded(crawl):
    """Scrapy announces its aiohttp handler when it is built; the Twisted one says nothing."""
    assert ("AiohttpDownloadHandler is experimental" in crawl.log) == (crawl.client == "aiohttp")
    assert crawl.stats["downloader/response_count"] > len(CASES)


@pytest.mark.parametrize("article_id", [i for i, (_, outcome) in CASES.items() if outcome == "exported"])
def test_exported_case(crawl, article_id):
    item = items_by_id(crawl)[article_id]
    assert "\ufffd" not in json.dumps(item, ensure_ascii=False)
    assert item["url"] == url(article_id)


def test_retried_pages_succeed(crawl):
    stats = crawl.stats
    assert stats["retry/reason_count/503 Service Unavailable"] == 2
    assert stats["retry/reason_count/502 Bad Gateway"] == 2
    assert stats["retry/reason_count/500 Internal Server Error"] == 1


@pytest.mark.parametrize(("status", "article_id"), [(404, "990001"), (410, "990002")])
def test_gone_pages_are_counted(crawl, status, article_id):
    assert crawl.stats[f"httperror/response_ignored_status_count/{status}"] == 1
    assert crawl.log.count(f"Ignoring response <{status} {url(article_id)}>") == 1


@pytest.mark.parametrize(
    ("article_id", "errors"),
    [  # a reset surfaces as a failed download or a lost connection, depending on when the RST lands
        (
            "990003",
            (
                "scrapy.exceptions.DownloadFailedError",
                "scrapy.exceptions.ResponseDataLossError",
                "scrapy.exceptions.DownloadConnectionRefusedError",
            ),
        ),
        ("990004", ("scrapy.exceptions.DownloadTimeoutError",)),
        ("990005", ("scrapy.exceptions.ResponseDataLossError",)),
        ("990007", ("scrapy.exceptions.DownloadCancelledError",)),
    ],
)
def test_broken_connections_are_retried_then_counted(crawl, article_id, errors):
    assert any(crawl.stats.get(f"downloader/exception_type_count/{error}", 0) >= 1 for error in errors)
    assert crawl.log.count(f"Error downloading <GET {url(article_id)}>") == 1


def test_gzip_bomb_is_refused_during_decompression(crawl):
    assert f"Ignored response <200 {url('990006')}> because its body" in crawl.log
    assert "exceeded DOWNLOAD_MAXSIZE" in crawl.log


def test_redirects(crawl):
    assert crawl.stats["newscrawl/scope/refused/host"] == 1  # 990009 → evil.example, refused at the redirect
    assert "offsite/filtered" not in crawl.stats
    assert crawl.stats["newscrawl/redirect/bad_scheme"] == 2  # javascript: and file:
    assert f"Ignored a redirect from {url('990010')} to a javascript: URL" in crawl.log
    assert f"Ignored a redirect from {url('990011')} to a file: URL" in crawl.log
    assert crawl.stats["dupefilter/filtered"] == 1  # 990008 redirects to itself: not fetched again


@pytest.mark.parametrize(
    ("reason", "ids"),
    [
        ("missing_title", ["990016"]),
        ("missing_date", ["990017"]),
        ("missing_body", ["990018"]),
        ("implausible_date", ["990019", "990020"]),
    ],
)
def test_unusable_articles_are_counted_drops_logged_once(crawl, reason, ids):
    assert crawl.stats[f"newscrawl/dropped/{reason}"] == len(ids)
    for article_id in ids:
        assert crawl.log.count(f"Dropped {reason}: {url(article_id)}") == 1


def test_duplicate_urls_are_fetched_once(crawl):
    assert crawl.stats["newscrawl/article/duplicate_link"] == 3
    assert crawl.stats["newscrawl/article/requested"] == len(CASES)  # one request per article, the seed's included


def test_encodings(crawl):
    items = items_by_id(crawl)
    assert items["990012"]["title"] == items["990014"]["title"] == "Win10更新惹祸 游戏卡顿、掉帧：微软正式回应"
    assert items["990013"]["title"] == "小米€新品𠀀发布"


def test_malformed_html_still_parses(crawl):
    item = items_by_id(crawl)["990015"]
    assert item["title"] == hostile_site.SEED_TITLE and "雷军还直言" in item["body_html"]


def test_hostile_body_is_neutralised(crawl):
    body = items_by_id(crawl)["990021"]["body_html"]
    tree = lxml_html.fragment_fromstring(body, create_parent="div")
    for element in tree.iter():
        assert element.tag not in ("script", "iframe", "object", "embed", "svg", "style")
        for name, value in element.attrib.items():
            assert not name.startswith("on")
            assert not value.strip().lower().startswith(("javascript:", "vbscript:", "data:"))
            assert "expression" not in value
    assert "alert" not in "".join(tree.itertext())


def test_image_urls(crawl):
    images = items_by_id(crawl)["990021"]["images"]
    assert [image["url"] for image in images] == [
        "https://news.mydrivers.com/img/relative.jpg",
        "https://img1.mydrivers.com/img/proto.jpg",
        "https://img1.mydrivers.com/img/lazy-src.jpg",
        "https://img1.mydrivers.com/img/lazy-original.jpg",
    ]  # the data: URI and the 1×1 tracking pixel are gone
    assert "tracker.example" not in items_by_id(crawl)["990021"]["body_html"]


def test_hostile_titles_make_valid_yaml_and_safe_file_names(crawl):
    posts_dir = crawl.folder / "posts/mydrivers"
    for path in posts_dir.iterdir():
        assert path.parent == posts_dir and len(path.name.encode()) <= 160
        front = yaml.safe_load(path.read_text(encoding="utf-8").split("\n---\n")[1])
        assert isinstance(front["title"], str) and front["comments"] is False
    hostile = next(p for p in posts_dir.iterdir() if "anchor" in p.name)
    front = yaml.safe_load(hostile.read_text(encoding="utf-8").split("\n---\n")[1])
    assert (
        front["title"] == "'\"小米_ #1 --- - &anchor _alias !!python_object_os.system &#123;&#123;x&#125;&#125; _a_ _ _"
    )
    names = {p.name for p in posts_dir.iterdir()}
    assert "_CON-990023.md" in names and "_.._etc_passwd _root title-990022.md" in names
    assert items_by_id(crawl)["990021"]["title"] == hostile_site.HOSTILE_TITLE  # the JSONL keeps the true title
