"""cm_tui.dates: the one date parser and formatter."""

from __future__ import annotations

import time as time_module
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from cm_tui.dates import age_on, format_due, local_date, parse_date, parse_due, relative_age

NY = ZoneInfo("America/New_York")
# Wednesday 25 November 2026, 10:00 in New York (EST, UTC-5) = 15:00 UTC.
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=NY)


def ny(y: int, mo: int, d: int, h: int = 9, mi: int = 0) -> datetime:
    """A New York wall-clock time, as the aware UTC datetime parse_due returns."""
    return datetime(y, mo, d, h, mi, tzinfo=NY).astimezone(UTC)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


# -- every accepted form, New York -----------------------------------------------------

NY_CASES = [
    ("today", ny(2026, 11, 25, 17)),
    ("tomorrow", ny(2026, 11, 26)),
    ("tmrw", ny(2026, 11, 26)),
    ("+3d", ny(2026, 11, 28)),
    ("+2w", ny(2026, 12, 9)),
    ("+1m", ny(2026, 12, 25)),
    ("+1y", ny(2027, 11, 25)),
    ("+0d", ny(2026, 11, 25, 17)),
    ("+4h", ny(2026, 11, 25, 14)),
    ("+30min", ny(2026, 11, 25, 10, 30)),
    ("+ 3 d", ny(2026, 11, 28)),
    ("in 3 days", ny(2026, 11, 28)),
    ("in 1 day", ny(2026, 11, 26)),
    ("in 2 weeks", ny(2026, 12, 9)),
    ("in 2 months", ny(2027, 1, 25)),
    ("in 4 hours", ny(2026, 11, 25, 14)),
    ("in 30 minutes", ny(2026, 11, 25, 10, 30)),
    ("+3d 2pm", ny(2026, 11, 28, 14)),
    ("next tue", ny(2026, 12, 1)),
    ("tue", ny(2026, 12, 1)),
    ("tuesday", ny(2026, 12, 1)),
    ("thu", ny(2026, 11, 26)),
    ("wed", ny(2026, 12, 2)),  # today is Wednesday: a week ahead
    ("next wed", ny(2026, 12, 2)),
    ("sun", ny(2026, 11, 29)),
    ("fri 2pm", ny(2026, 11, 27, 14)),
    ("fri at 2:30 pm", ny(2026, 11, 27, 14, 30)),
    ("next tue 10am", ny(2026, 12, 1, 10)),
    ("next tue 16:45", ny(2026, 12, 1, 16, 45)),
    ("2026-12-01", ny(2026, 12, 1)),
    ("2026-12-01 14:30", ny(2026, 12, 1, 14, 30)),
    ("2026-12-01T14:30", ny(2026, 12, 1, 14, 30)),
    ("2026-11-25", ny(2026, 11, 25, 17)),  # today's date: end of day
    ("2026-11-25 10:00", ny(2026, 11, 25, 10)),  # exactly now is not the past
    ("12/1", ny(2026, 12, 1)),
    ("12/01", ny(2026, 12, 1)),
    ("11/24", ny(2027, 11, 24)),  # passed this year: next year
    ("11/25", ny(2026, 11, 25, 17)),
    ("1/5", ny(2027, 1, 5)),
    ("12/1/2027", ny(2027, 12, 1)),
    ("12/1 3pm", ny(2026, 12, 1, 15)),
    ("2/29", ny(2028, 2, 29)),  # waits for a leap year
    ("dec 1", ny(2026, 12, 1)),
    ("1 dec", ny(2026, 12, 1)),
    ("december 1st", ny(2026, 12, 1)),
    ("Dec 1, 2027", ny(2027, 12, 1)),
    ("jan 5", ny(2027, 1, 5)),
    ("nov 3", ny(2027, 11, 3)),
    ("dec 1 10am", ny(2026, 12, 1, 10)),
    ("noon", ny(2026, 11, 25, 12)),
    ("eod", ny(2026, 11, 25, 17)),
    ("fri eod", ny(2026, 11, 27, 17)),
    ("tomorrow noon", ny(2026, 11, 26, 12)),
    ("tomorrow 2pm", ny(2026, 11, 26, 14)),
    ("today 3pm", ny(2026, 11, 25, 15)),
    ("2pm", ny(2026, 11, 25, 14)),
    ("at 2pm", ny(2026, 11, 25, 14)),
    ("14:30", ny(2026, 11, 25, 14, 30)),
    ("12pm", ny(2026, 11, 25, 12)),
    ("9am", ny(2026, 11, 26, 9)),  # already past today: tomorrow
    ("12am", ny(2026, 11, 26, 0)),
    ("  TOMORROW  ", ny(2026, 11, 26)),
    ("Next  TUE   10AM", ny(2026, 12, 1, 10)),
    ("IN 3 DAYS", ny(2026, 11, 28)),
]


@pytest.mark.parametrize(("text", "expected"), NY_CASES)
def test_parse_due_new_york(text: str, expected: datetime) -> None:
    got = parse_due(text, NOW, tz=NY)
    assert got == expected
    assert got.tzinfo is UTC


def test_expected_values_are_really_utc() -> None:
    assert parse_due("tomorrow", NOW, tz=NY) == utc(2026, 11, 26, 14)
    assert parse_due("today", NOW, tz=NY) == utc(2026, 11, 25, 22)
    assert parse_due("2026-12-01 14:30", NOW, tz=NY) == utc(2026, 12, 1, 19, 30)


UTC_NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)

UTC_CASES = [
    ("today", utc(2026, 11, 25, 17)),
    ("tomorrow", utc(2026, 11, 26, 9)),
    ("+3d", utc(2026, 11, 28, 9)),
    ("+1m", utc(2026, 12, 25, 9)),
    ("+4h", utc(2026, 11, 25, 14)),
    ("next tue 10am", utc(2026, 12, 1, 10)),
    ("12/1", utc(2026, 12, 1, 9)),
    ("1 dec", utc(2026, 12, 1, 9)),
    ("noon", utc(2026, 11, 25, 12)),
    ("eod", utc(2026, 11, 25, 17)),
    ("9am", utc(2026, 11, 26, 9)),
]


@pytest.mark.parametrize(("text", "expected"), UTC_CASES)
def test_parse_due_utc(text: str, expected: datetime) -> None:
    assert parse_due(text, UTC_NOW, tz=UTC) == expected


def test_plus_one_month_from_month_end_uses_relativedelta() -> None:
    now = datetime(2027, 1, 31, 8, 0, tzinfo=NY)
    assert parse_due("+1m", now, tz=NY) == ny(2027, 2, 28)


def test_now_in_another_zone_is_read_in_tz() -> None:
    # 02:00 UTC on the 26th is still the 25th, 21:00, in New York.
    now = utc(2026, 11, 26, 2)
    assert parse_due("tomorrow", now, tz=NY) == ny(2026, 11, 26)


# -- "today" after end of day -----------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 11, 25, 16, 59, tzinfo=NY), ny(2026, 11, 25, 17)),
        (datetime(2026, 11, 25, 17, 0, tzinfo=NY), ny(2026, 11, 25, 18)),
        (datetime(2026, 11, 25, 18, 30, tzinfo=NY), ny(2026, 11, 25, 19, 30)),
        (datetime(2026, 11, 25, 18, 31, 10, tzinfo=NY), ny(2026, 11, 25, 19, 45)),
        (datetime(2026, 11, 25, 23, 50, tzinfo=NY), ny(2026, 11, 26, 1, 0)),
    ],
)
def test_today_after_end_of_day(now: datetime, expected: datetime) -> None:
    assert parse_due("today", now, tz=NY) == expected


def test_bare_times_roll_to_tomorrow_once_passed() -> None:
    evening = datetime(2026, 11, 25, 18, 0, tzinfo=NY)
    assert parse_due("eod", evening, tz=NY) == ny(2026, 11, 26, 17)
    assert parse_due("noon", evening, tz=NY) == ny(2026, 11, 26, 12)


# -- DST ---------------------------------------------------------------------------------


def test_dst_end_keeps_local_working_time() -> None:
    now = datetime(2026, 10, 28, 10, 0, tzinfo=NY)  # EDT, UTC-4
    assert parse_due("tomorrow", now, tz=NY) == utc(2026, 10, 29, 13)
    assert parse_due("+1w", now, tz=NY) == utc(2026, 11, 4, 14)  # EST, UTC-5
    assert parse_due("next wed 10am", now, tz=NY) == utc(2026, 11, 4, 15)


def test_dst_start_keeps_local_working_time() -> None:
    now = datetime(2027, 3, 13, 10, 0, tzinfo=NY)  # Saturday, EST
    assert parse_due("tomorrow", now, tz=NY) == utc(2027, 3, 14, 13)  # EDT
    assert parse_due("+1d 2:30am", now, tz=NY) == utc(2027, 3, 14, 7, 30)  # gap: as 03:30 EDT


def test_hours_are_elapsed_time_across_dst() -> None:
    now = datetime(2026, 10, 31, 22, 30, tzinfo=NY)  # 02:30 UTC, night of the fall-back
    got = parse_due("+4h", now, tz=NY)
    assert got == utc(2026, 11, 1, 6, 30)
    assert got - now == timedelta(hours=4)
    assert format_due(got, now, tz=NY) == "Sun 1 Nov 2026 01:30"  # the second 01:30


def test_ambiguous_wall_time_takes_the_first() -> None:
    now = datetime(2026, 10, 31, 12, 0, tzinfo=NY)
    assert parse_due("tomorrow 1:30am", now, tz=NY) == utc(2026, 11, 1, 5, 30)


def test_default_zone_is_the_system_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time_module.tzset()
    try:
        assert parse_due("tomorrow", utc(2026, 11, 25, 15)) == ny(2026, 11, 26)
        # the system rules, not a fixed offset: across the DST change
        assert parse_due("+1w", utc(2026, 10, 28, 14)) == utc(2026, 11, 4, 14)
        assert local_date(utc(2026, 11, 26, 2)) == date(2026, 11, 25)
    finally:
        monkeypatch.undo()
        time_module.tzset()


# -- errors -----------------------------------------------------------------------------

HINT = "try tomorrow, +2w, next tue 10am or 2026-12-01."


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("blorp", f"Can't read 'blorp' as a date — {HINT}"),
        ("next", f"Can't read 'next' as a date — {HINT}"),
        ("+d", f"Can't read '+d' as a date — {HINT}"),
        ("+3x", f"Can't read '+3x' as a date — {HINT}"),
        ("in days", f"Can't read 'in days' as a date — {HINT}"),
        ("+4h 2pm", f"Can't read '+4h 2pm' as a date — {HINT}"),
        ("tue tue", f"Can't read 'tue tue' as a date — {HINT}"),
        ("14", f"Can't read '14' as a date — {HINT}"),
        ("+99999d", f"Can't read '+99999d' as a date — {HINT}"),
        ("x" * 40, f"Can't read '{'x' * 23}…' as a date — {HINT}"),
        ("", f"Enter a due date — {HINT}"),
        ("   ", f"Enter a due date — {HINT}"),
        ("2020-01-01", "That is in the past."),
        ("2026-11-25 09:00", "That is in the past."),
        ("today 9am", "That is in the past."),
        ("11/24/2026", "That is in the past."),
        ("-3d", "That is in the past."),
        ("-2h", "That is in the past."),
        ("2026-02-30", "'2026-02-30' is not a real date."),
        ("13/45", "'13/45' is not a real date."),
        ("feb 30", "'feb 30' is not a real date."),
        ("25:00", "'25:00' is not a real time."),
        ("tue 13pm", "'13pm' is not a real time."),
        ("+9999y", "That is too far ahead."),
    ],
)
def test_parse_due_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_due(text, NOW, tz=NY)
    assert str(excinfo.value) == message


def test_naive_now_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_due("tomorrow", datetime(2026, 11, 25, 10))


# -- format_due, local_date, relative_age --------------------------------------------------


def test_format_due() -> None:
    assert format_due(ny(2026, 12, 1), NOW, tz=NY) == "Tue 1 Dec 2026 09:00"
    assert format_due(utc(2026, 12, 1, 9), NOW, tz=UTC) == "Tue 1 Dec 2026 09:00"
    assert format_due(ny(2027, 1, 15, 14, 5), NOW, tz=NY) == "Fri 15 Jan 2027 14:05"
    with pytest.raises(TypeError):
        format_due(datetime(2026, 12, 1, 9), NOW, tz=NY)


def test_local_date() -> None:
    assert local_date(utc(2026, 11, 26, 3), tz=NY) == date(2026, 11, 25)
    assert local_date(utc(2026, 11, 26, 3), tz=UTC) == date(2026, 11, 26)
    with pytest.raises(TypeError):
        local_date(datetime(2026, 11, 26, 3))


AGE_NOW = utc(2026, 11, 25, 15)


@pytest.mark.parametrize(
    ("dt", "expected"),
    [
        (AGE_NOW, "just now"),
        (AGE_NOW - timedelta(seconds=59), "just now"),
        (AGE_NOW - timedelta(minutes=1), "1m ago"),
        (AGE_NOW - timedelta(minutes=45), "45m ago"),
        (AGE_NOW - timedelta(hours=3), "3h ago"),
        (AGE_NOW - timedelta(hours=23, minutes=59), "23h ago"),
        (AGE_NOW - timedelta(days=3), "3d ago"),
        (AGE_NOW - timedelta(days=13, hours=23), "13d ago"),
        (AGE_NOW - timedelta(days=14), "2w ago"),
        (AGE_NOW - timedelta(weeks=4), "4w ago"),
        (utc(2026, 10, 25, 15), "1mo ago"),
        (utc(2026, 6, 20, 15), "5mo ago"),
        (utc(2025, 11, 26, 15), "11mo ago"),
        (utc(2024, 11, 25, 15), "2y ago"),
        (utc(1900, 1, 1), ">99y ago"),
        (AGE_NOW + timedelta(seconds=30), "now"),
        (AGE_NOW + timedelta(minutes=45), "in 45m"),
        (AGE_NOW + timedelta(hours=2), "in 2h"),
        (AGE_NOW + timedelta(days=3), "in 3d"),
        (AGE_NOW + timedelta(weeks=2), "in 2w"),
        (utc(2027, 4, 26, 15), "in 5mo"),
        (utc(2028, 12, 1), "in 2y"),
        (datetime(2026, 11, 25, 7, 0, tzinfo=NY), "3h ago"),  # any zone
    ],
)
def test_relative_age(dt: datetime, expected: str) -> None:
    assert relative_age(dt, AGE_NOW) == expected


def test_relative_age_rejects_naive() -> None:
    with pytest.raises(TypeError):
        relative_age(datetime(2026, 11, 25), AGE_NOW)


# -- parse_date, age_on ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-31", date(2026, 1, 31)),
        ("01/31/2026", date(2026, 1, 31)),
        ("1/31/1950", date(1950, 1, 31)),
        (" 1/31/1950 ", date(1950, 1, 31)),
        ("2024-02-29", date(2024, 2, 29)),
        ("2026-1-5", date(2026, 1, 5)),
    ],
)
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter a date — use 1950-01-31 or 01/31/1950."),
        ("blorp", "Can't read 'blorp' as a date — use 1950-01-31 or 01/31/1950."),
        ("tomorrow", "Can't read 'tomorrow' as a date — use 1950-01-31 or 01/31/1950."),
        ("2/30/2026", "'2/30/2026' is not a real date."),
        ("31/01/2026", "'31/01/2026' is not a real date."),
        ("2023-02-29", "'2023-02-29' is not a real date."),
        ("1/31/50", "Give the full year in '1/31/50', e.g. 01/31/1950."),
    ],
)
def test_parse_date_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_date(text)
    assert str(excinfo.value) == message


@pytest.mark.parametrize(
    ("dob", "today", "age"),
    [
        (date(1950, 1, 31), date(2026, 1, 30), 75),
        (date(1950, 1, 31), date(2026, 1, 31), 76),
        (date(2000, 2, 29), date(2026, 2, 28), 26),
        (date(2000, 2, 29), date(2027, 2, 28), 27),
        (date(2026, 11, 25), date(2026, 11, 25), 0),
    ],
)
def test_age_on(dob: date, today: date, age: int) -> None:
    assert age_on(dob, today) == age


def test_age_on_future_dob() -> None:
    with pytest.raises(ValueError, match="in the future"):
        age_on(date(2027, 1, 1), date(2026, 11, 25))


# -- properties -----------------------------------------------------------------------------

ZONES = [
    ZoneInfo(name)
    for name in (
        "UTC",
        "America/New_York",
        "Europe/London",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
        "Pacific/Chatham",
        "America/Sao_Paulo",
    )
]
zones = st.sampled_from(ZONES)
nows = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=zones,
    allow_imaginary=False,
)
TOKENS = [
    "today", "tomorrow", "next", "tue", "fri", "dec", "feb", "1", "3", "29", "12/1", "2/29",
    "+3d", "+1m", "+4h", "-2d", "in", "days", "weeks", "hours", "2pm", "10:30", "am", "at",
    "noon", "eod", "2026-12-01", "14:30", "st", ",", "+", "/", ":", "2027",
]  # fmt: skip


def check_result(due: datetime, now: datetime) -> None:
    assert due.tzinfo is UTC
    assert due >= now


@given(st.text(), nows, zones)
def test_arbitrary_text_only_raises_value_error(text: str, now: datetime, tz: ZoneInfo) -> None:
    try:
        due = parse_due(text, now, tz=tz)
    except ValueError as error:
        assert 0 < len(str(error)) <= 100
    else:
        check_result(due, now)


@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=4), nows, zones)
def test_token_soup_is_aware_utc_or_value_error(
    words: list[str], now: datetime, tz: ZoneInfo
) -> None:
    try:
        due = parse_due(" ".join(words), now, tz=tz)
    except ValueError:
        return
    check_result(due, now)


def local_nine(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, 9, tzinfo=tz)


@given(st.integers(1, 3650), nows)
def test_plus_n_days_is_n_local_calendar_days(n: int, now: datetime) -> None:
    assert isinstance(now.tzinfo, ZoneInfo)
    today = now.date()
    expected = local_nine(today + timedelta(days=n), now.tzinfo)
    assert parse_due(f"+{n}d", now, tz=now.tzinfo) == expected
    assert parse_due(f"in {n} days", now, tz=now.tzinfo) == expected


@given(st.integers(1, 500), nows)
def test_plus_n_weeks_and_months(n: int, now: datetime) -> None:
    assert isinstance(now.tzinfo, ZoneInfo)
    today = now.date()
    assert parse_due(f"+{n}w", now, tz=now.tzinfo) == local_nine(
        today + timedelta(weeks=n), now.tzinfo
    )
    assert parse_due(f"+{n}m", now, tz=now.tzinfo) == local_nine(
        today + relativedelta(months=n), now.tzinfo
    )


@given(st.integers(0, 9999), nows)
def test_plus_n_hours_is_elapsed_time(n: int, now: datetime) -> None:
    assert parse_due(f"+{n}h", now, tz=now.tzinfo) - now == timedelta(hours=n)


@given(st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]), nows)
def test_weekday_is_within_the_next_seven_days(name: str, now: datetime) -> None:
    assert isinstance(now.tzinfo, ZoneInfo)
    due = parse_due(f"next {name}", now, tz=now.tzinfo).astimezone(now.tzinfo)
    assert 1 <= (due.date() - now.date()).days <= 7
    assert format_due(due, now, tz=now.tzinfo).lower().startswith(name)
    assert due == parse_due(name, now, tz=now.tzinfo)


@given(nows)
def test_today_is_later_today_or_within_about_an_hour(now: datetime) -> None:
    assert isinstance(now.tzinfo, ZoneInfo)
    due = parse_due("today", now, tz=now.tzinfo)
    local = due.astimezone(now.tzinfo)
    eod = (local.date(), local.hour, local.minute) == (now.date(), 17, 0)
    assert eod or timedelta(hours=1) <= due - now < timedelta(hours=1, minutes=15)
    assert due == parse_due("+0d", now, tz=now.tzinfo)


any_aware = st.datetimes(timezones=st.just(UTC))


@given(any_aware, any_aware)
def test_relative_age_fits_a_column(dt: datetime, now: datetime) -> None:
    assert 1 <= len(relative_age(dt, now)) <= 8


@given(st.dates(min_value=date(1000, 1, 1)))
def test_parse_date_round_trips(day: date) -> None:
    assert parse_date(day.isoformat()) == day
    assert parse_date(f"{day.month}/{day.day}/{day.year}") == day
    assert parse_date(f"{day:%m/%d/%Y}") == day


@given(st.dates(max_value=date(2100, 1, 1)), st.integers(0, 36500))
def test_age_on_matches_birthdays(dob: date, days: int) -> None:
    today = dob + timedelta(days=days)
    age = age_on(dob, today)
    assert dob + relativedelta(years=age) <= today
    assert today < dob + relativedelta(years=age + 1)
