"""Images: absolute URLs, full image paired with its thumbnail, duplicates and data: URIs dropped; and what
the records of their stored files (newscrawl.archive.images) say: which to retry, where each file is."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import urlsplit

from newscrawl.items import Image, RawImage, StoredFile
from newscrawl.normalize.titles import collapse_whitespace
from newscrawl.normalize.urls import absolute_url


def is_thumbnail_of(thumbnail: str, full: str, prefixes: tuple[str, ...]) -> bool:
    """True when `thumbnail` is `full` with a thumbnail prefix on its file name, in the same folder.

    快科技: `…/20220604/s_<hex>.png` is the thumbnail of `…/20220604/<hex>.png`, and
    `…/20220709/S<uuid>.jpg` of `…/20220709/<uuid>.jpg`.
    """
    thumb_path, full_path = urlsplit(thumbnail).path, urlsplit(full).path
    if posixpath.dirname(thumb_path) != posixpath.dirname(full_path):
        return False
    thumb_name, full_name = posixpath.basename(thumb_path), posixpath.basename(full_path)
    return any(thumb_name == prefix + full_name for prefix in prefixes)


def normalize_images(raw_images: list[RawImage], base_url: str, thumbnail_prefixes: tuple[str, ...]) -> list[Image]:
    """Body images in page order, each once.

    `thumbnail` is the image as shown (its `src`); `url` is the full image the page links to when the
    link's file name is the thumbnail's without its prefix, otherwise the shown image itself.
    """
    images: list[Image] = []
    seen: set[str] = set()
    for raw in raw_images:
        shown = absolute_url(raw.src, base_url)
        if shown is None:
            continue
        link = absolute_url(raw.link, base_url)
        full = link if link and link != shown and is_thumbnail_of(shown, link, thumbnail_prefixes) else shown
        if full in seen:
            continue
        seen.add(full)
        alt = collapse_whitespace(raw.alt) if raw.alt else None
        images.append(Image(url=full, thumbnail=shown, alt=alt or None))
    return images


def head_image(images: list[Image]) -> str | None:
    """The first image as shown (the archive's `headimg`), or None without images."""
    return images[0]["thumbnail"] if images else None


# Attributes lazy-loading scripts keep the real image URL in, most specific first.
LAZY_SOURCE_ATTRIBUTES = ("data-original", "data-src", "data-lazy-src", "data-actualsrc")


def is_tracking_pixel(attributes: dict[str, str]) -> bool:
    """An `<img>` declared 1×1 (or 0×0): a beacon, not a picture."""

    def size(*names: str) -> int | None:
        for name in names:
            value = (attributes.get(name) or "").strip().removesuffix("px")
            if value.isdigit():
                return int(value)
        return None

    width, height = size("width", "w"), size("height", "h")
    return width is not None and height is not None and width <= 1 and height <= 1


def shown_source(attributes: dict[str, str]) -> str | None:
    """The URL an `<img>` really shows: a lazy-load attribute wins over a placeholder `src`."""
    for name in LAZY_SOURCE_ATTRIBUTES:
        value = (attributes.get(name) or "").strip()
        if value and not value.lower().startswith("data:"):
            return value
    return attributes.get("src")


# Why an image file was not stored (StoredFile.reason) when the cause may pass: later runs fetch it again.
_PASSING_REASONS = frozenset(
    {"timeout", "connection", "download_error", "store_error", "not_fetched", "held_back", "http_408", "http_429"}
)


def may_pass(reason: str | None) -> bool:
    """True for failures a later try may get past: timeouts, lost connections, 5xx, 408/429, a store write,
    a host's Retry-After past this run."""
    return reason is not None and (reason in _PASSING_REASONS or (reason.startswith("http_5") and len(reason) == 8))


def retry_wanted(file: StoredFile | None, now: float, window: float) -> bool:
    """A file that failed for a reason that may pass, first less than `window` seconds before `now`."""
    if file is None or file["status"] != "failed" or not may_pass(file["reason"]) or not file["failed_since"]:
        return False
    return now - datetime.fromisoformat(file["failed_since"]).timestamp() < window


def file_records(images: list[Image]) -> Iterator[tuple[str, StoredFile]]:
    """(URL, record) of every file `images` have a record of: the full-size one, and the thumbnail where
    it is another URL. Nothing for images not mirrored."""
    for image in images:
        if file := image.get("file"):
            yield image["url"], file
        if thumbnail := image.get("thumbnail_file"):
            yield image["thumbnail"], thumbnail


def awaiting_retry(images: list[Image], now: float, window: float) -> bool:
    """Whether a later run should fetch some of these images' files again (`retry_wanted`)."""
    return any(retry_wanted(file, now, window) for _, file in file_records(images))


def stored_files(images: list[Image]) -> dict[str, str]:
    """Image URL → its stored file's path in the store, for every file of `images` that was stored."""
    return {url: file["path"] for url, file in file_records(images) if file["status"] == "stored" and file["path"]}
