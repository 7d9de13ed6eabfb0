"""scripts/setup.sh, sourced the way the README says, changes nothing in the caller's shell but PATH."""

import subprocess

from conftest import REPO


def test_sourcing_setup_in_an_interactive_shell_leaves_its_options_and_keeps_it_alive():
    script = (
        "before=$(set -o; shopt); source scripts/setup.sh; after=$(set -o; shopt)\n"
        '[ "$before" = "$after" ] && echo OPTIONS-UNCHANGED\n'
        'case ":$PATH:" in *":$PWD/.venv/bin:"*) echo VENV-ON-PATH;; esac\n'
        "false\n"
        "echo ALIVE\n"
    )
    done = subprocess.run(["bash", "--norc", "-i"], input=script, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert "OPTIONS-UNCHANGED" in done.stdout, done.stdout + done.stderr[-2000:]
    assert "VENV-ON-PATH" in done.stdout and "ALIVE" in done.stdout


def test_a_failed_setup_says_so_and_the_shell_survives(tmp_path):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "setup.sh").write_text((REPO / "scripts" / "setup.sh").read_text())
    (tmp_path / "pyproject.toml").write_text("this is not toml\n")  # pip cannot install this project
    script = 'source scripts/setup.sh; echo "status $?"; echo ALIVE\n'
    done = subprocess.run(
        ["bash", "--norc", "-i"], input=script, cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert "status 1" in done.stdout and "ALIVE" in done.stdout, done.stdout + done.stderr[-2000:]


def test_crawl_sh_keeps_its_default_tag_when_given_settings_only(tmp_path):
    """`bash scripts/crawl.sh -s NAME=VALUE` crawls the default tag; `-a tag=…` replaces it."""
    files = [
        "-s",
        f"NEWSCRAWL_JSONL={tmp_path}/items.jsonl",
        "-s",
        f"NEWSCRAWL_STATE={tmp_path}/state.sqlite",
        "-s",
        f"NEWSCRAWL_POSTS_DIR={tmp_path}/posts",
        "-s",
        f"NEWSCRAWL_SUMMARY_FILE={tmp_path}/summary.json",
        "-s",
        "NEWSCRAWL_RUNS_FILE=",
        "-s",
        "NEWSCRAWL_FEEDS_DIR=",
        "-s",
        "DOWNLOAD_DELAY=0",
        "-s",
        "AUTOTHROTTLE_ENABLED=False",
    ]
    default = subprocess.run(
        ["bash", "scripts/crawl.sh", *files], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert default.returncode == 0, default.stderr[-3000:]
    assert "tags xiaomi12_ultra" in default.stderr and "2 exported (2 new" in default.stderr
    other = subprocess.run(
        ["bash", "scripts/crawl.sh", "-a", "tag=windows_11", *files],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert other.returncode == 0, other.stderr[-3000:]
    assert "tags windows_11" in other.stderr and "4 exported (4 new" in other.stderr
