"""How values look in tables and briefs (one place, so every screen agrees)."""

from __future__ import annotations

from datetime import date, datetime

from dateutil import tz
from rich.text import Text

from cm_tui.dates import age_on, format_due, local_date, relative_age
from cm_tui.store.vocab import label
from cm_tui.widgets.safe import literal

RISK_STYLE = {"high": "bold red", "rising": "yellow", "low": "green"}
PRIORITY_STYLE = {"urgent": "bold red", "high": "yellow", "normal": "", "low": "dim"}


def age(dob: date | None, now: datetime) -> Text:
    if dob is None:
        return Text("—", style="dim")
    try:
        return Text(str(age_on(dob, local_date(now))))
    except ValueError:
        return Text("?", style="red")


def risk(tier: str | None) -> Text:
    return literal(tier or "—", RISK_STYLE.get(tier or "", "dim"))


def ago(dt: datetime | None, now: datetime, *, never: str = "never") -> Text:
    if dt is None:
        return Text(never, style="dim")
    return Text(relative_age(dt, now))


def due(dt: datetime | None, now: datetime) -> Text:
    """Next due: overdue items in red with their age ("3d late")."""
    if dt is None:
        return Text("—", style="dim")
    if dt < now:
        return Text(relative_age(dt, now).replace(" ago", " late"), style="bold red")
    if local_date(dt) == local_date(now):
        return Text("today", style="yellow")
    return Text(relative_age(dt, now))


def when(dt: datetime | None, now: datetime) -> Text:
    if dt is None:
        return Text("—", style="dim")
    return Text(format_due(dt, now))


def when_short(dt: datetime | None, now: datetime) -> Text:
    """A compact local timestamp for timelines: "Tue 24 Nov 12:22", or "24 Nov 2025" if older."""
    if dt is None:
        return Text("—", style="dim")
    local = dt.astimezone(tz.tzlocal())
    if local.year == now.astimezone(tz.tzlocal()).year:
        return Text(
            f"{_DAYS[local.weekday()]} {local.day:>2} {_MONTHS[local.month - 1]} {local:%H:%M}"
        )
    return Text(f"{local.day:>2} {_MONTHS[local.month - 1]} {local.year}")


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def code(value: str | None) -> Text:
    return literal(label(value)) if value else Text("—", style="dim")


def count(n: int) -> Text:
    return Text(str(n), style="bold" if n else "dim")
