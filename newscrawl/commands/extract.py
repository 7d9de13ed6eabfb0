"""`scrapy extract PATH --url URL [--format json|frontmatter]`: print the item of one saved page
(or, with `--warc FILE` instead of PATH, of the page captured for URL)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newscrawl.archive.warc import captured_page
from newscrawl.commands.crawl import refuse_usage
from newscrawl.exporters.frontmatter import DATE_MODES, PostStyle, render_post
from newscrawl.extract.page import extract_article
from newscrawl.items import Article, Unusable
from newscrawl.sites import get_site


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "PATH|- --url URL | --warc FILE --url URL [--format json|frontmatter]"

    def short_desc(self) -> str:
        return "Parse one saved article page and print its item (JSON) or its front-matter post"

    def long_desc(self) -> str:
        return (
            "Parse a saved article page (a file, or - for standard input) as the crawler would: the site "
            "is chosen from --url, the charset found as the spider finds it, the same normalisers run. "
            "Prints one JSON object (schema field order) or, with --format frontmatter, the post a crawl "
            "would write. With --warc FILE instead of PATH, the latest response captured for --url in that WARC "
            "file is read, with its Content-Type and its capture time as the fetch time "
            "(NEWSCRAWL_FRONTMATTER_DATES and NEWSCRAWL_PLACEHOLDER_IMAGE are honoured, e.g. "
            "-s NEWSCRAWL_FRONTMATTER_DATES=archive). Exits 1 when the page has no usable article."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.error = refuse_usage("extract")  # type: ignore[method-assign]
        parser.add_argument("--url", required=True, help="the URL the page was fetched from (picks the site)")
        parser.add_argument("--format", choices=("json", "frontmatter"), default="json", help="output format")
        parser.add_argument("--warc", default=None, help="read the page captured for --url in this WARC file")
        parser.add_argument(
            "--fetched-at",
            default=None,
            help="fetch time, ISO 8601 UTC (default: now); year-less dates are read against it",
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != (0 if opts.warc else 1):
            raise UsageError("give exactly one PATH (or - for standard input), or --warc FILE and no PATH")
        settings = self.settings
        assert settings is not None
        if settings.get("NEWSCRAWL_FRONTMATTER_DATES") not in DATE_MODES:
            print(
                f"scrapy extract: NEWSCRAWL_FRONTMATTER_DATES must be one of {', '.join(DATE_MODES)}, "
                f"not {settings.get('NEWSCRAWL_FRONTMATTER_DATES')!r}",
                file=sys.stderr,
            )
            self.exitcode = 1
            return
        try:
            if opts.warc:
                article = _captured_article(Path(opts.warc), opts.url, opts.fetched_at)
            else:
                body = sys.stdin.buffer.read() if args[0] == "-" else Path(args[0]).read_bytes()
                article = extract_article(body, opts.url, fetched_at=opts.fetched_at)
        except (OSError, LookupError, ValueError) as error:  # Unusable is a ValueError
            message = str(error) if isinstance(error, Unusable) else f"{type(error).__name__}: {error}"
            print(f"scrapy extract: {message}", file=sys.stderr)
            self.exitcode = 1
            return
        if opts.format == "json":
            text = json.dumps(article.to_dict(), ensure_ascii=False) + "\n"
        else:
            text = render_post(
                article,
                PostStyle.of(get_site(article.site)),
                settings.get("NEWSCRAWL_FRONTMATTER_DATES"),
                settings.get("NEWSCRAWL_PLACEHOLDER_IMAGE") or None,
            )
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:  # `| head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _captured_article(warc: Path, url: str, fetched_at: str | None) -> Article:
    capture, body = captured_page(warc, url)
    return extract_article(body, url, capture.content_type, fetched_at or capture.fetched_at)
