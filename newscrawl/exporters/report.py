"""`scrapy report`'s page: one self-contained HTML file of what was crawled, charts in plain SVG.

Why plain SVG written here rather than a chart library: the page must open offline from a file, with
no server and nothing fetched; it shows text that came from the crawled sites, so it carries no script
at all (its Content-Security-Policy allows none, nor any outside resource); and four simple charts do
not justify shipping a JavaScript library inside every report. Every text is escaped (html.escape),
every link is an http(s) URL.

Inputs: the journal lines (the latest revision of each article counts), the run history lines
(NEWSCRAWL_RUNS_FILE: one summary per run) and the crawl states (SQLite, opened read-only) for the
walks.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import sqlite3
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from html import escape
from pathlib import Path
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlsplit

import fastjsonschema

from newscrawl.items import json_schema

LABEL_SPACE = 24  # px along the axis between two labels rotated by 40°, at 9px
RUNS_SHOWN = 60  # runs drawn one bar each; more are summed per day (per month past 120 days)
COVERED_FIELDS = ("title", "published", "author", "editor", "source", "images", "tags", "head_image")
LATEST = 30
MEMBERS_SHOWN = 10  # a story's other articles linked in its row (the latest); the rest are counted
COLOURS = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#718096")


@dataclass(frozen=True)
class Walk:
    """A tag's walk as its crawl state holds it."""

    site: str
    url: str
    name: str | None
    complete: bool
    pending_pages: int
    listed: int  # articles its pages showed


class Brief(NamedTuple):
    """What the report keeps of every article (its latest revision): enough to count it, and where its
    line is, to show it. The report's memory follows the number of articles, not their size."""

    site: str
    published: str
    revision: int
    story: str | None  # None: the article leads its own story, or has none
    covered: frozenset[str]  # which of COVERED_FIELDS it has
    journal: int  # index in Material.journals
    offset: int  # of its line there


class Shown(NamedTuple):
    """An article as the report shows it (read again from its line, for the few articles shown)."""

    id: str
    site: str
    published: str
    url: str
    title: str
    revision: int
    tags: tuple[str, ...]


@dataclass
class Material:
    """What a report is made of, read from journals and run histories."""

    articles: dict[str, Brief] = field(default_factory=dict)  # id → its latest revision
    journals: list[Path] = field(default_factory=list)  # the files the articles' lines are in
    runs: list[dict] = field(default_factory=list)
    walks: list[Walk] = field(default_factory=list)  # from the crawl states among the inputs
    sources: list[str] = field(default_factory=list)
    unreadable_lines: int = 0

    def shown(self, ids: Iterable[str]) -> dict[str, Shown]:
        """The articles `ids` as the page shows them, from their lines (read in file order). A line that
        changed or went since it was read (the journal rewritten or removed meanwhile) shows its id for a
        title."""
        found: dict[str, Shown] = {}
        wanted = sorted(((self.articles[i].journal, self.articles[i].offset), i) for i in ids)
        for number, places in itertools.groupby(wanted, key=lambda place: place[0][0]):
            group = list(places)
            lines = _lines_at(self.journals[number], [offset for (_, offset), _ in group])
            for (_, article_id), line in zip(group, lines, strict=True):
                brief = self.articles[article_id]
                if not isinstance(line, dict) or (line.get("id"), line.get("revision", 1)) != (
                    article_id,
                    brief.revision,
                ):
                    line = {"id": article_id, "site": brief.site, "published": brief.published, "title": article_id}
                found[article_id] = shown(line)
        return found


def _lines_at(path: Path, offsets: list[int]) -> list[Any]:
    """The JSON lines of `path` at `offsets` (None where none can be read)."""
    found: list[Any] = []
    try:
        with path.open("rb") as stream:
            for offset in offsets:
                stream.seek(offset)
                try:
                    found.append(json.loads(stream.readline(MAX_LINE)))
                except ValueError:
                    found.append(None)
    except OSError:
        found += [None] * (len(offsets) - len(found))
    return found


T = TypeVar("T")
MAX_LINE = 16 << 20  # bytes: a longer line is no article or run line of newscrawl's (skipped, counted)


@cache
def _is_article() -> Callable[[Any], Any]:
    """The article schema (newscrawl/article.schema.json), compiled: a journal line the charts can trust."""
    return fastjsonschema.compile({k: v for k, v in json_schema().items() if k != "$schema"})


def _article_line(line: Any) -> bool:
    try:
        _is_article()(line)
        return True
    except fastjsonschema.JsonSchemaException:
        return False


def _run_line(line: Any) -> bool:
    """A run-history line with the shape the charts read."""
    return (
        isinstance(line, dict)
        and isinstance(line.get("finish_reason"), str)
        and isinstance(line.get("finished", ""), str)
        and isinstance(line.get("exit_code", 0), int)
        and all(
            isinstance(line.get(key, {}), dict) and all(isinstance(value, int) for value in line.get(key, {}).values())
            for key in ("articles", "dropped", "errors")
        )
    )


def read_material(paths: Iterable[Path]) -> Material:
    """Journal lines and run lines from `paths` (files, or folders: their *.jsonl and rotated *.jsonl.N).
    A line that is not an article of the schema or a run line, or longer than MAX_LINE, is skipped and
    counted (`unreadable_lines`)."""
    material = Material()
    for path in _files(paths):
        material.sources.append(str(path))
        number = len(material.journals)
        material.journals.append(path)
        offset = 0
        with path.open("rb") as stream:
            while raw := stream.readline(MAX_LINE):
                start, offset = offset, offset + len(raw)
                if not raw.endswith(b"\n"):
                    if len(raw) < MAX_LINE:  # a torn last line is not read (the crawl cuts it on its next start)
                        break
                    while (rest := stream.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                        offset += len(rest)
                    offset += len(rest)
                    material.unreadable_lines += 1
                    continue
                try:
                    line = json.loads(raw)
                except ValueError:
                    material.unreadable_lines += 1
                    continue
                if _article_line(line):
                    known = material.articles.get(line["id"])
                    if known is None or int(line.get("revision", 1)) >= known.revision:
                        material.articles[line["id"]] = brief(line, number, start)
                elif _run_line(line):
                    material.runs.append(line)
                else:
                    material.unreadable_lines += 1
    material.runs.sort(key=lambda run: run.get("finished", ""))
    for path in _state_files(paths):
        if (walks := read_walks(path)) is not None:  # a crawl state (the story index is none)
            material.walks += walks
            material.sources.append(str(path))
    return material


def brief(line: dict, journal: int, offset: int) -> Brief:
    """What the report keeps of an article line read at `offset` of `Material.journals[journal]`."""
    story = line.get("story")
    return Brief(
        site=sys.intern(line["site"]),
        published=str(line.get("published", "")),
        revision=int(line.get("revision", 1)),
        story=sys.intern(story) if isinstance(story, str) and story != line["id"] else None,
        covered=_shared(frozenset(name for name in COVERED_FIELDS if line.get(name))),
        journal=journal,
        offset=offset,
    )


def shown(line: dict) -> Shown:
    """What the page shows of an article line."""
    return Shown(
        id=line["id"],
        site=str(line.get("site", "")),
        published=str(line.get("published", "")),
        url=str(line.get("url", "")),
        title=str(line.get("title", "")),
        revision=int(line.get("revision", 1)),
        tags=tuple(str(tag.get("name", "")) for tag in line.get("tags", []) if isinstance(tag, dict)),
    )


_SHARED: dict[Any, Any] = {}


def _shared(value: T) -> T:
    """One object for equal values many articles share (a set of covered fields)."""
    return _SHARED.setdefault(value, value)


def _state_files(paths: Iterable[Path]) -> list[Path]:
    """The SQLite files among `paths` (and in its folders) that are crawl states."""
    found = []
    for path in paths:
        candidates = sorted(path.glob("*.sqlite")) if path.is_dir() else [path] if path.suffix == ".sqlite" else []
        found += [candidate for candidate in candidates if candidate.is_file() and not candidate.is_symlink()]
    return found


def read_walks(path: Path) -> list[Walk] | None:
    """The walks a crawl state holds, opened read-only; None for a file that is no crawl state."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"complete_walks", "pending_listings", "tag_articles"} <= tables:
            return None
        query = "SELECT site, walk, value FROM walk_facts WHERE fact = 'name'"
        names = {(site, walk): name for site, walk, name in db.execute(query)} if "walk_facts" in tables else {}
        complete = set(db.execute("SELECT site, walk FROM complete_walks").fetchall())
        pending = Counter(db.execute("SELECT site, walk FROM pending_listings").fetchall())
        listed = Counter(db.execute("SELECT site, tag FROM tag_articles WHERE listed = 1").fetchall())
        walks = sorted(set(names) | complete | set(pending) | set(listed))
        return [
            Walk(site, url, names.get((site, url)), (site, url) in complete, pending[(site, url)], listed[(site, url)])
            for site, url in walks
        ]
    except sqlite3.Error:
        return []
    finally:
        db.close()


def _files(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p
                for p in path.iterdir()
                if p.is_file() and (p.suffix == ".jsonl" or ".jsonl." in p.name) and not p.name.endswith(".gz")
            )
        elif path.is_file() and path.suffix == ".sqlite":
            continue  # a crawl state: its walks (_state_files)
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"no such journal, run history or folder: {path}")
    return found


# Charts ---------------------------------------------------------------------------------------------


def _bars(
    title: str, labels: list[str], series: dict[str, list[int]], marks: Iterable[int] = (), mark_label: str = ""
) -> str:
    """A stacked bar chart: one bar per label, one colour per series; `marks` (bar indexes) get a red dot."""
    width, height, left, bottom, top = 760, 250, 70, 75, 20
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    peak = max(totals, default=0) or 1
    step = (width - left - 10) / max(len(labels), 1)
    every = max(1, math.ceil(LABEL_SPACE / step))  # a label every `every` bars: rotated, they never touch
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}"><title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#999"/>',
        f'<text x="4" y="{top + 4}" font-size="11">{peak}</text>'
        f'<text x="4" y="{height - bottom}" font-size="11">0</text>',
    ]
    for index, label in enumerate(labels):
        x, base = left + index * step, float(height - bottom)
        if not totals[index]:  # a run (or day) with nothing to count still shows it happened
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{base - 2}" width="{max(step - 2, 1):.1f}" height="2" fill="#a0aec0">'
                f"<title>{escape(label)}: none</title></rect>"
            )
        for colour, (name, values) in zip(COLOURS, series.items(), strict=False):
            size = values[index] / peak * (height - bottom - top)
            if size:
                base -= size
                parts.append(
                    f'<rect x="{x + 1:.1f}" y="{base:.1f}" width="{max(step - 2, 1):.1f}" height="{size:.1f}" '
                    f'fill="{colour}"><title>{escape(label)} · {escape(name)}: {values[index]}</title></rect>'
                )
        if index % every == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - bottom + 12}" font-size="9" text-anchor="end" '
                f'transform="rotate(-40 {x + step / 2:.1f} {height - bottom + 12})">{escape(label)}</text>'
            )
    for index in marks:
        parts.append(
            f'<circle cx="{left + (index + 0.5) * step:.1f}" cy="{top - 8}" r="5" fill="#e53e3e">'
            f"<title>{escape(labels[index])}: {escape(mark_label)}</title></circle>"
        )
    parts.append("</svg>")
    legend = " ".join(
        f'<span class="key" style="background:{colour}"></span>{escape(name)}'
        for colour, name in zip(COLOURS, series, strict=False)
    )
    if marks:
        legend += ' <span class="key" style="background:#e53e3e;border-radius:50%"></span>' + escape(mark_label)
    return (
        f'<figure><figcaption>{escape(title)}</figcaption>{"".join(parts)}<div class="legend">{legend}</div></figure>'
    )


def _calendar(first: date, last: date, width: int) -> list[str]:
    """Every day from `first` to `last` as an ISO label cut to `width` (10: days, 7: months), once each:
    a chart's axis without gaps."""
    labels: list[str] = []
    day = first
    while day <= last:
        label = day.isoformat()[:width]
        if not labels or labels[-1] != label:
            labels.append(label)
        day += timedelta(days=1)
    return labels


def articles_per_day(material: Material) -> str:
    """Articles by publication day (by month when they span more than 120 days), one series per site."""
    days: dict[str, Counter[str]] = defaultdict(Counter)
    for article in material.articles.values():
        try:
            days[article.site][date.fromisoformat(article.published[:10]).isoformat()] += 1
        except ValueError:
            continue
    seen = sorted({day for counts in days.values() for day in counts})
    if not seen:
        return _bars("Articles per day, by publication date (site's own day)", [], {})
    first, last = date.fromisoformat(seen[0]), date.fromisoformat(seen[-1])
    monthly = (last - first).days > 120
    width = 7 if monthly else 10  # a label is the day's first characters: YYYY-MM or YYYY-MM-DD
    labels = _calendar(first, last, width)
    counts: dict[str, Counter[str]] = {site: Counter() for site in days}
    for site, per_day in days.items():
        for day, count in per_day.items():
            counts[site][day[:width]] += count
    title = f"Articles per {'month' if monthly else 'day'}, by publication date (the site's own calendar)"
    return _bars(title, labels, {site: [counts[site][label] for label in labels] for site in sorted(counts)})


def runs_over_time(material: Material) -> str:
    """Runs, one bar each; past RUNS_SHOWN runs, summed per day (per month past 120 days): a year of
    10-minute runs stays a readable chart, not 52,000 bars."""
    spiders = {run.get("spider") for run in material.runs}
    series_of: dict[str, Callable[[dict], int]] = {
        "exported": lambda run: int(run.get("articles", {}).get("exported", 0)),
        "dropped": lambda run: sum(run.get("dropped", {}).values()),
        "errors": lambda run: sum(run.get("errors", {}).values()),
    }
    flagged = [bool(run.get("alarm") or run.get("exit_code", 0) >= 2) for run in material.runs]
    single = f" — {next(iter(spiders))}" if len(spiders) == 1 else ""
    if len(material.runs) <= RUNS_SHOWN:
        labels = [
            str(run.get("finished", "?"))[5:16].replace("T", " ")
            + (f" {run.get('spider', '')}" if len(spiders) > 1 else "")
            for run in material.runs
        ]
        series = {name: [count(run) for run in material.runs] for name, count in series_of.items()}
        marks = [index for index, flag in enumerate(flagged) if flag]
        title = f"Runs (UTC): articles exported, pages dropped, errors{single}"
        return _bars(title, labels, series, marks, "alarm or needs attention")
    days = [str(run.get("finished", ""))[:10] for run in material.runs]
    first, last = date.fromisoformat(min(days)), date.fromisoformat(max(days))
    width = 7 if (last - first).days > 120 else 10
    labels = _calendar(first, last, width)
    position = {label: index for index, label in enumerate(labels)}
    series = {name: [0] * len(labels) for name in series_of}
    marks_set: set[int] = set()
    for run, day, flag in zip(material.runs, days, flagged, strict=True):
        index = position[day[:width]]
        for name, count in series_of.items():
            series[name][index] += count(run)
        if flag:
            marks_set.add(index)
    per = "month" if width == 7 else "day"
    title = f"{len(material.runs)} runs, summed per {per} (UTC): articles exported, pages dropped, errors{single}"
    return _bars(title, labels, series, sorted(marks_set), f"a run that {per} raised an alarm or needed attention")


def attention_table(material: Material) -> str:
    """Each reason a run needed a person, how many runs had it, and the last one."""
    seen: dict[str, list[str]] = defaultdict(list)
    for run in material.runs:
        reasons = dict(run.get("needs_attention") or {})
        if run.get("alarm"):
            reasons["layout alarm (exit 3)"] = 1
        for reason in reasons:
            seen[reason].append(str(run.get("finished", "?"))[:16].replace("T", " "))
    rows = "".join(
        f"<tr><td>{escape(reason)}</td><td>{len(times)}</td><td>{escape(max(times))}</td></tr>"
        for reason, times in sorted(seen.items(), key=lambda item: max(item[1]), reverse=True)
    )
    body = rows or '<tr><td colspan="3" class="note">No run needed a person.</td></tr>'
    return (
        '<table class="attention"><caption>Why runs needed a person (exit 2) or raised the alarm (exit 3)</caption>'
        f"<tr><th>reason</th><th>runs</th><th>last (UTC)</th></tr>{body}</table>"
    )


def coverage_table(material: Material) -> str:
    by_site: dict[str, list[Brief]] = defaultdict(list)
    for article in material.articles.values():
        by_site[article.site].append(article)
    head = "".join(f"<th>{escape(name)}</th>" for name in COVERED_FIELDS)
    rows = []
    for site, articles in sorted(by_site.items()):
        cells = []
        for name in COVERED_FIELDS:
            share = sum(1 for article in articles if name in article.covered) / len(articles)
            cells.append(
                f'<td><div class="meter"><div style="width:{share * 100:.0f}%"></div></div>'
                f'<span class="share">{share:.0%}</span></td>'
            )
        rows.append(f"<tr><th>{escape(site)} ({len(articles)})</th>{''.join(cells)}</tr>")
    return (
        f'<table class="coverage"><caption>Field coverage: share of each site\'s articles where the field was found'
        f"</caption><tr><th>site (articles)</th>{head}</tr>{''.join(rows)}</table>"
    )


def walks_table(material: Material) -> str:
    """Each walk: its name, whether it was followed to its end, the pages a later run goes on from."""
    if not material.walks:
        return ""
    rows = "".join(
        f"<tr><td>{escape(walk.site)}</td><td>{_link(walk.url, walk.name or walk.url)}</td>"
        f"<td>{'complete' if walk.complete else 'not yet'}</td><td>{walk.pending_pages}</td>"
        f"<td>{walk.listed}</td></tr>"
        for walk in material.walks
    )
    return (
        '<table class="walks"><caption>Walks: each tag as the crawl state holds it</caption><tr><th>site</th>'
        "<th>tag</th><th>followed to its end</th><th>pages pending</th><th>articles its pages showed</th></tr>"
        f"{rows}</table>"
    )


def stories_table(material: Material) -> str:
    """The latest stories told by more than one article (docs/stories.md), each with its lead and its
    latest MEMBERS_SHOWN other articles."""
    members: dict[str, list[str]] = defaultdict(list)
    for article_id, article in material.articles.items():
        members[article.story or article_id].append(article_id)
    shared = [told for told in members.values() if len(told) > 1]
    if not shared:
        return ""
    shared.sort(key=lambda told: max(material.articles[i].published for i in told), reverse=True)
    shown_ones = []
    for told in shared[:LATEST]:
        lead = next((i for i in told if material.articles[i].story is None), told[0])
        others = heapq.nlargest(
            MEMBERS_SHOWN, (i for i in told if i != lead), key=lambda i: (material.articles[i].published, i)
        )
        shown_ones.append((told, lead, others))
    details = material.shown(i for _, lead, others in shown_ones for i in (lead, *others))
    rows = []
    for told, lead, others in shown_ones:
        more = len(told) - 1 - len(others)
        links = ", ".join(_link(details[i].url, i) for i in others) + (f" and {more} more" if more else "")
        rows.append(
            f"<tr><td>{_link(details[lead].url, details[lead].title)}</td>"
            f"<td>{escape(', '.join(sorted({material.articles[i].site for i in told})))}</td><td>{len(told)}</td>"
            f"<td>{links}</td></tr>"
        )
    return (
        f'<table class="stories"><caption>Stories told more than once: {len(shared)}</caption>'
        f"<tr><th>lead</th><th>sites</th><th>articles</th><th>the others</th></tr>{''.join(rows)}</table>"
    )


def _link(url: str, text: str) -> str:
    if urlsplit(url).scheme in ("http", "https"):
        return f'<a href="{escape(url)}" rel="noopener noreferrer">{escape(text)}</a>'
    return escape(text)


def latest_articles(material: Material) -> str:
    ids = heapq.nlargest(LATEST, material.articles, key=lambda i: (material.articles[i].published, i))
    details = material.shown(ids)
    latest = [details[i] for i in ids]
    rows = "".join(
        f"<tr><td>{escape(article.published[:16].replace('T', ' '))}</td>"
        f"<td>{escape(article.site)}</td>"
        f"<td>{_link(article.url, article.title)}</td>"
        f"<td>{escape(', '.join(article.tags))}</td>"
        f"<td>{article.revision}</td></tr>"
        for article in latest
    )
    return (
        f'<table class="latest"><caption>The latest {len(latest)} articles</caption>'
        "<tr><th>published (site time)</th><th>site</th><th>title</th><th>tags</th><th>revision</th></tr>"
        f"{rows}</table>"
    )


STYLE = """
body{font:14px/1.5 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#1a202c}
figure{margin:1.5em 0}figcaption,caption{font-weight:600;text-align:left;margin:.5em 0}
.legend{font-size:12px}.key{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}
table{border-collapse:collapse;width:100%;margin:1.5em 0}td,th{border-bottom:1px solid #e2e8f0;padding:3px 6px;
text-align:left;vertical-align:top}.meter{display:inline-block;width:50px;height:8px;background:#edf2f7;
margin-right:4px}.meter div{height:8px;background:#2f855a}.note{color:#718096}
.coverage td{white-space:nowrap}.share{display:inline-block;min-width:3.2em;text-align:right}
"""


def render_report(material: Material, generated: datetime | None = None) -> str:
    """The report page (UTF-8 text)."""
    moment = (generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    sites = Counter(article.site for article in material.articles.values())
    summary = ", ".join(f"{count} from {escape(site)}" for site, count in sorted(sites.items())) or "none"
    skipped = f"; {material.unreadable_lines} line(s) not read" if material.unreadable_lines else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>newscrawl report</title><style>{STYLE}</style></head><body>"
        f"<h1>newscrawl report</h1><p>{len(material.articles)} articles ({summary}), {len(material.runs)} runs. "
        f'<span class="note">Generated {moment} from {len(material.sources)} file(s){skipped}.</span></p>'
        f"{articles_per_day(material)}{runs_over_time(material)}{attention_table(material)}{walks_table(material)}"
        f"{coverage_table(material)}{stories_table(material)}{latest_articles(material)}"
        "</body></html>\n"
    )
