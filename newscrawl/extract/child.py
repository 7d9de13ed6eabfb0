"""The parse process' side (newscrawl.extract.process starts it as `python -m newscrawl.extract.child`):
article pages in on stdin, their Articles out on stdout, one at a time.

It imports no Scrapy (nor does anything it imports): the crawl waits for this process before its first
article, so its start-up is the crawl's.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from newscrawl.children import answer, helper_answers, messages
from newscrawl.dev.crash_points import crash_point
from newscrawl.extract.page import Page, page_article
from newscrawl.items import Unusable


def serve(source: Any, sink: Any, also: Sequence[str] = ()) -> None:
    """The child's loop: a page in, its result out, until `source` ends. `also`: "module:name" functions
    of an Article's body whose results go back with it."""
    functions = {name: getattr(importlib.import_module(name.split(":")[0]), name.split(":")[1]) for name in also}
    for message in messages(source):
        page = Page(*message)
        crash_point("parse-process")
        try:
            article = page_article(page)
            result: tuple[Any, ...] = (
                "article",
                article,
                {name: function(article.body_html) for name, function in functions.items()},
            )
        except Unusable as unusable:
            result = ("unusable", unusable.reason, unusable.url, unusable.detail)
        except Exception:  # noqa: BLE001 (reported to the crawl, which logs it as a spider error)
            result = ("error", traceback.format_exc())
        answer(sink, result)


def main() -> None:
    serve(sys.stdin.buffer, helper_answers(), sys.argv[1:])


if __name__ == "__main__":
    main()
