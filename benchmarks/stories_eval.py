"""How well stories group near-duplicates: a labelled set built from the bundled real bodies, run through
the story index as a crawl would, scored as pairs; and how long one match takes against a large index.

    python benchmarks/stories_eval.py [--sweep] [--index-size N] [--json]

The set: each bundled article body (`fixtures/*/site/**/*.expected.json`, once per id), and six copies
of it as another outlet would run it — an edited lead, a paragraph dropped, a credit paragraph and
an editor's line added, ASCII punctuation, a few words in traditional characters, a rewrite doing
three of these at once, the first 60 % of it, its paragraphs reordered — and one with a long
boilerplate block appended that other stories' copies carry too (a hard negative: they share that
block and nothing else). Each body and its copies are one story; 快科技 850190 (850166 without its image
paragraph) is labelled one story with 850166. Every other pair is a negative; the hard ones are
different articles listed under one tag (小米, 小米12 Ultra, …), the same product days apart.

Pairs: precision and recall of "same story" over every pair of the set, the documents fed to a fresh
index in a fixed shuffled order (so a copy may come before its original). `--sweep` prints them for
each shingle size and threshold. Timing: the median time of `assign` for the set's documents against
an index already holding `--index-size` signatures (random, stored as a crawl stores them), and the
process's peak RSS before and after. Writes only under a temporary folder.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from lxml import html as lxml_html  # noqa: E402

from newscrawl.stories import THRESHOLD  # noqa: E402
from newscrawl.stories import signature as sig  # noqa: E402
from newscrawl.stories.index import Member, SqliteStoryIndex, band_keys, similarity  # noqa: E402

FIXTURES = REPO / "fixtures"
LABELLED_SAME = [
    {"mydrivers:850166", "mydrivers:850190"}
]  # fixtures/mydrivers/README.md: 850190 is 850166 less a paragraph
TRADITIONAL = {"发": "發", "们": "們", "这": "這", "为": "為", "个": "個", "会": "會", "来": "來", "时": "時",
               "国": "國", "说": "說", "显": "顯", "软": "軟", "级": "級", "户": "戶", "机": "機"}  # fmt: skip
PUNCTUATION = {
    "，": ",",
    "。": ".",
    "：": ":",
    "；": ";",
    "！": "!",
    "？": "?",
    "“": '"',
    "”": '"',
    "（": "(",
    "）": ")",
}
_PARAGRAPH = re.compile(r"<p\b[^>]*>.*?</p>", re.S)
_SENTENCE_END = re.compile(r"(?<=[。！？])")


def bases() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted((FIXTURES).glob("*/site/**/*.expected.json")):
        item = json.loads(path.read_text(encoding="utf-8"))
        found.setdefault(item["id"], item)
    return found


def edited_lead(body: str) -> str:
    """The first paragraph's first sentence replaced by another outlet's opening."""
    match = next((m for m in _PARAGRAPH.finditer(body) if len(re.sub(r"<[^>]+>", "", m.group())) > 20), None)
    if match is None:
        return "<p>据外媒最新消息，</p>" + body
    text = re.sub(r"<[^>]+>", "", match.group())
    rest = "".join(_SENTENCE_END.split(text)[1:]) or text[len(text) // 2 :]
    return body[: match.start()] + f"<p>据外媒最新消息，业内人士透露：{rest}</p>" + body[match.end() :]


def blocks(body: str) -> list[str]:
    """The body's top-level blocks (paragraphs, lists, code, figures), inside any single wrapper."""
    root = lxml_html.fromstring(f"<div>{body}</div>")
    while len(root) == 1 and not (root.text or "").strip() and not (root[0].tail or "").strip():
        root = root[0]
    return [lxml_html.tostring(child, encoding="unicode") for child in root]


def dropped_paragraph(body: str) -> str:
    """The body without its middle block (with three or more), else without its last fifth."""
    parts = blocks(body)
    if len(parts) < 3:
        return body[: len(body) * 4 // 5]
    return "".join(parts[: len(parts) // 2] + parts[len(parts) // 2 + 1 :])


def added_credit(body: str) -> str:
    return (
        body.replace("</p>", "</p><p>（图片来源于网络，如有侵权请联系删除）</p>", 1)
        + "<p>本文转载自合作媒体，原文链接见文末，转载请注明出处。</p><p>责任编辑：小编</p>"
    )


def ascii_punctuation(body: str) -> str:
    return "".join(PUNCTUATION.get(char, char) for char in body)


def traditional(body: str, words: int = 6) -> str:
    out, changed = [], 0
    for char in body:
        if changed < words and char in TRADITIONAL:
            out.append(TRADITIONAL[char])
            changed += 1
        else:
            out.append(char)
    return "".join(out)


def truncated(body: str) -> str:
    """The first blocks holding 60 % of the text: a republication cut short."""
    parts = blocks(body)
    total = sum(len(lxml_html.fromstring(f"<div>{part}</div>").text_content()) for part in parts) or 1
    kept, length = [], 0
    for part in parts:
        if length >= 0.6 * total:
            break
        kept.append(part)
        length += len(lxml_html.fromstring(f"<div>{part}</div>").text_content())
    return "".join(kept)


def reordered(body: str) -> str:
    """The same blocks in another order."""
    parts = blocks(body)
    random.Random(len(body)).shuffle(parts)
    return "".join(parts)


# A long block several different articles may carry (a vendor's boilerplate, a site's standing notice):
# the hard negatives share it, and nothing else.
BOILERPLATE = (
    "<p>关于本公司：本公司是全球领先的智能终端与互联网服务提供商，业务覆盖智能手机、个人电脑、可穿戴设备、"
    "智能家居与云服务，产品销往全球一百多个国家和地区，致力于让每个人都能享受科技带来的美好生活。"
    "本新闻稿包含前瞻性陈述，实际结果可能因多种因素而与陈述存在重大差异，敬请投资者注意投资风险。</p>"
)


VARIANTS = {
    "edited lead": edited_lead,
    "paragraph dropped": dropped_paragraph,
    "credit added": added_credit,
    "ASCII punctuation": ascii_punctuation,
    "traditional words": traditional,
    "rewrite": lambda body: traditional(added_credit(edited_lead(body))),
    "cut short": truncated,
    "paragraphs reordered": reordered,
}


def labelled_set() -> tuple[list[tuple[str, str, str, str]], dict[str, str]]:
    """Documents (id, group, kind, body) and each base article's tag group for the hard negatives."""
    documents = []
    groups = {article_id: article_id for article_id in bases()}
    for same in LABELLED_SAME:
        first = sorted(same)[0]
        for article_id in same:
            groups[article_id] = first
    for article_id, item in bases().items():
        documents.append((article_id, groups[article_id], "original", item["body_html"]))
        for kind, make in VARIANTS.items():
            documents.append(
                (
                    f"copy_{kind.replace(' ', '_')}:{article_id.split(':')[1]}",
                    groups[article_id],
                    kind,
                    make(item["body_html"]),
                )
            )
        documents.append(
            (
                f"boilerplate:{article_id.split(':')[1]}",
                groups[article_id],
                "boilerplate",
                item["body_html"] + BOILERPLATE,
            )
        )
    tagged: dict[str, str] = {}
    for site in ("mydrivers", "cnbeta", "oschina"):
        spec = json.loads((FIXTURES / site / "pages.json").read_text(encoding="utf-8"))
        for tag in spec["tags"]:
            for page in tag["pages"]:
                for entry in page:
                    identifier = f"{site}:{entry}" if ":" not in str(entry) else str(entry)
                    tagged.setdefault(identifier, f"{site}:{tag['slug']}")
    return documents, tagged


def score(
    documents: list[tuple[str, str, str, str]], tagged: dict[str, str], size: int, threshold: float
) -> dict[str, Any]:
    order = list(documents)
    random.Random(7).shuffle(order)
    with tempfile.TemporaryDirectory() as folder:
        index = SqliteStoryIndex(Path(folder) / "stories.sqlite", threshold=threshold)
        story = {}
        for identifier, _, _, body in order:
            member = Member(identifier, "eval", "https://example.test/", "t", "2026-01-01T00:00:00+00:00")
            story[identifier] = index.assign(member, sig.signature_bytes(body, size)).story
        index.close()
    counts = {"tp": 0, "fp": 0, "fn": 0, "hard_negatives": 0, "hard_fp": 0}
    missed: dict[str, int] = {}
    group = {identifier: g for identifier, g, _, _ in documents}
    kinds = {identifier: kind for identifier, _, kind, _ in documents}
    for a, b in itertools.combinations(group, 2):
        same, said = group[a] == group[b], story[a] == story[b]
        counts["tp"] += same and said
        counts["fp"] += said and not same
        counts["fn"] += same and not said
        if same and not said:
            for kind in {kinds[a], kinds[b]} - {"original"}:
                missed[kind] = missed.get(kind, 0) + 1
        hard = not same and tagged.get(group[a]) is not None and tagged.get(group[a]) == tagged.get(group[b])
        counts["hard_negatives"] += hard
        counts["hard_fp"] += hard and said
    signatures = {identifier: sig.signature_bytes(body, size) for identifier, _, _, body in documents}
    estimated = {
        (a, b): similarity(first, second)
        for a, b in itertools.combinations(group, 2)
        if (first := signatures[a]) is not None and (second := signatures[b]) is not None
    }
    negatives = [value for (a, b), value in estimated.items() if group[a] != group[b]]
    positives = sorted(value for (a, b), value in estimated.items() if group[a] == group[b])
    counts["max_negative_similarity"] = max(negatives, default=0.0)  # type: ignore[assignment]
    counts["positive_similarity_p05"] = positives[len(positives) // 20] if positives else 0.0  # type: ignore[assignment]
    precision = counts["tp"] / max(1, counts["tp"] + counts["fp"])
    recall = counts["tp"] / max(1, counts["tp"] + counts["fn"])
    return {"size": size, "threshold": threshold, "precision": precision, "recall": recall, **counts, "missed": missed}


def fill_index(path: Path, size: int) -> None:
    """An index holding `size` random signatures, stored as a crawl stores them."""
    SqliteStoryIndex(path).close()
    rng = np.random.default_rng(3)
    db = sqlite3.connect(path)
    chunk = 10_000
    for start in range(0, size, chunk):
        rows, bands = [], []
        for number in range(start, min(size, start + chunk)):
            stored = rng.integers(0, 2**32, size=sig.NUM_PERM, dtype=np.uint64).astype("<u8").tobytes()
            identifier = f"filler:{number}"
            rows.append((identifier, identifier, stored, "filler", "u", "t", "p", number))
            bands += [(key, identifier) for key in band_keys(stored)]
        db.executemany("INSERT INTO story_articles VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        db.executemany("INSERT OR IGNORE INTO story_bands VALUES (?, ?)", bands)
        db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # as SQLite's automatic checkpoints keep a crawl's WAL small
    db.close()


def peak_rss_mb() -> float:
    """This process's peak RSS since it started its program (VmHWM: getrusage's maxrss would count the
    parent it was forked from)."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def assign_all(path: Path) -> dict[str, float]:
    """Sign and assign the labelled set against the index at `path`: times (ms) and this process's peak RSS."""
    documents, _ = labelled_set()
    index = SqliteStoryIndex(path)
    signing, assigning = [], []
    for identifier, _, _, body in documents:
        started = time.perf_counter()
        made = sig.signature_bytes(body)
        signed = time.perf_counter()
        index.assign(Member(identifier, "eval", "u", "t", "p"), made)
        assigning.append((time.perf_counter() - signed) * 1000)
        signing.append((signed - started) * 1000)
    index.close()
    return {
        "assign_ms_median": statistics.median(assigning),
        "assign_ms_p90": sorted(assigning)[int(len(assigning) * 0.9)],
        "signature_ms_median": statistics.median(signing),
        "peak_rss_mb": peak_rss_mb(),
    }


def timing(sizes: list[int]) -> list[dict[str, float]]:
    """Per index size: the set matched against it, in a process of its own (so its peak RSS is the match's)."""
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            path = Path(folder) / f"stories-{size}.sqlite"
            fill_index(path, size)
            done = subprocess.run(
                [sys.executable, __file__, "--assign-only", str(path)], capture_output=True, text=True, check=True
            )
            results.append({"index_size": size, **json.loads(done.stdout)})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sweep", action="store_true", help="every shingle size and threshold")
    parser.add_argument(
        "--index-size", type=int, action="append", default=[], help="time a match against this many indexed articles"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--assign-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.assign_only:
        print(json.dumps(assign_all(args.assign_only)))
        return
    documents, tagged = labelled_set()
    settings = (
        [(size, threshold) for size in (2, 3, 4, 5) for threshold in (0.3, 0.4, 0.5, 0.6, 0.7)]
        if args.sweep
        else [(sig.SHINGLE, THRESHOLD)]
    )
    results: dict[str, Any] = {"documents": len(documents), "scores": [score(documents, tagged, *s) for s in settings]}
    if args.index_size:
        results["timing"] = timing(args.index_size)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=1))
        return
    print(f"{len(documents)} documents, {len(bases())} stories' originals")
    for row in results["scores"]:
        print(
            f"shingle {row['size']} threshold {row['threshold']:.1f}: precision {row['precision']:.3f} "
            f"recall {row['recall']:.3f} (tp {row['tp']}, fp {row['fp']}, fn {row['fn']}; hard negatives "
            f"{row['hard_negatives']}, wrongly joined {row['hard_fp']}); similarity: highest negative "
            f"{row['max_negative_similarity']:.2f}, 5th percentile of positives {row['positive_similarity_p05']:.2f}; "
            f"missed by kind {row['missed']}"
        )
    for t in results.get("timing", []):
        print(
            f"index of {t['index_size']:>7}: assign median {t['assign_ms_median']:.2f} ms "
            f"(p90 {t['assign_ms_p90']:.2f}), signature {t['signature_ms_median']:.2f} ms; "
            f"the matching process's peak RSS {t['peak_rss_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
