"""Incremental, crash-safe runs: the crawl's memory between runs (state + journal + lock).

The invariant, in the order things happen to one article:
1. its front-matter post is written to a temporary file and renamed into place (atomic);
2. its JSONL line is appended to the journal and fsynced;
3. the state records it exported (content hash, revision, journal offset) in one transaction.
Steps 2 and 3 are done for a batch of articles at once (group commit: one fsync and one transaction
for every article that reached the journal pipeline meanwhile); each article's step 1 came first.
A kill between 1 and 2 leaves a post whose article is not known: the next run fetches it again and
renames the same file name over it. A kill inside 2 leaves a torn last line: the next start cuts it.
A kill between 2 and 3 leaves a complete line the state does not know: the next start reads the
journal past the state's committed offset and records those lines (no second line is written).
So every article ends up exactly once in the journal and once as a post, and the state agrees with both.

Listing walks: a run marks each tag's walk "not clean" when it starts and "clean" only when the
whole run finishes and none of the walk's articles failed for a reason that may pass (a 5xx after
retries, a network error; a 404 or 410 does not count); the next run may stop at the first listing
page whose articles are all known only after a clean walk — after a crash or a failed article it
walks on (fetching listing pages, not known articles), and fetches what failed.
"""

from __future__ import annotations

import hashlib
import json
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from scrapy.settings import BaseSettings

from newscrawl.exporters.journal import Journal
from newscrawl.faults import crash_point
from newscrawl.items import Article
from newscrawl.state import CrawlState, Export, Known, SqliteState, StateLock
from newscrawl.state_redis import RedisState


def worker_name(settings: BaseSettings) -> str:
    """NEWSCRAWL_WORKER, else this machine's name: stable across restarts, so a rerun finds its journal."""
    return settings.get("NEWSCRAWL_WORKER") or socket.gethostname()


def content_hash(article: Article) -> str:
    """What makes a revision: everything but the fetch time and the revision number."""
    fields = article.to_dict()
    fields.pop("fetched_at")
    fields.pop("revision")
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


def _export(article: Article) -> Export:
    return Export(article.article_id, content_hash(article), article.revision,
                  datetime.fromisoformat(article.fetched_at).timestamp())


class Incremental:
    """Opened by the spider before its first request; shared with the pipelines through the spider."""

    def __init__(self, site: str, open_state: Callable[[], CrawlState], lock_path: Path, journal_path: Path,
                 posts_dir: Path | None, worker: str, refresh: bool, refresh_after: float) -> None:
        self.site = site
        self.worker = worker
        self.refresh = refresh
        self.refresh_after = refresh_after
        self.lock = StateLock(lock_path)
        self.lock.acquire()  # raises StateLocked when another run holds it
        self.state = open_state()
        self.distributed = isinstance(self.state, RedisState)
        self.released_claims = self.state.release_own_claims() if self.distributed else 0
        self.journal = Journal(journal_path)
        self.journal_key = str(journal_path.resolve()) if not self.distributed else f"{worker}:{journal_path.name}"
        self.recovered = self._recover()
        # What the listing pages' lookups found for the articles this run fetches (not distributed).
        self._listed: dict[str, Known | None] = {}
        self._remove_stale_temporaries(posts_dir, worker)

    @classmethod
    def from_settings(cls, settings: BaseSettings, spider_name: str, site: str, refresh: bool) -> Incremental | None:
        """None when the run is a one-off (NEWSCRAWL_STATE or NEWSCRAWL_JSONL empty). With
        NEWSCRAWL_REDIS_URL the state is on Redis and the journal is the worker's own."""
        state, journal, redis_url = settings.get("NEWSCRAWL_STATE"), settings.get("NEWSCRAWL_JSONL"), settings.get("NEWSCRAWL_REDIS_URL")
        if not journal or not (state or redis_url):
            return None
        worker = worker_name(settings)
        names = {"name": spider_name, "worker": worker}
        journal_path = Path(journal % names)
        posts = settings.get("NEWSCRAWL_POSTS_DIR")
        posts_dir = Path(posts) / site if posts else None
        refresh_after = settings.getfloat("NEWSCRAWL_REFRESH_AFTER")
        if redis_url:
            if "%(worker)s" not in journal:  # one journal per worker: `output/mydrivers.jsonl` → `output/mydrivers.w1.jsonl`
                journal_path = journal_path.with_name(f"{journal_path.stem}.{worker}{journal_path.suffix}")
            ttl = settings.getfloat("NEWSCRAWL_REDIS_CLAIM_TTL")
            return cls(site, lambda: RedisState(redis_url, site, worker, ttl), journal_path, journal_path, posts_dir,
                       worker, refresh, refresh_after)
        state_path = Path(state % names)
        return cls(site, lambda: SqliteState(state_path), state_path, journal_path, posts_dir, worker, refresh, refresh_after)

    def _recover(self) -> int:
        """Record journal lines a crash left unrecorded (kill between journal fsync and state commit)."""
        lines = self.journal.recover(self.state.journal_offset(self.journal_key))
        if lines:
            self.state.record_exports(self.site, [_export(Article(**record)) for record, _ in lines],
                                      self.journal_key, lines[-1][1])
        return len(lines)

    @staticmethod
    def _remove_stale_temporaries(posts_dir: Path | None, worker: str) -> None:
        """Temporary post files this worker's killed run left behind (we hold its lock; other workers'
        temporaries, in a shared folder, are theirs)."""
        if posts_dir is not None and posts_dir.is_dir():
            for temporary in posts_dir.glob(f".tmp-{worker}-*.part"):
                temporary.unlink(missing_ok=True)

    # Questions the spider asks -------------------------------------------------------------------

    def fresh(self, article_ids: list[str]) -> set[str]:
        """The ids among `article_ids` that need no fetch: exported, and not due for a refresh."""
        known = self.state.known(self.site, article_ids)
        now = time.time()
        fresh = set() if self.refresh else {article_id for article_id, record in known.items()
                                            if not self.refresh_after or now - record.fetched_at < self.refresh_after}
        if not self.distributed:  # alone, nobody else exports: what the listing saw still holds at revise()
            self._listed.update({article_id: known.get(article_id) for article_id in article_ids if article_id not in fresh})
        return fresh

    # What the pipelines do -----------------------------------------------------------------------

    def claim(self, article_id: str) -> bool:
        """May this worker fetch the article? Always, alone; with Redis, when no other worker has it."""
        return self.state.claim(article_id) if self.distributed else True

    def downloading(self, article_id: str) -> None:
        """This worker starts downloading the article (distributed: it now holds the claim)."""
        if self.distributed:
            self.state.take_over_claim(article_id)

    def revise(self, article: Article) -> Article | None:
        """The article with its revision number, or None when it is a known one whose content is unchanged."""
        if article.article_id in self._listed:
            known = self._listed.pop(article.article_id)
        else:
            known = self.state.known(self.site, [article.article_id]).get(article.article_id)
        if known is None:
            return article
        if known.content_hash == content_hash(article):
            return None
        return replace(article, revision=known.revision + 1)

    def commit(self, articles: list[Article]) -> None:
        """Journal lines first (durable), then the state: the order the module docstring relies on."""
        if not articles:
            return
        offset = self.journal.append([article.to_dict() for article in articles])
        crash_point("before-state-record", articles=len(articles))
        self.state.record_exports(self.site, [_export(article) for article in articles], self.journal_key, offset)
        crash_point("after-state-record", articles=len(articles))

    def walk_started(self, listing_url: str) -> bool:
        """Mark a tag's walk in progress; True when the previous walk ended cleanly (the stop rule may apply)."""
        clean = self.state.walk_is_clean(self.site, listing_url)
        self.state.walks_started(self.site, [listing_url])
        return clean

    def walks_ended_cleanly(self, listing_urls: list[str]) -> None:
        self.state.walks_ended_cleanly(self.site, listing_urls)

    def close(self) -> None:
        self.journal.close()
        self.state.close()
        self.lock.release()
