"""A mistyped NEWSCRAWL_* setting stops the run with one line, rather than being silently ignored."""

import pytest
from scrapy.settings import Settings

from newscrawl import settings as defaults
from newscrawl.addon import check_settings
from newscrawl.exit_codes import CannotStart


def test_every_defined_setting_passes():
    check_settings(Settings(vars(defaults)))


def test_an_unknown_name_is_refused_with_the_closest_known_one():
    settings = Settings(vars(defaults))
    settings.set("NEWSCRAWL_FEED_ITEM", "5", priority="cmdline")
    with pytest.raises(
        CannotStart, match=r"unknown setting NEWSCRAWL_FEED_ITEM \(did you mean NEWSCRAWL_FEED_ITEMS\?\)"
    ):
        check_settings(settings)
