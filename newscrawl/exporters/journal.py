"""The JSONL journal: one article a line, appended a batch at a time and fsynced once per batch.

A line is on disk (write + fsync) before the crawl state marks its article exported, so after any
crash the journal holds every exported article, and at most a torn last line and lines the state
has not recorded yet. `recover` repairs both on the next start: it cuts a torn tail and returns the
complete lines past the state's committed offset, for the state to record.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from newscrawl.faults import crash_point


class Journal:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._handle = open(path, "ab")

    def recover(self, committed_offset: int) -> list[tuple[dict[str, Any], int]]:
        """Cut a torn last line; return the complete lines after `committed_offset` with their end offsets."""
        size = self.path.stat().st_size
        if size <= committed_offset:
            return []
        with open(self.path, "rb") as stream:
            stream.seek(committed_offset)
            tail = stream.read()
        complete = tail.rfind(b"\n") + 1
        if complete < len(tail):  # a line the crash cut short: nobody may read it
            os.truncate(self.path, committed_offset + complete)
            self._fsync()
        lines, offset = [], committed_offset
        for raw in tail[:complete].splitlines(keepends=True):
            offset += len(raw)
            lines.append((json.loads(raw), offset))
        return lines

    def append(self, records: list[dict[str, Any]]) -> int:
        """Append one line per record, all durable on return (one fsync); the journal's size after them."""
        lines = [json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n" for record in records]
        data = b"".join(lines)
        torn = len(data) - len(lines[-1]) // 2 if lines else 0  # the batch up to the middle of its last line
        crash_point("journal-mid-line", lambda: (self._handle.write(data[:torn]), self._fsync()), len(lines))
        self._handle.write(data)
        self._fsync()
        return self._handle.tell()

    def _fsync(self) -> None:
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()
