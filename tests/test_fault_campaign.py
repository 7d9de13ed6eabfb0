"""A small seeded fault campaign in the suite (tests/fault_campaign.py; the large one is its command line)."""

from pathlib import Path

import pytest
from fault_campaign import ARTICLES, campaign


@pytest.mark.parametrize(("seed", "capturing", "mirroring"), [(11, True, False), (16, True, True), (15, False, True)])
def test_a_seeded_schedule_of_faults_loses_nothing_and_doubles_nothing(
    tmp_path: Path, seed: int, capturing: bool, mirroring: bool
):
    [outcome] = campaign([seed], tmp_path)
    assert outcome.error is None, f"seed {seed}: {outcome.error}"
    assert outcome.articles == ARTICLES
    assert outcome.captured == capturing  # a capturing schedule also found every article in its WARC files
    assert bool(outcome.mirrored) == mirroring  # a mirroring one, every image file of every article, whole
    assert sum(outcome.faults.values()) >= 1, f"seed {seed}: no fault landed ({outcome})"
