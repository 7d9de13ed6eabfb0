"""The image store process' side (newscrawl.archive.images starts it as
`python -m newscrawl.archive.image_store STORE MAX_PIXELS SYNC_FOLDERS`): an image's bytes in on stdin,
what became of them out on stdout, one image at a time.

Each file is checked, named and written as newscrawl.archive.image_files says, on a core of its own. In
the crawl process, the threads writing files took the GIL from the reactor at each of a file's system
calls (docs/performance.md). With SYNC_FOLDERS "0", the crawl makes the new names durable with its
journal batches; with "1", each one is synced here.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, BinaryIO

from newscrawl.archive.image_files import NotStored, file_name, store_new
from newscrawl.children import answer, helper_answers, messages


def serve(source: BinaryIO, sink: BinaryIO, root: Path, max_pixels: int, sync_folders: bool) -> None:
    """The loop: bytes in, ("stored", path, checksum, new) or ("not_stored", status, reason, detail) out,
    until `source` ends."""
    for body in messages(source):
        outcome: tuple[Any, ...]
        try:
            path, checksum = file_name(body, max_pixels)
            outcome = ("stored", path, checksum, store_new(root, path, body, sync_folders, "image-store"))
        except NotStored as refused:
            outcome = ("not_stored", refused.status, refused.reason, refused.detail)
        except OSError as error:  # a full disk, a folder that cannot be made or is a link
            outcome = ("not_stored", "failed", "store_error", str(error))
        answer(sink, outcome)


def main() -> None:
    answers = helper_answers()
    store, max_pixels, sync_folders = sys.argv[1:4]
    serve(sys.stdin.buffer, answers, Path(store), int(max_pixels), sync_folders == "1")


if __name__ == "__main__":
    main()
