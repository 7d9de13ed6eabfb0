"""What every crawl-state backend holds and answers: the one interface the crawl talks to.

A backend is built for one site (and, on Redis, one worker) and answers for it alone. Claims are
part of the interface: the embedded backend grants every claim (one run is alone on its state), the
Redis one arbitrates between workers — so no caller asks which backend it has.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from scrapy.exceptions import IgnoreRequest

from newscrawl.state.journal import JournalMark, LineRef


class ExportedElsewhere(IgnoreRequest):
    """Distributed: another worker exported the article meanwhile; nothing is wrong with it."""


class StateUnusable(RuntimeError):
    """The crawl state cannot be opened (held by another run, a newer schema, not a state): the run
    must not start. The message says why and what to do."""


class StateError(Exception):
    """The state could not answer or record: what every backend raises in place of its driver's errors
    (a lost connection, a locked, full or damaged database). `transient`: a lock or a full disk, which
    a later write may not meet; otherwise the state is gone for this run."""

    def __init__(self, message: str, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


C = TypeVar("C", bound=type)


def raising_state_errors(
    driver_errors: type[BaseException] | tuple[type[BaseException], ...], transient: Callable[[BaseException], bool]
) -> Callable[[C], C]:
    """A class decorator for a backend: its opening and every method of `CrawlState` raise StateError,
    never `driver_errors`, so that nothing above `newscrawl.state` names a driver."""

    def translated(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except driver_errors as error:
                raise StateError(f"{type(error).__name__}: {error}", transient(error)) from error

        return call

    def decorate(backend: C) -> C:
        for name in ("__init__", *_INTERFACE):
            setattr(backend, name, translated(getattr(backend, name)))
        return backend

    return decorate


@dataclass(frozen=True, slots=True)
class PendingArticle:
    """An article found on a listing page and not yet exported, gone or dropped (or exported with image
    files a later run tries again)."""

    article_id: str
    url: str
    depth: int


@dataclass(frozen=True, slots=True)
class GoneArticle:
    """An article settled as gone (404/410, refused, unusable, redirected away, too large, or failing run
    after run): not fetched again until NEWSCRAWL_RETRY_GONE_AFTER has passed or `-a retry_gone=1`."""

    article_id: str
    url: str
    depth: int
    reason: str
    since: float  # Unix time


@dataclass(frozen=True, slots=True)
class Export:
    """One article's record in the state, written when its journal line is on disk."""

    article_id: str
    content_hash: str
    revision: int
    fetched_at: float  # Unix time
    published: float  # Unix time: feeds list a tag's articles newest first
    tags: tuple[str, ...]  # the listing URLs of the tags the article names (follow_tags, feeds)
    line: LineRef  # where its journal line is
    # Work a later run still has with it (image files to try again): it stays pending (None: settled).
    pending: PendingArticle | None = None


@dataclass(frozen=True, slots=True)
class Exported:
    """An exported article's latest revision and where its journal line is (what a feed entry is read from)."""

    article_id: str
    revision: int
    line: LineRef


@dataclass(frozen=True, slots=True)
class Known:
    content_hash: str
    revision: int
    fetched_at: float  # Unix time of the fetch that produced the exported revision
    line: LineRef | None = None  # where its journal line is (None: recorded before the state kept it)


@dataclass(frozen=True, slots=True)
class ListingPage:
    """A listing page of a tag's walk. `walk` is the walk's first page; `depth` its follow_tags hop."""

    url: str
    walk: str
    page: int
    depth: int


class CrawlState(Protocol):
    """What the crawl asks of its memory; SqliteState and RedisState are the backends. Each raises
    StateUnusable when it cannot be opened for this run, and StateError when it cannot answer."""

    # True when this run is the only writer of the site's posts and journal (no leftover temporary
    # file can be another live writer's).
    exclusive: bool
    # True when opening the state upgraded it from an older schema: its journals are read again from
    # their start (to record what the older schema did not keep), which is not a crash's repair.
    rereads_journals: bool

    def known(self, article_ids: list[str]) -> dict[str, Known]: ...
    # `mark`: where the journal is recorded up to after these exports (None: where it was).
    def record_exports(self, exports: list[Export], journal: str, mark: JournalMark | None) -> None: ...
    def journal_mark(self, journal: str) -> JournalMark | None: ...
    def pending_listings(self) -> list[ListingPage]: ...
    def pending_articles(self) -> list[PendingArticle]: ...
    def record_pending(
        self,
        done: ListingPage | None,
        articles: list[PendingArticle],
        pages: list[ListingPage],
        shown: Sequence[str] = (),
        ends_walk: bool = False,
    ) -> None: ...
    # A walk is complete once a walk of it reached its end (newscrawl.spiders.walk): only then may a run
    # stop it at a page of known articles. A state behind its journal forgets them all.
    def complete_walks(self) -> set[str]: ...
    # What a run learned of a walk, kept for later runs: its display name ("name", its feed's title), the
    # shape of its article URLs ("article_urls", a site without a module).
    def note_walk(self, walk: str, fact: str, value: str) -> None: ...
    def walk_facts(self, fact: str) -> dict[str, str]: ...  # walk → value
    def forget_walks(self) -> None: ...
    # A tag is known by its walk (the listing URL of its first page). Its articles are those a page of
    # its walk showed (`shown`) and those naming it; `latest` gives its exported ones, newest first
    # (tag None: the whole site's).
    def tags_of(self, article_ids: list[str]) -> dict[str, list[str]]: ...
    def latest(self, tag: str | None, limit: int) -> list[Exported]: ...
    def listing_gone(self, url: str, ends_walk: str | None = None) -> None: ...
    def articles_settled(self, article_ids: list[str]) -> None: ...
    # Articles that will not come by fetching again soon: settled with a reason, retried later.
    def articles_gone(self, gone: list[GoneArticle]) -> None: ...
    def gone(self, article_ids: list[str], since: float) -> set[str]: ...  # gone at `since` or later
    def retry_gone(self) -> int: ...  # every gone article pending again; how many
    def article_failed(self, article_id: str) -> int: ...  # one more run it failed in; runs in a row
    def is_pending(self, article_id: str) -> bool: ...
    def claim(self, article_id: str) -> bool: ...
    def take_over_claim(self, article_id: str) -> None: ...
    def release_own_claims(self) -> int: ...
    def close(self) -> None: ...


_INTERFACE = tuple(name for name in vars(CrawlState) if not name.startswith("_") and callable(vars(CrawlState)[name]))
