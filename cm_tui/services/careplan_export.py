"""The care-plan printout: the plan in plain language the client can take home.

``render_careplan`` reads one client's active plan (or, without one, their most
recent) and writes Markdown or print-ready HTML with the sections "What matters to
me", "My goals" (their words first, then how we will know and by when), "What my
team will do", "What might get in the way" and "My care team and how to reach
them". Labels come from ``data/careplan_labels.toml`` in the client's language when
a table for it exists (English and Spanish ship), English otherwise. Every stored
text is escaped for the format (HTML entities; Markdown punctuation), and control
characters are dropped. The caller audits the export (``export.export_careplan``).
"""

from __future__ import annotations

import html
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any

from dateutil import tz as dateutil_tz
from sqlmodel import Session, col, select

from cm_tui.store.models import Barrier, CarePlan, Client, Goal, Intervention, User

FORMATS = ("md", "html")
LIMIT = 50  # goals, interventions and barriers on one printout
_MD_SPECIAL = set("\\`*_[]<>|~")
_LINE_START = re.compile(r"^(\s*)([-+#>=]|\d+[.)])")


@dataclass(frozen=True)
class CarePlanDocument:
    client_id: int
    language: str  # the label table used ("en", "es")
    fmt: str
    text: str
    goals: int


@cache
def label_tables() -> dict[str, dict[str, Any]]:
    raw = (
        resources.files("cm_tui.services")
        .joinpath("data/careplan_labels.toml")
        .read_text(encoding="utf-8")
    )
    return tomllib.loads(raw)


def labels_for(language: str | None) -> tuple[str, dict[str, Any]]:
    """(code, labels) for a client's language field; English when none matches."""
    tables = label_tables()
    wanted = (language or "").strip().lower()
    for code, table in tables.items():
        if wanted and wanted in (n.lower() for n in table.get("names", [])):
            return code, table
    return "en", tables["en"]


def _clean(text: str) -> str:
    return "".join(ch for ch in text if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127))


def _md(text: str | None) -> str:
    if not text:
        return ""
    out = []
    for ch in _clean(text).replace("\r\n", "\n").replace("\t", " "):
        out.append("\\" + ch if ch in _MD_SPECIAL else ch)
    # A blank line inside stored text would end a list item: keep it in one paragraph;
    # a line that starts like a list, heading or quote is escaped.
    lines = [line.strip() for line in "".join(out).split("\n") if line.strip()]
    return "  \n".join(_LINE_START.sub(r"\1\\\2", line) for line in lines)


def _h(text: str | None) -> str:
    if not text:
        return ""
    return "<br>".join(
        html.escape(line, quote=True) for line in _clean(text).replace("\r\n", "\n").split("\n")
    )


def _day(value: date | datetime | None, labels: dict[str, Any]) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(dateutil_tz.tzlocal()).date()
    month = labels["months"][value.month - 1]
    return str(labels["date_format"]).format(day=value.day, month=month, year=value.year)


@dataclass(frozen=True)
class _Plan:
    client: Client
    plan: CarePlan | None
    goals: list[Goal]
    interventions: list[tuple[Intervention, str | None]]
    barriers: list[Barrier]
    care_manager: User | None
    chw: User | None


def _read(session: Session, client: Client) -> _Plan:
    plan = session.exec(
        select(CarePlan)
        .where(CarePlan.client_id == client.id)
        .order_by(col(CarePlan.status) != "active", col(CarePlan.created_at).desc())
        .limit(1)
    ).first()
    goals: list[Goal] = []
    ivs: list[tuple[Intervention, str | None]] = []
    bars: list[Barrier] = []
    if plan is not None:
        goals = list(
            session.exec(
                select(Goal)
                .where(Goal.care_plan_id == plan.id, Goal.status != "revised")
                .order_by(col(Goal.position), col(Goal.id))
                .limit(LIMIT)
            ).all()
        )
        rows = session.exec(
            select(Intervention, User.display_name)
            .join(User, col(User.id) == col(Intervention.owner_id), isouter=True)
            .where(Intervention.care_plan_id == plan.id, Intervention.status == "active")
            .order_by(col(Intervention.goal_id), col(Intervention.id))
            .limit(LIMIT)
        ).all()
        ivs = [(iv, name) for iv, name in rows]
        bars = list(
            session.exec(
                select(Barrier)
                .where(Barrier.care_plan_id == plan.id, Barrier.status == "open")
                .order_by(col(Barrier.id))
                .limit(LIMIT)
            ).all()
        )
    cm = session.get(User, client.care_manager_id) if client.care_manager_id else None
    chw = session.get(User, client.chw_id) if client.chw_id else None
    return _Plan(client, plan, goals, ivs, bars, cm, chw)


def render_careplan(session: Session, client: Client, fmt: str, *, today: date) -> CarePlanDocument:
    """The printout of ``client``'s plan as ``fmt`` (``md`` or ``html``)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of: {', '.join(FORMATS)}")
    code, labels = labels_for(client.language)
    data = _read(session, client)
    text = _markdown(data, labels, today) if fmt == "md" else _html(data, labels, today, code)
    assert client.id is not None
    return CarePlanDocument(client.id, code, fmt, text, len(data.goals))


def _name(client: Client) -> str:
    given = client.preferred_name or client.given_name
    return f"{given} {client.family_name}"


def _status(goal: Goal, labels: dict[str, Any]) -> str:
    return str(labels.get(f"status_{goal.status}", goal.status))


def _team(data: _Plan, labels: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(role label, name, phone) of the client's care team."""
    out: list[tuple[str, str, str | None]] = []
    if data.care_manager is not None:
        out.append((labels["care_manager"], data.care_manager.display_name, None))
    if data.chw is not None:
        out.append((labels["chw"], data.chw.display_name, None))
    c = data.client
    if c.pcp_name or c.pcp_practice:
        who = ", ".join(x for x in (c.pcp_name, c.pcp_practice) if x)
        out.append((labels["pcp"], who, c.pcp_phone))
    return out


def _markdown(data: _Plan, labels: dict[str, Any], today: date) -> str:
    c = data.client
    lines = [f"# {labels['title']}", ""]
    lines.append(f"**{labels['prepared_for']}:** {_md(_name(c))}  ")
    lines.append(f"**{labels['printed']}:** {_day(today, labels)}  ")
    if data.plan is not None:
        lines.append(f"**{labels['plan_started']}:** {_day(data.plan.created_at, labels)}  ")
        lines.append(f"**{labels['updated']}:** {_day(data.plan.updated_at, labels)}")
    lines += ["", f"## {labels['what_matters']}", ""]
    lines.append(f"> {_md(c.what_matters)}" if c.what_matters else labels["nothing_yet"])
    lines += ["", f"## {labels['my_goals']}", ""]
    if not data.goals:
        lines.append(labels["no_plan"])
    by_goal: dict[int | None, list[tuple[Intervention, str | None]]] = {}
    for iv, owner in data.interventions:
        by_goal.setdefault(iv.goal_id, []).append((iv, owner))
    for i, g in enumerate(data.goals, 1):
        lines.append(
            f"{i}. **{labels['in_my_words']}:** “{_md(g.client_words)}” — {_status(g, labels)}"
        )
        if g.measurable:
            lines.append(f"   - {labels['how_we_know']}: {_md(g.measurable)}")
        if g.target_date:
            lines.append(f"   - {labels['by']}: {_day(g.target_date, labels)}")
    lines += ["", f"## {labels['team_will_do']}", ""]
    if not data.interventions:
        lines.append(labels["nothing_yet"])
    for iv, owner in data.interventions:
        who = f" ({labels['who']}: {_md(owner)})" if owner else ""
        lines.append(f"- {_md(iv.description)}{who}")
    lines += ["", f"## {labels['in_the_way']}", ""]
    if not data.barriers:
        lines.append(labels["nothing_yet"])
    for b in data.barriers:
        lines.append(f"- {_md(b.description)}")
    lines += ["", f"## {labels['care_team']}", ""]
    for role, name, phone in _team(data, labels):
        lines.append(f"- **{role}:** {_md(name)}" + (f", {_md(phone)}" if phone else ""))
    lines += ["", "---", "", labels["footer"], ""]
    return "\n".join(lines)


_CSS = """
body { font-family: Georgia, "Times New Roman", serif; font-size: 14pt; line-height: 1.5;
       max-width: 44em; margin: 2em auto; color: #000; background: #fff; }
h1 { font-size: 22pt; margin-bottom: 0.2em; }
h2 { font-size: 16pt; border-bottom: 1px solid #888; margin-top: 1.4em; }
.meta { color: #333; }
blockquote { font-size: 15pt; margin: 0.5em 1em; font-style: italic; }
ol li { margin-bottom: 0.6em; }
.words { font-weight: bold; }
.status { color: #333; }
footer { margin-top: 2em; border-top: 1px solid #888; padding-top: 0.5em; }
@media print { body { margin: 0; max-width: none; } h2 { page-break-after: avoid; }
               li { page-break-inside: avoid; } }
"""


def _html(data: _Plan, labels: dict[str, Any], today: date, code: str) -> str:
    c = data.client
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{e(code)}">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{e(labels['title'])} — {_h(_name(c))}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{e(labels['title'])}</h1>",
        '<p class="meta">',
        f"<strong>{e(labels['prepared_for'])}:</strong> {_h(_name(c))}<br>",
        f"<strong>{e(labels['printed'])}:</strong> {e(_day(today, labels))}",
    ]
    if data.plan is not None:
        parts.append(
            f"<br><strong>{e(labels['plan_started'])}:</strong> "
            f"{e(_day(data.plan.created_at, labels))}"
            f"<br><strong>{e(labels['updated'])}:</strong> {e(_day(data.plan.updated_at, labels))}"
        )
    parts.append("</p>")
    parts.append(f"<h2>{e(labels['what_matters'])}</h2>")
    parts.append(
        f"<blockquote>{_h(c.what_matters)}</blockquote>"
        if c.what_matters
        else f"<p>{e(labels['nothing_yet'])}</p>"
    )
    parts.append(f"<h2>{e(labels['my_goals'])}</h2>")
    if not data.goals:
        parts.append(f"<p>{e(labels['no_plan'])}</p>")
    else:
        parts.append("<ol>")
        for g in data.goals:
            item = (
                f'<li><span class="words">“{_h(g.client_words)}”</span> '
                f'<span class="status">— {e(_status(g, labels))}</span>'
            )
            details = []
            if g.measurable:
                details.append(f"<li>{e(labels['how_we_know'])}: {_h(g.measurable)}</li>")
            if g.target_date:
                details.append(f"<li>{e(labels['by'])}: {e(_day(g.target_date, labels))}</li>")
            if details:
                item += "<ul>" + "".join(details) + "</ul>"
            parts.append(item + "</li>")
        parts.append("</ol>")
    parts.append(f"<h2>{e(labels['team_will_do'])}</h2>")
    if not data.interventions:
        parts.append(f"<p>{e(labels['nothing_yet'])}</p>")
    else:
        parts.append("<ul>")
        for iv, owner in data.interventions:
            who = f" ({e(labels['who'])}: {_h(owner)})" if owner else ""
            parts.append(f"<li>{_h(iv.description)}{who}</li>")
        parts.append("</ul>")
    parts.append(f"<h2>{e(labels['in_the_way'])}</h2>")
    if not data.barriers:
        parts.append(f"<p>{e(labels['nothing_yet'])}</p>")
    else:
        parts.append("<ul>" + "".join(f"<li>{_h(b.description)}</li>" for b in data.barriers))
        parts.append("</ul>")
    parts.append(f"<h2>{e(labels['care_team'])}</h2>")
    parts.append("<ul>")
    for role, name, phone in _team(data, labels):
        parts.append(
            f"<li><strong>{e(role)}:</strong> {_h(name)}"
            + (f", {_h(phone)}" if phone else "")
            + "</li>"
        )
    parts.append("</ul>")
    parts.append(f"<footer>{e(labels['footer'])}</footer>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)
