"""The story index: every article seen, its story and its signature's band keys, on disk, shared by the
sites and by the runs (SQLite beside the crawl state) or by the workers (Redis).

`assign` gives an article its story: the one it already has (a rerun, an update, a worker that crashed
before writing its journal line), else the story of the most similar indexed article whose signature
shares a band key with it and whose estimated similarity reaches the threshold, else a new story that
it leads. The look-up and the record are one transaction (SQLite's write lock; a Redis lock), so two
processes meeting the same story at once agree on it. A story's id is its lead's id (`mydrivers:833153`).
"""

from __future__ import annotations

import hashlib
import operator
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from newscrawl.state.files import sqlite_refusal, use_wal
from newscrawl.stories import THRESHOLD

if TYPE_CHECKING:
    from newscrawl.items import Article

# Signatures come in as bytes (newscrawl.stories.signature makes them, in the parse process when there
# is one): the crawl process compares and stores them as they are.
#
# The bands and rows datasketch's MinHashLSH chooses for THRESHOLD and 128 permutations (checked against
# it by tests/unit/test_story_signature.py): two signatures sharing a band's values are candidates.
BANDS, ROWS = 25, 5


def band_keys(signature: bytes) -> list[str]:
    """One key per band of a signature (128 little-endian 64-bit values)."""
    width = ROWS * 8
    return [
        f"{band}:{hashlib.blake2b(signature[band * width : (band + 1) * width], digest_size=8).hexdigest()}"
        for band in range(BANDS)
    ]


def copy_digest(signature: bytes) -> str:
    """What identifies a signature seen before: an exact copy's story is found at once, with no band
    looked at and none stored for it (syndicated copies cost a look-up, not an index's growth)."""
    return hashlib.blake2b(signature, digest_size=16).hexdigest()


def similarity(one: bytes, other: bytes) -> float:
    """MinHash's estimate of two bodies' Jaccard similarity: the share of their signatures' values that
    are equal (what datasketch's `MinHash.jaccard` returns); 0 for signatures of different lengths or
    not whole 8-byte values (a damaged row matches nothing). Plain Python, about 1.5 µs a comparison
    slower than numpy, so that the crawl process does not import numpy (45 ms idle, several times that
    while the crawl runs, on the reactor thread)."""
    if not one or len(one) != len(other) or len(one) % 8:
        return 0.0
    values = memoryview(one).cast("Q")  # native order: equal bytes are equal values either way
    return sum(map(operator.eq, values, memoryview(other).cast("Q"))) / len(values)


@dataclass(frozen=True, slots=True)
class Member:
    """An article of a story, as the cross-site feed shows it."""

    id: str
    site: str
    url: str
    title: str
    published: str

    @classmethod
    def of(cls, article: Article) -> Member:
        return cls(article.id, article.site, article.url, article.title, article.published)


@dataclass(frozen=True, slots=True)
class Told:
    """An article's place in its story."""

    story: str  # the lead's id
    lead: bool


class StoryIndex(Protocol):
    errors: tuple[type[Exception], ...]  # what its store raises when it cannot be read or written

    def assign(self, member: Member, signature: bytes | None) -> Told: ...
    def latest(self, limit: int) -> list[list[Member]]: ...
    def close(self) -> None: ...


# The candidates compared whole: those sharing the most band keys with the new signature (the most
# similar, as far as bands tell); more only cost time where a story has many copies already.
CANDIDATES = 16


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _best(signature: bytes, candidates: Iterable[tuple[str, bytes]], threshold: float) -> str | None:
    """The story of the most similar candidate at or above the threshold (ties: the oldest story first)."""
    scored = [(similarity(signature, stored), story) for story, stored in candidates if stored]
    fitting = [(-score, story) for score, story in scored if score >= threshold]
    return min(fitting)[1] if fitting else None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS story_articles (
    id TEXT PRIMARY KEY, story TEXT NOT NULL, signature BLOB, site TEXT NOT NULL, url TEXT NOT NULL,
    title TEXT NOT NULL, published TEXT NOT NULL, seen REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS story_articles_story ON story_articles (story);
CREATE TABLE IF NOT EXISTS story_bands (key TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (key, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS story_copies (digest TEXT PRIMARY KEY, story TEXT NOT NULL) WITHOUT ROWID;
"""


class SqliteStoryIndex:
    """The index in one SQLite file every site's runs share (WAL; a writer waits up to `busy_timeout`)."""

    @classmethod
    def open(cls, path: Path) -> SqliteStoryIndex:
        """The index at `path`, refused (OSError) where one of its files is a symbolic link: SQLite would
        follow it."""
        if (refusal := sqlite_refusal(path)) is not None:
            raise OSError(refusal)
        return cls(path)

    def __init__(self, path: Path, threshold: float = THRESHOLD, busy_timeout: float = 30.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.errors: tuple[type[Exception], ...] = (sqlite3.Error, OSError)
        self.threshold = threshold
        self.db = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
        # Not fsynced at each article: a process killed mid-run loses nothing (WAL), a power cut may lose
        # the last stories recorded — their journal lines keep them, and they are never given another.
        use_wal(self.db)
        self.db.executescript(_SCHEMA)

    def assign(self, member: Member, signature: bytes | None) -> Told:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            row = self.db.execute("SELECT story FROM story_articles WHERE id = ?", (member.id,)).fetchone()
            if row is not None:
                self.db.execute("COMMIT")
                return Told(row[0], row[0] == member.id)
            digest = copy_digest(signature) if signature else None
            copied = (
                self.db.execute("SELECT story FROM story_copies WHERE digest = ?", (digest,)).fetchone()
                if digest
                else None
            )
            keys = band_keys(signature) if signature and copied is None else []
            story = copied[0] if copied else None
            if keys:
                # At most CANDIDATES ids a band: a story told a thousand times costs what one told ten does.
                per_band = " UNION ALL ".join(
                    ["SELECT id FROM (SELECT id FROM story_bands WHERE key = ? LIMIT ?)"] * len(keys)
                )
                candidates = self.db.execute(
                    "SELECT a.story, a.signature FROM story_articles a JOIN "
                    f"(SELECT id, COUNT(*) AS shared FROM ({per_band}) GROUP BY id "
                    "ORDER BY shared DESC, id LIMIT ?) c ON a.id = c.id ORDER BY a.seen",
                    [*(value for key in keys for value in (key, CANDIDATES)), CANDIDATES],
                ).fetchall()
                story = _best(signature, candidates, self.threshold) if signature else None
            story = story or member.id
            self.db.execute(
                "INSERT INTO story_articles VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    member.id,
                    story,
                    signature,
                    member.site,
                    member.url,
                    member.title,
                    member.published,
                    time.time(),
                ),
            )
            self.db.executemany("INSERT OR IGNORE INTO story_bands VALUES (?, ?)", [(key, member.id) for key in keys])
            if digest and copied is None:
                self.db.execute("INSERT OR IGNORE INTO story_copies VALUES (?, ?)", (digest, story))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return Told(story, story == member.id)

    def latest(self, limit: int) -> list[list[Member]]:
        """The `limit` stories whose lead was seen last, newest first, each lead first, then the others."""
        leads = self.db.execute(
            "SELECT id FROM story_articles WHERE story = id ORDER BY seen DESC LIMIT ?", (limit,)
        ).fetchall()
        stories = []
        for (lead,) in leads:
            rows = self.db.execute(
                "SELECT id, site, url, title, published FROM story_articles WHERE story = ? ORDER BY id != ?, seen",
                (lead, lead),
            ).fetchall()
            stories.append([Member(*row) for row in rows])
        return stories

    def close(self) -> None:
        self.db.close()


class RedisStoryIndex:
    """The index on the crawl's Redis (keys under `newscrawl:stories:`), its look-up and record under a lock."""

    def __init__(self, url: str, threshold: float = THRESHOLD) -> None:
        import redis  # distributed runs only

        self.errors: tuple[type[Exception], ...] = (redis.RedisError,)
        self.threshold = threshold
        self.db = redis.Redis.from_url(url)
        self.prefix = "newscrawl:stories:"

    def assign(self, member: Member, signature: bytes | None) -> Told:
        with self.db.lock(self.prefix + "lock", timeout=30, blocking_timeout=60):
            known = self.db.hget(self.prefix + "article:" + member.id, "story")
            if known is not None:
                return Told(_text(known), _text(known) == member.id)
            digest = copy_digest(signature) if signature else None
            copied = self.db.get(self.prefix + "copy:" + digest) if digest else None
            keys = band_keys(signature) if signature and copied is None else []
            story = _text(copied) if copied is not None else None
            if keys and signature:
                shared: dict[str, int] = {}
                for key in keys:
                    for member_id in self.db.smembers(self.prefix + "band:" + key):
                        shared[_text(member_id)] = shared.get(_text(member_id), 0) + 1
                ids = sorted(shared, key=lambda other: (-shared[other], other))[:CANDIDATES]
                rows = []
                for other in ids:
                    story_of, stored, seen = self.db.hmget(
                        self.prefix + "article:" + other, ["story", "signature", "seen"]
                    )
                    if story_of is not None and stored:
                        rows.append((float(_text(seen or 0)), _text(story_of), bytes(stored)))
                story = _best(signature, ((s, sig) for _, s, sig in sorted(rows)), self.threshold)
            story = story or member.id
            now = time.time()
            batch = self.db.pipeline(transaction=True)
            batch.hset(
                self.prefix + "article:" + member.id,
                mapping={
                    "story": story,
                    "signature": signature or b"",
                    "site": member.site,
                    "url": member.url,
                    "title": member.title,
                    "published": member.published,
                    "seen": now,
                },
            )
            for key in keys:
                batch.sadd(self.prefix + "band:" + key, member.id)
            if digest and copied is None:
                batch.set(self.prefix + "copy:" + digest, story, nx=True)
            batch.rpush(self.prefix + "members:" + story, member.id)
            if story == member.id:
                batch.zadd(self.prefix + "stories", {story: now})
            batch.execute()
        return Told(story, story == member.id)

    def latest(self, limit: int) -> list[list[Member]]:
        stories = []
        for lead in self.db.zrevrange(self.prefix + "stories", 0, limit - 1):
            members = []
            for member in self.db.lrange(self.prefix + "members:" + _text(lead), 0, -1):
                fields = self.db.hmget(self.prefix + "article:" + _text(member), ["site", "url", "title", "published"])
                if all(value is not None for value in fields):
                    site, url, title, published = (_text(value) for value in fields)
                    members.append(Member(_text(member), site, url, title, published))
            stories.append(members)
        return stories

    def close(self) -> None:
        self.db.close()
