"""`scrapy newsite NAME URL`: a site module drafted from a generic crawl of a few pages.

Crawls URL (a listing page) with the generic spider — `--pages` listing pages, their articles — capturing
every response (WARC), then learns the selectors that give the generic crawl's values on every page
(newscrawl.generic.draft) and writes, under `--into` (default `drafts/`):

- `<NAME>.py`: the drafted module (hosts, article URL pattern, listing selector, title/date/body
  selectors, zone and language);
- `<NAME>/`: its fixtures in the site contract's layout — the captured pages under `site/<host>/`,
  `pages.json`, a README saying where each page came from, and beside each article page the item the
  drafted module makes of it as `<page>.expected.draft.json`, to be read by eye and confirmed.

Exit codes: 0 drafted; 1 could not start (a bad name or URL, a folder that exists); 3 the pages were
fetched but no selector agrees on every page for some field (named), or too little was fetched.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from parsel import Selector
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newscrawl.archive.warc import capture_files, read_body, response_records
from newscrawl.commands.crawl import StartErrors, refuse_usage
from newscrawl.commands.fixture import CONTRACT_FETCHED_AT, DRAFT_SUFFIX
from newscrawl.exit_codes import ALARM, CANNOT_START
from newscrawl.extract.page import extract_article
from newscrawl.generic.draft import ArticlePage, CannotLearn, ListingPage, learn, module_source, page_path
from newscrawl.generic.site import GenericSite
from newscrawl.items import Unusable
from newscrawl.normalize.encoding import decode_html
from newscrawl.parsing.site import Site
from newscrawl.sites import all_sites, site_of
from newscrawl.state.files import write_atomically

ENOUGH_ARTICLES = 2


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = True

    def syntax(self) -> str:
        return "NAME LISTING_URL [--pages N] [--into DIR]"

    def short_desc(self) -> str:
        return "Draft a site module and its fixtures from a generic crawl of a few pages"

    def long_desc(self) -> str:
        return (__doc__ or "").strip()

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.error = refuse_usage("newsite")  # type: ignore[method-assign]
        parser.add_argument("--pages", type=int, default=2, help="listing pages to crawl (default 2)")
        parser.add_argument("--into", default="drafts", help="where to write the draft (default: drafts)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 2:
            raise UsageError("give a site name and a listing page URL: scrapy newsite NAME URL")
        name, url = args
        into = Path(opts.into)
        problem = (
            f"{name} is a site with a module"
            if name in all_sites()
            else f"{into / name} exists: choose another --into or remove it"
            if (into / name).exists() or (into / f"{name}.py").exists()
            else None
        )
        if problem:
            print(f"scrapy newsite: {problem}", file=sys.stderr)
            self.exitcode = CANNOT_START
            return
        with tempfile.TemporaryDirectory(prefix="newsite-") as work:
            site = self._crawl(name, url, max(1, opts.pages), Path(work))
            if site is None:
                self.exitcode = CANNOT_START
                return
            try:
                written = draft(site, url, Path(work), into)
            except CannotLearn as error:
                print(f"scrapy newsite: cannot draft {name}: {error}", file=sys.stderr)
                self.exitcode = ALARM
                return
        for path in written:
            print(f"wrote {path}")
        print(
            f"A draft: read {into / name}.py against the pages in {into / name}/site, confirm each "
            f"*{DRAFT_SUFFIX} (rename it to *.expected.json), then move the module into newscrawl/sites/ "
            "and the folder into fixtures/."
        )

    def _crawl(self, name: str, url: str, pages: int, work: Path) -> GenericSite | None:
        """The generic crawl of `url`, captured into `work`; its site, or None when it could not start."""
        assert self.crawler_process is not None and self.settings is not None
        settings: dict[str, Any] = {
            "FEEDS": {str(work / "items.jsonl"): {"format": "jsonlines", "overwrite": True}},
            "NEWSCRAWL_WARC_DIR": str(work / "warc"),
            "NEWSCRAWL_MAX_PAGES": pages,
            "NEWSCRAWL_SUMMARY_FILE": "",
            "NEWSCRAWL_RUNS_FILE": "",
            "STATS_DUMP": False,
        }
        for setting, value in settings.items():
            self.settings.set(setting, value, priority="cmdline")
        crawler = self.crawler_process.create_crawler("generic")
        errors = StartErrors()
        errors.watch(self.crawler_process.crawl(crawler, url=url, name=name))
        self.crawler_process.start()
        if errors.failed:
            return None
        return cast(GenericSite, site_of(crawler))


def draft(site: GenericSite, start: str, work: Path, into: Path) -> list[Path]:
    """Learn from the captured crawl in `work` and write the module and its fixtures under `into`."""
    items = [json.loads(line) for line in (work / "items.jsonl").read_text(encoding="utf-8").splitlines()]
    by_url = {item["url"]: item for item in items}
    bodies: dict[str, tuple[bytes, str | None]] = {}
    files, _ = capture_files([work / "warc"])
    for capture in response_records(files):
        if capture.status == 200 and not capture.url.endswith("/robots.txt"):
            bodies[capture.url] = (read_body(capture), capture.content_type)
    texts = {url: decode_html(body, kind, site.fallback_encoding).text for url, (body, kind) in bodies.items()}
    articles = [
        ArticlePage(url, Selector(text=texts[url]), item["title"], item["published_raw"], item["body_html"])
        for url, item in by_url.items()
        if url in texts
    ]
    listings: list[ListingPage] = []
    page_url: str | None = start
    while page_url in texts and len(listings) < 50:
        found = site.parse_tag_page(texts[page_url], page_url)
        listings.append(ListingPage(page_url, Selector(text=texts[page_url]), found.article_urls))
        page_url = found.next_url
    if len(articles) < ENOUGH_ARTICLES or not listings:
        raise CannotLearn(f"the crawl gave {len(articles)} article(s) and {len(listings)} listing page(s)")
    shape = site.patterns.get(start)
    if shape is None:
        raise CannotLearn(f"no article links on {start}")
    learned = learn(articles, listings, shape)
    folder = into / site.name
    first = articles[0].url
    conventions = site.page_conventions(texts[first])
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    source = module_source(
        learned,
        name=site.name,
        display_name=site.display_name,
        hosts=site.hosts,
        timezone=str(conventions.timezone),
        language=conventions.language,
        fixture=(page_path(first), first),
        provenance=f"{when}, from {start}",
    )
    module_file = into / f"{site.name}.py"
    written = [module_file]
    write_atomically(module_file, source, root=into)
    for url, (body, _) in bodies.items():
        if url in by_url or any(listing.url == url for listing in listings):
            write_atomically(folder / page_path(url), body, root=into)
    drafted = _load(module_file)
    spec = {
        "about": f"Drafted by scrapy newsite on {when} from {start}: every page is a capture of that crawl.",
        "articles": [{"id": site.article_id(article.url), "url": article.url} for article in articles],
        "tags": [
            {
                "slug": start,
                "pages": [[site.article_id(link) for link in listing.article_urls] for listing in listings],
            }
        ],
    }
    write_atomically(folder / "pages.json", json.dumps(spec, ensure_ascii=False, indent=1) + "\n", root=into)
    for article in articles:
        try:
            item = extract_article(bodies[article.url][0], article.url, "text/html", CONTRACT_FETCHED_AT, site=drafted)
        except Unusable as error:
            raise CannotLearn(f"the drafted module cannot read {article.url}: {error}") from None
        target = folder / page_path(article.url)
        expected = target.with_name(target.name.rsplit(".", 1)[0] + DRAFT_SUFFIX)
        write_atomically(expected, json.dumps(item.to_dict(), ensure_ascii=False, indent=1) + "\n", root=into)
        written.append(expected)
    readme = folder / "README.md"
    lines = "\n".join(f"- {line}" for line in learned.lines())
    write_atomically(
        readme,
        f"# {site.display_name} fixtures (drafted)\n\n{spec['about']} What it learned:\n\n{lines}\n\n"
        f"Each `*{DRAFT_SUFFIX}` is the item the drafted module makes of the page beside it, at the fetch "
        f"time the site contract reads pages at ({CONTRACT_FETCHED_AT}). Read it against the page; "
        "rename it to `*.expected.json` to confirm it.\n",
        root=into,
    )
    return [*written, folder / "pages.json", readme]


def _load(module_file: Path) -> Site:
    """The SITE of a drafted module file (its class checked against the contract as it is defined)."""
    spec = importlib.util.spec_from_file_location(f"newscrawl_draft_{module_file.stem}", module_file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return cast(Site, module.SITE)
