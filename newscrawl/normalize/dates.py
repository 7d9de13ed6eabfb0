"""Dates: a page's local wall time becomes an aware datetime in the site's timezone.

Known formats take a regex fast path. dateparser is only the fallback, for relative forms
such as `3小时前` or `昨天 10:00`; year-less `M月D日` forms never reach it (it reads `06月04日` as
2006-04), they take the year that puts the date nearest before the fetch time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

_YMD = re.compile(
    r"(?P<y>\d{4})\s*(?:[-/.]|年)\s*(?P<m>\d{1,2})\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})(?:\s*日)?"
    r"(?:(?:\s*T\s*|\s*)(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?"
)
_MD = re.compile(
    r"(?<!\d)(?P<m>\d{1,2})\s*(?:月|-|/)\s*(?P<d>\d{1,2})(?:\s*日)?"
    r"(?:\s*(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?"
)
_ISO_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")
_RFC1123 = re.compile(r"^[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}(:\d{2})? ")
# RFC 1123 in GMT, the form feeds and the archive use: read without email.utils, which is slower.
_RFC1123_GMT = re.compile(
    r"^[A-Z][a-z]{2}, (\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2})(?::(\d{2}))? (?:GMT|UTC|\+0000)$"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1
    )
}


# A year-less date may be up to a day after the fetch time: a page fetched just after midnight may
# show "today" in the site's zone.
_SLACK = timedelta(days=1)


def _wall(tz: ZoneInfo, y: int, m: int, d: int, hh: str | None, mm: str | None, ss: str | None) -> datetime:
    return datetime(y, m, d, int(hh or 0), int(mm or 0), int(ss or 0), tzinfo=tz)


@lru_cache(maxsize=64)
def _wall_time(moment: datetime, tz: ZoneInfo) -> datetime:
    """`moment` as naive wall time in `tz`: candidates compare without zone lookups. Cached: a crawl's
    pages share their fetch second, and the conversion is most of a year-less date's cost."""
    return moment.astimezone(tz).replace(tzinfo=None)


def _nearest_year_before(tz: ZoneInfo, match: re.Match[str], fetched: datetime) -> datetime | None:
    """A year-less date takes the year that puts it nearest before (or at) the fetch time."""
    local_fetch = _wall_time(fetched, tz)
    latest = local_fetch + _SLACK
    month, day, hh, mm, ss = match.groups()
    for year in range(local_fetch.year, local_fetch.year - 8, -1):  # 8 years always hold a 02-29
        try:
            candidate = datetime(year, int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0))
        except ValueError:  # 02-29 in a non-leap year, 13月…
            continue
        if candidate <= latest:
            return candidate.replace(tzinfo=tz)
    return None


def _fromisoformat(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # not quite ISO (`2022-06-04 20时42分`): the patterns below read it
        return None


def parse_date(raw: str | None, tz: ZoneInfo, fetched_at: datetime) -> datetime | None:
    """An aware datetime in `tz` for a date string as a page shows it, or None if it cannot be read.

    Strings that carry their own offset (RFC 1123, ISO 8601 with offset) keep their instant and are
    expressed in `tz`; strings without one are wall time in `tz`.
    """
    if not raw:
        return None
    text = raw.strip()
    try:
        if len(text) in (16, 19) and text[10] == " " and text[4] == text[7] == "-" and (iso := _fromisoformat(text)):
            # `YYYY-MM-DD HH:MM[:SS]` (快科技, 开源中国): the C parser, half the regex path's time.
            return iso.astimezone(tz) if iso.tzinfo else iso.replace(tzinfo=tz)
        if _ISO_OFFSET.match(text):
            return datetime.fromisoformat(text.replace(" ", "T", 1)).astimezone(tz)
        if "A" <= text[0] <= "Z":  # RFC 1123 starts with its weekday
            if (gmt := _RFC1123_GMT.match(text)) and gmt.group(2) in _MONTHS:
                day, month, year, hh, mm, ss = gmt.groups()
                return datetime(
                    int(year), _MONTHS[month], int(day), int(hh), int(mm), int(ss or 0), tzinfo=UTC
                ).astimezone(tz)
            if _RFC1123.match(text):
                return parsedate_to_datetime(text).astimezone(tz)
        if match := _YMD.search(text):
            year, month, day, hh, mm, ss = match.groups()
            return _wall(tz, int(year), int(month), int(day), hh, mm, ss)
        if match := _MD.search(text):
            return _nearest_year_before(tz, match, fetched_at)
    except ValueError:
        return None
    return _dateparser_fallback(text, tz, fetched_at)


@cache
def _dateparser() -> object:
    """dateparser is imported on first need only: its import and first call are slow."""
    import dateparser

    return dateparser


def _dateparser_fallback(text: str, tz: ZoneInfo, fetched_at: datetime) -> datetime | None:
    """Relative and free-form dates (`3小时前`, `昨天 10:00`, `刚刚`), relative to the fetch time."""
    base = fetched_at.astimezone(tz).replace(tzinfo=None)
    parsed = _dateparser().parse(  # type: ignore[attr-defined]
        text,
        languages=["zh", "en"],
        settings={
            "TIMEZONE": tz.key,
            "TO_TIMEZONE": tz.key,
            "RETURN_AS_TIMEZONE_AWARE": True,
            "RELATIVE_BASE": base,
            "PREFER_DATES_FROM": "past",
            "DATE_ORDER": "YMD",
            "STRICT_PARSING": False,
        },
    )
    if parsed is None:
        return None
    return parsed.astimezone(tz)


def to_utc_iso(moment: datetime) -> str:
    """`2026-11-25T17:00:00Z` style UTC string (fetch times)."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


_EAST, _WEST = ZoneInfo("Etc/GMT-14"), ZoneInfo("Etc/GMT+12")


def has_offset(raw: str, fetched_at: str) -> bool:
    """Does a date string carry its own offset (one instant whatever the zone it is read in)? False too
    for a string that reads as no date."""
    fetched = datetime.fromisoformat(fetched_at)
    east, west = parse_date(raw, _EAST, fetched), parse_date(raw, _WEST, fetched)
    return east is not None and east == west
