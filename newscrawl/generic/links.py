"""What a listing page of an unknown site links to, inferred: which links are articles, and which is the
next page. Pure functions of a parsed page and its URL.

An article URL has an id in its path: a run of at least four digits (`/1/848/848601.htm`,
`/news/155820/slug`) or a slug of at least three words (`/2026/01/some-long-title/`). A listing page's
articles are the links in its main content (navigation, header, footer, aside and side boxes left out)
whose path has the shape most of them share: digit runs and slugs stand for any, every other path part
must be the same (`/articles/tech/<n>.htm`). Links of other shapes (a hot list, a tag, a column) are not
followed.
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from parsel import Selector

from newscrawl.parsing.fallbacks import in_chrome

_ID = re.compile(r"\d{4,}")
_DIGITS = re.compile(r"\d+")
_SLUG_WORDS = re.compile(r"[A-Za-z0-9]+")
_SLUG = re.compile(r"^[A-Za-z0-9]+(?:-[A-Za-z0-9]+){2,}(?:\.[a-z]{2,5})?$")
_YEAR = re.compile(r"^(?:199\d|20\d\d)$")
# Words of a link that goes to the next page of a list.
NEXT_WORDS = ("下一页", "下页", "后页", "更多", "next", "next page", "older", "older posts", "more", "»", ">")
# Where a list's page number sits in its URL: `_N.htm`, `?page=N` (or p, pn, pg), `/page/N/`, `/N/` last.
_PAGE_IN_PATH = (
    re.compile(r"^(?P<head>.*?_)(?P<n>\d{1,4})(?P<tail>\.s?html?)$"),
    re.compile(r"^(?P<head>.*/page/)(?P<n>\d{1,4})(?P<tail>/?)$"),
)
_PAGE_PARAMETERS = ("page", "p", "pn", "pg", "paged")


def _is_slug(segment: str) -> bool:
    """A title made a path part: three or more words joined by hyphens, at least two of them not numbers."""
    return bool(_SLUG.match(segment)) and sum(1 for word in _SLUG_WORDS.findall(segment) if not word.isdigit()) >= 2


def article_key(url: str) -> str | None:
    """The id in an article URL's path — its last run of four or more digits that is not a year of a date
    path, else its last slug — or None when the path has neither (a home page, a tag, a section)."""
    segments = [segment for segment in urlsplit(url).path.split("/") if segment]
    for segment in reversed(segments):
        if not _YEAR.match(segment) and (runs := _ID.findall(segment)):
            return runs[-1]
    for segment in reversed(segments):
        if _is_slug(segment):
            return segment.rsplit(".", 1)[0].lower()
    return None


def shape(url: str) -> str:
    """The path of `url` with its ids and slugs made wildcards: `/articles/tech/<n>.htm`."""
    parts = []
    for segment in urlsplit(url).path.split("/"):
        if _is_slug(segment):
            extension = segment.rsplit(".", 1)[1] if "." in segment else ""
            parts.append("<slug>" + (f".{extension}" if extension else ""))
        else:
            parts.append(_DIGITS.sub("<n>", segment))
    return "/".join(parts)


def content_links(page: Selector, url: str) -> list[str]:
    """Absolute http(s) URLs linked from the page's main content (`<a href>`, and the `data-url` of items
    that scripts make links), once each, in page order."""
    roots = page.css("main, [role=main], article") or [page]
    found: dict[str, None] = {}
    for root in roots:
        for link in root.root.iter():
            if not isinstance(link.tag, str):
                continue
            href = (
                link.get("href") if link.tag == "a" else link.get("data-url") or link.get("data-href") or ""
            ).strip()
            if not href or href.startswith(("#", "javascript:", "mailto:")) or in_chrome(link):
                continue
            absolute = urljoin(url, href).split("#", 1)[0]
            if urlsplit(absolute).scheme in ("http", "https"):
                found.setdefault(absolute, None)
    return list(found)


def article_links(links: list[str], in_scope: frozenset[str]) -> tuple[list[str], str | None]:
    """The links of the shape most article-like links in scope share, once per id, and that shape
    (`host` + path shape; None: no article-like link)."""
    candidates = [
        link for link in links if (urlsplit(link).hostname or "").lower() in in_scope and article_key(link) is not None
    ]
    shapes = Counter(shape(link) for link in candidates)
    if not shapes:
        return [], None
    majority, _ = max(shapes.items(), key=lambda item: (item[1], -len(item[0])))
    chosen: dict[str, str] = {}
    for link in candidates:
        if shape(link) == majority:
            chosen.setdefault(article_key(link) or link, link)
    return list(chosen.values()), majority


def next_page(page: Selector, url: str, links: list[str]) -> str | None:
    """The list's next page: a `rel=next` link, a link reading 下一页 / Next / Older / 更多 …, else a link to
    this URL with its page number one higher (`_N.htm`, `?page=N`, `/page/N/`; a first page is page 1)."""
    if rel := page.css("a[rel~=next]::attr(href), link[rel~=next]::attr(href)").get():
        return urljoin(url, rel.strip())
    for anchor in page.css("a[href]"):
        words = " ".join("".join(anchor.css("::text").getall()).split()).lower()
        if words in NEXT_WORDS and not in_chrome(anchor.root):
            return urljoin(url, anchor.attrib["href"].strip())
    present = set(links)
    return next((candidate for candidate in numbered_next(url) if candidate in present), None)


def numbered_next(url: str) -> list[str]:
    """The URLs the page after `url` may have, by where lists put their page number."""
    parts = urlsplit(url)
    candidates = []
    for pattern in _PAGE_IN_PATH:
        if match := pattern.match(parts.path):
            path = f"{match['head']}{int(match['n']) + 1}{match['tail']}"
            candidates.append(urlunsplit(parts._replace(path=path)))
    if not candidates and (stem := re.match(r"^(?P<head>.*?)(?P<tail>\.s?html?)$", parts.path)):
        candidates.append(urlunsplit(parts._replace(path=f"{stem['head']}_2{stem['tail']}")))
    if not candidates:
        candidates.append(urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/page/2/")))
    query = parse_qsl(parts.query, keep_blank_values=True)
    for name in _PAGE_PARAMETERS:
        numbers = [value for key, value in query if key == name]
        number = int(numbers[0]) if numbers and numbers[0].isdigit() else 1
        following = [(key, str(number + 1) if key == name else value) for key, value in query]
        if not numbers:
            following.append((name, "2"))
        candidates.append(urlunsplit(parts._replace(query=urlencode(following))))
    return candidates
