"""Property tests (hypothesis): whatever HTML and titles come in, nothing unsafe goes out."""

from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from conftest import SAMPLE_ARTICLE
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

from newscrawl.exporters.frontmatter import PostStyle, archive_title, post_path, render_post
from newscrawl.normalize.html import sanitize_html
from newscrawl.normalize.titles import clean_title

BASE = "https://news.mydrivers.com/1/833/833153.htm"
ARTICLE = SAMPLE_ARTICLE

TAGS = [
    "p",
    "a",
    "img",
    "div",
    "span",
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "form",
    "input",
    "button",
    "base",
    "meta",
    "link",
    "video",
    "source",
    "table",
    "td",
    "b",
    "template",
    "noscript",
]
ATTRIBUTES = [
    "href",
    "src",
    "style",
    "onclick",
    "onerror",
    "onload",
    "OnMouseOver",
    "class",
    "id",
    "action",
    "formaction",
    "xlink:href",
    "srcdoc",
    "data-x",
    "poster",
    "background",
    "lowsrc",
    "dynsrc",
]
SCHEMES = [
    "javascript:",
    "JaVaScRiPt:",
    " javascript:",
    "java\tscript:",
    "&#106;avascript:",
    "&#x6A;avascript:",
    "vbscript:",
    "data:text/html,",
    "data:image/svg+xml,",
    "http://x/",
    "https://x/",
    "/rel/",
    "//proto/",
    "",
]
STYLES = [
    "color:red",
    "width:expression(alert(1))",
    "background:url(javascript:alert(1))",
    "behavior:url(x.htc)",
    "-moz-binding:url(x)",
    "@import 'x'",
    "x:EXPRESSION (1)",
]


@st.composite
def attribute(draw) -> str:
    name = draw(st.sampled_from(ATTRIBUTES))
    if name == "style":
        value = draw(st.sampled_from(STYLES))
    else:
        value = draw(st.sampled_from(SCHEMES)) + draw(st.text(alphabet="alert(1)<>\"'&;x ", max_size=12))
    quote = draw(st.sampled_from(['"', "'", ""]))
    if quote:
        value = value.replace(quote, "")
    else:
        value = value.replace(" ", "").replace(">", "") or "x"
    return f" {name}={quote}{value}{quote}"


@st.composite
def html_fragment(draw, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        if depth < 3 and draw(st.booleans()):
            tag = draw(st.sampled_from(TAGS))
            attrs = "".join(draw(st.lists(attribute(), max_size=3)))
            inner = draw(html_fragment(depth=depth + 1))
            closing = draw(st.sampled_from([f"</{tag}>", "", f"</{tag.upper()}>"]))
            parts.append(f"<{tag}{attrs}>{inner}{closing}")
        else:
            parts.append(draw(st.text(alphabet=st.characters(codec="utf-8"), max_size=20)))
    return "".join(parts)


def assert_safe(output: str) -> None:
    tree = lxml_html.fragment_fromstring(output or "<span></span>", create_parent="div")
    for element in tree.iter():
        assert not isinstance(element.tag, str) or element.tag not in (
            "script",
            "style",
            "iframe",
            "object",
            "embed",
            "svg",
            "math",
            "form",
            "input",
            "button",
            "base",
            "meta",
            "link",
            "template",
            "noscript",
        ), output
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), output
            assert name not in ("srcdoc", "formaction", "action", "xlink:href", "background", "lowsrc", "dynsrc"), (
                output
            )
            if name in ("href", "src", "poster"):
                normalized = "".join(value.split()).lower()  # browsers drop tabs and newlines in URLs
                assert normalized.startswith(("http://", "https://", "mailto:")), output
            if name == "style":
                lowered = value.lower()
                assert "expression" not in lowered and "url(" not in lowered and "binding" not in lowered, output


@settings(max_examples=400, deadline=None)
@given(html_fragment())
def test_sanitiser_lets_nothing_unsafe_through(fragment: str):
    assert_safe(sanitize_html(fragment, BASE))


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_front_matter_is_yaml_with_the_title_back_and_files_stay_in_the_folder(raw_title: str):
    title = clean_title(raw_title) or "x"
    post = render_post(replace(ARTICLE, title=title), PostStyle(("c",), "a", ZoneInfo("UTC")))
    front = yaml.safe_load(post.split("\n---\n")[1])
    assert front["title"] == archive_title(title).replace("{", "&#123;").replace("}", "&#125;")
    folder = Path("/tmp/newscrawl-property-posts")
    path = post_path(folder, replace(ARTICLE, title=title), "{title}-{article_id}.md")
    assert path.parent == folder.resolve() and path.name.endswith("-1000.md")
