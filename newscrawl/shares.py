"""Several crawl processes on one machine over one crawl state (NEWSCRAWL_PROCESSES=K): which process
crawls which article.

`scrapy crawl … -s NEWSCRAWL_PROCESSES=K` starts K crawl processes (newscrawl.run.processes). Process
i of K walks every listing page and fetches the articles whose id hashes to its share: each article has
exactly one process, whatever the order of the pages, with no coordination per article. A process' share
is the NEWSCRAWL_PROCESS_SHARE setting the launcher gives it (`i/K`); a process started without one
crawls every article.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from scrapy.settings import BaseSettings


class BadShare(ValueError):
    """NEWSCRAWL_PROCESS_SHARE is not `i/K` with 1 ≤ i ≤ K."""


@dataclass(frozen=True, slots=True)
class Share:
    """Process `index` of `count` (from 1)."""

    index: int
    count: int

    @classmethod
    def of(cls, settings: BaseSettings) -> Share | None:
        """The share the settings give this process; None for a process that crawls every article."""
        value = settings.get("NEWSCRAWL_PROCESS_SHARE")
        if not value:
            return None
        index, _, count = str(value).partition("/")
        if not (index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
            raise BadShare(f"NEWSCRAWL_PROCESS_SHARE must be i/K with 1 ≤ i ≤ K, not {value!r}")
        return cls(int(index), int(count))

    @property
    def worker(self) -> str:
        """The process' name in its files' names (`mydrivers.p1.jsonl`)."""
        return f"p{self.index}"

    @property
    def leader(self) -> bool:
        """Process 1 starts first and reads every journal before the others start (newscrawl.state.component)."""
        return self.index == 1

    def owns(self, article_id: str) -> bool:
        """Whether this process crawls the article: a stable hash of its id, the same in every process
        and every run (Python's `hash` of a str is not: it is salted per process)."""
        digest = hashlib.blake2b(article_id.encode("utf-8"), digest_size=8).digest()
        return int.from_bytes(digest, "big") % self.count == self.index - 1
