"""The crawl state on Redis, for several workers on several machines (NEWSCRAWL_REDIS_URL).

The same interface as the SQLite backend, with real claims: before a worker queues an article it
claims the article's id, so one worker fetches and exports it. Whichever worker pops the request
from the shared queue takes the claim over as it starts the download (and drops the request if the
article was exported meanwhile). A claim younger than NEWSCRAWL_REDIS_CLAIM_TTL is never granted
again, not even to its holder; it ends when the article is recorded as exported or settled; a
restarted worker releases its own; an older one may be taken over by anyone.

Keys, all under `newscrawl:<site>:`: `articles` (id → hash/revision/fetch time/publication time/
named tags/journal line), `published` (sorted set: id by publication time), `listed:<tag>` and
`named:<tag>` (sets: the ids a page of the tag's walk showed, the ids that name the tag), `claims`
(id → worker|time), `journals` (journal → mark), `pending:articles` (id → url/depth, shared by all
workers), `pending:listings:<worker>` (URL → walk/page/depth: each worker walks the listings itself),
`complete_walks` (set: the walks once followed to their end, by any worker; absent in older states,
so each walk is walked whole once more), `gone` (id → url/depth/reason/since: articles settled with a
reason, tried again later), `failures` (id → runs in a row it failed), `schema` (2; a state without
it predates tags and journal lines, and its journals are read again from their start, as SQLite's
migration does).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator, Sequence
from typing import cast

import redis

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
from newscrawl.state.journal import JournalMark, LineRef

SCHEMA_VERSION = 2

# Claim ARGV[1] for worker ARGV[2] at time ARGV[3] unless a claim younger than the TTL ARGV[4] stands.
_CLAIM = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
    local since = tonumber(string.match(current, '|([0-9.]+)$'))
    if since and since > tonumber(ARGV[3]) - tonumber(ARGV[4]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. '|' .. ARGV[3])
return 1
"""

# The worker about to download ARGV[1] becomes its claim's holder, if the claim still stands.
_TAKE_OVER = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. '|' .. ARGV[3])
    return 1
end
return 0
"""

# Record exports (ARGV[4..]: id, record, revision, pending quadruples) whose revision is not below the
# stored one, with their publication times and the tags they name (the sets under the prefix ARGV[3]);
# settle their pending entries, claims, failure counts and gone records, but keep pending those with a
# pending value (work left: image files to try again), and set the journal's mark (ARGV[1] → ARGV[2], unless
# ARGV[2] is empty). Atomic.
_RECORD = """
for i = 4, #ARGV, 4 do
    local current = redis.call('HGET', KEYS[1], ARGV[i])
    if not current or cjson.decode(current)['revision'] <= tonumber(ARGV[i + 2]) then
        if current then
            for _, tag in ipairs(cjson.decode(current)['tags'] or {}) do
                redis.call('SREM', ARGV[3] .. 'named:' .. tag, ARGV[i])
            end
        end
        local record = cjson.decode(ARGV[i + 1])
        for _, tag in ipairs(record['tags']) do
            redis.call('SADD', ARGV[3] .. 'named:' .. tag, ARGV[i])
        end
        redis.call('ZADD', KEYS[5], record['published'], ARGV[i])
        redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    end
    if ARGV[i + 3] == '' then
        redis.call('HDEL', KEYS[2], ARGV[i])
    else
        redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 3])
    end
    redis.call('HDEL', KEYS[3], ARGV[i])
    redis.call('HDEL', KEYS[6], ARGV[i])
    redis.call('HDEL', KEYS[7], ARGV[i])
end
if ARGV[2] ~= '' then
    redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
end
return 1
"""


@raising_state_errors(redis.RedisError, lambda error: False)
class RedisState:
    exclusive = False  # other workers may share the posts folder
    rereads_journals = False  # True when opening it upgraded an older state: its journals are read again

    def __init__(self, url: str, site: str, worker: str, claim_ttl: float) -> None:
        self.db = redis.Redis.from_url(url, decode_responses=True)
        try:
            self.db.ping()  # fail at start, with the URL in the error, rather than mid-crawl
        except redis.RedisError as error:
            raise StateUnusable(f"cannot reach the crawl state at {url}: {error}") from None
        self.prefix = f"newscrawl:{site}:"
        self.worker = worker
        self.claim_ttl = claim_ttl
        self._claim = self.db.register_script(_CLAIM)
        self._take_over = self.db.register_script(_TAKE_OVER)
        self._record = self.db.register_script(_RECORD)
        self._listings = f"{self.prefix}pending:listings:{worker}"
        self._upgrade()

    def _upgrade(self) -> None:
        """A state written before tags and journal lines were kept: every journal is read again from its
        start by its worker's next run (its identity kept), which records them."""
        if self.db.get(self.prefix + "schema") is not None:
            return
        self.rereads_journals = self.db.exists(self.prefix + "journals") > 0
        with self.db.pipeline(transaction=True) as batch:
            for journal, value in self.db.hscan_iter(self.prefix + "journals"):
                batch.hset(self.prefix + "journals", journal, json.dumps([0, *json.loads(value)[1:]]))
            batch.set(self.prefix + "schema", SCHEMA_VERSION)
            batch.execute()

    def known(self, article_ids: list[str]) -> dict[str, Known]:
        if not article_ids:
            return {}
        values = self.db.hmget(self.prefix + "articles", article_ids)
        found = {}
        for article_id, value in zip(article_ids, values, strict=True):
            if value:
                record = json.loads(value)
                line = record.get("line")
                found[article_id] = Known(
                    record["hash"], record["revision"], record["fetched_at"], LineRef(*line) if line else None
                )
        return found

    def record_exports(self, exports: list[Export], journal: str, mark: JournalMark | None) -> None:
        recorded = json.dumps([mark.offset, mark.device, mark.inode]) if mark is not None else ""
        args: list[str | int] = [journal, recorded, self.prefix]
        for e in exports:
            record = {
                "hash": e.content_hash,
                "revision": e.revision,
                "fetched_at": e.fetched_at,
                "published": e.published,
                "tags": list(e.tags),
                "line": [e.line.path, e.line.inode, e.line.offset, e.line.length],
            }
            pending = json.dumps([e.pending.url, e.pending.depth]) if e.pending else ""
            args += [e.article_id, json.dumps(record), e.revision, pending]
        self._record(
            keys=[
                self.prefix + "articles",
                self.prefix + "pending:articles",
                self.prefix + "claims",
                self.prefix + "journals",
                self.prefix + "published",
                self.prefix + "failures",
                self.prefix + "gone",
            ],
            args=args,
        )

    def tags_of(self, article_ids: list[str]) -> dict[str, list[str]]:
        if not article_ids:
            return {}
        values = self.db.hmget(self.prefix + "articles", article_ids)
        return {
            article_id: tags
            for article_id, value in zip(article_ids, values, strict=True)
            if value and (tags := json.loads(value).get("tags"))
        }

    def latest(self, tag: str | None, limit: int) -> list[Exported]:
        found: list[Exported] = []
        for chunk in self._newest_first(tag, max(limit, 1)):  # records without a line (older ones) are passed over
            for article_id, value in zip(chunk, self.db.hmget(self.prefix + "articles", chunk), strict=True):
                record = json.loads(value) if value else {}
                if "line" in record:
                    found.append(Exported(article_id, record["revision"], LineRef(*record["line"])))
            if len(found) >= limit:
                break
        return found[:limit]

    def _newest_first(self, tag: str | None, size: int) -> Iterator[list[str]]:
        """Exported ids of `tag` (None: the site) newest first (ties: the higher id first), `size` at a time."""
        if tag is None:
            for start in itertools.count(0, size):
                chunk = self.db.zrevrange(self.prefix + "published", start, start + size - 1)
                if not chunk:
                    return
                yield chunk
        members = sorted(self.db.sunion(f"{self.prefix}listed:{tag}", f"{self.prefix}named:{tag}"))
        scores = self.db.zmscore(self.prefix + "published", members) if members else []
        ids: list[str] = [
            str(article_id)
            for _, article_id in sorted(
                ((score, article_id) for article_id, score in zip(members, scores, strict=True) if score is not None),
                reverse=True,
            )
        ]
        for start in range(0, len(ids), size):
            yield ids[start : start + size]

    def journal_mark(self, journal: str) -> JournalMark | None:
        value = self.db.hget(self.prefix + "journals", journal)
        return JournalMark(*json.loads(value)) if value else None

    def pending_listings(self) -> list[ListingPage]:
        pages = [ListingPage(url, *json.loads(value)) for url, value in self.db.hscan_iter(self._listings)]
        return sorted(pages, key=lambda page: (page.walk, page.page))

    def pending_articles(self) -> list[PendingArticle]:
        return [
            PendingArticle(article_id, *json.loads(value))
            for article_id, value in self.db.hscan_iter(self.prefix + "pending:articles")
        ]

    def record_pending(
        self,
        done: ListingPage | None,
        articles: list[PendingArticle],
        pages: list[ListingPage],
        shown: Sequence[str] = (),
        ends_walk: bool = False,
    ) -> None:
        with self.db.pipeline(transaction=True) as batch:  # MULTI/EXEC: all or nothing
            if done is not None:
                batch.hdel(self._listings, done.url)
                if ends_walk:
                    batch.sadd(self.prefix + "complete_walks", done.walk)
                if shown:
                    batch.sadd(f"{self.prefix}listed:{done.walk}", *shown)
            for page in pages:
                batch.hsetnx(self._listings, page.url, json.dumps([page.walk, page.page, page.depth]))
            for article in articles:
                batch.hsetnx(
                    self.prefix + "pending:articles", article.article_id, json.dumps([article.url, article.depth])
                )
            batch.execute()

    def listing_gone(self, url: str, ends_walk: str | None = None) -> None:
        with self.db.pipeline(transaction=True) as batch:
            batch.hdel(self._listings, url)
            if ends_walk is not None:
                batch.sadd(self.prefix + "complete_walks", ends_walk)
            batch.execute()

    def complete_walks(self) -> set[str]:
        return set(self.db.smembers(self.prefix + "complete_walks"))

    def note_walk(self, walk: str, fact: str, value: str) -> None:
        self.db.hset(f"{self.prefix}walk_facts:{fact}", walk, value)

    def walk_facts(self, fact: str) -> dict[str, str]:
        return dict(self.db.hgetall(f"{self.prefix}walk_facts:{fact}"))

    def forget_walks(self) -> None:
        self.db.delete(self.prefix + "complete_walks")

    def is_pending(self, article_id: str) -> bool:
        return bool(self.db.hexists(self.prefix + "pending:articles", article_id))

    def articles_settled(self, article_ids: list[str]) -> None:
        if article_ids:
            with self.db.pipeline(transaction=True) as batch:
                batch.hdel(self.prefix + "pending:articles", *article_ids)
                batch.hdel(self.prefix + "claims", *article_ids)
                batch.hdel(self.prefix + "failures", *article_ids)
                batch.execute()

    def articles_gone(self, gone: list[GoneArticle]) -> None:
        if gone:
            ids = [g.article_id for g in gone]
            with self.db.pipeline(transaction=True) as batch:
                batch.hdel(self.prefix + "pending:articles", *ids)
                batch.hdel(self.prefix + "claims", *ids)
                batch.hdel(self.prefix + "failures", *ids)
                batch.hset(
                    self.prefix + "gone",
                    mapping={g.article_id: json.dumps([g.url, g.depth, g.reason, g.since]) for g in gone},
                )
                batch.execute()

    def gone(self, article_ids: list[str], since: float) -> set[str]:
        if not article_ids:
            return set()
        values = self.db.hmget(self.prefix + "gone", article_ids)
        return {
            article_id
            for article_id, value in zip(article_ids, values, strict=True)
            if value and json.loads(value)[3] >= since
        }

    def retry_gone(self) -> int:
        with self.db.pipeline(transaction=True) as batch:
            batch.watch(self.prefix + "gone")
            gone = cast("dict[str, str]", batch.hgetall(self.prefix + "gone"))  # watching: answered at once
            batch.multi()
            for article_id, value in gone.items():
                url, depth, _, _ = json.loads(value)
                batch.hsetnx(self.prefix + "pending:articles", article_id, json.dumps([url, depth]))
            batch.delete(self.prefix + "gone")
            batch.execute()
        return len(gone)

    def article_failed(self, article_id: str) -> int:
        return int(self.db.hincrby(self.prefix + "failures", article_id, 1))

    def claim(self, article_id: str) -> bool:
        """True when this worker may queue the article: no claim younger than the TTL stands, its own included."""
        return bool(
            self._claim(keys=[self.prefix + "claims"], args=[article_id, self.worker, time.time(), self.claim_ttl])
        )

    def take_over_claim(self, article_id: str) -> None:
        """This worker downloads the article another worker claimed and queued: the claim follows the
        request, so if this worker dies with it, its restart releases the claim (not the TTL)."""
        self._take_over(keys=[self.prefix + "claims"], args=[article_id, self.worker, time.time()])

    def release_own_claims(self) -> int:
        """Claims this worker held when it last stopped: their articles were never exported."""
        mine = [
            article_id
            for article_id, value in self.db.hscan_iter(self.prefix + "claims")
            if value.rsplit("|", 1)[0] == self.worker
        ]
        if mine:
            self.db.hdel(self.prefix + "claims", *mine)
        return len(mine)

    def close(self) -> None:
        self.db.close()
