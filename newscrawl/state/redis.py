"""The crawl state on Redis, for several workers on several machines (NEWSCRAWL_REDIS_URL).

The same interface as the SQLite backend, with real claims: before a worker queues an article it
claims the article's id, so one worker fetches and exports it. Whichever worker pops the request
from the shared queue takes the claim over as it starts the download (and drops the request if the
article was exported meanwhile). A claim younger than NEWSCRAWL_REDIS_CLAIM_TTL is never granted
again, not even to its holder; it ends when the article is recorded as exported or settled; a
restarted worker releases its own; an older one may be taken over by anyone.

Keys, all under `newscrawl:<site>:`: `articles` (id → hash/revision/fetch time), `claims` (id →
worker|time), `journals` (journal → mark), `pending:articles` (id → url/depth, shared by all
workers), `pending:listings:<worker>` (URL → walk/page/depth: each worker walks the listings itself).
"""

from __future__ import annotations

import json
import time

import redis

from newscrawl.state.base import Export, Known, ListingPage, PendingArticle, StateUnusable
from newscrawl.state.journal import JournalMark

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

# Record exports (ARGV[3..]: id, record, revision triples) whose revision is not below the stored one,
# settle their pending entries and claims, and set the journal's mark (ARGV[1] → ARGV[2]). Atomic.
_RECORD = """
for i = 3, #ARGV, 3 do
    local current = redis.call('HGET', KEYS[1], ARGV[i])
    if not current or cjson.decode(current)['revision'] <= tonumber(ARGV[i + 2]) then
        redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    end
    redis.call('HDEL', KEYS[2], ARGV[i])
    redis.call('HDEL', KEYS[3], ARGV[i])
end
redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
return 1
"""


class RedisState:
    exclusive = False  # other workers may share the posts folder

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

    def known(self, article_ids: list[str]) -> dict[str, Known]:
        if not article_ids:
            return {}
        values = self.db.hmget(self.prefix + "articles", article_ids)
        found = {}
        for article_id, value in zip(article_ids, values, strict=True):
            if value:
                record = json.loads(value)
                found[article_id] = Known(record["hash"], record["revision"], record["fetched_at"])
        return found

    def record_exports(self, exports: list[Export], journal: str, mark: JournalMark) -> None:
        args: list[str | int] = [journal, json.dumps([mark.offset, mark.device, mark.inode])]
        for e in exports:
            args += [e.article_id, json.dumps({"hash": e.content_hash, "revision": e.revision, "fetched_at": e.fetched_at}),
                     e.revision]
        self._record(keys=[self.prefix + "articles", self.prefix + "pending:articles", self.prefix + "claims",
                           self.prefix + "journals"], args=args)

    def journal_mark(self, journal: str) -> JournalMark | None:
        value = self.db.hget(self.prefix + "journals", journal)
        return JournalMark(*json.loads(value)) if value else None

    def pending_listings(self) -> list[ListingPage]:
        pages = [ListingPage(url, *json.loads(value)) for url, value in self.db.hscan_iter(self._listings)]
        return sorted(pages, key=lambda page: (page.walk, page.page))

    def pending_articles(self) -> list[PendingArticle]:
        return [PendingArticle(article_id, *json.loads(value))
                for article_id, value in self.db.hscan_iter(self.prefix + "pending:articles")]

    def record_pending(self, done: ListingPage | None, articles: list[PendingArticle], pages: list[ListingPage]) -> None:
        with self.db.pipeline(transaction=True) as batch:  # MULTI/EXEC: all or nothing
            if done is not None:
                batch.hdel(self._listings, done.url)
            for page in pages:
                batch.hsetnx(self._listings, page.url, json.dumps([page.walk, page.page, page.depth]))
            for article in articles:
                batch.hsetnx(self.prefix + "pending:articles", article.article_id, json.dumps([article.url, article.depth]))
            batch.execute()

    def listing_gone(self, url: str) -> None:
        self.db.hdel(self._listings, url)

    def articles_settled(self, article_ids: list[str]) -> None:
        if article_ids:
            with self.db.pipeline(transaction=True) as batch:
                batch.hdel(self.prefix + "pending:articles", *article_ids)
                batch.hdel(self.prefix + "claims", *article_ids)
                batch.execute()

    def claim(self, article_id: str) -> bool:
        """True when this worker may queue the article: no claim younger than the TTL stands, its own included."""
        return bool(self._claim(keys=[self.prefix + "claims"], args=[article_id, self.worker, time.time(), self.claim_ttl]))

    def take_over_claim(self, article_id: str) -> None:
        """This worker downloads the article another worker claimed and queued: the claim follows the
        request, so if this worker dies with it, its restart releases the claim (not the TTL)."""
        self._take_over(keys=[self.prefix + "claims"], args=[article_id, self.worker, time.time()])

    def release_own_claims(self) -> int:
        """Claims this worker held when it last stopped: their articles were never exported."""
        mine = [article_id for article_id, value in self.db.hscan_iter(self.prefix + "claims")
                if value.rsplit("|", 1)[0] == self.worker]
        if mine:
            self.db.hdel(self.prefix + "claims", *mine)
        return len(mine)

    def close(self) -> None:
        self.db.close()
