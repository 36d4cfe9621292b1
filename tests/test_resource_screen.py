"""The resource directory screen: search, add and edit with validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from textual.widgets import DataTable, Input, Static

from cm_tui.screens.caseload import CaseloadScreen
from cm_tui.screens.resources import ResourceForm, ResourcesScreen
from cm_tui.store.db import open_store
from cm_tui.store.models import AuditEvent, Resource
from cm_tui.store.types import freeze_clock
from tests.engine import db_url
from tests.snapshot_app import NOW, build_store
from tests.test_referral_ui import add_resources, app_for
from tests.test_ui import settle, shown


@pytest.fixture(autouse=True)
def _clock() -> Any:
    freeze_clock(NOW)
    yield
    freeze_clock(None)


def names(screen: ResourcesScreen) -> list[str]:
    return [r.name for r in screen.rows]


async def test_directory_search_add_edit(tmp_path: Path) -> None:
    db = tmp_path / "cm.db"
    store = build_store(db)
    add_resources(store)
    store.close()
    app = app_for(db)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, CaseloadScreen))
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Resource directory" in titles
        command = next(
            c for c in app.get_system_commands(app.screen) if c.title == "Resource directory"
        )
        command.callback()
        await settle(pilot, lambda: isinstance(app.screen, ResourcesScreen) and app.screen.loaded)
        screen = app.screen
        assert isinstance(screen, ResourcesScreen)
        assert len(screen.rows) == 4
        await pilot.press("slash", *"chinese")
        await settle(pilot, lambda: len(screen.rows) == 2)
        assert names(screen) == ["Golden Harvest Pantry", "Harbor Housing Help"]
        screen.query_one("#res-search", Input).value = "housing"
        await settle(pilot, lambda: names(screen) == ["Harbor Housing Help"])
        screen.query_one("#resources", DataTable).focus()

        # Add: bad input is refused with a clear message, nothing written.
        await pilot.press("a")
        await settle(pilot, lambda: isinstance(app.screen, ResourceForm))
        form = app.screen
        form.query_one("#res-name", Input).value = "Bus Buddies"
        form.query_one("#res-domains", Input).value = "transport"
        await pilot.press("ctrl+s")
        await settle(pilot)
        error = form.query_one(".error", Static)
        assert "'transport' is not a domain" in shown(error)
        form.query_one("#res-domains", Input).value = "transportation"
        form.query_one("#res-phone", Input).value = "ring us"
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: "not a phone number" in shown(error))
        form.query_one("#res-phone", Input).value = "(555) 040-1000"
        form.query_one("#res-languages", Input).value = "english; vietnamese"
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: isinstance(app.screen, ResourcesScreen))
        screen.query_one("#res-search", Input).value = "bus"
        await settle(pilot, lambda: names(screen) == ["Bus Buddies"])

        # Edit it: a name already taken is refused.
        screen.query_one("#resources", DataTable).focus()
        await pilot.press("e")
        await settle(pilot, lambda: isinstance(app.screen, ResourceForm))
        form = app.screen
        assert form.query_one("#res-languages", Input).value == "English; Vietnamese"
        form.query_one("#res-name", Input).value = "harbor housing help"
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: "already called" in shown(form.query_one(".error", Static)))
        form.query_one("#res-name", Input).value = "Bus Buddies [Vets]"
        form.query_one("#res-hours", Input).value = "Daily 7-7"
        await pilot.press("ctrl+s")
        await settle(pilot, lambda: isinstance(app.screen, ResourcesScreen))
        screen.query_one("#res-search", Input).value = "buddies"
        await settle(pilot, lambda: names(screen) == ["Bus Buddies [Vets]"])
        assert "Bus Buddies [Vets]" in shown(screen.query_one("#res-detail", Static))
    store = open_store(db_url(db))
    with store.read() as s:
        row = s.exec(select(Resource).where(Resource.name == "Bus Buddies [Vets]")).one()
        events = s.exec(select(AuditEvent).where(AuditEvent.entity == "resource")).all()
        assert len(s.exec(select(Resource)).all()) == 5
    store.close()
    assert row.hours == "Daily 7-7" and row.languages == ["English", "Vietnamese"]
    assert [e.action for e in events][-2:] == ["create", "update"]
