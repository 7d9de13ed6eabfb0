"""What makes a revision: a field added to the schema (fallbacks, modified) changes no known article's
content while it is empty, and is content once it says something."""

import json

from conftest import FIXTURES

from newscrawl.items import Article
from newscrawl.state.revisions import changed_fields, content_fields

LINE = json.loads(
    (FIXTURES / "mydrivers/site/news.mydrivers.com/1/833/833153.expected.json").read_text(encoding="utf-8")
)


def test_a_line_from_before_the_new_fields_is_the_same_content_as_one_with_them_empty():
    old = {name: value for name, value in LINE.items() if name not in ("fallbacks", "modified")}
    assert content_fields(old) == content_fields(Article(**old).to_dict())
    assert changed_fields(old, Article(**LINE)) == []


def test_a_modified_time_the_page_gives_is_content():
    later = Article(**{**LINE, "modified": "2022-06-05T09:00:00+08:00"})
    assert changed_fields(LINE, later) == ["modified"]
