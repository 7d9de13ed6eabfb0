"""Crash points for the kill tests, off unless NEWSCRAWL_CRASH_AT is set in the environment.

`NEWSCRAWL_CRASH_AT=journal-mid-line:3` makes the process SIGKILL itself when the crash point
`journal-mid-line` is reached for the 3rd article — a kill -9 at an exact moment, which a timer
cannot aim at. A point passed once for a batch of articles counts each of them, so the kill comes
in the batch holding the 3rd. The points are named where they are placed (journal.py,
state/files.py, component.py, extract/child.py, stories/pipeline.py and parse_side.py, archive/warc.py and writer.py,
images.py and image_store.py — the child processes inherit the variable).
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Callable

_ARMED = os.environ.get("NEWSCRAWL_CRASH_AT", "")
_NAME, _, _COUNT = _ARMED.partition(":")
_reached: Counter[str] = Counter()


def crash_point(name: str, before_dying: Callable[[], None] | None = None, articles: int = 1) -> None:
    """Die here (SIGKILL, no clean-up of any kind) once the armed point has been passed for the armed
    number of articles (`articles` passing at once, for a batch)."""
    if not _ARMED or name != _NAME:
        return
    _reached[name] += articles
    if _reached[name] >= int(_COUNT or 1):
        if before_dying is not None:
            before_dying()
        os.kill(os.getpid(), signal.SIGKILL)
