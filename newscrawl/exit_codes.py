"""How a run ended, for the scheduler: the exit code and the reasons a person must look.

| code | meaning |
| 0 | done; transient failures were counted, logged, and are retried by the next run |
| 1 | could not start: arguments, settings, overlap, unusable state (one line names the problem) |
| 2 | ran, but a person must look: nothing could be fetched, a tag's first page is gone, a write failed |
| 3 | the layout-break alarm fired (and nothing above) |

Components that see a reason to look count it under `newscrawl/attention/<reason>`; the crawl command
and the run summary read the stats through `needs_attention` and `exit_code`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scrapy.crawler import Crawler

ATTENTION = "newscrawl/attention/"
ALARM_STAT = "newscrawl/alarm"  # set by the layout-break alarm (newscrawl.run.monitors)
ATTENTION_REASONS = {
    "nothing_fetched": "no listing or article page could be fetched at all (site down, DNS, blocked)",
    "first_page_gone": "a tag's first listing page answered 404/410 (a mistyped or removed tag)",
    "export_failed": "a post or journal line could not be written (disk full? permissions?); retried next run",
    "state_write_failed": "the crawl state could not be written; the work it would have remembered is redone next run",
    "capture_failed": (
        "a response could not be written to its WARC file (disk full?); its page is fetched again next run"
    ),
    "image_store_failed": (
        "an image could not be written to NEWSCRAWL_IMAGES_STORE (disk full? permissions?); fetched again next run"
    ),
    "feeds_failed": "an Atom feed could not be rebuilt or written (disk full? permissions?); rebuilt next run",
    "summary_failed": "the run summary or its run-history line could not be written (disk full? permissions?)",
    "state_unavailable": "the crawl state stopped answering mid-run (Redis down? a damaged file?): the run stopped; "
    "the next run goes on from what the state and the journal hold",
    "capture_unreadable": "a WARC file or record could not be read (damaged, or not a WARC file): what it held "
    "was not re-parsed",
    "blocked": "the site refused pages (403, 429 without Retry-After, a WAF or challenge page): they stay "
    "pending; look at what the log names before the next run",
    "forced_shutdown": "the run was stopped by a second interrupt (Ctrl-C, SIGTERM) before it could close; "
    "nothing is lost, the next run finishes its work",
}

DONE, CANNOT_START, ATTENTION_NEEDED, ALARM = 0, 1, 2, 3
EXIT_CODES = {
    DONE: "done; transient failures (5xx, resets, timeouts) were counted and stay pending for the next run",
    CANNOT_START: "could not start: one line `Cannot start: …` names the argument, setting or lock; nothing fetched",
    ATTENTION_NEEDED: (
        "ran, but a person must look: the log's `Needs attention (exit 2): …` lines say why; nothing lost"
    ),
    ALARM: "the layout-break alarm fired: a site's markup changed (see `alarm` in the run summary)",
}


class CannotStart(RuntimeError):
    """The run must not start; the message is the one line the operator reads (no traceback)."""


def attention(crawler: Crawler, reason: str) -> None:
    """Count a reason for a person to look (one of ATTENTION_REASONS)."""
    crawler.stats.inc_value(ATTENTION + reason)


def needs_attention(stats: Mapping[str, Any]) -> dict[str, int]:
    """The reasons counted in `stats`, by name, with the nothing-fetched one worked out here (only when no
    other reason explains it: every tag's first page gone is not a site that is down)."""
    found = {key[len(ATTENTION) :]: int(value) for key, value in stats.items() if key.startswith(ATTENTION) and value}
    fetched = int(stats.get("newscrawl/listing/pages", 0)) + int(stats.get("newscrawl/article/pages", 0))
    tried = int(stats.get("newscrawl/listing/requested", 0)) + int(stats.get("newscrawl/article/requested", 0))
    if tried and not fetched and not found:
        found["nothing_fetched"] = tried
    return found


def pages_fetched(stats: Mapping[str, Any]) -> int:
    """Responses to page requests (listings, articles, robots.txt): image files are not pages."""
    return int(stats.get("downloader/response_count", 0)) - int(stats.get("newscrawl/images/responses", 0))


def failed_requests(stats: Mapping[str, Any]) -> tuple[int, int]:
    """Page requests that failed for good (after their retries), once each: (HTTP errors, network errors)."""
    http = sum(int(value) for key, value in stats.items() if key.startswith("httperror/response_ignored_status_count/"))
    return http, int(stats.get("newscrawl/errors/download", 0))


def exit_code(stats: Mapping[str, Any]) -> int:
    if needs_attention(stats):
        return ATTENTION_NEEDED
    if stats.get(ALARM_STAT):
        return ALARM
    return DONE
