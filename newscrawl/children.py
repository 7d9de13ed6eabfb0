"""What the crawl's helper processes (the parse process, the WARC writer) share: how they are started
and how messages go over their pipes.

A helper is `python -m <module>`, started with the crawl's own import path (so it finds newscrawl
wherever the crawl did: a scrapyd egg, a checkout not installed in the environment). Messages, either
way, are frames: a 4-byte length, then a pickle. Both ends are this project's code.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
from collections.abc import Iterator
from typing import Any, BinaryIO

HEADER = struct.Struct("!I")


def child_environment() -> dict[str, str]:
    """The environment of a helper process: the crawl's, with the crawl's import path."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}


def frame(message: Any) -> bytes:
    """One message on a pipe: its pickle's length, then the pickle."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(data)) + data


def unframe(buffer: bytearray) -> list[Any]:
    """The whole messages at the start of `buffer`, removed from it (a partial last one stays)."""
    messages = []
    start = 0
    with memoryview(buffer) as view:
        while len(view) - start >= HEADER.size:
            (size,) = HEADER.unpack_from(view, start)
            end = start + HEADER.size + size
            if len(view) < end:
                break
            messages.append(pickle.loads(view[start + HEADER.size : end]))
            start = end
    del buffer[:start]
    return messages


def messages(source: BinaryIO) -> Iterator[Any]:
    """In a helper process: each message the crawl sends on `source`, until it ends."""
    while header := source.read(HEADER.size):
        (size,) = HEADER.unpack(header)
        yield pickle.loads(source.read(size))


def answer(sink: BinaryIO, message: Any) -> None:
    """In a helper process: one answer to the crawl, sent at once."""
    sink.write(frame(message))
    sink.flush()


def helper_answers() -> BinaryIO:
    """In a helper process, first thing: Ctrl-C ignored (it reaches the whole process group, and stopping
    is the crawl's decision: the helper ends when its stdin closes), and the stream its answers go to, a
    private copy of stdout; anything a library prints goes to stderr instead."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return answers
