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


@pytest.mark.parametrize("lean", [False, True])
def test_lean_middlewares_turn_off_only_what_they_name(lean: bool):
    """Off by default: the components no newscrawl crawl uses (Scrapy's depth tracking, its meta-copy
    warning, HTTP auth). NEWSCRAWL_LEAN_MIDDLEWARES also turns off the four it names, and nothing else."""
    from newscrawl.addon import LEAN_OFF, lean_middlewares

    settings = Settings({name: value for name, value in vars(defaults).items() if name.isupper()})
    settings.set("NEWSCRAWL_LEAN_MIDDLEWARES", lean, priority="cmdline")
    lean_middlewares(settings)

    def enabled(name: str) -> set[str]:
        merged = {**settings.getdict(name + "_BASE"), **settings.getdict(name)}
        named = {
            (path if isinstance(path, str) else f"{path.__module__}.{path.__name__}"): order
            for path, order in merged.items()
        }
        return {path.rsplit(".", 1)[1] for path, order in named.items() if order is not None}

    spider, downloader = enabled("SPIDER_MIDDLEWARES"), enabled("DOWNLOADER_MIDDLEWARES")
    assert not {"DepthMiddleware", "MetaCopyDetectionMiddleware", "HttpAuthMiddleware"} & (spider | downloader)
    lean_off = {component.rsplit(".", 1)[1] for _, component in LEAN_OFF}
    assert (lean_off <= spider | downloader) is not lean and bool(lean_off & (spider | downloader)) is not lean
    assert {"HttpErrorMiddleware", "RobotsTxtMiddleware", "RetryMiddleware", "RedirectMiddleware", "ScopeGuard"} <= (
        spider | downloader
    )
