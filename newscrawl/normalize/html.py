"""Body HTML: the article container, sanitised with an allow-list (nh3) for people's browsers.

Removed: script, style, iframe, object, embed, svg, forms, event handlers, and `javascript:` /
`data:` / `vbscript:` URLs (a link loses its href and keeps the rest). Kept: what the archive keeps
(inline `style`, `align`, `w`/`h`, `target`, classes, ids, and the inert `_src`/`_href` copies of a
URL that the sites' editors leave on links and images: no browser loads or runs them). Every `<img>` gets
`referrerpolicy="no-referrer"`. Character references are written back minimally, so the output is
byte-faithful to the archive where the archive is safe (`&&` stays `&&`, a no-break space stays a
character).
"""

from __future__ import annotations

import html
import re
from functools import cache, partial
from html.entities import html5 as _HTML5_ENTITIES
from typing import Any
from urllib.parse import urljoin

import nh3
from lxml import html as lxml_html

from newscrawl.normalize.images import LAZY_SOURCE_ATTRIBUTES, shown_source

ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "col",
        "colgroup",
        "dd",
        "del",
        "details",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "font",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "pre",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "tt",
        "u",
        "ul",
        "var",
        "video",
        "audio",
        "source",
        "center",
    }
)
_GENERIC_ATTRIBUTES = {"class", "id", "style", "align", "lang", "title", "dir"}
_INERT_URL_COPIES = {"_src", "_href"}  # left by the sites' editors; nothing reads them
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": _GENERIC_ATTRIBUTES,
    "a": {"href", "target", "name"} | _INERT_URL_COPIES,
    "img": {"src", "alt", "w", "h", "width", "height", "border"} | _INERT_URL_COPIES,
    "td": {"colspan", "rowspan", "valign", "width"},
    "th": {"colspan", "rowspan", "valign", "width"},
    "table": {"border", "cellpadding", "cellspacing", "width"},
    "font": {"color", "size", "face"},
    "ol": {"start", "type"},
    "video": {"src", "poster", "controls", "width", "height"},
    "audio": {"src", "controls"},
    "source": {"src", "type"},
}
_URL_ATTRIBUTES = {"href", "src", "poster"}
# Whole elements dropped with their content (the rest of a disallowed tag's text is kept).
_DROP_WITH_CONTENT = {
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "noscript",
    "template",
    "form",
    "textarea",
    "select",
    "button",
    "frame",
    "frameset",
    "noembed",
    "noframes",
}
# CSS that can run code or fetch from elsewhere in old browsers.
_UNSAFE_STYLE = re.compile(r"expression\s*\(|javascript:|vbscript:|url\s*\(|behavior\s*:|-moz-binding|@import", re.I)


def _filter_attribute(base_url: str, element: str, attribute: str, value: str) -> str | None:
    """Drop code-running CSS; make URLs absolute (nh3 checks their scheme afterwards)."""
    if attribute == "style" and _UNSAFE_STYLE.search(html.unescape(value)):
        return None
    if attribute in _URL_ATTRIBUTES and not value.startswith(("http://", "https://")):
        return urljoin(base_url, value.strip())
    return value


@cache
def _cleaner_options() -> dict[str, Any]:
    return {
        "tags": set(ALLOWED_TAGS),
        "clean_content_tags": _DROP_WITH_CONTENT,
        "attributes": ALLOWED_ATTRIBUTES,
        "link_rel": None,
        "url_schemes": {"http", "https", "mailto"},
        "set_tag_attribute_values": {"img": {"referrerpolicy": "no-referrer"}},
        "strip_comments": True,
        "generic_attribute_prefixes": {"data-"},  # inert; sites use them (cnBeta's data-link)
    }


# `&amp;` may be written as a bare `&` wherever what follows cannot be read as a character reference.
_AMP = re.compile(r"&amp;(#|[A-Za-z0-9]+;?)?")


def _minimal_amp(match: re.Match[str]) -> str:
    following = match.group(1) or ""
    if following == "#" or any(following[:n] in _HTML5_ENTITIES for n in range(1, len(following) + 1)):
        return "&amp;" + following
    return "&" + following


def minimal_references(serialized: str) -> str:
    """Undo needless escaping of a serialiser: `&nbsp;` → U+00A0, `&amp;` → `&` where unambiguous."""
    return _AMP.sub(_minimal_amp, serialized.replace("&nbsp;", "\u00a0"))


# C0 controls but tab, newline and carriage return, and the non-characters: no page means them, and
# XML-based consumers (feeds, lxml) reject them.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def sanitize_html(fragment: str, base_url: str) -> str:
    """Allow-list sanitised HTML; relative URLs made absolute against `base_url`."""
    cleaned = nh3.clean(
        _CONTROL_CHARACTERS.sub("", fragment),
        attribute_filter=partial(_filter_attribute, base_url),
        **_cleaner_options(),
    )
    return minimal_references(cleaned)


def inner_html(element: lxml_html.HtmlElement) -> str:
    """The element's content as HTML, without its own tag (the archive keeps only the container's inside)."""
    parts = [html.escape(element.text, quote=False)] if element.text else []
    parts.extend(lxml_html.tostring(child, encoding="unicode") for child in element)
    return "".join(parts)


def resolve_lazy_images(container: lxml_html.HtmlElement) -> None:
    """Give every lazy `<img>` its real `src`, so the body shows what the page shows after scripts run."""
    for img in container.iter("img"):
        if any(name in img.attrib for name in LAZY_SOURCE_ATTRIBUTES):
            real = shown_source(dict(img.attrib))
            if real:
                img.set("src", real)
            for name in LAZY_SOURCE_ATTRIBUTES:
                img.attrib.pop(name, None)
