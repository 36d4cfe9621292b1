"""`cm-tui import resources FILE.csv [--dry-run]`: one clear line on a bad file, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlmodel import select

from cm_tui.cli import main
from cm_tui.store.db import open_store
from cm_tui.store.models import AuditEvent, Resource
from tests.engine import db_url

# The CLI on a local SQLite file acts as the OS user; on PostgreSQL it needs --user and a
# password (test_postgresql_needs_a_user). Not in the PostgreSQL pass.
pytestmark = pytest.mark.sqlite_only

GOOD = (
    "Name,Domains,Phone,Address,Hours,Eligibility,Languages,Notes\n"
    "Corner Pantry,food,555-010-1000,1 Main St,Mon-Fri 9-5,All,English;Spanish,\n"
    "Ride Share Seniors,transportation,555-010-2000,,,60+,English,book 2 days ahead\n"
)


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--db", str(db), *args], catch_exceptions=False)


def names(db: Path) -> list[str]:
    store = open_store(db_url(db))
    try:
        with store.read() as s:
            return sorted(r.name for r in s.exec(select(Resource)).all())
    finally:
        store.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "cm.db"
    open_store(db_url(path)).close()
    return path


def test_import_resources_dry_run_then_real(db: Path, tmp_path: Path) -> None:
    src = tmp_path / "dir.csv"
    src.write_text(GOOD, encoding="utf-8")
    dry = run(db, "import", "resources", str(src), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert (
        "2 rows checked; 2 new, 0 updated would be imported" in dry.output
        and "dry run: nothing written" in dry.output
    )
    assert names(db) == []
    done = run(db, "import", "resources", str(src))
    assert done.exit_code == 0, done.output
    assert names(db) == ["Corner Pantry", "Ride Share Seniors"]
    store = open_store(db_url(db))
    try:
        with store.read() as s:
            events = s.exec(select(AuditEvent).where(AuditEvent.entity == "resource")).all()
        assert [e.detail for e in events] == ["imported dir.csv: 2 new, 0 updated"]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (GOOD.encode() + "Caf\xe9,food\n".encode("latin-1"), "is not UTF-8"),
        (b"name,domains,colour\nX,food,red\n", "unknown column(s) 'colour'"),
        (b"name,phone\nX,555-010-1000\n", "the header has no domains column"),
        (GOOD.encode() + b"Moon Base,lunar,,,,,,\n", "line 4, domains: 'lunar' is not a domain"),
        (GOOD.encode() + b",food,,,,,,\n", "line 4, name: Give the resource a name."),
        (b"name,domains\n", "has a header but no rows"),
    ],
)
def test_bad_resource_files_write_nothing(
    db: Path, tmp_path: Path, content: bytes, expected: str
) -> None:
    src = tmp_path / "bad.csv"
    src.write_bytes(content)
    result = run(db, "import", "resources", str(src))
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cm-tui: ") and expected in lines[0]
    assert names(db) == []
