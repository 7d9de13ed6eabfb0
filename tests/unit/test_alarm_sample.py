"""The layout-break alarm judged on the sample's size: a table of runs that must and must not alarm."""

from __future__ import annotations

import pytest

from newscrawl.run.monitors import at_most_chance, shortfall


@pytest.mark.parametrize(
    "observed, trials, share, alarm",
    [
        (0, 1, 0.3, False),  # one article without tags (a max_pages=1 run's follow-up, a -a url= run)
        (0, 3, 0.3, False),
        (0, 8, 0.3, False),
        (0, 20, 0.3, True),  # twenty articles, none tagged: the tags are gone
        (0, 6, 0.5, False),  # six without a picture where half should have one: could be chance (1.6 %)
        (0, 7, 0.5, True),
        (0, 16, 0.5, True),
        (45, 100, 0.5, False),  # a little below the floor in a large sample: chance
        (30, 100, 0.5, True),
        (0, 1, 1.0, True),  # a field every article has, missing once
        (99, 100, 1.0, True),
        (100, 100, 1.0, False),
        (3, 3, 0.5, False),
        (0, 0, 0.5, False),  # nothing to judge
    ],
)
def test_shortfall(observed: int, trials: int, share: float, alarm: bool):
    assert shortfall(observed, trials, share, 0.01) is alarm


def test_at_most_chance_is_the_binomial_tail():
    assert at_most_chance(0, 6, 0.5) == pytest.approx(1 / 64)
    assert at_most_chance(1, 2, 0.5) == pytest.approx(3 / 4)
    assert at_most_chance(2, 2, 0.5) == 1.0
    assert at_most_chance(0, 10_000, 0.5) == 0.0  # no underflow error, no overflow
