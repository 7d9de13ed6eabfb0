"""A few schedules of the seeded hostile-content campaign in the suite (tests/hostile_campaign.py; the
large one is its command line)."""

from pathlib import Path

import pytest
from hostile_campaign import run_schedule


@pytest.mark.parametrize("seed", [1, 2, 4])
def test_a_seeded_schedule_of_attacks_escapes_nothing_and_loses_nothing(tmp_path: Path, seed: int):
    outcome = run_schedule(seed, tmp_path)
    assert outcome.error is None, f"seed {seed}: {outcome.error}"
    assert outcome.refused + outcome.links_refused >= 1, f"seed {seed}: no attack reached the crawler ({outcome})"
    assert outcome.articles >= 1
