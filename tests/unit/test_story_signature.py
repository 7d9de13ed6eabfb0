"""Story signatures, as tables: the text compared, its shingles, and that a copy with an edited lead
is close while another article on the same product is not."""

import json

import pytest
from conftest import FIXTURES
from datasketch import MinHashLSH

from newscrawl.stories import THRESHOLD
from newscrawl.stories.index import BANDS, ROWS, band_keys, similarity
from newscrawl.stories.signature import NUM_PERM, from_bytes, shingles, signature, story_text, to_bytes


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


def test_a_copy_is_close_and_another_article_on_the_product_is_not():
    original = signature(body("833153"))
    copy = signature("<p>据外媒消息，</p>" + body("833153").replace("，", ",") + "<p>责任编辑：小编</p>")
    other = signature(body("848601"))  # 小米 too, a week later
    assert original is not None and copy is not None and other is not None
    assert original.jaccard(copy) >= THRESHOLD > original.jaccard(other)
    assert set(band_keys(to_bytes(original))) & set(band_keys(to_bytes(copy)))  # the copy is found as a candidate
    assert from_bytes(to_bytes(original)).jaccard(original) == 1.0  # stored and read back whole
    for first, second in ((original, copy), (original, other)):  # the index's estimate is datasketch's
        assert similarity(to_bytes(first), to_bytes(second)) == pytest.approx(first.jaccard(second))


def test_the_bands_are_those_datasketch_chooses_for_the_threshold():
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    assert (BANDS, ROWS) == (lsh.b, lsh.r)


def test_a_body_too_short_to_compare_has_no_signature():
    assert signature("<p>短讯。</p>") is None


def test_the_signature_is_the_one_earlier_runs_stored():
    """Signatures are compared with those of earlier runs: the text filter (a pattern) keeps exactly the
    letters and digits (categories L and N) of every code point, and the permutations drawn once are
    datasketch's own."""
    import sys
    import unicodedata

    from datasketch import MinHash

    from newscrawl.stories.signature import _NOT_LETTER_OR_DIGIT, SCHEME, SEED, shingle_hashes, signature_bytes

    every = "".join(map(chr, range(sys.maxunicode + 1)))
    kept = _NOT_LETTER_OR_DIGIT.sub("", every)
    assert kept == "".join(char for char in every if unicodedata.category(char)[0] in "LN") and len(kept) > 100_000
    for article_id in ("833153", "848601"):
        reference = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, hashfunc=int)
        reference.update_batch(shingle_hashes(story_text(body(article_id))).tolist())
        assert signature_bytes(body(article_id)) == reference.hashvalues.astype("<u8").tobytes()
