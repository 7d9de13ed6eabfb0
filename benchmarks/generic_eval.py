"""How right the generic spider is on pages it was not tuned on: each bundled site's fixtures served under a
foreign host name (every mention of the site's hosts rewritten, so no module can claim them), crawled by
`scrapy crawl generic` from the site's tag and column pages, each article compared with its expected item.

    python benchmarks/generic_eval.py [--work DIR] [--json]

Per site: the articles the site module's walk finds and how many the generic spider found; of those, how
many have the title exactly, the same instant, and a body whose text is ≥ 0.9 similar (difflib ratio of
the text without markup or spaces); exported pages that are not articles; fields without a named source.
Writes only under --work (a temporary folder by default).
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
FOREIGN = "news.example-{}.test"
# Per site: its hosts, and the listing pages a reader would give the generic spider (paths on the main host).
SITES: dict[str, dict[str, Any]] = {
    "mydrivers": {
        "hosts": ["news.mydrivers.com"],
        "listings": ["/tag/xiaomi12_ultra.htm", "/tag/xiaomi.htm", "/zhangjiyouxi.html"],
    },
    "cnbeta": {"hosts": ["www.cnbeta.com.tw"], "listings": ["/topics/9.htm", "/topics/27.htm"]},
    "oschina": {
        "hosts": ["www.oschina.net"],
        "listings": ["/news/widgets/_news_index_generic_list?p=1&type=ajax", "/news/column?columnId=14"],
    },
}
NEEDED = ("title", "published", "body_html")
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def text_of(html: str) -> str:
    return _SPACE.sub("", _TAG.sub("", html))


def foreign_copy(site: str, root: Path) -> str:
    """The site's fixture tree under a foreign host in `root`; the host."""
    host = FOREIGN.format(site)
    source = FIXTURES / site / "site"
    main = SITES[site]["hosts"][0]
    shutil.copytree(source / main, root / host)
    for path in (root / host).rglob("*"):
        if path.is_file() and not path.name.endswith(".json"):
            data = path.read_bytes()
            for known in SITES[site]["hosts"]:
                data = data.replace(known.encode(), host.encode())
            path.write_bytes(data)
    return host


def expected_items(site: str) -> dict[str, dict[str, Any]]:
    return {
        json.loads(path.read_text(encoding="utf-8"))["article_id"]: json.loads(path.read_text(encoding="utf-8"))
        for path in (FIXTURES / site / "site").rglob("*.expected.json")
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def crawl(work: Path, root: Path, urls: list[str], name: str) -> list[dict[str, Any]]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "newscrawl.dev.server", "--port", str(port), "--root", str(root)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        out = work / f"{name}.jsonl"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "scrapy",
                "crawl",
                "generic",
                "-a",
                "url=" + ",".join(urls),
                "-s",
                f"NEWSCRAWL_OFFLINE_ROOT=http://127.0.0.1:{port}",
                "-s",
                "LOG_FILE=" + str(work / f"{name}.log"),
                "-s",  # 127.0.0.1 only: no politeness delays
                "DOWNLOAD_DELAY=0",
                "-s",
                "AUTOTHROTTLE_ENABLED=False",
                "-O",
                str(out),
            ],
            cwd=REPO,
            check=False,
            timeout=600,
        )
        return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] if out.exists() else []
    finally:
        server.terminate()
        server.wait(timeout=10)


def score(site: str, items: list[dict[str, Any]], listed: set[str]) -> dict[str, Any]:
    expected = expected_items(site)
    found = {item["article_id"]: item for item in items}
    right = {"title": 0, "instant": 0, "body": 0, "all": 0}
    for article_id, item in found.items():
        want = expected.get(article_id)
        if want is None:
            continue
        checks = {
            "title": item["title"] == want["title"],
            "instant": datetime.fromisoformat(item["published"]) == datetime.fromisoformat(want["published"]),
            "body": difflib.SequenceMatcher(None, text_of(item["body_html"]), text_of(want["body_html"])).ratio()
            >= 0.9,
        }
        for check, ok in checks.items():
            right[check] += ok
        right["all"] += all(checks.values())
    return {
        "listed_by_module": len(listed),
        "found": len(found.keys() & expected.keys()),
        "right": right,
        "not_articles": sorted(found.keys() - expected.keys()),
        "unnamed_fields": sum(1 for item in items for field in NEEDED if field not in item["fallbacks"]),
    }


def module_walk(site: str, paths: list[str]) -> set[str]:
    """The article ids the site module's own walk of the same listing pages finds (from the fixtures)."""
    sys.path.insert(0, str(REPO))
    from newscrawl.sites import get_site

    module = get_site(site)
    root = FIXTURES / site / "site"
    ids: set[str] = set()
    for path in paths:
        url: str | None = f"https://{SITES[site]['hosts'][0]}{path}"
        while url:
            parts = url.split("://", 1)[1]
            host, _, rest = parts.partition("/")
            rest, _, query = rest.partition("?")
            file = root / host / (f"{rest}@{query}" if query else rest)
            if not file.is_file():
                break
            found = module.read_listing(file.read_text(encoding="utf-8"), url)
            ids |= {i for link in found.article_urls if (i := module.article_id(link))}
            url = found.next_url
    return ids


def checks(item: Any, want: dict[str, Any]) -> dict[str, bool]:
    """Title exact, the same instant, body text ≥ 0.9 similar, and all three."""
    right = {
        "title": item.title == want["title"],
        "instant": datetime.fromisoformat(item.published) == datetime.fromisoformat(want["published"]),
        "body": difflib.SequenceMatcher(None, text_of(item.body_html), text_of(want["body_html"])).ratio() >= 0.9,
    }
    return {**right, "all": all(right.values())}


def every_page() -> dict[str, dict[str, dict[str, int]]]:
    """Every bundled article page with an expected item, as bundled and as the site contract redesigns it
    (og:title, article:published_time, the body in <main>), read by its site module and by a generic site
    under a foreign host: per site and reading, pages, drops, and how many are right per field."""
    sys.path[:0] = [str(REPO), str(REPO / "tests")]
    from site_contract import redesigned_article

    from newscrawl.extract.page import Page, site_article
    from newscrawl.generic.site import generic_site
    from newscrawl.items import Unusable
    from newscrawl.sites import get_site

    figures: dict[str, dict[str, dict[str, int]]] = {}
    for site, known in SITES.items():
        host = FOREIGN.format(site)
        generic = generic_site([f"https://{host}/"])
        module = get_site(site)
        counts: dict[str, dict[str, int]] = {}
        for expected_path in sorted((FIXTURES / site / "site").rglob("*.expected.json")):
            want = json.loads(expected_path.read_text(encoding="utf-8"))
            stem = expected_path.name.removesuffix(".expected.json")
            pages = [path for path in expected_path.parent.glob(f"{stem}*") if not path.name.endswith(".json")]
            if not pages:
                continue
            for markup, body in (("bundled", pages[0].read_bytes()), ("redesigned", redesigned_article(want))):
                foreign = body
                for known_host in known["hosts"]:
                    foreign = foreign.replace(known_host.encode(), host.encode())
                foreign_url = want["url"].replace(urlsplit(want["url"]).hostname or "", host)
                for label, reader, url, content in (
                    ("module", module, want["url"], body),
                    ("generic", generic, foreign_url, foreign),
                ):
                    tally = counts.setdefault(
                        f"{markup} {label}", dict.fromkeys(("pages", "dropped", "title", "instant", "body", "all"), 0)
                    )
                    tally["pages"] += 1
                    try:
                        item = site_article(reader, Page(reader.name, url, content, "text/html", want["fetched_at"]))
                    except Unusable:
                        tally["dropped"] += 1
                        continue
                    for check, ok in checks(item, want).items():
                        tally[check] += ok
        figures[site] = counts
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, help="where to write (default: a temporary folder)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="generic-eval-"))
    results: dict[str, Any] = {"pages": every_page()}
    for site, known in SITES.items():
        root = work / site / "site"
        host = foreign_copy(site, root)
        items = crawl(work / site, root, [f"https://{host}{path}" for path in known["listings"]], site)
        results[site] = score(site, items, module_walk(site, known["listings"]))
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=1))
        return
    for site, readings in results.pop("pages").items():
        for reading, tally in readings.items():
            print(
                f"{site:10} {reading:19} {tally['pages']:2} pages: title {tally['title']}, instant {tally['instant']}, "
                f"body {tally['body']}, all three {tally['all']}, dropped {tally['dropped']}"
            )
    for site, figures in results.items():
        right = figures["right"]
        print(
            f"{site:10} module lists {figures['listed_by_module']:2}, generic found {figures['found']:2}; "
            f"title {right['title']}, instant {right['instant']}, body {right['body']}, all three {right['all']}; "
            f"non-articles {len(figures['not_articles'])}; fields without a source {figures['unnamed_fields']}"
        )


if __name__ == "__main__":
    main()
