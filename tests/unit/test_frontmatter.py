from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from conftest import SAMPLE_ARTICLE

from newscrawl.exporters.frontmatter import (
    PostStyle,
    archive_title,
    one_html_block,
    post_date,
    post_path,
    render_post,
    safe_file_stem,
    yaml_quoted,
)
from newscrawl.state.files import write_atomically

ARTICLE = SAMPLE_ARTICLE
STYLE = PostStyle(
    ("新媒体", "快科技（原驱动之家）", "最新新闻"), "快科技（原驱动之家）", ZoneInfo("Asia/Shanghai"), "wall"
)
UTC_STYLE = replace(STYLE, archive_dates="utc")


def front_matter(post: str) -> dict:
    assert post.startswith("\n---\n")
    return yaml.safe_load(post.split("\n---\n", 2)[1])


@pytest.mark.parametrize(
    "title",
    [
        "It's a 'quoted' title",
        'Say "hi"',
        "both ' and \"",
        "a: b # not a comment",
        "---",
        "- leading dash",
        "&anchor *alias",
        "!!python/object:os.system",
        "back\\slash",
        "{{ hexo }} {% tag %}",
        "[list]",
        "?key",
        "%percent",
        "@at `tick`",
        "| pipe > fold",
        "tab\there",
        "小米12 Ultra：“首发”",
        "x" * 500,
        "'",
        '"',
    ],
)
def test_front_matter_is_valid_yaml_with_the_archive_title(title):
    post = render_post(replace(ARTICLE, title=title), STYLE)
    parsed = front_matter(post)
    assert parsed["title"] == archive_title(title).replace("{", "&#123;").replace("}", "&#125;")
    assert parsed["comments"] is False and parsed["categories"] == ["新媒体", "快科技（原驱动之家）", "最新新闻"]


def test_archive_title_replacements():
    assert (
        archive_title("M11/Q2 NVIDIA/Intel “难以修复” a:b\\c?d*e<f>g|h[i]")
        == "M11_Q2 NVIDIA_Intel _难以修复_ a_b_c_d_e_f_g_h_i_"
    )
    assert archive_title('要"杀死" GPU！（1.0）：？') == '要"杀死" GPU！（1.0）：？'


def test_quoting_follows_the_archive():
    assert yaml_quoted("abc") == "'abc'"
    assert yaml_quoted("it's") == '"it\'s"'


@pytest.mark.parametrize(
    ("published", "mode", "style", "written"),
    [
        ("2022-06-04T20:42:05+08:00", "utc", STYLE, "Sat, 04 Jun 2022 12:42:05 GMT"),
        ("2022-06-05T02:00:00+08:00", "utc", STYLE, "Sat, 04 Jun 2022 18:00:00 GMT"),  # the UTC day is the day before
        (
            "2022-06-04T20:42:05+08:00",
            "archive",
            STYLE,
            "Sat, 04 Jun 2022 20:42:05 GMT",
        ),  # 快科技's archive: wall time as GMT
        ("2022-06-04T20:42:05+08:00", "archive", UTC_STYLE, "Sat, 04 Jun 2022 12:42:05 GMT"),
        ("2022-06-04T20:42:05+08:00", "local", STYLE, "2022-06-04 20:42:05"),
        ("2022-06-04T12:42:05+00:00", "local", STYLE, "2022-06-04 20:42:05"),  # any offset in: the site's wall time out
        ("2022-06-04T20:42:05+08:00", "local", replace(STYLE, timezone=ZoneInfo("UTC")), "2022-06-04 12:42:05"),
        ("2022-12-31T23:59:59+08:00", "local", STYLE, "2022-12-31 23:59:59"),
    ],
)
def test_dates(published, mode, style, written):
    assert post_date(published, mode, style) == written


def test_an_unknown_date_mode_is_refused():
    with pytest.raises(ValueError, match="must be one of"):
        post_date("2022-06-04T20:42:05+08:00", "hexo", STYLE)


def test_a_local_date_is_what_yaml_and_hexo_read_as_a_zoneless_timestamp():
    post = render_post(ARTICLE, STYLE, "local")
    assert "\ndate: 2022-06-04 20:42:05\n" in post
    assert str(front_matter(post)["date"]) == "2022-06-04 20:42:05"  # a naive timestamp: no zone to re-read


def test_no_image_leaves_headimg_out_or_uses_the_placeholder():
    assert "headimg" not in front_matter(render_post(ARTICLE, STYLE))
    with_placeholder = front_matter(render_post(ARTICLE, STYLE, placeholder_image="https://example.org/p.png"))
    assert with_placeholder["headimg"] == with_placeholder["thumbnail"] == "https://example.org/p.png"


def test_body_layout():
    post = render_post(replace(ARTICLE, body_html="<p>{x}</p>\n"), STYLE)
    assert post.endswith("---\n\n<div>   \n<p>&#123;x&#125;</p>\n  \n</div>\n" + " " * 12)


@pytest.mark.parametrize(
    "title",
    [
        "../../etc/passwd",
        "/abs/path",
        "a\x00b",
        "CON",
        "nul.txt",
        "..",
        ".hidden",
        "a/../../b",
        "\\\\server\\x",
        "长" * 300,
        "  ",
        "?*<>|:",
    ],
)
def test_file_names_stay_in_the_folder(tmp_path: Path, title: str):
    path = post_path(tmp_path, replace(ARTICLE, title=title), "{title}-{article_id}.md")
    assert path.parent == tmp_path.resolve()
    assert "\x00" not in path.name and "/" not in path.name and len(path.name.encode()) <= 170
    assert not path.name.upper().startswith(("CON.", "NUL."))
    write_atomically(path, "x")
    assert path.read_text() == "x"


def test_file_name_pattern_cannot_escape(tmp_path: Path):
    with pytest.raises(ValueError):
        post_path(tmp_path, ARTICLE, "../{article_id}.md")
    assert post_path(tmp_path, ARTICLE, "{site}-{article_id}.md") == tmp_path.resolve() / "mydrivers-1000.md"


def test_safe_file_stem():
    assert safe_file_stem("a/b\\c:d") == "a_b_c_d"
    assert safe_file_stem("...") == "_"
    assert safe_file_stem("aux") == "_aux"


def test_atomic_write_leaves_no_temporary_file(tmp_path: Path):
    target = tmp_path / "posts" / "1.md"
    write_atomically(target, "one")
    write_atomically(target, "two")
    assert target.read_text() == "two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["1.md"]


@pytest.mark.parametrize(
    ("body", "written"),
    [
        ("<p>a</p>\n\n    <p>b</p>\n", "<p>a</p>\n<!---->\n    <p>b</p>\n"),
        ("<p>a</p>\n \t\n<p>b</p>", "<p>a</p>\n \t<!---->\n<p>b</p>"),
        ("\n<p>a</p>", "<!---->\n<p>a</p>"),
        ("<pre>x\n\ny</pre>", "<pre>x\n<!---->\ny</pre>"),  # a comment in <pre> shows nothing: the blank line stays
        ("<p>a</p>", "<p>a</p>"),
    ],
)
def test_one_html_block_leaves_no_blank_line_inside_the_body(body, written):
    assert one_html_block(body) == written


def test_only_the_archive_mode_keeps_the_bodys_blank_lines():
    article = replace(ARTICLE, body_html="<p>a</p>\n\n    <p>b</p>\n")
    assert "<p>a</p>\n\n    <p>b</p>\n" in render_post(article, STYLE, "archive")
    for mode in ("utc", "local"):
        assert "<p>a</p>\n<!---->\n    <p>b</p>\n" in render_post(article, STYLE, mode)
