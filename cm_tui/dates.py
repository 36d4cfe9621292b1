"""The project's one date parser and formatter (DESIGN §2). No Textual, no Rich.

Times are stored as aware UTC datetimes and read/shown in local time. "Local" is the
``tz`` argument when given, otherwise the system zone with its DST rules
(``dateutil.tz.tzlocal()``; a fixed offset such as ``now.astimezone().tzinfo`` would put
09:00 at the wrong hour on the far side of a DST change).

Time defaults used by :func:`parse_due` (all in local time):

* a date without a time (``tomorrow``, ``+3d``, ``tue``, ``12/1``, ``2026-12-01``) is due
  at 09:00, the start of the working day;
* a date that falls on *today* without a time (``today``, ``+0d``, today's ``12/1``) is
  due at 17:00 ("end of day"), or, once 17:00 has passed, one hour from now rounded up
  to the next quarter hour;
* a time without a date (``2pm``, ``14:30``, ``noon`` = 12:00, ``eod`` = 17:00) is its
  next occurrence: today if still ahead, else tomorrow;
* ``+4h`` / ``in 30 min`` are exact elapsed time from ``now``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from dateutil import tz as dateutil_tz
from dateutil.relativedelta import FR, MO, SA, SU, TH, TU, WE, relativedelta

__all__ = ["age_on", "format_due", "local_date", "parse_date", "parse_due", "relative_age"]

WORK_START = time(9, 0)
END_OF_DAY = time(17, 0)

_HINT = "try tomorrow, +2w, next tue 10am or 2026-12-01"
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")  # fmt: skip

_WEEKDAYS = {
    **dict.fromkeys(("mon", "monday"), MO),
    **dict.fromkeys(("tue", "tues", "tuesday"), TU),
    **dict.fromkeys(("wed", "weds", "wednesday"), WE),
    **dict.fromkeys(("thu", "thur", "thurs", "thursday"), TH),
    **dict.fromkeys(("fri", "friday"), FR),
    **dict.fromkeys(("sat", "saturday"), SA),
    **dict.fromkeys(("sun", "sunday"), SU),
}
_MONTHS = {name.lower(): i for i, name in enumerate(_MONTH_NAMES, 1)} | {
    "january": 1, "february": 2, "march": 3, "april": 4, "june": 6, "july": 7,
    "august": 8, "sept": 9, "september": 9, "october": 10, "november": 11, "december": 12,
}  # fmt: skip
_UNITS = {
    **dict.fromkeys(("min", "mins", "minute", "minutes"), "minutes"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "hours"),
    **dict.fromkeys(("d", "day", "days"), "days"),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), "weeks"),
    **dict.fromkeys(("m", "mo", "mos", "month", "months"), "months"),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), "years"),
}

_N = r"[0-9]{1,4}"
_TIME = (
    r"(?P<word>noon|midday|eod)"
    r"|(?P<h12>[0-9]{1,2})(?::(?P<m12>[0-9]{2}))? ?(?P<ampm>am|pm)"
    r"|(?P<h24>[0-9]{1,2}):(?P<m24>[0-9]{2})"
)
_TIME_RE = re.compile(_TIME)
_SPLIT_RE = re.compile(rf"(?P<date>.+?)(?: (?:at )?(?P<time>{_TIME}))?")
_OFFSET_RE = re.compile(rf"(?P<sign>\+|-|in ) ?(?P<n>{_N}) ?(?P<unit>[a-z]+)")
_WEEKDAY_RE = re.compile(r"(?:next )?(?P<wd>[a-z]+)")
_ISO_RE = re.compile(r"(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})")
_US_RE = re.compile(r"(?P<m>[0-9]{1,2})/(?P<d>[0-9]{1,2})(?:/(?P<y>[0-9]{4}))?")
_MONTH_DAY_RE = re.compile(
    r"(?:(?P<mon1>[a-z]+) (?P<d1>[0-9]{1,2})|(?P<d2>[0-9]{1,2}) (?P<mon2>[a-z]+))"
    r"(?:st|nd|rd|th)?(?: (?P<y>[0-9]{4}))?"
)


# -- helpers ---------------------------------------------------------------------------


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise TypeError(f"{name} must be a timezone-aware datetime, got naive {value!r}")


def _zone(tz: tzinfo | None) -> tzinfo:
    return tz if tz is not None else dateutil_tz.tzlocal()


def _too_far() -> ValueError:
    return ValueError("That is too far ahead.")


def _real_date(year: int, month: int, day: int, shown: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"'{shown}' is not a real date.") from None


def _shift(day: date, delta: relativedelta) -> date:
    try:
        return day + delta
    except (OverflowError, ValueError):
        raise _too_far() from None


def _next_yearly(month: int, day: int, today: date, shown: str) -> date:
    """The first month/day on or after ``today`` (Feb 29 waits for a leap year)."""
    for year in range(today.year, today.year + 9):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise ValueError(f"'{shown}' is not a real date.")


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 24 else text[:23] + "…"


# -- parse_due -------------------------------------------------------------------------


def _parse_time(match: re.Match[str]) -> time:
    word = match["word"]
    if word:
        return time(12, 0) if word in ("noon", "midday") else END_OF_DAY
    if match["ampm"]:
        hour, minute = int(match["h12"]), int(match["m12"] or 0)
        if 1 <= hour <= 12 and minute < 60:
            return time(hour % 12 + (12 if match["ampm"] == "pm" else 0), minute)
    else:
        hour, minute = int(match["h24"]), int(match["m24"])
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise ValueError(f"'{match[0]}' is not a real time.")


def _parse_day(words: str, today: date) -> date | None:
    """The date named by ``words`` (no time part), or None if it names no date."""
    if words == "today":
        return today
    if words in ("tomorrow", "tmrw", "tmr"):
        return _shift(today, relativedelta(days=1))
    if m := _OFFSET_RE.fullmatch(words):
        unit = _UNITS.get(m["unit"])
        if unit not in ("days", "weeks", "months", "years"):
            return None
        if m["sign"] == "-":
            raise ValueError("That is in the past.")
        n = int(m["n"])
        steps = {"days": relativedelta(days=n), "weeks": relativedelta(weeks=n),
                 "months": relativedelta(months=n), "years": relativedelta(years=n)}  # fmt: skip
        return _shift(today, steps[unit])
    if (m := _WEEKDAY_RE.fullmatch(words)) and m["wd"] in _WEEKDAYS:
        # Strictly after today: on a Tuesday, "tue" and "next tue" are a week ahead.
        return _shift(today, relativedelta(days=1, weekday=_WEEKDAYS[m["wd"]](+1)))
    if m := _ISO_RE.fullmatch(words):
        return _real_date(int(m["y"]), int(m["m"]), int(m["d"]), words)
    if m := _US_RE.fullmatch(words):
        month, day = int(m["m"]), int(m["d"])
        if m["y"]:
            return _real_date(int(m["y"]), month, day, words)
        _real_date(2000, month, day, words)  # leap year: only rejects impossible days
        return _next_yearly(month, day, today, words)
    if m := _MONTH_DAY_RE.fullmatch(words):
        month_name, day_text = (m["mon1"], m["d1"]) if m["mon1"] else (m["mon2"], m["d2"])
        if month_name not in _MONTHS:
            return None
        month, day = _MONTHS[month_name], int(day_text)
        if m["y"]:
            return _real_date(int(m["y"]), month, day, words)
        _real_date(2000, month, day, words)
        return _next_yearly(month, day, today, words)
    return None


def _today_due(now: datetime, zone: tzinfo) -> datetime:
    """17:00 today, or after that one hour from now rounded up to the quarter hour."""
    local_now = now.astimezone(zone)
    eod = datetime.combine(local_now.date(), END_OF_DAY, tzinfo=zone)
    if eod > now:
        return eod
    later = now.astimezone(UTC) + timedelta(hours=1)
    hour = later.replace(minute=0, second=0, microsecond=0)
    quarter = timedelta(minutes=15)
    return hour + -(-(later - hour) // quarter) * quarter  # ceiling to the quarter hour


def _parse(words: str, now: datetime, zone: tzinfo) -> datetime | None:
    today = now.astimezone(zone).date()
    words = re.sub(r"^([0-9]{4}-[0-9]{1,2}-[0-9]{1,2})t(?=[0-9])", r"\1 ", words)
    words = words.removeprefix("at ")

    if m := _TIME_RE.fullmatch(words):  # a time alone: its next occurrence
        due = datetime.combine(today, _parse_time(m), tzinfo=zone)
        if due < now:
            due = datetime.combine(_shift(today, relativedelta(days=1)), due.time(), tzinfo=zone)
        return due

    split = _SPLIT_RE.fullmatch(words)
    assert split is not None  # ".+?" matches any non-empty text
    day_words, time_words = split["date"], split["time"]

    if (m := _OFFSET_RE.fullmatch(day_words)) and _UNITS.get(m["unit"]) in ("hours", "minutes"):
        if m["sign"] == "-":
            raise ValueError("That is in the past.")
        if time_words:
            return None
        return now.astimezone(UTC) + timedelta(**{_UNITS[m["unit"]]: int(m["n"])})  # elapsed

    day = _parse_day(day_words, today)
    if day is None:
        return None
    time_match = _TIME_RE.fullmatch(time_words) if time_words else None
    if time_match:
        return datetime.combine(day, _parse_time(time_match), tzinfo=zone)
    if day == today:
        return _today_due(now, zone)
    return datetime.combine(day, WORK_START, tzinfo=zone)


def parse_due(text: str, now: datetime, *, tz: tzinfo | None = None) -> datetime:
    """Read a due date typed by a user; return it as an aware UTC datetime.

    Accepts (case-insensitive, extra spaces ignored, an optional time after any date
    form, optionally after "at"):

    * ``today``, ``tomorrow``; ``eod`` (17:00), ``noon``, ``2pm``, ``10:30am``, ``14:30``
    * ``+3d``, ``+2w``, ``+1m`` (calendar month, via relativedelta), ``+1y``, ``+4h``,
      ``+30min``; ``in 3 days``, ``in 2 weeks``, ``in 4 hours``
    * ``tue``, ``next tue``, ``fri 2pm``, ``next tue 10am``: the next such weekday
      strictly after today (on a Tuesday, a week ahead)
    * ``2026-12-01``, ``2026-12-01 14:30``, ``12/1`` (US month/day), ``12/1/2027``,
      ``dec 1``, ``1 dec``, ``december 1st 2027``; a date without a year is its next
      occurrence (this year unless already passed)

    Interpretation is in local time ``tz`` (default: the system zone). The time defaults
    are listed in the module docstring: 09:00 for a date, 17:00 (or now + 1h after
    17:00) for today, the next occurrence for a bare time.

    Raises ``ValueError`` with a short message fit to show beside the field, e.g.
    "That is in the past." for an explicit date or time already gone. Raises
    ``TypeError`` if ``now`` is naive.
    """
    _require_aware(now, "now")
    zone = _zone(tz)
    words = " ".join(text.lower().replace(",", " ").split())
    if not words:
        raise ValueError(f"Enter a due date — {_HINT}.")
    try:
        due = _parse(words, now, zone)
    except OverflowError:
        raise _too_far() from None
    if due is None:
        raise ValueError(f"Can't read '{_shorten(text)}' as a date — {_HINT}.")
    if due < now:
        raise ValueError("That is in the past.")
    return due.astimezone(UTC)


# -- formatting ------------------------------------------------------------------------


def local_date(dt: datetime, *, tz: tzinfo | None = None) -> date:
    """The calendar date of ``dt`` in local time."""
    _require_aware(dt, "dt")
    return dt.astimezone(_zone(tz)).date()


def format_due(dt: datetime, now: datetime, *, tz: tzinfo | None = None) -> str:
    """Echo a due date in local time, always in full: ``"Tue 1 Dec 2026 09:00"``.

    English names regardless of locale. ``now`` is checked (aware) but does not change
    the text, so the echo reads the same whatever the current year.
    """
    _require_aware(dt, "dt")
    _require_aware(now, "now")
    local = dt.astimezone(_zone(tz))
    return (
        f"{_DAY_NAMES[local.weekday()]} {local.day} {_MONTH_NAMES[local.month - 1]} "
        f"{local.year} {local:%H:%M}"
    )


def relative_age(dt: datetime, now: datetime) -> str:
    """Short elapsed time for table columns, at most 8 characters.

    Past: "just now" (< 1 min), "45m ago", "3h ago", "3d ago" (< 14 days), "2w ago"
    (under a calendar month), "5mo ago", "2y ago". Future: "now" (< 1 min), "in 45m",
    "in 3h", "in 3d", "in 2w", "in 5mo", "in 2y". Beyond 99 years: ">99y ago" / "in >99y".
    Purely elapsed time, no "today"/"tomorrow" words: rows sort the way they read and the
    text does not depend on the local zone.
    """
    _require_aware(dt, "dt")
    _require_aware(now, "now")
    past = dt <= now
    early, late = (dt, now) if past else (now, dt)
    seconds = (late - early).total_seconds()
    if seconds < 60:
        return "just now" if past else "now"
    if seconds < 3600:
        amount = f"{int(seconds // 60)}m"
    elif seconds < 86400:
        amount = f"{int(seconds // 3600)}h"
    elif seconds < 14 * 86400:
        amount = f"{int(seconds // 86400)}d"
    else:
        span = relativedelta(late.astimezone(UTC), early.astimezone(UTC))
        if span.years > 99:
            amount = ">99y"
        elif span.years:
            amount = f"{span.years}y"
        elif span.months:
            amount = f"{span.months}mo"
        else:
            amount = f"{int(seconds // (7 * 86400))}w"
    return f"{amount} ago" if past else f"in {amount}"


# -- plain dates (date of birth, CSV) --------------------------------------------------

_DATE_HINT = "use 1950-01-31 or 01/31/1950"
_PLAIN_ISO_RE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_PLAIN_US_RE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{2}|[0-9]{4})")


def parse_date(text: str) -> date:
    """Read a plain date: ISO ``2026-01-31`` or US ``01/31/2026``, ``1/31/1950``.

    A four-digit year is required (a two-digit one could be either century). Raises
    ``ValueError`` with a message fit to show the user.
    """
    words = text.strip()
    if not words:
        raise ValueError(f"Enter a date — {_DATE_HINT}.")
    if m := _PLAIN_ISO_RE.fullmatch(words):
        return _real_date(int(m[1]), int(m[2]), int(m[3]), words)
    if m := _PLAIN_US_RE.fullmatch(words):
        if len(m[3]) == 2:
            raise ValueError(f"Give the full year in '{words}', e.g. 01/31/1950.")
        return _real_date(int(m[3]), int(m[1]), int(m[2]), words)
    raise ValueError(f"Can't read '{_shorten(text)}' as a date — {_DATE_HINT}.")


def age_on(dob: date, today: date) -> int:
    """Age in whole years on ``today`` (a Feb 29 birthday counts from Feb 28).

    Raises ``ValueError`` if ``dob`` is after ``today``.
    """
    if dob > today:
        raise ValueError("Date of birth is in the future.")
    return relativedelta(today, dob).years
