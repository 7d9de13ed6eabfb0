from dataclasses import fields

from jsonschema import Draft202012Validator

from newscrawl.items import Article, json_schema


def test_schema_is_valid_and_matches_the_dataclass():
    schema = json_schema()
    Draft202012Validator.check_schema(schema)
    names = [f.name for f in fields(Article)]
    assert list(schema["properties"]) == names
    assert schema["required"] == names
