"""From a site's raw fields to the one schema: every normaliser applied, in one place.

Called by newscrawl.extract.page.page_article, which the crawl and `scrapy extract` share, so a crawled
page and a saved page give the same item. The site's conventions come in as an argument
(`SiteConventions`, which every `newscrawl.sites.Site` is): normalisers never look sites up.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from newscrawl.items import Article, RawArticle, Tag, Unusable
from newscrawl.normalize.bylines import editor_from_footer, split_byline
from newscrawl.normalize.dates import parse_date
from newscrawl.normalize.html import sanitize_html
from newscrawl.normalize.images import head_image, normalize_images
from newscrawl.normalize.titles import clean_title, collapse_whitespace
from newscrawl.normalize.urls import absolute_url

# Before the web had Chinese tech news, a date is a placeholder (1970-01-01) or a misread.
EARLIEST_PUBLICATION = datetime(1995, 1, 1, tzinfo=UTC)


class SiteConventions(Protocol):
    """What normalising reads of the site an article comes from."""

    @property
    def name(self) -> str: ...
    @property
    def timezone(self) -> ZoneInfo: ...
    @property
    def language(self) -> str: ...
    @property
    def title_suffixes(self) -> tuple[str, ...]: ...
    @property
    def thumbnail_prefixes(self) -> tuple[str, ...]: ...


def build_article(raw: RawArticle, site: SiteConventions) -> Article:
    """The normalised Article for `raw`, a page of `site`; raises Unusable naming what is missing or unreadable."""
    title = clean_title(raw.title, site.title_suffixes)
    if not title:
        raise Unusable("missing_title", raw.url)
    byline = split_byline(raw.byline)
    published_raw = collapse_whitespace(raw.published or byline.date_text or "")
    if not published_raw:
        raise Unusable("missing_date", raw.url)
    fetched = datetime.fromisoformat(raw.fetched_at)
    published = parse_date(published_raw, site.timezone, fetched)
    if published is None:
        raise Unusable("invalid_date", raw.url, published_raw)
    if not EARLIEST_PUBLICATION <= published <= fetched + timedelta(days=1):
        raise Unusable("implausible_date", raw.url, published_raw)
    body_html = sanitize_html(raw.body_html, raw.url) if raw.body_html else ""
    if not body_html.strip():
        raise Unusable("missing_body", raw.url)
    images = normalize_images(raw.images, raw.url, site.thumbnail_prefixes)
    source_name, source_url = raw.source_link or (None, None)
    return Article(
        id=f"{site.name}:{raw.article_id}",
        site=site.name,
        article_id=raw.article_id,
        url=raw.url,
        title=title,
        published=published.isoformat(),
        published_raw=published_raw,
        author=byline.author,
        editor=editor_from_footer(raw.editor_line) or byline.editor,
        source=collapse_whitespace(source_name) if source_name else byline.source,
        source_url=absolute_url(source_url, raw.url),
        tags=_tags(raw.tags, raw.url),
        images=images,
        head_image=head_image(images),
        body_html=body_html,
        language=site.language,
        revision=1,  # the crawl state raises it for updates
        fetched_at=raw.fetched_at,
        layout=raw.layout,
        fallbacks=dict(raw.fallbacks),
        modified=_modified(raw.modified, site, fetched),
    )


def _modified(shown: str | None, site: SiteConventions, fetched: datetime) -> str | None:
    """The modified time a page shows, or None where it shows none or none that reads as a date."""
    moment = parse_date(collapse_whitespace(shown), site.timezone, fetched) if shown else None
    return moment.isoformat() if moment is not None else None


def _tags(raw_tags: list[tuple[str, str | None]], base_url: str) -> list[Tag]:
    """Tags once each, in page order, names trimmed of a leading `#`."""
    tags: list[Tag] = []
    seen: set[str] = set()
    for name, url in raw_tags:
        clean = collapse_whitespace(name).lstrip("#").strip()
        if clean and clean not in seen:
            seen.add(clean)
            tags.append(Tag(name=clean, url=absolute_url(url, base_url)))
    return tags
