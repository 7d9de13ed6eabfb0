"""Downloader middleware: every response the crawl receives goes into WARC files (NEWSCRAWL_WARC_DIR).

It sits closest to the downloader, so it sees each response as it came off the wire — before
decompression, redirects, retries, robots.txt or the spider — and every one of them: robots.txt,
listing pages, article pages, error pages, redirects. The payload is kept byte for byte (its
Content-Encoding as served; a chunked body dechunked, its `Transfer-Encoding` header kept as
`X-Archive-Orig-Transfer-Encoding`); headers are as Scrapy holds them (names in its title case).

The crawl's thread only hands each response to the WARC writer process (newscrawl.archive.writer;
newscrawl.archive.warc does the files) and goes on: warcio, the digests and gzip run on another core.
Before a batch of journal lines is written, the journal's writer waits until every response handed
over so far is written and fsynced (a commit barrier of the crawl state): an article is never in the
journal before its capture. A capture that cannot be written (a full disk, a writer process that
died) fails the batches committed after it and the pages fetched after it (`capture_failed`, exit 2):
they stay pending and the next run fetches, captures and exports them.

Off (NotConfigured, no cost) when NEWSCRAWL_WARC_DIR is empty.
"""

from __future__ import annotations

import contextlib
import fcntl
import http
import itertools
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Response

from newscrawl.archive.warc import Exchange, file_prefix, finish_abandoned, warc_date
from newscrawl.children import child_environment, frame, unframe
from newscrawl.exit_codes import attention
from newscrawl.paths import worker_name
from newscrawl.state.component import Incremental

logger = logging.getLogger(__name__)

PIPE_SIZE = 1 << 20  # bytes the pipe to the writer process holds (Linux's default cap for a process)


class CaptureFailed(OSError):
    """A response's WARC record could not be written: what depends on it fails, and is redone next run."""


def _header_list(headers: Headers) -> list[tuple[str, str]]:
    return [(key.decode("latin-1"), value.decode("latin-1")) for key in headers for value in headers.getlist(key)]


def exchange_of(request: Request, response: Response) -> Exchange:
    """The WARC view of a request and the response it got."""
    headers = [
        ("X-Archive-Orig-Transfer-Encoding" if name.lower() == "transfer-encoding" else name, value)
        for name, value in _header_list(response.headers)
    ]
    request_headers = _header_list(request.headers)
    if not any(name.lower() == "host" for name, _ in request_headers):
        request_headers.insert(0, ("Host", urlsplit(request.url).netloc))
    try:
        reason = http.HTTPStatus(response.status).phrase
    except ValueError:
        reason = ""
    return Exchange(
        response.url,
        request.method,
        request_headers,
        response.protocol or "HTTP/1.1",
        response.status,
        reason,
        headers,
        response.body,
        str(response.ip_address) if response.ip_address else None,
        warc_date(),
    )


class CaptureWriter:
    """The crawl's end of the WARC writer process (newscrawl.archive.writer). `submit` hands it a
    response; `sync()`, from any thread, returns once everything handed over before it is written and
    fsynced, and raises CaptureFailed once a write has failed or the process is gone. A thread of its
    own reads the process' answers (it sleeps in a read between them)."""

    def __init__(self, folder: Path, prefix: str, max_size: int, crawler: Crawler) -> None:
        self.folder = folder
        self.crawler = crawler
        self.failure: str | None = None
        self.finished: list[Path] = []
        self._pipe = threading.Lock()  # one frame at a time on the pipe (held while a write blocks)
        self._lock = threading.Lock()  # the sync tokens, the failure, the end (never held while blocking)
        self._syncs: dict[int, threading.Event] = {}
        self._tokens = itertools.count()
        self._ended = False  # the process' answers ended
        self._closed = False  # ... after it finished its last file
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "newscrawl.archive.writer"]
                + [str(folder), prefix, str(max_size), str(os.getpid())],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=child_environment(),
            )
        except OSError as error:
            self._ended = True
            self._fail(f"the writer process could not start ({error})")
            return
        assert self._process.stdin is not None
        self._stdin = self._process.stdin
        with contextlib.suppress(OSError):  # a roomier pipe: a slow fsync in the writer rarely stalls the crawl
            fcntl.fcntl(self._stdin.fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        self._answers = threading.Thread(target=self._read_answers, name="warc-answers", daemon=True)
        self._answers.start()

    def submit(self, exchange: Exchange) -> None:
        self._send(frame(exchange))

    def sync(self) -> None:
        done = threading.Event()
        with self._lock:  # a token registered before the end is released by it
            token = next(self._tokens)
            if self._ended:
                done.set()
            else:
                self._syncs[token] = done
        if not done.is_set():
            self._send(frame(token))
        done.wait()
        if self.failure is not None:
            raise CaptureFailed(f"a WARC record could not be written ({self.failure})")

    def close(self) -> None:
        """Have the process finish its file and exit; wait for it."""
        if self._ended:
            return
        self._send(frame(None))
        with self._pipe, contextlib.suppress(OSError):
            self._stdin.close()
        self._answers.join()

    def _send(self, data: bytes) -> None:
        with self._pipe:
            if self._ended:
                return
            try:
                self._stdin.write(data)
                self._stdin.flush()
            except (OSError, ValueError) as error:  # gone (ValueError: closed); its answers' end says how
                self._fail(f"the writer process is gone ({error})")
                self._release_syncs()

    def _read_answers(self) -> None:
        answers = self._process.stdout
        assert answers is not None
        pending = bytearray()
        while data := os.read(answers.fileno(), 1 << 16):
            pending += data
            for answer in unframe(pending):
                self._answer(*answer)
        status = self._process.wait()
        if not self._closed:
            self._fail(f"the writer process ended (exit status {status})")
        self._release_syncs(ended=True)

    def _answer(self, kind: str, *details: Any) -> None:
        if kind == "synced":
            token, written = details
            self._written(written)
            with self._lock:
                if (done := self._syncs.pop(token, None)) is not None:
                    done.set()
        elif kind == "failed":
            records, error = details
            self._fail(f"could not write {records} record(s) in {self.folder} ({error})")
        elif kind == "closed":
            written, finished, error_finishing = details
            self._written(written)
            self.finished = [Path(name) for name in finished]
            self._closed = True
            if error_finishing is not None:
                attention(self.crawler, "capture_failed")
                logger.error(
                    "WARC: could not finish the last capture file (%s); the next run finishes it", error_finishing
                )

    def _written(self, records: int) -> None:
        if records:
            self.crawler.stats.set_value("newscrawl/warc/responses", records)

    def _fail(self, why: str) -> None:
        with self._lock:
            if self.failure is not None:
                return
            self.failure = why
        attention(self.crawler, "capture_failed")
        logger.error(
            "WARC: %s; the pages fetched from now on, and the articles not yet in the journal, are fetched again "
            "next run",
            why,
        )

    def _release_syncs(self, ended: bool = False) -> None:
        """Wake every sync waiting (after the failure is set: they raise); `ended`: no more are taken."""
        with self._lock:
            self._ended = self._ended or ended
            for done in self._syncs.values():
                done.set()
            self._syncs.clear()


class WarcCapture:
    def __init__(self, crawler: Crawler, folder: Path, max_size: int) -> None:
        self.crawler = crawler
        finished, cut = finish_abandoned(folder)
        if finished:
            crawler.stats.set_value("newscrawl/warc/finished_abandoned", finished)
            crawler.stats.set_value("newscrawl/warc/torn_bytes_cut", cut)
            logger.warning(
                "WARC: finished %d file(s) a killed run left in %s (%d torn byte(s) cut)", finished, folder, cut
            )
        self.writer = CaptureWriter(
            folder, file_prefix(crawler.spidercls.name, worker_name(crawler.settings)), max_size, crawler
        )
        if (incremental := crawler.get_extension(Incremental)) is not None:
            incremental.add_commit_barrier(self.writer.sync)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCapture:
        folder = crawler.settings.get("NEWSCRAWL_WARC_DIR")
        if not folder:
            raise NotConfigured("NEWSCRAWL_WARC_DIR is empty")
        capture = cls(crawler, Path(folder), crawler.settings.getint("NEWSCRAWL_WARC_MAX_SIZE"))
        crawler.signals.connect(capture.spider_closed, signal=signals.spider_closed)
        return capture

    def process_response(self, request: Request, response: Response) -> Response:
        if self.writer.failure is not None:  # its record could not be kept: it is fetched again next run
            raise CaptureFailed(f"not captured (WARC writes are failing): {response.url}")
        self.writer.submit(exchange_of(request, response))
        self.crawler.stats.inc_value("newscrawl/warc/payload_bytes", len(response.body))
        return response

    def spider_closed(self) -> None:
        self.writer.close()
        finished = self.writer.finished
        self.crawler.stats.set_value("newscrawl/warc/files", len(finished))
        if finished:
            logger.info("WARC: %d file(s) written in %s", len(finished), self.writer.folder)
