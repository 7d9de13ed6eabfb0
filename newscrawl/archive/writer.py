"""The WARC writer process: it writes the records a crawl hands it, so that warcio, the digests and
gzip run on another core and never hold the crawl's GIL (docs/warc.md has the figures).

`python -m newscrawl.archive.writer FOLDER PREFIX MAX_SIZE CRAWL_PID`, started by
`newscrawl.archive.capture`. Its stdin carries the crawl's frames (`newscrawl.children`):

- an `Exchange`, to write;
- an int, a sync token, answered once everything sent before it is written and fsynced;
- None: finish the current file, answer, and exit.

Its stdout carries the answers: `("synced", token, written)`; `("failed", records, error)` once, when
a write first fails (nothing is written after it); and at the end `("closed", written, finished file
names, error finishing the last file or None)`.

Group commit: the records waiting are written in one write and one fsync (`WarcFiles.write`) when a
sync token comes (then answered), or when enough of them wait (`serve`). If the crawl dies (its end
of the pipe closes with no None), the process exits at once and leaves its file unfinished, as the
crawl's own kill would: the next captured run, or `scrapy reparse`, finishes it. The records it had
not written were never promised: no journal line waits on them.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from functools import partial
from pathlib import Path
from typing import BinaryIO

from newscrawl.archive.warc import Exchange, WarcFiles
from newscrawl.children import frame, helper_answers, unframe
from newscrawl.dev.crash_points import crash_point

NICENESS = 10  # below the crawl's priority: on a busy machine the crawl's own work goes first
READ_SIZE = 1 << 20  # bytes a turn reads at most from the pipe
FLUSH_BYTES = 1 << 20  # payload bytes waiting past which they are written without a sync token
FLUSH_AFTER = 0.5  # seconds a record waits at most for a sync token before it is written anyway


def serve(source: int, sink: BinaryIO, files: WarcFiles) -> None:
    """Write what arrives on the file descriptor `source`, answering on `sink`, until None or the end.

    Records are written when a sync token asks for them (the journal is about to move), or when
    FLUSH_BYTES of them or one FLUSH_AFTER old are waiting: a write and an fsync per journal batch
    rather than per response, which keeps this process' share of the machine small."""
    pending = bytearray()
    waiting: list[Exchange] = []
    waiting_bytes = 0
    oldest = 0.0
    written = 0
    failed = False
    while True:
        timeout = max(0.0, oldest + FLUSH_AFTER - time.monotonic()) if waiting else None
        messages = []
        if select.select([source], [], [], timeout)[0]:
            if not (data := os.read(source, READ_SIZE)):
                return  # the crawl is gone: what waits was never promised
            pending += data
            messages = unframe(pending)
        tokens: list[int] = []
        closing = False
        for message in messages:
            if isinstance(message, Exchange):
                if not waiting:
                    oldest = time.monotonic()
                waiting.append(message)
                waiting_bytes += len(message.body)
            elif message is None:
                closing = True
            else:
                tokens.append(message)
        answers: list[tuple[object, ...]] = []
        due = tokens or closing or waiting_bytes >= FLUSH_BYTES or time.monotonic() - oldest >= FLUSH_AFTER
        if waiting and due:
            if not failed:
                crash_point("warc-writer", articles=len(waiting))
                try:
                    files.write(waiting)
                    written += len(waiting)
                except Exception as error:  # noqa: BLE001 (OSError, a full disk; anything else is reported the same way)
                    failed = True
                    answers.append(("failed", len(waiting), f"{type(error).__name__}: {error}"))
            waiting, waiting_bytes = [], 0
        answers += [("synced", token, written) for token in tokens]
        if closing:
            try:
                files.finish()
                error_finishing = None
            except OSError as error:
                error_finishing = str(error)
            answers.append(("closed", written, [str(path) for path in files.finished], error_finishing))
        if answers:
            try:
                sink.write(b"".join(map(frame, answers)))
                sink.flush()
            except BrokenPipeError:
                return  # the crawl is gone
        if closing:
            return


def main() -> None:
    answers = helper_answers()
    os.nice(NICENESS)
    folder, prefix, max_size, crawl = sys.argv[1:5]
    files = WarcFiles(Path(folder), prefix, int(max_size), before_dying=partial(os.kill, int(crawl), signal.SIGKILL))
    serve(sys.stdin.fileno(), answers, files)


if __name__ == "__main__":
    main()
