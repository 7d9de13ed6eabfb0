"""A crawl by several processes on one machine over one crawl state:
`scrapy crawl SPIDER -a tag=… -s NEWSCRAWL_PROCESSES=K` (docs/operations.md, "Every core").

The crawl command is process 1 of such a run (the `Launcher`): it takes the state's lock, starts
processes 2…K, each with its share (newscrawl.shares), and crawls its own share. Process 1 reads every
journal of the state first (newscrawl.state.component); processes 2…K start at once, so that their
start-up overlaps its, and open the state when it says `go` on a pipe. Each inherits the lock's
descriptor, so no other run starts on the state until the last of them ends, whichever dies first.
Processes 2…K run in a session of their own: an interrupt (Ctrl-C, scrapyd's cancel) reaches process
1, which passes it on, once per interrupt, as one process would take it. Its exit code is the most
urgent of theirs (`combined_exit`).

Each process walks every listing page (a page costs a fraction of its articles) and fetches the
articles of its share; it writes its own journal (`mydrivers.p2.jsonl`), summary and run-history line,
and the posts, feeds, WARC files and images where one process would. Together they keep the pace a
site is asked for: each waits K times the delays and takes 1/K of the concurrency one process would.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from types import FrameType

from scrapy.settings import BaseSettings

from newscrawl.exit_codes import ALARM, ATTENTION_NEEDED, CANNOT_START, DONE, CannotStart
from newscrawl.paths import OutputPaths
from newscrawl.shares import Share
from newscrawl.state.opening import configured
from newscrawl.state.sqlite import StateLock

logger = logging.getLogger(__name__)


class Refused(RuntimeError):
    """These settings cannot run as several processes; the message is the operator's one line."""


def check(settings: BaseSettings) -> None:
    """Refused naming why a crawl by several processes cannot run with `settings`."""
    if settings.get("NEWSCRAWL_REDIS_URL"):
        raise Refused(
            "NEWSCRAWL_PROCESSES shares one SQLite state between processes, NEWSCRAWL_REDIS_URL a Redis "
            "state between workers: choose one"
        )
    if settings.getdict("FEEDS"):
        raise Refused("a one-off export (-o/-O) runs as one process: drop NEWSCRAWL_PROCESSES")
    if not configured(settings):  # (without Redis: a journal and a state)
        raise Refused("NEWSCRAWL_PROCESSES needs a journal and a crawl state (NEWSCRAWL_JSONL, NEWSCRAWL_STATE)")
    if "%(worker)s" in settings.get("NEWSCRAWL_JSONL"):
        raise Refused("NEWSCRAWL_PROCESSES names each process' journal itself: NEWSCRAWL_JSONL must not use %(worker)s")
    if "%(worker)s" in settings.get("NEWSCRAWL_STATE"):
        raise Refused("the processes of one crawl share its state: NEWSCRAWL_STATE must not use %(worker)s")


def several(settings: BaseSettings) -> bool:
    """Whether the crawl command starts a crawl by several processes: NEWSCRAWL_PROCESSES is not the
    number 1 (a value that is no number at all goes to the add-on's check, which refuses it in one line),
    and this process is not one of several already (it was given no share)."""
    if settings.get("NEWSCRAWL_PROCESS_SHARE"):
        return False
    try:
        return int(settings.get("NEWSCRAWL_PROCESSES")) != 1
    except (TypeError, ValueError):
        return True


def process_settings(settings: BaseSettings, share: Share) -> dict[str, str]:
    """What process `share` runs with besides the command line: its share, and its part of the pace
    and concurrency one process would have (`settings`: the spider's, with its own settings applied)."""
    count = share.count
    return {
        "NEWSCRAWL_PROCESS_SHARE": f"{share.index}/{count}",
        "DOWNLOAD_DELAY": repr(settings.getfloat("DOWNLOAD_DELAY") * count),
        "CONCURRENT_REQUESTS": str(math.ceil(settings.getint("CONCURRENT_REQUESTS") / count)),
        "CONCURRENT_REQUESTS_PER_DOMAIN": str(math.ceil(settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") / count)),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": repr(settings.getfloat("AUTOTHROTTLE_TARGET_CONCURRENCY") / count),
        "LOG_FORMAT": f"[{share.worker}] {settings.get('LOG_FORMAT')}",
    }


def combined_exit(codes: Sequence[int]) -> int:
    """The launcher's exit code from its processes' (newscrawl.exit_codes): a person must look when
    any process says so, was killed, or could not start while others ran; else the alarm, else done.
    All of them unable to start is "could not start"."""
    if not codes or all(code == CANNOT_START for code in codes):
        return CANNOT_START
    if any(code not in (DONE, ALARM) for code in codes):
        return ATTENTION_NEEDED
    return ALARM if ALARM in codes else DONE


def command_line(overrides: dict[str, str]) -> list[str]:
    """This process' own command line (the `scrapy` script, `python -m scrapy`, scrapyd's runner) with
    `overrides` as `-s` settings after the operator's, which they win over."""
    line = [sys.executable, *sys.orig_argv[1:]]
    for name, value in overrides.items():
        line += ["-s", f"{name}={value}"]
    return line


class Launcher:
    """The processes of one crawl by several (see the module docstring): process 1 is the crawl
    command's own, processes 2…K its children."""

    def __init__(self, settings: BaseSettings, spider_name: str, count: int) -> None:
        self.settings = settings
        self.spider_name = spider_name
        self.count = count
        self.children: list[subprocess.Popen[bytes]] = []
        self._go: list[int] = []  # the pipes p2…pK wait on
        self._lock: StateLock | None = None

    def start_others(self) -> dict[str, str]:
        """Take the state's lock and start p2…pK; the settings this process (p1) crawls with. Refused,
        StateUnusable or CannotStart (a process the system would not start) when the crawl cannot start:
        nothing is left running and the lock is let go then."""
        check(self.settings)
        state = OutputPaths.of(self.settings, self.spider_name).state
        assert state is not None  # check()
        self._lock = StateLock(state)
        self._lock.acquire()  # StateUnusable: another run holds the state
        held = self._lock.descriptor()
        logger.info(
            "Crawling with %d processes over %s: p2…p%d open it once p1 has read the journals",
            self.count,
            state,
            self.count,
        )
        for index in range(2, self.count + 1):
            waits, go = os.pipe()
            self._go.append(go)
            overrides = process_settings(self.settings, Share(index, self.count))
            overrides |= {"NEWSCRAWL_STATE_LOCK_FD": str(held), "NEWSCRAWL_WAIT_FD": str(waits)}
            try:
                child = subprocess.Popen(command_line(overrides), pass_fds=[held, waits], start_new_session=True)
            except OSError as error:
                self._give_up()
                raise CannotStart(f"process p{index} of {self.count} could not be started ({error})") from None
            finally:
                os.close(waits)
            self.children.append(child)
        first = process_settings(self.settings, Share(1, self.count))
        del first["LOG_FORMAT"]  # this process' logging is set up already: its lines are the unprefixed ones
        # A descriptor of its own: p1's state closes it, and the launcher lets go of `held` in finish().
        return first | {"NEWSCRAWL_STATE_LOCK_FD": str(os.dup(held))}

    def journals_read(self) -> None:
        """p1 has read every journal (newscrawl.state.component's `journals_read` signal): p2…pK may open
        the state. A process that ended already is past caring (its exit code says why)."""
        for go in self._go:
            try:
                os.write(go, b"go\n")
            except BrokenPipeError:
                pass
        self._let_go()

    def pass_interrupts_on(self) -> None:
        """From now on an interrupt (SIGINT, SIGTERM) to this process goes to p2…pK too, then to the
        handler it had (Scrapy's: a graceful stop of p1, after which Scrapy puts its forcing handler in
        place, which the next interrupt reaches the same way)."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(signum)
            if not isinstance(previous, _PassedOn):
                signal.signal(signum, _PassedOn(self, previous))

    def finish(self, first: int) -> int:
        """Wait for p2…pK (p1, this process, ended with exit code `first`); the crawl's exit code. When p1
        ended before it read the journals, p2…pK read the end of their pipe and do not start."""
        if self._go:
            logger.error("p1 ended before it had read the journals: p2…p%d do not start", self.count)
            self._let_go()
        previous = {
            signum: signal.signal(signum, lambda number, frame: self._pass_on(number))
            for signum in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            codes = [first, *(self._wait(index, child) for index, child in enumerate(self.children, start=2))]
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            if self._lock is not None:
                self._lock.release()
        code = combined_exit(codes)
        logger.info("Processes ended with exit codes %s: %d", ", ".join(map(str, codes)), code)
        return code

    def _give_up(self) -> None:
        """Undo a start half done: the processes started read the end of their pipe and end without
        crawling; the lock is let go once they have."""
        self._let_go()
        for child in self.children:
            child.wait()
        self.children = []
        assert self._lock is not None
        self._lock.release()

    def _let_go(self) -> None:
        for go in self._go:
            os.close(go)
        self._go = []

    @staticmethod
    def _wait(index: int, child: subprocess.Popen[bytes]) -> int:
        code = child.wait()
        if code >= 0:
            return code
        logger.error("p%d was killed by signal %d: what it did not commit is done by the next run", index, -code)
        return ATTENTION_NEEDED

    def _pass_on(self, signum: int) -> None:
        for child in self.children:
            if child.poll() is None:
                try:
                    child.send_signal(signum)
                except ProcessLookupError:
                    pass


class _PassedOn:
    """A signal handler: the launcher's other processes get the signal, then `previous` handles it."""

    def __init__(self, launcher: Launcher, previous: object) -> None:
        self.launcher = launcher
        self.previous = previous

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.launcher._pass_on(signum)
        if callable(self.previous):
            self.previous(signum, frame)
        self.launcher.pass_interrupts_on()  # over the handler `previous` may have put in its place


def spider_settings(settings: BaseSettings, spidercls: type) -> BaseSettings:
    """The settings a crawl of `spidercls` runs with: the project's and the command line's with the
    spider's own applied (its delays and concurrency are what the processes share)."""
    merged = settings.copy()
    spidercls.update_settings(merged)  # type: ignore[attr-defined]
    return merged
