"""The command line as a newcomer meets it: --help that explains, one-line errors, and a quiet log that
says what it is doing (a start line, progress, the summary) and warns only when something is wrong."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, crawl_command

from newscrawl.spiders.base import ARGUMENTS


@pytest.fixture(scope="module", autouse=True)
def project_folder(tmp_path_factory) -> Path:
    """A temporary folder holding only the project's scrapy.cfg: commands run there, so what they write
    by default (output/…, a run that could not start writes its summary) never lands in the checkout."""
    folder = tmp_path_factory.mktemp("project")
    shutil.copy(REPO / "scrapy.cfg", folder)
    global PROJECT
    PROJECT = folder
    return folder


PROJECT = REPO


def scrapy(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))},
    )


def test_crawl_help_lists_the_spider_arguments_examples_and_exit_codes():
    done = scrapy("crawl", "mydrivers", "--help")
    assert done.returncode == 0
    for name in ARGUMENTS:
        assert f"\n  {name} " in done.stdout, name
    assert "Examples:\n  scrapy crawl mydrivers -a tag=xiaomi12_ultra" in done.stdout
    for code in range(4):
        assert f"\n  {code}  " in done.stdout
    assert "mydrivers (快科技), " in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-a", "tag=xiaomi", "-a", "max_pages=abc"], "-a max_pages= must be a whole number ≥ 1, not 'abc'"),
        (["-a", "tag=xiaomi", "-a", "max_pages=0"], "-a max_pages= must be a whole number ≥ 1, not '0'"),
        (["-a", "tag=xiaomi", "-a", "follow_tags=-1"], "-a follow_tags= must be a whole number ≥ 0, not '-1'"),
        (["-a", "tag=https://example.com/tag/x.htm"], "-a tag=: "),
        (["-a", "url=https://news.mydrivers.com/tag/x.htm"], "-a url=: not a 快科技 article URL"),
        (["-a", "tag=xiaomi", "-a", "tags=xiaomi"], "unknown spider argument(s) tags; known: tag ("),
        (["-a", "tag=xiaomi", "-a", "refresh=abc"], "-a refresh= must be 1 or 0 (true/false, yes/no), not 'abc'"),
        ([], "nothing to crawl: pass -a tag="),
        (
            ["-a", "tag=xiaomi", "-s", "NEWSCRAWL_FEED_ITEMS=many"],
            "NEWSCRAWL_FEED_ITEMS must be a whole number ≥ 1, not 'many'",
        ),
        (
            ["-a", "tag=xiaomi", "-s", "NEWSCRAWL_OFFLINE_ROOT=http://example.com"],
            "NEWSCRAWL_OFFLINE_ROOT must be an http:// URL",
        ),
        (
            ["-a", "tag=xiaomi", "-s", "NEWSCRAWL_IMAGES_LEAN_FETCH=maybe"],
            "NEWSCRAWL_IMAGES_LEAN_FETCH must be True or False (1/0), not 'maybe'",
        ),
    ],
)
def test_a_bad_argument_or_setting_is_one_line_naming_it_and_exit_1(tmp_path: Path, args: list[str], message: str):
    done = scrapy(
        "crawl",
        "mydrivers",
        *args,
        "-s",
        f"NEWSCRAWL_JSONL={tmp_path}/j.jsonl",
        "-s",
        f"NEWSCRAWL_STATE={tmp_path}/s.sqlite",
        "-s",
        "LOG_LEVEL=INFO",
    )
    assert done.returncode == 1, done.stderr[-2000:]
    errors = [line for line in done.stderr.splitlines() if "ERROR" in line or "Error" in line or "Traceback" in line]
    assert len(errors) == 1 and f"Cannot start: {message}" in errors[0], errors
    assert "Traceback" not in done.stderr and "Task exception" not in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["mydrivers", "-a", "tagxiaomi"], "Invalid -a value, use -a NAME=VALUE"),
        (["mydrivers", "--bogus"], "unrecognised argument(s): --bogus"),
        (["mydrivers", "-a", "tag=xiaomi", "extra"], "unrecognised argument(s): extra"),
        ([], "give a spider name: cnbeta, generic, mydrivers, oschina"),
    ],
)
def test_a_usage_error_is_one_line_and_exit_1(args: list[str], message: str):
    """A command line that cannot run could not start (1), not "ran, but a person must look" (2)."""
    done = scrapy("crawl", *args)
    assert done.returncode == 1, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if "Scrapy 2." not in line]
    assert lines == [f"Cannot start: {message} (scrapy crawl --help)"], lines


def test_an_unknown_spider_lists_the_spiders():
    done = scrapy("crawl", "mydriver", "-a", "tag=x")
    assert done.returncode == 1
    assert "Cannot start: no spider 'mydriver' (known: cnbeta, generic, mydrivers, oschina)" in done.stderr
    assert "Traceback" not in done.stderr and "KeyError" not in done.stderr


def test_a_crawl_at_default_settings_logs_a_start_line_progress_and_the_summary_and_no_warning(
    tmp_path: Path, site_server
):
    out = tmp_path / "out"
    out.mkdir()
    args = crawl_command(out, site_server, "-a", "tag=windows_11,intel", incremental=True)
    level = args.index("LOG_LEVEL=INFO")
    del args[level - 1 : level + 1]  # the project's default level
    args += ["-s", "NEWSCRAWL_PROGRESS_INTERVAL=0.2", "-s", "DOWNLOAD_DELAY=0.05"]  # a progress line on a short crawl
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stderr.splitlines()
    assert not [line for line in lines if " DEBUG: " in line], "DEBUG lines at the default level"
    assert not [line for line in lines if " WARNING: " in line or "Warning" in line], [
        line for line in lines if "WARN" in line
    ]
    starts = [
        line for line in lines if "Crawling 快科技 (mydrivers): tags windows_11, intel; incremental (journal" in line
    ]
    assert len(starts) == 1
    progress = [index for index, line in enumerate(lines) if "Progress: " in line and "pages fetched" in line]
    summary = [index for index, line in enumerate(lines) if "Run summary: " in line]
    assert progress and len(summary) == 1 and progress[-1] < summary[0]
    assert "Dumping Scrapy stats" not in done.stderr and "FAILED ACTIONS" not in done.stderr
    assert len(lines) < 40, "\n".join(lines)


def test_a_one_off_crawl_warns_of_nothing_and_says_where_its_items_go(tmp_path: Path, site_server):
    args = crawl_command(tmp_path, site_server, "-a", "tag=windows_11")  # -O items.jsonl
    level = args.index("LOG_LEVEL=INFO")
    del args[level - 1 : level + 1]
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert " WARNING: " not in done.stderr, done.stderr  # the components a one-off run leaves off are DEBUG lines
    assert f"one-off ({tmp_path / 'items.jsonl'})" in done.stderr
    debug = subprocess.run([*args, "-L", "DEBUG"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert "DEBUG: Disabled newscrawl.pipelines.export.JournalPipeline: a one-off run" in debug.stderr


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("NEWSCRAWL_POSTS_DIR=/proc/posts", "NEWSCRAWL_POSTS_DIR: cannot make the folder /proc/posts"),
        ("NEWSCRAWL_POSTS_DIR={file}", "NEWSCRAWL_POSTS_DIR: {file} is a file, not a folder"),
        ("NEWSCRAWL_IMAGES_STORE={file}", "NEWSCRAWL_IMAGES_STORE: {file} is a file, not a folder"),
        ("NEWSCRAWL_SUMMARY_FILE={folder}", "NEWSCRAWL_SUMMARY_FILE: {folder} is a folder, not a file"),
        ("NEWSCRAWL_JSONL={file}/x.jsonl", "NEWSCRAWL_JSONL: {file} is a file, not a folder"),
        ("NEWSCRAWL_SUMMARY_FILE={folder}/%(worker)s.json", None),  # the worker's name fills it
    ],
)
def test_path_settings_are_checked_at_start_in_one_line(tmp_path: Path, setting: str, message: str | None):
    (tmp_path / "file").write_text("x")
    names = {"file": tmp_path / "file", "folder": tmp_path}
    done = scrapy(
        "crawl",
        "mydrivers",
        "-a",
        "tag=xiaomi",
        "-s",
        f"NEWSCRAWL_JSONL={tmp_path}/j.jsonl",
        "-s",
        f"NEWSCRAWL_STATE={tmp_path}/s.sqlite",
        "-s",
        f"NEWSCRAWL_POSTS_DIR={tmp_path}/posts",
        "-s",
        f"NEWSCRAWL_FEEDS_DIR={tmp_path}/feeds",
        "-s",
        f"NEWSCRAWL_RUNS_FILE={tmp_path}/runs.jsonl",
        "-s",
        f"NEWSCRAWL_SUMMARY_FILE={tmp_path}/summary.json",
        "-s",
        "NEWSCRAWL_OFFLINE_ROOT=http://127.0.0.1:1",
        "-s",
        "RETRY_TIMES=0",
        "-s",
        setting.format(**names),
    )
    assert "Traceback" not in done.stderr and "KeyError" not in done.stderr, done.stderr[-3000:]
    if message is None:
        assert done.returncode == 2 and "nothing_fetched" in done.stderr  # it ran (nothing listens on port 1)
        assert list(tmp_path.glob("*.json")), "no summary written"
    else:
        assert done.returncode == 1, done.stderr[-2000:]
        assert f"Cannot start: {message.format(**names)}" in done.stderr


ARTICLE_PAGE = str(REPO / "fixtures/mydrivers/site/news.mydrivers.com/1/833/833153.htm")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["extract", ARTICLE_PAGE],
            "Cannot start: the following arguments are required: --url (scrapy extract --help)",
        ),
        (
            [
                "extract",
                ARTICLE_PAGE,
                "--url",
                "https://news.mydrivers.com/1/833/833153.htm",
                "-s",
                "NEWSCRAWL_FRONTMATTER_DATES=x",
            ],
            "scrapy extract: NEWSCRAWL_FRONTMATTER_DATES must be one of utc, local, archive, not 'x'",
        ),
        (
            ["fixture", "--url", "https://news.mydrivers.com/1/833/833153.htm"],
            "Cannot start: the following arguments are required: --warc (scrapy fixture --help)",
        ),
    ],
)
def test_other_commands_refuse_in_one_line_with_exit_1(args: list[str], message: str):
    done = scrapy(*args)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert message in done.stderr.splitlines(), done.stderr[-2000:]
