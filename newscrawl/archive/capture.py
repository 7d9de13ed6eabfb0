"""Downloader middleware: every response the crawl receives goes into WARC files (NEWSCRAWL_WARC_DIR).

It sits closest to the downloader, so it sees each response as it came off the wire — before
decompression, redirects, retries, robots.txt or the spider — and every one of them: robots.txt,
listing pages, article pages, error pages, redirects. The payload is kept byte for byte (its
Content-Encoding as served; a chunked body dechunked, its `Transfer-Encoding` header kept as
`X-Archive-Orig-Transfer-Encoding`); headers are as Scrapy holds them (names in its title case).

The crawl's thread only hands each response to a writer thread (newscrawl.archive.warc does the files) and
goes on. Before a batch of journal lines is written, the journal's writer waits until every response
handed over so far is written and fsynced (a commit barrier of the crawl state): an article is never
in the journal before its capture. A capture that cannot be written (a full disk) fails the batches
committed after it and the pages fetched after it (`capture_failed`, exit 2): they stay pending and
the next run fetches, captures and exports them.

Off (NotConfigured, no cost) when NEWSCRAWL_WARC_DIR is empty.
"""

from __future__ import annotations

import http
import logging
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Response

from newscrawl.archive.warc import Exchange, WarcFiles, finish_abandoned, warc_date
from newscrawl.exit_codes import attention
from newscrawl.paths import worker_name
from newscrawl.state.batch_writer import take_batch
from newscrawl.state.component import Incremental

logger = logging.getLogger(__name__)


# take_batch for this writer's queue: its jobs are two kinds, which mypy cannot infer from the queue alone.
_take_batch: Callable[
    [queue.SimpleQueue[Exchange | threading.Event | None]], tuple[list[Exchange | threading.Event], bool]
] = take_batch


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


class CaptureWriter(threading.Thread):
    """Writes the exchanges handed to it, a batch per turn (group commit: one write and one fsync for
    everything that arrived meanwhile). `sync()`, from any other thread, returns once everything handed
    over before it is durable, and raises CaptureFailed once any write has failed."""

    def __init__(self, files: WarcFiles, crawler: Crawler) -> None:
        super().__init__(name="warc-writer", daemon=True)  # a daemon, like the journal's writer: a kill is covered
        self.files = files
        self.crawler = crawler
        self.failure: Exception | None = None
        self._queue: queue.SimpleQueue[Exchange | threading.Event | None] = queue.SimpleQueue()

    def submit(self, exchange: Exchange) -> None:
        self._queue.put(exchange)

    def sync(self) -> None:
        done = threading.Event()
        self._queue.put(done)
        done.wait()
        if self.failure is not None:
            raise CaptureFailed(f"a WARC record could not be written ({self.failure})")

    def close(self) -> None:
        self._queue.put(None)
        self.join()

    def run(self) -> None:
        stopping = False
        while not stopping:
            batch, stopping = _take_batch(self._queue)
            exchanges = [job for job in batch if isinstance(job, Exchange)]
            if exchanges and self.failure is None:
                try:
                    self.files.write(exchanges)
                    self.crawler.stats.inc_value("newscrawl/warc/responses", len(exchanges))
                except Exception as error:  # OSError (a full disk); anything else must not leave sync() waiting
                    self.failure = error
                    attention(self.crawler, "capture_failed")
                    logger.error(
                        "WARC: could not write %d record(s) in %s (%s); the pages fetched from now on, and the "
                        "articles not yet in the journal, are fetched again next run",
                        len(exchanges),
                        self.files.folder,
                        error,
                    )
            for job in batch:
                if isinstance(job, threading.Event):
                    job.set()


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
            WarcFiles(folder, crawler.spidercls.name, worker_name(crawler.settings), max_size), crawler
        )
        self.writer.start()
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
        files = self.writer.files
        try:
            files.finish()
        except OSError as error:
            attention(self.crawler, "capture_failed")
            logger.error("WARC: could not finish the last capture file (%s); the next run finishes it", error)
        self.crawler.stats.set_value("newscrawl/warc/files", len(files.finished))
        if files.finished:
            logger.info("WARC: %d file(s) written in %s", len(files.finished), files.folder)
