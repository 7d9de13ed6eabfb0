"""`scrapy newsite` on a real server: 快科技's bundled pages under a foreign host name drafted into a site
module and fixtures, which — once the drafts are confirmed — pass the site contract and read the same
titles and instants as the hand-written module's expected items."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import site_contract
from conftest import FIXTURES, REPO, Server

HOST = "news.example-mydrivers.test"


def load_module(path: Path):
    spec = importlib.util.spec_from_file_location(f"drafted_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def drafted(tmp_path_factory):
    work = tmp_path_factory.mktemp("newsite")
    evaluation = load_module(REPO / "benchmarks/generic_eval.py")
    assert evaluation.foreign_copy("mydrivers", work / "site") == HOST
    server = Server([work / "site"])
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "scrapy",
                "newsite",
                "kkj",
                f"https://{HOST}/tag/xiaomi12_ultra.htm",
                "--into",
                str(work / "drafts"),
                "-s",
                f"NEWSCRAWL_OFFLINE_ROOT={server.url}",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr[-3000:]
    return work / "drafts", done.stdout


def test_the_draft_is_refused_by_the_contract_until_confirmed_then_passes_it(drafted):
    drafts, out = drafted
    assert "wrote " + str(drafts / "kkj.py") in out
    site = load_module(drafts / "kkj.py").SITE
    fixtures = site_contract.load("kkj", drafts, site=site)
    with pytest.raises(AssertionError, match="missing expected item"):
        site_contract.check_fixtures_exist(fixtures)  # unconfirmed drafts are not expected items
    for draft in drafts.rglob("*.expected.draft.json"):
        draft.rename(draft.with_name(draft.name.replace(".expected.draft.json", ".expected.json")))
    for check in site_contract.ALL_CHECKS:
        check(fixtures)


def test_the_drafted_module_reads_what_the_hand_written_one_does(drafted):
    drafts, _ = drafted
    confirmed = list(drafts.rglob("*.expected*.json"))
    assert len(confirmed) == 2
    for path in confirmed:
        ours = json.loads(path.read_text(encoding="utf-8"))
        truth = json.loads(
            next((FIXTURES / "mydrivers/site").rglob(f"{ours['article_id']}.expected.json")).read_text(encoding="utf-8")
        )
        assert (ours["title"], ours["published"]) == (truth["title"], truth["published"])
        assert ours["layout"] == "drafted" and ours["fallbacks"] == {}


def test_a_name_taken_by_a_module_is_refused(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "newsite", "mydrivers", "https://x.example/", "--into", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "mydrivers is a site with a module" in done.stderr
    assert not any(tmp_path.iterdir())
