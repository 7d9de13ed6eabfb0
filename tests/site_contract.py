"""The site contract: what every registered site module must pass, without anybody writing a test.

A site's fixtures live in `fixtures/<site>/`: `README.md` (how each page was made), `pages.json`
(`articles[]` with `url` and optional `post`, `tags[]` with `slug` and `pages` of article ids or URLs,
optional `archive_differences[]` and `unreproducible_posts{}`), `site/<host>/<path>` pages with
`<page>.expected.json` beside each article page, and `posts/` (the archive's real posts, for a site
with an archive); pages from live captures in `captured/`, listed in `captured.json` (`scrapy fixture`).
Each check raises AssertionError with what is wrong; the per-page checks (`check_page_extracts`,
`check_layout`, `check_fallback`, `check_post`) let a test name the one page that differs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from lxml import html as lxml_html

from newscrawl.commands.fixture import CAPTURED_INDEX, CONTRACT_FETCHED_AT, DRAFT_SUFFIX
from newscrawl.exporters.frontmatter import PostStyle, render_post
from newscrawl.extract.page import extract_article
from newscrawl.items import json_schema
from newscrawl.sites import Site, get_site

FETCHED_AT = CONTRACT_FETCHED_AT
VALIDATOR = Draft202012Validator(json_schema())


def expected_beside(page: Path) -> Path:
    """The expected item written beside a page file (`x.htm` → `x.expected.json`)."""
    return page.with_name(page.name.rsplit(".", 1)[0] + ".expected.json")


@dataclass
class SiteFixtures:
    site: Site
    folder: Path
    spec: dict

    def page(self, url: str) -> Path:
        """The file the devserver answers `url` with (`<path>@<query>` for a URL with a query)."""
        parts = urlsplit(url)
        name = parts.path.lstrip("/") + (f"@{parts.query}" if parts.query else "")
        return self.folder / "site" / (parts.hostname or "") / name

    def expected(self, url: str) -> Path:
        return expected_beside(self.page(url))

    def listed_article_urls(self) -> set[str]:
        """Canonical URLs of every article the site's tag pages list."""
        urls_by_id = {article.get("id", article["url"]): article["url"] for article in self.spec["articles"]}
        return {
            self.site.canonical_url(urls_by_id.get(entry, entry))
            for tag in self.spec["tags"]
            for page in tag["pages"]
            for entry in page
        }


def load(site_name: str, fixtures_root: Path, site: Site | None = None) -> SiteFixtures:
    """The fixtures of a registered site (or of `site`, a site defined elsewhere, e.g. by a test)."""
    folder = fixtures_root / site_name
    spec_file = folder / "pages.json"
    assert spec_file.is_file(), f"{site_name}: no {spec_file}"
    return SiteFixtures(site or get_site(site_name), folder, json.loads(spec_file.read_text(encoding="utf-8")))


def article_urls(fx: SiteFixtures) -> list[str]:
    return [article["url"] for article in fx.spec["articles"]]


def archive_posts(fx: SiteFixtures) -> list[Path]:
    """The archive's posts (none for a site without an archive)."""
    return sorted((fx.folder / "posts").glob("*.md"))


def check_fixtures_exist(fx: SiteFixtures) -> None:
    assert (fx.folder / "README.md").is_file(), f"{fx.site.name}: fixtures need a README.md saying how pages were made"
    assert fx.spec.get("articles"), f"{fx.site.name}: pages.json lists no article pages"
    assert fx.spec.get("tags") and all(len(tag["pages"]) for tag in fx.spec["tags"]), (
        f"{fx.site.name}: no listing pages"
    )
    assert any(len(tag["pages"]) >= 2 for tag in fx.spec["tags"]), f"{fx.site.name}: no listing over 2 pages or more"
    for article in fx.spec["articles"]:
        assert fx.site.owns(article["url"]) and fx.site.article_id(article["url"]), (
            f"not an article URL: {article['url']}"
        )
        assert fx.page(article["url"]).is_file(), f"missing page {fx.page(article['url'])}"
        assert fx.expected(article["url"]).is_file(), f"missing expected item {fx.expected(article['url'])}"
    for tag in fx.spec["tags"]:
        first = fx.site.listing_url(tag["slug"])
        assert fx.page(first).is_file(), f"missing listing page {fx.page(first)}"


def _extract(fx: SiteFixtures, body: bytes, url: str, content_type: str, fetched_at: str) -> dict:
    return extract_article(body, url, content_type, fetched_at, site=fx.site).to_dict()


def check_page_extracts(fx: SiteFixtures, url: str) -> None:
    expected = json.loads(fx.expected(url).read_text(encoding="utf-8"))
    VALIDATOR.validate(expected)
    got = _extract(fx, fx.page(url).read_bytes(), url, "text/html", FETCHED_AT)
    wrong = {
        key: (expected.get(key), got.get(key))
        for key in expected.keys() | got.keys()
        if expected.get(key) != got.get(key)
    }
    assert not wrong, f"{url}: extracted item differs from its expected JSON in {sorted(wrong)}: {wrong}"


def check_pages_extract(fx: SiteFixtures) -> None:
    for url in article_urls(fx):
        check_page_extracts(fx, url)


def check_layout(fx: SiteFixtures, name: str) -> None:
    """The layout reads its own fixture page, field by field, with no fallback, and is picked for it."""
    layout = next(layout for layout in fx.site.layouts if layout.name == name)
    path, url = layout.fixture
    page = fx.folder / path
    assert page.is_file(), f"{fx.site.name}: layout {layout.name}'s fixture {page} is missing"
    article = _extract(fx, page.read_bytes(), url, "text/html", FETCHED_AT)
    assert article["layout"] == layout.name, f"{page} is read as {article['layout']}, not {layout.name}"
    assert article["fallbacks"] == {}, (
        f"{page}: layout {layout.name} leaves {sorted(article['fallbacks'])} to fallbacks"
    )
    expected_file = expected_beside(page)
    if expected_file.is_file():
        expected = json.loads(expected_file.read_text(encoding="utf-8"))
        wrong = sorted(key for key in expected.keys() | article.keys() if expected.get(key) != article.get(key))
        assert not wrong, f"{page}: layout {layout.name} reads {wrong} otherwise than {expected_file.name}"


def check_layouts(fx: SiteFixtures) -> None:
    """Every layout the site declares reads its own fixture page, and is picked for it; every bundled
    article page says which known layout read it."""
    for layout in fx.site.layouts:
        check_layout(fx, layout.name)
    names = {layout.name for layout in fx.site.layouts}
    for article in fx.spec["articles"]:
        expected = json.loads(fx.expected(article["url"]).read_text(encoding="utf-8"))
        assert expected["layout"] in names, (
            f"{article['url']}: layout {expected['layout']!r} is not one of {sorted(names)}"
        )


def redesigned_article(expected: dict) -> bytes:
    """The article of `expected` in markup no site module knows: metadata only in og:title and
    article:published_time, the body in a <main> between navigation and a footer."""
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><meta property="og:title" content="{escape(expected["title"])}">'
        f'<meta property="article:published_time" content="{expected["published"]}"></head><body>'
        '<nav class="menu"><a href="/">Home</a></nav><main><div class="x-text">'
        f'{expected["body_html"]}</div></main><footer class="x-foot">© site</footer></body></html>'
    ).encode()


def check_fallback(fx: SiteFixtures, url: str) -> None:
    """The article page, redesigned: the site's own selectors find nothing, the fallbacks give the true
    title, instant and body text, and the item names every field they filled."""
    expected = json.loads(fx.expected(url).read_text(encoding="utf-8"))
    got = _extract(fx, redesigned_article(expected), url, "text/html", FETCHED_AT)
    assert (got["title"], got["published"]) == (expected["title"], expected["published"]), url
    assert {name: got["fallbacks"][name] for name in ("title", "published", "body_html")} == {
        "title": "og:title",
        "published": "meta:article:published_time",
        "body_html": "trafilatura",
    }, url
    text = "".join(lxml_html.fromstring(got["body_html"]).text_content().split())
    sentences = [
        s
        for s in re.split(r"[。！？.!?\n]", lxml_html.fromstring(expected["body_html"]).text_content())
        if len("".join(s.split())) >= 10
    ]
    squeezed = ["".join(sentence.split()) for sentence in sentences]
    kept = sum(len(sentence) for sentence in squeezed if sentence in text)
    # Close to exact, not exact: a generic extractor leaves out footer lines (reprint notes, editor,
    # tags) and may lose a lead that is not in a block element; 80 % of the text, by characters, stays.
    assert kept >= 0.8 * sum(map(len, squeezed)), f"{url}: {kept} of {sum(map(len, squeezed))} characters kept"


def check_fallbacks(fx: SiteFixtures) -> None:
    for url in article_urls(fx):
        check_fallback(fx, url)


def _archive_headimg(post: str) -> str | None:
    match = re.search(r"^headimg: '(.*)'$", post, re.M)
    return match.group(1) if match else None


def check_archive(fx: SiteFixtures) -> None:
    """A site with an archive bundles its posts; a site without one bundles none."""
    if fx.site.has_archive:
        assert archive_posts(fx), f"{fx.site.name}: no archive posts in {fx.folder / 'posts'}"
    else:
        assert not archive_posts(fx), f"{fx.site.name} has no archive (archive_categories unset) but bundles posts"


def check_post(fx: SiteFixtures, post_name: str) -> None:
    """The archive post is reproduced from its page in archive-date mode; the only differences allowed
    are the site's declared `archive_differences` (each with a reason). A post of an article without
    images is rendered with the post's own `headimg` as the placeholder-image setting."""
    skipped = fx.spec.get("unreproducible_posts", {})
    if post_name in skipped:
        assert skipped[post_name], f"{post_name}: say why it cannot be reproduced"
        return
    by_post = {
        article["post"]: article for article in fx.spec["articles"] if article.get("post") and not article.get("derive")
    }
    assert post_name in by_post, f"{post_name}: no fixture page reproduces it (pages.json articles[].post)"
    archive = (fx.folder / "posts" / post_name).read_text(encoding="utf-8")
    expected = archive
    for difference in fx.spec.get("archive_differences", []):
        expected = expected.replace(difference["archive"], difference["ours"])
    article_url = by_post[post_name]["url"]
    article = extract_article(fx.page(article_url).read_bytes(), article_url, "text/html", FETCHED_AT, site=fx.site)
    placeholder = _archive_headimg(archive) if article.head_image is None else None
    ours = render_post(article, PostStyle.of(fx.site), "archive", placeholder)
    assert ours == expected, f"{post_name} is not reproduced from {article_url}"


def check_posts_reproduced(fx: SiteFixtures) -> None:
    check_archive(fx)
    for post_file in archive_posts(fx):
        check_post(fx, post_file.name)


def check_captured(fx: SiteFixtures) -> None:
    """Pages from live captures (`scrapy fixture`, listed in `captured.json`): none left as a draft, each
    extracting to its confirmed expected item at its own fetch time and Content-Type."""
    index_file = fx.folder / CAPTURED_INDEX
    if not index_file.is_file():
        return
    for entry in json.loads(index_file.read_text(encoding="utf-8")):
        page = fx.folder / entry["page"]
        assert page.is_file(), f"{fx.site.name}: captured page {page} is missing"
        expected_file = expected_beside(page)
        draft = page.with_name(page.name.rsplit(".", 1)[0] + DRAFT_SUFFIX)
        assert not draft.is_file(), (
            f"{draft} is a draft: read it against the page, then rename it to {expected_file.name}"
        )
        assert expected_file.is_file(), f"captured page {page} has no expected item {expected_file}"
        expected = json.loads(expected_file.read_text(encoding="utf-8"))
        VALIDATOR.validate(expected)
        got = _extract(fx, page.read_bytes(), entry["url"], entry["content_type"], entry["fetched_at"])
        wrong = sorted(key for key in expected.keys() | got.keys() if expected.get(key) != got.get(key))
        assert not wrong, f"{entry['url']} (captured): extracted item differs from {expected_file.name} in {wrong}"


# Every check of the contract, in the order a failure is easiest to read.
ALL_CHECKS = (
    check_fixtures_exist,
    check_pages_extract,
    check_layouts,
    check_fallbacks,
    check_posts_reproduced,
    check_captured,
)
