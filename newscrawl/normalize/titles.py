"""Titles: entities decoded, control characters dropped, whitespace collapsed, site suffixes stripped."""

from __future__ import annotations

import html
import re

# Any run of white space, the ideographic space (U+3000) and no-break spaces included.
_WHITESPACE = re.compile(r"[\s\u00a0\u2000-\u200b\u3000\ufeff]+")
# C0/C1 control characters, NUL and the non-characters U+FFFE/U+FFFF: never part of a real title, and
# not allowed in YAML; bidi embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069),
# which reorder how the rest of a title (and a file name made from it) is shown.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\u202a-\u202e\u2066-\u2069]")


def collapse_whitespace(text: str) -> str:
    """One ASCII space for every run of white space (full-width included), trimmed."""
    return _WHITESPACE.sub(" ", text).strip()


def clean_title(raw: str | None, suffixes: tuple[str, ...] = ()) -> str | None:
    """The real title from a raw one; None when nothing is left.

    Suffixes are tried longest first and repeatedly, so `X——快科技(驱动之家旗下媒体)--科技改变未来`
    and `X--快科技--科技改变未来` both become `X`; a title that is only a suffix stays as it is.
    """
    if raw is None:
        return None
    text = collapse_whitespace(_CONTROL.sub("", html.unescape(raw)))
    ordered = sorted(suffixes, key=len, reverse=True)
    stripped = True
    while stripped:
        stripped = False
        for suffix in ordered:
            if suffix and text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)].rstrip()
                stripped = True
    return text or None
