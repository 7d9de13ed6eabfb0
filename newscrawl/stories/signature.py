"""An article body as a MinHash signature of its text's character shingles, for near-duplicate search.

Chinese is not split into words: the text (markup gone, NFKC, lower case, white space and punctuation
removed) is cut into overlapping runs of `SHINGLE` characters, and datasketch's MinHash of them stands
for the set. The index (newscrawl.stories.index) compares signatures. The shingle size and the
threshold were chosen on the labelled set of `benchmarks/stories_eval.py` (docs/stories.md).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import numpy as np
from datasketch import LeanMinHash, MinHash
from lxml import html as lxml_html

SHINGLE = 4  # characters per shingle
NUM_PERM = 128  # MinHash permutations: the signature is 128 × 8 bytes
SEED = 1  # fixed, as the hashing scheme: signatures stored by one run are compared with the next run's
SCHEME = "affine32"
MIN_TEXT = 40  # characters: a body shorter than this is its own story (too little to compare)
_FNV_PRIME = np.uint64(0x100000001B3)
_MIX_1, _MIX_2 = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)


# What is not a letter or a digit: `\w` in a str pattern is Unicode's categories L and N, and "_"
# (tests/unit/test_story_signature.py checks every code point).
_NOT_LETTER_OR_DIGIT = re.compile(r"[\W_]+")


def story_text(body_html: str) -> str:
    """The letters and digits of a body, in order: no markup, no white space, no punctuation or symbols."""
    text = lxml_html.fromstring(f"<div>{body_html}</div>").text_content() if body_html.strip() else ""
    return _NOT_LETTER_OR_DIGIT.sub("", unicodedata.normalize("NFKC", text).lower())


def shingle_hashes(text: str, size: int = SHINGLE) -> np.ndarray:
    """A 32-bit hash of every run of `size` characters of `text`, once each, computed over the whole text
    at once (the code points folded FNV-style, then MurmurHash3's 64-bit finaliser); the MinHash input."""
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
    return np.unique(mixed >> np.uint64(32))


def shingles(text: str, size: int = SHINGLE) -> set[bytes]:
    """Every run of `size` characters of `text` (the text itself when shorter)."""
    if len(text) <= size:
        return {text.encode()} if text else set()
    return {text[i : i + size].encode() for i in range(len(text) - size + 1)}


def signature(body_html: str, size: int = SHINGLE) -> LeanMinHash | None:
    """The MinHash of a body's shingles; None for a body with too little text to compare."""
    text = story_text(body_html)
    if len(text) < MIN_TEXT:
        return None
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, hashfunc=int, permutations=_permutations())
    minhash.update_batch(shingle_hashes(text, size).tolist())
    return LeanMinHash(minhash)


@cache
def _permutations() -> np.ndarray:
    """The MinHash permutations of (NUM_PERM, SEED, SCHEME), drawn once rather than for every body."""
    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


def signature_bytes(body_html: str, size: int = SHINGLE) -> bytes | None:
    """`signature` as the index stores it (128 little-endian 64-bit values): what the parse process works
    out for the story stage (newscrawl.stories.pipeline)."""
    minhash = signature(body_html, size)
    return to_bytes(minhash) if minhash is not None else None


def to_bytes(minhash: LeanMinHash) -> bytes:
    return minhash.hashvalues.astype("<u8").tobytes()


def from_bytes(data: bytes) -> LeanMinHash:
    return LeanMinHash(seed=SEED, hashvalues=np.frombuffer(data, dtype="<u8"), scheme=SCHEME)
