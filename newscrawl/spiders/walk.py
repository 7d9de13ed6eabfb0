"""The walk policy: how far one run follows a tag's pagination. Pure functions, no Scrapy, no state.

A walk is a tag's (or column's) listing pages from its first page on. The state remembers, per walk,
whether a walk of it ever reached its end (`complete`). Stopping at a page whose articles are all known
is safe only when what lies beyond it was walked before: the walk is complete, or this run also
resumes the page where an earlier run's walk of it stopped (its frontier; new articles push old ones
to later pages, so the frontier page holds everything past what that walk saw). Otherwise — a tag
added to a state that knows its articles from other tags, a state rebuilt from the journal, a state
that lost its latest writes — known pages are walked through; the per-run page budget still applies
and the rest stays pending.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import Enum

from newscrawl.state.base import ListingPage


class Step(Enum):
    """What becomes of a listing page's next link."""

    FOLLOW = "follow"  # request the next page now
    DEFER = "defer"  # this run's page budget is spent: the next page stays pending for a later run
    END = "end"  # no next page: the walk reached its end
    CAME_ROUND = "came_round"  # a link back to an earlier page of the same walk: the walk reached its end
    MERGED = "merged"  # a link to a page this run already requests for another chain: that chain goes on
    STOP_AT_KNOWN = "stop_at_known"  # every article known, and what lies beyond was walked before


def next_step(
    *,
    next_url: str | None,
    seen: bool,
    loops_back: bool,
    all_known: bool,
    complete: bool,
    behind_frontier: bool,
    pages_requested: int,
    budget: int,
) -> Step:
    """The fate of a listing page's next link `next_url`.

    `seen`: the link is a page this run already requested, `loops_back`: an earlier page of the same walk;
    `all_known`: every article on the page is exported and fresh; `complete`: a walk of this tag once
    reached its end; `behind_frontier`: this run also requests a later page of the walk, one an earlier
    run's walk stopped at; `pages_requested`: this walk's listing pages requested this run, against `budget`.
    """
    if not next_url:
        return Step.END
    if seen:
        return Step.CAME_ROUND if loops_back else Step.MERGED
    if all_known and (complete or behind_frontier):
        return Step.STOP_AT_KNOWN
    if pages_requested >= budget:
        return Step.DEFER
    return Step.FOLLOW


def ends_walk(step: Step) -> bool:
    """Whether `step` means the walk has now been followed to its end (the state remembers it complete)."""
    return step in (Step.END, Step.CAME_ROUND)


def records_next(step: Step) -> bool:
    """Whether the next page is recorded as pending (requested now, or left to a later run)."""
    return step in (Step.FOLLOW, Step.DEFER)


def resumed_pages(pending: Iterable[ListingPage], tags: Sequence[str], follow_tags: int) -> list[ListingPage]:
    """The pending listing pages this run requests besides its tags' first pages: later pages of its tags'
    walks, and pages of followed tags within `follow_tags` hops. A pending first page of a requested tag
    is that tag's first page, requested anyway."""
    chosen: dict[str, ListingPage] = {}
    for page in pending:
        if page.walk in tags:
            if page.page > 1:
                chosen.setdefault(page.url, page)
        elif 0 < page.depth <= follow_tags:
            chosen.setdefault(page.url, page)
    return list(chosen.values())


def frontiers(pages: Iterable[ListingPage]) -> dict[str, int]:
    """Per walk that `pages` continue past its first page (an earlier run stopped there), the first such
    page's number: the pages before it are behind the frontier."""
    found: dict[str, int] = {}
    for page in pages:
        if page.page > 1:
            found[page.walk] = min(found.get(page.walk, page.page), page.page)
    return found


def capped(urls: Sequence[str], limit: int) -> tuple[list[str], bool]:
    """The article links of a page that are followed (at most `limit`), and whether any were cut."""
    return list(urls[:limit]), len(urls) > limit
