"""The counts the database keeps for the team view (migration 0007), on both engines.

Whatever happens to contacts, needs, clients and follow-ups (inserted, changed in
any counted column, deleted, in any order), ``contact_hours`` and ``person_counts``
equal what aggregating the rows themselves gives; and the team view's figures read
from them equal the figures counted from the contacts, in any zone (whole-hour,
half-hour, with a DST change inside the four weeks).
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dateutil import tz as dateutil_tz
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from cm_tui.store import followup_queries as fq
from cm_tui.store.db import Store
from cm_tui.store.models import Client, Contact, ContactHour, FollowUp, Need, PersonCounts
from cm_tui.store.vocab import OPEN_NEED_STATUSES
from tests.factories import add_client, add_contact, add_followup, add_need, add_user

NOW = datetime(2026, 11, 25, 15, 20, 7, 123456, tzinfo=UTC)
PARTIES = ("client", "caregiver", "provider", "other")
OUTCOMES = ("reached", "no_answer", "left_message")
NEED_STATUSES = (*OPEN_NEED_STATUSES, "resolved", "declined_help")
CLIENT_STATUSES = ("active", "paused", "discharged")
FOLLOWUP_STATUSES = ("open", "done", "cancelled")


def _hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _expected_hours(store: Store) -> dict[tuple[int, datetime], tuple[int, int, int, int]]:
    out: dict[tuple[int, datetime], list[int]] = {}
    with store.read() as s:
        for user_id, at, party, outcome, minutes in s.execute(
            select(
                Contact.user_id,
                Contact.occurred_at,
                Contact.party,
                Contact.outcome,
                Contact.duration_min,
            ).where(Contact.user_id.is_not(None))  # type: ignore[union-attr]
        ):
            into = out.setdefault((user_id, _hour(at)), [0, 0, 0, 0])
            with_person = party in fq.REACHED_PARTIES
            into[0] += 1
            into[1] += with_person
            into[2] += with_person and outcome == "reached"
            into[3] += minutes or 0
    return {k: (v[0], v[1], v[2], v[3]) for k, v in out.items()}


def _kept_hours(store: Store) -> dict[tuple[int, datetime], tuple[int, int, int, int]]:
    with store.read() as s:
        rows = s.execute(select(ContactHour)).scalars().all()
        return {
            (r.user_id, r.hour_at): (r.contacts, r.with_person, r.reached, r.minutes)
            for r in rows
            if (r.contacts, r.with_person, r.reached, r.minutes) != (0, 0, 0, 0)
        }


def _expected_counts(store: Store) -> dict[int, tuple[int, int, int, int]]:
    needs: Counter[int] = Counter()
    cm: Counter[int] = Counter()
    chw: Counter[int] = Counter()
    followups: Counter[int] = Counter()
    with store.read() as s:
        clients = {c.id: c for c in s.execute(select(Client)).scalars() if c.status == "active"}
        for c in clients.values():
            if c.care_manager_id is not None:
                cm[c.care_manager_id] += 1
            if c.chw_id is not None:
                chw[c.chw_id] += 1
        for n in s.execute(select(Need)).scalars():
            client = clients.get(n.client_id)
            if client is not None and n.status in OPEN_NEED_STATUSES:
                for who in {client.care_manager_id, client.chw_id} - {None}:
                    needs[who] += 1  # type: ignore[index]
        for f in s.execute(select(FollowUp)).scalars():
            if f.status == "open" and f.assignee_id is not None:
                followups[f.assignee_id] += 1
    people = set(needs) | set(cm) | set(chw) | set(followups)
    return {u: (needs[u], cm[u], chw[u], followups[u]) for u in people}


def _kept_counts(store: Store) -> dict[int, tuple[int, int, int, int]]:
    with store.read() as s:
        out = {}
        for r in s.execute(select(PersonCounts)).scalars():
            figures = (r.open_needs, r.cm_clients, r.chw_clients, r.open_followups)
            if figures != (0, 0, 0, 0):
                out[r.user_id] = figures
        return out


def _assert_kept(store: Store) -> None:
    assert _kept_hours(store) == _expected_hours(store)
    assert _kept_counts(store) == _expected_counts(store)


# ---------------------------------------------------------------- any change, any order

PEOPLE = 3
CLIENTS = 3

person = st.one_of(st.none(), st.integers(0, PEOPLE - 1))
moment = st.integers(0, 72 * 60).map(lambda m: NOW - timedelta(minutes=m, seconds=m % 7))
contact_fields = st.fixed_dictionaries(
    {
        "user": person,
        "at": moment,
        "party": st.sampled_from(PARTIES),
        "outcome": st.sampled_from(OUTCOMES),
        "duration_min": st.one_of(st.none(), st.integers(0, 90)),
    }
)
change = st.one_of(
    st.tuples(st.just("add contact"), st.integers(0, CLIENTS - 1), contact_fields),
    st.tuples(st.just("change contact"), st.integers(0, 50), contact_fields),
    st.tuples(st.just("delete contact"), st.integers(0, 50)),
    st.tuples(st.just("add need"), st.integers(0, CLIENTS - 1), st.sampled_from(NEED_STATUSES)),
    st.tuples(
        st.just("change need"),
        st.integers(0, 50),
        st.integers(0, CLIENTS - 1),
        st.sampled_from(NEED_STATUSES),
    ),
    st.tuples(st.just("delete need"), st.integers(0, 50)),
    st.tuples(
        st.just("change client"),
        st.integers(0, CLIENTS - 1),
        person,
        person,
        st.sampled_from(CLIENT_STATUSES),
    ),
    st.tuples(st.just("add and delete a client"), person, person),
    st.tuples(
        st.just("add follow-up"),
        st.integers(0, CLIENTS - 1),
        person,
        st.sampled_from(FOLLOWUP_STATUSES),
    ),
    st.tuples(
        st.just("change follow-up"), st.integers(0, 50), person, st.sampled_from(FOLLOWUP_STATUSES)
    ),
    st.tuples(st.just("delete follow-up"), st.integers(0, 50)),
)


def _nth(store: Store, model: Any, i: int) -> int | None:
    with store.read() as s:
        ids = s.execute(select(model.id).order_by(model.id)).scalars().all()
    return ids[i % len(ids)] if ids else None


def _apply(store: Store, org: dict[str, Any], step: tuple[Any, ...]) -> None:
    users, clients = org["users"], org["clients"]

    def uid(i: int | None) -> int | None:
        return None if i is None else users[i].id

    what = step[0]
    if what == "add contact":
        f = step[2]
        add_contact(
            store,
            clients[step[1]],
            f["at"],
            None if f["user"] is None else users[f["user"]],
            party=f["party"],
            outcome=f["outcome"],
            duration_min=f["duration_min"],
        )
        return
    if what == "add need":
        add_need(store, clients[step[1]], "food", status=step[2])
        return
    if what == "add follow-up":
        add_followup(
            store,
            clients[step[1]],
            NOW,
            None if step[2] is None else users[step[2]],
            status=step[3],
        )
        return
    if what == "add and delete a client":
        cid = add_client(store, "Bare", "Client", None, status="active")
        with store.write() as s:
            s.execute(
                update(Client)
                .where(Client.id == cid)  # type: ignore[arg-type]
                .values(care_manager_id=uid(step[1]), chw_id=uid(step[2]))
            )
        with store.write() as s:
            s.execute(delete(Client).where(Client.id == cid))  # type: ignore[arg-type]
        return
    if what == "change client":
        with store.write() as s:
            s.execute(
                update(Client)
                .where(Client.id == clients[step[1]])  # type: ignore[arg-type]
                .values(care_manager_id=uid(step[2]), chw_id=uid(step[3]), status=step[4])
            )
        return
    model = {"contact": Contact, "need": Need, "follow-up": FollowUp}[what.split(" ", 1)[1]]
    row = _nth(store, model, step[1])
    if row is None:
        return
    with store.write() as s:
        if what.startswith("delete"):
            s.execute(delete(model).where(model.id == row))
        elif model is Contact:
            f = step[2]
            s.execute(
                update(Contact)
                .where(Contact.id == row)  # type: ignore[arg-type]
                .values(
                    user_id=uid(f["user"]),
                    occurred_at=f["at"],
                    party=f["party"],
                    outcome=f["outcome"],
                    duration_min=f["duration_min"],
                )
            )
        elif model is Need:
            s.execute(
                update(Need)
                .where(Need.id == row)  # type: ignore[arg-type]
                .values(client_id=clients[step[2]], status=step[3])
            )
        else:
            s.execute(
                update(FollowUp)
                .where(FollowUp.id == row)  # type: ignore[arg-type]
                .values(assignee_id=uid(step[2]), status=step[3])
            )


@pytest.fixture
def org(any_store: Store) -> dict[str, Any]:
    users = [add_user(any_store, f"u{i}", role=("care_manager", "chw")[i % 2]) for i in range(3)]
    clients = [add_client(any_store, f"G{i}", f"F{i}", users[0]) for i in range(CLIENTS)]
    for i, client in enumerate(clients):  # something to count from the start
        add_need(any_store, client, "food")
        add_need(any_store, client, "housing", status=NEED_STATUSES[i])
        add_followup(any_store, client, NOW, users[i])
        add_contact(any_store, client, NOW - timedelta(minutes=50 * i), users[i])
    return {"store": any_store, "users": users, "clients": clients}


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(change, min_size=2, max_size=12))
def test_the_kept_counts_follow_every_change(
    org: dict[str, Any], steps: list[tuple[Any, ...]]
) -> None:
    """Each example goes on from the last one's rows: the counts must hold from any
    state, after every change."""
    store = org["store"]
    for step in steps:
        _apply(store, org, step)
        _assert_kept(store)


def test_a_client_s_needs_count_once_for_someone_who_is_both_cm_and_chw(
    org: dict[str, Any],
) -> None:
    store, (ann, bob, _) = org["store"], org["users"]
    rosa = org["clients"][0]  # ann is her care manager
    add_need(store, rosa, "transport", status="referred")
    add_need(store, rosa, "utilities", status="resolved")
    with store.read() as s:
        before = fq.open_needs_by_person(s)
    rosa_s = 3  # the fixture's two, both open, and the referral just added

    def chw(user: Any) -> dict[int, int]:
        with store.write() as s:
            s.execute(update(Client).where(Client.id == rosa).values(chw_id=user.id))  # type: ignore[arg-type]
        with store.read() as s:
            return fq.open_needs_by_person(s)

    assert chw(ann)[ann.id] == before[ann.id]  # her own CHW too: counted once
    now = chw(bob)
    assert (now[ann.id], now.get(bob.id, 0)) == (before[ann.id], before.get(bob.id, 0) + rosa_s)
    _assert_kept(store)


# ---------------------------------------------------------------- the figures, in any zone

ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe"]


@pytest.mark.parametrize("zone_name", ZONES)
def test_the_team_s_contact_figures_in_any_zone(any_store: Store, zone_name: str) -> None:
    """Contacts every 37 minutes (and one at the very moment of reading) over six
    weeks around a DST change: the week, the month, each day of the trend, counted
    from the kept hours and the parts of hours, equal the contacts counted one by one."""
    zone = dateutil_tz.gettz(zone_name)
    assert zone is not None
    now = datetime(2026, 11, 3, 17, 45, 30, 250000, tzinfo=UTC)  # after the US DST change
    ann = add_user(any_store, "ann")
    bob = add_user(any_store, "bob", role="chw")
    rosa = add_client(any_store, "Rosa", "Diaz", ann)
    made: list[tuple[int, datetime, str, str, int]] = []
    at = now - timedelta(days=42)
    i = 0
    while at <= now:
        who = (ann, bob)[i % 2]
        party, outcome, minutes = PARTIES[i % 4], OUTCOMES[i % 3], i % 20
        add_contact(any_store, rosa, at, who, party=party, outcome=outcome, duration_min=minutes)
        made.append((who.id, at, party, outcome, minutes))
        at += timedelta(minutes=37)
        i += 1
    add_contact(any_store, rosa, now, ann, party="client", outcome="reached", duration_min=5)
    made.append((ann.id, now, "client", "reached", 5))
    add_contact(any_store, rosa, now + timedelta(seconds=1), ann, duration_min=7)  # not yet
    bounds = fq.TeamBounds.at(now, tz=zone)
    with any_store.read() as s:
        stats = fq.contact_stats(s, [ann.id, bob.id], bounds)
    local_days = [
        (bounds.trend_start.astimezone(zone).date() + timedelta(days=n)) for n in range(28)
    ]
    for who in (ann, bob):
        mine = [m for m in made if m[0] == who.id]
        week = [m for m in mine if bounds.week_start <= m[1] <= now]
        per_day = tuple(
            sum(1 for m in mine if m[1].astimezone(zone).date() == day and m[1] <= now)
            for day in local_days
        )
        expected = fq.ContactStats(
            contacts_week=len(week),
            attempts_week=sum(1 for m in week if m[2] in fq.REACHED_PARTIES),
            reached_week=sum(1 for m in week if m[2] in fq.REACHED_PARTIES and m[3] == "reached"),
            minutes_month=sum(m[4] for m in mine if bounds.month_start <= m[1] <= now),
            per_day=per_day,
        )
        assert stats[who.id] == expected, zone_name
        assert sum(per_day) > 0 and expected.minutes_month > 0


# ---------------------------------------------------------------- the migration


def _migration() -> Any:
    path = Path(fq.__file__).parent / "migrations" / "versions" / "0007_team_counts.py"
    spec = importlib.util.spec_from_file_location("m0007", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_triggers_count_what_the_vocabulary_says() -> None:
    m = _migration()
    assert "(" + ", ".join(f"'{s}'" for s in OPEN_NEED_STATUSES) + ")" == m.OPEN
    assert "(" + ", ".join(f"'{s}'" for s in fq.REACHED_PARTIES) + ")" == m.WITH_PERSON


def test_an_0006_database_gets_its_counts_from_the_rows_already_there(
    org: dict[str, Any],
) -> None:
    """Down to 0006 (no counts, no triggers), rows written there, up again: the counts
    start from those rows, and the triggers keep them from then on; and back down."""
    from alembic import command

    from cm_tui.store.migrate import alembic_config, upgrade

    store, (ann, bob, cat) = org["store"], org["users"]
    rosa, walt, _ = org["clients"]
    command.downgrade(alembic_config(store), "0006_care_plans")
    add_contact(store, rosa, NOW - timedelta(hours=3), ann, duration_min=12)
    add_contact(store, rosa, NOW - timedelta(hours=3, minutes=10), ann, outcome="no_answer")
    add_contact(store, walt, NOW - timedelta(days=2), bob, party="provider")
    add_contact(store, walt, NOW - timedelta(days=2), None)
    add_need(store, rosa, "food")
    add_need(store, walt, "housing", status="resolved")
    add_followup(store, rosa, NOW, cat)
    add_followup(store, rosa, NOW, cat, status="done")
    with store.write() as s:
        s.execute(update(Client).where(Client.id == walt).values(chw_id=bob.id))  # type: ignore[arg-type]
    upgrade(store, backup_first=False)
    assert _kept_counts(store) == _expected_counts(store) != {}
    assert _kept_hours(store) == _expected_hours(store) != {}
    add_need(store, walt, "transport")
    add_contact(store, walt, NOW, bob)
    _assert_kept(store)
    command.downgrade(alembic_config(store), "0006_care_plans")
    with store.read() as s:
        assert s.execute(select(Contact.id)).first() is not None  # the rows themselves stay


# ---------------------------------------------------------------- check and rebuild


def test_a_drift_is_found_and_the_counts_rebuilt(org: dict[str, Any]) -> None:
    """As after a restore that bypassed the triggers: counts_drift names what differs,
    recount rebuilds both tables from the rows, every hour exactly."""
    from cm_tui.store.maintenance import counts_drift, recount

    store, ann = org["store"], org["users"][0]
    add_contact(store, org["clients"][1], NOW - timedelta(hours=30), ann, duration_min=9)
    assert counts_drift(store) == []
    with store.write() as s:
        s.execute(
            update(PersonCounts)
            .where(PersonCounts.user_id == ann.id)  # type: ignore[arg-type]
            .values(open_needs=PersonCounts.open_needs + 5)
        )
        s.execute(delete(ContactHour).where(ContactHour.user_id == ann.id))  # type: ignore[arg-type]
    drift = counts_drift(store)
    assert any(f"user {ann.id}: open needs kept" in line for line in drift), drift
    assert any(f"user {ann.id}: contacts" in line for line in drift), drift
    recount(store)
    assert counts_drift(store) == []
    _assert_kept(store)  # every hour, not only the totals
    add_need(store, org["clients"][0], "legal")  # the triggers go on from there
    _assert_kept(store)


def test_db_check_reports_a_drift_and_db_recount_rebuilds(tmp_path: Path) -> None:
    import subprocess
    import sys

    from cm_tui.store.db import open_store
    from tests.engine import db_args, db_url

    db = tmp_path / "cm.db"
    store = open_store(db_url(db))
    try:
        ann = add_user(store, "ann")
        rosa = add_client(store, "Rosa", "Diaz", ann)
        add_need(store, rosa, "food")
        add_contact(store, rosa, NOW, ann)
        with store.write() as s:
            s.execute(update(PersonCounts).values(open_needs=7))
    finally:
        store.close()

    def cm(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cm_tui", *db_args(db), "db", *args],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )

    check = cm("check")
    assert check.returncode == 1, check.stdout + check.stderr
    assert f"team counts: user {ann.id}: open needs kept 7, counted 1" in check.stdout
    assert "cm-tui db recount" in check.stdout
    fixed = cm("recount")
    assert fixed.returncode == 0, fixed.stderr
    assert "1 differed" in fixed.stdout
    again = cm("check")
    assert again.returncode == 0 and "team counts ok" in again.stdout, again.stdout
