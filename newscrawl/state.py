"""Crawl state: what incremental runs and resume need, behind a small interface.

The embedded backend is SQLite from the standard library (WAL, synchronous=FULL), one file per
crawl whose path is NEWSCRAWL_STATE. Keys are site + the site's stable article id. A later backend
(Redis, for distributed crawls) implements the same `CrawlState` protocol.

What it holds:
- articles: the content hash and revision of every article exported, when it was fetched, and the
  journal offset its line ends at;
- tag walks: whether the last walk of a listing ended cleanly — only then may the next run stop at
  the first page whose articles are all known;
- the journal's committed size, so a restart only has to look at the journal's tail.
"""

from __future__ import annotations

import fcntl
import functools
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Export:
    """One article's record in the state, written when its journal line is on disk."""

    article_id: str
    content_hash: str
    revision: int
    fetched_at: float  # Unix time


@dataclass(frozen=True, slots=True)
class Known:
    content_hash: str
    revision: int
    fetched_at: float  # Unix time of the fetch that produced the exported revision


class CrawlState(Protocol):
    def known(self, site: str, article_ids: list[str]) -> dict[str, Known]: ...
    def record_exports(self, site: str, exports: list[Export], journal: str, journal_offset: int) -> None: ...
    def journal_offset(self, journal: str) -> int: ...
    def walk_is_clean(self, site: str, listing_url: str) -> bool: ...
    def walks_started(self, site: str, listing_urls: list[str]) -> None: ...
    def walks_ended_cleanly(self, site: str, listing_urls: list[str]) -> None: ...
    def close(self) -> None: ...


class StateLocked(RuntimeError):
    """Another crawl holds the state (cron overlap): this run must not start."""


class StateLock:
    """An exclusive `flock` on `<state>.lock`, released by the kernel however the holder ends (kill -9 too)."""

    def __init__(self, state_path: Path) -> None:
        self.path = state_path.with_name(state_path.name + ".lock")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        handle = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise StateLocked(f"another crawl is running on {self.path.with_suffix('')} ({holder}); "
                              "this run refuses to start (cron overlap). It retries at the next scheduled time.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S%z')}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    site TEXT NOT NULL, article_id TEXT NOT NULL, content_hash TEXT NOT NULL, revision INTEGER NOT NULL,
    fetched_at REAL NOT NULL, PRIMARY KEY (site, article_id));
CREATE TABLE IF NOT EXISTS walks (
    site TEXT NOT NULL, listing_url TEXT NOT NULL, clean INTEGER NOT NULL, PRIMARY KEY (site, listing_url));
CREATE TABLE IF NOT EXISTS journals (path TEXT PRIMARY KEY, committed_offset INTEGER NOT NULL);
"""


def _locked(method: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(method)
    def wrapper(self: SqliteState, *args: Any, **kwargs: Any) -> T:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


class SqliteState:
    """The embedded CrawlState. Every write is one committed transaction. The spider reads it on
    the reactor thread while the journal pipeline writes from its own thread: one lock serialises them."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)

    @_locked
    def known(self, site: str, article_ids: list[str]) -> dict[str, Known]:
        found: dict[str, Known] = {}
        for start in range(0, len(article_ids), 500):
            chunk = article_ids[start : start + 500]
            rows = self.db.execute(
                f"SELECT article_id, content_hash, revision, fetched_at FROM articles WHERE site = ? "
                f"AND article_id IN ({','.join('?' * len(chunk))})", [site, *chunk])
            found.update({row[0]: Known(row[1], row[2], row[3]) for row in rows})
        return found

    @_locked
    def record_exports(self, site: str, exports: list[Export], journal: str, journal_offset: int) -> None:
        """Record a batch of exports and the journal size they end at, in one transaction."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany(
                "INSERT INTO articles VALUES (?, ?, ?, ?, ?) ON CONFLICT (site, article_id) DO UPDATE SET "
                "content_hash = excluded.content_hash, revision = excluded.revision, fetched_at = excluded.fetched_at",
                [(site, e.article_id, e.content_hash, e.revision, e.fetched_at) for e in exports])
            if journal:
                self.db.execute("INSERT INTO journals VALUES (?, ?) ON CONFLICT (path) DO UPDATE SET "
                                "committed_offset = excluded.committed_offset", (journal, journal_offset))

    @_locked
    def journal_offset(self, journal: str) -> int:
        row = self.db.execute("SELECT committed_offset FROM journals WHERE path = ?", (journal,)).fetchone()
        return row[0] if row else 0

    @_locked
    def walk_is_clean(self, site: str, listing_url: str) -> bool:
        row = self.db.execute("SELECT clean FROM walks WHERE site = ? AND listing_url = ?", (site, listing_url)).fetchone()
        return bool(row and row[0])

    @_locked
    def _set_walks(self, site: str, listing_urls: list[str], clean: int) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT INTO walks VALUES (?, ?, ?) ON CONFLICT (site, listing_url) DO UPDATE SET "
                                "clean = excluded.clean", [(site, url, clean) for url in listing_urls])

    def walks_started(self, site: str, listing_urls: list[str]) -> None:
        self._set_walks(site, listing_urls, 0)

    def walks_ended_cleanly(self, site: str, listing_urls: list[str]) -> None:
        self._set_walks(site, listing_urls, 1)

    @_locked
    def close(self) -> None:
        self.db.close()
