"""The crawl state on Redis, for several workers on several machines (NEWSCRAWL_REDIS_URL).

Same `CrawlState` protocol as the SQLite backend, plus claims: before a worker fetches an article it
claims the article's id (HSETNX), so an article is fetched and exported by one worker only. The
request goes to the shared queue, and whichever worker pops it takes the claim over as it starts the
download. A claim ends when the article is recorded as exported; a worker that was killed releases
its own claims when it starts again, and any claim older than NEWSCRAWL_REDIS_CLAIM_TTL seconds may
be taken over. Keys, all under `newscrawl:<site>:`: `articles` (hash id → hash/revision/fetch time),
`claims` (hash id → worker|time), `journals` (hash journal → committed offset), `walks:<worker>`
(hash listing URL → clean).
"""

from __future__ import annotations

import json
import time

import redis

from newscrawl.state import Export, Known

# Claim `id` for `worker` unless another worker holds a claim younger than the TTL.
_CLAIM = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
    local holder, since = string.match(current, '^(.*)|([0-9.]+)$')
    if holder ~= ARGV[2] and tonumber(since) > tonumber(ARGV[3]) - tonumber(ARGV[4]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. '|' .. ARGV[3])
return 1
"""


# The worker about to download `id` becomes its claim's holder, if the claim still stands.
_TAKE_OVER = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. '|' .. ARGV[3])
    return 1
end
return 0
"""


class RedisState:
    def __init__(self, url: str, site: str, worker: str, claim_ttl: float) -> None:
        self.db = redis.Redis.from_url(url, decode_responses=True)
        self.db.ping()  # fail at start, with the URL in the error, rather than mid-crawl
        self.prefix = f"newscrawl:{site}:"
        self.worker = worker
        self.claim_ttl = claim_ttl
        self._claim = self.db.register_script(_CLAIM)
        self._take_over = self.db.register_script(_TAKE_OVER)

    def known(self, site: str, article_ids: list[str]) -> dict[str, Known]:
        if not article_ids:
            return {}
        values = self.db.hmget(self.prefix + "articles", article_ids)
        found = {}
        for article_id, value in zip(article_ids, values, strict=True):
            if value:
                record = json.loads(value)
                found[article_id] = Known(record["hash"], record["revision"], record["fetched_at"])
        return found

    def record_exports(self, site: str, exports: list[Export], journal: str, journal_offset: int) -> None:
        records = {e.article_id: json.dumps({"hash": e.content_hash, "revision": e.revision, "fetched_at": e.fetched_at})
                   for e in exports}
        with self.db.pipeline(transaction=True) as batch:  # MULTI/EXEC: all or nothing
            batch.hset(self.prefix + "articles", mapping=records)
            if journal:
                batch.hset(self.prefix + "journals", journal, journal_offset)
            batch.hdel(self.prefix + "claims", *records)
            batch.execute()

    def journal_offset(self, journal: str) -> int:
        return int(self.db.hget(self.prefix + "journals", journal) or 0)

    def walk_is_clean(self, site: str, listing_url: str) -> bool:
        return self.db.hget(f"{self.prefix}walks:{self.worker}", listing_url) == "1"

    def walks_started(self, site: str, listing_urls: list[str]) -> None:
        if listing_urls:
            self.db.hset(f"{self.prefix}walks:{self.worker}", mapping={url: "0" for url in listing_urls})

    def walks_ended_cleanly(self, site: str, listing_urls: list[str]) -> None:
        if listing_urls:
            self.db.hset(f"{self.prefix}walks:{self.worker}", mapping={url: "1" for url in listing_urls})

    def claim(self, article_id: str) -> bool:
        """True when this worker may fetch the article (nobody else is on it)."""
        return bool(self._claim(keys=[self.prefix + "claims"], args=[article_id, self.worker, time.time(), self.claim_ttl]))

    def take_over_claim(self, article_id: str) -> None:
        """This worker downloads the article another worker claimed and queued: the claim follows the
        request, so if this worker dies with it, its restart releases the claim (not a 600 s TTL)."""
        self._take_over(keys=[self.prefix + "claims"], args=[article_id, self.worker, time.time()])

    def release_own_claims(self) -> int:
        """Claims this worker held when it last died: their articles were never exported."""
        mine = [article_id for article_id, value in self.db.hscan_iter(self.prefix + "claims")
                if value.rsplit("|", 1)[0] == self.worker]
        if mine:
            self.db.hdel(self.prefix + "claims", *mine)
        return len(mine)

    def close(self) -> None:
        self.db.close()
