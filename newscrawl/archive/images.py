"""Image mirroring (NEWSCRAWL_IMAGES_STORE, off when empty): every article image file kept in a folder
of its own, so an archive still shows its pictures when the site's CDN forgets them.

Scrapy's FilesPipeline downloads them: the bytes as served, through the same downloader as pages
(robots.txt, politeness, retries), with the article page as Referer — the sites' CDNs refuse other
referrers (hotlink protection) — or, where the downloader would do nothing to the request but send
it, by the lean fetch beside it (newscrawl.fetch.lean), which hands the downloader the rest. Only
the site's `image_hosts` are asked. A file is kept only when its bytes are a raster image Pillow
recognises (JPEG, PNG, GIF, WebP) whose header declares at most NEWSCRAWL_IMAGES_MAX_PIXELS pixels
and more than 1×1; nothing is decoded. It is named by the SHA-256 of its bytes (`ab/<sha256>.jpg`)
and written atomically, so a picture many articles use is stored once and a killed run leaves no
torn file (newscrawl.archive.image_files). That is done in the image store process
(newscrawl.archive.image_store, NEWSCRAWL_IMAGES_STORE_PROCESS) while it runs, else on this process'
threads.

Each `images[]` entry gains `file` (and `thumbnail_file` where the thumbnail is another URL): stored
with its path and checksum, failed, or refused, with a reason. A file that failed for a reason that
may pass (a timeout, a 5xx) is tried again by later runs (the article stays pending in the crawl state,
newscrawl.state.component) for NEWSCRAWL_IMAGES_RETRY_DAYS; what a later fetch of the article finds stored
before is not downloaded again. A failed or refused image never fails its article. `scrapy reparse`
fetches nothing: it keeps what the articles' lines say, and a file no run stored is `not_fetched`,
left to the next crawl.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    NotConfigured,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.pipelines.files import FilesPipeline, FSFilesStore
from scrapy.pipelines.media import MediaPipeline
from scrapy.utils.asyncio import is_asyncio_available
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import error as twisted_error
from twisted.internet.defer import DeferredSemaphore
from twisted.internet.threads import deferToThread

from newscrawl.archive.image_files import NotStored, file_name, store_new
from newscrawl.exit_codes import CannotStart, attention
from newscrawl.fetch.lean import HandOver, LeanImageFetch
from newscrawl.fetch.politeness import BackedOff
from newscrawl.fetch.scope import ARTICLE_PAGE, OutOfScope
from newscrawl.helper import Helper, HelperGone
from newscrawl.items import Article, Image, StoredFile
from newscrawl.normalize.dates import to_utc_iso
from newscrawl.normalize.images import file_records, may_pass, retry_wanted
from newscrawl.sites import site_of, spider_class_of
from newscrawl.state.component import Incremental
from newscrawl.state.files import fsync_folder, remove_stale_temporaries

logger = logging.getLogger(__name__)

# A temporary file in the store older than this is a killed writer's (one lives for a moment, and several
# crawls, of other sites or on other machines, may share the store).
_STALE_AFTER = 3600.0
_CONNECTION_ERRORS = (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    ResponseDataLossError,
    twisted_error.ConnectError,
    twisted_error.ConnectionDone,
    twisted_error.ConnectionLost,
)


def failure_reason(error: BaseException) -> NotStored:
    """Why a download of an image failed, as a NotStored. Reasons are stable names (they are written in
    the JSONL, and a line changes only when its content does)."""
    if isinstance(error, NotStored):
        return error
    if isinstance(error, BackedOff):  # the host asked for a pause past this run (Retry-After): the next run's
        return NotStored("failed", "held_back", str(error))
    if isinstance(error, OutOfScope):  # the scope rule refused it, or a redirect of it (newscrawl.fetch.scope)
        return NotStored("refused", "host_not_allowed" if error.reason == "host" else "out_of_scope", str(error))
    if isinstance(error, IgnoreRequest):
        message = str(error)
        if "robots.txt" in message:
            return NotStored("refused", "robots")
        if "DOWNLOAD_MAXSIZE" in message or "max size" in message:
            return NotStored("refused", "too_large", message)
        return NotStored("refused", "ignored", message)
    if isinstance(error, DownloadCancelledError):  # the size cap (Content-Length, or the bytes received)
        return NotStored("refused", "too_large", str(error))
    if isinstance(error, DownloadTimeoutError | twisted_error.TimeoutError):
        return NotStored("failed", "timeout")
    if isinstance(error, _CONNECTION_ERRORS):
        return NotStored("failed", "connection", type(error).__name__)
    return NotStored("failed", "download_error", f"{type(error).__name__}: {error}")


def on_hosts(url: str, hosts: frozenset[str]) -> bool:
    """Whether `url` is on one of `hosts` (a site's image hosts)."""
    return (urlsplit(url).hostname or "") in hosts


def stored(path: str, checksum: str) -> StoredFile:
    return {"status": "stored", "path": path, "checksum": checksum, "reason": None, "failed_since": None}


def not_stored(status: str, reason: str, failed_since: str | None = None) -> StoredFile:
    return {"status": status, "path": None, "checksum": None, "reason": reason, "failed_since": failed_since}


class ContentAddressedStore(FSFilesStore):
    """FilesPipeline's folder store, writing each file atomically (newscrawl.state.files) and only once:
    a name is the hash of its bytes, so a file already there is this one.

    Each file's bytes are fsynced before it is renamed into place; the rename is made durable by an
    fsync of its folder, after each file, or (`defer_folder_syncs`) once for all the files a batch of
    journal lines names, by `sync_folders` as the batch's commit barrier: a folder of the store
    receives many files between two batches."""

    def __init__(self, basedir: str) -> None:
        super().__init__(basedir)
        # Files are stored on several threads at once. Two downloads of the same bytes (twins) share a
        # lock: one writes, the other waits until the file is there (it names it too). A lock lives while
        # a thread uses it: [lock, users].
        self._locks: dict[str, list[Any]] = {}
        self._locks_lock = threading.Lock()
        self._unsynced: set[Path] | None = None  # folders with names not durable yet (deferred syncs)
        self._unsynced_lock = threading.Lock()

    def defer_folder_syncs(self) -> None:
        """From now on folders are fsynced by `sync_folders`, not after each file."""
        self._unsynced = set()

    def sync_folders(self) -> None:
        """Make the names stored since the last call durable (an fsync per folder). A folder that could
        not be synced is synced again by the next call; the error is raised (the batch fails)."""
        if self._unsynced is None:
            return
        with self._unsynced_lock:
            folders, self._unsynced = self._unsynced, set()
        synced: set[Path] = set()
        try:
            for folder in folders:
                fsync_folder(folder)
                synced.add(folder)
        except BaseException:
            with self._unsynced_lock:
                self._unsynced |= folders - synced
            raise

    def note_new_name(self, path: str) -> None:
        """A new file under `path`, stored here or by the image store process: with deferred syncs, its
        folder is synced by the next `sync_folders` (else it was synced as the file was stored)."""
        if self._unsynced is not None:
            with self._unsynced_lock:
                self._unsynced.add(Path(self.basedir, *path.split("/")).parent)

    def persist_file(
        self, path: str, buf: BytesIO, info: MediaPipeline.SpiderInfo, meta: Any = None, headers: Any = None
    ) -> bool:
        """Store the bytes under `path`; False when they were there already."""
        with self._locks_lock:
            entry = self._locks.setdefault(path, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                new = store_new(Path(self.basedir), path, buf.getvalue(), self._unsynced is None, "image-before-rename")
                if new:
                    self.note_new_name(path)
                return new
        finally:
            with self._locks_lock:
                entry[1] -= 1
                if not entry[1]:
                    del self._locks[path]


@dataclass(slots=True)
class _Plan:
    """One article's image files: those decided without a download, and those to download."""

    decided: dict[str, StoredFile] = field(default_factory=dict)
    download: list[str] = field(default_factory=list)
    before: dict[str, StoredFile] = field(default_factory=dict)  # as its exported line has them


class _QuietExpectedFailures(logging.Filter):
    """Scrapy's media pipeline logs every failed download with a traceback; the failures newscrawl
    expects (NotStored) are logged here once, as one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], NotStored))


# Results of this run's image downloads kept for requests of the same file later in the run (Scrapy's
# media pipeline keeps every one, ≈0.7 kB a file: 50 MB at 10,000 articles of 7.5 images). A file asked
# for again by another article once its result has gone is downloaded again, and lands under the same
# name (the store is content-addressed).
RECENT_RESULTS = 10_000


class _RecentResults(dict[bytes, Any]):
    """The media pipeline's cache of results, the latest RECENT_RESULTS of them (the oldest go first)."""

    def __setitem__(self, fingerprint: bytes, result: Any) -> None:
        super().__setitem__(fingerprint, result)
        if len(self) > RECENT_RESULTS:
            del self[next(iter(self))]


class ImageMirror(FilesPipeline):
    """The item pipeline (before revisions are numbered): downloads an article's image files and
    records in each `images[]` entry what became of them."""

    LOG_FAILED_RESULTS = False
    STORE_SCHEMES = {"": ContentAddressedStore, "file": ContentAddressedStore}

    class SpiderInfo(FilesPipeline.SpiderInfo):
        """Scrapy's per-run media state, with its results cache bounded (`_RecentResults`)."""

        def __init__(self, spider: Any) -> None:
            super().__init__(spider)
            self.downloaded = _RecentResults()

    def __init__(self, store: str, *, crawler: Crawler) -> None:
        super().__init__(store, crawler=crawler)
        settings = crawler.settings
        self.root = Path(store)
        self.hosts = frozenset(site_of(crawler).image_hosts)
        self.max_size = settings.getint("NEWSCRAWL_IMAGES_MAX_SIZE")
        self.max_pixels = settings.getint("NEWSCRAWL_IMAGES_MAX_PIXELS")
        self.retry_window = settings.getfloat("NEWSCRAWL_IMAGES_RETRY_DAYS") * 86400
        self.incremental = crawler.get_extension(Incremental)
        if self.incremental is not None:  # the store's renames are made durable with each journal batch
            files = cast(ContentAddressedStore, self.store)
            files.defer_folder_syncs()
            self.incremental.add_commit_barrier(files.sync_folders)
        self.fetches = spider_class_of(crawler).fetches  # False: `scrapy reparse`, no network
        self.store_process: Helper | None = None
        if self.fetches and settings.getbool("NEWSCRAWL_IMAGES_STORE_PROCESS") and is_asyncio_available():
            self.store_process = Helper(
                "newscrawl.archive.image_store",
                "the image store process",
                on_start=lambda: crawler.stats.set_value("newscrawl/images/store_process_started", 1),
                args=(str(self.root), str(self.max_pixels), "0" if self.incremental is not None else "1"),
            )
            crawler.signals.connect(self.store_process.close, signal=signals.spider_closed)
        self.lean = (
            LeanImageFetch.for_crawler(crawler, self.hosts, (ImageRequests,))
            if self.fetches and is_asyncio_available()
            else None
        )
        self._plans: dict[str, _Plan] = {}
        self._in_flight = DeferredSemaphore(max(1, settings.getint("CONCURRENT_REQUESTS")))
        removed = sum(remove_stale_temporaries(folder, _STALE_AFTER) for folder in self.root.glob("??"))
        if removed:
            crawler.stats.set_value("newscrawl/images/stale_temporaries", removed)
            logger.warning("Removed %d temporary image file(s) a killed run left in %s", removed, self.root)
        logging.getLogger("scrapy.pipelines.media").addFilter(_QuietExpectedFailures())
        warnings.filterwarnings("ignore", message="Image size .* exceeds limit", module="PIL")  # refused here instead

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ImageMirror:
        store = crawler.settings.get("NEWSCRAWL_IMAGES_STORE")
        if not store:
            raise NotConfigured("NEWSCRAWL_IMAGES_STORE is empty")
        try:
            return cls(store, crawler=crawler)
        except OSError as error:  # the folder cannot be made
            raise CannotStart(f"cannot use the image store NEWSCRAWL_IMAGES_STORE={store!r} ({error})") from None

    # Which files to download ------------------------------------------------------------------------

    def get_media_requests(self, item: Any, info: MediaPipeline.SpiderInfo) -> list[Request]:
        if not isinstance(item, Article) or not item.images:
            return []
        plan = _Plan(before=self._files_before(item))
        now = time.time()
        for url in dict.fromkeys(url for image in item.images for url in (image["url"], image["thumbnail"])):
            before = plan.before.get(url)
            if before is not None and self._still_holds(before, now):
                plan.decided[url] = before
                self.crawler.stats.inc_value("newscrawl/images/kept")
            elif not on_hosts(url, self.hosts):
                plan.decided[url] = self._not_stored(url, item, NotStored("refused", "host_not_allowed"))
            elif not self.fetches:  # a file no earlier run stored: the next crawl of the article gets it
                plan.decided[url] = self._not_stored(
                    url, item, NotStored("failed", "not_fetched"), before, to_utc_iso(datetime.now(UTC))
                )
            else:
                plan.download.append(url)
        self._plans[item.article_id] = plan
        return [Request(url, meta={ARTICLE_PAGE: item.url, "download_maxsize": self.max_size}) for url in plan.download]

    def _files_before(self, article: Article) -> dict[str, StoredFile]:
        """URL → file record, from the article's exported line (nothing in a one-off run)."""
        line = self.incremental.exported_line(article.article_id) if self.incremental is not None else None
        found: dict[str, StoredFile] = {}
        for url, file in file_records((line or {}).get("images", [])):
            found.setdefault(url, file)
        return found

    def _still_holds(self, before: StoredFile, now: float) -> bool:
        """An earlier record that needs no download: a file still in the store, or a failure or refusal
        that will not pass (or whose retries are over). A host refusal is decided again (the allowlist
        may have grown)."""
        if before["status"] == "stored":
            return (self.root / (before["path"] or "")).is_file()
        return before["reason"] != "host_not_allowed" and not retry_wanted(before, now, self.retry_window)

    async def media_to_download(self, request: Request, info: MediaPipeline.SpiderInfo, *, item: Any = None) -> Any:
        """Download what get_media_requests asks for (it has decided already), once one of the
        CONCURRENT_REQUESTS places for an image being downloaded or stored is free: storing (an fsync
        per file) is slower than downloading, and the bytes of images waiting for it would pile up.
        With the lean fetch (newscrawl.fetch.lean), the file is downloaded and kept here, and its result
        returned; None: the downloader downloads it."""
        await maybe_deferred_to_future(self._in_flight.acquire())
        if self.lean is None or not self.lean.ready():
            return None
        try:
            response = await self.lean.fetch(request)
            result = await self._downloaded(response, request, info)
        except HandOver as handed:
            self.crawler.stats.inc_value(f"newscrawl/images/handed_over/{handed.why}")
            if handed.tried:
                request.meta["retry_times"] = request.meta.get("retry_times", 0) + 1
            return None
        except Exception as error:  # the size cap, or a file not kept: the outcome of its download
            self._in_flight.release()
            raise failure_reason(error) from None
        self.crawler.stats.inc_value("newscrawl/images/lean_fetched")
        return result

    # A download's outcome ------------------------------------------------------------------------

    async def media_downloaded(
        self, response: Response, request: Request, info: MediaPipeline.SpiderInfo, *, item: Any = None
    ) -> dict[str, Any]:
        # What raises here goes to media_failed (FilesPipeline's flow), which frees the place.
        return await self._downloaded(response, request, info)

    async def _downloaded(self, response: Response, request: Request, info: MediaPipeline.SpiderInfo) -> dict[str, Any]:
        """Keep a downloaded file (its place freed) or raise why not."""
        if not on_hosts(response.url, self.hosts):  # redirected elsewhere
            raise NotStored("refused", "host_not_allowed", f"redirected to {response.url}")
        if response.status != 200:
            raise NotStored("failed", f"http_{response.status}")
        if not response.body:
            raise NotStored("failed", "empty")
        path, checksum, new = await self._keep(response.body, info)
        self._in_flight.release()
        stats = self.crawler.stats
        stats.inc_value("newscrawl/images/stored")
        if new:
            stats.inc_value("newscrawl/images/bytes", len(response.body))
        else:
            stats.inc_value("newscrawl/images/already_in_store")
        return {"url": request.url, "path": path, "checksum": checksum, "status": "downloaded"}

    async def _keep(self, body: bytes, info: MediaPipeline.SpiderInfo) -> tuple[str, str, bool]:
        """Check, name and store the bytes, in the image store process while it runs, else on a thread of
        this one (counted, the first time logged); (path, checksum, whether they were new)."""
        if self.store_process is not None:
            try:
                kind, *answer = await self.store_process.ask(body)
            except HelperGone as gone:
                stats = self.crawler.stats
                if not stats.get_value("newscrawl/images/store_process_gone"):
                    logger.error("%s: storing images in the crawl process from now on", gone)
                stats.inc_value("newscrawl/images/store_process_gone")  # files stored here since
            else:
                if kind == "not_stored":
                    raise NotStored(*answer)
                path, checksum, new = answer
                if new:
                    cast(ContentAddressedStore, self.store).note_new_name(path)
                return path, checksum, new
        return await maybe_deferred_to_future(deferToThread(self._keep_here, body, info))

    def _keep_here(self, body: bytes, info: MediaPipeline.SpiderInfo) -> tuple[str, str, bool]:
        """`_keep` on a thread of the crawl process."""
        path, checksum = file_name(body, self.max_pixels)
        try:
            new = cast(ContentAddressedStore, self.store).persist_file(path, BytesIO(body), info)
        except OSError as error:
            raise NotStored("failed", "store_error", str(error)) from None
        return path, checksum, new

    def media_failed(self, failure: Any, request: Request, info: MediaPipeline.SpiderInfo) -> None:
        """A download that failed, or a downloaded file not kept (media_downloaded raised)."""
        self._in_flight.release()
        raise failure_reason(failure.value)

    def item_completed(self, results: list[tuple[bool, Any]], item: Any, info: MediaPipeline.SpiderInfo) -> Any:
        if not isinstance(item, Article) or item.article_id not in self._plans:
            return item
        plan = self._plans.pop(item.article_id)
        now = to_utc_iso(datetime.now(UTC))
        for url, (ok, value) in zip(plan.download, results, strict=True):
            if ok:
                plan.decided[url] = stored(value["path"], value["checksum"])
                continue
            plan.decided[url] = self._not_stored(url, item, failure_reason(value.value), plan.before.get(url), now)
        return replace(item, images=[_with_files(image, plan.decided) for image in item.images])

    def _not_stored(
        self, url: str, article: Article, reason: NotStored, before: StoredFile | None = None, now: str | None = None
    ) -> StoredFile:
        """Count and log a file not stored, and its record. A failure that may pass keeps the record of the
        first one while it goes on (its `failed_since` bounds the retries; the line stays the same)."""
        self.crawler.stats.inc_value(f"newscrawl/images/{reason.status}/{reason.reason}")
        if reason.reason == "store_error":
            attention(self.crawler, "image_store_failed")
        logger.warning("Image not stored (%s): %s in %s", reason, url, article.url)
        if reason.status != "failed" or not may_pass(reason.reason):
            return not_stored(reason.status, reason.reason)
        if (
            before is not None
            and before["status"] == "failed"
            and before["failed_since"]
            and may_pass(before["reason"])
        ):
            return before
        return not_stored("failed", reason.reason, now)


class ImageRequests:
    """Downloader middleware, ahead of Scrapy's offsite filter: requests to the site's image hosts may
    leave the site's own hosts (the images, and the hosts' robots.txt, which is obeyed as the pages'
    is); an image request, and each redirect of it, sends its article page as Referer, which is what
    the CDNs' hotlink protection checks (on a redirect, Scrapy would send the image URL it came from)."""

    def __init__(self, hosts: frozenset[str], crawler: Crawler) -> None:
        self.hosts = hosts
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ImageRequests:
        if not crawler.settings.get("NEWSCRAWL_IMAGES_STORE"):
            raise NotConfigured("NEWSCRAWL_IMAGES_STORE is empty")
        return cls(frozenset(site_of(crawler).image_hosts), crawler)

    def process_request(self, request: Request) -> None:
        if on_hosts(request.url, self.hosts):
            request.meta["allow_offsite"] = True
        if page := request.meta.get(ARTICLE_PAGE):
            request.headers["Referer"] = page

    def process_response(self, request: Request, response: Response) -> Response:
        """An image response is not a page (the run summary's and the progress line's count): counted in
        the same middleware chain as Scrapy's response count, so no progress line falls between the two."""
        if ARTICLE_PAGE in request.meta:
            self.crawler.stats.inc_value("newscrawl/images/responses")
        return response


def _with_files(image: Image, files: dict[str, StoredFile]) -> Image:
    thumbnail = None if image["thumbnail"] == image["url"] else files[image["thumbnail"]]
    return {**image, "file": files[image["url"]], "thumbnail_file": thumbnail}
