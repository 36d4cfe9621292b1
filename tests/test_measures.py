"""Programme measures against figures computed by hand on a small fixture (October 2026, UTC)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from cm_tui.services.measures import (
    ccm_clients,
    parse_period,
    program_report,
    report_lines,
    report_rows,
)
from cm_tui.store.db import Store
from cm_tui.store.models import ProgramEnrollment, Screening, ScreeningAnswer, UtilizationEvent
from tests.factories import add_client, add_contact, add_followup, add_need, add_user

OCT = parse_period("2026-10", tz=UTC)


def at(day: int, hour: int = 12, month: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def org(any_store: Store) -> dict[str, Any]:
    s = any_store
    ann = add_user(s, "ann", display_name="Ann Lee")
    bob = add_user(s, "bob", display_name="Bob Ortiz")
    cara = add_user(s, "cara", role="chw", display_name="Cara Diaz")
    jan = date(2026, 1, 1)
    # On the panel: A, B, C (no enrolment rows, active), E (enrolment ending 10 Oct).
    # Not on it: D (discharged), F (enrolment starts in November).
    a = add_client(s, "Ana", "A", ann, mrn="A", program="CCM", consent_on=date(2026, 9, 1),
                   enrolled_on=jan, chw_id=cara.id)  # fmt: skip
    b = add_client(s, "Ben", "B", ann, mrn="B", program="TCM", enrolled_on=jan)
    c = add_client(s, "Cy", "C", bob, mrn="C", program="CCM", consent_on=date(2026, 11, 15))
    add_client(s, "Di", "D", bob, mrn="D", status="discharged")
    e = add_client(s, "Ed", "E", bob, mrn="E", status="discharged")
    f = add_client(s, "Flo", "F", bob, mrn="F")
    with s.write() as w:
        w.add(ProgramEnrollment(client_id=e, program="CCM", start_on=jan,
                                end_on=date(2026, 10, 10)))  # fmt: skip
        w.add(ProgramEnrollment(client_id=f, program="CCM", start_on=date(2026, 11, 1)))

    def contact(cid: int, when: datetime, who: Any, **kw: Any) -> None:
        add_contact(s, cid, when, who, **kw)

    contact(a, at(2), ann, outcome="reached", duration_min=15)
    contact(a, at(3), ann, outcome="left_message", duration_min=2)
    contact(a, at(4), ann, party="pcp", outcome="reached", duration_min=5)
    contact(b, at(5), ann, party="caregiver", outcome="reached", duration_min=10)
    contact(b, at(6), ann, direction="inbound", outcome="reached", duration_min=20)
    contact(c, at(7), bob, outcome="no_answer")
    contact(c, at(8), bob, outcome="reached", duration_min=70)
    contact(e, at(9), bob, outcome="reached", duration_min=5)
    contact(a, at(10), cara, method="in_person", outcome="reached", duration_min=3)
    contact(a, at(30, 23, month=9, minute=59), ann, duration_min=30)  # September
    contact(a, at(1, 0, month=11), ann, duration_min=30)  # November (end is exclusive)

    def followup(cid: int, due: datetime, who: Any, status: str, done: datetime | None) -> None:
        add_followup(s, cid, due, who, status=status, completed_at=done)

    followup(a, at(10), ann, "done", at(10, 9))  # on time
    followup(b, at(12), ann, "done", at(13))  # late
    followup(c, at(20), bob, "open", None)  # not done
    followup(c, at(21), bob, "cancelled", None)
    followup(a, at(2, month=11), ann, "open", None)  # November
    followup(e, at(31, 23), bob, "done", at(31, 23))  # exactly at the due time: on time

    def screening(cid: int, script: str, status: str, when: datetime, declined: int) -> None:
        with s.write() as w:
            done = None if status == "in_progress" else when
            scr = Screening(client_id=cid, script_id=script, script_version="1.0", status=status,
                            started_at=when, completed_at=done)  # fmt: skip
            w.add(scr)
            w.flush()
            assert scr.id is not None
            for i in range(declined):
                w.add(ScreeningAnswer(screening_id=scr.id, item_id=f"i{i}", declined=True,
                                      answered_at=when))  # fmt: skip
            w.add(ScreeningAnswer(screening_id=scr.id, item_id="answered", option_ids=["x"],
                                  answered_at=when))  # fmt: skip

    screening(a, "ahc-hrsn", "completed", at(3), declined=2)
    screening(b, "phq-2", "declined", at(4), declined=0)
    screening(c, "phq-9", "in_progress", at(5), declined=1)
    screening(e, "ahc-hrsn", "completed", at(29, month=9), declined=1)  # September

    def need(cid: int, domain: str, opened: datetime, closed: datetime | None = None) -> None:
        nid = add_need(s, cid, domain, status="resolved" if closed else "identified")
        with s.write() as w:
            from cm_tui.store.models import Need

            row = w.get(Need, nid)
            assert row is not None
            row.opened_at, row.closed_at = opened, closed

    need(a, "food", at(3))
    need(a, "housing", at(1, month=9), at(20))
    need(b, "food", at(5), at(25))
    need(c, "transportation", at(1, month=8))
    need(e, "safety", at(3, month=11))

    with s.write() as w:
        for cid, kind, when in (
            (a, "ed_visit", at(15)),
            (a, "ed_visit", at(20)),
            (c, "admission", at(1, 0)),  # the first instant of the month counts
            (c, "readmission", at(25)),
            (e, "admission", at(30, month=9)),
            (b, "ed_visit", at(1, 0, month=11)),
        ):
            w.add(UtilizationEvent(client_id=cid, kind=kind, occurred_at=when))
    return {"ann": ann, "bob": bob, "cara": cara, "a": a, "b": b, "c": c, "e": e}


def test_periods() -> None:
    assert (OCT.first_day, OCT.last_day) == (date(2026, 10, 1), date(2026, 10, 31))
    assert (OCT.start, OCT.end) == (at(1, 0), at(1, 0, month=11))
    pacific = parse_period("2026-10", tz=timezone(-timedelta(hours=7)))
    assert pacific.start == at(1, 7)
    assert parse_period("2026-2", tz=UTC).last_day == date(2026, 2, 28)
    for bad in ("2026-13", "Oct 2026", "2026", ""):
        with pytest.raises(ValueError, match="give a month as YYYY-MM"):
            parse_period(bad)


def test_team_figures(any_store: Store, org: dict[str, Any]) -> None:
    r = program_report(any_store, OCT)
    assert r.clients == 4
    c = r.contacts
    assert (c.contacts, c.outreach, c.reached) == (9, 7, 5)
    assert c.reach_rate == pytest.approx(5 / 7)
    assert (c.clients_contacted, c.clients_reached, c.minutes) == (4, 4, 130)
    assert r.contacts_per_client == pytest.approx(2.25)


def test_per_person(any_store: Store, org: dict[str, Any]) -> None:
    r = program_report(any_store, OCT)
    people = {p.username: p for p in r.staff}
    assert list(people) == ["ann", "bob", "cara"]
    ann, bob, cara = people["ann"], people["bob"], people["cara"]
    assert (ann.contacts.contacts, ann.contacts.outreach, ann.contacts.reached) == (5, 3, 2)
    assert (ann.contacts.clients_contacted, ann.contacts.minutes) == (2, 52)
    assert (bob.contacts.contacts, bob.contacts.outreach, bob.contacts.reached) == (3, 3, 2)
    assert bob.contacts.minutes == 75
    assert (cara.contacts.contacts, cara.contacts.reach_rate, cara.contacts.minutes) == (1, 1.0, 3)
    assert (ann.followups.due, ann.followups.on_time, ann.followups.late) == (2, 1, 1)
    assert (bob.followups.due, bob.followups.on_time, bob.followups.cancelled) == (2, 1, 1)
    assert cara.followups.due == 0 and cara.followups.on_time_rate is None


def test_ccm_minutes(any_store: Store, org: dict[str, Any]) -> None:
    r = program_report(any_store, OCT)
    m = r.ccm
    assert (m.clients_with_time, m.minutes, m.at_20, m.at_60) == (4, 130, 3, 1)
    # A is in CCM with consent; C's consent came after October; B is in TCM
    assert (m.at_20_ccm_consented, m.at_60_ccm_consented) == (1, 0)
    listed = [(x.mrn, x.minutes, x.level, x.ccm_consented) for x in ccm_clients(any_store, OCT)]
    assert listed == [("C", 70, 60, False), ("B", 30, 20, False), ("A", 25, 20, True)]
    windowed = [x.mrn for x in ccm_clients(any_store, OCT, window=1)]
    assert windowed == ["C", "B", "A"]
    assert [x.mrn for x in ccm_clients(any_store, OCT, at_least=60)] == ["C"]


def test_followup_timeliness(any_store: Store, org: dict[str, Any]) -> None:
    f = program_report(any_store, OCT).followups
    assert (f.due, f.on_time, f.late, f.not_done, f.cancelled) == (4, 2, 1, 1, 1)
    assert f.on_time_rate == 0.5


def test_screenings(any_store: Store, org: dict[str, Any]) -> None:
    r = program_report(any_store, OCT)
    got = {
        s.script_id: (
            s.completed,
            s.declined,
            s.in_progress,
            s.items_declined,
            s.with_declined_items,
        )
        for s in r.screenings
    }
    assert got == {
        "ahc-hrsn": (1, 0, 0, 2, 1),
        "phq-2": (0, 1, 0, 0, 0),
        "phq-9": (0, 0, 1, 1, 1),
    }
    t = r.screenings_total
    assert (t.completed, t.declined, t.in_progress, t.items_declined) == (1, 1, 1, 3)


def test_needs(any_store: Store, org: dict[str, Any]) -> None:
    r = program_report(any_store, OCT)
    got = {n.domain: (n.identified, n.resolved, n.open_at_end) for n in r.needs}
    assert got == {"food": (2, 1, 1), "housing": (0, 1, 0), "transportation": (0, 0, 1)}
    t = r.needs_total
    assert (t.identified, t.resolved, t.open_at_end) == (2, 2, 2)


def test_utilization_per_1000(any_store: Store, org: dict[str, Any]) -> None:
    r = program_report(any_store, OCT)
    u = r.utilization
    assert (u.ed_visits, u.admissions, u.readmissions) == (2, 1, 1)
    assert r.per_1000(u.ed_visits) == 500.0 and r.per_1000(u.admissions) == 250.0


def test_chw_report_covers_their_clients(any_store: Store, org: dict[str, Any]) -> None:
    r = program_report(any_store, OCT, viewer=org["cara"])
    assert r.clients == 1 and r.scope == "clients of Cara Diaz"
    assert (r.contacts.contacts, r.contacts.minutes) == (4, 25)
    assert r.utilization.ed_visits == 2 and r.per_1000(2) == 2000.0
    assert [x.mrn for x in ccm_clients(any_store, OCT, viewer=org["cara"])] == ["A"]


def test_empty_month(any_store: Store, org: dict[str, Any]) -> None:
    r = program_report(any_store, parse_period("2025-01", tz=UTC))
    assert r.contacts.contacts == 0 and r.contacts.reach_rate is None
    assert r.clients == 1  # C (no date, active); A and B enrolled in 2026, E and F by enrolment
    lines = report_lines(r)
    assert any("reach rate —" in line for line in lines)


def test_text_and_csv_output(any_store: Store, org: dict[str, Any]) -> None:
    r = program_report(any_store, OCT)
    text = "\n".join(report_lines(r))
    assert "Programme report for 2026-10 (01 Oct – 31 Oct 2026), the whole organisation" in text
    assert "reached 5 (reach rate 71%)" in text
    assert "at 20 minutes or more              3   (1 in CCM with consent)" in text
    assert "due 4: done on time 2 (50%), late 1, not done 1; cancelled 1" in text

    buf = io.StringIO()
    csv.writer(buf).writerows(report_rows(r, ccm_clients(any_store, OCT)))
    rows = list(csv.reader(io.StringIO(buf.getvalue())))
    assert rows[0] == ["section", "subject", "measure", "value"]
    table = {(s, subj, m): v for s, subj, m, v in rows[1:]}
    assert table[("panel", "", "clients")] == "4"
    assert table[("contacts", "team", "reach_rate")] == "0.7143"
    assert table[("person", "bob", "minutes")] == "75"
    assert table[("utilization", "team", "ed_visits_per_1000")] == "500.00"
    assert table[("follow_ups", "team", "on_time_rate")] == "0.5000"
    assert table[("ccm_client", "C", "level")] == "60"
    assert table[("ccm_client", "A", "ccm_consented")] == "yes"
