"""A helper process driven from the asyncio loop Scrapy runs on: messages in on its stdin, each answered
in turn on its stdout (`newscrawl.children`'s frames). The parse process and the image store are
helpers; the other end of each is a loop in the child that answers one message at a time.

Nothing of the crawl's waits on a thread for a helper, so no thread takes the GIL from the reactor. A
helper that cannot start or ends (killed, crashed) fails what waits on it and all that is asked of it
later with its `gone` error: its user does that work another way.
"""

from __future__ import annotations

import asyncio
import pickle
import sys
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from newscrawl.children import HEADER, child_environment, frame


class HelperGone(RuntimeError):
    """The helper process has ended or could not start."""


class Helper:
    """`python -m <module> <args>`, started by `start()` or by the first `ask()`."""

    def __init__(
        self,
        module: str,
        name: str,
        gone: type[HelperGone] = HelperGone,
        on_start: Callable[[], None] | None = None,
        args: Sequence[str] = (),
    ) -> None:
        self.module = module
        self.name = name  # "the parse process": how errors and logs name it
        self.args = list(args)  # its arguments, which may grow until it starts
        self._gone_error = gone
        self._on_start = on_start
        self._spawning: asyncio.Future[asyncio.subprocess.Process] | None = None
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self.gone = False

    @property
    def started(self) -> bool:
        return self._spawning is not None

    def start(self) -> asyncio.Future[asyncio.subprocess.Process]:
        """Start the child if it is not running yet (its imports take a while: start it before it is needed)."""
        if self._spawning is None:
            self._spawning = asyncio.ensure_future(self._spawn())
        return self._spawning

    async def ask(self, message: Any) -> Any:
        """The child's answer to `message`."""
        if self.gone:
            raise self._gone_error(f"{self.name} has ended")
        process = await self.start()
        if self.gone or process.stdin is None:
            raise self._gone_error(f"{self.name} has ended")
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append(answer)  # with the write, no await between: `_waiting` is in the order asked
        # No `drain()`: the write is buffered whatever follows, and the answer comes once the child has
        # read the message. A drain waits for the whole buffer to go, so each caller would wait until
        # every message queued behind a busy child was read, and all would resume at once
        # (docs/performance.md). What bounds the buffer is how many callers wait at once (the scraper's
        # SCRAPER_SLOT_MAX_ACTIVE_SIZE for pages, the store's concurrency for images).
        process.stdin.write(frame(message))
        return await answer

    async def close(self) -> None:
        """End the child (it exits when its stdin closes) and wait for it."""
        if self._spawning is None or (self._spawning.done() and self._spawning.exception()):
            return
        process = await self._spawning
        if process.stdin is not None:
            process.stdin.close()
        await process.wait()

    async def _spawn(self) -> asyncio.subprocess.Process:
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                self.module,
                *self.args,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=child_environment(),
            )
        except OSError as error:  # no fork, no executable
            self.gone = True
            raise self._gone_error(f"{self.name} could not start ({error})") from error
        if self._on_start is not None:
            self._on_start()
        asyncio.ensure_future(self._read_answers(process))
        return process

    async def _read_answers(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        try:
            while True:
                (size,) = HEADER.unpack(await process.stdout.readexactly(HEADER.size))
                answer = pickle.loads(await process.stdout.readexactly(size))
                self._waiting.popleft().set_result(answer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.gone = True
            while self._waiting:
                self._waiting.popleft().set_exception(
                    self._gone_error(f"{self.name} ended (exit status {process.returncode})")
                )
