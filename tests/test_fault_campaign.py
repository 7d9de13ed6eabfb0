"""A small seeded fault campaign in the suite (tests/fault_campaign.py; the large one is its command line)."""

from pathlib import Path

import pytest

from fault_campaign import ARTICLES, campaign


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_a_seeded_schedule_of_faults_loses_nothing_and_doubles_nothing(tmp_path: Path, seed: int):
    [outcome] = campaign([seed], tmp_path)
    assert outcome.error is None, f"seed {seed}: {outcome.error}"
    assert outcome.articles == ARTICLES
    assert sum(outcome.faults.values()) >= 1, f"seed {seed}: no fault landed ({outcome})"
