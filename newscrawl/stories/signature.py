"""An article body as a MinHash signature of its text's character shingles, for near-duplicate search.

Chinese is not split into words: the text (markup gone, NFKC, lower case, white space and punctuation
removed) is cut into overlapping runs of `SHINGLE` characters, and their MinHash stands for the set.
The index (newscrawl.stories.index) compares signatures. The shingle size and the threshold were
chosen on the labelled set of `benchmarks/stories_eval.py` (docs/stories.md).

The MinHash is datasketch's (2.0, scheme `affine32`, seed 1), worked out here with numpy, value for
value: importing datasketch imports scipy, 0.42 s of every run's parse process, and its per-value
hash function is a Python call a shingle. tests/unit/test_story_signature.py checks every labelled
body's signature and the permutations against datasketch's own.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import numpy as np
from lxml import html as lxml_html

SHINGLE = 4  # characters per shingle
NUM_PERM = 128  # MinHash permutations: the signature is 128 × 8 bytes
SEED = 1  # fixed, as the hashing scheme: signatures stored by one run are compared with the next run's
SCHEME = "affine32"  # datasketch's name for it: values h ↦ a·h + b mod 2³², a odd, after MurmurHash3's fmix32
MIN_TEXT = 40  # characters: a body shorter than this is its own story (too little to compare)
_FNV_PRIME = np.uint64(0x100000001B3)
_MIX_1, _MIX_2 = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)
_MIX32_1, _MIX32_2 = np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)


# What is not a letter or a digit: `\w` in a str pattern is Unicode's categories L and N, and "_"
# (tests/unit/test_story_signature.py checks every code point).
_NOT_LETTER_OR_DIGIT = re.compile(r"[\W_]+")


def story_text(body_html: str) -> str:
    """The letters and digits of a body, in order: no markup, no white space, no punctuation or symbols."""
    text = lxml_html.fromstring(f"<div>{body_html}</div>").text_content() if body_html.strip() else ""
    return _NOT_LETTER_OR_DIGIT.sub("", unicodedata.normalize("NFKC", text).lower())


def shingle_hashes(text: str, size: int = SHINGLE) -> np.ndarray:
    """A 32-bit hash of every run of `size` characters of `text`, in order, computed over the whole text at
    once (the code points folded FNV-style, then MurmurHash3's 64-bit finaliser); the MinHash input. A
    run seen twice is hashed twice: a minimum is the same without the repeat, and sorting them out cost
    more than the repeats do."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    count = max(1, len(codes) - size + 1)
    mixed = np.zeros(count, dtype=np.uint64)
    for offset in range(min(size, len(codes))):
        mixed = (mixed * _FNV_PRIME) ^ codes[offset : offset + count]
    mixed ^= mixed >> np.uint64(33)
    mixed *= _MIX_1
    mixed ^= mixed >> np.uint64(33)
    mixed *= _MIX_2
    mixed ^= mixed >> np.uint64(33)
    return mixed >> np.uint64(32)


def shingles(text: str, size: int = SHINGLE) -> set[bytes]:
    """Every run of `size` characters of `text` (the text itself when shorter)."""
    if len(text) <= size:
        return {text.encode()} if text else set()
    return {text[i : i + size].encode() for i in range(len(text) - size + 1)}


def signature(body_html: str, size: int = SHINGLE) -> np.ndarray | None:
    """The MinHash of a body's shingles, NUM_PERM 32-bit values; None for a body with too little text."""
    text = story_text(body_html)
    if len(text) < MIN_TEXT:
        return None
    multipliers, offsets = permutations()
    values = _fmix32(shingle_hashes(text, size).astype(np.uint32))
    # One row a permutation: one temporary, added to in place, each minimum taken along a contiguous row.
    table = multipliers[:, None] * values
    table += offsets[:, None]
    return np.asarray(table.min(axis=1))


def _fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, element by element (multiplications wrap, as the scheme means)."""
    values = values ^ (values >> np.uint32(16))
    values = values * _MIX32_1
    values = values ^ (values >> np.uint32(13))
    values = values * _MIX32_2
    return values ^ (values >> np.uint32(16))


@cache
def permutations() -> tuple[np.ndarray, np.ndarray]:
    """The scheme's NUM_PERM multipliers (odd) and offsets, drawn once from a RandomState seeded SEED in
    the order datasketch draws them."""
    draw = np.random.RandomState(SEED)
    multipliers = draw.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    offsets = draw.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return multipliers, offsets


def signature_bytes(body_html: str, size: int = SHINGLE) -> bytes | None:
    """`signature` as the index stores it (128 little-endian 64-bit values, as datasketch's hash values
    were stored): what the parse process works out for the story stage (newscrawl.stories.pipeline)."""
    values = signature(body_html, size)
    return values.astype("<u8").tobytes() if values is not None else None
