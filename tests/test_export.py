"""`export TABLE`: columns from the models, streamed windows, role scope, audit, 0600 files."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from cm_tui.services.export import (
    TABLES,
    ExportError,
    canonical_table,
    columns_of,
    export_table,
)
from cm_tui.services.interchange import InterchangeError, open_private
from cm_tui.store.db import Store
from cm_tui.store.models import (
    AuditEvent,
    Contact,
    ContactAddendum,
    Need,
    Referral,
    Resource,
    Screening,
    ScreeningAnswer,
    UtilizationEvent,
)
from tests.factories import add_client, add_contact, add_followup, add_need, add_user

T0 = datetime(2026, 10, 5, 16, 0, tzinfo=UTC)


def rows_of(store: Store, table: str, fmt: str = "csv", **kw: object) -> list[dict[str, str]]:
    buf = io.StringIO()
    export_table(store, table, buf, fmt=fmt, **kw)  # type: ignore[arg-type]
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(buf.getvalue())))
    return [json.loads(line) for line in buf.getvalue().splitlines()]


@pytest.fixture
def org(any_store: Store) -> dict[str, object]:
    """Two care managers, a CHW with one of the clients, and history for both clients."""
    ann = add_user(any_store, "ann")
    bob = add_user(any_store, "bob")
    cara = add_user(any_store, "cara", role="chw")
    sue = add_user(any_store, "sue", role="supervisor")
    a = add_client(any_store, "Ana", "Zapata", ann, mrn="M1", chw_id=cara.id)
    b = add_client(any_store, "Ben", "Young", bob, mrn="M2")
    ca = add_contact(any_store, a, T0, ann, note="Spoke with pt", duration_min=12)
    add_contact(any_store, b, T0 + timedelta(hours=1), bob, outcome="no_answer")
    add_followup(any_store, a, T0 + timedelta(days=3), ann, title="Call back")
    add_followup(any_store, b, T0 + timedelta(days=3), bob, title="Check in")
    need_a = add_need(any_store, a, "food")
    add_need(any_store, b, "housing")
    with any_store.write() as s:
        s.add(ContactAddendum(contact_id=ca, user_id=ann.id, text="Correction: 15 min"))
        res = Resource(name="Food Bank", domains=["food"])
        s.add(res)
        s.flush()
        s.add(Referral(need_id=need_a, resource_id=res.id, status="sent", sent_at=T0))
        scr = Screening(
            client_id=a,
            user_id=cara.id,
            script_id="hunger-vital-sign",
            script_version="1.0",
            status="completed",
            started_at=T0,
            completed_at=T0,
            opt_out_acknowledged=True,
            result_json={"positive_domains": ["food"], "declined_items": ["food_ran_out"]},
        )
        s.add(scr)
        s.flush()
        s.add(ScreeningAnswer(screening_id=scr.id, item_id="food_worry",
                              option_ids=["often_true"], answered_at=T0))  # fmt: skip
        s.add(ScreeningAnswer(screening_id=scr.id, item_id="food_ran_out", declined=True,
                              answered_at=T0 + timedelta(seconds=30)))  # fmt: skip
        s.add(UtilizationEvent(client_id=b, kind="ed_visit", occurred_at=T0, facility="St Mary"))
    return {"ann": ann, "bob": bob, "cara": cara, "sue": sue, "a": a, "b": b}


def test_table_names_and_aliases() -> None:
    assert canonical_table("followups") == "follow-ups"
    assert canonical_table("Follow_Ups") == "follow-ups"
    assert canonical_table("events") == "utilization-events"
    with pytest.raises(ExportError, match="no table 'users' to export; choose one of: clients"):
        canonical_table("users")


def test_columns_come_from_the_models() -> None:
    contact_columns = [c.name for c in Contact.__table__.columns]  # type: ignore[attr-defined]
    assert columns_of("contacts") == [
        *contact_columns[:2],
        "client_mrn",
        *contact_columns[2:],
        "addenda",
    ]
    need_columns = [c.name for c in Need.__table__.columns]  # type: ignore[attr-defined]
    assert set(columns_of("needs")) == {*need_columns, "client_mrn"}
    assert columns_of("audit") == [c.name for c in AuditEvent.__table__.columns]  # type: ignore[attr-defined]
    assert "care_manager" in columns_of("clients") and "id" not in columns_of("clients")


def test_every_table_exports_in_both_formats(any_store: Store, org: dict[str, object]) -> None:
    for table in TABLES:
        csv_rows = rows_of(any_store, table)
        json_rows = rows_of(any_store, table, "jsonl")
        # the audit trail grows by one event per export
        assert len(csv_rows) + (table == "audit") == len(json_rows)
        if csv_rows:
            assert list(csv_rows[0]) == columns_of(table)
            assert list(json_rows[0]) == columns_of(table)


def test_rows_carry_values_and_links(any_store: Store, org: dict[str, object]) -> None:
    contacts = rows_of(any_store, "contacts", "jsonl")
    assert [c["client_mrn"] for c in contacts] == ["M1", "M2"]
    assert contacts[0]["occurred_at"] == "2026-10-05T16:00:00+00:00"
    assert contacts[0]["duration_min"] == 12
    assert [a["text"] for a in contacts[0]["addenda"]] == ["Correction: 15 min"]
    assert contacts[1]["addenda"] == []
    csv_contacts = rows_of(any_store, "contacts")
    assert csv_contacts[1]["duration_min"] == ""  # NULL
    assert json.loads(csv_contacts[0]["addenda"])[0]["text"] == "Correction: 15 min"

    (screening,) = rows_of(any_store, "screenings", "jsonl")
    assert screening["declined_items"] == ["food_ran_out"]
    assert [(a["item_id"], a["option_ids"], a["declined"]) for a in screening["answers"]] == [
        ("food_worry", ["often_true"], False),
        ("food_ran_out", None, True),
    ]
    assert screening["result_json"]["positive_domains"] == ["food"]
    assert rows_of(any_store, "screenings")[0]["declined_items"] == '["food_ran_out"]'

    (referral,) = rows_of(any_store, "referrals", "jsonl")
    assert referral["client_mrn"] == "M1" and referral["resource_name"] == "Food Bank"
    assert rows_of(any_store, "utilization-events")[0]["client_mrn"] == "M2"


def test_small_windows_stream_every_row_in_order(any_store: Store) -> None:
    ann = add_user(any_store, "ann")
    ids = [add_client(any_store, f"G{i}", f"F{i}", ann, mrn=f"M{i:02d}") for i in range(7)]
    for cid in ids:
        add_contact(any_store, cid, T0, ann)
    buf = io.StringIO()
    result = export_table(any_store, "contacts", buf, fmt="jsonl", window=3)
    assert result.rows == 7
    got = [json.loads(line)["client_id"] for line in buf.getvalue().splitlines()]
    assert got == ids


def test_a_chw_exports_only_their_clients(any_store: Store, org: dict[str, object]) -> None:
    cara = org["cara"]
    for table in ("clients", "contacts", "screenings", "needs", "referrals", "follow-ups"):
        rows = rows_of(any_store, table, viewer=cara)
        mrns = {r.get("client_mrn", r.get("mrn")) for r in rows}
        assert mrns == {"M1"}, table
    assert rows_of(any_store, "utilization-events", viewer=cara) == []
    # care managers may open any record (every view is audited), supervisors too
    assert len(rows_of(any_store, "clients", viewer=org["ann"])) == 2
    assert len(rows_of(any_store, "clients", viewer=org["sue"])) == 2


def test_audit_trail_export_is_for_supervisors(any_store: Store, org: dict[str, object]) -> None:
    with pytest.raises(ExportError, match="Only supervisors and admins"):
        export_table(any_store, "audit", io.StringIO(), viewer=org["ann"])
    rows_of(any_store, "clients")
    (event,) = rows_of(any_store, "audit", viewer=org["sue"])
    assert event["action"] == "export" and event["entity"] == "clients"


def test_every_export_is_audited(any_store: Store, org: dict[str, object]) -> None:
    rows_of(any_store, "contacts", viewer=org["cara"])
    rows_of(any_store, "clients", actor="os:tester")
    with any_store.read() as s:
        events = list(
            s.exec(
                select(AuditEvent).where(AuditEvent.action == "export").order_by(col(AuditEvent.id))
            ).all()
        )
    first, second = events[-2:]
    cara = org["cara"]
    assert first.user_id == cara.id and first.entity == "contacts"  # type: ignore[attr-defined]
    assert first.detail == ("contacts as csv to stdout: 1 rows; scope: records open to cara (chw)")
    assert second.user_id is None and second.actor == "os:tester"
    assert second.detail == "clients as csv to stdout: 2 rows; scope: all records"


def test_an_interrupted_export_is_still_audited(any_store: Store, org: dict[str, object]) -> None:
    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            if "M2" in text:
                raise OSError("disk full")
            return super().write(text)

    with pytest.raises(OSError):
        export_table(any_store, "clients", Broken())
    with any_store.read() as s:
        event = s.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()
    assert event is not None and event.action == "export"
    assert event.detail == (
        "clients as csv to stdout: 1 rows (stopped before the end); scope: all records"
    )


def test_export_files_are_0600(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        fresh = tmp_path / "fresh.csv"
        with open_private(fresh) as fh:
            fh.write("x")
        loose = tmp_path / "loose.csv"
        loose.write_text("old contents")
        loose.chmod(0o666)
        with open_private(loose) as fh:
            fh.write("new")
    finally:
        os.umask(old)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    assert stat.S_IMODE(loose.stat().st_mode) == 0o600
    assert loose.read_text() == "new"
    with pytest.raises(InterchangeError, match="is a folder"):
        open_private(tmp_path)
