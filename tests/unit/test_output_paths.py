"""Every path setting is filled in one place (newscrawl.paths.OutputPaths)."""

from pathlib import Path

import pytest
from scrapy.settings import Settings

from newscrawl.paths import BadPathTemplate, OutputPaths


def _settings(**values: str) -> Settings:
    return Settings({"NEWSCRAWL_WORKER": "w1", **values})


@pytest.mark.parametrize(
    ("setting", "template", "field", "path"),
    [
        ("NEWSCRAWL_JSONL", "output/%(name)s.jsonl", "journal", Path("output/mydrivers.jsonl")),
        ("NEWSCRAWL_JSONL", "output/%(name)s.%(worker)s.jsonl", "journal", Path("output/mydrivers.w1.jsonl")),
        ("NEWSCRAWL_STATE", "/var/lib/%(worker)s/state.sqlite", "state", Path("/var/lib/w1/state.sqlite")),
        ("NEWSCRAWL_SUMMARY_FILE", "%(name)s-%(worker)s.json", "summary", Path("mydrivers-w1.json")),
        ("NEWSCRAWL_RUNS_FILE", "runs/%(worker)s.jsonl", "runs", Path("runs/w1.jsonl")),
        ("NEWSCRAWL_RUNS_FILE", "", "runs", None),
        ("NEWSCRAWL_POSTS_DIR", "posts/%(name)s", "posts", Path("posts/%(name)s")),  # folders are as given
        ("NEWSCRAWL_FEEDS_DIR", "feeds", "feeds", Path("feeds")),
    ],
)
def test_a_setting_becomes_its_path(setting: str, template: str, field: str, path: Path | None):
    assert getattr(OutputPaths.of(_settings(**{setting: template}), "mydrivers"), field) == path


@pytest.mark.parametrize("template", ["out/%(site)s.jsonl", "out/100%.jsonl", "out/%(name)d.jsonl"])
def test_a_template_with_anything_else_is_refused_naming_its_setting(template: str):
    paths = OutputPaths.of(_settings(NEWSCRAWL_SUMMARY_FILE=template), "mydrivers")
    for ask in (lambda: paths.summary, paths.check):
        with pytest.raises(
            BadPathTemplate, match=r"^NEWSCRAWL_SUMMARY_FILE .* may use %\(name\)s and %\(worker\)s only"
        ):
            ask()


def test_a_bad_template_fails_only_what_uses_it():
    """A run refused for a bad journal template still writes its summary (where the refusal is recorded)."""
    paths = OutputPaths.of(_settings(NEWSCRAWL_JSONL="%(nmae)s.jsonl", NEWSCRAWL_SUMMARY_FILE="s.json"), "mydrivers")
    assert paths.summary == Path("s.json")
    with pytest.raises(BadPathTemplate, match="^NEWSCRAWL_JSONL"):
        paths.check()
