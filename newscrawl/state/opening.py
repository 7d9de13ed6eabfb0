"""Opening a run's memory: the backend the settings name (SQLite, or Redis for a distributed run), the
journal it keeps its place in, and the key that place is recorded under."""

from __future__ import annotations

import re
from pathlib import Path

from scrapy.settings import BaseSettings

from newscrawl.paths import FILE_SETTINGS, OutputPaths, fill, own_file, worker_name
from newscrawl.state.base import CrawlState
from newscrawl.state.journal import Journal
from newscrawl.state.sqlite import SqliteState


def configured(settings: BaseSettings) -> bool:
    """False for a one-off run: no journal, or no crawl state."""
    return bool(
        settings.get("NEWSCRAWL_JSONL") and (settings.get("NEWSCRAWL_STATE") or settings.get("NEWSCRAWL_REDIS_URL"))
    )


def journal_path(settings: BaseSettings, spider_name: str, distributed: bool, worker: str) -> Path:
    """The journal's file; in a distributed run one per worker (`mydrivers.jsonl` → `mydrivers.w1.jsonl`)
    unless NEWSCRAWL_JSONL names the worker already."""
    path = OutputPaths.of(settings, spider_name).journal
    assert path is not None  # configured()
    if distributed and "%(worker)s" not in settings.get("NEWSCRAWL_JSONL"):
        path = own_file(path, worker)
    return path


def journal_family(settings: BaseSettings, spider_name: str) -> list[Path]:
    """The journals of every process that crawls over this run's SQLite state, now or before: the journal
    of a run alone (`mydrivers.jsonl`) and those of the processes of a crawl by several
    (`mydrivers.p<N>.jsonl`, newscrawl.shares), those with a file or a rotated file (`.1`, `.2`…, or
    compressed: a journal rotated since its last run is read through its rotated files, and told of
    compressed ones). None when NEWSCRAWL_JSONL
    names the worker (each worker keeps its own) or the state is Redis' (distributed workers)."""
    template = settings.get(FILE_SETTINGS["journal"])
    if not template or "%(worker)s" in template or settings.get("NEWSCRAWL_REDIS_URL"):
        return []
    alone = fill(FILE_SETTINGS["journal"], template, spider_name, "")
    named = re.compile(
        "(" + re.escape(alone.stem) + r"(?:\.p[0-9]+)?" + re.escape(alone.suffix) + r")(?:\.[0-9]+(?:\.gz)?)?"
    )
    found = {
        alone.with_name(match.group(1))
        for path in alone.parent.glob(f"{alone.stem}*{alone.suffix}*")
        if (match := named.fullmatch(path.name))
    }
    return sorted(found, key=lambda path: (path != alone, path.name))


def open_memory(settings: BaseSettings, spider_name: str, site: str) -> tuple[CrawlState, Journal, str]:
    """The state (locked for this run), its journal, and the journal's key in the state. Raises
    StateUnusable or JournalError (the run must not start), StateError or OSError (it may next time)."""
    redis_url = settings.get("NEWSCRAWL_REDIS_URL")
    worker = worker_name(settings)
    path = journal_path(settings, spider_name, bool(redis_url), worker)
    state: CrawlState
    if redis_url:
        from newscrawl.state.redis import RedisState  # redis is imported only by distributed runs

        state = RedisState(redis_url, site, worker, settings.getfloat("NEWSCRAWL_REDIS_CLAIM_TTL"))
        key = f"{worker}:{path.name}"
    else:
        state_path = OutputPaths.of(settings, spider_name).state
        assert state_path is not None  # configured()
        inherited = settings.get("NEWSCRAWL_STATE_LOCK_FD")  # a process of several (newscrawl.run.processes)
        state = SqliteState(
            state_path,
            site,
            settings.getfloat("NEWSCRAWL_STATE_BUSY_TIMEOUT"),
            int(inherited) if inherited not in (None, "") else None,
        )
        key = str(path.resolve())
    try:
        return state, Journal(path), key
    except BaseException:
        state.close()
        raise
