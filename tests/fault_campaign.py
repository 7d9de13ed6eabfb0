"""A seeded, randomised fault campaign: "nothing lost, nothing twice" under schedules nobody picked.

Each schedule (one seed) runs the scheduled crawl of every bundled 快科技 tag a few times with faults,
then without faults until a run has nothing left to do, and checks the invariants (every article
exactly once in the journal and as a post, no torn line, no temporary file, the state agreeing, nothing
pending). Faults per faulty run, each drawn at random:
- listing and article pages answering 503 (more times than the retries) or resetting the connection;
- SIGKILL at a crash point (a post before its rename, mid journal line, before or after the state
  commit, in the parse process, in the post staging process) for the n-th article;
- the disk (a tmpfs holding journal, state and posts) filled once the journal has k lines;
- the state file write-locked by another process once the journal has k lines (busy timeout 0.5 s).
Half the schedules capture every response into WARC files on the same disk (NEWSCRAWL_WARC_DIR), with
a kill mid-record (the crawl with its writer process) and a kill of the writer process alone among the
crash points; they also check that every article in the journal has its
response in a finished, readable WARC file, and that no unfinished file is left. Independently, half
mirror the articles' images (NEWSCRAWL_IMAGES_STORE, posts pointing at the files) from an image CDN
with hotlink protection (tests/image_site.py), with image files among the faulty URLs and a kill before
an image file's rename among the crash points (the crawl's, storing on its threads, or the image store
process' alone, the crawl storing the rest itself), half the runs fetching the files lean
(newscrawl.fetch.lean: cookies and the delay off); they check that every image of every article arrived
whole and that every post points at files that exist. An image that arrives late updates its article
(revision 2): the journal must hold each revision once. Each run, faulty or not, is a crawl by 1, 2 or 3
processes over the one state (NEWSCRAWL_PROCESSES, drawn per run: the operator changing K between runs),
so the journals are the run alone's and the processes' (`items.p2.jsonl`), checked together; a crash
point then kills every process that reaches it.

    python tests/fault_campaign.py --schedules 200 --seed 1     # the large campaign (figures in docs/reliability.md)

tests/test_fault_campaign.py runs a few schedules of it in the suite.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import MYDRIVERS_SITE, REPO, Server, crawl_command  # noqa: E402
from faults import (
    Watcher,
    campaign_cli,
    can_mount_tmpfs,
    check_captured,
    check_invariants,
    check_mirrored,  # noqa: E402
    fill_disk,
    hold_write_lock,
    journals_of,
    tmpfs,
    wait_until_unlocked,
)
from image_site import IMAGE_HOST, image_site  # noqa: E402

TAGS = "tag=xiaomi12_ultra,xiaomi,laika,windows_11,windowscaozuoxitong,nvidia,intel,amd,youxi,dianyuan"
ARTICLES = 16
CRASH_POINTS = (
    "post-before-rename",
    "journal-mid-line",
    "story-recorded",
    "before-state-record",
    "after-state-record",
    "parse-process",
    "story-told",  # the parse process, a story recorded and not yet answered
    "post-stage",
)
CAPTURE_CRASH_POINTS = ("warc-mid-record", "warc-writer")
MIRROR_CRASH_POINTS = ("image-before-rename", "image-store")  # a crawl's thread storing, the store process
CLEAN_RUNS = 4  # runs without faults allowed to finish the work
PROCESSES = (1, 1, 2, 3)  # a run's NEWSCRAWL_PROCESSES, drawn from these


@dataclass
class Outcome:
    seed: int
    runs: int = 0
    faults: Counter = field(default_factory=Counter)  # fault kind → times it landed
    articles: int = 0
    captured: bool = False  # responses captured into WARC files, and checked
    mirrored: int = 0  # image files the articles name, all stored and checked (0: images not mirrored)
    error: str | None = None
    by_several: int = 0  # runs by 2 or 3 processes
    kills_by_several: int = 0  # kills that landed in runs by 2 or 3 processes
    lean: int = 0  # faulty runs whose image files the lean fetch took (newscrawl.fetch.lean)


def _last_summary(out: Path) -> dict:
    """The summary of the process that closed last (with several, it saw every other's work done)."""
    summaries = sorted(out.glob("summary*.json"), key=lambda path: path.stat().st_mtime_ns)
    return json.loads(summaries[-1].read_text()) if summaries else {}


def _page_faults(rng: random.Random, site: Path) -> list[Path]:
    """.fault files on random listing and article pages (and image files, where the site has them);
    returns them for removal after the run."""
    host = site / "news.mydrivers.com"
    pages = sorted(host.glob("tag/*.htm")) + sorted(host.glob("1/*/*.htm"))
    chosen = rng.sample(pages, rng.randint(1, 4))
    if images := sorted(path for path in (site / IMAGE_HOST).glob("img/*/*") if path.suffix != ".fault"):
        chosen += rng.sample(images, rng.randint(0, 3))
    placed = []
    for page in chosen:
        fault = rng.choice([{"status": 503, "times": 3}, {"status": 502, "times": 3}, {"reset": True}])
        fault_file = page.with_name(page.name + ".fault")
        fault_file.write_text(json.dumps(fault))
        placed.append(fault_file)
    return placed


def run_schedule(seed: int, scratch: Path, use_tmpfs: bool) -> Outcome:
    rng = random.Random(seed)
    outcome = Outcome(seed)
    site = scratch / f"site-{seed}"
    capturing, mirroring = rng.random() < 0.5, rng.random() < 0.5
    if mirroring:
        image_site(site)
    else:
        shutil.copytree(MYDRIVERS_SITE, site)
    server = Server([site])
    disk = scratch / f"disk-{seed}"
    disk.mkdir()
    try:
        with tmpfs(disk, 8192) if use_tmpfs else _nothing(disk):
            out = disk / "out"
            out.mkdir()
            base = {"DOWNLOAD_DELAY": "0.02", "NEWSCRAWL_STATE_BUSY_TIMEOUT": "0.5", "RETRY_TIMES": "1"}
            outcome.captured = capturing
            if capturing:
                base["NEWSCRAWL_WARC_DIR"] = str(disk / "warc")
            if mirroring:
                base.update({"NEWSCRAWL_IMAGES_STORE": str(disk / "images"), "NEWSCRAWL_POST_IMAGES": "local"})
            for _ in range(rng.randint(2, 4)):
                _faulty_run(rng, out, site, server, disk, base, use_tmpfs, outcome)
            for _ in range(CLEAN_RUNS):
                processes = rng.choice(PROCESSES)
                outcome.by_several += processes > 1
                settings = {**base, "NEWSCRAWL_PROCESSES": str(processes)}
                args = crawl_command(out, server, "-a", TAGS, incremental=True, settings=settings)
                done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=180)
                outcome.runs += 1
                summary = _last_summary(out)
                if done.returncode == 0 and summary.get("pending") == {"listing_pages": 0, "articles": 0}:
                    break
            else:
                raise AssertionError(f"not done after {CLEAN_RUNS} runs without faults: {done.stderr[-2000:]}")
            outcome.articles = len(check_invariants(out, journals=journals_of(out)))
            if outcome.captured:
                check_captured(disk / "warc", journals_of(out))
            if mirroring:
                outcome.mirrored = check_mirrored(disk / "images", out)
            if outcome.articles != ARTICLES:
                raise AssertionError(f"{outcome.articles} articles, expected {ARTICLES}")
    except AssertionError as error:
        outcome.error = str(error)
    finally:
        server.stop()
        shutil.rmtree(site, ignore_errors=True)
    return outcome


class _nothing:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __enter__(self) -> Path:
        return self.folder

    def __exit__(self, *exc: object) -> None:
        return None


def _faulty_run(
    rng: random.Random,
    out: Path,
    site: Path,
    server: Server,
    disk: Path,
    base: dict[str, str],
    use_tmpfs: bool,
    outcome: Outcome,
) -> None:
    placed = _page_faults(rng, site) if rng.random() < 0.7 else []
    env = dict(os.environ)
    crash_points = (
        CRASH_POINTS
        + (CAPTURE_CRASH_POINTS if "NEWSCRAWL_WARC_DIR" in base else ())
        + (MIRROR_CRASH_POINTS if "NEWSCRAWL_IMAGES_STORE" in base else ())
    )
    crash = rng.choice(crash_points) if rng.random() < 0.5 else None
    if crash:
        env["NEWSCRAWL_CRASH_AT"] = f"{crash}:{rng.randint(1, ARTICLES)}"
    other = rng.choice(["disk", "lock", None, None]) if not crash or rng.random() < 0.3 else None
    if other == "disk" and not use_tmpfs:
        other = None
    processes = rng.choice(PROCESSES)
    outcome.by_several += processes > 1
    settings = {
        **base,
        "NEWSCRAWL_PARSE_PROCESS": str(crash in ("parse-process", "story-told") or rng.random() < 0.5),
        "NEWSCRAWL_PROCESSES": str(processes),
    }
    if "NEWSCRAWL_IMAGES_STORE" in base:
        store_process = crash == "image-store" or (crash != "image-before-rename" and rng.random() < 0.5)
        settings["NEWSCRAWL_IMAGES_STORE_PROCESS"] = str(store_process)
        if rng.random() < 0.5:  # the lean fetch takes the image files the downloader need not (newscrawl.fetch.lean)
            settings.update({"COOKIES_ENABLED": "False", "DOWNLOAD_DELAY": "0"})
    args = crawl_command(out, server, "-a", TAGS, incremental=True, settings=settings)
    journal = out / ("items.jsonl" if processes == 1 else "items.p1.jsonl")
    process = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    fillers: list[Path] = []
    holder = threading.Thread(target=hold_write_lock, args=(out / "state.sqlite", rng.uniform(0.6, 2.0)))
    watcher = None
    if other == "disk":
        watcher = Watcher(process, journal, rng.randint(0, 10), lambda: fillers.append(fill_disk(disk)))
    elif other == "lock":
        watcher = Watcher(process, journal, rng.randint(0, 10), holder.start)
    if watcher is not None:
        watcher.start()
    log = process.communicate(timeout=180)[1]
    wait_until_unlocked(out / "state.sqlite")  # a killed launcher's other processes end by themselves
    if watcher is not None:
        watcher.join()
    if holder.is_alive():
        holder.join()
    outcome.runs += 1
    outcome.lean += "Image files are fetched lean" in log
    if crash and (
        process.returncode == -9
        or "was killed by signal 9" in log  # a process of several other than the launcher
        or "in the crawl process from now on" in log  # the parse, post staging or image store process alone died
        or "WARC: the writer process ended" in log  # the WARC writer process alone died
    ):
        outcome.faults[f"kill:{crash}"] += 1
        outcome.kills_by_several += processes > 1
    if other == "disk" and watcher.landed and "No space left on device" in log:
        outcome.faults["disk_full"] += 1
    if other == "lock" and watcher.landed and "database is locked" in log:
        outcome.faults["state_locked"] += 1
    if placed and ("Gave up retrying" in log or "Error downloading" in log):
        outcome.faults["page_faults"] += 1
    if placed and "Image not stored (failed" in log:
        outcome.faults["image_faults"] += 1
    # Exit 1 is right when the disk was full or the state locked as the run opened it (before any fetch).
    started_into_fault = (
        process.returncode == 1 and other in ("disk", "lock") and "Cannot start: cannot open the crawl state" in log
    )
    # Exit 3 is the layout alarm: with most pages failing, too few articles may carry a field.
    if process.returncode not in (0, 2, 3, -9) and not started_into_fault:
        raise AssertionError(f"a faulty run exited {process.returncode}: {log[-2000:]}")
    for fault_file in placed:
        fault_file.unlink()
    for filler in fillers:
        filler.unlink()


def campaign(seeds: list[int], scratch: Path) -> list[Outcome]:
    use_tmpfs = can_mount_tmpfs(scratch)
    return [run_schedule(seed, scratch, use_tmpfs) for seed in seeds]


def _line(outcome: Outcome) -> str:
    return (
        f"seed {outcome.seed}: {outcome.runs} runs ({outcome.by_several} by several processes, "
        f"{outcome.kills_by_several} kills landed in them)"
        f"{', capturing' if outcome.captured else ''}"
        f"{f', mirroring {outcome.mirrored} images' if outcome.mirrored else ''}"
        f"{f' ({outcome.lean} runs fetching them lean)' if outcome.lean else ''}, faults {dict(outcome.faults)}, "
        f"{outcome.articles} articles"
    )


def _summary(outcomes: list[Outcome]) -> str:
    faults = sum((o.faults for o in outcomes), Counter())
    return (
        f"{len(outcomes)} schedules ({sum(o.captured for o in outcomes)} capturing into WARC files, "
        f"{sum(bool(o.mirrored) for o in outcomes)} mirroring images; {sum(o.lean for o in outcomes)} faulty runs "
        f"fetching them lean), {sum(o.runs for o in outcomes)} runs "
        f"({sum(o.by_several for o in outcomes)} by 2 or 3 processes, {sum(o.kills_by_several for o in outcomes)} "
        "kills landed in them), "
        f"{sum(faults.values())} faults landed ({dict(sorted(faults.items()))})"
    )


if __name__ == "__main__":
    campaign_cli(__doc__.split("\n\n")[0], 200, lambda seed, scratch: campaign([seed], scratch)[0], _line, _summary)
