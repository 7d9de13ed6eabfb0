"""`scrapy report [JOURNAL_OR_FOLDER…] [-o report.html]`: one HTML page of what was crawled."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scrapy.commands import ScrapyCommand

from newscrawl.commands.crawl import refuse_usage
from newscrawl.exporters.report import read_material, render_report
from newscrawl.state.files import write_atomically


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[JOURNAL_OR_FOLDER...] [-o report.html]"

    def short_desc(self) -> str:
        return "Write one self-contained HTML page of what was crawled (opens offline)"

    def long_desc(self) -> str:
        return (
            "Read the journals (and rotated journals, *.jsonl.N) and run histories (NEWSCRAWL_RUNS_FILE) in the "
            "folders or files given (default: output/) and write one HTML page: articles per day per site, "
            "runs over time (exported, dropped, errors; alarms marked), field coverage per site, and the latest "
            "articles with links. The page has no script and loads nothing: open it from the file."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.error = refuse_usage("report")  # type: ignore[method-assign]
        parser.add_argument(
            "-o", "--output", default="output/report.html", help="where the page goes (default: output/report.html)"
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        try:
            material = read_material([Path(arg) for arg in args or ["output"]])
            if not material.articles and not material.runs:
                raise FileNotFoundError(f"no journal line or run found in {', '.join(args or ['output'])}")
            write_atomically(Path(opts.output), render_report(material))
        except OSError as error:
            print(f"scrapy report: {error}", file=sys.stderr)
            self.exitcode = 1
            return
        skipped = (
            f" ({material.unreadable_lines} line(s) skipped: not newscrawl's articles or runs)"
            if material.unreadable_lines
            else ""
        )
        print(f"wrote {opts.output}: {len(material.articles)} articles, {len(material.runs)} runs{skipped}")
