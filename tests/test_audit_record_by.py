"""`audit.record_by`, the services' one audit call, writes the very event `record` writes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cm_tui.store import audit
from cm_tui.store.access import Viewer
from cm_tui.store.db import Store
from cm_tui.store.models import AuditEvent
from cm_tui.store.types import freeze_clock
from tests.factories import add_user


def _fields(e: AuditEvent) -> tuple[Any, ...]:
    return (
        e.at,
        e.user_id,
        e.actor,
        e.action,
        e.entity,
        e.entity_id,
        e.detail,
        e.prev_hash,
        e.hash,
    )


@pytest.fixture
def frozen() -> Any:
    freeze_clock(datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC))
    yield
    freeze_clock(None)


@pytest.mark.parametrize("signed_in", [True, False], ids=["viewer", "no-viewer"])
@pytest.mark.parametrize(
    ("entity_id", "detail"),
    [(7, "client 3: care plan — édité"), (None, None)],
    ids=["id-and-detail", "neither"],
)
def test_record_by_is_byte_identical_to_record(
    any_store: Store, frozen: None, signed_in: bool, entity_id: int | None, detail: str | None
) -> None:
    viewer: Viewer | None = add_user(any_store, "ana") if signed_in else None
    with any_store.write() as s:
        audit.record(s, action="view", entity="client", entity_id=1)  # a chain to link to
        nested = s.begin_nested()
        by = _fields(audit.record_by(s, viewer, "update", "goal", entity_id, detail))
        nested.rollback()
        plain = audit.record(
            s,
            action="update",
            user_id=viewer.id if viewer is not None else None,
            entity="goal",
            entity_id=entity_id,
            detail=detail,
        )
        assert by == _fields(plain)
    assert by[1] == (viewer.id if viewer is not None else None)
    assert (by[2] is None) == signed_in  # no viewer: the OS user is the actor
    with any_store.read() as s:
        assert audit.verify(s) == (2, None)
