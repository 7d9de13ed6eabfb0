"""Run summary: one line in the log, a JSON file (NEWSCRAWL_SUMMARY_FILE) and a line in the run
history (NEWSCRAWL_RUNS_FILE) when the crawl ends.

The summary holds the figures an operator watches (pages fetched; articles new, updated, skipped as
known, unchanged; drops by reason; errors; duration; the layout alarm if it fired; image files stored,
kept, failed and refused when images are mirrored); the file adds,
under "stats", all of Scrapy's stats, which the log shows only at DEBUG (Scrapy's own dump is off:
STATS_DUMP). The run history keeps one summary per run, without the stats, for `scrapy report`.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings

from newscrawl.exit_codes import (
    ALARM_STAT,
    ATTENTION_NEEDED,
    ATTENTION_REASONS,
    CANNOT_START,
    attention,
    exit_code,
    failed_requests,
    needs_attention,
    pages_fetched,
)
from newscrawl.paths import OutputPaths
from newscrawl.state.component import Incremental
from newscrawl.state.files import append_whole, write_atomically

logger = logging.getLogger(__name__)


def summarize(stats: dict[str, Any], reason: str, duration: float) -> dict[str, Any]:
    """The operator's figures from Scrapy's stats."""

    def count(key: str) -> int:
        return int(stats.get(key, 0))

    dropped = {
        key.rsplit("/", 1)[1]: value for key, value in sorted(stats.items()) if key.startswith("newscrawl/dropped/")
    }
    if stats.get("spidermon/validation/items/dropped"):
        dropped["schema_invalid"] = stats["spidermon/validation/items/dropped"]
    http_errors, download_errors = failed_requests(stats)
    summary = {
        "finish_reason": reason,
        "duration_seconds": round(duration, 3),
        "pages_fetched": pages_fetched(stats),
        "listing_pages": count("newscrawl/listing/pages"),
        "articles": {
            "new": count("newscrawl/articles/new"),
            "updated": count("newscrawl/articles/updated"),
            "skipped_known": count("newscrawl/articles/known"),
            "unchanged": count("newscrawl/articles/unchanged"),
            "exported": count("item_scraped_count"),
        },
        "dropped": dropped,
        "errors": {
            "http": http_errors,  # requests that failed for good, once each (not each retry)
            "download": download_errors,
            "logged": count("log_count/ERROR"),
        },
        "alarm": stats.get(ALARM_STAT),
        "needs_attention": {reason: ATTENTION_REASONS.get(reason, reason) for reason in needs_attention(stats)},
        "pending": {
            "listing_pages": count("newscrawl/pending/listing_pages"),
            "articles": count("newscrawl/pending/articles"),
        },
        "gone": {
            key.rsplit("/", 1)[1]: value
            for key, value in sorted(stats.items())
            if key.startswith("newscrawl/gone/") and not key.endswith("/retried")
        },
        "given_up": list(stats.get("newscrawl/article/given_up_urls", [])),
        "exit_code": exit_code(stats),
    }
    if any(key.startswith("newscrawl/images/") for key in stats):  # images mirrored (newscrawl.archive.images)

        def outcomes(kind: str) -> int:
            return sum(value for key, value in stats.items() if key.startswith(f"newscrawl/images/{kind}/"))

        summary["images"] = {
            "stored": count("newscrawl/images/stored"),
            "kept": count("newscrawl/images/kept"),
            "failed": outcomes("failed"),
            "refused": outcomes("refused"),
            "bytes": count("newscrawl/images/bytes"),
        }
    return summary


class RunSummary:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.started = time.monotonic()
        self.started_at = datetime.now(UTC)
        paths = OutputPaths.of(crawler.settings, crawler.spidercls.name)
        self.path, self.runs = paths.summary, paths.runs

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunSummary:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_closed(self, reason: str) -> None:
        stats = dict(self.crawler.stats.get_stats())
        summary = summarize(stats, reason, time.monotonic() - self.started)
        articles, errors = summary["articles"], summary["errors"]
        incremental = self.crawler.get_extension(Incremental) is not None
        summary["mode"] = "incremental" if incremental else "one-off (no crawl state: new and updated not told apart)"
        logger.info(
            "Run summary: %d pages fetched, %d exported (%d new, %d updated), %d skipped as known, %d unchanged, "
            "%d dropped%s, %d failed requests, %.1f s (%s, %s)%s%s",
            summary["pages_fetched"],
            articles["exported"],
            articles["new"],
            articles["updated"],
            articles["skipped_known"],
            articles["unchanged"],
            sum(summary["dropped"].values()),
            f" {summary['dropped']}" if summary["dropped"] else "",
            errors["http"] + errors["download"],
            summary["duration_seconds"],
            reason,
            "incremental" if incremental else "one-off",
            "; images: {stored} stored, {kept} kept from earlier runs, {failed} failed, {refused} refused".format(
                **summary["images"]
            )
            if "images" in summary
            else "",
            f"; ALARM: {summary['alarm']}" if summary["alarm"] else "",
        )
        for attention_reason, meaning in summary["needs_attention"].items():
            logger.error("Needs attention (exit 2): %s — %s", attention_reason, meaning)
        logger.debug("Scrapy stats: %s", json.dumps(stats, ensure_ascii=False, indent=1, default=_plain))
        summary = {
            "spider": self.crawler.spidercls.name,
            "started": self.started_at.isoformat(timespec="seconds"),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            **summary,
        }
        if not record_run(self.path, self.runs, summary, stats):
            attention(self.crawler, "summary_failed")
            logger.error("Needs attention (exit 2): summary_failed — %s", ATTENTION_REASONS["summary_failed"])


def record_run(path: Path | None, runs: Path | None, summary: dict[str, Any], stats: dict[str, Any]) -> bool:
    """The summary file (replaced whole), then the run's line in the run history (appended whole). What is
    written says what happened: when either cannot be written, the other says summary_failed (exit 2), and a
    summary that cannot be made true is removed, so no monitor reads an earlier run's figures as this
    one's. False when anything failed."""
    written = _write_summary(path, summary, stats)
    if not written:
        summary = _summary_failed(summary)
    if runs is not None:
        try:
            append_whole(runs, (json.dumps(summary, ensure_ascii=False, default=_plain) + "\n").encode("utf-8"))
        except OSError as error:
            logger.error("Could not append this run to the run history %s: %s", runs, error)
            if written:
                _write_summary(path, _summary_failed(summary), stats)
            written = False
    return written


def _summary_failed(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary with summary_failed among its reasons, and the exit code the process will have (a reason
    to look outranks the layout alarm; a run that could not start stays 1)."""
    code = summary["exit_code"] if summary["exit_code"] == CANNOT_START else ATTENTION_NEEDED
    return {
        **summary,
        "needs_attention": {**summary["needs_attention"], "summary_failed": ATTENTION_REASONS["summary_failed"]},
        "exit_code": code,
    }


def _write_summary(path: Path | None, summary: dict[str, Any], stats: dict[str, Any]) -> bool:
    """Replace the summary file; on failure remove the previous one (it would be read as this run's)."""
    if path is None:
        return True
    try:
        write_atomically(
            path, json.dumps({**summary, "stats": stats}, ensure_ascii=False, indent=1, default=_plain) + "\n"
        )
        return True
    except OSError as error:
        logger.error("Could not write the run summary %s: %s", path, error)
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass
        return False


def record_unfinished(
    settings: BaseSettings, spider: str, finish_reason: str, message: str, stats: dict[str, Any] | None = None
) -> None:
    """A run that could not start (`cannot_start`, exit 1) or was stopped before it could close
    (`forced_shutdown`, exit 2): a summary and run-history line saying so, in place of the previous
    run's summary (which a monitor would read as this run's)."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    forced = finish_reason == "forced_shutdown"
    summary = {
        "spider": spider,
        "started": now,
        "finished": now,
        "finish_reason": finish_reason,
        "error": message,
        "needs_attention": {finish_reason: ATTENTION_REASONS[finish_reason]} if forced else {},
        "exit_code": ATTENTION_NEEDED if forced else CANNOT_START,
    }
    paths = OutputPaths.of(settings, spider)
    record_run(paths.summary, paths.runs, summary, stats or {})


def _plain(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)
