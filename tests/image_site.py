"""The bundled 快科技 site with its image CDN, made inside the tests (the fixtures hold no image bytes).

Every `img1.mydrivers.com` URL an article page of the copy names (src, href, lazy attributes) is
served as a small PNG of its own, drawn here, behind hotlink protection: the devserver answers 403
unless the Referer is a news.mydrivers.com page (`img1.mydrivers.com/.referer`). The pictures are
modelled; only their URLs come from the real pages.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import struct
import zlib
from io import BytesIO
from pathlib import Path

from conftest import MYDRIVERS_SITE
from PIL import Image

IMAGE_HOST = "img1.mydrivers.com"
_IMAGE_URL = re.compile(r'https?://img1\.mydrivers\.com(/[^"\'\s<>?#]+)')


def picture(url: str, kind: str = "PNG") -> bytes:
    """A small image of its own for `url` (its colour and size come from the URL's hash)."""
    digest = hashlib.sha256(url.encode()).digest()
    image = Image.new("RGB", (8 + digest[0] % 24, 6 + digest[1] % 18), tuple(digest[2:5]))
    out = BytesIO()
    image.save(out, kind)
    return out.getvalue()


def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """A real decompression bomb: a 1-bit PNG of width × height zero pixels, whose zeros compress ~1000:1."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\0" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<script>alert(1)</script><rect width="10" height="10"/></svg>'
)


def image_site(root: Path) -> dict[str, Path]:
    """A copy of the bundled site in `root` with every article image served; image URL → its file."""
    shutil.copytree(MYDRIVERS_SITE, root)
    host = root / IMAGE_HOST
    files: dict[str, Path] = {}
    for page in sorted((root / "news.mydrivers.com" / "1").rglob("*.htm")):
        for path in _IMAGE_URL.findall(page.read_text(encoding="utf-8", errors="replace")):
            url = f"https://{IMAGE_HOST}{path}"
            if url not in files:
                files[url] = host / path.lstrip("/")
                files[url].parent.mkdir(parents=True, exist_ok=True)
                files[url].write_bytes(picture(url))
    (host / ".referer").write_text("https://news.mydrivers.com/\n", encoding="utf-8")
    return files
