"""Readers of captured data are bounded and honest: a payload that inflates past the cap is refused, a
damaged WARC file is reported (exit 2), not read in part silently, and `scrapy reparse` never turns
older content into a newer revision because a skewed clock dated its capture later."""

from __future__ import annotations

import gzip
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import REPO, crawl_command, job_settings
from faults import crawl_to_the_end
from test_warc import capture_settings, reparse
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

ARTICLE = "https://news.mydrivers.com/1/833/833153.htm"


def write_capture(path: Path, url: str, body: bytes, date: str, encoding: str | None = None) -> None:
    """A finished WARC file holding one response record for `url` (as newscrawl's capture writes them)."""
    headers = [("Content-Type", "text/html; charset=utf-8")] + ([("Content-Encoding", encoding)] if encoding else [])
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True, warc_version="WARC/1.1")
        writer.write_record(
            writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                http_headers=StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1"),
                warc_headers_dict={"WARC-Date": date},
            )
        )


def captured_job(tmp_path: Path, server) -> tuple[Path, Path]:
    out, warc = tmp_path / "out", tmp_path / "warc"
    out.mkdir()
    crawl_to_the_end(
        crawl_command(out, server, "-a", "tag=laika", incremental=True, settings=capture_settings(warc)), REPO
    )
    return out, warc


def test_reparse_takes_the_capture_of_the_exported_revision_not_a_later_dated_older_one(tmp_path: Path, site_server):
    """An older capture of 833153 (another title) whose WARC-Date a clock 10 minutes fast put after the
    capture the journal's revision came from: reparse re-reads the latter, exports nothing."""
    out, warc = captured_job(tmp_path, site_server)
    line = json.loads((out / "items.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert line["article_id"] == "833153"
    page = (REPO / "fixtures/mydrivers/site/news.mydrivers.com/1/833/833153.htm").read_bytes()
    older = page.replace("雷军晒刚入手".encode(), "雷军晒旧的".encode())
    assert older != page
    skewed = datetime.fromisoformat(line["fetched_at"].replace("Z", "+00:00")) + timedelta(minutes=10)
    skewed_file = warc / "mydrivers-skewed-clock.warc.gz"
    write_capture(skewed_file, ARTICLE, older, skewed.strftime("%Y-%m-%dT%H:%M:%SZ"))
    alone = reparse(tmp_path, str(skewed_file), "-O", str(tmp_path / "alone.jsonl"))  # the planted capture is read
    assert alone.returncode == 0 and "雷军晒旧的" in (tmp_path / "alone.jsonl").read_text(encoding="utf-8"), (
        alone.stderr[-2000:]
    )
    done = reparse(tmp_path, str(warc), *job_settings(out))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "0 new, 0 updated, 1 unchanged" in done.stderr, done.stderr[-2000:]
    assert len((out / "items.jsonl").read_text(encoding="utf-8").splitlines()) == 1


def test_a_capture_that_inflates_past_the_cap_is_refused_and_the_rest_reparsed(tmp_path: Path, site_server):
    out, warc = captured_job(tmp_path, site_server)
    bomb = gzip.compress(b"<html>" + b" " * (64 << 20), compresslevel=9)  # 64 MiB of spaces, ~64 kB on disk
    write_capture(
        warc / "mydrivers-bomb.warc.gz",
        "https://news.mydrivers.com/1/999/999001.htm",
        bomb,
        datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        encoding="gzip",
    )
    reparsed = tmp_path / "re.jsonl"
    done = reparse(tmp_path, str(warc), "-O", str(reparsed))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert "decodes to more than 8388608 bytes: not read" in done.stderr
    assert [json.loads(line)["article_id"] for line in reparsed.read_text(encoding="utf-8").splitlines()] == ["833153"]


def test_a_damaged_warc_file_is_reported_and_exits_2(tmp_path: Path, site_server):
    _, warc = captured_job(tmp_path, site_server)
    [whole] = list(warc.glob("*.warc.gz"))
    data = whole.read_bytes()
    truncated = tmp_path / "truncated.warc.gz"
    truncated.write_bytes(data[: len(data) * 2 // 3])
    done = reparse(tmp_path, str(truncated), "-O", str(tmp_path / "re.jsonl"))
    assert done.returncode == 2, done.stderr[-3000:]
    assert f"{truncated} is damaged after byte" in done.stderr and "Traceback" not in done.stderr
    whole_run = reparse(tmp_path, str(whole), "-O", str(tmp_path / "whole.jsonl"))
    assert whole_run.returncode == 0 and "is damaged after byte" not in whole_run.stderr


def test_hostile_warc_files_are_one_line_each_and_the_readable_ones_reparsed(tmp_path: Path, site_server):
    """Random bytes named .warc.gz, and a record without a target URI: skipped with one line each, exit 2;
    `extract --warc` on one is one line, exit 1."""
    import random
    import subprocess
    import sys

    _, warc = captured_job(tmp_path, site_server)
    garbage = warc / "mydrivers-garbage.warc.gz"
    garbage.write_bytes(random.Random(7).randbytes(3000))
    no_uri = warc / "mydrivers-no-uri.warc.gz"
    no_uri.write_bytes(gzip.compress(b"WARC/1.1\r\nWARC-Type: response\r\nContent-Length: 99999\r\n\r\nshort"))
    done = reparse(tmp_path, str(warc), "-O", str(tmp_path / "re.jsonl"))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert f"{garbage} cannot be read past its earlier records (ArchiveLoadFailed" in done.stderr
    assert f"{no_uri} cannot be read past its earlier records" in done.stderr
    assert [
        json.loads(line)["article_id"] for line in (tmp_path / "re.jsonl").read_text(encoding="utf-8").splitlines()
    ] == ["833153"]
    extract = subprocess.run(
        [sys.executable, "-m", "scrapy", "extract", "--warc", str(garbage), "--url", ARTICLE],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert extract.returncode == 1 and "Traceback" not in extract.stderr
    assert (
        extract.stderr.strip()
        .splitlines()[-1]
        .startswith(f"scrapy extract: CaptureUnreadable: {garbage} cannot be read")
    )


def test_extract_into_a_pipe_closed_early_is_no_traceback(tmp_path: Path):
    """`scrapy extract … | head`: a reader that has gone (its end of the pipe closed before anything is
    written, so every write meets EPIPE) is not an error."""
    import subprocess
    import sys

    page = REPO / "fixtures/mydrivers/site/news.mydrivers.com/1/833/833153.htm"
    process = subprocess.Popen(
        [sys.executable, "-m", "scrapy", "extract", str(page), "--url", ARTICLE, "--format", "frontmatter"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # the reader is gone
    errors = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0, errors[-2000:]
    assert "Traceback" not in errors and "BrokenPipe" not in errors
