"""Manual ED visit / admission entry feeds the per-1,000 measures."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cm_tui.services.measures import parse_period, program_report
from cm_tui.services.utilization import UtilizationError, record_event
from cm_tui.store.db import Store
from tests.factories import add_client, add_user


def test_recorded_events_count_per_1000(any_store: Store) -> None:
    ann = add_user(any_store, "ann")
    cara = add_user(any_store, "cara", role="chw")
    a = add_client(any_store, "Ana", "Zapata", ann)
    add_client(any_store, "Ben", "Young", ann)
    when = datetime(2026, 10, 3, 14, 0, tzinfo=UTC)
    event = record_event(any_store, ann, a, "ed_visit", when, " St Mary ")
    assert event.facility == "St Mary" and event.source == "manual"
    report = program_report(any_store, parse_period("2026-10", tz=UTC))
    assert report.utilization.ed_visits == 1 and report.per_1000(1) == 500.0

    with pytest.raises(UtilizationError, match="not one of ED visit, admission, readmission"):
        record_event(any_store, ann, a, "picnic", when)
    with pytest.raises(UtilizationError, match="do not have access"):
        record_event(any_store, cara, a, "admission", when)  # not her client
    with pytest.raises(UtilizationError, match="time zone"):
        record_event(any_store, ann, a, "admission", datetime(2026, 10, 3))
