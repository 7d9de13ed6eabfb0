"""Image mirroring (newscrawl/archive/images.py): the checks on bytes and failures as tables, and real crawls of
the bundled site with its image CDN on a 127.0.0.1 server that refuses hotlinking (tests/image_site.py)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from io import BytesIO
from pathlib import Path

import pytest
import yaml
from conftest import CHROMIUM_ARGS, REPO, Server, chromium, crawl_command, job_settings, read_output
from image_site import IMAGE_HOST, SVG_WITH_SCRIPT, image_site, picture, png_bomb
from PIL import Image
from scrapy.exceptions import (
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from twisted.internet.error import ConnectionLost

from newscrawl.archive import images as image_mirror
from newscrawl.archive.image_files import NotStored, image_extension
from newscrawl.archive.image_store import serve
from newscrawl.archive.images import ImageMirror, failure_reason
from newscrawl.children import frame, unframe
from newscrawl.exporters.frontmatter import local_image_urls
from newscrawl.fetch.politeness import BackedOff
from newscrawl.items import json_schema
from newscrawl.normalize.images import awaiting_retry, may_pass, retry_wanted, stored_files
from newscrawl.pipelines.validation import CompiledJSONSchemaValidator

MAX_PIXELS = 50_000_000


def _encoded(kind: str, size: tuple[int, int] = (12, 8)) -> bytes:
    out = BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(out, kind)
    return out.getvalue()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (_encoded("JPEG"), "jpg"),
        (_encoded("PNG"), "png"),
        (_encoded("GIF"), "gif"),
        (_encoded("WEBP"), "webp"),
        (_encoded("BMP"), "not_raster"),  # a raster type, but not one of the four kept
        (SVG_WITH_SCRIPT, "svg"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "svg"),
        (b"<!DOCTYPE html><html><body>not found</body></html>", "not_raster"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "not_raster"),  # a PNG signature and garbage
        (_encoded("PNG")[:20], "not_raster"),  # cut before the header ends
        (png_bomb(20000, 20000), "bomb"),  # 400 megapixels: Pillow's own limit refuses it
        (png_bomb(8000, 7000), "bomb"),  # 56 megapixels: over NEWSCRAWL_IMAGES_MAX_PIXELS, under Pillow's
        (_encoded("GIF", (1, 1)), "tracking_pixel"),
        (_encoded("PNG", (1, 2)), "png"),
    ],
)
def test_only_raster_images_the_bytes_confirm_are_kept(body: bytes, expected: str):
    try:
        assert image_extension(body, MAX_PIXELS) == expected
    except NotStored as refused:
        assert (refused.status, refused.reason) == ("refused", expected)


def test_the_media_pipelines_results_cache_keeps_the_latest_results_only(monkeypatch):
    monkeypatch.setattr(image_mirror, "RECENT_RESULTS", 3)
    cache = ImageMirror.SpiderInfo(None).downloaded  # what Scrapy's media pipeline caches a run's results in
    for number in range(5):
        cache[bytes([number])] = {"status": "downloaded", "number": number}
    assert list(cache) == [b"\x02", b"\x03", b"\x04"]  # the oldest went first
    assert cache[b"\x04"]["number"] == 4 and b"\x00" not in cache


def test_the_store_makes_its_new_names_durable_with_each_journal_batch(tmp_path: Path):
    """With deferred folder syncs (a crawl with a journal), a stored file's folder waits for the batch's
    barrier; a folder that cannot be synced (here: gone) fails the barrier and is tried again by the next."""
    store = image_mirror.ContentAddressedStore(str(tmp_path / "store"))
    store.defer_folder_syncs()
    for data in (b"one", b"two", b"three"):
        digest = hashlib.sha256(data).hexdigest()
        assert store.persist_file(f"{digest[:2]}/{digest}.jpg", BytesIO(data), None)
    folders = {folder for folder in (tmp_path / "store").iterdir()}
    assert store._unsynced == folders and len(folders) == 3  # nothing synced yet
    gone = sorted(folders)[0]
    for child in gone.iterdir():
        child.unlink()
    gone.rmdir()
    with pytest.raises(FileNotFoundError):
        store.sync_folders()
    assert gone in store._unsynced  # tried again by the next barrier
    gone.mkdir()
    store.sync_folders()
    assert store._unsynced == set()


def test_a_bomb_is_refused_from_its_header_without_decoding_it():
    bomb = png_bomb(20000, 20000)
    assert len(bomb) < 100_000  # what is downloaded: a few dozen KB …
    start = time.process_time()
    with pytest.raises(NotStored, match="bomb"):
        image_extension(bomb, MAX_PIXELS)
    assert time.process_time() - start < 1.0  # … that would decode to 400 megapixels


@pytest.mark.parametrize(
    ("error", "status", "reason"),
    [
        (IgnoreRequest("Forbidden by robots.txt"), "refused", "robots"),
        (
            IgnoreRequest(
                "Ignored response <200 x> because its body (10 B compressed, 9000 B decompressed so far) "
                "exceeded DOWNLOAD_MAXSIZE (100 B) during decompression."
            ),
            "refused",
            "too_large",
        ),
        (IgnoreRequest("Filtered offsite request"), "refused", "ignored"),
        (
            DownloadCancelledError("Expected to receive 900 bytes which is larger than download max size (100)"),
            "refused",
            "too_large",
        ),
        (DownloadTimeoutError("Getting x took longer than 1 seconds."), "failed", "timeout"),
        (DownloadConnectionRefusedError(), "failed", "connection"),
        (ConnectionLost(), "failed", "connection"),
        (ValueError("something else"), "failed", "download_error"),
        (NotStored("failed", "http_503"), "failed", "http_503"),
        (BackedOff("img1.mydrivers.com asked to wait until 12:00:00"), "failed", "held_back"),
    ],
)
def test_download_failures_get_stable_reasons(error: BaseException, status: str, reason: str):
    assert (failure_reason(error).status, failure_reason(error).reason) == (status, reason)


@pytest.mark.parametrize(
    ("reason", "passes"),
    [
        ("timeout", True),
        ("connection", True),
        ("store_error", True),
        ("download_error", True),
        ("not_fetched", True),
        ("held_back", True),
        ("http_500", True),
        ("http_503", True),
        ("http_429", True),
        ("http_408", True),
        ("http_404", False),
        ("http_403", False),
        ("http_410", False),
        ("http_5000", False),
        ("bomb", False),
        ("svg", False),
        ("too_large", False),
        (None, False),
    ],
)
def test_which_failures_may_pass(reason: str | None, passes: bool):
    assert may_pass(reason) is passes


def _failed(reason: str, since: str | None) -> dict:
    return {"status": "failed", "path": None, "checksum": None, "reason": reason, "failed_since": since}


def test_a_failure_that_may_pass_is_retried_for_the_window_only():
    now = 1_800_000_000.0
    day = 86400
    yesterday = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - day))
    assert retry_wanted(_failed("timeout", yesterday), now, 7 * day)
    assert not retry_wanted(_failed("timeout", yesterday), now, 0.5 * day)  # the window is over
    assert not retry_wanted(_failed("http_404", None), now, 7 * day)
    assert not retry_wanted({**_failed("x", None), "status": "refused", "reason": "bomb"}, now, 7 * day)
    image = {
        "url": "u",
        "thumbnail": "t",
        "alt": None,
        "file": _failed("http_404", None),
        "thumbnail_file": _failed("http_503", yesterday),
    }
    assert awaiting_retry([image], now, 7 * day)
    assert not awaiting_retry([{**image, "thumbnail_file": None}], now, 7 * day)
    assert not awaiting_retry([{"url": "u", "thumbnail": "u", "alt": None}], now, 7 * day)  # images not mirrored


A = "https://img1.mydrivers.com/img/a.jpg"
B = "https://img1.mydrivers.com/img/s_a.jpg?x=1&y=2"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            f'<a href="{A}" target="_blank"><img src="{B.replace("&", "&amp;")}" alt="{A}"></a>',
            '<a href="/images/aa.png" target="_blank"><img src="/images/bb.png" alt="https://img1.mydrivers.com/img/a.jpg"></a>',
        ),
        (f'<p>src="{A}" in the text stays</p>', f'<p>src="{A}" in the text stays</p>'),
        (f'<img alt="a > b" src="{A}">', '<img alt="a > b" src="/images/aa.png">'),
        (f'<img src="https://elsewhere.example/{A}">', f'<img src="https://elsewhere.example/{A}">'),
        (f'<IMG SRC="{A}"><iframe src="{A}"></iframe>', f'<IMG SRC="/images/aa.png"><iframe src="{A}"></iframe>'),
    ],
)
def test_local_image_urls_rewrites_only_img_src_and_a_href(body: str, expected: str):
    assert local_image_urls(body, {A: "/images/aa.png", B: "/images/bb.png"}) == expected
    assert local_image_urls(body, {}) == body


def test_the_schema_accepts_file_records_and_the_compiled_check_rejects_bad_ones():
    import fastjsonschema

    validator = CompiledJSONSchemaValidator(json_schema())
    expected = REPO / "fixtures" / "mydrivers" / "site" / "news.mydrivers.com" / "1" / "848" / "848601.expected.json"
    line = json.loads(expected.read_text(encoding="utf-8"))
    checksum = "ab" * 32
    good = {
        "status": "stored",
        "path": f"ab/{checksum}.png",
        "checksum": checksum,
        "reason": None,
        "failed_since": None,
    }
    line["images"] = [{**image, "file": good, "thumbnail_file": None} for image in line["images"]]
    line["images"][0]["thumbnail_file"] = {
        **good,
        "status": "failed",
        "path": None,
        "checksum": None,
        "reason": "timeout",
        "failed_since": "2026-12-01T00:00:00Z",
    }
    validator._is_valid(line)  # the compiled check (newscrawl.pipelines.validation) passes it …
    assert validator.validate(line) == (True, {})
    line["images"][0]["file"] = {**good, "path": "../../etc/passwd"}
    with pytest.raises(fastjsonschema.JsonSchemaException):  # … and refuses this, as spidermon's does
        validator._is_valid(line)
    ok, errors = validator.validate(line)
    assert not ok and errors


# Integration: real crawls ------------------------------------------------------------------------

SEED, OTHER = "833153", "848601"
IMG = f"https://{IMAGE_HOST}/img"
BOMB, SVG, HUGE = (
    f"{IMG}/20220604/0d35d16254f44f008256a025045a0896.jpg",
    f"{IMG}/20220604/s_0d35d16254f44f008256a025045a0896.jpg",
    f"{IMG}/20220604/84ff980269dd4ad5b2efef13f9ceb101.jpg",
)
GONE, FLAKY, STALLS = (
    f"{IMG}/20220604/s_84ff980269dd4ad5b2efef13f9ceb101.jpg",
    f"{IMG}/20220604/baaad79a088042d0ab74e3cbb4c01718.png",
    f"{IMG}/20220604/s_baaad79a088042d0ab74e3cbb4c01718.png",
)
SLOW, TWIN_A, TWIN_B = (
    f"{IMG}/20220903/S5149d67a-5d76-450d-8f1b-a785e7af55f1.jpg",
    f"{IMG}/20220903/e099f4fe-4f01-4f0a-9bdd-4ca198f8edc0.jpg",
    f"{IMG}/20220903/f2eb1bab-2d70-49d2-b751-3abfcbb3147c.jpg",
)
MOVED, MOVED_AWAY = (
    f"{IMG}/20220903/b3160ec48062483398d4274caf2e6d58.png",
    f"{IMG}/20220903/s_b3160ec48062483398d4274caf2e6d58.png",
)
MOVED_TO = f"{IMG}/moved/b3160.png"
DISALLOWED = f"{IMG}/20220903/Se099f4fe-4f01-4f0a-9bdd-4ca198f8edc0.jpg"  # by the image host's robots.txt
OFFSITE = "https://evil.example/pixel.png"
IMAGE_SETTINGS = {"NEWSCRAWL_POST_IMAGES": "local", "NEWSCRAWL_IMAGES_MAX_SIZE": "100000", "DOWNLOAD_TIMEOUT": "1"}


def _fault(files: dict[str, Path], url: str, fault: dict) -> None:
    files[url].with_name(files[url].name + ".fault").write_text(json.dumps(fault), encoding="utf-8")


def _files_by_url(items: list[dict]) -> dict[str, dict]:
    found = {}
    for item in items:
        for image in item["images"]:
            found[image["url"]] = image["file"]
            if image["thumbnail_file"] is not None:
                found[image["thumbnail"]] = image["thumbnail_file"]
    return found


def _latest(items: list[dict]) -> dict[str, dict]:
    return {item["article_id"]: item for item in sorted(items, key=lambda item: item["revision"])}


def _front_matter(post: str) -> dict:
    return yaml.safe_load(post.split("\n---\n", 2)[1])


@pytest.fixture
def hostile_images(tmp_path: Path):
    """The site with 快科技 833153's six image files made hostile or broken, and 848601's with a slow
    one, two identical ones, one redirected on the CDN, one redirected off it, one the CDN's robots.txt
    disallows, and an image on a host that is not the site's."""
    root = tmp_path / "site"
    files = image_site(root)
    files[BOMB].write_bytes(png_bomb())
    files[SVG].write_bytes(SVG_WITH_SCRIPT)
    files[HUGE].write_bytes(random.Random(1).randbytes(150_000))
    files[GONE].unlink()
    _fault(files, FLAKY, {"status": 503, "times": 3})  # the first run's try and its two retries
    _fault(files, STALLS, {"stall": 3})
    _fault(files, SLOW, {"trickle": 0.5})
    files[TWIN_B].write_bytes(files[TWIN_A].read_bytes())
    files[MOVED_TO] = root / IMAGE_HOST / "img" / "moved" / "b3160.png"
    files[MOVED_TO].parent.mkdir()
    files[MOVED_TO].write_bytes(picture(MOVED_TO))
    files[MOVED].with_name(files[MOVED].name + ".redirect").write_text(MOVED_TO, encoding="utf-8")
    files[MOVED_AWAY].with_name(files[MOVED_AWAY].name + ".redirect").write_text(OFFSITE, encoding="utf-8")
    (root / IMAGE_HOST / "robots.txt").write_text(f"User-agent: *\nDisallow: {DISALLOWED.split(IMAGE_HOST)[1]}\n")
    page = root / "news.mydrivers.com" / "1" / "848" / "848601.htm"
    html = page.read_text(encoding="utf-8")
    first_image = html.index('<a href="https://img1.mydrivers.com')
    page.write_text(f'{html[:first_image]}<img src="{OFFSITE}" alt="offsite">{html[first_image:]}', encoding="utf-8")
    server = Server([root])
    yield server, files, tmp_path / "out"
    server.stop()


def _crawl(server: Server, out: Path, **settings: str):
    out.mkdir(parents=True, exist_ok=True)
    args = crawl_command(
        out,
        server,
        "-a",
        "tag=xiaomi12_ultra",
        incremental=True,
        settings={"NEWSCRAWL_IMAGES_STORE": str(out / "images"), **IMAGE_SETTINGS, **settings},
    )
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=180)
    return read_output(out, "mydrivers", done.returncode, done.stderr)


# How image files are fetched: through Scrapy's downloader (cookies on: the lean fetch stays off), and
# by the lean fetch (newscrawl.fetch.lean) with each of Scrapy's HTTP clients.
FETCHES = {
    "downloader": {},
    "lean": {"COOKIES_ENABLED": "False"},
    "lean-aiohttp": {
        "COOKIES_ENABLED": "False",
        "NEWSCRAWL_LEAN_MIDDLEWARES": "True",
        "NEWSCRAWL_HTTP_HANDLER": "scrapy.core.downloader.handlers._aiohttp.AiohttpDownloadHandler",
    },
}


@pytest.mark.parametrize("fetch", list(FETCHES))
def test_hostile_and_broken_images_are_refused_or_retried_and_never_fail_their_article(hostile_images, fetch: str):
    """One request at a time: an image's place in flight that a failure did not give back would stop
    the crawl (the pipeline waits for a free one before each download). The lean fetch gives the same
    outcome for every file: what it does not do itself it hands over to the downloader."""
    server, files, out = hostile_images
    with pytest.raises(
        urllib.error.HTTPError, match="403"
    ):  # the CDN really refuses a request without the page as Referer
        urllib.request.urlopen(f"{server.url}/{IMAGE_HOST}{TWIN_A.split(IMAGE_HOST)[1]}", timeout=5)

    first = _crawl(server, out, CONCURRENT_REQUESTS="1", **FETCHES[fetch])
    assert first.returncode == 0, first.log[-3000:]
    if fetch == "downloader":
        assert "newscrawl/images/lean_fetched" not in first.stats
        assert "Image files are fetched through Scrapy's downloader: " in first.log
        assert "CookiesMiddleware" in first.log
    else:
        client = "aiohttp" if fetch == "lean-aiohttp" else "the crawl's download handler"
        assert f"Image files are fetched lean, beside Scrapy's downloader, by {client}" in first.log
        # The first image is handed over until the downloader has read the host's robots.txt (and the
        # disallowed one for good), as are the redirect and the stall's timeout (then retried there).
        assert first.stats["newscrawl/images/lean_fetched"] >= 4
        handed = {key.rsplit("/", 1)[1] for key in first.stats if key.startswith("newscrawl/images/handed_over/")}
        assert {"robots", "redirect", "timeout"} <= handed, handed
    assert sorted(item["article_id"] for item in first.items) == [SEED, OTHER]  # no image failed its article
    files_seen = _files_by_url(first.items)
    outcome = {url: (record["status"], record["reason"]) for url, record in files_seen.items()}
    assert outcome[BOMB] == ("refused", "bomb")
    assert outcome[SVG] == ("refused", "svg")
    assert outcome[HUGE] == ("refused", "too_large")
    assert outcome[GONE] == ("failed", "http_404")
    assert outcome[FLAKY] == ("failed", "http_503")
    assert outcome[STALLS] == ("failed", "timeout")
    assert outcome[OFFSITE] == outcome[MOVED_AWAY] == ("refused", "host_not_allowed")
    assert outcome[DISALLOWED] == ("refused", "robots")  # the image host's robots.txt was fetched and obeyed
    assert outcome[SLOW] == ("stored", None)
    assert files_seen[FLAKY]["failed_since"] and files_seen[STALLS]["failed_since"]
    assert files_seen[GONE]["failed_since"] is None  # a 404 is not tried again
    for reason in (
        "refused/bomb",
        "refused/svg",
        "refused/too_large",
        "failed/http_404",
        "failed/http_503",
        "failed/timeout",
        "refused/robots",
    ):
        assert first.stats[f"newscrawl/images/{reason}"] == 1, reason
    assert first.stats["newscrawl/images/refused/host_not_allowed"] == 2
    assert len(re.findall(r"Image not stored", first.log)) == 9, "\n".join(re.findall(r"Image not stored.*", first.log))
    assert "Traceback" not in first.log
    # Stored: byte for byte, named by content, the two identical pictures once.
    store = out / "images"
    stored = {url: record for url, record in files_seen.items() if record["status"] == "stored"}
    assert (store / stored[MOVED]["path"]).read_bytes() == files[MOVED_TO].read_bytes()  # followed on the CDN
    for url, record in stored.items():
        data = (store / record["path"]).read_bytes()
        assert data == files[MOVED_TO if url == MOVED else url].read_bytes(), url
        assert record["checksum"] == hashlib.sha256(data).hexdigest() == Path(record["path"]).stem
    assert stored[TWIN_A]["path"] == stored[TWIN_B]["path"]
    assert len(list(store.glob("??/*"))) == len({record["path"] for record in stored.values()}) == len(stored) - 1
    assert first.stats["newscrawl/images/already_in_store"] == 1
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (
        summary["pages_fetched"] == first.stats["downloader/response_count"] - first.stats["newscrawl/images/responses"]
    )
    assert summary["images"] == {
        "stored": 6,
        "kept": 0,
        "failed": 3,
        "refused": 6,
        "bytes": first.stats["newscrawl/images/bytes"],
    }
    assert "; images: 6 stored, 0 kept from earlier runs, 3 failed, 6 refused" in first.log
    for path in store.glob("??/*"):  # nothing hostile was kept, and files have the umask's permissions
        with Image.open(path) as image:
            assert image.format in ("JPEG", "PNG", "GIF", "WEBP")
        assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()
    # The posts: local files where stored, the original URL where not.
    seed_post, other_post = first.posts[f"{SEED}.md"], first.posts[f"{OTHER}.md"]
    assert "/images/" not in seed_post  # none of its files was stored: every URL is the original
    assert f'src="{SVG}"' in seed_post and f'href="{FLAKY}"' in seed_post
    assert _front_matter(seed_post)["headimg"] == STALLS
    assert f'src="/images/{stored[SLOW]["path"]}"' in other_post and f'src="{OFFSITE}"' in other_post
    assert _front_matter(other_post)["headimg"] == OFFSITE  # refused: the original stays

    # The next run fetches the article with images to retry again (only it): the 503 has passed, the
    # stalling image still stalls. The article is updated once; the others are not fetched.
    second = _crawl(server, out)
    assert second.returncode == 0, second.log[-3000:]
    new_lines = second.items[len(first.items) :]
    assert [(item["article_id"], item["revision"]) for item in new_lines] == [(SEED, 2)]
    updated = _files_by_url(new_lines)
    assert (updated[FLAKY]["status"], (store / updated[FLAKY]["path"]).read_bytes()) == (
        "stored",
        files[FLAKY].read_bytes(),
    )
    assert updated[STALLS] == files_seen[STALLS]  # still failing: the same record, first failure time kept
    for url in (BOMB, SVG, HUGE, GONE):
        assert updated[url] == files_seen[url]
    assert second.stats["newscrawl/images/kept"] == 4  # decided before: not downloaded again
    assert second.stats["newscrawl/images/failed/timeout"] == 1
    assert "newscrawl/images/refused/bomb" not in second.stats
    assert f'href="/images/{updated[FLAKY]["path"]}"' in second.posts[f"{SEED}.md"]
    assert second.stats["newscrawl/pending/articles"] == 1

    # Still stalling: fetched again, nothing changed, nothing exported.
    third = _crawl(server, out)
    assert third.returncode == 0 and len(third.items) == len(second.items)
    assert third.stats["newscrawl/articles/unchanged"] == 1 and third.stats["newscrawl/pending/articles"] == 1

    # The stall ends: the image arrives, the post points at it, nothing is left to retry.
    files[STALLS].with_name(files[STALLS].name + ".fault").unlink()
    fourth = _crawl(server, out)
    assert fourth.returncode == 0, fourth.log[-3000:]
    latest = fourth.items[len(third.items) :]
    assert [(item["article_id"], item["revision"]) for item in latest] == [(SEED, 3)]
    arrived = _files_by_url(latest)[STALLS]
    assert (store / arrived["path"]).read_bytes() == files[STALLS].read_bytes()
    assert _front_matter(fourth.posts[f"{SEED}.md"])["thumbnail"] == f"/images/{arrived['path']}"
    assert f'src="/images/{arrived["path"]}"' in fourth.posts[f"{SEED}.md"]
    assert fourth.stats["newscrawl/pending/articles"] == 0
    assert len({(item["article_id"], item["revision"]) for item in fourth.items}) == len(fourth.items)  # nothing twice


def test_a_paced_image_host_keeps_its_files_in_the_downloader(tmp_path: Path):
    """The lean fetch does not pace: a Crawl-delay in the image host's robots.txt hands every file after
    it was read over to the downloader, which waits it out."""
    root = tmp_path / "site"
    image_site(root)
    (root / IMAGE_HOST / "robots.txt").write_text("User-agent: *\nCrawl-delay: 0.05\n", encoding="utf-8")
    server = Server([root])
    try:
        done = _crawl(server, tmp_path / "out", COOKIES_ENABLED="False", CONCURRENT_REQUESTS="1")
    finally:
        server.stop()
    assert done.returncode == 0, done.log[-3000:]
    assert "Image files are fetched lean" in done.log  # the crawl lets it, the host does not
    assert done.stats["newscrawl/images/handed_over/robots"] == 1  # the first, while robots.txt was read
    assert "newscrawl/images/lean_fetched" not in done.stats
    stored = done.stats["newscrawl/images/stored"]
    assert stored == len(_files_by_url(done.items)) > 1  # every file of the run's articles
    assert done.stats["newscrawl/images/handed_over/paced"] == stored - 1


@pytest.mark.parametrize("client", ["handler", "aiohttp"])
def test_a_long_retry_after_met_by_the_lean_fetch_holds_the_image_host_back(tmp_path: Path, client: str):
    """A Retry-After past NEWSCRAWL_RETRY_AFTER_MAX met by the lean fetch holds the host back as when the
    downloader meets it: the file is not asked for again, nor is any other of the host's this run."""
    root = tmp_path / "site"
    fault = json.dumps({"status": 503, "times": 1, "headers": {"Retry-After": "3600"}})
    for path in image_site(root).values():  # each file's first request
        path.with_name(path.name + ".fault").write_text(fault, encoding="utf-8")
    settings = {"COOKIES_ENABLED": "False", "CONCURRENT_REQUESTS": "1", "ROBOTSTXT_OBEY": "False"}
    if client == "aiohttp":
        settings["NEWSCRAWL_HTTP_HANDLER"] = "scrapy.core.downloader.handlers._aiohttp.AiohttpDownloadHandler"
    server = Server([root])
    try:
        held = _crawl(server, tmp_path / "out", **settings)
    finally:
        server.stop()
    assert held.returncode == 0, held.log[-3000:]
    assert held.stats["newscrawl/images/handed_over/http_503"] == 1  # the first file, met by the lean fetch
    assert held.stats["newscrawl/politeness/retry_after_too_long"] == 1
    assert "newscrawl/images/lean_fetched" not in held.stats and "newscrawl/images/stored" not in held.stats
    assert held.stats["newscrawl/images/handed_over/paced"] >= 1  # the others: held back in the downloader
    assert held.stats["newscrawl/images/failed/held_back"] >= 2
    assert held.stats["newscrawl/pending/articles"] >= 1  # its files tried again by the next run


def test_lean_middlewares_keep_the_referer_the_cdn_redirect_and_the_scope_rule(hostile_images):
    """NEWSCRAWL_LEAN_MIDDLEWARES turns Scrapy's Referer middleware off: image requests still send their
    article page (the CDN refuses any other Referer), on the CDN's redirect hop too, and a redirect off
    the site's hosts is still refused."""
    server, files, out = hostile_images
    first = _crawl(server, out, CONCURRENT_REQUESTS="4", NEWSCRAWL_LEAN_MIDDLEWARES="True")
    assert first.returncode == 0, first.log[-3000:]
    files_seen = _files_by_url(first.items)
    assert files_seen[MOVED]["status"] == files_seen[TWIN_A]["status"] == files_seen[SLOW]["status"] == "stored"
    assert (out / "images" / files_seen[MOVED]["path"]).read_bytes() == files[MOVED_TO].read_bytes()
    assert (files_seen[MOVED_AWAY]["status"], files_seen[MOVED_AWAY]["reason"]) == ("refused", "host_not_allowed")
    assert (files_seen[DISALLOWED]["status"], files_seen[DISALLOWED]["reason"]) == ("refused", "robots")
    assert first.stats["newscrawl/images/stored"] >= 5


def test_the_store_process_threads_and_a_killed_store_process_store_the_same_files(tmp_path: Path):
    """The image store process (the default), the crawl's threads (NEWSCRAWL_IMAGES_STORE_PROCESS off), and
    a store process killed before its 3rd rename (the crawl stores the rest itself): the same records,
    the same bytes under the same names, every article exported once."""
    root = tmp_path / "site"
    files = image_site(root)
    server = Server([root])
    try:
        runs = {
            "process": _crawl(server, tmp_path / "process"),
            "threads": _crawl(server, tmp_path / "threads", NEWSCRAWL_IMAGES_STORE_PROCESS="False"),
        }
        killed_out = tmp_path / "killed"
        killed_out.mkdir()
        args = crawl_command(
            killed_out,
            server,
            "-a",
            "tag=xiaomi12_ultra",
            incremental=True,
            # Two images in flight at most: most files come after the kill, not waiting on the process.
            settings={
                "NEWSCRAWL_IMAGES_STORE": str(killed_out / "images"),
                **IMAGE_SETTINGS,
                "CONCURRENT_REQUESTS": "2",
            },
        )
        env = {**os.environ, "NEWSCRAWL_CRASH_AT": "image-store:3"}
        done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=180, env=env)
        runs["killed"] = read_output(killed_out, "mydrivers", done.returncode, done.stderr)
    finally:
        server.stop()
    for name, run in runs.items():
        assert run.returncode == 0, f"{name}: {run.log[-3000:]}"
    records = {name: _files_by_url(run.items) for name, run in runs.items()}
    assert len(records["process"]) >= 10
    assert records["process"] == records["threads"] == records["killed"]
    for url, record in records["process"].items():
        assert record["status"] == "stored", url
        for name in runs:
            assert (tmp_path / name / "images" / record["path"]).read_bytes() == files[url].read_bytes()
    assert runs["process"].stats["newscrawl/images/store_process_started"] == 1
    assert "newscrawl/images/store_process_gone" not in runs["process"].stats
    assert "newscrawl/images/store_process_started" not in runs["threads"].stats
    # The kill landed before a rename: its temporary is still there (a later run removes it once stale).
    assert len(list((killed_out / "images").glob("??/.tmp-*.part"))) == 1
    # Every file after the kill was stored by the crawl itself, and counted: those the dead process had
    # not answered, and every later one.
    killed_stats = runs["killed"].stats
    assert killed_stats["newscrawl/images/store_process_gone"] == killed_stats["newscrawl/images/stored"] - 2
    # Logged once, by whichever image heard of the end first: one that was waiting on the process ("ended
    # (exit status …)") or one asked for after ("has ended").
    assert (
        len(re.findall(r"the image store process (ended|has ended).*: storing images in the crawl", runs["killed"].log))
        == 1
    )
    for run in runs.values():
        assert sorted(item["article_id"] for item in run.items) == sorted(
            item["article_id"] for item in runs["process"].items
        )


def test_the_store_process_starts_without_scrapy():
    """It is started at the first image of a run: Scrapy and Twisted would only make it start slower."""
    probe = "import sys, newscrawl.archive.image_store; print(sorted({'scrapy', 'twisted'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_the_store_process_answers_what_became_of_each_image(tmp_path: Path):
    """Its loop, in this process: a new file, the same bytes again, bytes refused, a store it cannot
    write (a file where a shard folder must be)."""
    good = picture(f"https://{IMAGE_HOST}/img/a.png")
    digest = hashlib.sha256(good).hexdigest()
    (tmp_path / "blocked").mkdir()
    (tmp_path / "blocked" / digest[:2]).write_text("not a folder", encoding="utf-8")

    def answers(root: Path, *bodies: bytes) -> list:
        sink = BytesIO()
        serve(BytesIO(b"".join(frame(body) for body in bodies)), sink, root, 50_000_000, True)
        return unframe(bytearray(sink.getvalue()))

    stored = ("stored", f"{digest[:2]}/{digest}.png", digest)
    assert answers(tmp_path / "store", good, good, SVG_WITH_SCRIPT) == [
        (*stored, True),
        (*stored, False),
        ("not_stored", "refused", "svg", ""),
    ]
    assert (tmp_path / "store" / stored[1]).read_bytes() == good
    assert (tmp_path / "store" / stored[1]).stat().st_mode & 0o777 == 0o666 & ~_umask()
    [(kind, status, reason, detail)] = answers(tmp_path / "blocked", good)
    assert (kind, status, reason) == ("not_stored", "failed", "store_error") and "not a folder" in detail


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_mirrored_images_show_in_a_hexo_site_in_chromium(tmp_path: Path):
    """Every article image of three tags stored byte for byte; the `local` posts, built by real Hexo with
    the store as source/images, show every one of them from 127.0.0.1 in a real Chromium."""
    import shutil
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from test_hexo import make_hexo_site, read_with_hexo

    playwright = pytest.importorskip("playwright.sync_api", reason="the test extras install Playwright")
    root = tmp_path / "site"
    files = image_site(root)
    server = Server([root])
    try:
        out = tmp_path / "out"
        out.mkdir()
        args = crawl_command(
            out,
            server,
            "-a",
            "tag=windows_11,xiaomi12_ultra,nvidia",
            incremental=True,
            settings={"NEWSCRAWL_IMAGES_STORE": str(out / "images"), "NEWSCRAWL_POST_IMAGES": "local"},
        )
        import subprocess

        done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=180)
        result = read_output(out, "mydrivers", done.returncode, done.stderr)
    finally:
        server.stop()
    assert result.returncode == 0, result.log[-3000:]
    records = _files_by_url(result.items)
    assert len(records) >= 40 and all(record["status"] == "stored" for record in records.values())
    for url, record in records.items():
        assert (out / "images" / record["path"]).read_bytes() == files[url].read_bytes(), url

    folder = make_hexo_site(tmp_path / "blog", result.posts, "Asia/Shanghai")
    shutil.copytree(out / "images", folder / "source" / "images")
    seen = read_with_hexo(folder, "UTC", generate=True)
    local = {f"/images/{record['path']}" for record in records.values()}
    for name, post in seen.items():  # Hexo's front-matter parser read the rewritten head images
        assert post["headimg"] == post["thumbnail"] == _front_matter(result.posts[name])["headimg"]
        assert post["headimg"] in local, name

    public = folder / "public"

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    web = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(public)))
    threading.Thread(target=web.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{web.server_address[1]}/"
    shown: set[str] = set()
    offsite: list[str] = []
    try:
        with playwright.sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.route(
                "**/*",
                lambda route: (
                    route.continue_()
                    if route.request.url.startswith(base)
                    else (offsite.append(route.request.url), route.abort())
                ),
            )
            for name, post in seen.items():
                page.goto(base + post["path"], wait_until="load")
                images = page.eval_on_selector_all(
                    "img", "els => els.map(e => [e.getAttribute('src'), e.complete && e.naturalWidth > 0])"
                )
                for src, loaded in images:
                    if src.startswith("/images/"):
                        assert loaded, (name, src)
                        shown.add(src)
                for href in page.eval_on_selector_all("a", "els => els.map(e => e.getAttribute('href'))"):
                    if href and href.startswith("/images/"):  # a full-size image the thumbnail links to
                        assert page.request.get(base + href.lstrip("/")).ok, (name, href)
                        shown.add(href)
            browser.close()
    finally:
        web.shutdown()
    assert shown == local  # every stored file is shown or linked, by the post that names it
    article_urls = set(records)
    assert not article_urls & set(offsite), "an article image was still fetched from its CDN"


def test_both_state_backends_keep_an_export_with_images_to_retry_pending(tmp_path: Path, redis_server: str):
    """The export and its staying pending are one write; a later export without work left settles it."""
    from newscrawl.state.base import Export, PendingArticle
    from newscrawl.state.journal import JournalMark, LineRef
    from newscrawl.state.redis import RedisState
    from newscrawl.state.sqlite import SqliteState

    retry = PendingArticle("11", "https://news.mydrivers.com/1/11/11.htm", 0)
    mark = JournalMark(0, 1, 1)

    def export(article_id: str, revision: int, pending: PendingArticle | None) -> Export:
        return Export(article_id, f"h{revision}", revision, 1.0, 1.0, (), LineRef("/j", 1, revision, 1), pending)

    for state in (SqliteState(tmp_path / "s.sqlite", "mydrivers", 5), RedisState(redis_server, "mydrivers", "w1", 600)):
        try:
            state.record_pending(None, [PendingArticle("10", "u10", 0), retry], [])
            state.record_exports([export("10", 1, None), export("11", 1, retry)], "j", mark)
            assert [(a.article_id, a.url) for a in state.pending_articles()] == [("11", retry.url)]
            assert state.is_pending("11") and not state.is_pending("10")
            state.record_exports([export("11", 2, None)], "j", mark)  # its images arrived
            assert state.pending_articles() == [] and not state.is_pending("11")
        finally:
            state.close()


def test_reparse_with_a_store_fetches_nothing_and_keeps_the_file_records(tmp_path: Path):
    """`scrapy reparse` (no network) over a capturing, mirroring crawl: the same articles, the same
    records; a file missing from the store is not fetched but left to the next crawl (`not_fetched`)."""

    root = tmp_path / "site"
    image_site(root)
    out, warc = tmp_path / "out", tmp_path / "warc"
    server = Server([root])
    try:
        first = _crawl(server, out, NEWSCRAWL_WARC_DIR=str(warc), COOKIES_ENABLED="False")
    finally:
        server.stop()  # from here on, a fetch could only fail
    assert first.returncode == 0 and len(first.items) == 2, first.log[-3000:]
    # The capture records every response: no image file is fetched past it by the lean fetch.
    assert "Image files are fetched through Scrapy's downloader: newscrawl.archive.capture.WarcCapture" in first.log
    assert "newscrawl/images/lean_fetched" not in first.stats
    state = [*job_settings(out), "-s", f"NEWSCRAWL_IMAGES_STORE={out / 'images'}", "-s", "NEWSCRAWL_POST_IMAGES=local"]

    def reparse() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "scrapy", "reparse", str(warc), *state],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )

    unchanged = reparse()
    assert unchanged.returncode == 0, unchanged.stderr[-3000:]
    assert "0 new, 0 updated, 2 unchanged" in unchanged.stderr
    assert "Image not stored" not in unchanged.stderr
    # 833153: an article with tags (the only article of a run, it alone makes the field coverage alarm's sample)
    seed = next(item for item in first.items if item["article_id"] == SEED)
    gone = seed["images"][0]["file"]["path"]
    (out / "images" / gone).unlink()
    done = reparse()
    assert done.returncode == 0, done.stderr[-3000:]
    [update] = [json.loads(line) for line in (out / "items.jsonl").read_text(encoding="utf-8").splitlines()][2:]
    assert update["article_id"] == SEED and update["revision"] == 2
    record = update["images"][0]["file"]
    assert (record["status"], record["reason"]) == ("failed", "not_fetched") and record["failed_since"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"NEWSCRAWL_POST_IMAGES": "locl"}, "NEWSCRAWL_POST_IMAGES must be one of original, local"),
        ({"NEWSCRAWL_POST_IMAGES": "local"}, "NEWSCRAWL_POST_IMAGES=local needs NEWSCRAWL_IMAGES_STORE"),
        ({"NEWSCRAWL_IMAGES_STORE": "s3://bucket/images"}, "NEWSCRAWL_IMAGES_STORE must be a folder"),
        ({"NEWSCRAWL_IMAGES_STORE": "x", "NEWSCRAWL_POST_IMAGES_URL": "images/"}, "NEWSCRAWL_POST_IMAGES_URL must be"),
        ({"NEWSCRAWL_POST_IMAGES_URL": '/images/" onerror="alert(1)'}, "NEWSCRAWL_POST_IMAGES_URL must be"),
        ({"NEWSCRAWL_POST_IMAGES_URL": "javascript:alert(1)//"}, "NEWSCRAWL_POST_IMAGES_URL must be"),
        ({"NEWSCRAWL_FEED_IMAGES_URL": "/images/"}, "NEWSCRAWL_FEED_IMAGES_URL must be an http(s) URL"),
        ({"NEWSCRAWL_IMAGES_MAX_SIZE": "big"}, "NEWSCRAWL_IMAGES_MAX_SIZE must be a whole number"),
        ({"NEWSCRAWL_IMAGES_MAX_PIXELS": "0"}, "NEWSCRAWL_IMAGES_MAX_PIXELS must be a whole number"),
        ({"NEWSCRAWL_IMAGES_RETRY_DAYS": "-1"}, "NEWSCRAWL_IMAGES_RETRY_DAYS must be a number"),
    ],
)
def test_image_settings_are_checked_before_anything_is_fetched(overrides: dict[str, str], message: str):
    from scrapy.settings import Settings

    from newscrawl.addon import check_settings
    from newscrawl.exit_codes import CannotStart

    settings = Settings()
    settings.setmodule("newscrawl.settings")
    check_settings(settings)  # the defaults pass
    settings.update(overrides)
    with pytest.raises(CannotStart, match=re.escape(message)):
        check_settings(settings)


def test_a_store_that_cannot_be_made_stops_the_run_with_one_line(tmp_path: Path, site_server):

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    args = crawl_command(
        tmp_path / "out",
        site_server,
        "-a",
        "tag=xiaomi12_ultra",
        incremental=True,
        settings={"NEWSCRAWL_IMAGES_STORE": str(blocker / "images")},
    )
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert f"Cannot start: NEWSCRAWL_IMAGES_STORE: cannot make the folder {blocker / 'images'}" in done.stderr
    assert "Traceback" not in done.stderr and "Spider opened" not in done.stderr


def test_a_full_image_store_exits_2_and_the_images_arrive_next_run(tmp_path: Path):
    """The store on a real tmpfs, full before the run: every article is exported all the same, each file
    is `failed` / `store_error`, the run says a person must look; with space again, the next run stores
    them and updates the articles."""

    from faults import can_mount_tmpfs, fill_disk, tmpfs

    assert can_mount_tmpfs(tmp_path), "mounting a tmpfs needs root; scripts/test.sh and CI run as root"
    root = tmp_path / "site"
    files = image_site(root)
    disk, out = tmp_path / "disk", tmp_path / "out"
    server = Server([root])
    try:
        with tmpfs(disk, 256):
            (disk / "images").mkdir()
            filler = fill_disk(disk)
            first = _crawl(server, out, NEWSCRAWL_IMAGES_STORE=str(disk / "images"))
            assert first.returncode == 2, first.log[-3000:]
            assert "No space left on device" in first.log  # the fault reached the store's writer
            assert "Needs attention (exit 2): image_store_failed" in first.log
            assert sorted(item["article_id"] for item in first.items) == [SEED, OTHER]
            records = _files_by_url(first.items)
            assert {(r["status"], r["reason"]) for r in records.values()} == {("failed", "store_error")}
            assert first.stats["newscrawl/pending/articles"] == 2
            filler.unlink()
            second = _crawl(server, out, NEWSCRAWL_IMAGES_STORE=str(disk / "images"))
            assert second.returncode == 0, second.log[-3000:]
            updates = second.items[len(first.items) :]
            assert sorted((item["article_id"], item["revision"]) for item in updates) == [(SEED, 2), (OTHER, 2)]
            for url, record in _files_by_url(updates).items():
                assert (disk / "images" / record["path"]).read_bytes() == files[url].read_bytes()
            assert second.stats["newscrawl/pending/articles"] == 0
    finally:
        server.stop()


def test_distributed_another_worker_retries_the_image_one_worker_could_not_get(tmp_path: Path, redis_server: str):
    """On Redis: w1 exports the article with a file that failed (503); w2's run fetches the article
    again — exported, but still pending — and exports the update with the file."""

    root = tmp_path / "site"
    files = image_site(root)
    _fault(files, FLAKY, {"status": 503, "times": 3})
    out = tmp_path / "out"
    out.mkdir()
    server = Server([root])
    try:
        for name in ("w1", "w2"):
            args = crawl_command(
                out,
                server,
                "-a",
                "tag=xiaomi12_ultra",
                incremental=True,
                settings={
                    "NEWSCRAWL_REDIS_URL": redis_server,
                    "NEWSCRAWL_WORKER": name,
                    "NEWSCRAWL_REDIS_IDLE_TIMEOUT": "1",
                    "NEWSCRAWL_IMAGES_STORE": str(out / "images"),
                },
            )
            done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=180)
            assert done.returncode == 0, done.stderr[-3000:]
    finally:
        server.stop()

    def lines(name: str) -> list[dict]:
        return [json.loads(line) for line in (out / f"items.{name}.jsonl").read_text(encoding="utf-8").splitlines()]

    first, second = lines("w1"), lines("w2")
    assert sorted(item["article_id"] for item in first) == [SEED, OTHER]
    assert _files_by_url(first)[FLAKY]["reason"] == "http_503"
    [update] = second
    assert (update["article_id"], update["revision"]) == (SEED, 2)
    record = _files_by_url([update])[FLAKY]
    assert (out / "images" / record["path"]).read_bytes() == files[FLAKY].read_bytes()
    import redis

    db = redis.Redis.from_url(redis_server, decode_responses=True)
    assert db.hlen("newscrawl:mydrivers:pending:articles") == 0 and db.hlen("newscrawl:mydrivers:claims") == 0


def test_stored_files_maps_each_stored_url_to_its_path():
    stored = {"status": "stored", "path": "ab/x.png", "checksum": "x", "reason": None, "failed_since": None}
    images = [
        {"url": A, "thumbnail": B, "alt": None, "file": stored, "thumbnail_file": _failed("timeout", None)},
        {
            "url": "https://img1.mydrivers.com/c.png",
            "thumbnail": "https://img1.mydrivers.com/c.png",
            "alt": None,
            "file": {**stored, "path": "cd/c.png"},
            "thumbnail_file": None,
        },
        {"url": "https://img1.mydrivers.com/d.png", "thumbnail": "https://img1.mydrivers.com/d.png", "alt": None},
    ]
    assert stored_files(images) == {A: "ab/x.png", "https://img1.mydrivers.com/c.png": "cd/c.png"}


def test_the_progress_line_counts_pages_not_image_files(tmp_path: Path):
    """With a progress line every 0.05 s, the last one before the summary counts no more pages than the
    summary does (image responses were counted as pages)."""
    import re

    root = tmp_path / "site"
    image_site(root)
    server = Server([root])
    try:
        result = _crawl(server, tmp_path / "out", NEWSCRAWL_PROGRESS_INTERVAL="0.05")
    finally:
        server.stop()
    assert result.returncode == 0, result.log[-3000:]
    assert result.stats["newscrawl/images/responses"] >= 2  # images were fetched
    progress = [int(match) for match in re.findall(r"Progress: (\d+) pages fetched", result.log)]
    pages = int(re.search(r"Run summary: (\d+) pages fetched", result.log).group(1))
    assert progress and max(progress) <= pages, (progress, pages)


def test_feeds_show_the_stored_images_when_the_posts_do(tmp_path: Path):
    """With NEWSCRAWL_POST_IMAGES=local, a feed's bodies and enclosures point at the store under the
    absolute NEWSCRAWL_FEED_IMAGES_URL, as the posts point at it under their relative prefix."""
    root = tmp_path / "site"
    image_site(root)
    server = Server([root])
    out = tmp_path / "out"
    out.mkdir()
    try:
        settings = {
            "NEWSCRAWL_IMAGES_STORE": str(out / "images"),
            "NEWSCRAWL_POST_IMAGES": "local",
            "NEWSCRAWL_FEED_IMAGES_URL": "https://blog.example/images",
        }
        args = crawl_command(out, server, "-a", "tag=xiaomi12_ultra", incremental=True, settings=settings)
        done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=180)
        result = read_output(out, "mydrivers", done.returncode, done.stderr)
    finally:
        server.stop()
    assert result.returncode == 0, result.log[-3000:]
    stored = {
        url: record["path"] for url, record in _files_by_url(result.items).items() if record["status"] == "stored"
    }
    assert stored
    feed = (out / "feeds/mydrivers/xiaomi12_ultra.xml").read_text(encoding="utf-8")
    assert not [url for url in stored if f'src="{url}"' in feed]  # no stored image shown from the CDN
    shown = re.findall(r'src="(https://blog\.example/images/[^"]+)"', feed)
    assert shown and all(link.removeprefix("https://blog.example/images/") in stored.values() for link in shown)
    assert 'rel="enclosure"' in feed and 'href="https://blog.example/images/' in feed
