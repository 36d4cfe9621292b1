"""Business days: Monday to Friday, less US federal holidays and a team's own days.

Programme deadlines (TCM, outreach cadence) count business days
(cm_tui.services.programmes). The calendar is here, apart from the programme
services, so that the app can read ``[business_days]`` from its config as it
starts without loading those services (and all they import) before the first
screen (issue 8).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import MO, TH, relativedelta


def _observed(day: date) -> date:
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


def us_federal_holidays(year: int) -> set[date]:
    """The US federal holidays observed in ``year`` (5 U.S.C. 6103): fixed dates
    move to Friday/Monday when they fall on Saturday/Sunday."""
    jan1 = date(year, 1, 1)
    return {
        _observed(jan1),
        jan1 + relativedelta(weekday=MO(+3)),  # Martin Luther King Jr. Day
        date(year, 2, 1) + relativedelta(weekday=MO(+3)),  # Washington's Birthday
        date(year, 5, 31) + relativedelta(weekday=MO(-1)),  # Memorial Day
        _observed(date(year, 6, 19)),  # Juneteenth
        _observed(date(year, 7, 4)),
        date(year, 9, 1) + relativedelta(weekday=MO(+1)),  # Labor Day
        date(year, 10, 1) + relativedelta(weekday=MO(+2)),  # Columbus Day
        _observed(date(year, 11, 11)),
        date(year, 11, 1) + relativedelta(weekday=TH(+4)),  # Thanksgiving
        _observed(date(year, 12, 25)),
        # New Year's Day of the next year observed on 31 December
        *({date(year, 12, 31)} if date(year + 1, 1, 1).weekday() == 5 else set()),
    }


@dataclass(frozen=True)
class BusinessCalendar:
    """Monday–Friday, less the US federal holidays (if ``us_federal``) and ``extra``."""

    us_federal: bool = True
    extra: frozenset[date] = frozenset()

    def is_business_day(self, day: date) -> bool:
        if day.weekday() >= 5 or day in self.extra:
            return False
        return not (self.us_federal and day in us_federal_holidays(day.year))

    def roll_forward(self, day: date) -> date:
        """``day`` if it is a business day, else the next one."""
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def roll_back(self, day: date) -> date:
        """``day`` if it is a business day, else the one before."""
        while not self.is_business_day(day):
            day -= timedelta(days=1)
        return day

    def add_business_days(self, day: date, n: int) -> date:
        """The ``n``-th business day after ``day`` (``day`` itself not counted)."""
        while n > 0:
            day += timedelta(days=1)
            if self.is_business_day(day):
                n -= 1
        return day


_default_calendar = BusinessCalendar()


def default_calendar() -> BusinessCalendar:
    return _default_calendar


def set_default_calendar(calendar: BusinessCalendar) -> None:
    """The calendar services use when a call passes none (the app sets it at start)."""
    global _default_calendar
    _default_calendar = calendar


def calendar_from_settings(extra: Mapping[str, Any]) -> BusinessCalendar:
    """The calendar a config file describes: ``[business_days]`` with
    ``us_federal_holidays`` (bool, default true) and ``holidays`` (ISO dates)."""
    table = extra.get("business_days") or {}
    if not isinstance(table, Mapping):
        raise ValueError("config [business_days] must be a table")
    days: set[date] = set()
    for raw in table.get("holidays", []) or []:
        try:
            days.add(raw if isinstance(raw, date) else date.fromisoformat(str(raw)))
        except ValueError:
            raise ValueError(f"config [business_days] holidays: {raw!r} is not a date") from None
    return BusinessCalendar(bool(table.get("us_federal_holidays", True)), frozenset(days))
