"""`scrapy reparse DIR_OR_WARC… [-O out.jsonl]`: the current parsers over captured responses, no network."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from scrapy.commands import BaseRunSpiderCommand, ScrapyCommand
from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError

from newscrawl.archive.warc import Capture, capture_files, damage, finish_abandoned, response_records
from newscrawl.commands.crawl import StartErrors
from newscrawl.exit_codes import ATTENTION_NEEDED, CANNOT_START, exit_code
from newscrawl.sites import site_for_url
from newscrawl.spiders.base import SiteSpider
from newscrawl.spiders.reparse import reparse_spider

logger = logging.getLogger(__name__)


class Command(BaseRunSpiderCommand):
    requires_project = True
    default_settings = {"LOG_LEVEL": "INFO"}

    def syntax(self) -> str:
        return "DIR_OR_WARC_FILE... [-O out.jsonl]"

    def short_desc(self) -> str:
        return "Parse captured responses (WARC files) again with the current parsers, without fetching"

    def long_desc(self) -> str:
        return (
            "Read the WARC files a crawl captured (NEWSCRAWL_WARC_DIR). Folders are searched for finished "
            "*.warc.gz files, and the files a killed capture left in them are finished first. The current "
            "parsers run over the latest captured page of every article, one site at a time, with no "
            "network. With -O/-o it exports like a one-off crawl (with captures of several sites, put "
            "%(name)s in the file name). Without, it works on the sites' scheduled journals, crawl states and "
            "posts: an article whose normalised content changed is emitted as an update (revision + 1, post "
            "replaced), a new one as new, an unchanged one not at all; the counts of changed fields are "
            "printed. Exit codes as `scrapy crawl`."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        """Scrapy's global options and its run command's -o/-O; `-a` is parsed (and refused: there is no
        spider to give arguments to) but not offered."""
        ScrapyCommand.add_options(self, parser)
        parser.add_argument("-a", dest="spargs", action="append", default=[], help=argparse.SUPPRESS)
        parser.add_argument(
            "-o", "--output", metavar="FILE", action="append", help="append the items to FILE (-o FILE:FORMAT)"
        )
        parser.add_argument(
            "-O", "--overwrite-output", metavar="FILE", action="append", help="write the items to FILE, replacing it"
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not args:
            raise UsageError("give one or more WARC files or folders of them")
        assert self.crawler_process is not None and self.settings is not None
        if opts.spargs:
            raise UsageError("reparse takes no spider arguments (-a)")
        for folder in (Path(arg) for arg in args if Path(arg).is_dir()):
            finished, cut = finish_abandoned(folder)  # what a killed capture left, unless its writer is alive
            if finished:
                logger.warning(
                    "Finished %d WARC file(s) a killed run left in %s (%d torn byte(s) cut)", finished, folder, cut
                )
        try:
            files, unfinished = capture_files(args)
        except FileNotFoundError as error:
            self._refuse(str(error))
            return
        for path in unfinished:
            logger.warning(
                "Passed over %s: not finished (a crawl is writing it; a killed one's is finished when "
                "its folder is given)",
                path,
            )
        damaged = [(path, end) for path in files if (end := damage(path)) is not None]
        for path, end in damaged:
            logger.error(
                "%s is damaged after byte %d of %d (truncated, or overwritten): only the records before "
                "that are read (exit 2)",
                path,
                end,
                path.stat().st_size,
            )
        unreadable: list[str] = []
        pages = _pages_by_site(files, unreadable)
        for message in unreadable:
            logger.error("%s (exit 2)", message)
        sites = sorted(pages)
        if not sites:
            self._refuse(f"no captured response of a known site in {', '.join(args)}")
            return
        feeds = self.settings.getdict("FEEDS")
        if len(sites) > 1 and any("%(name)s" not in str(uri) for uri in feeds):
            self._refuse(
                f"the captures hold {len(sites)} sites ({', '.join(sites)}): put %(name)s in the -O/-o file name"
            )
            return
        spiders = {
            cls.site.name: cls
            for cls in map(self.crawler_process.spider_loader.load, self.crawler_process.spider_loader.list())
            if issubclass(cls, SiteSpider) and "site" in vars(cls)  # a site module's (generic's is made per run)
        }
        errors = StartErrors()
        crawlers: list[Crawler] = []
        for name in sites:
            crawler = self.crawler_process.create_crawler(reparse_spider(spiders[name]))
            errors.watch(self.crawler_process.crawl(crawler, captures=pages[name]))
            crawlers.append(crawler)
        self.crawler_process.start()
        if errors.failed or self.crawler_process.bootstrap_failed:
            self.exitcode = CANNOT_START
            return
        for crawler in crawlers:
            print(_report(crawler), file=sys.stderr)
        self.exitcode = max(
            [exit_code(crawler.stats.get_stats()) for crawler in crawlers]
            + [ATTENTION_NEEDED if damaged or unreadable else 0]
        )

    def _refuse(self, message: str) -> None:
        print(f"scrapy reparse: {message}", file=sys.stderr)
        self.exitcode = CANNOT_START


def _pages_by_site(files: list[Path], unreadable: list[str]) -> dict[str, list[Capture]]:
    """The 200 responses captured in `files`, by the site that serves them (one pass over the files); what
    cannot be read is said in `unreadable`."""
    found: dict[str, list[Capture]] = {}
    for capture in response_records(files, unreadable):
        if capture.status != 200:
            continue
        try:
            found.setdefault(site_for_url(capture.url).name, []).append(capture)
        except LookupError:
            continue
    return found


def _report(crawler: Crawler) -> str:
    """One line: what the re-parse of one site found and did."""
    stats = crawler.stats.get_stats()
    name = crawler.spidercls.name
    captured = stats.get("newscrawl/reparse/articles_captured", 0)
    dropped = sum(value for key, value in stats.items() if key.startswith("newscrawl/dropped/"))
    if crawler.settings.getdict("FEEDS"):
        exported = stats.get("item_scraped_count", 0)
        return f"reparse {name}: {captured} captured article(s), {exported} exported, {dropped} dropped"
    changed = ", ".join(
        f"{key.rsplit('/', 1)[1]} {value}"
        for key, value in sorted(stats.items())
        if key.startswith("newscrawl/updated_fields/")
    )
    return (
        f"reparse {name}: {captured} captured article(s): {stats.get('newscrawl/articles/new', 0)} new, "
        f"{stats.get('newscrawl/articles/updated', 0)} updated{f' (changed: {changed})' if changed else ''}, "
        f"{stats.get('newscrawl/articles/unchanged', 0)} unchanged, {dropped} dropped"
    )
