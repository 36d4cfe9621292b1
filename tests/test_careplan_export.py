"""The care-plan printout: plain-language sections, translated labels, escaping, audit."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlmodel import col, select

from cm_tui.services import careplans as cp
from cm_tui.services import export
from cm_tui.store.db import Store
from cm_tui.store.models import AuditEvent
from cm_tui.store.types import freeze_clock
from tests.factories import add_client, add_user

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script> & [bold]x[/bold] \x1b[31m"


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    freeze_clock(NOW)
    yield
    freeze_clock(None)


def plan_for(store: Store, language: str, words: str, **client: Any) -> tuple[int, Any]:
    ann = add_user(store, f"ann{language[:2].lower()}", display_name="Ann Lee, RN")
    cid = add_client(
        store,
        "Rosa",
        "Alvarez",
        ann,
        mrn=f"MRN-{language}",
        language=language,
        what_matters="Ver a mis nietos graduarse",
        pcp_name="Dr. Kim",
        pcp_practice="Eastside Family Medicine",
        pcp_phone="503-555-0100",
        **client,
    )
    goal = cp.add_goal(
        store,
        ann,
        cid,
        client_words=words,
        measurable="Walks 10 minutes, 5 days a week",
        target_date=date(2027, 2, 1),
    )
    cp.add_intervention(store, ann, goal.id, "Refer to PT")
    cp.add_barrier(store, ann, cid, "Knee pain", goal_id=goal.id)
    return cid, ann


def test_markdown_in_spanish(any_store: Store) -> None:
    cid, ann = plan_for(any_store, "Spanish", "Caminar a la iglesia")
    out = io.StringIO()
    doc = export.export_careplan(any_store, "MRN-Spanish", out, fmt="md", viewer=ann)
    text = out.getvalue()
    assert (doc.client_id, doc.language, doc.goals) == (cid, "es", 1)
    for heading in (
        "# Mi plan de cuidado",
        "## Lo que me importa",
        "## Mis metas",
        "## Lo que hará mi equipo",
        "## Lo que podría dificultarlo",
        "## Mi equipo de cuidado y cómo comunicarme",
    ):
        assert heading in text
    assert "“Caminar a la iglesia” — Trabajando en ello" in text
    assert "1 de febrero de 2027" in text
    assert "Refer to PT (Quién: Ann Lee, RN)" in text
    assert "- Knee pain" in text
    assert "> Ver a mis nietos graduarse" in text
    assert "Dr. Kim, Eastside Family Medicine, 503-555-0100" in text
    with any_store.read() as s:
        event = s.exec(
            select(AuditEvent).where(AuditEvent.action == "export").order_by(col(AuditEvent.id))
        ).one()
    assert (event.entity, event.entity_id, event.user_id) == ("client", cid, ann.id)
    assert "care plan printout (md, labels es, 1 goals)" in (event.detail or "")


def test_html_escapes_stored_text_and_falls_back_to_english(any_store: Store) -> None:
    cid, ann = plan_for(any_store, "Tagalog", HOSTILE)
    out = io.StringIO()
    doc = export.export_careplan(any_store, str(cid), out, fmt="html", viewer=ann)
    page = out.getvalue()
    assert doc.language == "en"
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert "<h2>What matters to me</h2>" in page and "<h2>My goals</h2>" in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in page
    assert "\x1b" not in page
    assert "Working on it" in page and "@media print" in page


def test_markdown_escapes_and_unknown_client(any_store: Store) -> None:
    cid, ann = plan_for(any_store, "English", "- *not a list* [link](x)\n\n# not a heading")
    out = io.StringIO()
    export.export_careplan(any_store, str(cid), out, fmt="md", viewer=ann)
    text = out.getvalue()
    assert "“\\- \\*not a list\\* \\[link\\](x)  \n\\# not a heading”" in text
    with pytest.raises(export.ExportError, match="No client"):
        export.export_careplan(any_store, "nobody", io.StringIO(), viewer=ann)
    chw = add_user(any_store, "cam", role="chw")
    with pytest.raises(export.ExportError, match="No client"):  # not the CHW's client
        export.export_careplan(any_store, str(cid), io.StringIO(), viewer=chw)
    with pytest.raises(export.ExportError, match="md or html"):
        export.export_careplan(any_store, str(cid), io.StringIO(), fmt="pdf", viewer=ann)


def test_client_without_a_plan(any_store: Store) -> None:
    add_client(any_store, "Walter", "Brooks", None, mrn="W1")
    out = io.StringIO()
    doc = export.export_careplan(any_store, "W1", out)
    assert doc.goals == 0
    assert "We have not written your goals down yet" in out.getvalue()
