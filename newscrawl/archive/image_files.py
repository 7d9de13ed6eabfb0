"""The image store's files (newscrawl.archive.images): which bytes are kept, what they are named, how they
are written. No Scrapy here: the image store process (newscrawl.archive.image_store) runs this, and so
does the crawl process when that process is off or gone.
"""

from __future__ import annotations

import hashlib
from io import BytesIO
from pathlib import Path

from newscrawl.state.files import write_atomically

# Pillow's format name → the file extension the store uses. Nothing else is kept.
RASTER_FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}


class NotStored(Exception):
    """An image file this run did not store: `status` "failed" or "refused", and a reason (a stat name)."""

    def __init__(self, status: str, reason: str, detail: str = "") -> None:
        super().__init__(f"{status}: {reason}" + (f" ({detail})" if detail else ""))
        self.status = status
        self.reason = reason
        self.detail = detail


def image_extension(body: bytes, max_pixels: int) -> str:
    """The store's extension for `body` when its bytes are a raster image worth keeping; raises NotStored
    ("refused") otherwise. Only the header is read (Pillow's `open` decodes no pixels), so a
    decompression bomb is refused by its declared size without being expanded."""
    from PIL import Image as PillowImage  # noqa: PLC0415 (imported only when images are mirrored)
    from PIL import UnidentifiedImageError  # noqa: PLC0415

    if b"<svg" in body[:1024].lower():
        raise NotStored("refused", "svg")
    try:
        with PillowImage.open(BytesIO(body), formats=tuple(RASTER_FORMATS)) as picture:
            kind, (width, height) = picture.format, picture.size
    except PillowImage.DecompressionBombError:  # beyond twice Pillow's own limit: refused by Pillow itself
        raise NotStored("refused", "bomb") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise NotStored("refused", "not_raster", str(error)) from None
    if width * height > max_pixels:
        raise NotStored("refused", "bomb", f"{width}×{height} pixels declared")
    if width <= 1 and height <= 1:
        raise NotStored("refused", "tracking_pixel")
    return RASTER_FORMATS[kind or ""]


def file_name(body: bytes, max_pixels: int) -> tuple[str, str]:
    """Where the store keeps `body` (`ab/<sha256>.jpg`, below its folder) and its checksum; raises
    NotStored ("refused") for bytes it does not keep."""
    extension = image_extension(body, max_pixels)
    checksum = hashlib.sha256(body).hexdigest()
    return f"{checksum[:2]}/{checksum}.{extension}", checksum


def store_new(root: Path, path: str, body: bytes, sync_folder: bool, point: str) -> bool:
    """Write `body` under `path` below the store's folder `root`, atomically; False when a file is there
    already (the name is the hash of the bytes: it is this one). With `sync_folder`, the new name is
    made durable now; else that is the caller's (a batch's commit barrier). `point`: the crash point
    before the rename (newscrawl.dev.crash_points), named for the process writing."""
    target = root.joinpath(*path.split("/"))
    if target.is_file():
        return False
    write_atomically(target, body, point, root=root, sync_folder=sync_folder)
    return True
