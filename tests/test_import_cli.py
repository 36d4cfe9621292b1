"""`cm-tui import / export / report` from the command line: one clear line and exit 2 on any
problem, nothing written by a bad file, 0600 outputs, audited exports as the OS user."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select
from sqlmodel import col

from cm_tui.cli import main
from cm_tui.store.db import Store, open_store
from cm_tui.store.models import AuditEvent, Client
from tests.engine import db_url
from tests.factories import add_client, add_user
from tests.test_cli import cm, one_clear_line

# The CLI on a local SQLite file acts as the OS user; on PostgreSQL it needs --user and a
# password (test_postgresql_needs_a_user). Not in the PostgreSQL pass.
pytestmark = pytest.mark.sqlite_only

HEADER = "mrn,given_name,family_name,dob\n"


def run(db: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["--db", str(db), *args], env=env, catch_exceptions=False)


def clear_line(result: Result) -> str:
    assert result.exit_code == 2, (result.output, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cm-tui: ")
    return lines[0]


def client_count(db: Path) -> int:
    store = open_store(db_url(db))
    try:
        with store.read() as s:
            return int(s.execute(select(func.count()).select_from(Client)).scalar_one())
    finally:
        store.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "cm.db"
    open_store(db_url(path)).close()
    return path


BAD_FILES = [
    ("latin1", (HEADER + "M1,José,Núñez,1950-01-31\n").encode("latin-1"), "is not UTF-8"),
    ("utf16", (HEADER + "M1,Ana,Zapata,1950-01-31\n").encode("utf-16"), "is UTF-16 text"),
    ("unknown header", b"mrn,given_name,family_name,shoe_size\nM1,A,B,9\n", "unknown column"),
    ("ragged", (HEADER + "M1,Ana,Zapata,1950-01-31\nM2,Ben\n").encode(), "the header has 4"),
    ("duplicate mrn", (HEADER + "M1,A,B,\nM1,C,D,\n").encode(), "'M1' is also on line 2"),
    ("bad date", (HEADER + "M1,A,B,1950-02-30\n").encode(), "'1950-02-30' is not a real date"),
    ("empty", b"", "is empty"),
]


@pytest.mark.parametrize(("case", "data", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_fail_in_one_line_and_write_nothing(
    db: Path, tmp_path: Path, case: str, data: bytes, message: str
) -> None:
    f = tmp_path / "panel.csv"
    f.write_bytes(data)
    line = clear_line(run(db, "import", "clients", str(f)))
    assert message in line
    assert client_count(db) == 0


def test_row_problems_go_to_a_0600_report(db: Path, tmp_path: Path) -> None:
    f = tmp_path / "panel.csv"
    f.write_text(HEADER + "M1,A,B,1950-02-30\nM2,C,D,\nM3,E,F,13/45/1950\n", encoding="utf-8")
    line = clear_line(run(db, "import", "clients", str(f)))
    report = tmp_path / "panel.errors.csv"
    assert line == (
        "cm-tui: panel.csv: 2 of 3 rows have problems (first: line 2, dob: '1950-02-30' is not "
        f"a real date); nothing was imported. Every problem is listed in {report}."
    )
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert report.read_text(encoding="utf-8").splitlines()[1:] == [
        "2,dob,M1,'1950-02-30' is not a real date",
        "4,dob,M3,'13/45/1950' is not a real date",
    ]
    assert client_count(db) == 0


def test_dry_run_then_import_with_a_mapping(db: Path, tmp_path: Path) -> None:
    f = tmp_path / "payer.csv"
    f.write_text("Member ID,First,Last,Notes\nM1,Ana,Zapata,x\nM2,Ben,Young,y\n", "utf-8")
    mapping = tmp_path / "payer.toml"
    mapping.write_text('[columns]\nFirst = "given_name"\nLast = "family_name"\n', "utf-8")
    errors = tmp_path / "dry.csv"
    args = ["import", "clients", str(f), "--mapping", str(mapping), "--map", "Member ID=mrn"]
    dry = run(db, *args, "--map", "Notes=", "--dry-run", "--errors", str(errors))
    assert dry.exit_code == 0, dry.stderr
    assert dry.output.strip() == (
        "payer.csv: 2 rows checked; 2 new clients, 0 updated, 0 unchanged would be "
        "imported (dry run: nothing written)."
    )
    assert errors.read_bytes() == b"line,column,mrn,problem\r\n"  # no problems
    assert client_count(db) == 0
    done = run(db, *args, "--map", "Notes=")
    assert done.exit_code == 0 and "2 new clients" in done.output
    assert client_count(db) == 2
    assert "unknown column 'Notes'" in clear_line(run(db, *args))


def test_events_import(db: Path, tmp_path: Path) -> None:
    store = open_store(db_url(db))
    add_client(store, "Ana", "Zapata", mrn="M1")
    store.close()
    f = tmp_path / "ev.csv"
    f.write_text("mrn,kind,occurred_at\nM1,ed_visit,2026-10-03\n", "utf-8")
    ok = run(db, "import", "events", str(f))
    assert ok.exit_code == 0 and "1 new events" in ok.output
    f.write_text("mrn,kind,occurred_at\nM7,ed_visit,2026-10-03\n", "utf-8")
    assert "no client with MRN 'M7'" in clear_line(run(db, "import", "events", str(f)))


def _org(db: Path) -> Store:
    store = open_store(db_url(db))
    cara = add_user(store, "cara", role="chw")
    add_client(store, "Ana", "Zapata", mrn="M1", chw_id=cara.id)
    add_client(store, "Ben", "Young", mrn="M2")
    return store


def test_export_to_stdout_and_0600_file_audited_as_os_user(db: Path, tmp_path: Path) -> None:
    _org(db).close()
    out = run(db, "export", "clients")
    assert out.exit_code == 0
    assert out.stdout.splitlines()[0].startswith("mrn,given_name,family_name")
    assert len(out.stdout.splitlines()) == 3
    assert out.stderr.strip() == "Exported 2 rows of clients as csv to stdout."

    target = tmp_path / "clients.jsonl"
    done = run(db, "export", "clients", "--format", "jsonl", "--out", str(target))
    assert done.exit_code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [json.loads(x)["mrn"] for x in target.read_text("utf-8").splitlines()] == ["M1", "M2"]

    store = open_store(db_url(db))
    with store.read() as s:
        events = list(
            s.exec(select(AuditEvent).where(col(AuditEvent.action) == "export")).scalars()
        )
    store.close()
    assert len(events) == 2
    assert all(e.actor and e.actor.startswith("os:") and e.user_id is None for e in events)
    assert events[1].detail == f"clients as jsonl to {target}: 2 rows; scope: all records"


def test_user_option_narrows_the_export(db: Path, tmp_path: Path) -> None:
    _org(db).close()
    out = run(db, "--user", "cara", "export", "clients", "--format", "jsonl")
    assert [json.loads(x)["mrn"] for x in out.stdout.splitlines()] == ["M1"]
    assert "no active user 'nobody'" in clear_line(run(db, "--user", "nobody", "export", "clients"))
    assert "Only supervisors" in clear_line(run(db, "--user", "cara", "export", "audit"))


def test_export_errors(db: Path, tmp_path: Path) -> None:
    assert "no table 'users'" in clear_line(run(db, "export", "users"))
    assert "give --out DIR" in clear_line(run(db, "export", "fhir"))
    assert "is a folder" in clear_line(run(db, "export", "clients", "--out", str(tmp_path)))


def test_export_fhir(db: Path, tmp_path: Path) -> None:
    _org(db).close()
    folder = tmp_path / "bundles"
    done = run(db, "export", "fhir", "--out", str(folder))
    assert done.exit_code == 0, done.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["Patient-1.json", "Patient-2.json"]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())
    single = run(db, "export", "fhir", "--transaction")
    bundle = json.loads(single.stdout)
    assert bundle["type"] == "transaction" and len(bundle["entry"]) == 2


def test_report(db: Path, tmp_path: Path) -> None:
    _org(db).close()
    text = run(db, "report", "--period", "2026-10")
    assert text.exit_code == 0
    assert text.stdout.startswith("Programme report for 2026-10")
    out = tmp_path / "r.csv"
    done = run(db, "report", "--period", "2026-10", "--format", "csv", "--out", str(out))
    assert done.exit_code == 0 and stat.S_IMODE(out.stat().st_mode) == 0o600
    lines = out.read_text("utf-8").splitlines()
    assert lines[0] == "section,subject,measure,value"
    assert "panel,,clients,2" in lines
    assert "give a month as YYYY-MM" in clear_line(run(db, "report", "--period", "October"))


def test_real_entry_point_one_line_error(tmp_path: Path) -> None:
    """Through the installed entry point (a subprocess, no terminal): same one clear line."""
    db = tmp_path / "cm.db"
    f = tmp_path / "bad.csv"
    f.write_bytes((HEADER + "M1,Zoë,Ämm,1950-01-31\n").encode("cp1252"))
    line = one_clear_line(cm("--db", str(db), "import", "clients", str(f)))
    assert "line 2: byte 0xeb is not UTF-8" in line


def test_postgresql_needs_a_user(pg_url: str) -> None:
    open_store(pg_url).close()
    line = one_clear_line(cm("--database-url", pg_url, "export", "clients"))
    assert "--user NAME" in line
    env = {"CM_TUI_PASSWORD": "wrong"}
    store = open_store(pg_url)
    add_user(store, "sue", role="supervisor", password="right-password")
    store.close()
    line = one_clear_line(cm("--database-url", pg_url, "--user", "sue", "report", env=env))
    assert "Wrong username or password" in line
    ok = cm(
        "--database-url",
        pg_url,
        "--user",
        "sue",
        "export",
        "clients",
        env={"CM_TUI_PASSWORD": "right-password"},
    )
    assert ok.returncode == 0, ok.stderr
    assert os.environ.get("CM_TUI_PASSWORD") is None
