"""A seeded, randomised hostile-content campaign: pages written by a stranger, links planted where the
crawler writes. Nothing may leave the crawl's scope, nothing may be written through a link, and every
article still reachable in scope is exported exactly once.

Each schedule (one seed) copies the bundled 快科技 site and plants attacks drawn at random:
- a tag page's next link replaced by a URL out of scope (SPELLINGS: other schemes, IP literals in their
  many spellings, userinfo and suffix tricks, other ports);
- a listing link to an article on a foreign host;
- an article or tag page answering a redirect out of scope, directly or after a hop on the site;
- an article page over DOWNLOAD_MAXSIZE, or a gzip bomb;
- between runs, a link planted in the output folders (posts/<site>, feeds/<site>, the journal, the
  state's lock and -wal, the run history) pointing at a sentinel file or folder outside them; the run
  refuses it (exit 1 at start, or 2 mid-run), and the operator then removes it.
It crawls every tag with WARC capture on, the server logging every path asked for, a few runs, then
until nothing is pending. Invariants: the server's log and the WARC files hold no request outside the
scope rule; no sentinel changed; every article reachable in scope (worked out from the planted site
with the site module's own listing reader) exported once, and no other; exit codes per the table.

    python tests/hostile_campaign.py --schedules 100 --seed 1    # the large campaign (docs/reliability.md)

tests/test_hostile_campaign.py runs a few schedules of it in the suite.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import MYDRIVERS_SITE, REPO, Server, crawl_command, requested_paths  # noqa: E402
from faults import campaign_cli  # noqa: E402

from newscrawl.fetch.scope import out_of_scope  # noqa: E402
from newscrawl.sites import get_site  # noqa: E402

SITE = get_site("mydrivers")
HOST = "news.mydrivers.com"
TAGS = (
    "xiaomi12_ultra",
    "xiaomi",
    "laika",
    "windows_11",
    "windowscaozuoxitong",
    "nvidia",
    "intel",
    "amd",
    "youxi",
    "dianyuan",
)
SPELLINGS = (
    "file:///etc/hostname",
    "ftp://news.mydrivers.com/tag/x.htm",
    "data:text/html,<p>x</p>",
    "gopher://news.mydrivers.com/",
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:22/",
    "http://[::1]/tag/x.htm",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://017700000001/",
    "http://10.0.0.1/tag/x.htm",
    "http://192.168.1.1/",
    "http://news.mydrivers.com@169.254.169.254/",
    "http://news.mydrivers.com.evil.example/tag/x.htm",
    "https://evil.example/tag/x.htm",
    "https://news.mydrivers.com:8443/tag/x_2.htm",
)
PLANTED = ("posts/mydrivers", "feeds/mydrivers", "items.jsonl", "state.sqlite.lock", "state.sqlite-wal", "runs.jsonl")
CLEAN_RUNS = 4


@dataclass
class Outcome:
    seed: int
    runs: int = 0
    attacks: Counter = field(default_factory=Counter)  # attack kind → times planted
    refused: int = 0  # requests the crawl refused as out of scope (its own count)
    links_refused: int = 0  # planted links the crawl refused
    articles: int = 0
    error: str | None = None


def _page(url: str, site: Path) -> Path:
    return site / url.split("://", 1)[1]


def _plant_pages(rng: random.Random, site: Path, outcome: Outcome) -> None:
    host = site / HOST
    tag_pages = sorted(host.glob("tag/*.htm"))
    articles = sorted(host.glob("1/*/*.htm"))
    for _ in range(rng.randint(2, 6)):
        kind = rng.choice(["next_link", "foreign_article_link", "redirect", "redirect_chain", "too_large", "gzip_bomb"])
        target = rng.choice(SPELLINGS)
        if kind == "next_link":
            page = rng.choice(tag_pages)
            text = page.read_text(encoding="utf-8")
            if "下一页" in text:  # the next link replaced: the rest of the tag is out of reach
                start = text.rindex('href="', 0, text.index("下一页"))
                end = text.index('"', start + 6)
                text = text[:start] + f'href="{target}"' + text[end:]
            else:  # the last page gains one
                text = text.replace("</div>\n</body>", f' <a href="{target}">下一页</a></div>\n</body>')
            page.write_text(text, encoding="utf-8")
        elif kind == "foreign_article_link":
            page = rng.choice(tag_pages)
            text = page.read_text(encoding="utf-8")
            foreign = rng.choice(
                [
                    "https://news.mydrivers.com.evil.example/1/833/833153.htm",
                    "http://169.254.169.254/1/999/999999.htm",
                    "file:///1/833/833153.htm",
                ]
            )
            page.write_text(
                text.replace("<li>", f'<li><h3><a href="{foreign}">x</a></h3></li>\n<li>', 1), encoding="utf-8"
            )
        elif kind in ("redirect", "redirect_chain"):
            page = rng.choice(articles + tag_pages)
            if kind == "redirect_chain":  # a hop on the site first, then out
                hop = host / "hop" / f"{page.stem}.htm"
                hop.parent.mkdir(exist_ok=True)
                hop.with_name(hop.name + ".redirect").write_text(target)
                target = f"https://{HOST}/hop/{page.stem}.htm"
            page.with_name(page.name + ".redirect").write_text(target)
        elif kind == "too_large":
            rng_page = rng.choice(articles)
            rng_page.with_name(rng_page.name + ".fault").write_text(json.dumps({"size": 9 << 20}))
        else:
            rng_page = rng.choice(articles)
            rng_page.with_name(rng_page.name + ".fault").write_text(json.dumps({"gzip_bomb": 64 << 20}))
        outcome.attacks[kind] += 1


def reachable(site: Path) -> set[str]:
    """The articles a crawl of every tag can reach in scope on the planted site, by the site module's own
    listing reader: pages (and redirect hops) in scope, articles without an out-of-scope redirect, an
    oversized body or a bomb."""
    found: set[str] = set()
    hosts = frozenset(SITE.hosts)
    for tag in TAGS:
        url: str | None = SITE.listing_url(tag)
        seen: set[str] = set()
        while url and url not in seen and out_of_scope(url, hosts, frozenset(), image=False) is None:
            seen.add(url)
            page = _page(url, site)
            if page.with_name(page.name + ".redirect").exists() or not page.is_file():
                break
            listing = SITE.read_listing(page.read_text(encoding="utf-8"), url)
            for link in listing.article_urls:
                if (article_id := SITE.article_id(link)) is None:
                    continue
                article = _page(SITE.canonical_url(link), site)
                if not (
                    article.with_name(article.name + ".redirect").exists()
                    or article.with_name(article.name + ".fault").exists()
                ):
                    found.add(article_id)
            url = listing.next_url
    return found


def _sentinels(root: Path) -> dict[str, str]:
    return {
        str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(root.rglob("*")) if path.is_file()
    }


def _plant_link(rng: random.Random, out: Path, sentinel: Path) -> Path | None:
    """A link planted in the output folders between runs, to the sentinel folder or a file in it."""
    name = rng.choice(PLANTED)
    path = out / name
    if path.is_symlink():
        return None
    if path.is_dir():
        shutil.rmtree(path)  # a folder the crawl made, replaced by a link (its posts are written again)
    elif path.exists():
        return None  # a journal, a run history: replacing them would lose what they hold
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(sentinel if name in ("posts/mydrivers", "feeds/mydrivers") else sentinel / "file.txt")
    return path


def run_schedule(seed: int, scratch: Path) -> Outcome:
    rng = random.Random(seed)
    outcome = Outcome(seed)
    work = scratch / f"hostile-{seed}"
    site, out, warc, sentinel = work / "site", work / "out", work / "warc", work / "sentinel"
    shutil.copytree(MYDRIVERS_SITE, site)
    sentinel.mkdir(parents=True)
    (sentinel / "file.txt").write_text("nobody writes here\n", encoding="utf-8")
    before = _sentinels(sentinel)
    _plant_pages(rng, site, outcome)
    expected = reachable(site)
    requests = work / "requests.log"
    server = Server([site], request_log=requests)
    settings = {"NEWSCRAWL_WARC_DIR": str(warc), "DOWNLOAD_MAXSIZE": str(8 << 20), "RETRY_TIMES": "0"}
    args = crawl_command(out, server, "-a", "tag=" + ",".join(TAGS), incremental=True, settings=settings)
    out.mkdir(parents=True)
    try:
        for number in range(rng.randint(1, 3) + CLEAN_RUNS):
            planted = _plant_link(rng, out, sentinel) if number < 3 and rng.random() < 0.6 else None
            done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=180)
            outcome.runs += 1
            if planted is not None:
                outcome.attacks[f"link:{planted.relative_to(out)}"] += 1
                if "refused, not followed" not in done.stderr:
                    raise AssertionError(f"a link planted at {planted} was not refused: {done.stderr[-1500:]}")
                if done.returncode not in (1, 2):
                    raise AssertionError(f"exit {done.returncode} with a link refused at {planted}")
                outcome.links_refused += 1
                planted.unlink()  # the operator removes it
                continue
            if "Traceback" in done.stderr:
                raise AssertionError(f"a traceback: {done.stderr[-3000:]}")
            if done.returncode not in (0, 2):
                raise AssertionError(f"exit {done.returncode}: {done.stderr[-2000:]}")
            summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
            outcome.refused += sum(
                value for key, value in summary["stats"].items() if key.startswith("newscrawl/scope/refused/")
            )
            if number >= 1 and summary["pending"] == {"listing_pages": 0, "articles": 0}:
                break
        else:
            raise AssertionError(f"work still pending after {outcome.runs} runs")
        escaped = [path for path in requested_paths(requests) if not path.startswith(f"/{HOST}/")]
        if escaped:
            raise AssertionError(f"requests out of scope reached the server: {escaped[:5]}")
        for path in sorted(warc.glob("*.warc.gz")):
            with open(path, "rb") as stream:
                for record in ArchiveIterator(stream):
                    uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                    if record.rec_type == "response" and not uri.startswith(f"https://{HOST}/"):
                        raise AssertionError(f"a response out of scope was captured: {uri}")
        if _sentinels(sentinel) != before:
            raise AssertionError("a file outside the output folders changed")
        lines = [json.loads(line) for line in (out / "items.jsonl").read_text(encoding="utf-8").splitlines()]
        ids = Counter(line["article_id"] for line in lines)
        if twice := sorted(i for i, n in ids.items() if n > 1):
            raise AssertionError(f"exported twice: {twice}")
        if set(ids) != expected:
            raise AssertionError(
                f"exported {sorted(set(ids) - expected)} beyond what is reachable in scope, "
                f"missing {sorted(expected - set(ids))}"
            )
        outcome.articles = len(ids)
    except AssertionError as error:
        outcome.error = str(error)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return outcome


def _line(outcome: Outcome) -> str:
    return (
        f"seed {outcome.seed}: {outcome.runs} runs, attacks {dict(outcome.attacks)}, {outcome.refused} requests "
        f"refused, {outcome.links_refused} links refused, {outcome.articles} articles"
    )


def _summary(outcomes: list[Outcome]) -> str:
    attacks = sum((o.attacks for o in outcomes), Counter())
    return (
        f"{len(outcomes)} schedules, {sum(o.runs for o in outcomes)} runs, {sum(attacks.values())} attacks planted "
        f"({dict(sorted(attacks.items()))}), {sum(o.refused for o in outcomes)} requests refused as out of scope, "
        f"{sum(o.links_refused for o in outcomes)} planted links refused (an escape, a loss or a double fails its schedule)"
    )


if __name__ == "__main__":
    campaign_cli(__doc__.split("\n\n")[0], 100, run_schedule, _line, _summary)
