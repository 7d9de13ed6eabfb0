"""Where a run's files go: every path setting, its `%(name)s` and `%(worker)s` filled in one place.

Files (the journal, the SQLite state, the summary, the run history) may name the spider and the
worker; folders (posts, feeds, WARC files, the image store) are taken as they are.
"""

from __future__ import annotations

import socket
from pathlib import Path

from scrapy.settings import BaseSettings

# Field → setting, for the files and the folders a run may write.
FILE_SETTINGS = {
    "journal": "NEWSCRAWL_JSONL",
    "state": "NEWSCRAWL_STATE",
    "summary": "NEWSCRAWL_SUMMARY_FILE",
    "runs": "NEWSCRAWL_RUNS_FILE",
}
FOLDER_SETTINGS = {
    "posts": "NEWSCRAWL_POSTS_DIR",
    "feeds": "NEWSCRAWL_FEEDS_DIR",
    "warc": "NEWSCRAWL_WARC_DIR",
    "images": "NEWSCRAWL_IMAGES_STORE",
}


class BadPathTemplate(ValueError):
    """A file setting uses a `%(…)s` other than name and worker, or a stray `%`."""


def worker_name(settings: BaseSettings) -> str:
    """NEWSCRAWL_WORKER, else this machine's name: stable across restarts, so a rerun finds its journal."""
    return settings.get("NEWSCRAWL_WORKER") or socket.gethostname()


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

    def _file(self, setting: str) -> Path | None:
        template = self._settings.get(setting)
        return fill(setting, template, self._spider_name, worker_name(self._settings)) if template else None

    def _folder(self, setting: str) -> Path | None:
        folder = self._settings.get(setting)
        return Path(folder) if folder else None

    @property
    def journal(self) -> Path | None:
        return self._file(FILE_SETTINGS["journal"])

    @property
    def state(self) -> Path | None:
        return self._file(FILE_SETTINGS["state"])

    @property
    def summary(self) -> Path | None:
        return self._file(FILE_SETTINGS["summary"])

    @property
    def runs(self) -> Path | None:
        return self._file(FILE_SETTINGS["runs"])

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
            (setting, self._file(setting), False) for setting in FILE_SETTINGS.values()
        ]

    def check(self) -> None:
        """BadPathTemplate naming the first file setting that cannot be filled."""
        self.settings()
