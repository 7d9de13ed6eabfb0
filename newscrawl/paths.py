"""Where a run's files go: every path setting, its `%(name)s` and `%(worker)s` filled in one place.

Files (the journal, the SQLite state, the summary, the run history) may name the spider and the
worker; folders (posts, feeds, WARC files, the image store) are taken as they are. A process of several
over one state (newscrawl.shares) has its own journal, summary and run history, named after it
(`mydrivers.jsonl` → `mydrivers.p2.jsonl`) unless the setting names the worker already; the state is theirs
to share.
"""

from __future__ import annotations

import socket
from pathlib import Path

from scrapy.settings import BaseSettings

from newscrawl.shares import Share

# Field → setting, for the files and the folders a run may write.
FILE_SETTINGS = {
    "journal": "NEWSCRAWL_JSONL",
    "state": "NEWSCRAWL_STATE",
    "summary": "NEWSCRAWL_SUMMARY_FILE",
    "runs": "NEWSCRAWL_RUNS_FILE",
}
PER_PROCESS = ("journal", "summary", "runs")  # a process of several has its own
FOLDER_SETTINGS = {
    "posts": "NEWSCRAWL_POSTS_DIR",
    "feeds": "NEWSCRAWL_FEEDS_DIR",
    "warc": "NEWSCRAWL_WARC_DIR",
    "images": "NEWSCRAWL_IMAGES_STORE",
}


class BadPathTemplate(ValueError):
    """A file setting uses a `%(…)s` other than name and worker, or a stray `%`."""


def worker_name(settings: BaseSettings) -> str:
    """A process' name among several (`p2`), else NEWSCRAWL_WORKER, else this machine's name: stable
    across restarts, so a rerun finds its journal."""
    share = Share.of(settings)
    if share is not None:
        return share.worker
    return settings.get("NEWSCRAWL_WORKER") or socket.gethostname()


def own_file(path: Path, worker: str) -> Path:
    """`path` with the worker's name before its suffix: `output/mydrivers.jsonl` → `output/mydrivers.p2.jsonl`."""
    return path.with_name(f"{path.stem}.{worker}{path.suffix}")


def fill(setting: str, template: str, spider_name: str, worker: str) -> Path:
    """`template` with the spider's name and the worker's filled in; BadPathTemplate naming `setting`."""
    try:
        return Path(template % {"name": spider_name, "worker": worker})
    except (KeyError, TypeError, ValueError) as error:
        raise BadPathTemplate(f"{setting} {template!r} may use %(name)s and %(worker)s only ({error})") from None


class OutputPaths:
    """The paths of one spider's run on one worker; None where the setting is empty (that output is off).
    Each is filled when first asked for, so a bad template fails only what uses it (`check` asks for all)."""

    def __init__(self, settings: BaseSettings, spider_name: str) -> None:
        self._settings = settings
        self._spider_name = spider_name

    @classmethod
    def of(cls, settings: BaseSettings, spider_name: str) -> OutputPaths:
        return cls(settings, spider_name)

    def _file(self, field: str) -> Path | None:
        setting = FILE_SETTINGS[field]
        template = self._settings.get(setting)
        if not template:
            return None
        worker = worker_name(self._settings)
        path = fill(setting, template, self._spider_name, worker)
        if field in PER_PROCESS and "%(worker)s" not in template and Share.of(self._settings) is not None:
            return own_file(path, worker)
        return path

    def _folder(self, setting: str) -> Path | None:
        folder = self._settings.get(setting)
        return Path(folder) if folder else None

    @property
    def journal(self) -> Path | None:
        return self._file("journal")

    @property
    def state(self) -> Path | None:
        return self._file("state")

    @property
    def summary(self) -> Path | None:
        return self._file("summary")

    @property
    def runs(self) -> Path | None:
        return self._file("runs")

    @property
    def posts(self) -> Path | None:
        return self._folder(FOLDER_SETTINGS["posts"])

    @property
    def feeds(self) -> Path | None:
        return self._folder(FOLDER_SETTINGS["feeds"])

    @property
    def warc(self) -> Path | None:
        return self._folder(FOLDER_SETTINGS["warc"])

    @property
    def images(self) -> Path | None:
        return self._folder(FOLDER_SETTINGS["images"])

    def settings(self) -> list[tuple[str, Path | None, bool]]:
        """(setting, path, whether it is a folder) for every path, the folders first; BadPathTemplate
        for the first file setting that cannot be filled."""
        return [(setting, self._folder(setting), True) for setting in FOLDER_SETTINGS.values()] + [
            (setting, self._file(field), False) for field, setting in FILE_SETTINGS.items()
        ]

    def check(self) -> None:
        """BadPathTemplate naming the first file setting that cannot be filled."""
        self.settings()
