"""A layout of a site's article pages, as a page object: one method per field.

Each known layout of a site is a `Layout` subclass with its provenance (`name`, `seen`, `fixture`), what
a page of it `holds`, and the fields it reads. A new layout subclasses the one it changes and overrides
only what changed (Fundus keeps a publisher's parser as `V1`, `V1_1(V1)`; web-poet makes each layout a
page object with a method per field). A field method returns the raw value as the page shows it, or
None (empty for tags and body) to leave the field to the generic fallbacks.
"""

from __future__ import annotations

from functools import cache
from typing import ClassVar

from lxml import html as lxml_html
from lxml.cssselect import CSSSelector
from parsel import Selector, SelectorList

from newscrawl.items import RawImage
from newscrawl.normalize.html import inner_html, resolve_lazy_images
from newscrawl.normalize.images import is_tracking_pixel, shown_source


@cache
def _css(query: str) -> CSSSelector:
    """A compiled CSS selector (lxml compiles one per call otherwise)."""
    return CSSSelector(query, translator="html")


def first_text(selector: Selector, *queries: str) -> str | None:
    """Text of the first CSS query that finds non-blank text (descendant text joined, not scripts')."""
    for query in queries:
        for node in selector.css(query):
            text = "".join(node.xpath(".//text()[not(ancestor::script or ancestor::style)]").getall()).strip()
            if text:
                return text
    return None


def tag_links(links: SelectorList[Selector]) -> list[tuple[str, str | None]]:
    """(name, href) of tag links, names as shown (a `#` marker is the normaliser's to drop)."""
    found = []
    for link in links:
        name = "".join(link.css("::text").getall()).strip()
        if name:
            found.append((name, link.attrib.get("href")))
    return found


class Layout:
    """One known layout of a site's article pages: what a page of it holds, when it was seen, the
    fixture page that proves it, and its fields.

    A new layout is a new subclass — of the layout it changes, when it changes one — never an edit of
    an old one: old pages keep being read as before. The item says which layout read it (`layout`).
    """

    name: ClassVar[str]  # short and stable: it is written in every item read with this layout
    seen: ClassVar[str]  # when and where it was seen, e.g. "2022-02 → 2022-08, the archive's posts"
    # (path under fixtures/<site>/, the URL that page stands for); () for one that reads no page (newscrawl.generic)
    fixture: ClassVar[tuple[str, str] | tuple[()]]
    # Removed from the body with their content (ads, share boxes); tracking pixels go too.
    body_drop: ClassVar[tuple[str, ...]] = ("script", "style")
    # Elements whose images stay in the body but are not article images (end-of-article marks).
    body_decorations: ClassVar[tuple[str, ...]] = ()

    def __init__(self, page: Selector, url: str) -> None:
        self.page = page
        self.url = url

    @classmethod
    def holds(cls, page: Selector) -> bool:
        """Is `page` of this layout? (Checked newest layout first; the first that holds is used.)"""
        raise NotImplementedError

    # The fields, as the page shows them (normalising happens later) ------------------------------

    def title(self) -> str | None:
        return None

    def published(self) -> str | None:
        """The date as shown."""
        return None

    def modified(self) -> str | None:
        """When the page says the article was last modified, as shown."""
        return None

    def byline(self) -> str | None:
        """e.g. "2022-06-04 20:42:05  出处：快科技  作者：拾柒  编辑：雪花"."""
        return None

    def editor_line(self) -> str | None:
        """e.g. "责任编辑：拾柒" from the body's end."""
        return None

    def source_link(self) -> tuple[str, str] | None:
        """(outlet name, URL) of the original, where the page links it."""
        return None

    def tags(self) -> list[tuple[str, str | None]]:
        return []

    def body(self) -> list[Selector]:
        """The elements holding the article's text, in order (their inner HTML is joined)."""
        return []

    # The body's markup and images ---------------------------------------------------------------

    def body_parts(self, container: lxml_html.HtmlElement) -> tuple[str, list[RawImage]]:
        """The container's inner HTML with `body_drop` elements and tracking pixels removed and lazy
        images resolved, and its images (not those inside `body_decorations` elements)."""
        for query in self.body_drop:
            for element in _css(query)(container):
                element.drop_tree()
        for img in list(container.iter("img")):
            if is_tracking_pixel(dict(img.attrib)):
                img.drop_tree()
        resolve_lazy_images(container)
        # A set of the elements themselves: it keeps lxml's proxies alive, so identity holds.
        decorations = {
            img for query in self.body_decorations for el in _css(query)(container) for img in el.iter("img")
        }
        images = []
        for img in container.iter("img"):
            if img in decorations:
                continue
            link = next((a.get("href") for a in img.iterancestors("a")), None)
            images.append(RawImage(src=shown_source(dict(img.attrib)), link=link, alt=img.get("alt")))
        return inner_html(container), images
