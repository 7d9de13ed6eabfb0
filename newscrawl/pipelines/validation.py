"""Spidermon's item validation with a compiled JSON Schema check in front of it.

Spidermon's JSONSchemaValidator builds a jsonschema validator and interprets the whole schema for
every item, the largest single cost of the item pipeline (docs/performance.md). The schema compiled by
fastjsonschema says "valid" far faster; only an item it rejects goes on to spidermon's validator, so
invalid items get spidermon's usual messages, stats and drops, and valid ones never pay for them.

fastjsonschema knows drafts 4–7, and the schema declares 2020-12. The compiled check is used only
when every keyword the schema uses means the same in draft 7 (COMPATIBLE_KEYWORDS); any other schema
is validated by spidermon alone, and the log says so.

Keeping spidermon's behaviour means calling four of its private steps (SPIDERMON_STEPS). A spidermon
without them gets its own `process_item` for every item (slower, same result), and
tests/unit/test_validation.py fails so the change is seen.
"""

from __future__ import annotations

import logging
from typing import Any

import fastjsonschema
from itemadapter import ItemAdapter
from spidermon.contrib.scrapy.pipelines import ItemValidationPipeline as SpidermonValidationPipeline
from spidermon.contrib.validation import JSONSchemaValidator
from spidermon.contrib.validation.jsonschema.tools import get_schema_from

from newscrawl.items import Article

logger = logging.getLogger(__name__)

# Keywords whose meaning draft 7 and draft 2020-12 share (in 2020-12, `items` with one schema is
# draft 7's `items` with one schema; `$ref` alone in its schema — draft 7 ignores a `$ref`'s siblings,
# so a `$ref` with siblings counts as another keyword; `$defs` is only where `$ref`s point). `$schema`
# is dropped before compiling.
COMPATIBLE_KEYWORDS = frozenset(
    {
        "$schema",
        "$id",
        "title",
        "description",
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "pattern",
        "enum",
        "const",
        "minItems",
        "maxItems",
        "oneOf",
        "$defs",
        "$ref",
    }
)
_SCHEMA_MAPS = ("properties", "$defs")  # keywords whose value maps names to subschemas
# spidermon's private steps that ItemValidationPipeline calls or overrides.
SPIDERMON_STEPS = ("_add_error_stats", "_add_errors_to_item", "_drop_item", "_load_jsonschema_validator")


def spidermon_steps_available() -> bool:
    """Does this spidermon still have every private step the fast path relies on?"""
    return all(callable(getattr(SpidermonValidationPipeline, step, None)) for step in SPIDERMON_STEPS)


_FAST_PATH = spidermon_steps_available()


def schema_keywords(schema: Any) -> set[str]:
    """Every keyword used anywhere in `schema` (property names are not keywords)."""
    found: set[str] = set()
    if isinstance(schema, dict):
        if "$ref" in schema and len(schema) > 1:
            found.add("$ref with siblings")
        for keyword, value in schema.items():
            found.add(keyword)
            subschemas = value.values() if keyword in _SCHEMA_MAPS and isinstance(value, dict) else [value]
            for subschema in subschemas:
                found |= schema_keywords(subschema)
    elif isinstance(schema, list):
        for element in schema:
            found |= schema_keywords(element)
    return found


class CompiledJSONSchemaValidator(JSONSchemaValidator):
    """Spidermon's JSONSchemaValidator, asked only about items the compiled schema rejects."""

    def __init__(self, schema: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(schema, **kwargs)
        self._is_valid = fastjsonschema.compile({k: v for k, v in schema.items() if k != "$schema"})

    def _validate(self, data: dict[str, Any], strict: bool = False) -> None:
        try:
            self._is_valid(data)
        except fastjsonschema.JsonSchemaException:
            super()._validate(data, strict)


class ItemValidationPipeline(SpidermonValidationPipeline):
    """Spidermon's ItemValidationPipeline (same settings, stats and drops) with the compiled check.

    An Article is validated as `Article.to_dict()` rather than spidermon's generic, much slower
    `ItemAdapter(item).asdict()` (the nested tags and images); the steps after it are spidermon's own,
    in spidermon's order. Other items go through spidermon's code unchanged."""

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if not isinstance(item, Article) or not _FAST_PATH:
            return super().process_item(item, spider)
        data = item.to_dict()
        self.stats.add_item()
        self.stats.add_fields(len(data))
        for validator in self.find_validators(item):
            ok, errors = validator.validate(data)
            if not ok:
                self._add_error_stats(errors)
                if self.add_errors_to_items:
                    self._add_errors_to_item(ItemAdapter(item), errors)
                if self.drop_items_with_errors:
                    self._drop_item(item, errors)
        return item

    @classmethod
    def _load_jsonschema_validator(cls, schema: Any) -> JSONSchemaValidator:
        if isinstance(schema, str):
            schema = get_schema_from(schema)
        unsupported = schema_keywords(schema) - COMPATIBLE_KEYWORDS if isinstance(schema, dict) else {"?"}
        if unsupported:
            logger.info(
                "Validating with spidermon's JSON Schema validator alone: the schema uses %s",
                ", ".join(sorted(unsupported)),
            )
            return super()._load_jsonschema_validator(schema)
        return CompiledJSONSchemaValidator(schema)
