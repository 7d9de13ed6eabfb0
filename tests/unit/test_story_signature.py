"""Story signatures, as tables: the text compared, its shingles, that a copy with an edited lead is
close while another article on the same product is not, and that the signature is datasketch's."""

import json
import sys

import pytest
from conftest import FIXTURES, REPO
from datasketch import MinHash, MinHashLSH

from newscrawl.stories import THRESHOLD
from newscrawl.stories.index import BANDS, ROWS, band_keys, similarity
from newscrawl.stories.signature import (
    NUM_PERM,
    SCHEME,
    SEED,
    permutations,
    shingle_hashes,
    shingles,
    signature,
    signature_bytes,
    story_text,
)


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>小米12 Ultra，来了！</p>", "小米12ultra来了"),
        ("<p>ＡＢＣ　１２３</p><script>x</script>", "abc123x"),
        ("<p>“引号” 与 (括号)。</p>", "引号与括号"),
        ("", ""),
    ],
)
def test_the_text_compared(html, text):
    assert story_text(html) == text


def test_shingles_are_overlapping_runs():
    assert shingles("abcdef", 4) == {b"abcd", b"bcde", b"cdef"}
    assert shingles("abc", 4) == {b"abc"} and shingles("", 4) == set()


def body(article_id: str) -> str:
    path = next((FIXTURES / "mydrivers/site").rglob(f"{article_id}.expected.json"))
    return json.loads(path.read_text(encoding="utf-8"))["body_html"]


def reference(body_html: str) -> MinHash:
    """datasketch's MinHash of a body's shingle hashes: the definition of the signature."""
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, hashfunc=int)
    minhash.update_batch(shingle_hashes(story_text(body_html)).tolist())
    return minhash


def test_a_copy_is_close_and_another_article_on_the_product_is_not():
    bodies = [
        body("833153"),
        "<p>据外媒消息，</p>" + body("833153").replace("，", ",") + "<p>责任编辑：小编</p>",
        body("848601"),  # 小米 too, a week later
    ]
    original, copy, other = (signature_bytes(html) for html in bodies)
    assert original is not None and copy is not None and other is not None
    assert similarity(original, copy) >= THRESHOLD > similarity(original, other)
    assert set(band_keys(original)) & set(band_keys(copy))  # the copy is found as a candidate
    first, *others = map(reference, bodies)
    for stored, minhash in zip((copy, other), others, strict=True):  # the index's estimate is datasketch's
        assert similarity(original, stored) == pytest.approx(first.jaccard(minhash))


SIGNED = bytes(range(256)) * 4  # 128 values of 8 bytes


@pytest.mark.parametrize(
    ("one", "other", "share"),
    [
        (SIGNED, SIGNED, 1.0),
        (SIGNED, SIGNED[:8] + bytes(8) + SIGNED[16:], 127 / 128),
        (SIGNED, bytes(1024), 0.0),
        (SIGNED, SIGNED[:512], 0.0),  # a stored signature of another length matches nothing
        (SIGNED[:1020], SIGNED[:1020], 0.0),  # nor one that is not whole 8-byte values
        (b"", b"", 0.0),
    ],
)
def test_similarity_is_the_share_of_equal_values(one, other, share):
    assert similarity(one, other) == share


def test_the_bands_are_those_datasketch_chooses_for_the_threshold():
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    assert (BANDS, ROWS) == (lsh.b, lsh.r)


def test_a_body_too_short_to_compare_has_no_signature():
    assert signature("<p>短讯。</p>") is None


def test_the_signature_is_the_one_earlier_runs_stored():
    """Signatures are compared with those of earlier runs (made by datasketch's MinHash): the text filter
    (a pattern) keeps exactly the letters and digits (categories L and N) of every code point, the
    permutations are datasketch's, and so is every labelled body's signature, value for value."""
    import unicodedata

    from newscrawl.stories.signature import _NOT_LETTER_OR_DIGIT

    every = "".join(map(chr, range(sys.maxunicode + 1)))
    kept = _NOT_LETTER_OR_DIGIT.sub("", every)
    assert kept == "".join(char for char in every if unicodedata.category(char)[0] in "LN") and len(kept) > 100_000
    multipliers, offsets = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations
    assert [list(values) for values in permutations()] == [list(multipliers), list(offsets)]
    sys.path.insert(0, str(REPO / "benchmarks"))
    import stories_eval

    documents, _ = stories_eval.labelled_set()
    compared = 0
    for _, _, _, html in documents:
        made = signature(html)
        if made is None:
            continue
        expected = reference(html).hashvalues
        assert made.dtype == expected.dtype and signature_bytes(html) == expected.astype("<u8").tobytes()
        compared += 1
    assert compared >= 150
