"""Posts loaded into real Hexo 7.3.0 (tests/hexo: npm ci by scripts/test.sh) read as the articles were.

Hexo treats a post's `date:` as wall time and re-reads it through its `timezone` setting and the build
machine's zone (TZ). Each supported pairing of NEWSCRAWL_FRONTMATTER_DATES and Hexo `timezone` must
give every post its article's true instant on a build machine in UTC and in Asia/Shanghai; the whole
table of date forms × configurations is re-measured and must equal the one in docs/hexo.md.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
import yaml
from conftest import REPO, SAMPLE_ARTICLE, run_crawl
from lxml import html as lxml_html

from newscrawl.exporters.frontmatter import PostStyle, render_post
from newscrawl.sites import get_site

HEXO = REPO / "tests" / "hexo"
DOC = REPO / "docs" / "hexo.md"
SITE = get_site("mydrivers")
BUILD_ZONES = ("UTC", "Asia/Shanghai")
PAIRINGS = [("utc", ""), ("local", "Asia/Shanghai")]  # date mode → the Hexo `timezone` it is right for
TAGS = "xiaomi12_ultra,windows_11,nvidia"


def _hexo_ready() -> None:
    node = shutil.which("node")
    assert node, "node is not installed (Debian: apt-get install nodejs npm; scripts/test.sh does it)"
    assert (HEXO / "node_modules" / "hexo" / "package.json").exists(), (
        "Hexo is not installed in tests/hexo (scripts/test.sh runs `npm ci --prefix tests/hexo`)"
    )


def make_hexo_site(folder: Path, posts: dict[str, str], hexo_timezone: str) -> Path:
    """A minimal Hexo site: the pinned Hexo and renderers, a one-file theme, `posts` under source/_posts."""
    _hexo_ready()
    posts_folder = folder / "source" / "_posts" / "newscrawl" / "mydrivers"  # as docs/hexo.md lays them out
    posts_folder.mkdir(parents=True)
    (folder / "themes").mkdir()
    (folder / "themes" / "check").symlink_to(HEXO / "theme", target_is_directory=True)
    (folder / "node_modules").symlink_to(HEXO / "node_modules", target_is_directory=True)
    shutil.copy(HEXO / "package.json", folder / "package.json")
    (folder / "_config.yml").write_text(
        f"title: newscrawl check\nurl: http://127.0.0.1\ntimezone: '{hexo_timezone}'\ntheme: check\n"
        "permalink: :title/\n",
        encoding="utf-8",
    )
    for name, text in posts.items():
        (posts_folder / name).write_text(text, encoding="utf-8")
    return folder


def read_with_hexo(folder: Path, build_zone: str, generate: bool = False) -> dict[str, dict]:
    """What Hexo made of each post (by source file name), loaded — or generated — on a machine in `build_zone`."""
    out = folder / "hexo.json"
    done = subprocess.run(
        ["node", str(HEXO / "read_site.js"), str(folder), str(out)] + (["--generate"] if generate else []),
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "TZ": build_zone},
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    assert not re.search(r"\b(ERROR|FATAL|WARN)\b", log), log[-3000:]
    return {Path(post["source"]).name: post for post in json.loads(out.read_text(encoding="utf-8"))["posts"]}


def instant(iso: str) -> str:
    """An ISO 8601 time as the UTC instant Hexo prints (`2022-06-04T12:42:05.000Z`)."""
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory, site_server) -> dict[str, tuple[dict[str, str], dict[str, dict]]]:
    """Per date mode: the posts of a crawl of the bundled site, and its items by post file name."""
    results = {}
    for mode, _ in PAIRINGS:
        result = run_crawl(
            tmp_path_factory.mktemp(f"crawl-{mode}"),
            site_server,
            "-a",
            f"tag={TAGS}",
            settings={"NEWSCRAWL_FRONTMATTER_DATES": mode},
        )
        assert result.returncode == 0, result.log[-3000:]
        items = {f"{item['article_id']}.md": item for item in result.items}
        assert len(result.posts) == len(items) >= 8
        results[mode] = (result.posts, items)
    return results


@pytest.mark.parametrize("build_zone", BUILD_ZONES)
@pytest.mark.parametrize(("mode", "hexo_timezone"), PAIRINGS)
def test_hexo_reads_every_post_at_its_true_instant_with_its_title_and_categories(
    crawled, tmp_path: Path, mode: str, hexo_timezone: str, build_zone: str
):
    posts, items = crawled[mode]
    seen = read_with_hexo(make_hexo_site(tmp_path / "blog", posts, hexo_timezone), build_zone)
    assert seen.keys() == posts.keys()
    for name, post in seen.items():
        front = yaml.safe_load(posts[name].split("\n---\n", 2)[1])
        assert post["date"] == instant(items[name]["published"]), (name, posts[name].split("\n")[:10])
        assert post["title"] == front["title"]
        assert post["categories"] == list(SITE.archive_categories)


def test_hexo_generate_renders_every_post_with_its_body_and_images(crawled, tmp_path: Path):
    posts, items = crawled["local"]
    folder = make_hexo_site(tmp_path / "blog", posts, "Asia/Shanghai")
    seen = read_with_hexo(folder, "UTC", generate=True)
    images = 0
    for name, post in seen.items():
        page = lxml_html.fromstring((folder / "public" / post["path"] / "index.html").read_bytes())
        assert page.findtext(".//h1") == post["title"]
        body = page.find(".//article")
        ours = lxml_html.fromstring(items[name]["body_html"])
        assert [img.get("src") for img in body.iter("img")] == [img.get("src") for img in ours.iter("img")], name
        images += sum(1 for _ in ours.iter("img"))
        assert _words(body.text_content()) == _words(ours.text_content()), name
    assert images >= 10


def _words(text: str) -> list[str]:
    return text.split()


TEMPLATE_TITLE = "{{ config.title }} {% raw %} 'single' \"double\" --- end"
TEMPLATE_BODY = "<p>{{ page.path }} and {% asset_img x.png %}</p>\n<p>---</p>\n<p>'single' \"double\" {#}</p>\n"


def test_template_syntax_in_title_and_body_reaches_the_page_as_text(tmp_path: Path):
    """The archive writes `{`/`}` as `&#123;`/`&#125;` in the whole file because Hexo runs post bodies
    through its template engine: with the rule the text survives; without it (the control post, the
    same text with bare braces) Hexo evaluates it."""
    article = replace(
        SAMPLE_ARTICLE,
        id="mydrivers:1",
        article_id="1",
        url="https://news.mydrivers.com/1/0/1.htm",
        title=TEMPLATE_TITLE,
        body_html=TEMPLATE_BODY,
    )
    post = render_post(article, PostStyle.of(SITE), "local")
    control = post.replace("&#123;", "{").replace("&#125;", "}").replace("title: '", "title: 'control ", 1)
    folder = make_hexo_site(tmp_path / "blog", {"1.md": post, "control.md": control}, "Asia/Shanghai")
    seen = read_with_hexo(folder, "UTC", generate=True)

    page = lxml_html.fromstring((folder / "public" / seen["1.md"]["path"] / "index.html").read_bytes())
    assert unescape(seen["1.md"]["title"]) == TEMPLATE_TITLE  # braces as entities in the title, the text intact
    assert seen["1.md"]["date"] == "2022-06-04T12:42:05.000Z"
    assert _words(page.find(".//article").text_content()) == _words(lxml_html.fromstring(TEMPLATE_BODY).text_content())

    control_page = (folder / "public" / seen["control.md"]["path"] / "index.html").read_text(encoding="utf-8")
    assert "{{ page.path }}" not in control_page  # Hexo's template engine ate the bare braces


# The date table -----------------------------------------------------------------------------------

DATE_FORMS = {  # as docs/hexo.md names them → the `date:` line for 2022-06-04 20:42:05 Beijing
    "`Sat, 04 Jun 2022 12:42:05 GMT` (`utc`, the default)": "Sat, 04 Jun 2022 12:42:05 GMT",
    "`Sat, 04 Jun 2022 20:42:05 GMT` (`archive`, 快科技)": "Sat, 04 Jun 2022 20:42:05 GMT",
    "`2022-06-04 20:42:05` (`local`)": "2022-06-04 20:42:05",
    "`2022-06-04T20:42:05+08:00` (not offered)": "2022-06-04T20:42:05+08:00",
}
CONFIGURATIONS = [("Asia/Shanghai", "UTC"), ("Asia/Shanghai", "Asia/Shanghai"), ("", "UTC"), ("", "Asia/Shanghai")]
TRUE_INSTANT = "2022-06-04T12:42:05.000Z"


def documented_table() -> dict[str, list[str]]:
    """docs/hexo.md's table: date form → the instant Hexo stores in each configuration (HH:MMZ ✓/✗)."""
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 1 + len(CONFIGURATIONS) and cells[0] in DATE_FORMS:
            rows[cells[0]] = cells[1:]
    return rows


def test_the_documented_table_is_what_hexo_does(tmp_path: Path):
    base = render_post(
        replace(
            SAMPLE_ARTICLE, id="mydrivers:1", article_id="1", url="https://news.mydrivers.com/1/0/1.htm", title="t"
        ),
        PostStyle.of(SITE),
        "utc",
    )
    posts = {
        f"form{i}.md": base.replace("date: Sat, 04 Jun 2022 12:42:05 GMT", f"date: {line}").replace(
            "title: 't'", f"title: 'form {i}'"
        )
        for i, line in enumerate(DATE_FORMS.values())
    }
    measured: dict[str, list[str]] = {form: [] for form in DATE_FORMS}
    for index, (hexo_timezone, build_zone) in enumerate(CONFIGURATIONS):
        seen = read_with_hexo(make_hexo_site(tmp_path / f"blog{index}", posts, hexo_timezone), build_zone)
        for i, form in enumerate(DATE_FORMS):
            stored = seen[f"form{i}.md"]["date"]
            measured[form].append(f"{stored[11:16]}Z {'✓' if stored == TRUE_INSTANT else '✗'}")
    assert documented_table() == measured


def test_swapped_pairings_are_wrong_on_some_build_machine(crawled, tmp_path: Path):
    """Each date mode is right only with its own Hexo setting: the other way round, some build zone
    gets every post wrong by hours. (This is why the pairing tests can fail.)"""
    for (mode, _), (_, other_timezone) in zip(PAIRINGS, reversed(PAIRINGS), strict=True):
        posts, items = crawled[mode]
        wrong = 0
        for build_zone in BUILD_ZONES:
            seen = read_with_hexo(
                make_hexo_site(tmp_path / f"{mode}-{build_zone.replace('/', '_')}", posts, other_timezone), build_zone
            )
            wrong += sum(post["date"] != instant(items[name]["published"]) for name, post in seen.items())
        assert wrong >= len(posts), mode
