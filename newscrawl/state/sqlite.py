"""The embedded crawl state: SQLite from the standard library (WAL, synchronous=NORMAL), one file per
crawl (NEWSCRAWL_STATE), held by one run at a time through an `flock` on `<state>.lock` (or by the
processes of one crawl by several, newscrawl.run.processes).

Its commits are not fsynced: a process killed at any moment loses nothing of it (WAL); a power cut
may lose its last transactions, never reorder them, which leaves it as a kill at an earlier moment
would: behind the fsynced journal, whose lines past its mark the next start records again
(newscrawl.state.component). The journal is what makes an export durable; the state is what makes
the next run fast.

Tables (schema version in `PRAGMA user_version`):
- articles: every article exported — content hash, revision, fetch time, publication time, where its
  journal line is;
- tag_articles: which tag (walk) each article belongs to: shown on a page of its walk (`listed`), or
  named by the article (`named`);
- journals: per journal, the mark the state has recorded up to (size, device, inode);
- pending_listings / pending_articles: work found and not done yet (the walks' frontier);
- complete_walks: the walks (a tag's first listing page) that a walk once followed to their end;
- gone_articles: articles settled with a reason (404, refused, unusable, failing run after run), with
  their URL, so a later run can try them again; article_failures: runs in a row a pending article failed.

A state file of an older schema is migrated when opened: 0 (before pending work was kept), 1 (before
tags and journal places were kept: the journal is read again from its start at the next run, which
records them), 2 (before walks were remembered complete: every walk is walked whole once more). A
file of a newer schema, or one that is not a crawl state, is refused with a message saying so.
"""

from __future__ import annotations

import fcntl
import functools
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

from newscrawl.state.base import (
    Export,
    Exported,
    GoneArticle,
    Known,
    ListingPage,
    PendingArticle,
    StateUnusable,
    raising_state_errors,
)
from newscrawl.state.files import open_regular, sqlite_refusal, use_wal
from newscrawl.state.journal import JournalMark, LineRef

T = TypeVar("T")
SCHEMA_VERSION = 3


class StateLock:
    """An exclusive `flock` on `<state>.lock`, released by the kernel however the holder ends (kill -9 too).

    The processes of one crawl by several (newscrawl.run.processes) share it: their launcher takes it and
    each inherits its descriptor (`inherited`), so the lock lasts until the last of them ends, and no
    other run starts on the state meanwhile, whichever of them dies first."""

    def __init__(self, state_path: Path, inherited: int | None = None) -> None:
        self.path = state_path.with_name(state_path.name + ".lock")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._inherited = inherited
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        if self._inherited is not None:
            self._adopt(self._inherited)
            return
        handle = os.fdopen(open_regular(self.path, os.O_RDWR), "r+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise StateUnusable(
                f"another crawl is running on {self.path.with_suffix('')} ({holder}); "
                "this run refuses to start (cron overlap). It retries at the next scheduled time."
            ) from None
        self._file = handle
        try:  # who holds it, for the message of a run refused; the lock itself is the flock
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S%z')}\n")
            handle.flush()
        except OSError:  # a full disk: the state's own writes will say so
            pass

    def _adopt(self, descriptor: int) -> None:
        """Hold the lock through a descriptor of it this process inherited: it must be this state's lock
        file, locked (flock on the same open file succeeds again for its holders only)."""
        try:
            held, ours = os.fstat(descriptor), os.stat(self.path)
            if (held.st_dev, held.st_ino) != (ours.st_dev, ours.st_ino):
                raise StateUnusable(f"the lock descriptor {descriptor} this process was given is not {self.path}'s")
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StateUnusable(
                f"the lock descriptor {descriptor} this process was given does not hold {self.path}"
            ) from None
        except OSError as error:
            raise StateUnusable(
                f"cannot hold the lock of {self.path} through descriptor {descriptor} ({error})"
            ) from None
        self._file = os.fdopen(descriptor, "r", encoding="utf-8")

    def descriptor(self) -> int:
        """The held lock's file descriptor, for the processes that share it (`inherited`)."""
        assert self._file is not None, "acquire() first"
        return self._file.fileno()

    def release(self) -> None:
        if self._file is not None:
            if self._inherited is None:  # an inherited lock is the launcher's and its other processes' too
                fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


_PENDING = """
CREATE TABLE IF NOT EXISTS pending_listings (
    site TEXT NOT NULL, url TEXT NOT NULL, walk TEXT NOT NULL, page INTEGER NOT NULL, depth INTEGER NOT NULL,
    PRIMARY KEY (site, url));
CREATE TABLE IF NOT EXISTS pending_articles (
    site TEXT NOT NULL, article_id TEXT NOT NULL, url TEXT NOT NULL, depth INTEGER NOT NULL,
    PRIMARY KEY (site, article_id));
"""
_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS articles (
    site TEXT NOT NULL, article_id TEXT NOT NULL, content_hash TEXT NOT NULL, revision INTEGER NOT NULL,
    fetched_at REAL NOT NULL, published REAL, line_path TEXT, line_inode INTEGER, line_offset INTEGER,
    line_length INTEGER, PRIMARY KEY (site, article_id));
CREATE INDEX IF NOT EXISTS articles_by_date ON articles (site, published);
CREATE TABLE IF NOT EXISTS journals (
    path TEXT PRIMARY KEY, committed_offset INTEGER NOT NULL, device INTEGER NOT NULL, inode INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tag_articles (
    site TEXT NOT NULL, tag TEXT NOT NULL, article_id TEXT NOT NULL, listed INTEGER NOT NULL DEFAULT 0,
    named INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (site, tag, article_id));
CREATE INDEX IF NOT EXISTS tags_by_article ON tag_articles (site, article_id);
CREATE TABLE IF NOT EXISTS complete_walks (site TEXT NOT NULL, walk TEXT NOT NULL, PRIMARY KEY (site, walk));
CREATE TABLE IF NOT EXISTS walk_facts (
    site TEXT NOT NULL, walk TEXT NOT NULL, fact TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (site, walk, fact));
CREATE TABLE IF NOT EXISTS gone_articles (
    site TEXT NOT NULL, article_id TEXT NOT NULL, url TEXT NOT NULL, depth INTEGER NOT NULL, reason TEXT NOT NULL,
    since REAL NOT NULL, PRIMARY KEY (site, article_id));
CREATE TABLE IF NOT EXISTS article_failures (
    site TEXT NOT NULL, article_id TEXT NOT NULL, failures INTEGER NOT NULL, PRIMARY KEY (site, article_id));
"""
    + _PENDING
)


# Tags of at most this many articles are sorted whole for their feed (newscrawl.state.sqlite.latest).
_SMALL_TAG = 1_000


def _run_script(db: sqlite3.Connection, script: str) -> None:
    """Each statement of `script` inside the caller's transaction (`executescript` would commit it first)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _migrate_from_0(db: sqlite3.Connection) -> None:
    """Schema 0 kept a clean/unclean flag per walk and a bare journal offset. An unclean walk becomes a
    pending first page (walked to its end again, as schema 0 promised); the journal's identity is
    taken from the file at its path."""
    db.execute("ALTER TABLE journals ADD COLUMN device INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE journals ADD COLUMN inode INTEGER NOT NULL DEFAULT 0")
    for (path,) in db.execute("SELECT path FROM journals").fetchall():
        try:
            status = os.stat(path)
        except OSError:
            continue
        db.execute("UPDATE journals SET device = ?, inode = ? WHERE path = ?", (status.st_dev, status.st_ino, path))
    _run_script(db, _PENDING)
    db.execute(
        "INSERT OR IGNORE INTO pending_listings SELECT site, listing_url, listing_url, 1, 0 FROM walks WHERE clean = 0"
    )
    db.execute("DROP TABLE walks")


def _migrate_from_1(db: sqlite3.Connection) -> None:
    """Schema 1 kept no tags and no journal places: the columns are added empty, and every journal's
    mark goes back to its start (its identity kept), so the next run reads the journal again and
    records them (recording a line again is harmless)."""
    for column in (
        "published REAL",
        "line_path TEXT",
        "line_inode INTEGER",
        "line_offset INTEGER",
        "line_length INTEGER",
    ):
        db.execute(f"ALTER TABLE articles ADD COLUMN {column}")
    _run_script(db, _SCHEMA)
    db.execute("UPDATE journals SET committed_offset = 0")


def _locked(method: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(method)
    def wrapper(self: SqliteState, *args: Any, **kwargs: Any) -> T:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


@raising_state_errors(sqlite3.Error, lambda error: isinstance(error, sqlite3.OperationalError))
class SqliteState:
    """The embedded CrawlState, for one site. Every write is one committed transaction. The spider reads
    it on the reactor thread while the journal's writer thread records exports: one lock serialises them."""

    # Under its lock, this run is the only writer of its articles' posts and journal lines (a process of
    # several, of its share's: newscrawl.shares).
    exclusive = True
    rereads_journals = False  # True when opening it upgraded an older schema: its journals are read again

    def __init__(self, path: Path, site: str, busy_timeout: float, inherited_lock: int | None = None) -> None:
        """`busy_timeout`: seconds a write waits for another process's lock on the file (a backup, a
        sqlite3 shell, another process of the same crawl) before it fails. `inherited_lock`: the
        descriptor of the state's lock a process of several was given (StateLock)."""
        self.site = site
        if (refusal := sqlite_refusal(path)) is not None:
            raise StateUnusable(refusal)
        self.lock = StateLock(path, inherited_lock)
        self.lock.acquire()
        self._lock = threading.Lock()
        try:
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=busy_timeout)
            self._open(path)
        except sqlite3.OperationalError as error:  # locked by another process, a full disk, an I/O error
            self.lock.release()
            raise StateUnusable(
                f"cannot open the crawl state {path} ({error}); nothing was fetched, the next run tries again"
            ) from None
        except sqlite3.DatabaseError as error:
            self.lock.release()
            raise StateUnusable(
                f"{path} is not a usable crawl state ({error}); move it aside with its -wal and -shm files: "
                "the next run rebuilds it from the journal"
            ) from None
        except StateUnusable:
            self.lock.release()
            raise

    def _open(self, path: Path) -> None:
        use_wal(self.db)  # see the module docstring
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if version > SCHEMA_VERSION:
            raise StateUnusable(
                f"{path} was written by a newer newscrawl (state schema {version}, this one reads "
                f"up to {SCHEMA_VERSION}); run that version, or move the file aside to start afresh"
            )
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            if version == 0 and "walks" in tables:
                _migrate_from_0(self.db)
                _migrate_from_1(self.db)
            elif version == 1:
                _migrate_from_1(self.db)
            elif version == 2:
                _run_script(self.db, _SCHEMA)  # no walk is known complete: each is walked whole once more
            elif version == 0 and tables:
                raise StateUnusable(
                    f"{path} is a SQLite file but not a crawl state (tables: {', '.join(sorted(tables))}); "
                    "give NEWSCRAWL_STATE another path"
                )
            else:
                _run_script(self.db, _SCHEMA)
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        self.rereads_journals = version < 2 and bool(tables)
        damage = [row[0] for row in self.db.execute("PRAGMA quick_check(5)")]
        if damage != ["ok"]:
            raise StateUnusable(
                f"{path} is damaged ({'; '.join(damage)}); move it aside with its -wal and -shm files "
                f"(mv {path} {path}.damaged): the next run rebuilds it from the journal"
            )

    # Exports -------------------------------------------------------------------------------------

    @_locked
    def known(self, article_ids: list[str]) -> dict[str, Known]:
        rows = self._rows_for_ids(
            "SELECT article_id, content_hash, revision, fetched_at, line_path, line_inode, line_offset, "
            "line_length FROM articles WHERE site = ? AND article_id IN ({ids})",
            [self.site],
            article_ids,
        )
        return {
            row[0]: Known(row[1], row[2], row[3], LineRef(*row[4:]) if row[4] is not None else None) for row in rows
        }

    def _rows_for_ids(self, query: str, params: Sequence[Any], article_ids: list[str]) -> Iterator[Any]:
        """The rows of `query` for `article_ids`: its `{ids}` is filled with one `?` per id, 500 ids at a time
        (SQLite bounds the variables of one statement); `params` come before the ids."""
        for start in range(0, len(article_ids), 500):
            chunk = article_ids[start : start + 500]
            yield from self.db.execute(query.format(ids=",".join("?" * len(chunk))), [*params, *chunk])

    @_locked
    def record_exports(self, exports: list[Export], journal: str, mark: JournalMark | None) -> None:
        """Record exports (with the tags they name) and the journal mark they end at (if any), in one transaction;
        their work is done (but for what an export's `pending` keeps pending). A revision never goes down
        (a journal read again from its start holds older lines too), and neither do the tags and line it
        brought."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            for e in exports:
                updated = self.db.execute(
                    "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (site, article_id) DO UPDATE SET "
                    "content_hash = excluded.content_hash, revision = excluded.revision, "
                    "fetched_at = excluded.fetched_at, "
                    "published = excluded.published, line_path = excluded.line_path, line_inode = excluded.line_inode, "
                    "line_offset = excluded.line_offset, line_length = excluded.line_length "
                    "WHERE excluded.revision >= articles.revision",
                    (
                        self.site,
                        e.article_id,
                        e.content_hash,
                        e.revision,
                        e.fetched_at,
                        e.published,
                        e.line.path,
                        e.line.inode,
                        e.line.offset,
                        e.line.length,
                    ),
                ).rowcount
                if updated:
                    self._name_tags(e.article_id, e.tags)
            self._settle(e.article_id for e in exports)
            self.db.executemany(
                "DELETE FROM gone_articles WHERE site = ? AND article_id = ?",
                [(self.site, e.article_id) for e in exports],
            )
            self.db.executemany(
                "INSERT OR IGNORE INTO pending_articles VALUES (?, ?, ?, ?)",
                [(self.site, e.pending.article_id, e.pending.url, e.pending.depth) for e in exports if e.pending],
            )
            if mark is not None:
                self.db.execute(
                    "INSERT INTO journals VALUES (?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET "
                    "committed_offset = excluded.committed_offset, device = excluded.device, inode = excluded.inode",
                    (journal, mark.offset, mark.device, mark.inode),
                )

    def _name_tags(self, article_id: str, tags: tuple[str, ...]) -> None:
        """The article names `tags` now (a revision may have dropped some it named before)."""
        self.db.execute("UPDATE tag_articles SET named = 0 WHERE site = ? AND article_id = ?", (self.site, article_id))
        self.db.executemany(
            "INSERT INTO tag_articles (site, tag, article_id, named) VALUES (?, ?, ?, 1) "
            "ON CONFLICT (site, tag, article_id) DO UPDATE SET named = 1",
            [(self.site, tag, article_id) for tag in tags],
        )
        self.db.execute(
            "DELETE FROM tag_articles WHERE site = ? AND article_id = ? AND listed = 0 AND named = 0",
            (self.site, article_id),
        )

    @_locked
    def tags_of(self, article_ids: list[str]) -> dict[str, list[str]]:
        """The tags each of `article_ids` names (as its latest exported revision does)."""
        found: dict[str, list[str]] = {}
        for article_id, tag in self._rows_for_ids(
            "SELECT article_id, tag FROM tag_articles WHERE site = ? AND named = 1 "
            "AND article_id IN ({ids}) ORDER BY article_id, rowid",
            [self.site],
            article_ids,
        ):
            found.setdefault(article_id, []).append(tag)
        return found

    @_locked
    def latest(self, tag: str | None, limit: int) -> list[Exported]:
        """The latest `limit` exported articles of `tag` (None: of the site) whose journal line is known,
        newest first (ties: the higher article id first)."""
        columns = "a.article_id, a.revision, a.line_path, a.line_inode, a.line_offset, a.line_length"
        order = "ORDER BY a.published DESC, a.article_id DESC LIMIT ?"
        if tag is None:
            rows = self.db.execute(
                f"SELECT {columns} FROM articles a WHERE a.site = ? AND a.line_path IS NOT NULL {order}",
                (self.site, limit),
            )
        else:
            # A small tag is read from its own rows (CROSS JOIN: SQLite keeps that order), sorted by date;
            # a large one by walking the articles by date until its latest are found. Either way the
            # cost follows the tag, not the site's history.
            (size,) = self.db.execute(
                "SELECT count(*) FROM (SELECT 1 FROM tag_articles WHERE site = ? AND tag = ? LIMIT ?)",
                (self.site, tag, _SMALL_TAG + 1),
            ).fetchone()
            join = "CROSS JOIN" if size <= _SMALL_TAG else "JOIN"
            rows = self.db.execute(
                f"SELECT {columns} FROM tag_articles t {join} articles a ON a.site = t.site AND "
                f"a.article_id = t.article_id WHERE t.site = ? AND t.tag = ? AND a.line_path IS NOT NULL "
                f"{order}",
                (self.site, tag, limit),
            )
        return [Exported(row[0], row[1], LineRef(*row[2:])) for row in rows]

    @_locked
    def journal_mark(self, journal: str) -> JournalMark | None:
        row = self.db.execute(
            "SELECT committed_offset, device, inode FROM journals WHERE path = ?", (journal,)
        ).fetchone()
        return JournalMark(*row) if row else None

    # Pending work --------------------------------------------------------------------------------

    @_locked
    def pending_listings(self) -> list[ListingPage]:
        rows = self.db.execute(
            "SELECT url, walk, page, depth FROM pending_listings WHERE site = ? ORDER BY walk, page", (self.site,)
        )
        return [ListingPage(*row) for row in rows]

    @_locked
    def pending_articles(self) -> list[PendingArticle]:
        rows = self.db.execute(
            "SELECT article_id, url, depth FROM pending_articles WHERE site = ? ORDER BY rowid", (self.site,)
        )
        return [PendingArticle(*row) for row in rows]

    @_locked
    def record_pending(
        self,
        done: ListingPage | None,
        articles: list[PendingArticle],
        pages: list[ListingPage],
        shown: Sequence[str] = (),
        ends_walk: bool = False,
    ) -> None:
        """One transaction: the listing page `done` (if any) is done, the ids it `shown` belong to its
        walk's tag, and (`ends_walk`) its walk has been followed to its end; `articles` and `pages` are pending."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            if done is not None:
                self.db.execute("DELETE FROM pending_listings WHERE site = ? AND url = ?", (self.site, done.url))
                if ends_walk:
                    self.db.execute("INSERT OR IGNORE INTO complete_walks VALUES (?, ?)", (self.site, done.walk))
                self.db.executemany(
                    "INSERT INTO tag_articles (site, tag, article_id, listed) VALUES (?, ?, ?, 1) "
                    "ON CONFLICT (site, tag, article_id) DO UPDATE SET listed = 1",
                    [(self.site, done.walk, article_id) for article_id in shown],
                )
            self.db.executemany(
                "INSERT OR IGNORE INTO pending_listings VALUES (?, ?, ?, ?, ?)",
                [(self.site, p.url, p.walk, p.page, p.depth) for p in pages],
            )
            self.db.executemany(
                "INSERT OR IGNORE INTO pending_articles VALUES (?, ?, ?, ?)",
                [(self.site, a.article_id, a.url, a.depth) for a in articles],
            )

    @_locked
    def listing_gone(self, url: str, ends_walk: str | None = None) -> None:
        """The listing page at `url` is gone; a page past the first ends its walk (`ends_walk`) there."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("DELETE FROM pending_listings WHERE site = ? AND url = ?", (self.site, url))
            if ends_walk is not None:
                self.db.execute("INSERT OR IGNORE INTO complete_walks VALUES (?, ?)", (self.site, ends_walk))

    @_locked
    def complete_walks(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT walk FROM complete_walks WHERE site = ?", (self.site,))}

    @_locked
    def note_walk(self, walk: str, fact: str, value: str) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO walk_facts VALUES (?, ?, ?, ?) "
                "ON CONFLICT (site, walk, fact) DO UPDATE SET value = excluded.value",
                (self.site, walk, fact, value),
            )

    @_locked
    def walk_facts(self, fact: str) -> dict[str, str]:
        return dict(
            self.db.execute("SELECT walk, value FROM walk_facts WHERE site = ? AND fact = ?", (self.site, fact))
        )

    @_locked
    def forget_walks(self) -> None:
        """No walk is known complete any more (the state is behind its journal: what it lost is unknown)."""
        with self.db:
            self.db.execute("DELETE FROM complete_walks WHERE site = ?", (self.site,))

    @_locked
    def articles_settled(self, article_ids: list[str]) -> None:
        """Nothing more to do for these (gone, unusable, unchanged)."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self._settle(article_ids)

    def _settle(self, article_ids: Iterable[str]) -> None:
        rows = [(self.site, article_id) for article_id in article_ids]
        self.db.executemany("DELETE FROM pending_articles WHERE site = ? AND article_id = ?", rows)
        self.db.executemany("DELETE FROM article_failures WHERE site = ? AND article_id = ?", rows)

    @_locked
    def articles_gone(self, gone: list[GoneArticle]) -> None:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self._settle(g.article_id for g in gone)
            self.db.executemany(
                "INSERT OR REPLACE INTO gone_articles VALUES (?, ?, ?, ?, ?, ?)",
                [(self.site, g.article_id, g.url, g.depth, g.reason, g.since) for g in gone],
            )

    @_locked
    def gone(self, article_ids: list[str], since: float) -> set[str]:
        return {
            row[0]
            for row in self._rows_for_ids(
                "SELECT article_id FROM gone_articles WHERE site = ? AND since >= ? AND article_id IN ({ids})",
                [self.site, since],
                article_ids,
            )
        }

    @_locked
    def retry_gone(self) -> int:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            moved = self.db.execute(
                "INSERT OR IGNORE INTO pending_articles SELECT site, article_id, url, depth "
                "FROM gone_articles WHERE site = ?",
                (self.site,),
            ).rowcount
            self.db.execute("DELETE FROM gone_articles WHERE site = ?", (self.site,))
        return moved

    @_locked
    def article_failed(self, article_id: str) -> int:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                "INSERT INTO article_failures VALUES (?, ?, 1) ON CONFLICT (site, article_id) "
                "DO UPDATE SET failures = failures + 1",
                (self.site, article_id),
            )
            return int(
                self.db.execute(
                    "SELECT failures FROM article_failures WHERE site = ? AND article_id = ?", (self.site, article_id)
                ).fetchone()[0]
            )

    # Claims: alone on the state, every article is this run's ------------------------------------

    @_locked
    def is_pending(self, article_id: str) -> bool:
        return (
            self.db.execute(
                "SELECT 1 FROM pending_articles WHERE site = ? AND article_id = ?", (self.site, article_id)
            ).fetchone()
            is not None
        )

    def claim(self, article_id: str) -> bool:
        return True

    def take_over_claim(self, article_id: str) -> None:
        return None

    def release_own_claims(self) -> int:
        return 0

    @_locked
    def close(self) -> None:
        self.db.close()
        self.lock.release()
