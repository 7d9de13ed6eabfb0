"""Files staged in a process of their own, a batch at a time (`python -m newscrawl.state.stager`).

The post writer's thread (newscrawl.pipelines.export) hands each of its batches over: a list of
(path, text) goes to the process' stdin, and for each file comes back the staged temporary
(`stage_file`: written, fsynced, not yet renamed), None when the file already holds that text, or
the OSError. On the thread, each of a file's system calls gave the GIL back to the reactor and took
it again; here the thread waits on one pipe per batch (docs/performance.md). The renames stay the
journal's commit's, in the crawl process. If the process cannot start or ends, `stage` raises
StagerGone and the caller stages on its own thread from then on.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO

from newscrawl.children import HEADER, answer, child_environment, frame, helper_answers, messages
from newscrawl.dev.crash_points import crash_point
from newscrawl.state.files import holds, stage_file

Staged = Path | None | OSError  # the temporary, None (already there), or why not


class StagerGone(RuntimeError):
    """The staging process has ended or could not start."""


class Stager:
    """The crawl's side, used from one thread: started with the first batch, ended by `close`."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self.gone = False

    def stage(self, files: list[tuple[Path, str]]) -> list[Staged]:
        """Each file staged in the process, in order."""
        if self.gone:
            raise StagerGone("the post staging process has ended")
        try:
            if self._process is None:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "newscrawl.state.stager"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    env=child_environment(),
                )
            assert self._process.stdin is not None and self._process.stdout is not None
            self._process.stdin.write(frame(files))
            self._process.stdin.flush()
            header = self._process.stdout.read(HEADER.size)
            if len(header) < HEADER.size:
                raise EOFError(f"exit status {self._process.poll()}")
            (size,) = HEADER.unpack(header)
            staged = self._process.stdout.read(size)
            if len(staged) < size:
                raise EOFError(f"exit status {self._process.poll()}")
        except (OSError, EOFError) as error:
            self.gone = True
            raise StagerGone(f"the post staging process ended or could not start ({error})") from None
        return pickle.loads(staged)

    def close(self) -> None:
        """End the process (it exits when its stdin closes) and wait for it."""
        if self._process is not None:
            if self._process.stdin is not None:
                try:
                    self._process.stdin.close()
                except OSError:
                    pass  # it had ended
            self._process.wait()
            self._process = None


def stage(path: Path, text: str) -> Staged:
    """One file staged, wherever it is done: its temporary, None when `path` holds `text` already, or
    the OSError."""
    try:
        return None if holds(path, text) else stage_file(path, text)
    except OSError as error:
        return error


def serve(source: BinaryIO, sink: BinaryIO) -> None:
    """The process' loop: a batch in, its answers out, until `source` ends."""
    for batch in messages(source):
        staged: list[Staged] = []
        for path, text in batch:
            crash_point("post-stage")
            staged.append(stage(Path(path), text))
        answer(sink, staged)


def main() -> None:
    serve(sys.stdin.buffer, helper_answers())


if __name__ == "__main__":
    main()
