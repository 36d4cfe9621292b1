"""The store: opening, settings, round trips on every engine, migrations, backups, audit."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel, select

from cm_tui.store import audit
from cm_tui.store.db import Store, StoreError, open_store
from cm_tui.store.maintenance import backup_sqlite, check
from cm_tui.store.models import (
    AuditEvent,
    Barrier,
    CarePlan,
    Client,
    Contact,
    ContactAddendum,
    Draft,
    FollowUp,
    Goal,
    Intervention,
    Meta,
    Need,
    ProgramEnrollment,
    Referral,
    Resource,
    Screening,
    ScreeningAnswer,
    User,
    UtilizationEvent,
)
from cm_tui.store.schema_version import KNOWN_REVISIONS, SCHEMA_HEAD

T0 = datetime(2026, 11, 2, 15, 30, 12, 345678, tzinfo=UTC)


def url_of(path: Path) -> str:
    return f"sqlite:///{path}"


# ---------------------------------------------------------------- SQLite file and settings


def test_new_database_file_is_private_and_configured(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "cm.db"
    store = open_store(url_of(db))
    try:
        assert stat.S_IMODE(db.stat().st_mode) == 0o600
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        store.set_meta("probe", "1")
        for extra in (Path(f"{db}-wal"), Path(f"{db}-shm")):
            if extra.exists():
                assert stat.S_IMODE(extra.stat().st_mode) & 0o077 == 0
    finally:
        store.close()


def test_foreign_keys_are_enforced(sqlite_store: Store) -> None:
    with pytest.raises(Exception, match="FOREIGN KEY"), sqlite_store.write() as s:
        s.add(Contact(client_id=424242, occurred_at=T0))


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a directory"):
        open_store(url_of(tmp_path))


def test_non_sqlite_file_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database at all, just words\n" * 10)
    with pytest.raises(StoreError, match="not a SQLite file"):
        open_store(url_of(junk))


def test_unwritable_location_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Modes are real when tests run unprivileged; as root (who ignores modes) the
    permission answer is simulated at os.access, the check open_store relies on."""
    import os

    locked = tmp_path / "locked"
    locked.mkdir()
    open_store(url_of(locked / "cm.db")).close()
    (locked / "cm.db").chmod(0o444)
    locked.chmod(0o555)
    if os.geteuid() == 0:
        real_access = os.access

        def access(path: object, mode: int, *a: object, **kw: object) -> bool:
            if str(path).startswith(str(locked)) and mode & os.W_OK:
                return False
            return real_access(path, mode)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "access", access)
    try:
        with pytest.raises(StoreError, match="permission denied"):
            open_store(url_of(locked / "cm.db"))
        with pytest.raises(StoreError, match="permission denied"):
            open_store(url_of(locked / "new.db"))
    finally:
        locked.chmod(0o755)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "cm.db"
    open_store(url_of(db)).close()
    con = sqlite3.connect(db)
    con.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="newer cm-tui"):
        open_store(url_of(db))


def test_foreign_tables_without_version_are_refused(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE stuff (x)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="not a cm-tui database"):
        open_store(url_of(db))


# ---------------------------------------------------------------- schema and migrations


def test_schema_constants_match_migration_scripts() -> None:
    from cm_tui.store.migrate import script_revisions

    assert tuple(script_revisions()) == KNOWN_REVISIONS
    assert KNOWN_REVISIONS[-1] == SCHEMA_HEAD


def test_models_and_migrations_agree(any_store: Store) -> None:
    """A migrated database has exactly the tables and columns the models declare."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from cm_tui.store import models
    from cm_tui.store.schema_version import include_object

    models.load_all()  # every table, not only those of the first screen
    with any_store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": include_object})
        diffs = compare_metadata(ctx, SQLModel.metadata)
    # Types compare loosely across engines; what matters is no missing table/column/index.
    structural = [d for d in diffs if not (isinstance(d, list) or d[0].startswith("modify_"))]
    assert structural == []


def test_start_path_does_not_import_alembic(tmp_path: Path) -> None:
    db = tmp_path / "cm.db"
    open_store(url_of(db)).close()
    code = (
        "import sys\n"
        "from cm_tui.store.db import open_store\n"
        f"open_store('sqlite:///{db}').close()\n"
        "print('alembic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.sqlite_only  # the start path of a local SQLite file, read in a fresh process
def test_the_caseload_needs_only_the_first_screen_s_tables(tmp_path: Path) -> None:
    """The caseload's modules and its first window define six tables; the other
    seventeen (models_later) load when first asked for (issue 8: cold start)."""
    from tests.snapshot_app import build_store

    build_store(tmp_path / "d.db").close()
    code = (
        "import sys\n"
        "import cm_tui.cli, cm_tui.app, cm_tui.screens.caseload, cm_tui.store.changes\n"
        "from cm_tui.services import auth\n"
        "from cm_tui.store import queries\n"
        "from cm_tui.store.db import open_store\n"
        f"store = open_store('{url_of(tmp_path / 'd.db')}')\n"
        "viewer = auth.sign_in_without_password(store, 'ann')\n"
        "with store.read() as s:\n"
        "    rows = queries.caseload_page(s, viewer, queries.CaseloadFilter(), 'name', None, 51)\n"
        "print(len(rows), 'cm_tui.store.models_later' in sys.modules)\n"
        "from cm_tui.store.models import Contact\n"
        "print(Contact.__tablename__, 'cm_tui.store.models_later' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.strip().splitlines()
    assert first.endswith(" False") and int(first.split()[0]) > 0
    assert second == "contacts True"


# ---------------------------------------------------------------- round trips on every engine


def test_every_table_round_trips(any_store: Store) -> None:
    with any_store.write() as s:
        u = User(username="maria", display_name="Maria Alvarez, RN", role="care_manager")
        s.add(u)
        s.flush()
        c = Client(
            mrn="MRN0001",
            given_name="José",
            family_name="Núñez",
            preferred_name="Pepe",
            dob=date(1948, 2, 29),
            language="Spanish",
            phone="555-0101",
            preferred_contact="text",
            best_time="after 3pm",
            risk_tier="high",
            program="CCM",
            care_manager_id=u.id,
            what_matters="Ver a mis nietos graduarse. [bold]not markup[/bold]",
            consent_on=date(2026, 1, 5),
            last_contact_at=T0,
        )
        s.add(c)
        s.flush()
        contact = Contact(client_id=c.id, user_id=u.id, occurred_at=T0, note="Spoke with daughter")
        s.add(contact)
        s.flush()
        s.add(ContactAddendum(contact_id=contact.id, user_id=u.id, text="Correction: son"))
        sc = Screening(
            client_id=c.id,
            user_id=u.id,
            script_id="ahc-hrsn",
            script_version="1",
            status="completed",
            opt_out_acknowledged=True,
            result_json={"positive_domains": ["food"], "scores": {"safety": 7}},
        )
        s.add(sc)
        s.flush()
        s.add(ScreeningAnswer(screening_id=sc.id, item_id="food_worry", option_ids=["often_true"]))
        s.add(ScreeningAnswer(screening_id=sc.id, item_id="transportation", declined=True))
        need = Need(client_id=c.id, domain="food", screening_id=sc.id)
        res = Resource(name="Eastside Food Bank", domains=["food"], languages=["en", "es"])
        s.add_all([need, res])
        s.flush()
        s.add(Referral(need_id=need.id, resource_id=res.id, note="faxed"))
        s.add(UtilizationEvent(client_id=c.id, kind="ed_visit", occurred_at=T0, facility="Mercy"))
        fu = FollowUp(
            client_id=c.id,
            assignee_id=u.id,
            created_by_id=u.id,
            title="Call re food bank",
            kind="referral_check",
            due_at=T0 + timedelta(days=7),
            recurrence="FREQ=WEEKLY;INTERVAL=2",
        )
        s.add(fu)
        plan = CarePlan(client_id=c.id, created_by_id=u.id)
        s.add(plan)
        s.flush()
        goal = Goal(care_plan_id=plan.id, client_words="Walk to church again")
        s.add(goal)
        s.flush()
        s.add(Intervention(care_plan_id=plan.id, goal_id=goal.id, description="PT referral"))
        s.add(Barrier(care_plan_id=plan.id, description="No ride"))
        s.add(ProgramEnrollment(client_id=c.id, program="CCM", start_on=date(2026, 1, 5)))
        s.add(Draft(user_id=u.id, kind="contact", key=str(c.id), payload={"note": "half"}))
        s.add(Meta(key="org_name", value="Test Org"))
        audit.record(s, action="create", user_id=u.id, entity="client", entity_id=c.id)
        cid = c.id

    with any_store.read() as s:
        got = s.get(Client, cid)
        assert got is not None
        assert (got.given_name, got.family_name, got.dob) == ("José", "Núñez", date(1948, 2, 29))
        assert got.what_matters is not None and "[bold]" in got.what_matters
        assert got.last_contact_at == T0 and got.last_contact_at.tzinfo is not None
        contact = s.exec(select(Contact).where(Contact.client_id == cid)).one()
        assert contact.occurred_at == T0
        answers = s.exec(select(ScreeningAnswer).order_by(ScreeningAnswer.item_id)).all()
        assert [(a.item_id, a.option_ids, a.declined) for a in answers] == [
            ("food_worry", ["often_true"], False),
            ("transportation", None, True),
        ]
        scr = s.exec(select(Screening)).one()
        assert scr.result_json == {"positive_domains": ["food"], "scores": {"safety": 7}}
        fu = s.exec(select(FollowUp)).one()
        assert fu.due_at == T0 + timedelta(days=7)
        assert s.exec(select(Resource)).one().domains == ["food"]
        assert s.exec(select(Draft)).one().payload == {"note": "half"}
        for table in (Referral, UtilizationEvent, Goal, Intervention, Barrier, ProgramEnrollment):
            assert len(s.exec(select(table)).all()) == 1
        assert s.exec(select(ContactAddendum)).one().text == "Correction: son"
        assert any_store.get_meta("org_name") == "Test Org"


def test_naive_datetimes_are_refused(any_store: Store) -> None:
    with pytest.raises(Exception, match="naive"), any_store.write() as s:
        s.add(Meta(key="x", value="y"))
        s.add(User(username="u", display_name="U", last_failed_at=datetime(2026, 1, 1)))
        s.flush()


def test_write_rolls_back_on_error(any_store: Store) -> None:
    with pytest.raises(RuntimeError), any_store.write() as s:
        s.add(Meta(key="half", value="written"))
        s.flush()
        raise RuntimeError("boom")
    assert any_store.get_meta("half") is None


# ---------------------------------------------------------------- audit chain


def test_audit_chain_verifies_and_detects_tampering(any_store: Store) -> None:
    with any_store.write() as s:
        for i in range(5):
            audit.record(s, action="view", entity="client", entity_id=i)
    with any_store.read() as s:
        assert audit.verify(s) == (5, None)
    with any_store.write() as s:
        s.execute(text("UPDATE audit_events SET entity_id = 99 WHERE id = 3"))
    with any_store.read() as s:
        _, problem = audit.verify(s)
    assert problem is not None and problem.event_id == 3 and "altered" in problem.reason
    with any_store.write() as s:
        s.execute(text("UPDATE audit_events SET entity_id = 2 WHERE id = 3"))
        s.execute(text("DELETE FROM audit_events WHERE id = 4"))
    with any_store.read() as s:
        _, problem = audit.verify(s)
    assert problem is not None and problem.event_id == 5 and "removed" in problem.reason


def test_audit_records_os_user_when_no_app_user(sqlite_store: Store) -> None:
    with sqlite_store.write() as s:
        ev = audit.record(s, action="export", entity="database")
    assert ev.actor and ev.actor.startswith("os:")
    with sqlite_store.read() as s:
        assert s.exec(select(AuditEvent)).one().hash == ev.hash


# ---------------------------------------------------------------- backup and check


def test_backup_is_consistent_private_and_complete(tmp_path: Path) -> None:
    store = open_store(url_of(tmp_path / "cm.db"))
    with store.write() as s:
        s.add(Meta(key="committed", value="yes"))
    # Another connection holds an open write transaction while we back up.
    other = sqlite3.connect(tmp_path / "cm.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO meta(key, value) VALUES ('uncommitted', 'no')")
    try:
        dest = backup_sqlite(store, tmp_path / "backup.db")
    finally:
        other.execute("ROLLBACK")
        other.close()
        store.close()
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    copy = open_store(url_of(dest))
    try:
        assert copy.get_meta("committed") == "yes"
        assert copy.get_meta("uncommitted") is None
        assert check(copy).ok
    finally:
        copy.close()


def test_backup_refuses_to_overwrite(sqlite_store: Store, tmp_path: Path) -> None:
    existing = tmp_path / "exists.db"
    existing.write_bytes(b"keep me")
    with pytest.raises(StoreError, match="already exists"):
        backup_sqlite(sqlite_store, existing)
    assert existing.read_bytes() == b"keep me"


def test_check_reports_foreign_key_problems(tmp_path: Path) -> None:
    store = open_store(url_of(tmp_path / "cm.db"))
    assert check(store).ok
    con = sqlite3.connect(tmp_path / "cm.db")
    con.execute("PRAGMA foreign_keys=OFF")
    con.execute(
        "INSERT INTO contacts (client_id, occurred_at, method, direction, party, outcome, note,"
        " created_at) VALUES (777, '2026-01-01 00:00:00.000000', 'phone', 'outbound', 'client',"
        " 'reached', '', '2026-01-01 00:00:00.000000')"
    )
    con.commit()
    con.close()
    report = check(store)
    store.close()
    assert not report.ok and report.foreign_keys


def test_world_readable_database_is_narrowed_with_a_warning(tmp_path: Path) -> None:
    db = tmp_path / "cm.db"
    open_store(url_of(db)).close()
    db.chmod(0o644)
    store = open_store(url_of(db))
    store.close()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert any("readable by other users" in w and "644" in w for w in store.warnings)
    again = open_store(url_of(db))
    again.close()
    assert again.warnings == []
