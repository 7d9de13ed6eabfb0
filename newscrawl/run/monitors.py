"""The layout-break alarm (spidermon): when a site changes its markup, the run is marked failed.

Checked when the spider closes:
- field coverage (spidermon's FieldCoverageMonitor, judged on the sample's size): each site module
  says which share of its articles has each field (`Site.expected_coverage`; NEWSCRAWL_COVERAGE_RULES
  overrides per site), and a field fails only when so few of the run's articles have it that a site
  still giving it at that share would show so few less often than NEWSCRAWL_ALARM_SIGNIFICANCE (1 %) —
  a run that exported a handful of articles without tags is not a layout break, six without a picture
  where half should have one are;
- item validation against the project's JSON Schema (spidermon's ItemValidationMonitor; the
  validation pipeline drops invalid items);
- listing pages without article links (`newscrawl/listing/empty`) and the share of fetched article
  pages dropped for a missing title, date or body (over NEWSCRAWL_ALARM_MAX_DROP_RATE, judged on the
  sample's size the same way) — the two ways a layout change shows when no item is left to measure
  coverage on;
- fields the site module's selectors missed and a fallback filled (`newscrawl/fallback/<field>`,
  newscrawl.parsing.fallbacks), and listing pages whose links came from the listing fallback
  (`newscrawl/listing/fallback`): the data keeps flowing, and the alarm names what to fix.
A failure sets the `newscrawl/alarm` stat (named fields and reasons, in the log and the run
summary) and `scrapy crawl` exits 3 (newscrawl/commands/crawl.py).
"""

from __future__ import annotations

import logging
import math

from spidermon import Monitor, MonitorSuite, monitors
from spidermon.contrib.scrapy.monitors import FieldCoverageMonitor, ItemValidationMonitor
from spidermon.core.actions import Action

from newscrawl.exit_codes import ALARM_STAT
from newscrawl.sites import site_of

logger = logging.getLogger(__name__)
LAYOUT_DROP_REASONS = (
    "missing_title",
    "missing_date",
    "invalid_date",
    "missing_body",
    "undecodable",
    "fallback_dates_disagree",
    "fallback_date_far_from_listing",
)
FALLBACK_PREFIX = "newscrawl/fallback/"
COVERAGE_PREFIX = "spidermon_field_coverage/"


def at_most_chance(observed: int, trials: int, share: float) -> float:
    """P(X ≤ observed) for X ~ Binomial(trials, share): how often `observed` or fewer of `trials` articles
    would have a field that a site gives at `share`."""
    if observed >= trials or share <= 0.0:
        return 1.0
    if share >= 1.0:
        return 0.0
    log_p, log_q = math.log(share), math.log1p(-share)
    return min(
        1.0,
        sum(
            math.exp(
                math.lgamma(trials + 1)
                - math.lgamma(k + 1)
                - math.lgamma(trials - k + 1)
                + k * log_p
                + (trials - k) * log_q
            )
            for k in range(observed + 1)
        ),
    )


def shortfall(observed: int, trials: int, share: float, significance: float) -> bool:
    """Whether `observed` of `trials` is too few to be chance for a share of `share` (a layout break)."""
    return observed < share * trials and at_most_chance(observed, trials, share) < significance


@monitors.name("Field Coverage Monitor")
class SampledFieldCoverageMonitor(FieldCoverageMonitor):
    """Spidermon's field coverage, with the shortfall judged against the sample's size (module docstring)."""

    @monitors.name("test_check_if_field_coverage_rules_are_met")
    def test_check_if_field_coverage_rules_are_met(self) -> None:
        stats = self.data.stats
        scraped = int(stats.get("item_scraped_count", 0))
        if not scraped:
            self.skipTest("No items were scraped.")
        significance = self.crawler.settings.getfloat("NEWSCRAWL_ALARM_SIGNIFICANCE")
        failures = []
        for field, share in self.crawler.settings.getdict("SPIDERMON_FIELD_COVERAGE_RULES").items():
            coverage = float(stats.get(COVERAGE_PREFIX + field, 0))
            if shortfall(round(coverage * scraped), scraped, float(share), significance):
                failures.append(f"{field} (expected {share}, got {coverage} in {scraped} article(s))")
        self.assertTrue(
            not failures, msg="\nThe following items did not meet field coverage rules:\n" + "\n".join(failures)
        )


@monitors.name("Listing layout")
class ListingLayoutMonitor(Monitor):
    @monitors.name("listing pages have article links")
    def test_listing_pages_have_article_links(self) -> None:
        empty = int(self.data.stats.get("newscrawl/listing/empty", 0))
        if empty:
            self.fail(f"{empty} listing page(s) had no article links")

    @monitors.name("listing links come from the site's selectors")
    def test_listing_links_without_fallback(self) -> None:
        fallback = int(self.data.stats.get("newscrawl/listing/fallback", 0))
        if fallback:
            self.fail(f"{fallback} listing page(s) had their article links found only by the listing fallback")


@monitors.name("Article fields")
class FallbackMonitor(Monitor):
    @monitors.name("every field comes from the site's selectors")
    def test_no_field_from_a_fallback(self) -> None:
        if site_of(self.data.crawler).fallbacks_expected:
            self.skipTest("the site has no selectors of its own: its fields come from the fallbacks")
        counts = {
            name[len(FALLBACK_PREFIX) :]: int(value)
            for name, value in self.data.stats.items()
            if name.startswith(FALLBACK_PREFIX) and name.count("/") == 2 and value
        }
        if counts:
            self.fail(
                "fields found only by fallbacks (the site's markup changed?): "
                + ", ".join(f"{field} in {count} article(s)" for field, count in sorted(counts.items()))
            )


@monitors.name("Article layout")
class ArticleDropRateMonitor(Monitor):
    @monitors.name("few article pages dropped for missing parts")
    def test_drop_rate(self) -> None:
        stats = self.data.stats
        dropped = {reason: int(stats.get(f"newscrawl/dropped/{reason}", 0)) for reason in LAYOUT_DROP_REASONS}
        fetched = (
            sum(dropped.values())
            + int(stats.get("item_scraped_count", 0))
            + int(stats.get("newscrawl/articles/unchanged", 0))
        )
        if not fetched:
            self.skipTest("no article page was parsed")
        settings = self.data.crawler.settings
        limit = settings.getfloat("NEWSCRAWL_ALARM_MAX_DROP_RATE")
        rate = sum(dropped.values()) / fetched
        kept = fetched - sum(dropped.values())  # few kept where most should be: the same test as coverage
        if rate > limit and shortfall(kept, fetched, 1.0 - limit, settings.getfloat("NEWSCRAWL_ALARM_SIGNIFICANCE")):
            self.fail(
                f"{rate:.0%} of article pages dropped (limit {limit:.0%}): "
                + ", ".join(f"{reason} {count}" for reason, count in dropped.items() if count)
            )


class RaiseLayoutAlarm(Action):
    """Record which monitors failed and why, for the exit code, the log and the run summary."""

    def run_action(self) -> None:
        reasons = []
        for result in self.result.monitors_failed_results:
            text = str(result.reason or result.error or "failed").split("AssertionError:")[-1]
            reasons.append(f"{result.monitor.name}: {' '.join(text.split())}")
        message = "; ".join(reasons)
        self.data.crawler.stats.set_value(ALARM_STAT, message)
        logger.error("Layout-break alarm: %s", message)


class LayoutAlarmSuite(MonitorSuite):
    monitors = [
        SampledFieldCoverageMonitor,
        ItemValidationMonitor,
        ListingLayoutMonitor,
        ArticleDropRateMonitor,
        FallbackMonitor,
    ]
    monitors_failed_actions = [RaiseLayoutAlarm]
