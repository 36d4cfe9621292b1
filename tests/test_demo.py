"""The synthetic demo organisation: shape, consistency, vocabularies, determinism."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlmodel import col

from cm_tui.services import demo
from cm_tui.services.auth import authenticate, check_password, sign_in_without_password
from cm_tui.store import audit, vocab
from cm_tui.store.db import Store, open_store
from cm_tui.store.models import (
    Client,
    Contact,
    FollowUp,
    Need,
    ProgramEnrollment,
    Referral,
    Resource,
    Screening,
    ScreeningAnswer,
    User,
    UtilizationEvent,
)
from tests.engine import db_url

NOW = datetime(2026, 11, 25, 18, 30, tzinfo=UTC)
CLIENTS = 200


def _count(store: Store, model: Any) -> int:
    with store.read() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.fixture
def org(any_store: Store) -> Iterator[tuple[Store, demo.DemoSummary]]:
    summary = demo.generate_demo(any_store, clients=CLIENTS, seed=7, now=NOW)
    yield any_store, summary


def test_counts_match_the_summary_and_the_brief(org: tuple[Store, demo.DemoSummary]) -> None:
    store, s = org
    assert s.clients == _count(store, Client) == CLIENTS
    assert s.contacts == _count(store, Contact)
    assert s.followups == _count(store, FollowUp)
    assert s.screenings == _count(store, Screening)
    assert s.needs == _count(store, Need)
    assert s.referrals == _count(store, Referral)
    assert s.resources == _count(store, Resource) >= 40
    assert s.utilization_events == _count(store, UtilizationEvent) > 0
    assert s.users == _count(store, User)
    assert 5 <= s.users <= 20
    assert _count(store, ProgramEnrollment) == CLIENTS
    # "about N per client"
    assert 0.8 * 10 * CLIENTS <= s.contacts <= 1.2 * 10 * CLIENTS
    assert 0.7 * 3 * CLIENTS <= s.followups <= 1.3 * 3 * CLIENTS
    assert s.referrals > 0 and s.needs > 0 and s.screenings > 0
    roles = dict(s.usernames)
    assert roles[demo.DEMO_USERNAME] == "care_manager"
    assert roles["supervisor"] == "supervisor"
    assert roles["admin"] == "admin"
    assert {"care_manager", "chw"} <= set(roles.values())
    assert s.org_name and s.seconds > 0


def test_marked_as_demo(org: tuple[Store, demo.DemoSummary]) -> None:
    store, s = org
    assert store.get_meta("demo") == "1"
    assert store.is_demo
    assert store.get_meta("org_name") == s.org_name


def test_refuses_a_database_that_has_clients(org: tuple[Store, demo.DemoSummary]) -> None:
    store, _ = org
    with pytest.raises(ValueError, match="empty database"):
        demo.generate_demo(store, clients=5, seed=1, now=NOW)
    assert _count(store, Client) == CLIENTS


def test_refuses_a_clashing_username(sqlite_store: Store) -> None:
    with sqlite_store.write() as session:
        session.add(User(username="admin", display_name="Real Admin", role="admin"))
    with pytest.raises(ValueError, match="admin"):
        demo.generate_demo(sqlite_store, clients=5, seed=1, now=NOW)


def test_demo_password_and_sign_in(org: tuple[Store, demo.DemoSummary]) -> None:
    store, _ = org
    with store.read() as session:
        users = session.execute(select(User)).scalars().all()
    assert all(u.active and check_password(u.password_hash, demo.DEMO_PASSWORD) for u in users)
    assert len({u.password_hash for u in users}) == 1  # hashed once
    me = authenticate(store, demo.DEMO_USERNAME, demo.DEMO_PASSWORD, sleep=False)
    assert me.display_name == demo.DEMO_DISPLAY_NAME and me.role == "care_manager"
    assert sign_in_without_password(store, "supervisor").role == "supervisor"


def test_denormalised_last_contact_columns(org: tuple[Store, demo.DemoSummary]) -> None:
    store, _ = org
    with store.read() as session:
        last = dict(
            session.execute(
                select(Contact.client_id, func.max(Contact.occurred_at)).group_by(Contact.client_id)
            ).all()
        )
        reached = dict(
            session.execute(
                select(Contact.client_id, func.max(Contact.occurred_at))
                .where(
                    Contact.outcome == "reached", col(Contact.party).in_(["client", "caregiver"])
                )
                .group_by(Contact.client_id)
            ).all()
        )
        clients = session.execute(
            select(Client.id, Client.last_contact_at, Client.last_reached_at)
        ).all()
    assert len(last) > 0.9 * CLIENTS
    for cid, last_contact_at, last_reached_at in clients:
        assert last_contact_at == _aware(last.get(cid)), cid
        assert last_reached_at == _aware(reached.get(cid)), cid
        assert last_contact_at is None or last_contact_at < NOW


def _aware(value: Any) -> datetime | None:
    """max() over a UTCDateTime column comes back as text (SQLite) or timestamptz."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def test_history_is_believable(org: tuple[Store, demo.DemoSummary]) -> None:
    store, _ = org
    with store.read() as session:
        contacts = session.execute(select(Contact)).scalars().all()
        followups = session.execute(select(FollowUp)).scalars().all()
        answers = session.execute(select(ScreeningAnswer)).scalars().all()
        screenings = session.execute(select(Screening)).scalars().all()
        clients = session.execute(select(Client)).scalars().all()
    # about half of the outbound calls to the person reach them
    calls = [
        c
        for c in contacts
        if c.method == "phone" and c.direction == "outbound" and c.party == "client"
    ]
    reach = sum(c.outcome == "reached" for c in calls) / len(calls)
    assert 0.4 < reach < 0.7
    assert {"pcp", "caregiver", "community_org"} <= {c.party for c in contacts}
    assert all(c.note.strip() for c in contacts)
    assert len({c.note for c in contacts}) > 300
    assert all(NOW - timedelta(days=400) < c.occurred_at < NOW for c in contacts)
    # follow-ups: mostly done, some open in the future, some overdue, some callbacks
    states = Counter(f.status for f in followups)
    assert states["done"] > states["open"] > 0 and states["cancelled"] > 0
    overdue = [f for f in followups if f.status == "open" and f.due_at < NOW]
    upcoming = [f for f in followups if f.status == "open" and f.due_at >= NOW]
    assert overdue and len(upcoming) > len(overdue)
    assert any(f.recurrence for f in followups)
    assert any(f.kind == "callback" and f.status == "open" for f in followups)
    by_id = {c.id: c for c in contacts}
    for f in followups:
        if f.status == "done":
            assert f.completed_at is not None
        if f.completed_contact_id is not None:
            assert by_id[f.completed_contact_id].client_id == f.client_id
    # screenings: some items declined, statuses mixed, results from the engine
    assert any(a.declined for a in answers)
    assert all(a.option_ids for a in answers if not a.declined)
    assert {"completed", "in_progress"} <= {s.status for s in screenings}
    completed = [s for s in screenings if s.status == "completed"]
    assert all(s.result_json and s.result_json["script_id"] == s.script_id for s in completed)
    assert all(s.completed_at is None for s in screenings if s.status == "in_progress")
    # clients
    assert len({c.mrn for c in clients}) == CLIENTS
    assert all(c.mrn and c.mrn.startswith("MRN") and len(c.mrn) == 10 for c in clients)
    languages = Counter(c.language for c in clients)
    assert languages.most_common(1)[0][0] == "English" and languages["Spanish"] > 0
    assert Counter(c.preferred_contact for c in clients).most_common(1)[0][0] == "phone"
    ages = sorted((NOW.date() - c.dob).days // 365 for c in clients if c.dob)
    assert ages[len(ages) // 2] >= 55  # skewed older
    assert 5 <= len({c.pcp_practice for c in clients if c.pcp_practice}) <= 8
    assert sum(bool(c.what_matters) for c in clients) > CLIENTS * 0.7
    assert Counter(c.status for c in clients).most_common(1)[0][0] == "active"
    caseloads = Counter(c.care_manager_id for c in clients)
    assert len(caseloads) >= 2 and max(caseloads.values()) > min(caseloads.values())


CODED: list[tuple[Any, str, tuple[str, ...]]] = [
    (User, "role", vocab.ROLES),
    (Client, "preferred_contact", vocab.PREFERRED_CONTACT),
    (Client, "risk_tier", vocab.RISK_TIERS),
    (Client, "status", vocab.CLIENT_STATUSES),
    (Client, "program", vocab.PROGRAMS),
    (Contact, "method", vocab.CONTACT_METHODS),
    (Contact, "direction", vocab.DIRECTIONS),
    (Contact, "party", vocab.PARTIES),
    (Contact, "outcome", vocab.OUTCOMES),
    (Screening, "status", vocab.SCREENING_STATUSES),
    (Need, "domain", vocab.NEED_DOMAINS),
    (Need, "status", vocab.NEED_STATUSES),
    (Referral, "status", vocab.REFERRAL_STATUSES),
    (UtilizationEvent, "kind", vocab.UTILIZATION_KINDS),
    (UtilizationEvent, "source", vocab.UTILIZATION_SOURCES),
    (FollowUp, "kind", vocab.FOLLOWUP_KINDS),
    (FollowUp, "priority", vocab.PRIORITIES),
    (FollowUp, "status", vocab.FOLLOWUP_STATUSES),
    (FollowUp, "source", vocab.FOLLOWUP_SOURCES),
    (ProgramEnrollment, "program", vocab.PROGRAMS),
]


def test_coded_values_are_in_the_vocabularies(org: tuple[Store, demo.DemoSummary]) -> None:
    store, _ = org
    with store.read() as session:
        for model, column, allowed in CODED:
            found = set(session.execute(select(getattr(model, column)).distinct()).scalars())
            assert found <= set(allowed), (model.__tablename__, column, found - set(allowed))
            assert found, (model.__tablename__, column)
        for domains in session.execute(select(Resource.domains)).scalars():
            assert domains and set(domains) <= set(vocab.NEED_DOMAINS)
        covered = {d for ds in session.execute(select(Resource.domains)).scalars() for d in ds}
    assert {
        "housing",
        "food",
        "transportation",
        "utilities",
        "safety",
        "financial",
        "mental_health",
        "benefits",
    } <= covered


def test_integrity_sequences_and_audit(org: tuple[Store, demo.DemoSummary]) -> None:
    store, s = org
    if store.is_sqlite:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    # ids were assigned by the generator: new rows must still get fresh ids (PostgreSQL
    # sequences moved past them)
    with store.write() as session:
        client = Client(given_name="New", family_name="Person")
        session.add(client)
        session.flush()
        assert client.id == CLIENTS + 1
        contact = Contact(client_id=client.id, note="first call")
        session.add(contact)
        session.flush()
        assert contact.id == s.contacts + 1
    with store.read() as session:
        checked, problem = audit.verify(session)
    assert checked >= 1 and problem is None


def test_progress_is_reported(sqlite_store: Store) -> None:
    calls: list[tuple[str, int, int]] = []
    demo.generate_demo(
        sqlite_store,
        clients=4500,
        seed=3,
        now=NOW,
        contacts_per_client=2,
        followups_per_client=1,
        progress=lambda stage, done, total: calls.append((stage, done, total)),
    )
    client_calls = [(d, t) for stage, d, t in calls if stage == "clients"]
    assert len(client_calls) >= 3  # per batch
    assert client_calls[-1] == (4500, 4500)
    assert [d for d, _ in client_calls] == sorted(d for d, _ in client_calls)
    assert calls[-1][0] == "finishing" and calls[-1][1] == calls[-1][2]


def _rows(store: Store, model: Any, order: Any) -> list[tuple[Any, ...]]:
    table = model.__table__
    with store.read() as session:
        return [tuple(r) for r in session.execute(select(table).order_by(*order)).all()]


SAMPLED: list[tuple[Any, tuple[str, ...]]] = [
    (User, ("id",)),
    (Client, ("id",)),
    (Contact, ("id",)),
    (FollowUp, ("id",)),
    (Screening, ("id",)),
    (ScreeningAnswer, ("screening_id", "item_id")),
    (Need, ("id",)),
    (Referral, ("id",)),
    (Resource, ("id",)),
]


def test_same_seed_same_rows_on_every_engine(
    org: tuple[Store, demo.DemoSummary], tmp_path: Path
) -> None:
    store, _ = org
    other = open_store(db_url(tmp_path / "again.db"))
    try:
        demo.generate_demo(other, clients=CLIENTS, seed=7, now=NOW)
        for model, keys in SAMPLED:
            order = [model.__table__.c[k] for k in keys]
            assert _rows(store, model, order) == _rows(other, model, order), model.__tablename__
        assert store.get_meta("org_name") == other.get_meta("org_name")
    finally:
        other.close()


def test_another_seed_differs(sqlite_store: Store, tmp_path: Path) -> None:
    demo.generate_demo(sqlite_store, clients=30, seed=1, now=NOW)
    other = open_store(db_url(tmp_path / "other.db"))
    try:
        demo.generate_demo(other, clients=30, seed=2, now=NOW)
        order = [Client.__table__.c.id]  # type: ignore[attr-defined]
        assert _rows(sqlite_store, Client, order) != _rows(other, Client, order)
    finally:
        other.close()


def test_zero_clients_makes_just_the_team(sqlite_store: Store) -> None:
    s = demo.generate_demo(sqlite_store, clients=0, seed=1, now=NOW)
    assert s.clients == s.contacts == 0 and s.users == 5
    assert sqlite_store.is_demo
    with sqlite_store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 5
