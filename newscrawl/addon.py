"""The newscrawl add-on (Scrapy ADDONS): settings that follow from other settings, checked at start.

What it sets overrides the project's settings (spider priority), as these follow from the run's own
arguments; the command line still wins.

- A one-off export (`-o`/`-O`, any FEEDS) touches none of a scheduled job's files: no journal, no
  crawl state, no posts, no Atom feeds, no run summary or history, unless those are set on the command line.
- NEWSCRAWL_REDIS_URL switches the scheduler and dupefilter to scrapy-redis.
- The site's coverage rules become spidermon's field-coverage rules.
- Every NEWSCRAWL_* value a run depends on is checked before anything is fetched: a bad one, or a name
  the project does not define (a typo), stops the run with one line naming it (exit 1), not an error
  per item later or a value silently ignored.
- Scrapy's start-up lists (enabled components, overridden settings) stay out of a log read at INFO,
  and its warnings that a newscrawl component is off (a mode, not a problem) are DEBUG lines.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings

from newscrawl import settings as defaults
from newscrawl.exit_codes import CannotStart
from newscrawl.exporters.frontmatter import DATE_MODES, POST_FILENAME_FIELDS, POST_IMAGE_MODES
from newscrawl.normalize.urls import is_loopback_host
from newscrawl.paths import BadPathTemplate, OutputPaths
from newscrawl.run.logformatter import quiet_start
from newscrawl.shares import BadShare, Share
from newscrawl.sites import site_of

ONE_OFF_BLANKED = (
    "NEWSCRAWL_JSONL",
    "NEWSCRAWL_STATE",
    "NEWSCRAWL_POSTS_DIR",
    "NEWSCRAWL_SUMMARY_FILE",
    "NEWSCRAWL_FEEDS_DIR",
    "NEWSCRAWL_RUNS_FILE",
)


def _number(settings: BaseSettings, name: str, minimum: float, integer: bool = False) -> None:
    value = settings.get(name)
    try:
        number = int(value) if integer else float(value)
    except (TypeError, ValueError):
        number = None
    if number is None or number < minimum:
        kind = "a whole number" if integer else "a number"
        raise CannotStart(f"{name} must be {kind} ≥ {minimum:g}, not {value!r}")


def _check_names(settings: BaseSettings) -> None:
    """A NEWSCRAWL_* name the project does not define is a typo, whose value would be silently ignored."""
    known = {name for name in vars(defaults) if name.startswith("NEWSCRAWL_")}
    for name in sorted(settings):
        if name.startswith("NEWSCRAWL_") and name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise CannotStart(f"unknown setting {name}{hint}: docs/operations.md lists every NEWSCRAWL_* setting")


def _check_switches(settings: BaseSettings) -> None:
    """A NEWSCRAWL_* switch (a True/False default) whose value is not a boolean Scrapy reads."""
    for name, default in sorted(vars(defaults).items()):
        if name.startswith("NEWSCRAWL_") and isinstance(default, bool):
            try:
                settings.getbool(name)
            except ValueError:
                raise CannotStart(f"{name} must be True or False (1/0), not {settings.get(name)!r}") from None


def check_settings(settings: BaseSettings) -> None:
    """Raise CannotStart naming the first NEWSCRAWL_* setting a run cannot work with."""
    _check_names(settings)
    _check_switches(settings)
    pattern = settings.get("NEWSCRAWL_POST_FILENAME") or ""
    try:
        name = pattern.format(**{field: "x" for field in POST_FILENAME_FIELDS})
    except (KeyError, IndexError, ValueError) as error:
        raise CannotStart(
            f"NEWSCRAWL_POST_FILENAME {pattern!r} is not a pattern of {{{'}, {'.join(POST_FILENAME_FIELDS)}}} ({error})"
        ) from None
    if "{article_id}" not in pattern or not name.strip():  # two articles may share a title, never an id
        raise CannotStart(f"NEWSCRAWL_POST_FILENAME must contain {{article_id}}: {pattern!r}")
    if settings.get("NEWSCRAWL_FRONTMATTER_DATES") not in DATE_MODES:
        raise CannotStart(
            f"NEWSCRAWL_FRONTMATTER_DATES must be one of {', '.join(DATE_MODES)}, "
            f"not {settings.get('NEWSCRAWL_FRONTMATTER_DATES')!r}"
        )
    _check_images(settings)
    root = settings.get("NEWSCRAWL_OFFLINE_ROOT")
    if root and (urlsplit(root).scheme != "http" or not is_loopback_host(urlsplit(root).hostname or "")):
        raise CannotStart(
            f"NEWSCRAWL_OFFLINE_ROOT must be an http:// URL on a loopback address (http://127.0.0.1:PORT), not {root!r}"
        )
    _number(settings, "NEWSCRAWL_MAX_PAGES", 1, integer=True)
    _number(settings, "NEWSCRAWL_MAX_LINKS_PER_PAGE", 1, integer=True)
    _number(settings, "NEWSCRAWL_REFRESH_AFTER", 0)
    _number(settings, "NEWSCRAWL_GIVE_UP_AFTER_RUNS", 0, integer=True)
    _number(settings, "NEWSCRAWL_RETRY_AFTER_MAX", 0)
    _number(settings, "NEWSCRAWL_RETRY_GONE_AFTER", 0)
    _number(settings, "NEWSCRAWL_FEED_ITEMS", 1, integer=True)
    _number(settings, "NEWSCRAWL_WARC_MAX_SIZE", 1, integer=True)
    _number(settings, "NEWSCRAWL_PROGRESS_INTERVAL", 0)
    _number(settings, "NEWSCRAWL_PROCESSES", 1, integer=True)
    try:
        Share.of(settings)
    except BadShare as error:
        raise CannotStart(str(error)) from None
    try:
        OutputPaths.of(settings, "spider").check()
    except BadPathTemplate as error:
        raise CannotStart(str(error)) from None


def _usable_folder(setting: str, folder: Path) -> None:
    """`folder` is (or can be made) a folder newscrawl can write in; else CannotStart naming `setting`."""
    if folder.exists() and not folder.is_dir():
        raise CannotStart(f"{setting}: {folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CannotStart(f"{setting}: cannot make the folder {folder} ({error.strerror or error})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CannotStart(f"{setting}: the folder {folder} is not writable")


def check_paths(settings: BaseSettings, spider_name: str) -> None:
    """Raise CannotStart naming the first path setting whose folder cannot be written, before anything is
    fetched (a run would otherwise fetch, then fail on every write)."""
    for setting, path, folder in OutputPaths.of(settings, spider_name).settings():
        if path is None:
            continue
        _usable_folder(setting, path if folder else path.parent)
        if not folder and path.is_dir():
            raise CannotStart(f"{setting}: {path} is a folder, not a file")


_UNSAFE_IN_URL = re.compile(r"""[\s"'<>\\`\x00-\x1f\x7f]""")


def _check_images(settings: BaseSettings) -> None:
    store = settings.get("NEWSCRAWL_IMAGES_STORE") or ""
    if "://" in store:
        raise CannotStart(f"NEWSCRAWL_IMAGES_STORE must be a folder, not {store!r}")
    if settings.get("NEWSCRAWL_POST_IMAGES") not in POST_IMAGE_MODES:
        raise CannotStart(
            f"NEWSCRAWL_POST_IMAGES must be one of {', '.join(POST_IMAGE_MODES)}, "
            f"not {settings.get('NEWSCRAWL_POST_IMAGES')!r}"
        )
    if settings.get("NEWSCRAWL_POST_IMAGES") == "local" and not store:
        raise CannotStart(
            "NEWSCRAWL_POST_IMAGES=local needs NEWSCRAWL_IMAGES_STORE (the folder the images are stored in)"
        )
    prefix = settings.get("NEWSCRAWL_POST_IMAGES_URL") or ""
    if not (prefix.startswith("/") or urlsplit(prefix).scheme in ("http", "https")) or _UNSAFE_IN_URL.search(prefix):
        raise CannotStart(
            f"NEWSCRAWL_POST_IMAGES_URL must be a path such as /images/ or an http(s) URL, "
            f"without spaces or quotes, not {prefix!r}"
        )
    feeds = settings.get("NEWSCRAWL_FEED_IMAGES_URL") or ""
    if feeds and (urlsplit(feeds).scheme not in ("http", "https") or _UNSAFE_IN_URL.search(feeds)):
        raise CannotStart(
            f"NEWSCRAWL_FEED_IMAGES_URL must be an http(s) URL (feed readers cannot resolve a path), not {feeds!r}"
        )
    _number(settings, "NEWSCRAWL_IMAGES_MAX_SIZE", 1, integer=True)
    _number(settings, "NEWSCRAWL_IMAGES_MAX_PIXELS", 1, integer=True)
    _number(settings, "NEWSCRAWL_IMAGES_RETRY_DAYS", 0)


class Newscrawl:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Newscrawl:
        return cls(crawler)

    def update_settings(self, settings: BaseSettings) -> None:
        site = site_of(self.crawler)
        coverage = {**site.expected_coverage, **settings.getdict("NEWSCRAWL_COVERAGE_RULES").get(site.name, {})}
        settings.set(
            "SPIDERMON_FIELD_COVERAGE_RULES",
            {f"Article/{field}": share for field, share in coverage.items()},
            priority="spider",
        )
        if settings.getdict("FEEDS"):
            for name in ONE_OFF_BLANKED:
                if (settings.getpriority(name) or 0) < SETTINGS_PRIORITIES["cmdline"]:
                    settings.set(name, "", priority="spider")
        lean_middlewares(settings)
        if redis_url := settings.get("NEWSCRAWL_REDIS_URL"):
            # One shared request queue and dupefilter in Redis (scrapy-redis); listing pages are
            # dont_filter, so they are fetched again every run.
            settings.setdict(_scrapy_redis(redis_url), priority="spider")
        check_settings(settings)
        check_paths(settings, self.crawler.spidercls.name)
        quiet_start(settings.get("LOG_LEVEL"))


# What NEWSCRAWL_LEAN_MIDDLEWARES turns off: Scrapy components these sites' crawls do not need.
LEAN_OFF = (
    ("SPIDER_MIDDLEWARES", "scrapy.spidermiddlewares.referer.RefererMiddleware"),
    ("SPIDER_MIDDLEWARES", "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware"),
    ("DOWNLOADER_MIDDLEWARES", "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware"),
    ("DOWNLOADER_MIDDLEWARES", "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware"),
)


def lean_middlewares(settings: BaseSettings) -> None:
    """With NEWSCRAWL_LEAN_MIDDLEWARES, turn off what LEAN_OFF names."""
    if settings.getbool("NEWSCRAWL_LEAN_MIDDLEWARES"):
        for name, component in LEAN_OFF:
            components = settings.getdict(name)
            components[component] = None  # the key Scrapy's own defaults use
            settings.set(name, components, settings.getpriority(name) or 0)


def _scrapy_redis(redis_url: str) -> dict[str, Any]:
    return {
        "SCHEDULER": "newscrawl.state.scheduler.RedisScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_QUEUE_KEY": "newscrawl:%(spider)s:requests",
        "SCHEDULER_DUPEFILTER_KEY": "newscrawl:%(spider)s:dupefilter",
        "REDIS_URL": redis_url,
    }
