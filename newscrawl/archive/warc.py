"""WARC files of what a crawl received: written, finished after a kill, and read back (warcio does the format).

A capture folder holds `<spider>-<UTC start>-<worker>-<pid>-<sequence>.warc.gz`: WARC/1.1, one gzip
member per record (so any record can be read alone), a `warcinfo` record first in every file.

Crash safety: a file is written as `<name>.warc.gz.open`, locked (flock) by the process writing it;
each batch of records goes out in one write and is fsynced (a group commit, as the journal's), so
a kill or a power cut leaves at most a torn last gzip member. At rotation (NEWSCRAWL_WARC_MAX_SIZE)
and at the end of the run the file is renamed to `<name>.warc.gz`: readers open only those.
`finish_abandoned` (when capture starts, and in `scrapy reparse`) finishes what a killed writer left:
it cuts the file after its last whole gzip member and renames it.
"""

from __future__ import annotations

import fcntl
import io
import os
import re
import socket
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from newscrawl.dev.crash_points import crash_point
from newscrawl.normalize.dates import to_utc_iso
from newscrawl.state.files import FILE_MODE, fsync_folder

FINISHED = ".warc.gz"
OPEN = ".warc.gz.open"


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and the response it got, as the downloader saw them (the body as received)."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    protocol: str  # e.g. HTTP/1.1
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    ip_address: str | None
    date: str  # WARC-Date: when the response arrived, ISO 8601 UTC


@dataclass(frozen=True, slots=True)
class Capture:
    """Where a response record is, and what its headers say (`read_body` reads its payload)."""

    url: str
    status: int
    content_type: str | None
    date: str  # WARC-Date
    record_id: str
    ip_address: str | None  # WARC-IP-Address: the address the response came from
    path: Path
    offset: int

    @property
    def fetched_at(self) -> str:
        """WARC-Date as an item's fetch time (ISO 8601 UTC, whole seconds)."""
        return to_utc_iso(datetime.fromisoformat(self.date))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "_"


def file_prefix(spider: str, worker: str) -> str:
    """The start of this crawl's capture file names: `<spider>-<UTC start>-<worker>-<pid>`."""
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    return f"{_safe(spider)}-{stamp}-{_safe(worker)}-{os.getpid()}"


class WarcFiles:
    """The current capture file of one crawl (`prefix`: `file_prefix`'s), rotated by size. Used from one
    thread. `before_dying`: what the crash point in `write` does before its kill (the writer process
    takes its crawl down with it)."""

    def __init__(
        self, folder: Path, prefix: str, max_size: int, before_dying: Callable[[], None] | None = None
    ) -> None:
        self.folder = folder
        self.max_size = max_size
        self.prefix = prefix
        self.before_dying = before_dying
        self.sequence = 0
        self.finished: list[Path] = []
        self._fd: int | None = None
        self._path: Path | None = None
        self._size = 0

    def _open(self) -> None:
        self.sequence += 1
        self._path = self.folder / f"{self.prefix}-{self.sequence:05d}{OPEN}"
        self.folder.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o666)
        os.fchmod(self._fd, FILE_MODE)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        fsync_folder(self.folder)  # the file's name survives a power cut, so the next run finds it
        self._size = 0

    def write(self, exchanges: list[Exchange]) -> None:
        """Append a request and a response record per exchange, fsynced: one write per file, as a file
        is finished once it passes `max_size` and the rest go to the next."""
        done = 0
        while done < len(exchanges):
            if self._fd is None:
                self._open()
            assert self._path is not None
            buffer = io.BytesIO()
            writer = WARCWriter(_GzipMembers(buffer), gzip=False, warc_version="WARC/1.1")
            if self._size == 0:  # a new file (or one whose first write was cut back) begins with its warcinfo
                writer.write_record(
                    writer.create_warcinfo_record(
                        self._path.name[: -len(OPEN)] + FINISHED,
                        {
                            "software": "newscrawl (warcio)",
                            "hostname": socket.gethostname(),
                            "format": "WARC File Format 1.1",
                            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
                        },
                    )
                )
            first = done
            # At least one exchange a file, however small max_size is, so that every file moves the batch on.
            while done < len(exchanges) and (done == first or self._size + buffer.tell() < self.max_size):
                response, request = _records(writer, exchanges[done])
                writer.write_request_response_pair(request, response)
                done += 1
            self._append(buffer.getvalue(), done - first)
            if self._size >= self.max_size:
                self.finish()

    def _append(self, data: bytes, exchanges: int) -> None:
        assert self._fd is not None
        try:
            half = len(data) // 2
            _write_all(self._fd, data[:half])
            crash_point("warc-mid-record", self.before_dying, articles=exchanges)
            _write_all(self._fd, data[half:])
            os.fsync(self._fd)
        except OSError:
            self._cut_back()
            raise
        self._size += len(data)

    def _cut_back(self) -> None:
        """After a failed write: cut what it left, so the next record follows a whole one; if even that
        fails, leave the file unfinished (the next run finishes it) and go on in a new one."""
        assert self._fd is not None
        try:
            os.ftruncate(self._fd, self._size)
        except OSError:
            os.close(self._fd)
            self._fd = None
            self._path = None

    def finish(self) -> None:
        """Give the current file its finished name (readers may open it from then on)."""
        if self._fd is None or self._path is None:
            return
        try:
            os.fsync(self._fd)
            finished = self._path.with_name(self._path.name[: -len(OPEN)] + FINISHED)
            os.rename(self._path, finished)
            fsync_folder(self.folder)
            self.finished.append(finished)
        finally:
            os.close(self._fd)
            self._fd = None
            self._path = None


class _GzipMembers:
    """What warcio writes a record to: its pieces, compressed as one gzip member when warcio flushes at
    the record's end. (warcio's own gzip wrapper compresses piece by piece at level 9: as small, slower.)"""

    def __init__(self, out: io.BytesIO) -> None:
        self.out = out
        self.pieces: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.pieces.append(data)

    def flush(self) -> None:
        compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        self.out.write(compressor.compress(b"".join(self.pieces)) + compressor.flush())
        self.pieces = []


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _records(writer: WARCWriter, exchange: Exchange) -> tuple[object, object]:
    date = {"WARC-Date": exchange.date}
    if exchange.ip_address:
        date["WARC-IP-Address"] = exchange.ip_address
    response = writer.create_warc_record(  # with the payload's length, warcio digests it without spooling it
        exchange.url,
        "response",
        payload=io.BytesIO(exchange.body),
        length=len(exchange.body),
        warc_headers_dict=date,
        http_headers=StatusAndHeaders(
            f"{exchange.status} {exchange.reason}".rstrip(), exchange.headers, protocol=exchange.protocol
        ),
    )
    target = exchange.url.split("#", 1)[0]
    path = "/" + target.split("://", 1)[-1].partition("/")[2]
    request = writer.create_warc_record(
        exchange.url,
        "request",
        payload=io.BytesIO(b""),
        length=0,
        warc_headers_dict={"WARC-Date": exchange.date},
        http_headers=StatusAndHeaders(
            f"{exchange.method} {path} {exchange.protocol}", exchange.request_headers, is_http_request=True
        ),
    )
    return response, request


def _whole_members_end(path: Path) -> int:
    """The offset just after the last whole gzip member of `path` (0 when none is whole)."""
    end = offset = 0
    inflater = zlib.decompressobj(31)
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            data = chunk
            while data:
                try:
                    inflater.decompress(data)
                except zlib.error:
                    return end
                if not inflater.eof:
                    offset += len(data)
                    break
                used = len(data) - len(inflater.unused_data)
                offset += used
                end = offset
                data = inflater.unused_data
                inflater = zlib.decompressobj(31)
    return end


def finish_abandoned(folder: Path) -> tuple[int, int]:
    """Finish the `.open` files no live process holds: cut after the last whole record, fsync, rename
    (remove one with no whole record). Returns (files finished, bytes cut)."""
    finished = cut = 0
    for path in sorted(folder.glob("*" + OPEN)) if folder.is_dir() else []:
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:  # finished meanwhile by another process
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # its writer is alive
                continue
            size = os.fstat(fd).st_size
            end = _whole_members_end(path)
            if end < size:
                os.ftruncate(fd, end)
                cut += size - end
            os.fsync(fd)
            if end == 0:
                path.unlink()
            else:
                os.rename(path, path.with_name(path.name[: -len(OPEN)] + FINISHED))
            finished += 1
        finally:
            os.close(fd)
    if finished:
        fsync_folder(folder)
    return finished, cut


def capture_files(places: Iterable[str | Path]) -> tuple[list[Path], list[Path]]:
    """The finished WARC files named or held (in folders) by `places`, in name order (a run's files in
    the order written), and the unfinished ones passed over."""
    files: list[Path] = []
    skipped: list[Path] = []
    for place in map(Path, places):
        if place.is_dir():
            files += sorted(place.glob("*" + FINISHED))
            skipped += sorted(place.glob("*" + OPEN))
        elif place.name.endswith(OPEN):
            skipped.append(place)
        elif place.is_file():
            files.append(place)
        else:
            raise FileNotFoundError(f"no such WARC file or folder: {place}")
    return files, skipped


# What warcio raises on bytes it cannot read: its own error, and its parser's on headers it does not expect
# (a record without WARC-Target-URI is an AttributeError there).
_UNREADABLE = (
    ArchiveLoadFailed,
    ValueError,
    EOFError,
    zlib.error,
    OSError,
    AttributeError,
    TypeError,
    KeyError,
    IndexError,
)


class CaptureUnreadable(ValueError):
    """A WARC file, or a record of one, that cannot be read (not a WARC file, damaged); the message says which."""


def response_records(paths: Iterable[Path], unreadable: list[str] | None = None) -> Iterator[Capture]:
    """Every response record of `paths` with an http(s) target and a date, in file order (payloads are
    passed over, not read). A file that cannot be read past some point: its message goes to `unreadable`
    and the next file is read (without that list, CaptureUnreadable is raised)."""
    for path in paths:
        try:
            yield from _responses_of(path)
        except _UNREADABLE as error:
            detail = " ".join(str(error).split())[:160]
            message = f"{path} cannot be read past its earlier records ({type(error).__name__}: {detail})"
            if unreadable is None:
                raise CaptureUnreadable(message) from None
            unreadable.append(message)


def _responses_of(path: Path) -> Iterator[Capture]:
    with path.open("rb") as stream:
        records = ArchiveIterator(stream)
        for record in records:
            if record.rec_type != "response" or record.http_headers is None:
                continue
            url, date = record.rec_headers.get_header("WARC-Target-URI"), record.rec_headers.get_header("WARC-Date")
            if not url or not url.startswith(("http://", "https://")) or not date:
                continue
            yield Capture(
                url,
                int(record.http_headers.get_statuscode() or 0),
                record.http_headers.get_header("Content-Type"),
                date,
                record.rec_headers.get_header("WARC-Record-ID"),
                record.rec_headers.get_header("WARC-IP-Address"),
                path,
                records.get_record_offset(),
            )


MAX_PAYLOAD = 8 * 1024 * 1024  # bytes, decoded: a crawl's DOWNLOAD_MAXSIZE


class PayloadTooLarge(ValueError):
    """A captured payload that decodes to more than the reader's cap (a gzip bomb): not read."""


def read_body(capture: Capture, limit: int = MAX_PAYLOAD) -> bytes:
    """The payload of a response record, its transfer and content encodings undone (as a crawl's
    middlewares hand it to the spider), decoded piece by piece up to `limit` bytes: PayloadTooLarge past it."""
    try:
        with capture.path.open("rb") as stream:
            stream.seek(capture.offset)
            record = next(iter(ArchiveIterator(stream)))
            body = record.content_stream().read(limit + 1)
    except (*_UNREADABLE, StopIteration) as error:
        raise CaptureUnreadable(
            f"the response captured for {capture.url} in {capture.path} cannot be read "
            f"({type(error).__name__}: {' '.join(str(error).split())[:160]})"
        ) from None
    if len(body) > limit:
        raise PayloadTooLarge(f"the response captured for {capture.url} decodes to more than {limit} bytes: not read")
    return body


def damage(path: Path) -> int | None:
    """Where `path` stops being whole gzip members (a truncated copy, a garbage tail), or None when it is
    whole: readers would otherwise stop there silently and read only part of it."""
    end, size = _whole_members_end(path), path.stat().st_size
    return end if end < size else None


def captured_page(path: Path, *urls: str) -> tuple[Capture, bytes]:
    """The last response captured in `path` for the first of `urls` that has one, and its payload (as
    `read_body` gives it). Raises LookupError when none has one, ValueError when it is not a 200."""
    latest: dict[str, Capture] = {}
    for capture in response_records([path]):
        if capture.url in urls:
            latest[capture.url] = capture
    found = next((latest[url] for url in urls if url in latest), None)
    if found is None:
        raise LookupError(f"{path} holds no response for {urls[0]}")
    capture = found
    if capture.status != 200:
        raise ValueError(f"the captured response for {capture.url} is a {capture.status}, not a page")
    return capture, read_body(capture)


def warc_date(moment: float | None = None) -> str:
    """A WARC-Date (UTC, microseconds, as WARC/1.1 allows)."""
    stamp = datetime.fromtimestamp(time.time() if moment is None else moment, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
