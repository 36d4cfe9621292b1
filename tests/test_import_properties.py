"""Properties of the panel importer: any valid panel round-trips through export unchanged;
any junk is refused with ImportFailed or per-row problems, never another exception."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from cm_tui.services.export import export_table
from cm_tui.services.importer import ImportFailed, import_clients
from cm_tui.services.interchange import client_fields
from cm_tui.store.db import Store, open_store
from cm_tui.store.models import Client
from cm_tui.store.vocab import CLIENT_STATUSES, PREFERRED_CONTACT, PROGRAMS, RISK_TIERS
from tests.engine import db_url

FIELDS = client_fields()
DATES = {"dob", "enrolled_on", "consent_on"}
CODES = {
    "preferred_contact": PREFERRED_CONTACT,
    "risk_tier": RISK_TIERS,
    "status": CLIENT_STATUSES,
}

# Any text a spreadsheet could hold: no NUL (refused on purpose), no surrogates (not UTF-8);
# the importer trims cells, so a stored value never starts or ends with whitespace.
text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=25,
).map(str.strip)
words = text.filter(bool)
days = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))


@st.composite
def panel_row(draw: st.DrawFn, mrn: str) -> dict[str, str]:
    row: dict[str, str] = {}
    for name in FIELDS:
        if name == "mrn":
            row[name] = mrn
        elif name in ("given_name", "family_name"):
            row[name] = draw(words)
        elif name in DATES:
            row[name] = draw(st.one_of(st.just(""), days.map(date.isoformat)))
        elif name in CODES:
            row[name] = draw(st.sampled_from(CODES[name]))
        elif name == "program":
            row[name] = draw(st.sampled_from(("", *PROGRAMS)))
        elif name in ("care_manager", "chw"):
            row[name] = ""
        else:
            row[name] = draw(text)
    return row


@st.composite
def panels(draw: st.DrawFn) -> list[dict[str, str]]:
    mrns = draw(st.lists(words.filter(lambda w: "\n" not in w), min_size=0, max_size=8,
                         unique=True))  # fmt: skip
    return [draw(panel_row(m)) for m in mrns]


def to_csv(rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(FIELDS)
    writer.writerows([r[f] for f in FIELDS] for r in rows)
    return buf.getvalue()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    s = open_store(db_url(tmp_path_factory.mktemp("prop") / "p.db"))
    yield s
    s.close()


def empty(store: Store) -> None:
    with store.write() as s:
        s.execute(delete(Client))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=panels())
def test_any_valid_panel_round_trips(
    store: Store, tmp_path_factory: pytest.TempPathFactory, rows: list[dict[str, str]]
) -> None:
    empty(store)
    source = to_csv(rows)
    f = tmp_path_factory.mktemp("csv") / "panel.csv"
    f.write_text(source, encoding="utf-8", newline="")
    result = import_clients(store, f)
    assert result.ok, result.errors
    assert result.inserted == len(rows)
    out = io.StringIO()
    export_table(store, "clients", out)
    exported = {r["mrn"]: r for r in csv.DictReader(io.StringIO(out.getvalue()))}
    assert exported == {r["mrn"]: r for r in rows}
    again = import_clients(store, f)
    assert again.unchanged == len(rows) and again.updated == 0


SPECIAL = ["", ",", '"', '""', "\n", "\r\n", "\r", "1950-02-30", "13/45/1950", "high",
           "pigeon", "\x00", "\ufeff", "M1", "ann", "x" * 300]  # fmt: skip
cell = st.one_of(text, st.sampled_from(SPECIAL))


@st.composite
def junk_csv(draw: st.DrawFn) -> bytes:
    """A plausible header (sometimes wrong) and junk rows, sometimes re-encoded."""
    header = draw(
        st.lists(st.sampled_from([*FIELDS, "Member ID", "", "mrn"]), min_size=1, max_size=8)
    )
    rows = draw(st.lists(st.lists(cell, max_size=9), max_size=6))
    joiner = draw(st.sampled_from([",", ";", "\t"]))
    lines = [joiner.join(header), *(joiner.join(r) for r in rows)]
    data = "\n".join(lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    return data.encode(encoding, errors="replace")


def _import_quietly(store: Store, path: Path, **kw: Any) -> None:
    try:
        result = import_clients(store, path, **kw)
    except ImportFailed as exc:
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message
        return
    for error in result.errors:
        assert str(error).startswith("line ")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.one_of(st.binary(max_size=400), junk_csv()))
def test_junk_raises_nothing_but_import_failed(
    store: Store, tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    f = tmp_path_factory.mktemp("junk") / "junk.csv"
    f.write_bytes(data)
    _import_quietly(store, f, dry_run=True)
    _import_quietly(store, f)
