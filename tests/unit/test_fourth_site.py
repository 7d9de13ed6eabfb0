"""A fourth site, defined outside newscrawl/sites/ and without a Hexo archive, passes the site contract.

Lantern Daily (tests/fourth_site/) is invented and its pages modelled; what it proves is that the
contract asks nothing of a site that only a site with an archive can give, and that two layouts, the
second subclassing the first and overriding one field, read their pages.
"""

import shutil
import sys
from pathlib import Path

import pytest
import site_contract
import yaml

from newscrawl.exporters.frontmatter import PostStyle, render_post
from newscrawl.extract.page import extract_article

HERE = Path(__file__).parent / "fourth_site"
sys.path.insert(0, str(HERE))
from lantern_site import SITE, Story2025, Story2026  # noqa: E402

FX = site_contract.load("lantern", HERE, site=SITE)


@pytest.mark.parametrize("check", site_contract.ALL_CHECKS)
def test_the_fourth_site_passes_each_check_of_the_contract(check):
    check(FX)


def test_it_has_no_archive_and_its_posts_take_the_generic_style():
    assert not SITE.has_archive and not site_contract.archive_posts(FX)
    url = site_contract.article_urls(FX)[0]
    article = extract_article(FX.page(url).read_bytes(), url, "text/html", site_contract.FETCHED_AT, site=SITE)
    post = render_post(article, PostStyle.of(SITE), "utc")
    front_matter = yaml.safe_load(post.split("\n---\n")[1])
    assert (front_matter["categories"], front_matter["author"]) == (["Lantern Daily"], "Lantern Daily")
    assert front_matter["title"] == "Harbour lights switched to LEDs"


def test_the_newer_layout_overrides_only_the_byline():
    overridden = {name for name in vars(Story2026) if not name.startswith("__")}
    assert overridden == {"name", "seen", "fixture", "holds", "byline"}
    assert issubclass(Story2026, Story2025)


def test_its_listing_pages_lead_to_every_listed_article():
    first = SITE.listing_url("harbour")
    urls, page_url = [], first
    while page_url:
        listing = SITE.read_listing(FX.page(page_url).read_text(encoding="utf-8"), page_url)
        urls += listing.article_urls
        page_url = listing.next_url
    assert set(urls) == FX.listed_article_urls() and len(urls) == 2


def test_a_site_without_an_archive_that_bundles_posts_fails_the_contract(tmp_path: Path):
    shutil.copytree(HERE / "lantern", tmp_path / "lantern")
    (tmp_path / "lantern/posts").mkdir()
    (tmp_path / "lantern/posts/stray.md").write_text("---\ntitle: stray\n---\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="has no archive .* but bundles posts"):
        site_contract.check_posts_reproduced(site_contract.load("lantern", tmp_path, site=SITE))
