"""A model-based test of operating newscrawl for months: Hypothesis' stateful testing draws sequences of
what operators do and what sites do, and checks "nothing lost, nothing twice" after every step.

Operator actions: crawl some tags (a new tag, a re-added one, a page budget, a refresh, following the
tags the articles name; by one process or by 2 or 3 over the one state, NEWSCRAWL_PROCESSES, K changing
from one run to the next), kill -9 a crawl at a crash point, rotate the journal (logrotate's `.1`, `.2`…), delete the state (the documented
rebuild), back it up and restore it (with or without its `-wal`), lose the `-wal` after a kill, move the
whole output folder, replace the journal by a copy of itself (a restore, another disk). Site changes between runs: new articles pushing old ones to later pages, edited
titles, removed articles. The site is a modelled 快科技 (tests/synthetic_site.py) on a real 127.0.0.1
server; every crawl is a real `scrapy crawl` subprocess.

After every step: no (article, revision) twice across the journals (the run alone's and the processes')
and their rotated files, revisions
from 1 without a gap, each revision's content different from the one before, each line's story the one
the story index holds for its article, exit codes per the README's table (0, or -9 for a kill that
landed). At the end of each example, crawls without faults
until nothing is pending, then a refresh: every article on a walked tag's pages is exported, with its
current title, once per revision; posts, journal and state agree.

Size: NEWSCRAWL_MODEL_EXAMPLES (default 4) and NEWSCRAWL_MODEL_STEPS (default 12); the suite runs the
small size, `NEWSCRAWL_MODEL_EXAMPLES=40 NEWSCRAWL_MODEL_STEPS=14 pytest tests/test_operations_model.py`
the large one (figures in docs/reliability.md).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, Server, crawl_command
from faults import check_stories, journals_of
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from synthetic_site import article_path, write_article, write_tag

TAGS = ("alpha", "beta", "gamma")
PER_PAGE = 4
CRASH_POINTS = ("post-before-rename", "journal-mid-line", "story-recorded", "before-state-record", "after-state-record")
PROCESSES = st.sampled_from([1, 1, 2, 3])  # a crawl's NEWSCRAWL_PROCESSES
EXAMPLES = int(os.environ.get("NEWSCRAWL_MODEL_EXAMPLES", "4"))
STEPS = int(os.environ.get("NEWSCRAWL_MODEL_STEPS", "12"))
FIGURES: Counter = Counter()  # what the examples did, for the report (printed with -s)


class Operations(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.scratch = Path(tempfile.mkdtemp(prefix="newscrawl-model-"))
        self.host = self.scratch / "site" / "news.mydrivers.com"
        self.out = self.scratch / "out"
        self.server: Server | None = None
        self.listings: dict[str, list[str]] = {}  # tag → its article ids, newest first (the site's truth)
        self.titles: dict[str, str] = {}  # id → current title, for every article on the site
        self.named: dict[str, list[str]] = {}  # id → the tags the article names (its own, and the next one)
        self.walked: set[str] = set()
        self.next_id = 4_000_000
        self.backup: Path | None = None
        self.moves = 0
        # Preconditions read only these (never the disk: what a killed run left is timing, and Hypothesis
        # needs the same draws to choose the same rules).
        self.crawled = False
        self.killed = False
        FIGURES["examples"] += 1

    # The site ------------------------------------------------------------------------------------

    @initialize(alpha=st.integers(1, 12), beta=st.integers(1, 8), shared=st.integers(0, 4), gamma=st.integers(1, 6))
    def build_site(self, alpha: int, beta: int, shared: int, gamma: int) -> None:
        self.listings = {
            "alpha": self._new(alpha, "alpha"),
            "beta": self._new(beta, "beta"),
            "gamma": self._new(gamma, "gamma"),
        }
        self.listings["beta"] = self.listings["alpha"][:shared] + self.listings["beta"]
        for tag in TAGS:
            write_tag(self.host, tag, self.listings[tag], PER_PAGE)
        self.server = Server([self.scratch / "site"])

    def _new(self, count: int, tag: str) -> list[str]:
        ids = []
        for _ in range(count):
            article_id = str(self.next_id)
            self.next_id += 1
            self.titles[article_id] = f"〈{article_id}·1〉"
            self.named[article_id] = [tag, TAGS[(TAGS.index(tag) + 1) % len(TAGS)]]
            write_article(self.host, article_id, self.titles[article_id], self.named[article_id])
            ids.append(article_id)
        return ids

    @rule(tag=st.sampled_from(TAGS), count=st.integers(1, 6))
    def publish(self, tag: str, count: int) -> None:
        """New articles on top of a tag's first page: the older ones move to later pages."""
        self.listings[tag] = self._new(count, tag) + self.listings[tag]
        write_tag(self.host, tag, self.listings[tag], PER_PAGE)

    @rule(data=st.data())
    @precondition(lambda self: self.titles)
    def edit(self, data: st.DataObject) -> None:
        article_id = data.draw(st.sampled_from(sorted(self.titles)))
        version = int(self.titles[article_id].rstrip("〉").rsplit("·", 1)[1]) + 1
        self.titles[article_id] = f"〈{article_id}·{version}〉"
        write_article(self.host, article_id, self.titles[article_id], self.named[article_id])

    @rule(data=st.data())
    @precondition(lambda self: self._removable())
    def remove(self, data: st.DataObject) -> None:
        """An article taken down: gone from its page and from every listing (no tag is left empty: an empty
        listing page is a layout alarm, by design)."""
        article_id = data.draw(st.sampled_from(self._removable()))
        del self.titles[article_id]
        article_path(self.host, article_id).unlink()
        for tag in TAGS:
            if article_id in self.listings[tag]:
                self.listings[tag].remove(article_id)
                write_tag(self.host, tag, self.listings[tag], PER_PAGE)

    def _removable(self) -> list[str]:
        return sorted(i for i in self.titles if all(self.listings[tag] != [i] for tag in TAGS))

    # Operator actions ----------------------------------------------------------------------------

    def _args(self, tags: list[str], *extra: str) -> list[str]:
        assert self.server is not None
        return crawl_command(self.out, self.server, "-a", "tag=" + ",".join(sorted(tags)), *extra, incremental=True)

    def _crawl(
        self, tags: list[str], *extra: str, env: dict[str, str] | None = None, processes: int = 1
    ) -> subprocess.CompletedProcess:
        self.out.mkdir(parents=True, exist_ok=True)
        self.walked |= set(tags)
        self.crawled = True
        FIGURES["crawls"] += 1
        if processes > 1:
            FIGURES[f"crawls by {processes} processes"] += 1
        return subprocess.run(
            self._args(tags, *extra, "-s", f"NEWSCRAWL_PROCESSES={processes}"),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=180,
            env={**os.environ, **(env or {})},
        )

    @rule(
        tags=st.sets(st.sampled_from(TAGS), min_size=1),
        budget=st.sampled_from([None, 1, 2]),
        refresh=st.booleans(),
        processes=PROCESSES,
    )
    def crawl(self, tags: set[str], budget: int | None, refresh: bool, processes: int) -> None:
        extra = (["-a", f"max_pages={budget}"] if budget else []) + (["-a", "refresh=1"] if refresh else [])
        done = self._crawl(sorted(tags), *extra, processes=processes)
        assert done.returncode == 0, done.stderr[-4000:]

    @rule(tag=st.sampled_from(TAGS))
    def follow_tags(self, tag: str) -> None:
        """A tag and the tags its articles name (one hop): those become walked tags too."""
        done = self._crawl([tag], "-a", "follow_tags=1")
        assert done.returncode == 0, done.stderr[-4000:]
        followed = {named for article_id in self.listings[tag] for named in self.named[article_id]} - {tag}
        FIGURES["tags followed"] += len(followed)
        self.walked |= followed

    @rule(processes=PROCESSES)
    @precondition(lambda self: self.walked)
    def scheduled_run(self, processes: int) -> None:
        """The cron job: every tag walked so far, at the default budget."""
        done = self._crawl(sorted(self.walked), processes=processes)
        assert done.returncode == 0, done.stderr[-4000:]

    @rule(
        tags=st.sets(st.sampled_from(TAGS), min_size=1),
        point=st.sampled_from(CRASH_POINTS),
        nth=st.integers(1, 5),
        processes=PROCESSES,
    )
    def killed_crawl(self, tags: set[str], point: str, nth: int, processes: int) -> None:
        """Every process that reaches the crash point dies there (p1, the launcher: -9; another: exit 2)."""
        done = self._crawl(sorted(tags), env={"NEWSCRAWL_CRASH_AT": f"{point}:{nth}"}, processes=processes)
        landed = done.returncode == -9 or "was killed by signal 9" in done.stderr
        assert done.returncode in (0, -9) or (done.returncode == 2 and landed), done.stderr[-4000:]
        FIGURES["kills landed" if landed else "kills not reached (fewer articles)"] += 1
        self.killed = True

    @rule()
    @precondition(lambda self: self.crawled)
    def rotate_journal(self) -> None:
        """logrotate without copytruncate, of every journal: .N → .N+1, the journal → .1."""
        for journal in journals_of(self.out):
            rotated = sorted(
                (int(p.name.rsplit(".", 1)[1]), p) for p in self.out.glob(f"{journal.name}.*") if p.name[-1].isdigit()
            )
            for number, path in reversed(rotated):
                path.rename(self.out / f"{journal.name}.{number + 1}")
            journal.rename(self.out / f"{journal.name}.1")
            FIGURES["rotations"] += 1

    @rule()
    @precondition(lambda self: self.crawled)
    def copy_journal(self) -> None:
        """Each journal replaced by a copy of itself (restored from a backup, moved to another disk): the
        same bytes on another inode."""
        for journal in journals_of(self.out):
            copy = self.out / f"{journal.name}.copying"
            shutil.copyfile(journal, copy)
            os.replace(copy, journal)
            FIGURES["journals copied"] += 1

    @rule()
    @precondition(lambda self: self.crawled)
    def delete_state(self) -> None:
        for path in self.out.glob("state.sqlite*"):
            path.unlink()
        FIGURES["states deleted"] += 1

    @rule()
    @precondition(lambda self: self.crawled)
    def back_up_state(self) -> None:
        self.backup = self.scratch / f"backup-{FIGURES['crawls']}"
        self.backup.mkdir(exist_ok=True)
        for path in self.out.glob("state.sqlite*"):
            if not path.name.endswith(".lock"):
                shutil.copy2(path, self.backup / path.name)

    @rule(with_wal=st.booleans())
    @precondition(lambda self: self.backup is not None)
    def restore_state(self, with_wal: bool) -> None:
        """An older copy of the state back in place (with its -wal, or without it)."""
        assert self.backup is not None
        for path in self.out.glob("state.sqlite*"):
            if not path.name.endswith(".lock"):
                path.unlink()
        for path in self.backup.iterdir():
            if with_wal or not path.name.endswith(("-wal", "-shm")):
                shutil.copy2(path, self.out / path.name)
        FIGURES["states restored"] += 1

    @rule()
    @precondition(lambda self: self.killed)
    def lose_wal(self) -> None:
        """The -wal a killed run left, lost (a careless cleanup, a backup of the main file alone)."""
        lost = [path for path in self.out.glob("state.sqlite-*")]
        for path in lost:
            path.unlink()
        FIGURES["-wal files lost" if lost else "-wal files to lose: none"] += 1

    @rule()
    @precondition(lambda self: self.crawled)
    def move_output(self) -> None:
        self.moves += 1
        target = self.scratch / f"out-moved-{self.moves}"
        self.out.rename(target)
        self.out = target
        FIGURES["output folders moved"] += 1

    # What must always hold -----------------------------------------------------------------------

    def _journal_lines(self) -> list[dict]:
        lines = []
        for journal in sorted(self.out.glob("items*.jsonl*")):
            for raw in journal.read_bytes().split(b"\n"):
                try:
                    lines.append(json.loads(raw))
                except ValueError:  # a torn last line a kill left: the next run cuts it
                    continue
        return lines

    @invariant()
    def each_revision_once_and_each_a_change(self) -> None:
        FIGURES["invariant checks"] += 1
        lines = self._journal_lines()
        twice = [key for key, n in Counter((i["article_id"], i["revision"]) for i in lines).items() if n > 1]
        assert not twice, f"exported twice: {twice}"
        by_id: dict[str, dict[int, dict]] = {}
        for item in lines:
            by_id.setdefault(item["article_id"], {})[item["revision"]] = item
        for article_id, revisions in by_id.items():
            assert sorted(revisions) == list(range(1, len(revisions) + 1)), (
                f"{article_id}: revisions {sorted(revisions)}"
            )
            for number in range(2, len(revisions) + 1):
                before, after = revisions[number - 1], revisions[number]
                assert (before["title"], before["body_html"], before["images"]) != (
                    after["title"],
                    after["body_html"],
                    after["images"],
                ), f"{article_id} revision {number} changed nothing"
        check_stories(self.out, lines)

    def teardown(self) -> None:
        try:
            if self.server is not None and self.walked:
                self._settle()
        finally:
            if self.server is not None:
                self.server.stop()
            shutil.rmtree(self.scratch, ignore_errors=True)

    def _settle(self) -> None:
        """Crawls without faults until nothing is pending, then a refresh: everything reachable is exported."""
        tags = sorted(self.walked)
        for _ in range(12):
            done = self._crawl(tags)
            assert done.returncode == 0, done.stderr[-4000:]
            pending = json.loads((self.out / "summary.json").read_text(encoding="utf-8"))["pending"]
            if not any(pending.values()):
                break
        else:
            raise AssertionError(f"work still pending after 12 runs without faults: {pending}")
        refreshed = self._crawl(tags, "-a", "refresh=1")
        assert refreshed.returncode == 0, refreshed.stderr[-4000:]
        self.each_revision_once_and_each_a_change()
        latest: dict[str, dict] = {}
        for item in self._journal_lines():
            if item["revision"] >= latest.get(item["article_id"], {}).get("revision", 0):
                latest[item["article_id"]] = item
        reachable = {article_id for tag in tags for article_id in self.listings[tag]}
        missing = sorted(reachable - latest.keys())
        assert not missing, f"never exported: {missing} (walked {tags})"
        stale = sorted(i for i in reachable if self.titles[i] not in latest[i]["title"])
        assert not stale, f"exported, but not their current title after a refresh: {stale}"
        posts = {path.stem for path in (self.out / "posts/mydrivers").glob("*.md")}
        assert posts == set(latest), f"posts and journal disagree: {sorted(posts ^ set(latest))[:10]}"
        with sqlite3.connect(self.out / "state.sqlite") as db:
            known = dict(db.execute("SELECT article_id, revision FROM articles"))
        assert known == {i: item["revision"] for i, item in latest.items()}, "the state disagrees with the journals"
        FIGURES["articles checked"] += len(reachable)


# No shrinking: every step is a real crawl, and the failing sequence is printed as drawn.
Operations.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
TestOperations = Operations.TestCase


@pytest.fixture(scope="module", autouse=True)
def report_figures() -> Iterator[None]:
    """What the examples did, printed after them (run with -s): the figures in docs/reliability.md."""
    yield
    print("\noperations model:", dict(FIGURES))
