"""The docs stay true: every setting has its row with its default, every exit code and attention reason
is in the exit-code table, every command option is documented, every file a doc names exists, and
every section a doc points to is there. Each check is a function, shown to fail on a made-up gap."""

from __future__ import annotations

import argparse
import importlib
import re
from pathlib import Path

import pytest
from conftest import REPO
from scrapy.commands import ScrapyCommand
from scrapy.settings import Settings

from newscrawl import settings as defaults
from newscrawl.exit_codes import ATTENTION_REASONS, EXIT_CODES

DOCS = sorted((REPO / "docs").glob("*.md")) + [REPO / "README.md"]
OPERATIONS = (REPO / "docs/operations.md").read_text(encoding="utf-8")
# Settings whose default is worked out at run time: their row says how, in words.
DEFAULT_IN_WORDS = {"NEWSCRAWL_HTTP_HANDLER", "NEWSCRAWL_PARSE_PROCESS", "NEWSCRAWL_WORKER"}
COMMANDS = ("doctor", "extract", "fixture", "newsite", "reparse", "report")
_ROW = re.compile(r"^\| `(NEWSCRAWL_[A-Z0-9_]+)` \| (.*?) \|", re.M)
_PATH = re.compile(r"`((?:docs|tests|newscrawl|scripts|benchmarks|fixtures|\.ci)/[^`\s]*)`")
_SECTION = re.compile(r'`(docs/[a-z_]+\.md)`, "([^"]+)"')


def undocumented_settings(names: dict[str, object], table: str) -> list[str]:
    """Settings without a row, or whose row gives another default."""
    rows = {match.group(1): match.group(2).strip() for match in _ROW.finditer(table)}
    wrong = []
    for name, value in sorted(names.items()):
        cell = rows.get(name)
        if cell is None:
            wrong.append(f"{name}: no row")
        elif name in DEFAULT_IN_WORDS:
            continue
        elif value is None:
            if cell != "none" and not cell.startswith("`"):
                continue
            if cell != "none":
                wrong.append(f"{name}: default {cell}, not none")
        elif value == "":
            if cell not in ('`""`',) and not cell.startswith("empty"):
                wrong.append(f"{name}: default {cell}, not empty")
        elif cell != f"`{value}`":
            wrong.append(f"{name}: default {cell}, not `{value}`")
    return wrong


def project_settings() -> dict[str, object]:
    return {name: getattr(defaults, name) for name in dir(defaults) if name.startswith("NEWSCRAWL_")}


def test_every_setting_has_its_row_with_its_default():
    assert undocumented_settings(project_settings(), OPERATIONS) == []


def test_a_setting_added_without_its_row_is_caught():
    assert undocumented_settings({**project_settings(), "NEWSCRAWL_NEW_THING": 3}, OPERATIONS) == [
        "NEWSCRAWL_NEW_THING: no row"
    ]
    assert undocumented_settings({"NEWSCRAWL_FEED_ITEMS": 51}, OPERATIONS) == [
        "NEWSCRAWL_FEED_ITEMS: default `50`, not `51`"
    ]


def exit_table(text: str) -> str:
    start = text.index("| code | meaning |")
    return text[start : text.index("\n\n", start)]


def missing_exit_facts(text: str) -> list[str]:
    table = exit_table(text)
    codes = [f"| {code} |" for code in EXIT_CODES if f"| {code} |" not in table]
    reasons = [f"`{reason}`" for reason in ATTENTION_REASONS if f"`{reason}`" not in table]
    return codes + reasons


def test_every_exit_code_and_attention_reason_is_in_the_table():
    assert missing_exit_facts(OPERATIONS) == []
    assert missing_exit_facts(OPERATIONS.replace("`blocked`", "blocked")) == ["`blocked`"]


def command_options(name: str) -> list[str]:
    """The long options a newscrawl command adds to Scrapy's own."""
    command = importlib.import_module(f"newscrawl.commands.{name}").Command()
    command.settings = Settings()
    ours, base = argparse.ArgumentParser(), argparse.ArgumentParser()
    command.add_options(ours)
    ScrapyCommand.add_options(command, base)
    known = {option for action in base._actions for option in action.option_strings}  # noqa: SLF001
    return sorted(
        option
        for action in ours._actions  # noqa: SLF001
        if action.help != argparse.SUPPRESS
        for option in action.option_strings
        if option.startswith("--") and option not in known and option != "--help"
    )


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_option_is_in_the_docs(name: str):
    text = "\n".join(path.read_text(encoding="utf-8") for path in DOCS)
    assert [option for option in command_options(name) if option not in text] == []


def missing_paths(text: str) -> list[str]:
    found = []
    for path in _PATH.findall(text):
        clean = path.rstrip(".,:;)").split("::")[0].split(":")[0]
        if any(mark in clean for mark in ("*", "<", "%(", "{", "…")):
            continue
        if not clean.endswith("/") and "." not in clean.rsplit("/", 1)[-1]:
            continue  # a stat's name (`newscrawl/feeds/written`), not a file
        if not (REPO / clean).exists():
            found.append(clean)
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_every_file_a_doc_names_exists(doc: Path):
    assert missing_paths(doc.read_text(encoding="utf-8")) == []
    assert missing_paths("see `docs/nowhere.md`") == ["docs/nowhere.md"]


def headings(path: Path) -> set[str]:
    return {
        line.lstrip("#").strip().strip("`")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }


def missing_sections(text: str) -> list[str]:
    return [
        f"{doc}: {section}"
        for doc, section in ((doc, " ".join(section.split())) for doc, section in _SECTION.findall(text))
        if (REPO / doc).exists() and not any(section in heading for heading in headings(REPO / doc))
    ]


@pytest.mark.parametrize(
    "doc", [*DOCS, REPO / "scrapyd.conf", REPO / "scrapy.cfg", REPO / "tests/hexo/package.json"], ids=lambda p: p.name
)
def test_every_section_a_doc_points_to_is_there(doc: Path):
    text = doc.read_text(encoding="utf-8")
    assert missing_sections(text) == []
    assert missing_sections('`docs/operations.md`, "Time travel"') == ["docs/operations.md: Time travel"]
