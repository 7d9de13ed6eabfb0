"""The JSONL journal: the crawl state's write-ahead log, and the file data consumers read.

One article a line, appended a batch at a time and fsynced once per batch, before the crawl state
records the batch (with the journal's size after it and the file's identity, a `JournalMark`). So
after any crash the journal holds every exported article, plus at most a torn last line and complete
lines the state has not recorded yet; `recover` repairs both when the next run starts:

- the same file, at least as long as the mark: its tail past the mark is read;
- the same file, shorter than the mark (truncated in place): read from the start;
- another file (the old one was rotated with `mv`, or removed): the old file is looked for beside it
  by its identity and its tail repaired there, then the files rotated after it (`<journal>.N` with a
  smaller N: the journal was rotated again since the mark, a state that lost its last commits) and
  the new file are read from the start;
- another file holding the same lines (the journal copied, restored from a backup, moved to another
  disk): recognised by lines spread over the recorded bytes, the last among them, that the state
  holds at the same places; its tail past the mark is read;
- a rotated file holding the same lines (the journal copied, then rotated): its tail past the mark
  is read, then the files rotated after it and the journal from the start;
- the recorded file gone, no copy of it found (removed; compressed; a state restored from a backup
  whose journal was copied and rotated since): every rotated journal beside it is read whole, then
  the journal — the lines past the mark may be in any of them;
- no mark at all (a new state, or one rebuilt after its file was deleted): the rotated journals beside
  it (`<journal>.N`, the oldest first) are read whole, then the journal, so a rebuilt state knows every
  article exported before and exports none of them again.

Recording a line again is harmless (the state keeps the highest revision), so reading too much is
safe and reading too little is what the marks prevent. What is found is checked a line at a time
when the run starts and read again a line at a time to be recorded: memory does not grow with the
journal. An append that fails (a full disk) is cut back
to where it started; if even that fails, the journal refuses every later append of the run, so no
later commit can move the mark past lines the state does not have. The file is locked (`flock`) for
as long as a run holds it: two crawls never share one journal.

Each recorded line's place (`LineRef`: file, inode, offset, length) is kept in the state, so what is
rebuilt from the journal (the feeds, newscrawl.exporters.feeds) reads the lines it needs and not the whole file;
`read_line` finds a line again after its file was rotated with `mv` within its folder, or copied.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from newscrawl.dev.crash_points import crash_point
from newscrawl.state.files import open_regular


@dataclass(frozen=True, slots=True)
class JournalMark:
    """How far the state has recorded a journal: its size then, and which file it was."""

    offset: int
    device: int
    inode: int


@dataclass(frozen=True, slots=True)
class LineRef:
    """Where one journal line is: the file it was written to (path and inode), its offset and length."""

    path: str
    inode: int
    offset: int
    length: int


class JournalError(RuntimeError):
    """The journal cannot be used as it is; the message says why and what to do."""


class JournalBroken(OSError):
    """An earlier append failed and could not be undone: nothing more is appended this run."""


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of whole, checked lines of one journal file: bytes `start` to `end`."""

    path: Path
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Sample:
    """One line of a journal, as `recover` shows it to the state to ask whether a file is a copy."""

    article_id: str
    revision: int
    offset: int
    length: int


@dataclass(slots=True)
class Recovery:
    segments: list[Segment]  # the stretches of complete lines the state may not have, oldest first
    count: int  # how many lines they hold
    mark: JournalMark  # the mark once they are recorded
    notes: list[str]  # what the operator should hear about (rotation, a copy, truncation, a torn line cut)


SAMPLES = 16  # lines of a journal shown to the state to recognise a copy of the one it recorded
MAX_LINE = 32 * 1024 * 1024  # bytes: an article line (a body under DOWNLOAD_MAXSIZE, JSON-escaped) is far shorter


def _measure(path: Path, start: int, site: str, check: Callable[[dict[str, Any]], object]) -> tuple[int, int, bool]:
    """Check the complete lines of `path` from `start`, one at a time (at most MAX_LINE bytes each, none
    kept); cut a torn last line. Returns (lines, end, torn)."""
    count = 0
    offset = start
    torn = False
    with open(path, "rb") as stream:
        stream.seek(start)
        for number in itertools.count(1):
            raw = stream.readline(MAX_LINE + 1)
            if not raw:
                break
            if not raw.endswith(b"\n"):
                if len(raw) > MAX_LINE:
                    raise JournalError(
                        f"{path}: a line after byte {start} (number {number} from there) is longer than "
                        f"{MAX_LINE} bytes: not an article; move the journal aside and start a new one"
                    )
                torn = True  # a line a crash or a full disk cut short: nobody may read it
                break
            check(_record(path, raw, start, number, site))
            count += 1
            offset += len(raw)
    if torn:
        os.truncate(path, offset)
        with open(path, "rb") as stream:
            os.fsync(stream.fileno())
    return count, offset, torn


def _lines(segment: Segment, site: str) -> Iterator[tuple[dict[str, Any], LineRef]]:
    """The lines of a checked stretch of a journal, with their places, one at a time."""
    with open(segment.path, "rb") as stream:
        inode = os.fstat(stream.fileno()).st_ino
        resolved = str(segment.path.resolve())
        stream.seek(segment.start)
        offset = segment.start
        for number in itertools.count(1):
            if offset >= segment.end:
                return
            raw = stream.readline(MAX_LINE + 1)
            if not raw.endswith(b"\n"):
                raise JournalError(f"{segment.path} changed while it was read (at byte {offset}); run again")
            yield _record(segment.path, raw, segment.start, number, site), LineRef(resolved, inode, offset, len(raw))
            offset += len(raw)


def _line_start(stream: BinaryIO, newline: int) -> int:
    """Where the line that ends with the newline at byte `newline` starts (read backwards, a block at a time)."""
    position = newline
    while position > 0:
        block_start = max(0, position - 65536)
        stream.seek(block_start)
        block = stream.read(position - block_start)
        found = block.rfind(b"\n")
        if found >= 0:
            return block_start + found + 1
        if newline - block_start > MAX_LINE:
            raise JournalError(f"a line ending at byte {newline} is longer than {MAX_LINE} bytes")
        position = block_start
    return 0


def _record(path: Path, raw: bytes, start: int, number: int, site: str) -> dict[str, Any]:
    """One journal line as an article's record of `site`, or JournalError saying what it is instead."""
    try:
        record = json.loads(raw)
    except ValueError:
        raise JournalError(
            f"{path}: a line after byte {start} (number {number} from there) is not JSON; "
            "move the journal aside and start a new one"
        ) from None
    if (
        not isinstance(record, dict)
        or not isinstance(record.get("article_id"), str)
        or not isinstance(record.get("revision"), int)
    ):
        raise JournalError(
            f"{path}: a line after byte {start} (number {number} from there) is not an article "
            f"({raw[:60].decode('utf-8', 'replace')!r}); move the journal aside and start a new one"
        ) from None
    if record.get("site") != site:
        raise JournalError(
            f"{path} holds lines of site {record.get('site')!r}, not {site!r}: every spider needs "
            "its own journal (the default NEWSCRAWL_JSONL, output/%(name)s.jsonl, is one per spider)"
        )
    return record


class Journal:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._handle = os.fdopen(open_regular(path, os.O_WRONLY | os.O_APPEND), "ab", buffering=0)
        try:
            fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._handle.close()
            raise JournalError(
                f"another crawl is writing the journal {path}: every spider needs its own "
                "(the default NEWSCRAWL_JSONL, output/%(name)s.jsonl, is one per spider)"
            ) from None
        self.broken = False
        self._resolved = str(path.resolve())

    def mark(self) -> JournalMark:
        status = os.fstat(self._handle.fileno())
        return JournalMark(status.st_size, status.st_dev, status.st_ino)

    def recover(
        self,
        recorded: JournalMark | None,
        site: str,
        check: Callable[[dict[str, Any]], object] = lambda line: None,
        recorded_as: Callable[[list[Sample]], bool] = lambda samples: False,
    ) -> Recovery:
        """Where the lines past what the state recorded (`recorded`) are, every one checked (`check` raises
        JournalError for a line it refuses) and torn tails cut; see the module docstring. `recorded_as` says
        whether the state holds these lines at these places: a journal copied to a new file (restored, moved
        to another disk) is recognised by them and not read again."""
        current = self.mark()
        notes: list[str] = []
        segments: list[Segment] = []
        count = 0
        start = 0

        def take(path: Path, begin: int) -> tuple[int, bool]:
            nonlocal count
            found, end, torn = _measure(path, begin, site, check)
            if end > begin:
                segments.append(Segment(path, begin, end))
            count += found
            return found, torn

        def take_whole(paths: list[Path], said: Callable[[int, str], str]) -> None:
            """Each of `paths` read from its start, noted as `said(lines found, file name)`."""
            for path in paths:
                found, torn = take(path, 0)
                notes.append(said(found, path.name) + (", a torn last line cut" if torn else ""))

        def take_rotated(old: Path, offset: int, how: str) -> None:
            """The marked file found under a rotated name (`how` it got there): its tail past `offset`, then
            every file rotated after it (the journal rotated again since the mark)."""
            found, torn = take(old, offset)
            notes.append(
                f"{how} {old.name}: its last {found} unrecorded line(s) "
                f"recorded{', a torn last line cut' if torn else ''}; a new journal starts"
            )
            rotated = self.rotated()
            take_whole(
                rotated[rotated.index(old) + 1 :] if old in rotated else [],
                lambda found, name: f"the journal was rotated again since: {found} line(s) of {name} recorded",
            )

        if recorded is not None and (recorded.device, recorded.inode) == (current.device, current.inode):
            if current.offset >= recorded.offset:
                start = recorded.offset
            else:
                notes.append(
                    f"the journal {self.path} is shorter than the state recorded ({current.offset} < "
                    f"{recorded.offset} bytes): truncated, or removed and made anew on the same inode; "
                    "read again from its start"
                )
        elif recorded is None:
            take_whole(
                self.rotated(),
                lambda found, name: f"rebuilding the crawl state: {found} line(s) of the rotated journal {name} read",
            )
            for compressed in sorted(self.path.parent.glob(self.path.name + ".*.gz")):
                notes.append(
                    f"rebuilding the crawl state: the compressed journal {compressed.name} is not read; "
                    "decompress it beside the journal before the run, or its articles are exported again"
                )
        elif (old := self._find_rotated(recorded, site)) is not None:
            take_rotated(old, recorded.offset, "the journal was rotated to")
        elif recorded.offset and recorded_as(self._samples(self.path, recorded.offset, site)):
            start = recorded.offset
            notes.append(
                f"the journal {self.path} is another file than the state recorded, holding the same "
                f"{recorded.offset} bytes (copied, restored, or moved to another disk): read from there on"
            )
        elif (copy := self._rotated_copy(recorded, site, recorded_as)) is not None:
            take_rotated(copy, recorded.offset, "the journal the state recorded was copied, then rotated to")
        else:
            # Lines past the mark may be in any of them (a state restored from a backup, then the journal
            # rotated): read again, what the state holds changes nothing, what it lacks is not exported twice.
            take_whole(
                self.rotated(),
                lambda found, name: (
                    f"the journal the state recorded is gone: {found} line(s) of the rotated journal {name} read again"
                ),
            )
            if recorded.offset:
                notes.append(
                    f"the journal the state recorded ({recorded.offset} bytes) is no longer at {self.path} or "
                    "beside it (removed, or rotated and compressed): a new journal starts; articles exported "
                    "before are not written again (delete the state too to export everything again)"
                )
        _, torn = take(self.path, start)
        if torn:
            notes.append(f"a torn last line of {self.path} cut (a crash or a full disk mid-write)")
        end = segments[-1].end if segments and segments[-1].path == self.path else start
        return Recovery(segments, count, JournalMark(end, current.device, current.inode), notes)

    def lines(self, recovery: Recovery, site: str) -> Iterator[tuple[dict[str, Any], LineRef]]:
        """The lines `recover` found, oldest first, one at a time (a rebuilt state's may be gigabytes)."""
        for segment in recovery.segments:
            yield from _lines(segment, site)

    def _rotated_copy(
        self, recorded: JournalMark, site: str, recorded_as: Callable[[list[Sample]], bool]
    ) -> Path | None:
        """The rotated journal (`<journal>.N`) holding the bytes the state recorded, when the file the mark
        was taken on is gone: it was copied (restored, moved) before it was rotated."""
        if not recorded.offset:
            return None
        for candidate in reversed(self.rotated()):  # the newest first
            if recorded_as(self._samples(candidate, recorded.offset, site)):
                return candidate
        return None

    def _samples(self, path: Path, end: int, site: str) -> list[Sample]:
        """Lines of the file `path` (this journal or a rotated one) spread over its first `end` bytes, the
        one ending there among them; none when no line ends there (then it is not the file the state
        recorded)."""
        samples: list[Sample] = []
        try:
            with open(path, "rb") as stream:
                if os.fstat(stream.fileno()).st_size < end:
                    return []
                stream.seek(end - 1)
                if stream.read(1) != b"\n":
                    return []
                starts = {0, _line_start(stream, end - 1)}
                for part in range(1, SAMPLES - 1):
                    stream.seek(end * part // SAMPLES)
                    stream.readline(MAX_LINE + 1)  # to the next line's start
                    starts.add(stream.tell())
                for start in sorted(begin for begin in starts if begin < end):
                    stream.seek(start)
                    raw = stream.readline(MAX_LINE + 1)
                    if not raw.endswith(b"\n") or start + len(raw) > end:
                        return []
                    record = _record(path, raw, start, 1, site)
                    samples.append(Sample(record["article_id"], record["revision"], start, len(raw)))
        except (OSError, JournalError):
            return []
        return samples

    def rotated(self) -> list[Path]:
        """The rotated journals beside this one (`<journal>.N`, regular files), the oldest (highest N) first."""
        found = []
        for candidate in self.path.parent.glob(self.path.name + ".*"):
            suffix = candidate.name[len(self.path.name) + 1 :]
            if suffix.isdigit() and candidate.is_file() and not candidate.is_symlink():
                found.append((int(suffix), candidate))
        return [path for _, path in sorted(found, reverse=True)]

    def _find_rotated(self, recorded: JournalMark, site: str) -> Path | None:
        """The file the mark was taken on, if it is still in the journal's folder under another name. The
        inode alone does not say so (a removed journal's inode is soon another file's: the state's WAL, a
        post): the file must also hold at least the recorded bytes, end a line there and begin with a
        line of this site's journal — or, marked empty, still be empty and named as this journal's
        rotated files are (`<journal>.N`)."""
        rotated = set(self.rotated())
        for candidate in self.path.parent.iterdir():
            try:
                status = candidate.stat()
                if (
                    (status.st_dev, status.st_ino) != (recorded.device, recorded.inode)
                    or not candidate.is_file()
                    or status.st_size < recorded.offset
                ):
                    continue
                with candidate.open("rb") as stream:
                    head = stream.readline(1 << 20)
                    if not head and recorded.offset == 0 and candidate in rotated:
                        return candidate  # marked empty, rotated empty: nothing of it to read
                    first = json.loads(head)
                    ends_a_line = recorded.offset == 0 or (
                        stream.seek(recorded.offset - 1) >= 0 and stream.read(1) == b"\n"
                    )
            except (OSError, ValueError):
                continue
            if ends_a_line and isinstance(first, dict) and first.get("site") == site and "article_id" in first:
                return candidate
        return None

    def append(self, records: list[dict[str, Any]]) -> tuple[JournalMark, list[LineRef]]:
        """Append one line per record, all durable on return (one fsync); the mark after them and each
        line's place. On failure nothing of the batch stays (or, when that cannot be ensured, the journal is broken)."""
        if self.broken:
            raise JournalBroken(f"the journal {self.path} refuses appends after a failed one this run")
        lines = [json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n" for record in records]
        data = b"".join(lines)
        start = os.fstat(self._handle.fileno()).st_size
        middle = len(data) - len(lines[-1]) // 2 if lines else 0  # up to the middle of the batch's last line
        try:
            self._write(data[:middle])
            crash_point("journal-mid-line", articles=len(lines))
            self._write(data[middle:])
            os.fsync(self._handle.fileno())
        except OSError:
            self._undo(start)
            raise
        mark = self.mark()
        refs = []
        offset = start
        for line in lines:
            refs.append(LineRef(self._resolved, mark.inode, offset, len(line)))
            offset += len(line)
        return mark, refs

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = self._handle.write(view)
            view = view[written:]

    def _undo(self, size: int) -> None:
        try:
            os.ftruncate(self._handle.fileno(), size)
            os.fsync(self._handle.fileno())
        except OSError:
            self.broken = True

    def refuse_appends(self) -> None:
        """After a failed state commit: the lines just written stay for the next start to record; no later
        batch may be appended (a later commit would move the state's mark past them)."""
        self.broken = True

    def close(self) -> None:
        self._handle.close()


def read_line(ref: LineRef) -> dict[str, Any] | None:
    """The journal line at `ref`, looked for by inode in its folder when the path holds another file
    (rotated with `mv`), then at its place in the file at the path (a copy); None when it is gone
    (removed, truncated, compressed) or not a whole line. The caller checks that the line is the one it
    wants (its article and revision): a file at the path may be another journal."""
    path = Path(ref.path)
    candidates = [path]
    try:
        if path.stat().st_ino != ref.inode:
            candidates = [c for c in path.parent.iterdir() if c.is_file() and c.stat().st_ino == ref.inode]
            candidates.append(path)
    except OSError:
        return None
    for candidate in candidates:
        try:
            with open(candidate, "rb") as stream:
                stream.seek(ref.offset)
                raw = stream.read(ref.length)
        except OSError:
            return None
        if len(raw) == ref.length and raw.endswith(b"\n"):
            try:
                return json.loads(raw)
            except ValueError:
                return None
    return None
