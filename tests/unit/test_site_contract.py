"""Every registered site passes the contract (tests/site_contract.py) with nothing written for it."""

import json
import shutil
from pathlib import Path

import pytest
import site_contract
from conftest import FIXTURES

from newscrawl.sites import all_sites

SITES = sorted(all_sites())
FIXTURES_OF = {name: site_contract.load(name, FIXTURES) for name in SITES}
ARTICLES = [(name, url) for name in SITES for url in site_contract.article_urls(FIXTURES_OF[name])]
LAYOUTS = [(name, layout.name) for name in SITES for layout in FIXTURES_OF[name].site.layouts]
POSTS = [(name, post.name) for name in SITES for post in site_contract.archive_posts(FIXTURES_OF[name])]


@pytest.mark.parametrize("name", SITES)
def test_fixtures_exist(name: str):
    site_contract.check_fixtures_exist(FIXTURES_OF[name])


@pytest.mark.parametrize(("name", "url"), ARTICLES)
def test_the_fixture_page_extracts_to_its_expected_json(name: str, url: str):
    site_contract.check_page_extracts(FIXTURES_OF[name], url)


@pytest.mark.parametrize(("name", "layout"), LAYOUTS)
def test_the_layout_reads_its_fixture(name: str, layout: str):
    site_contract.check_layout(FIXTURES_OF[name], layout)


@pytest.mark.parametrize("name", SITES)
def test_every_article_page_names_a_known_layout(name: str):
    site_contract.check_layouts(FIXTURES_OF[name])


@pytest.mark.parametrize(("name", "url"), ARTICLES)
def test_the_article_page_redesigned_is_read_by_the_fallbacks(name: str, url: str):
    site_contract.check_fallback(FIXTURES_OF[name], url)


@pytest.mark.parametrize("name", SITES)
def test_a_site_with_an_archive_bundles_its_posts(name: str):
    site_contract.check_archive(FIXTURES_OF[name])


@pytest.mark.parametrize(("name", "post"), POSTS)
def test_the_archive_post_is_reproduced(name: str, post: str):
    site_contract.check_post(FIXTURES_OF[name], post)


@pytest.mark.parametrize("name", SITES)
def test_every_captured_page_is_confirmed_and_extracts(name: str):
    site_contract.check_captured(FIXTURES_OF[name])


def test_the_contract_fails_a_site_whose_expected_output_is_wrong(tmp_path: Path):
    shutil.copytree(FIXTURES / "mydrivers", tmp_path / "mydrivers")
    fixtures = site_contract.load("mydrivers", tmp_path)
    site_contract.check_pages_extract(fixtures)  # the copy passes as it is
    expected_file = fixtures.expected(fixtures.spec["articles"][0]["url"])
    item = json.loads(expected_file.read_text(encoding="utf-8"))
    item["editor"] = "雪花"
    expected_file.write_text(json.dumps(item, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(AssertionError, match="differs from its expected JSON in \\['editor'\\]"):
        site_contract.check_pages_extract(fixtures)


def test_the_contract_fails_a_site_whose_post_is_not_reproduced(tmp_path: Path):
    shutil.copytree(FIXTURES / "mydrivers", tmp_path / "mydrivers")
    fixtures = site_contract.load("mydrivers", tmp_path)
    post = tmp_path / "mydrivers/posts/seed-example.md"
    post.write_text(post.read_text(encoding="utf-8").replace("comments: false", "comments: true"), encoding="utf-8")
    with pytest.raises(AssertionError, match="seed-example.md is not reproduced"):
        site_contract.check_posts_reproduced(fixtures)


def _layout(**attributes):
    from newscrawl.parsing.layout import Layout

    body = {"name": "plain", "seen": "always", "fixture": ("site/x.htm", "https://example.org/x.htm"), **attributes}
    return type("Plain", (Layout,), body)


def _site_class(**attributes):
    """A site class defined on the spot, with the required attributes unless `attributes` overrides them."""
    from zoneinfo import ZoneInfo

    from newscrawl.sites import Site

    layout = _layout()
    body = {
        "name": "example",
        "display_name": "Example",
        "hosts": ("example.org",),
        "timezone": ZoneInfo("UTC"),
        "language": "en",
        "archive_categories": ("News",),
        "archive_author": "Example",
        "layouts": (layout,),
        "article_id": lambda self, url: None,
        "canonical_url": lambda self, url: url,
        "tag_page_url": lambda self, tag: tag,
    }
    body.update(attributes)
    body["__module__"] = __name__
    return type("ExampleSite", (Site,), {key: value for key, value in body.items() if value is not ...})


def test_a_complete_site_class_is_accepted_with_the_declared_defaults():
    site = _site_class()()
    layout = site.layouts[0]
    assert (layout.body_drop, layout.body_decorations, site.archive_dates, site.title_suffixes, site.has_archive) == (
        ("script", "style"),
        (),
        "utc",
        (),
        True,
    )


def test_a_site_without_an_archive_is_accepted():
    site = _site_class(archive_categories=..., archive_author=...)()
    assert (site.has_archive, site.archive_categories, site.archive_author) == (False, (), "")


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"archive_author": ...}, "archive_categories and archive_author are set together (an archive) or not at all"),
        ({"archive_categories": ...}, "archive_categories and archive_author are set together"),
        ({"archive_categories": ["News"]}, "archive_categories must be a tuple of strings"),
        ({"hosts": ("Example.org",)}, "hosts must be a non-empty tuple of lower-case host names"),
        ({"timezone": "Asia/Shanghai"}, "timezone must be a zoneinfo.ZoneInfo"),
        ({"name": "My Site"}, "name must be a lower-case identifier"),
        ({"archive_dates": "local"}, "archive_dates must be one of ('utc', 'wall'), not 'local'"),
        ({"layouts": (_layout(body_drop=".ad"),)}, "tuples of strings as body_drop and body_decorations"),
        ({"layouts": ()}, "layouts must be a non-empty tuple of Layout subclasses"),
        ({"layouts": (str,)}, "layouts must be a non-empty tuple of Layout subclasses"),
    ],
)
def test_a_site_class_breaking_the_contract_fails_when_defined_naming_it(attributes, message):
    from newscrawl.sites import SiteDefinitionError

    with pytest.raises(SiteDefinitionError, match="site class test_site_contract.ExampleSite: ") as failure:
        _site_class(**attributes)
    assert message in str(failure.value)


def test_an_intermediate_base_with_abstract_methods_is_not_checked():
    base = _site_class(name=..., article_id=..., archive_author=...)  # no error: still abstract
    with pytest.raises(TypeError):
        base()
