"""Incremental, crash-safe runs: the crawl state as a crawler component (a Scrapy extension).

Built when the crawler starts (before the first request) and reached by the spider, the pipelines and
the run summary through `crawler.get_extension(Incremental)`; None in a one-off run (no journal or no
state configured). It holds the state's lock, the journal, and the run's questions to them.

The invariant, in the order things happen to one article:
1. a listing page that shows it records it as pending work, in the transaction that marks the page
   done and the pages after it pending (the walk's frontier);
2. its front-matter post is written to a temporary file (fsynced), not yet in place;
3. its JSONL line is appended to the journal and fsynced;
4. its post is renamed into place (`add_publisher`) and the folder fsynced;
5. the state records it exported (content hash, revision, journal mark) and no longer pending, in one
   transaction.
Steps 3 to 5 are done for a batch of articles at once (group commit). A kill anywhere leaves work
the next run finds: pending pages and articles are requested again; a post never renamed is a stale
temporary, removed; a torn last line is cut; complete lines the state has not recorded (a kill or a
failed commit between 3 and 5) have their posts written again from the lines and are recorded when
the next run's spider opens, so no line is ever written twice and no post is visible that the journal
does not hold (an article that is gone by the next run leaves nothing behind). What is transient (a
5xx, a reset, a full disk) stays pending; what is permanent (404/410, an unusable page) is settled and
counted.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DontCloseSpider, NotConfigured
from scrapy.utils.defer import deferred_from_coro

from newscrawl.dev.crash_points import crash_point
from newscrawl.drops import ExportFailed, Unchanged
from newscrawl.exit_codes import CannotStart, attention
from newscrawl.items import Article
from newscrawl.normalize.images import awaiting_retry
from newscrawl.shares import Share
from newscrawl.sites import Site, site_of, spider_of
from newscrawl.state.base import (
    CrawlState,
    Export,
    GoneArticle,
    Known,
    ListingPage,
    PendingArticle,
    StateError,
    StateUnusable,
)
from newscrawl.state.files import remove_stale_temporaries
from newscrawl.state.journal import Journal, JournalError, JournalMark, LineRef, Recovery, Sample, read_line
from newscrawl.state.opening import configured, journal_family, open_memory
from newscrawl.state.revisions import changed_fields, content_hash

logger = logging.getLogger(__name__)
T = TypeVar("T")
STATE_ERRORS = (OSError, StateError)  # what the backends raise when they cannot answer
ARTICLE_ID = "newscrawl_article_id"  # request meta: the site's id of the article a request is for
# Sent when the spider has closed, before the state is: `incremental` is the last moment to read it.
state_closing = object()
# Sent when the journals' unrecorded lines are recorded, before anything is fetched (newscrawl.run.processes).
journals_read = object()
RECOVERY_BATCH = 250  # recovered journal lines published and recorded at a time


@dataclass(frozen=True, slots=True)
class _Reading:
    """A journal whose lines past the state's record this run records when the spider opens."""

    journal: Journal
    key: str  # the journal's name in the state
    recovery: Recovery


def await_first_process(descriptor: int) -> None:
    """Processes 2…K of several open the state once process 1 has read every journal (their launcher
    writes `go` on the pipe it gave them); CannotStart when it ended before."""
    with os.fdopen(descriptor, "rb") as answers:
        if answers.readline() != b"go\n":
            raise CannotStart("p1 ended before it had read the journals: this process did not start")


def named_tags(article: Article, site: Site) -> tuple[str, ...]:
    """The walks (first listing pages) of the tags an article names that the site can walk, in its order."""
    return tuple(dict.fromkeys(walk for tag in article.tags if (walk := site.walk_of(tag["url"] or "")) is not None))


def _export(article: Article, line: LineRef, site: Site, retry_images: bool) -> Export:
    """The state's record of an exported article. One with image files a later run should try again
    (`retry_images`, newscrawl.archive.images) stays pending, so that run fetches it."""
    return Export(
        article.article_id,
        content_hash(article),
        article.revision,
        datetime.fromisoformat(article.fetched_at).timestamp(),
        datetime.fromisoformat(article.published).timestamp(),
        named_tags(article, site),
        line,
        PendingArticle(article.article_id, article.url, 0) if retry_images else None,
    )


class Incremental:
    """The crawl's memory between runs, for the crawler's spider (one site)."""

    def __init__(self, crawler: Crawler, state: CrawlState, journal: Journal, journal_key: str) -> None:
        self.crawler = crawler
        self.state = state
        self.journal = journal
        self.journal_key = journal_key
        settings = crawler.settings
        self.refresh = spider_of(crawler).refresh
        self.refresh_after = settings.getfloat("NEWSCRAWL_REFRESH_AFTER")
        self.give_up_after = settings.getint("NEWSCRAWL_GIVE_UP_AFTER_RUNS")
        self.retry_gone_after = settings.getfloat("NEWSCRAWL_RETRY_GONE_AFTER")
        # How long image files that failed for a reason that may pass are tried again (0: images not mirrored).
        self.image_retry_window = (
            settings.getfloat("NEWSCRAWL_IMAGES_RETRY_DAYS") * 86400 if settings.get("NEWSCRAWL_IMAGES_STORE") else 0.0
        )
        # What the listing pages' lookups found for the articles this run fetches (alone on the state only:
        # with other workers, what a listing saw may be stale by the time the article arrives).
        self._listed: dict[str, Known | None] = {}
        self._commit_barriers: list[Callable[[], None]] = []
        self._publishers: list[Callable[[list[Article]], None]] = []
        self._recovery_steps: list[Callable[[list[Article]], None]] = []
        # What the journals hold past the state, recorded when the spider opens: this run's, and the other
        # journals of the same crawl's processes when this run reads them (`_other_journals`).
        self._readings: list[_Reading] = []
        self.share = Share.of(settings)
        self._last_activity = time.monotonic()
        self._stopping = False  # the state stopped answering: the run is closing
        self.rebuilt = False  # the state was new, and learnt what was exported from the journals
        self.released_claims = state.release_own_claims()
        self.recovered = self._recover()
        posts = settings.get("NEWSCRAWL_POSTS_DIR")
        # The other processes of a crawl by several start once the first has removed what a killed run
        # left, and the first is writing posts by then: they remove none.
        self.stale_temporaries = (
            remove_stale_temporaries(
                Path(posts) / site_of(crawler).name,
                0 if state.exclusive else settings.getfloat("NEWSCRAWL_REDIS_CLAIM_TTL"),
            )
            if posts and (self.share is None or self.share.leader)
            else 0
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Incremental:
        """Open the state and the journal (refusing to start when another run holds them)."""
        settings = crawler.settings
        if not configured(settings):
            raise NotConfigured("a one-off run: no journal or no crawl state")
        state: CrawlState | None = None
        if (wait := settings.get("NEWSCRAWL_WAIT_FD")) not in (None, ""):
            await_first_process(int(wait))
        try:
            state, journal, key = open_memory(settings, crawler.spidercls.name, site_of(crawler).name)
            component = cls(crawler, state, journal, key)
        except (StateUnusable, JournalError) as error:
            if state is not None:
                state.close()
            raise CannotStart(str(error)) from None
        except STATE_ERRORS as error:  # a full disk or a lost connection at start
            if state is not None:
                state.close()
            raise CannotStart(
                f"cannot open the crawl state or the journal ({error}); nothing was fetched, the next run tries again"
            ) from None
        crawler.signals.connect(component.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(component.item_dropped, signal=signals.item_dropped)
        if not state.exclusive:
            crawler.signals.connect(component.active, signal=signals.spider_opened)
            crawler.signals.connect(component.active, signal=signals.response_received)
            crawler.signals.connect(component.wait_for_other_workers, signal=signals.spider_idle)
        return component

    def _recover(self) -> int:
        """Find the journal lines the state has not recorded (a crash, a failed commit, a lost `-wal` file,
        a state rebuilt from the journals); say what was repaired. They are recorded when the spider opens
        (`finish_recovery`), once what publishes them (their posts) is in place. A state that was behind
        its journal may have lost pending work too, so no walk is taken as complete any more: each is
        walked whole once."""
        readings = [(self.journal, self.journal_key)] + [
            (journal, str(journal.path.resolve())) for journal in self._other_journals()
        ]
        count = 0
        for journal, key in readings:
            recorded = self.state.journal_mark(key)
            recovery = journal.recover(
                recorded, site_of(self.crawler).name, self._check_line, functools.partial(self._recorded_as, journal)
            )
            for note in recovery.notes:
                logger.warning("Journal: %s", note)
            self._readings.append(_Reading(journal, key, recovery))
            count += recovery.count
            self.rebuilt = self.rebuilt or (recorded is None and bool(recovery.count))
        self.crawler.signals.connect(self.finish_recovery, signal=signals.spider_opened)
        if self.state.rereads_journals:
            logger.info(
                "The crawl state was upgraded: %d journal line(s) read again to learn their tags and places", count
            )
            self.rebuilt = False
            return 0
        if count:
            self.state.forget_walks()
        return count

    def _other_journals(self) -> list[Journal]:
        """The journals of the other processes that crawl over this state (`mydrivers.jsonl` and
        `mydrivers.p<N>.jsonl`, newscrawl.shares), held while this run reads them. A run alone on the state,
        and the first process of several, read them before anything is fetched: whichever process exports
        an article, none exports one that another's journal holds unrecorded. The other processes start
        once the first has read them, and read their own only."""
        if not self.state.exclusive or (self.share is not None and not self.share.leader):
            return []
        journals: list[Journal] = []
        try:
            for path in journal_family(self.crawler.settings, self.crawler.spidercls.name):
                if path.resolve() != self.journal.path.resolve():
                    journals.append(Journal(path))
        except BaseException:
            for journal in journals:
                journal.close()
            raise
        return journals

    def _check_line(self, line: dict[str, Any]) -> Article:
        try:
            return Article(**line)
        except TypeError as error:  # fields missing or unknown: another program's line, or a newer newscrawl's
            raise JournalError(
                f"{self.journal.path}: a line is not an article of this newscrawl ({error}); move the "
                "journal aside and start a new one"
            ) from None

    def _recorded_as(self, of: Journal, samples: list[Sample]) -> bool:
        """Whether the state holds these journal lines at these places in the journal `of` (the last of
        them exactly, the others or a later revision of their articles): then the file is a copy of the
        one it recorded."""
        if not samples:
            return False
        known = self.state.known([sample.article_id for sample in samples])
        journal = str(of.path.resolve())

        def holds(sample: Sample, exactly: bool) -> bool:
            record = known.get(sample.article_id)
            if record is None or record.line is None:
                return False
            at_place = (record.line.path, record.revision, record.line.offset, record.line.length) == (
                journal,
                sample.revision,
                sample.offset,
                sample.length,
            )
            return at_place or (not exactly and record.revision > sample.revision)

        return holds(samples[-1], exactly=True) and all(holds(sample, exactly=False) for sample in samples)

    def finish_recovery(self) -> None:
        """Before anything is fetched: the recovery steps redo what publishes the recovered lines (their
        posts, written from the lines), then the state records them, RECOVERY_BATCH lines at a time; each
        journal's mark moves with its last batch. When either fails the run stops (exit 2), and the next
        start recovers the same lines (recording one again is harmless). Then the other processes' journals
        are let go, and `journals_read` is sent (the other processes of a crawl by several may start)."""
        readings, self._readings = self._readings, []
        try:
            for reading in readings:
                self._record_reading(reading)
        finally:
            for reading in readings:
                if reading.journal is not self.journal:
                    reading.journal.close()
        self.crawler.signals.send_catch_log(journals_read)

    def _record_reading(self, reading: _Reading) -> None:
        batch: list[tuple[Article, LineRef]] = []
        try:
            for line, ref in reading.journal.lines(reading.recovery, site_of(self.crawler).name):
                batch.append((self._check_line(line), ref))
                if len(batch) == RECOVERY_BATCH:
                    self._record_recovered(batch, reading.key, None)
                    batch = []
        except (OSError, JournalError) as error:  # checked at start, unreadable now: a failing disk, another writer
            self.journal.refuse_appends()
            attention(self.crawler, "export_failed")
            logger.error("Could not read the journal lines to recover again: %s; the next run tries again", error)
            raise CloseSpider("export_failed") from None
        self._record_recovered(batch, reading.key, reading.recovery.mark)

    def _record_recovered(self, unrecorded: list[tuple[Article, LineRef]], key: str, mark: JournalMark | None) -> None:
        """Publish and record one batch of recovered lines of the journal recorded under `key` (`mark`: its
        mark, with the last batch). What publishes an article is redone from its latest revision the
        journals hold: a line older than the state's record (another journal's revision was recorded
        first) publishes nothing."""
        # An upgrade reads again lines whose posts were written: nothing to republish.
        if unrecorded and not self.state.rereads_journals:
            latest = list({article.article_id: article for article, _ in unrecorded}.values())
            try:
                recorded = self.state.known([article.article_id for article in latest])
            except STATE_ERRORS as error:
                self.unavailable("reading the recovered articles' revisions", error)
                raise CloseSpider("state_unavailable") from None
            latest = [
                article
                for article in latest
                if (known := recorded.get(article.article_id)) is None or known.revision <= article.revision
            ]
            try:
                for step in self._recovery_steps:
                    step(latest)
            except OSError as error:
                attention(self.crawler, "export_failed")
                logger.error(
                    "Could not restore what %d recovered journal line(s) publish: %s; the next run tries again",
                    len(unrecorded),
                    error,
                )
                raise CloseSpider("export_failed") from None
        site = site_of(self.crawler)
        try:
            self.state.record_exports(
                [_export(article, ref, site, self.awaits_images(article)) for article, ref in unrecorded],
                key,
                mark,
            )
        except STATE_ERRORS as error:
            self.unavailable("recording the recovered journal lines", error)
            raise CloseSpider("state_unavailable") from None

    def unavailable(self, what: str, error: BaseException) -> None:
        """The state stopped answering mid-run (Redis killed, a damaged page): a person must look, and the
        run stops at once — what it found stays where the state and the journal have it."""
        if self._stopping:
            return
        self._stopping = True
        attention(self.crawler, "state_unavailable")
        logger.error(
            "The crawl state stopped answering (%s: %s): the run stops; the next run goes on",
            what,
            " ".join(str(error).split())[:200],
        )
        if self.crawler.engine is not None:
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="state_unavailable"))

    # Questions the spider asks -------------------------------------------------------------------

    def fresh(self, article_ids: list[str]) -> set[str]:
        """The ids among `article_ids` that need no fetch: exported and not due for a refresh, or gone
        within NEWSCRAWL_RETRY_GONE_AFTER. When the state cannot say, all of them (nothing is fetched: the
        run is stopping)."""
        return self._read("which articles are known", set(article_ids), self._fresh, article_ids)

    def _fresh(self, article_ids: list[str]) -> set[str]:
        known = self.state.known(article_ids)
        now = time.time()
        fresh = (
            set()
            if self.refresh
            else {
                article_id
                for article_id, record in known.items()
                if not self.refresh_after or now - record.fetched_at < self.refresh_after
            }
        )
        unknown = [article_id for article_id in article_ids if article_id not in known]
        fresh |= self.state.gone(unknown, now - self.retry_gone_after if self.retry_gone_after else 0.0)
        if self.state.exclusive:  # alone, nobody else exports: what the listing saw still holds at revise()
            self._listed.update(
                {article_id: known.get(article_id) for article_id in article_ids if article_id not in fresh}
            )
        return fresh

    def claim(self, article_id: str) -> bool:
        """May this run queue the article? Alone, always; a process of several, when the article is in its
        share (newscrawl.shares); a distributed worker, when no other worker has it."""
        if self.share is not None and not self.share.owns(article_id):
            return False
        return self._read("claiming an article", False, self.state.claim, article_id)

    def downloading(self, article_id: str) -> bool:
        """This worker starts downloading the article: it takes the claim over. False when the article was
        exported meanwhile by another worker (and no refresh is asked for): the download is not needed."""
        if self.state.exclusive:
            return True
        return self._read("taking an article's claim over", False, self._downloading, article_id)

    def _downloading(self, article_id: str) -> bool:
        if (
            not self.refresh
            and not self.refresh_after
            and self.state.known([article_id])
            and not self.state.is_pending(article_id)
        ):  # still pending when exported: its images are retried
            self.state.articles_settled([article_id])
            return False
        self.state.take_over_claim(article_id)
        return True

    def pending(self) -> tuple[list[ListingPage], list[PendingArticle]]:
        """Work earlier runs found and did not finish: listing pages, then articles."""
        return (
            self._read("the pending listing pages", [], self.state.pending_listings),
            self._read("the pending articles", [], self.state.pending_articles),
        )

    def _read(self, what: str, fallback: T, read: Callable[..., T], *args: Any) -> T:
        """A state read on the spider's behalf; when the state cannot answer, `fallback`, and the run stops
        (`unavailable`)."""
        try:
            return read(*args)
        except STATE_ERRORS as error:
            self.unavailable(what, error)
            return fallback

    def _write(self, what: str, write: Any, *args: Any) -> bool:
        """A state write on the spider's behalf; a failure is counted and logged, never raised: what it
        would have recorded is found again by the next run (the page stays pending)."""
        try:
            write(*args)
            return True
        except STATE_ERRORS as error:
            attention(self.crawler, "state_write_failed")
            logger.error("Could not record %s in the crawl state: %s", what, error)
            if not (isinstance(error, OSError) or error.transient):  # not a lock or a full disk: it is gone
                self.unavailable(f"recording {what}", error)
            return False

    def record_pending(
        self,
        done: ListingPage | None,
        articles: list[PendingArticle],
        pages: list[ListingPage],
        shown: Sequence[str] = (),
        ends_walk: bool = False,
    ) -> bool:
        """In one write: the listing page `done` is done (None: no page), the articles it `shown` are its
        tag's, and (`ends_walk`) its walk reached its end; `articles` and `pages` are pending."""
        what = f"listing page {done.url}" if done is not None else "this run's requested articles"
        return self._write(what, self.state.record_pending, done, articles, pages, shown, ends_walk)

    def walk_facts(self, fact: str) -> dict[str, str]:
        """What earlier runs learned of each walk (CrawlState.note_walk); none when the state cannot say."""
        return self._read(f"the walks' {fact}", {}, self.state.walk_facts, fact)

    def complete_walks(self) -> set[str]:
        """The walks once followed to their end (newscrawl.spiders.walk); none when the state cannot say."""
        return self._read("which walks are complete", set(), self.state.complete_walks)

    def tags_of(self, article_ids: list[str]) -> list[str]:
        """The walks of the tags these exported articles name (remembered: follow_tags without fetching them)."""
        named: dict[str, list[str]] = self._read("the tags of known articles", {}, self.state.tags_of, article_ids)
        return list(dict.fromkeys(walk for article_id in article_ids for walk in named.get(article_id, ())))

    def note_walk(self, walk: str, fact: str, value: str) -> bool:
        """Remember what a run learned of a walk (CrawlState.note_walk)."""
        return self._write(f"the {fact} of {walk}", self.state.note_walk, walk, fact, value)

    def listing_gone(self, page: ListingPage) -> bool:
        """A listing page answered 404/410: settled; past the first page, its walk ends there."""
        return self._write(
            f"listing page {page.url} as gone", self.state.listing_gone, page.url, page.walk if page.page > 1 else None
        )

    def settled(self, article_ids: list[str]) -> bool:
        return self._write("articles as settled", self.state.articles_settled, article_ids)

    def gone(self, article_id: str, url: str, depth: int, reason: str) -> bool:
        """Settle an article that fetching again soon will not bring (404, refused, unusable, redirected
        away, too large, failing run after run), counted by reason; tried again after NEWSCRAWL_RETRY_GONE_AFTER."""
        self.crawler.stats.inc_value(f"newscrawl/gone/{reason}")
        return self._write(
            f"article {url} as gone",
            self.state.articles_gone,
            [GoneArticle(article_id, url, depth, reason, time.time())],
        )

    def failed(self, article_id: str, url: str, depth: int, reason: str) -> bool:
        """Count a run in which the article failed for a reason that may pass; after NEWSCRAWL_GIVE_UP_AFTER_RUNS
        runs in a row it is given up (gone, `failing_<reason>`). True when it was given up."""
        try:
            runs = self.state.article_failed(article_id)
        except STATE_ERRORS as error:  # it stays pending, counted next run
            logger.error("Could not count a failure of %s in the crawl state: %s", url, error)
            return False
        if not self.give_up_after or runs < self.give_up_after:
            return False
        self.crawler.stats.inc_value("newscrawl/article/given_up")
        self.crawler.stats.set_value(
            "newscrawl/article/given_up_urls",
            [*self.crawler.stats.get_value("newscrawl/article/given_up_urls", []), url],
        )
        logger.warning(
            "Gave up on %s: it failed (%s) in %d runs in a row; `-a retry_gone=1` tries it again", url, reason, runs
        )
        return self.gone(article_id, url, depth, f"failing_{reason}")

    def retry_gone(self) -> int:
        """Every gone article pending again (`-a retry_gone=1`); how many."""
        moved = self._read("the articles settled as gone", 0, self.state.retry_gone)
        self.crawler.stats.set_value("newscrawl/gone/retried", moved)
        return moved

    # What the pipelines do -----------------------------------------------------------------------

    def revise(self, article: Article) -> Article | None:
        """The article with its revision number, or None when it is a known one whose content is unchanged.
        ExportFailed (it stays pending) when the state cannot say."""
        if article.article_id in self._listed:
            known = self._listed.pop(article.article_id)
        else:
            try:
                known = self.state.known([article.article_id]).get(article.article_id)
            except STATE_ERRORS as error:
                self.unavailable("an article's revision", error)
                raise ExportFailed(
                    f"{article.url}: the crawl state cannot say its revision; retried next run"
                ) from None
        if known is None:
            return article
        if known.content_hash == content_hash(article):
            return None
        self._count_changes(known, article)
        return replace(article, revision=known.revision + 1)

    @staticmethod
    def _line_of(known: Known, article_id: str) -> dict[str, Any] | None:
        """The journal line of the exported revision `known` describes (None: not kept, or not readable)."""
        line = read_line(known.line) if known.line is not None else None
        if line is None or line.get("article_id") != article_id or line.get("revision") != known.revision:
            return None
        return line

    def exported_line(self, article_id: str) -> dict[str, Any] | None:
        """The journal line of the article's exported revision (None: a new article, or its line is not readable)."""
        known = self.state.known([article_id]).get(article_id)
        return self._line_of(known, article_id) if known is not None else None

    def _count_changes(self, known: Known, article: Article) -> None:
        """Count an update's changed fields under `newscrawl/updated_fields/<field>` (from its exported line)."""
        line = self._line_of(known, article.article_id)
        if line is None:
            self.crawler.stats.inc_value("newscrawl/updated_fields/unknown")
            return
        for name in changed_fields(line, article):
            self.crawler.stats.inc_value(f"newscrawl/updated_fields/{name}")

    def awaits_images(self, article: Article) -> bool:
        """Whether a later run should fetch the article again for image files that may still arrive."""
        return bool(self.image_retry_window) and awaiting_retry(article.images, time.time(), self.image_retry_window)

    def add_commit_barrier(self, barrier: Callable[[], None]) -> None:
        """`barrier()` is called before each batch of journal lines is written, on the writer's thread:
        what a batch's articles depend on (their WARC records) is durable first, or it raises and the
        batch fails (its articles stay pending)."""
        self._commit_barriers.append(barrier)

    def add_publisher(self, publish: Callable[[list[Article]], None], restore: Callable[[list[Article]], None]) -> None:
        """`publish(articles)` is called in each commit once the batch's journal lines are durable and
        before the state records them, on the writer's thread: what makes the articles visible (their
        posts renamed into place), so nothing is visible that the journal does not hold. A failure fails
        the batch; its lines are then recovered by the next start, which calls `restore(articles)` with
        the latest revision of each recovered article before recording them."""
        self._publishers.append(publish)
        self._recovery_steps.append(restore)

    def commit(self, articles: list[Article]) -> None:
        """Journal lines first (durable), then what publishes them, then the state: the order the module
        docstring relies on. A failure after the lines leaves them for the next start to record, and
        stops the journal."""
        if not articles:
            return
        for barrier in self._commit_barriers:
            barrier()
        mark, lines = self.journal.append([article.to_dict() for article in articles])
        site = site_of(self.crawler)
        try:
            for publish in self._publishers:
                publish(articles)
            crash_point("before-state-record", articles=len(articles))
            self.state.record_exports(
                [
                    _export(article, line, site, self.awaits_images(article))
                    for article, line in zip(articles, lines, strict=True)
                ],
                self.journal_key,
                mark,
            )
        except BaseException:
            self.journal.refuse_appends()
            raise
        crash_point("after-state-record", articles=len(articles))

    def item_dropped(self, item: Any, exception: BaseException) -> None:
        """A dropped article is settled (unchanged, or invalid: fetching it again would not help), unless
        its export failed, or it is unchanged with image files still to try again: then it stays pending."""
        if not isinstance(item, Article) or isinstance(exception, ExportFailed):
            return
        if isinstance(exception, Unchanged) and exception.still_pending:  # (`item` is as the spider made it)
            return
        self.settled([item.article_id])

    def active(self) -> None:
        """Distributed: a response arrived (or the run started), so the queue may still fill."""
        self._last_activity = time.monotonic()

    def wait_for_other_workers(self) -> None:
        """Distributed: an empty queue may fill again from another worker's listing pages; a worker
        exits only after NEWSCRAWL_REDIS_IDLE_TIMEOUT seconds without a response."""
        if time.monotonic() - self._last_activity < self.crawler.settings.getfloat("NEWSCRAWL_REDIS_IDLE_TIMEOUT"):
            raise DontCloseSpider

    def spider_closed(self) -> None:
        """Count the work left for the next run, let what is rebuilt from the state (the feeds) read it
        (`state_closing`), then let go of the journal, the state and its lock."""
        self.crawler.signals.send_catch_log(state_closing, incremental=self)
        stats = self.crawler.stats
        try:
            listings, articles = self.pending()
            stats.set_value("newscrawl/pending/listing_pages", len(listings))
            stats.set_value("newscrawl/pending/articles", len(articles))
        except STATE_ERRORS as error:
            logger.error("Could not count the pending work: %s", error)
        self.journal.close()
        self.state.close()
