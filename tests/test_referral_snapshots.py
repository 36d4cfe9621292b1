"""What the needs & referrals screen looks like (pytest-textual-snapshot)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from cm_tui.services import referrals
from cm_tui.store.access import Viewer
from cm_tui.store.db import open_store
from cm_tui.store.models import Resource, User
from cm_tui.store.types import freeze_clock
from tests.engine import db_url
from tests.snapshot_app import NOW
from tests.test_referral_ui import app_for, open_referrals, screened_store


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    freeze_clock(NOW)
    yield
    freeze_clock(None)


def test_referrals_screen_160x50(snap_compare: Any, tmp_path: Path) -> None:
    db = tmp_path / "cm.db"
    mei, need_id = screened_store(db)
    store = open_store(db_url(db))
    with store.read() as s:
        ann = Viewer.of(s.exec(select(User).where(User.username == "ann")).one())
        pantry = s.exec(select(Resource).where(Resource.name == "Apple Street Food Pantry")).one()
    assert pantry.id is not None
    sent = referrals.send_referral(
        store, ann, need_id, pantry.id, method="phone", note="Spoke w/ Jo"
    )
    referrals.update_referral(store, ann, sent.referral_id, "accepted")
    referrals.add_need(store, ann, mei, "utilities", "[bold]shut-off[/bold] notice")
    store.close()

    async def opened(pilot: Any) -> None:
        await open_referrals(pilot, pilot.app, mei)

    assert snap_compare(app_for(db), terminal_size=(160, 50), run_before=opened)
