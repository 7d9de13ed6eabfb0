from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from newscrawl.normalize.dates import parse_date, to_utc_iso

BEIJING = ZoneInfo("Asia/Shanghai")
FETCHED = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)  # 2026-11-26 01:00 in Beijing


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2022-06-04 20:42:05", "2022-06-04T20:42:05+08:00"),
        ("2022-06-04 20:42", "2022-06-04T20:42:00+08:00"),
        ("2022/6/4", "2022-06-04T00:00:00+08:00"),
        ("2022-06-04 20时42分", "2022-06-04T00:00:00+08:00"),  # looks like the ISO fast path's input, is not
        ("2022-06-04 12:42+00", "2022-06-04T20:42:00+08:00"),  # ISO with an offset keeps its instant
        ("2022年06月04日 20:42", "2022-06-04T20:42:00+08:00"),
        ("2022年6月4日20:42", "2022-06-04T20:42:00+08:00"),
        ("Sat, 04 Jun 2022 12:42:05 GMT", "2022-06-04T20:42:05+08:00"),
        ("Sat, 04 Jun 2022 20:42:05 +0800", "2022-06-04T20:42:05+08:00"),
        ("2022-06-04T12:42:05Z", "2022-06-04T20:42:05+08:00"),
        ("2022-06-04T20:42:05+08:00", "2022-06-04T20:42:05+08:00"),
        ("2022-06-04T20:42:05", "2022-06-04T20:42:05+08:00"),
        # Year-less: the year that puts the date nearest before the fetch time, never 2006.
        ("06月04日 20:42", "2026-06-04T20:42:00+08:00"),
        ("6月4日", "2026-06-04T00:00:00+08:00"),
        ("12月31日 23:00", "2025-12-31T23:00:00+08:00"),
        ("11月26日 00:30", "2026-11-26T00:30:00+08:00"),  # already the 26th in Beijing at fetch time
        ("02-29 10:00", "2024-02-29T10:00:00+08:00"),
        ("06月04日 发布", "2026-06-04T00:00:00+08:00"),
        ("发布于 06月04日 20:42", "2026-06-04T20:42:00+08:00"),
        # Relative forms go to dateparser, relative to the fetch time in Beijing.
        ("3小时前", "2026-11-25T22:00:00+08:00"),
        ("昨天 10:00", "2026-11-25T10:00:00+08:00"),
    ],
)
def test_parse_date(raw, iso):
    assert parse_date(raw, BEIJING, FETCHED).isoformat() == iso


@pytest.mark.parametrize("raw", ["", None, "garbage", "2022-13-45 10:00", "13月40日"])
def test_unreadable_dates_are_none(raw):
    assert parse_date(raw, BEIJING, FETCHED) is None


def test_wall_time_becomes_the_right_utc_instant():
    moment = parse_date("2022-06-04 20:42:05", BEIJING, FETCHED)
    assert to_utc_iso(moment) == "2022-06-04T12:42:05Z"


def test_year_less_dates_never_reach_dateparser(monkeypatch):
    import newscrawl.normalize.dates as dates

    def refuse(*args):
        raise AssertionError("dateparser called for a year-less M月D日 date")

    monkeypatch.setattr(dates, "_dateparser_fallback", refuse)
    assert parse_date("06月04日", BEIJING, FETCHED).year == 2026
