"""Where a run's files go: every path setting, its `%(name)s` and `%(worker)s` filled in one place.

Files (the journal, the SQLite state, the summary, the run history) may name the spider and the
worker; folders (posts, feeds, WARC files, the image store) are taken as they are.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, fields
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


@dataclass(frozen=True, slots=True)
class OutputPaths:
    """The paths of one spider's run on one worker; None where the setting is empty (that output is off)."""

    journal: Path | None
    state: Path | None
    summary: Path | None
    runs: Path | None
    posts: Path | None
    feeds: Path | None
    warc: Path | None
    images: Path | None

    @classmethod
    def of(cls, settings: BaseSettings, spider_name: str) -> OutputPaths:
        worker = worker_name(settings)
        values: dict[str, Path | None] = {}
        for name, setting in FILE_SETTINGS.items():
            template = settings.get(setting)
            values[name] = fill(setting, template, spider_name, worker) if template else None
        for name, setting in FOLDER_SETTINGS.items():
            folder = settings.get(setting)
            values[name] = Path(folder) if folder else None
        return cls(**values)

    def settings(self) -> list[tuple[str, Path | None, bool]]:
        """(setting, path, whether it is a folder) for every path."""
        return [
            (
                FILE_SETTINGS.get(field.name) or FOLDER_SETTINGS[field.name],
                getattr(self, field.name),
                field.name in FOLDER_SETTINGS,
            )
            for field in fields(self)
        ]
