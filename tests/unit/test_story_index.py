"""The SQLite story index's batches: in order, one transaction, all or none (a real SQLite file)."""

import sqlite3
from pathlib import Path

import pytest
from conftest import FIXTURES

from newscrawl.stories.index import Member, SqliteStoryIndex
from newscrawl.stories.signature import signature_bytes


def body(article: str) -> str:
    import json

    return json.loads(next((FIXTURES / "mydrivers/site").rglob(f"{article}.expected.json")).read_text())["body_html"]


def member(identifier: str) -> Member:
    return Member(identifier, "mydrivers", f"https://example.test/{identifier}", "t", "2022-08-28")


def recorded(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT id FROM story_articles ORDER BY id")]


def test_a_later_article_of_a_batch_joins_an_earlier_ones_story(tmp_path: Path):
    original = signature_bytes(body("833153"))
    copy = signature_bytes("<p>据外媒消息，</p>" + body("833153").replace("，", ",") + "<p>责任编辑：小编</p>")
    other = signature_bytes(body("848601"))
    index = SqliteStoryIndex(tmp_path / "stories.sqlite")
    told = index.assign_all([(member("a"), original), (member("b"), other), (member("c"), copy), (member("a"), None)])
    assert [(t.story, t.lead) for t in told] == [("a", True), ("b", True), ("a", False), ("a", True)]
    index.close()


def test_a_batch_that_fails_records_none_of_its_articles(tmp_path: Path):
    path = tmp_path / "stories.sqlite"
    index = SqliteStoryIndex(path)
    index.assign(member("before"), signature_bytes(body("848601")))
    with sqlite3.connect(path) as db:  # the injected fault: the batch's third article cannot be written
        db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON story_articles WHEN NEW.id = 'third' "
            "BEGIN SELECT RAISE(ABORT, 'injected'); END"
        )
    batch = [(member(name), signature_bytes(body("833153"))) for name in ("first", "second", "third")]
    with pytest.raises(sqlite3.IntegrityError, match="injected"):
        index.assign_all(batch)
    assert recorded(path) == ["before"]
    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER refuse")
    assert [t.story for t in index.assign_all(batch)] == ["first", "first", "first"]  # retried whole
    assert recorded(path) == ["before", "first", "second", "third"]
    index.close()
