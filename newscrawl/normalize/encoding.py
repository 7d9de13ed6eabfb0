"""Page bytes to text. No single signal is trusted: 快科技 has served GBK pages declaring gb2312, UTF-8
pages declaring gb2312 (shared/sites/mydrivers/pages/ holds one), and UTF-8 with no charset at all.

Order: a byte-order mark; then bytes that are valid UTF-8 and not plain ASCII are UTF-8 (text in a
legacy Chinese encoding is practically never valid UTF-8); then the HTTP charset, then the page's
`<meta>` charset, each only if the bytes decode under it without error; then the site's fallback;
last, UTF-8 with replacement characters, reported as lossy so the caller can count it.
"""

from __future__ import annotations

from dataclasses import dataclass

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, resolve_encoding


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str
    lossy: bool  # True when undecodable bytes were replaced (U+FFFD) — count it, never hide it


def _strict(body: bytes, encoding: str | None) -> str | None:
    if not encoding:
        return None
    try:
        return body.decode(resolve_encoding(encoding) or encoding)
    except (LookupError, UnicodeDecodeError):
        return None


def decode_html(body: bytes, content_type: str | None = None, fallback: str = "utf-8") -> Decoded:
    """Decode an HTML page's bytes, choosing the encoding as described in the module docstring."""
    bom_encoding, bom = read_bom(body)
    if bom_encoding and bom:
        return Decoded(body[len(bom) :].decode(bom_encoding, errors="replace"), bom_encoding, False)
    if not body.isascii() and (text := _strict(body, "utf-8")) is not None:
        return Decoded(text, "utf-8", False)
    candidates = (
        http_content_type_encoding(content_type) if content_type else None,
        html_body_declared_encoding(body),
        fallback,
    )
    for encoding in filter(None, candidates):
        if (text := _strict(body, encoding)) is not None:
            return Decoded(text, resolve_encoding(encoding) or encoding, False)
    return Decoded(body.decode("utf-8", errors="replace"), "utf-8", True)
