"""The walk policy as a table: every combination that decides where a tag's pagination stops."""

from __future__ import annotations

import pytest

from newscrawl.spiders.walk import Step, capped, ends_walk, frontiers, next_step, records_next, resumed_pages
from newscrawl.state.base import ListingPage

NEXT = "https://news.mydrivers.com/tag/t_2.htm"
BASE = dict(
    next_url=NEXT,
    seen=False,
    loops_back=False,
    all_known=False,
    complete=False,
    behind_frontier=False,
    pages_requested=1,
    budget=20,
)


@pytest.mark.parametrize(
    "change, step",
    [
        ({}, Step.FOLLOW),
        ({"next_url": None}, Step.END),
        ({"next_url": None, "all_known": True, "complete": True}, Step.END),
        ({"seen": True, "loops_back": True}, Step.CAME_ROUND),
        ({"seen": True}, Step.MERGED),
        # the new-tag loss: a page of known articles on a walk never followed to its end is walked through
        ({"all_known": True}, Step.FOLLOW),
        ({"all_known": True, "complete": True}, Step.STOP_AT_KNOWN),
        ({"all_known": True, "behind_frontier": True}, Step.STOP_AT_KNOWN),
        ({"all_known": True, "pages_requested": 20}, Step.DEFER),
        ({"all_known": True, "complete": True, "pages_requested": 20}, Step.STOP_AT_KNOWN),
        ({"pages_requested": 20}, Step.DEFER),
        ({"pages_requested": 19}, Step.FOLLOW),
        ({"pages_requested": 1, "budget": 1}, Step.DEFER),
        ({"complete": True}, Step.FOLLOW),  # unknown articles on a complete walk: new ones pushed old ones on
    ],
)
def test_next_step(change: dict, step: Step):
    assert next_step(**{**BASE, **change}) is step


@pytest.mark.parametrize(
    "step, ends, records",
    [
        (Step.FOLLOW, False, True),
        (Step.DEFER, False, True),
        (Step.END, True, False),
        (Step.CAME_ROUND, True, False),
        (Step.MERGED, False, False),
        (Step.STOP_AT_KNOWN, False, False),
    ],
)
def test_what_a_step_records(step: Step, ends: bool, records: bool):
    assert (ends_walk(step), records_next(step)) == (ends, records)


def page(url: str, walk: str, number: int, depth: int = 0) -> ListingPage:
    return ListingPage(url, walk, number, depth)


def test_resumed_pages_and_frontiers():
    pending = [
        page("a", "a", 1),
        page("a3", "a", 3),
        page("a5", "a", 5),
        page("b2", "b", 2),
        page("f", "f", 1, depth=1),
        page("g", "g", 1, depth=2),
        page("a3", "a", 3),
    ]
    assert resumed_pages(pending, ["a"], follow_tags=0) == [page("a3", "a", 3), page("a5", "a", 5)]
    assert resumed_pages(pending, ["a"], follow_tags=1) == [
        page("a3", "a", 3),
        page("a5", "a", 5),
        page("f", "f", 1, 1),
    ]
    assert resumed_pages(pending, [], follow_tags=0) == []
    assert frontiers(resumed_pages(pending, ["a", "b"], follow_tags=2)) == {"a": 3, "b": 2}


@pytest.mark.parametrize("count, limit, kept, cut", [(0, 5, 0, False), (5, 5, 5, False), (6, 5, 5, True)])
def test_capped(count: int, limit: int, kept: int, cut: bool):
    urls = [f"u{i}" for i in range(count)]
    assert capped(urls, limit) == (urls[:kept], cut)
