"""newscrawl's validation pipeline decides, counts and drops exactly as spidermon's own does.

The compiled check (newscrawl/pipelines/validation.py) only stands in front of spidermon's validator, so the
test runs both pipelines on the same items — every fixture's expected item, and those items broken
in the ways a parser bug would break them — and compares the outcome and every stat.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from conftest import FIXTURES
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler
from spidermon.contrib.scrapy.pipelines import ItemValidationPipeline as SpidermonPipeline

from newscrawl import settings as project_settings
from newscrawl.items import Article
from newscrawl.pipelines.validation import CompiledJSONSchemaValidator, ItemValidationPipeline, schema_keywords

EXPECTED = sorted(FIXTURES.glob("*/site/**/*.expected.json"))
VALIDATION_SETTINGS = {
    name: getattr(project_settings, name)
    for name in ("SPIDERMON_ENABLED", "SPIDERMON_VALIDATION_SCHEMAS", "SPIDERMON_VALIDATION_DROP_ITEMS_WITH_ERRORS")
}


def _outcome(pipeline_class: type, items: list[Any]) -> tuple[list[bool], dict[str, Any]]:
    """Which items each pipeline dropped, and the stats it left."""
    crawler = get_crawler(settings_dict=VALIDATION_SETTINGS)
    crawler.stats.open_spider()
    pipeline = pipeline_class.from_crawler(crawler)
    dropped = []
    for item in items:
        try:
            pipeline.process_item(copy.deepcopy(item))  # an Article or a dict
            dropped.append(False)
        except DropItem:
            dropped.append(True)
    return dropped, crawler.stats.get_stats()


def _expected_items() -> list[dict[str, Any]]:
    return [json.loads(path.read_text(encoding="utf-8")) for path in EXPECTED]


FIRST_ITEM = _expected_items()[0]


def _broken(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The item broken one way at a time, as a parser or normaliser bug would break it."""
    variants = []
    for field, value in [
        ("title", ""),
        ("title", None),
        ("published", "2022-06-04 20:42:05"),
        ("published", "2022-06-04T20:42:05"),
        ("revision", 0),
        ("revision", "1"),
        ("tags", "小米"),
        ("images", [{"url": "x"}]),
        ("body_html", 5),
        ("url", None),
        ("language", ["zh"]),
        ("head_image", {}),
    ]:
        variants.append({**item, field: value})
    missing = dict(item)
    missing.pop("published")
    variants.append(missing)
    variants.append({**item, "unexpected": 1})
    if item["tags"]:
        variants.append({**item, "tags": [{**item["tags"][0], "name": 7}]})
    return variants


def test_the_project_uses_the_compiled_validator():
    crawler = get_crawler(settings_dict=VALIDATION_SETTINGS)
    pipeline = ItemValidationPipeline.from_crawler(crawler)
    assert all(isinstance(v, CompiledJSONSchemaValidator) for vs in pipeline.validators.values() for v in vs)


def test_valid_items_pass_both_with_the_same_stats():
    items = _expected_items()
    assert len(items) >= 20
    ours, theirs = _outcome(ItemValidationPipeline, items), _outcome(SpidermonPipeline, items)
    assert ours == theirs
    assert ours[0] == [False] * len(items)


def test_articles_take_the_fast_path_with_the_same_outcome():
    """Articles are validated from to_dict(): same verdicts and stats as spidermon's asdict path."""
    valid = [Article(**item) for item in _expected_items()]
    broken = [
        Article(**variant) for item in _expected_items()[:3] for variant in _broken(item) if set(variant) == set(item)
    ]  # a dataclass has every field and no other
    for items in (valid, broken):
        ours, theirs = _outcome(ItemValidationPipeline, items), _outcome(SpidermonPipeline, items)
        assert ours == theirs
    assert _outcome(ItemValidationPipeline, broken)[0] == [True] * len(broken) and len(broken) >= 30


def test_broken_items_are_dropped_by_both_with_the_same_error_stats():
    items = [variant for item in _expected_items()[:3] for variant in _broken(item)]
    ours, theirs = _outcome(ItemValidationPipeline, items), _outcome(SpidermonPipeline, items)
    assert ours == theirs
    assert ours[0] == [True] * len(items)
    assert ours[1]["spidermon/validation/items/dropped"] == len(items)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(field=st.sampled_from(sorted(FIRST_ITEM)), value=json_values)
def test_any_field_replaced_by_any_json_value_gets_the_same_verdict(field: str, value: Any):
    item = {**FIRST_ITEM, field: value}
    assert _outcome(ItemValidationPipeline, [item]) == _outcome(SpidermonPipeline, [item])


def test_a_schema_with_keywords_draft_7_reads_differently_falls_back_to_spidermon():
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "array",
        "prefixItems": [{"type": "integer"}],
    }
    assert "prefixItems" in schema_keywords(schema)
    validator = ItemValidationPipeline._load_jsonschema_validator(schema)
    assert not isinstance(validator, CompiledJSONSchemaValidator)
    # Property names are not keywords.
    assert schema_keywords({"properties": {"prefixItems": {"type": "string"}}}) == {"properties", "type"}


def test_spidermon_still_has_the_steps_the_fast_path_calls():
    """newscrawl.pipelines.validation calls spidermon's private steps; an upgrade without them must be seen here
    (the pipeline would fall back to spidermon's own, slower process_item)."""
    from newscrawl.pipelines.validation import spidermon_steps_available

    assert spidermon_steps_available()
