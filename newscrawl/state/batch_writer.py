"""A writer thread with group commit: each turn writes everything queued since its last turn.

Why: every article costs fsyncs (its post, its journal line, the state's commit). On the reactor
thread they would stall downloads; one article a turn on a thread, each would still pay a thread hop,
a wake-up of the reactor and a disk sync. A turn per batch pays them once for all the articles that
arrived meanwhile — under load batches grow by themselves, and an idle crawl still writes each
article at once. (The WARC capture's group commit is its writer process': newscrawl.archive.writer.)
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Job = TypeVar("Job")
# What a turn reports: None when every job succeeded, else one error-or-None per job, in order.
Outcome = Sequence[BaseException | None] | None

MAX_BATCH = 256


def take_batch(jobs: queue.SimpleQueue[Job | None]) -> tuple[list[Job], bool]:
    """A writer thread's next turn: wait for a job, then take what else is queued (up to MAX_BATCH).
    Returns the jobs, and whether the stop mark (None) came after them."""
    first = jobs.get()
    if first is None:
        return [], True
    batch = [first]
    while len(batch) < MAX_BATCH:
        try:
            queued = jobs.get_nowait()
        except queue.Empty:
            break
        if queued is None:
            return batch, True
        batch.append(queued)
    return batch, False


class BatchWriter(Generic[Job]):
    """Runs `write(jobs)` on one thread, in submission order; `submit` returns when its job is written.

    `write` may raise (every job of the batch fails with that error) or return per-job errors."""

    def __init__(self, write: Callable[[list[Job]], Outcome], name: str) -> None:
        self._write = write
        self._name = name
        self._jobs: queue.SimpleQueue[tuple[Job, asyncio.Future[None]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def submit(self, job: Job) -> None:
        if self._thread is None:
            self._loop = asyncio.get_running_loop()
            # A daemon: a crawl stopped without closing its pipelines must still exit. What the thread
            # had not written is then lost as in a kill, which the journal's recovery already covers.
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()
        assert self._loop is not None
        future: asyncio.Future[None] = self._loop.create_future()
        self._jobs.put((job, future))
        await future

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch, stopping = take_batch(self._jobs)
            if not batch:
                continue
            errors: list[BaseException | None]
            try:
                outcome = self._write([job for job, _ in batch])
                errors = list(outcome) if outcome is not None else [None] * len(batch)
            except BaseException as error:  # the whole batch failed: every job hears why
                errors = [error] * len(batch)
            assert self._loop is not None
            self._loop.call_soon_threadsafe(_settle, [future for _, future in batch], errors)


def _settle(futures: list[asyncio.Future[None]], errors: list[BaseException | None]) -> None:
    for future, error in zip(futures, errors, strict=True):
        if future.done():  # cancelled while it waited
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
