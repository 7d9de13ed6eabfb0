"""`scrapy fixture --warc FILE --url URL`: a captured article page becomes a recorded test case.

Writes, under `<fixtures>/<site>/captured/<host>/<path>`, the page as the crawl's spider received it
(the payload, its content encoding undone) and beside it `<page>.expected.draft.json`: the item the
current parsers make of it, a draft to be read by eye against the page. Renaming it to
`<page>.expected.json` confirms it; the site contract (tests/site_contract.py) rejects a captured
page whose expected item is still a draft. The page's provenance (URL, capture time, WARC record id
and file) goes into `<fixtures>/<site>/captured.json`, which the contract reads, and into the
fixtures README, which people read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newscrawl.archive.warc import captured_page
from newscrawl.commands.crawl import refuse_usage
from newscrawl.extract.page import extract_article
from newscrawl.normalize.urls import is_loopback_host
from newscrawl.sites import site_for_url
from newscrawl.state.files import write_atomically

CAPTURED = "captured"
CAPTURED_INDEX = "captured.json"
DRAFT_SUFFIX = ".expected.draft.json"
# The fetch time the site contract reads bundled article pages at, and so writes their expected items for.
CONTRACT_FETCHED_AT = "2026-11-25T00:00:00Z"
README_HEADING = "## Pages from live captures (`captured/`)"


def captured_page_path(url: str) -> Path:
    """`https://host/a/b.htm?x=1` → `captured/host/a/b.htm@x=1` (the bundled site's naming)."""
    parts = urlsplit(url)
    return (
        Path(CAPTURED) / (parts.hostname or "_") / (parts.path.lstrip("/") + (f"@{parts.query}" if parts.query else ""))
    )


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "--warc FILE --url URL [--fixtures DIR]"

    def short_desc(self) -> str:
        return "Turn a captured article page (WARC) into a site fixture with a draft expected item"

    def long_desc(self) -> str:
        return (
            "Write the latest response captured for --url in --warc into <fixtures>/<site>/captured/, with a "
            "drafted <page>.expected.draft.json made by the current parsers. Read the draft against the page "
            "by eye, correct it where the parser is wrong, then rename it to <page>.expected.json: the site "
            "contract test checks confirmed captured pages and fails while a draft is unconfirmed. The "
            "page's provenance (URL, capture time, WARC record id and file) is recorded in captured.json and "
            "in the fixtures README. Exits 1 when the capture holds no such page or it makes no article."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.error = refuse_usage("fixture")  # type: ignore[method-assign]
        parser.add_argument("--warc", required=True, help="a WARC file a crawl captured")
        parser.add_argument("--url", required=True, help="the article URL whose captured page to take")
        parser.add_argument("--fixtures", default="fixtures", help="the fixtures folder (default: fixtures)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError("no positional arguments: give --warc FILE --url URL")
        try:
            written = write_fixture(Path(opts.warc), opts.url, Path(opts.fixtures))
        except (OSError, LookupError, ValueError) as error:
            print(f"scrapy fixture: {error}", file=sys.stderr)
            self.exitcode = 1
            return
        page, draft = written
        print(
            f"wrote {page}\nwrote {draft} (a draft: read it against the page, then rename it to "
            f"{draft.name.replace(DRAFT_SUFFIX, '.expected.json')})"
        )


def write_fixture(warc: Path, url: str, fixtures: Path) -> tuple[Path, Path]:
    """Write the captured page, its draft and its provenance; returns (page, draft). Raises OSError,
    LookupError (no site, or no capture of the URL) or ValueError (an Unusable page)."""
    site = site_for_url(url)
    if site.article_id(url) is None:
        raise ValueError(f"not a {site.display_name} article URL: {url}")
    capture, body = captured_page(warc, url, site.canonical_url(url))
    article = extract_article(body, capture.url, capture.content_type, capture.fetched_at)
    folder = fixtures / site.name
    relative = captured_page_path(capture.url)
    page = folder / relative
    draft = page.with_name(page.name.rsplit(".", 1)[0] + DRAFT_SUFFIX)
    write_atomically(page, body, root=fixtures)  # never through a link planted in the fixtures folder
    write_atomically(draft, json.dumps(article.to_dict(), ensure_ascii=False, indent=1) + "\n", root=fixtures)
    index_file = folder / CAPTURED_INDEX
    index = json.loads(index_file.read_text(encoding="utf-8")) if index_file.is_file() else []
    entry = {
        "page": relative.as_posix(),
        "url": capture.url,
        "content_type": capture.content_type,
        "captured_at": capture.date,
        "fetched_at": capture.fetched_at,
        "warc_record_id": capture.record_id,
        "warc_file": warc.name,
        "ip_address": capture.ip_address,
    }
    index = [old for old in index if old["page"] != entry["page"]] + [entry]
    write_atomically(index_file, json.dumps(index, ensure_ascii=False, indent=1) + "\n", root=fixtures)
    _note_provenance(folder / "README.md", entry, fixtures)
    return page, draft


def _note_provenance(readme: Path, entry: dict[str, str | None], fixtures: Path) -> None:
    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    if README_HEADING not in text:
        text = (
            text.rstrip("\n")
            + ("\n\n" if text else "")
            + README_HEADING
            + (
                "\n\nEach page is a response a crawl received, as captured in a WARC file (`scrapy fixture`): a "
                "recording when the crawl was live (the address it came from is given). Its expected item was "
                "drafted by the parser under test and confirmed by eye "
                "against the page (the draft renamed to `.expected.json`).\n"
            )
        )
    marker = f"- `{entry['page']}`: "
    kept = "\n".join(line for line in text.rstrip("\n").split("\n") if not line.startswith(marker))
    origin = f"from {entry['ip_address']}" if entry["ip_address"] else "from an address the capture does not say"
    if is_loopback_host(entry["ip_address"] or ""):
        origin += " (a loopback address: the bundled site, so a modelled page, not a recording)"
    text = kept + (
        f"\n{marker}{entry['url']}, captured {entry['captured_at']} {origin}, "
        f"WARC record `{entry['warc_record_id']}` in `{entry['warc_file']}`\n"
    )
    write_atomically(readme, text, root=fixtures)
