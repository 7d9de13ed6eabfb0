"""Files readers may open at any moment: written whole or not at all, with the permissions the umask says,
never through a link.

Posts and the run summary are written to a temporary `.tmp-*.part` file in the same folder and
renamed over the target, so a reader sees the old file or the new one. It is created as a plain
`open()` would create it (0666 less the umask, unlike `mkstemp`'s 0600), so a blog builder or web
server running as another user can read them. A killed writer leaves its temporary
behind; `remove_stale_temporaries` finds them by their prefix, whatever machine or process made them.
Files appended to or rewritten in place (locks, the journal, the run history) are opened with
`open_regular`: a symlink or anything but a regular file at the path is refused, never followed.
An output root (NEWSCRAWL_POSTS_DIR, the feeds folder, the image store) is the operator's and may be a
link; the folders newscrawl makes below it (`posts/<site>`, `feeds/<site>`, the store's shards) must be
real folders (`ensure_folder`), so a link planted there between runs cannot send writes elsewhere. A
rename is durable once its folder is fsynced (`fsync_folder`): a post, a feed, an image file.
"""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from newscrawl.dev.crash_points import crash_point

TEMPORARY_PREFIX = ".tmp-"
TEMPORARY_SUFFIX = ".part"


def _read_umask() -> int:
    """The process umask, without changing it where the kernel reports it (`os.umask` sets it to read it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


FILE_MODE = 0o666 & ~_read_umask()


class NotARegularFile(OSError):
    """A path newscrawl writes to holds a symlink, a folder, a device or a pipe: refused, not followed."""

    def __str__(self) -> str:
        return str(self.strerror)


def open_regular(path: Path, flags: int) -> int:
    """`os.open(path, flags | O_CREAT | O_NOFOLLOW)` with the umask's permissions, refusing anything at `path`
    that is not a regular file (a planted symlink would make a write land on its target)."""
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o666)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise NotARegularFile(error.errno, f"{path} is a symbolic link: refused, not followed") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotARegularFile(errno.EINVAL, f"{path} is not a regular file: refused")
    os.set_blocking(fd, True)
    return fd


def append_whole(path: Path, data: bytes) -> None:
    """Append `data` (whole lines) in one go, or nothing: a short or failed write (a full disk) is cut
    back to where it started and raised, so no reader meets a torn line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = open_regular(path, os.O_WRONLY | os.O_APPEND)
    try:
        start = os.fstat(fd).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        except OSError:
            try:
                os.ftruncate(fd, start)
            except OSError:
                pass
            raise
    finally:
        os.close(fd)


_CHECKED_FOLDERS: set[Path] = set()


# Pages an SQLite write-ahead log grows to before a commit checkpoints it into the database (SQLite's own
# default is 1,000). A checkpoint fsyncs, on the thread of the commit that crosses the mark, which for
# the crawl state's listing records and the story index is the reactor's: a log of up to ≈40 MB makes
# that ten times rarer. The log is folded in and removed when the last connection closes.
WAL_CHECKPOINT_PAGES = 10_000


def use_wal(db: sqlite3.Connection) -> None:
    """The write-ahead log for `db`: commits not fsynced (synchronous=NORMAL: a killed process loses
    nothing, a power cut the last commits), checkpoints every WAL_CHECKPOINT_PAGES pages."""
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")


def sqlite_refusal(path: Path) -> str | None:
    """Why an SQLite database may not be opened: the first of its files (the file, its `-wal` and `-shm`)
    that is a symbolic link or not a regular file, which SQLite would follow or fail on; None: none is."""
    for companion in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if companion.is_symlink() or (companion.exists() and not companion.is_file()):
            return f"{companion} is a symbolic link or not a regular file: refused, not followed"
    return None


def ensure_folder(root: Path, folder: Path) -> None:
    """Make `folder` (below the output root `root`) and the folders between, refusing any of them that is
    a symbolic link or not a folder (NotARegularFile). Checked once per process."""
    if folder in _CHECKED_FOLDERS:
        return
    root.mkdir(parents=True, exist_ok=True)
    current = root
    for part in folder.relative_to(root).parts:
        current = current / part
        try:
            os.mkdir(current)
        except FileExistsError:
            pass
        if current.is_symlink() or not current.is_dir():
            raise NotARegularFile(errno.ENOTDIR, f"{current} is a symbolic link or not a folder: refused, not followed")
    _CHECKED_FOLDERS.add(folder)


def fsync_folder(folder: Path) -> None:
    """Make the names in `folder` (a rename, a new file) survive a power cut."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(
    path: Path,
    content: str | bytes,
    point: str = "post-before-rename",
    root: Path | None = None,
    sync_folder: bool = True,
) -> None:
    """Write `content` (text as UTF-8) to `path` via a temporary file and a rename, fsynced, mode 0666
    less the umask; then (`sync_folder`) its folder is fsynced, so the rename survives a power cut. With
    `root`, the folders from the output root to `path` are checked (`ensure_folder`). `point` names the
    crash point before the rename (newscrawl.dev.crash_points)."""
    if root is not None:
        ensure_folder(root, path.parent)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    publish_staged(stage_file(path, content), path, point)
    if sync_folder:
        fsync_folder(path.parent)


def holds(path: Path, text: str) -> bool:
    """Whether the file at `path` already holds exactly `text` (read only when the sizes agree)."""
    data = text.encode("utf-8")
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def stage_file(path: Path, content: str | bytes) -> Path:
    """The first half of `write_atomically`: `content` in a fsynced temporary file beside `path` (mode 0666
    less the umask), which `publish_staged` renames into place. A temporary never published is stale."""
    data = memoryview(content.encode("utf-8") if isinstance(content, str) else content)
    while True:  # a fresh random name; taken already (as good as never), another
        temporary = path.parent / f"{TEMPORARY_PREFIX}{secrets.token_hex(8)}{TEMPORARY_SUFFIX}"
        try:
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
            break
        except FileExistsError:
            continue
    try:
        while data:
            data = data[os.write(handle, data) :]
        os.fsync(handle)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    finally:
        os.close(handle)
    return temporary


def publish_staged(temporary: Path, path: Path, point: str = "post-before-rename") -> None:
    """The second half: the staged temporary renamed to `path` (the folder is the caller's to fsync).
    `point` names the crash point before the rename (newscrawl.dev.crash_points)."""
    try:
        crash_point(point)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def remove_stale_temporaries(folder: Path, older_than: float) -> int:
    """Delete temporaries in `folder` last written more than `older_than` seconds ago (0: all of them,
    for a writer that knows it is alone). Returns how many were removed."""
    if not folder.is_dir():
        return 0
    removed = 0
    cutoff = time.time() - older_than
    with os.scandir(folder) as entries:  # one entry at a time: a folder of 100,000 posts is not listed in memory
        for entry in entries:
            if not (entry.name.startswith(TEMPORARY_PREFIX) and entry.name.endswith(TEMPORARY_SUFFIX)):
                continue
            try:
                if older_than <= 0 or entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:  # another worker removed or renamed it meanwhile
                continue
    return removed


@contextmanager
def folder_held(folder: Path) -> Iterator[None]:
    """An exclusive `flock` on `folder` itself while the block runs: the processes of one crawl by several
    that rebuild the same files there (the feeds) do it one after the other, the last with the latest."""
    folder.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)  # the operator's folder: a link is theirs
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
