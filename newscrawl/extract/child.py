"""The parse process' side (newscrawl.extract.process starts it as `python -m newscrawl.extract.child`):
article pages in on stdin, their Articles out on stdout, one at a time.

It imports no Scrapy (nor does anything it imports): the crawl waits for this process before its first
article, so its start-up is the crawl's.
"""

from __future__ import annotations

import functools
import importlib
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from newscrawl.children import answer, helper_answers, messages
from newscrawl.dev.crash_points import crash_point
from newscrawl.extract.page import Page, page_article
from newscrawl.items import Article, Unusable


def function_of_article(spec: str) -> tuple[str, Callable[[Article], Any]]:
    """The function a spec names, with its name: `module:name` is called with each Article,
    `module:name=argument` with each Article and that string."""
    name, given, argument = spec.partition("=")
    module, _, attribute = name.partition(":")
    function = getattr(importlib.import_module(module), attribute)
    return name, (functools.partial(_with_argument, function, argument) if given else function)


def _with_argument(function: Callable[[Article, str], Any], argument: str, article: Article) -> Any:
    return function(article, argument)


def serve(source: Any, sink: Any, also: Sequence[str] = ()) -> None:
    """The child's loop: a page in, its result out, until `source` ends. `also`: functions of each Article
    (`function_of_article`) whose results go back with it, by name."""
    functions = dict(function_of_article(spec) for spec in also)
    for message in messages(source):
        page = Page(*message)
        crash_point("parse-process")
        try:
            article = page_article(page)
            result: tuple[Any, ...] = (
                "article",
                article,
                {name: function(article) for name, function in functions.items()},
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
