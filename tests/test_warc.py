"""WARC capture, re-parsing and fixtures from captures, against the bundled site on a real 127.0.0.1 server.

What a capture holds is read with warcio (its ArchiveIterator and its `check`/`index` commands), never
with newscrawl's own reading code, and compared with the files the server sent.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import site_contract
import yaml
from conftest import FIXTURES, MYDRIVERS_SITE, REPO, crawl_command, job_settings, read_output
from faults import Watcher, can_mount_tmpfs, check_invariants, crawl_killed_at, crawl_to_the_end, fill_disk, mode, tmpfs
from warcio.archiveiterator import ArchiveIterator

from newscrawl.archive.warc import OPEN, finish_abandoned
from newscrawl.state.files import FILE_MODE

PYWB = REPO / "tests" / "pywb" / ".venv" / "bin"  # scripts/test.sh installs pywb there (its pins clash with ours)
TAGS = "tag=xiaomi12_ultra,xiaomi,laika,windows_11,windowscaozuoxitong,nvidia,intel,amd,youxi,dianyuan"
WARCIO = [sys.executable, "-m", "warcio.cli"]


def capture_settings(warc: Path, **more: str) -> dict[str, str]:
    return {"NEWSCRAWL_WARC_DIR": str(warc), "NEWSCRAWL_FEEDS_DIR": "", **more}


def served_file(url: str) -> Path:
    parts = urlsplit(url)
    return (
        MYDRIVERS_SITE / (parts.hostname or "") / (parts.path.lstrip("/") + (f"@{parts.query}" if parts.query else ""))
    )


def records(folder: Path) -> list[dict]:
    """Every record of the finished files in `folder`, read by warcio."""
    found = []
    for path in sorted(folder.glob("*.warc.gz")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                found.append(
                    {
                        "type": record.rec_type,
                        "file": path.name,
                        "uri": record.rec_headers.get_header("WARC-Target-URI"),
                        "id": record.rec_headers.get_header("WARC-Record-ID"),
                        "concurrent": record.rec_headers.get_header("WARC-Concurrent-To"),
                        "payload_digest": record.rec_headers.get_header("WARC-Payload-Digest"),
                        "status": int(record.http_headers.get_statuscode()) if record.rec_type == "response" else None,
                        "request_line": (
                            f"{record.http_headers.protocol} {record.http_headers.statusline}"
                            if record.rec_type == "request"
                            else None
                        ),
                        "ip": record.rec_headers.get_header("WARC-IP-Address"),
                        "date": record.rec_headers.get_header("WARC-Date"),
                        "payload": record.raw_stream.read() if record.rec_type == "response" else None,
                    }
                )
    return found


def warcio_accepts(folder: Path) -> None:
    files = [str(path) for path in sorted(folder.glob("*.warc.gz"))]
    assert files, f"no finished WARC file in {folder}"
    check = subprocess.run([*WARCIO, "check", "-v", *files], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]
    assert "digest pass" in check.stdout and "digest fail" not in check.stdout
    index = subprocess.run(
        [*WARCIO, "index", "-f", "warc-type,warc-target-uri,length", *files], capture_output=True, text=True
    )
    assert index.returncode == 0, index.stderr[-2000:]
    assert index.stdout.count('"warc-type": "response"') == sum(r["type"] == "response" for r in records(folder))


def journal_urls(out: Path) -> list[str]:
    """The URLs of the journal's whole lines (a kill may have left a torn last one)."""
    data = (out / "items.jsonl").read_bytes() if (out / "items.jsonl").exists() else b""
    return [json.loads(line)["url"] for line in data.split(b"\n")[:-1]]


def until_nothing_pending(args: list[str], out: Path, runs: int = 3) -> None:
    """Rerun the crawl (at most `runs` times) until its last run left nothing pending: a page that failed
    for a reason that may pass (a reset on a loaded machine) is the next run's, by design."""
    for attempt in range(runs + 1):
        stats = read_output(out, "mydrivers", 0, "").stats
        if not stats.get("newscrawl/pending/listing_pages") and not stats.get("newscrawl/pending/articles"):
            return
        if attempt < runs:
            crawl_to_the_end(args, REPO)
    raise AssertionError(f"work still pending after {runs} runs without faults")


def captured_crawl(tmp_path: Path, server, tags: str = TAGS) -> tuple[Path, Path]:
    """A scheduled crawl of `tags` with capture on, run to its end: (its output folder, its WARC folder)."""
    out, warc = tmp_path / "out", tmp_path / "warc"
    out.mkdir()
    crawl_to_the_end(crawl_command(out, server, "-a", tags, incremental=True, settings=capture_settings(warc)), REPO)
    return out, warc


def test_a_captured_crawl_holds_every_response_byte_for_byte(tmp_path: Path, site_server):
    out, warc = captured_crawl(tmp_path, site_server)
    found = records(warc)
    responses = [r for r in found if r["type"] == "response"]
    assert found[0]["type"] == "warcinfo"
    assert {r["uri"] for r in responses} >= {
        "https://news.mydrivers.com/robots.txt",
        "https://news.mydrivers.com/tag/xiaomi12_ultra.htm",
    }
    for response in responses:
        if response["status"] == 200:  # the payload is the file the server sent, byte for byte
            assert response["payload"] == served_file(response["uri"]).read_bytes(), response["uri"]
            digest = response["payload_digest"].split(":", 1)[1]
            assert base64.b32encode(hashlib.sha1(response["payload"]).digest()).decode() == digest
    requests = {r["concurrent"]: r for r in found if r["type"] == "request"}
    assert set(requests) == {r["id"] for r in responses}  # a request record per response, linked to it
    assert all(r["request_line"].startswith("GET /") for r in requests.values())
    assert all(r["ip"] == "127.0.0.1" and r["date"].endswith("Z") for r in responses)
    captured_articles = {r["uri"] for r in responses if r["status"] == 200}
    assert set(journal_urls(out)) <= captured_articles and len(journal_urls(out)) == 16
    stats = read_output(out, "mydrivers", 0, "").stats
    assert stats["newscrawl/warc/responses"] == len(responses)
    assert not list(warc.glob("*" + OPEN))
    for path in warc.glob("*.warc.gz"):
        assert mode(path) == FILE_MODE
    warcio_accepts(warc)


def test_pywb_indexes_the_capture_and_replays_its_pages(tmp_path: Path, site_server):
    assert (PYWB / "wb-manager").is_file(), "pywb is not installed: scripts/test.sh installs it into tests/pywb/.venv"
    out, warc = captured_crawl(tmp_path, site_server, "tag=xiaomi12_ultra")
    home = tmp_path / "pywb"
    home.mkdir()
    for command in (["init", "news"], ["add", "news", *map(str, warc.glob("*.warc.gz"))]):
        done = subprocess.run(
            [str(PYWB / "wb-manager"), *command], cwd=home, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-2000:]
    index = [
        json.loads(line.split(" ", 2)[2]) | {"timestamp": line.split(" ", 2)[1]}
        for line in (home / "collections/news/indexes/index.cdxj").read_text(encoding="utf-8").splitlines()
    ]
    pages = {entry["url"]: entry for entry in index if entry.get("status") == "200"}
    assert set(journal_urls(out)) <= set(pages) and "https://news.mydrivers.com/tag/xiaomi12_ultra.htm" in pages
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(PYWB / "wayback"), "--port", str(port), "--bind", "127.0.0.1"],
        cwd=home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = journal_urls(out)[0]
        replay = f"http://127.0.0.1:{port}/news/{pages[url]['timestamp']}id_/{url}"
        body = None
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, whatever the environment says
        for _ in range(200):
            try:
                with direct.open(replay, timeout=10) as answer:
                    body = answer.read()
                break
            except OSError:
                if server.poll() is not None:
                    raise AssertionError(f"wayback stopped: {server.stderr.read()[-2000:]}") from None
                time.sleep(0.1)
        assert body == served_file(url).read_bytes()  # replayed byte for byte
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_capture_files_rotate_by_size_with_the_run_in_their_names(tmp_path: Path, site_server):
    out, warc = tmp_path / "out", tmp_path / "warc"
    out.mkdir()
    crawl_to_the_end(
        crawl_command(
            out,
            site_server,
            "-a",
            TAGS,
            incremental=True,
            settings=capture_settings(warc, NEWSCRAWL_WARC_MAX_SIZE="20000"),
        ),
        REPO,
    )
    names = sorted(path.name for path in warc.glob("*.warc.gz"))
    assert len(names) >= 3
    runs = {name.rsplit("-", 1)[0] for name in names}
    assert len(runs) == 1 and next(iter(runs)).startswith("mydrivers-")
    assert [name.rsplit("-", 1)[1] for name in names] == [f"{n:05d}.warc.gz" for n in range(1, len(names) + 1)]
    assert sum(1 for r in records(warc) if r["type"] == "warcinfo") == len(names)
    warcio_accepts(warc)


@pytest.mark.parametrize(
    "crash_at", ["warc-mid-record:5", "journal-mid-line:3", "before-state-record:6", "post-before-rename:2"]
)
def test_a_kill_during_a_captured_crawl_leaves_readable_files(tmp_path: Path, site_server, crash_at: str):
    out, warc = tmp_path / "out", tmp_path / "warc"
    out.mkdir()
    args = crawl_command(
        out, site_server, "-a", TAGS, incremental=True, settings=capture_settings(warc, NEWSCRAWL_PARSE_PROCESS="False")
    )
    crawl_killed_at(args, crash_at, REPO)
    unfinished = list(warc.glob("*" + OPEN))
    assert len(unfinished) == 1, "the kill did not land while a capture file was open"
    torn = unfinished[0].stat().st_size
    exported_before = journal_urls(out)
    again = crawl_to_the_end(args, REPO)
    stats = read_output(out, "mydrivers", 0, again.stderr).stats
    assert stats["newscrawl/warc/finished_abandoned"] == 1
    if crash_at.startswith("warc-mid-record"):  # the kill tore a record: it was cut
        assert stats["newscrawl/warc/torn_bytes_cut"] > 0
        assert "torn byte(s) cut" in again.stderr
    assert torn > 0 and not list(warc.glob("*" + OPEN))
    until_nothing_pending(args, out)
    warcio_accepts(warc)
    captured = {r["uri"] for r in records(warc) if r["type"] == "response" and r["status"] == 200}
    assert set(exported_before) <= captured  # what the killed run exported had been captured
    assert set(journal_urls(out)) <= captured
    assert len(check_invariants(out)) == 16


def test_a_writer_process_that_dies_fails_the_capture_and_the_next_run_captures_it_all(tmp_path: Path, site_server):
    out, warc = tmp_path / "out", tmp_path / "warc"
    out.mkdir()
    args = crawl_command(out, site_server, "-a", TAGS, incremental=True, settings=capture_settings(warc))
    killed = subprocess.run(
        args,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NEWSCRAWL_CRASH_AT": "warc-writer:5"},
    )
    assert "WARC: the writer process ended (exit status -9)" in killed.stderr, killed.stderr[-3000:]  # it landed
    assert killed.returncode == 2 and "capture_failed" in killed.stderr
    assert len(journal_urls(out)) < 16  # what depended on the lost records was not exported
    until_nothing_pending(args, out)
    assert not list(warc.glob("*" + OPEN))
    warcio_accepts(warc)
    captured = {r["uri"] for r in records(warc) if r["type"] == "response" and r["status"] == 200}
    assert set(journal_urls(out)) <= captured
    assert len(check_invariants(out)) == 16


def test_reparse_finishes_what_a_killed_capture_left_and_reads_it(tmp_path: Path, site_server):
    out, warc = tmp_path / "out", tmp_path / "warc"
    out.mkdir()
    crawl_killed_at(
        crawl_command(out, site_server, "-a", TAGS, incremental=True, settings=capture_settings(warc)),
        "journal-mid-line:3",
        REPO,
    )
    assert len(list(warc.glob("*" + OPEN))) == 1
    exported = journal_urls(out)
    assert exported
    done = reparse(tmp_path, str(warc), "-O", str(tmp_path / "re.jsonl"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Finished 1 WARC file(s) a killed run left" in done.stderr and not list(warc.glob("*" + OPEN))
    warcio_accepts(warc)
    captured = {r["uri"] for r in records(warc) if r["type"] == "response" and r["status"] == 200 and "/1/" in r["uri"]}
    reparsed = [json.loads(line)["url"] for line in (tmp_path / "re.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(reparsed) == sorted(captured) and set(exported) <= captured


def test_a_full_capture_disk_fails_the_pages_and_the_next_run_captures_them(tmp_path: Path, site_server):
    if not can_mount_tmpfs(tmp_path):
        pytest.skip("mounting a tmpfs (a small disk to fill) needs root; CI runs as root")
    out, disk = tmp_path / "out", tmp_path / "disk"
    out.mkdir()
    args = crawl_command(
        out, site_server, "-a", TAGS, incremental=True, settings=capture_settings(disk / "warc", DOWNLOAD_DELAY="0.1")
    )
    with tmpfs(disk, 1024):
        process = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        fillers: list[Path] = []
        watcher = Watcher(process, out / "items.jsonl", 3, lambda: fillers.append(fill_disk(disk)))
        watcher.start()
        log = process.communicate(timeout=180)[1]
        watcher.join()
        assert watcher.landed, "the disk was not filled while the crawl ran"
        assert "WARC: could not write" in log and "No space left on device" in log  # the fault reached the writer
        assert process.returncode == 2 and "capture_failed" in log, log[-3000:]
        assert len(journal_urls(out)) < 16
        fillers[0].unlink()
        until_nothing_pending(args, out)
        warcio_accepts(disk / "warc")
        captured = {r["uri"] for r in records(disk / "warc") if r["type"] == "response" and r["status"] == 200}
    assert len(check_invariants(out)) == 16
    assert set(journal_urls(out)) <= captured


def test_finishing_an_abandoned_file_cuts_a_torn_or_garbled_tail(tmp_path: Path, site_server):
    out, warc = captured_crawl(tmp_path, site_server, "tag=xiaomi12_ultra")
    [finished] = warc.glob("*.warc.gz")
    whole = finished.read_bytes()
    for tail in (whole[:37], b"\x1f\x8b\x08garbage", b"not gzip at all"):
        abandoned = warc / ("x-" + finished.name + ".open")
        abandoned.write_bytes(whole + tail)
        assert finish_abandoned(warc) == (1, len(tail))
        assert (warc / ("x-" + finished.name)).read_bytes() == whole
        (warc / ("x-" + finished.name)).unlink()
    (warc / "empty.warc.gz.open").write_bytes(b"\x1f\x8b\x08\x00")
    assert finish_abandoned(warc) == (1, 4) and not list(warc.glob("empty*"))


def reparse(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "reparse", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_reparse_gives_the_articles_the_crawl_gave(tmp_path: Path, site_server):
    out, warc = captured_crawl(tmp_path, site_server, TAGS)
    reparsed_file = tmp_path / "re.jsonl"
    done = reparse(tmp_path, str(warc), "-O", str(reparsed_file))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "reparse mydrivers: 16 captured article(s), 16 exported, 0 dropped" in done.stderr

    def by_id(lines: list[str]) -> dict[str, dict]:
        items = {}
        for line in lines:
            item = json.loads(line)
            item.pop("fetched_at")
            item.pop("story"), item.pop("story_lead")  # the crawl's story index gave these; a one-off keeps none
            items[item["article_id"]] = item
        return items

    crawled = by_id((out / "items.jsonl").read_text(encoding="utf-8").splitlines())
    reparsed = by_id(reparsed_file.read_text(encoding="utf-8").splitlines())
    assert reparsed == crawled


PATCH = """
import sys
from newscrawl.normalize import article
original = article.clean_title
article.clean_title = lambda raw, suffixes=(): (lambda title: title and title.replace("Win11", "Windows 11"))(original(raw, suffixes))
from scrapy.cmdline import execute
execute(["scrapy", "reparse", *sys.argv[1:]])
"""


def test_after_a_parser_change_reparse_updates_exactly_the_changed_articles(tmp_path: Path, site_server):
    out, warc = tmp_path / "out", tmp_path / "warc"
    out.mkdir()
    args = crawl_command(out, site_server, "-a", TAGS, incremental=True, settings=capture_settings(warc))
    crawl_to_the_end(args, REPO)
    before = (out / "items.jsonl").read_text(encoding="utf-8").splitlines()
    titles = {json.loads(line)["article_id"]: json.loads(line)["title"] for line in before}
    changed = {i for i, title in titles.items() if "Win11" in title}
    assert 0 < len(changed) < len(titles)
    state = job_settings(out)
    unchanged_run = reparse(tmp_path, str(warc), *state)
    assert unchanged_run.returncode == 0, unchanged_run.stderr[-3000:]
    assert "0 new, 0 updated, 16 unchanged" in unchanged_run.stderr
    assert (out / "items.jsonl").read_text(encoding="utf-8").splitlines() == before
    patched = subprocess.run(
        [sys.executable, "-c", PATCH, str(warc), *state], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert patched.returncode == 0, patched.stderr[-3000:]
    assert (
        f"0 new, {len(changed)} updated (changed: title {len(changed)}), {16 - len(changed)} unchanged"
        in patched.stderr
    )
    after = (out / "items.jsonl").read_text(encoding="utf-8").splitlines()
    assert after[: len(before)] == before
    updates = [json.loads(line) for line in after[len(before) :]]
    assert {u["article_id"] for u in updates} == changed and all(u["revision"] == 2 for u in updates)
    for update in updates:
        assert update["title"] == titles[update["article_id"]].replace("Win11", "Windows 11")
        post = (out / "posts" / "mydrivers" / f"{update['article_id']}.md").read_text(encoding="utf-8")
        assert "Windows 11" in yaml.safe_load(post.split("---\n")[1])["title"]  # the post replaced


def test_scrapy_extract_reads_a_captured_page(tmp_path: Path, site_server):
    out, warc = captured_crawl(tmp_path, site_server, "tag=xiaomi12_ultra")
    [warc_file] = warc.glob("*.warc.gz")
    crawled = json.loads((out / "items.jsonl").read_text(encoding="utf-8").splitlines()[0])
    command = [sys.executable, "-m", "scrapy", "extract", "--warc", str(warc_file), "--url", crawled["url"]]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    extracted = json.loads(done.stdout)
    unset = {"fetched_at": None, "story": None, "story_lead": None}  # the fetch's and the story index's
    assert {**extracted, **unset} == {**crawled, **unset}
    missing = subprocess.run(
        [*command[:-1], crawled["url"] + "x"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "holds no response" in missing.stderr


def test_a_captured_page_becomes_a_fixture_the_contract_accepts_once_confirmed(tmp_path: Path, site_server):
    out, warc = captured_crawl(tmp_path, site_server, "tag=xiaomi12_ultra")
    [warc_file] = warc.glob("*.warc.gz")
    url = json.loads((out / "items.jsonl").read_text(encoding="utf-8").splitlines()[0])["url"]
    fixtures = tmp_path / "fixtures"
    shutil.copytree(FIXTURES / "mydrivers", fixtures / "mydrivers")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "fixture",
            "--warc",
            str(warc_file),
            "--url",
            url,
            "--fixtures",
            str(fixtures),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    site = site_contract.load("mydrivers", fixtures)
    page = fixtures / "mydrivers" / "captured" / urlsplit(url).hostname / urlsplit(url).path.lstrip("/")
    assert page.read_bytes() == served_file(url).read_bytes()
    draft = page.with_name(page.stem + ".expected.draft.json")
    with pytest.raises(AssertionError, match="is a draft"):
        site_contract.check_captured(site)
    [entry] = json.loads((fixtures / "mydrivers" / "captured.json").read_text(encoding="utf-8"))
    assert (
        entry["url"] == url
        and entry["warc_record_id"].startswith("<urn:uuid:")
        and entry["warc_file"] == warc_file.name
    )
    readme = (fixtures / "mydrivers" / "README.md").read_text(encoding="utf-8")
    assert entry["warc_record_id"] in readme and "a modelled page, not a recording" in readme  # served from 127.0.0.1
    draft.rename(site_contract.expected_beside(page))  # confirmed by eye
    site_contract.check_captured(site)
    wrong = json.loads(site_contract.expected_beside(page).read_text(encoding="utf-8"))
    wrong["title"] += "!"
    site_contract.expected_beside(page).write_text(json.dumps(wrong, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(AssertionError, match=r"differs .* \['title'\]"):
        site_contract.check_captured(site)
