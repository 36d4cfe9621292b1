"""Panel import (DESIGN §7): mapping, encodings, per-row problems, idempotent upsert, one
transaction per file, and the export -> import -> export round trip."""

from __future__ import annotations

import csv
import io
import os
import stat
import time
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlmodel import col

from cm_tui.services.export import export_table
from cm_tui.services.importer import (
    ImportFailed,
    import_clients,
    import_events,
    load_mapping,
    parse_map_options,
    preview_file,
    write_error_report,
)
from cm_tui.services.interchange import client_fields
from cm_tui.store.db import Store
from cm_tui.store.models import AuditEvent, Client, UtilizationEvent
from tests.engine import db_url
from tests.factories import add_client, add_user

HEADER = "mrn,given_name,family_name,dob,phone,preferred_contact,language,risk_tier,program\n"
ROWS = (
    "M1,Ana,Zapata,1950-01-31,(555) 010-0001,phone,Spanish,high,CCM\n"
    "M2,Ben,Young,02/14/1948,(555) 010-0002,text,English,rising,TCM\n"
    "M3,Cleo,Xu,1961-07-04,,letter,,low,\n"
)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def clients(store: Store) -> list[Client]:
    with store.read() as s:
        return list(s.exec(select(Client).order_by(col(Client.mrn))).scalars())


def count(store: Store, model: type) -> int:
    with store.read() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def export_text(store: Store, table: str = "clients", fmt: str = "csv") -> str:
    buf = io.StringIO()
    export_table(store, table, buf, fmt=fmt)
    return buf.getvalue()


# ---------------------------------------------------------------- happy path


def test_import_inserts_then_is_idempotent(any_store: Store, tmp_path: Path) -> None:
    f = write(tmp_path / "panel.csv", HEADER + ROWS)
    result = import_clients(any_store, f)
    assert result.ok, result.errors
    assert (result.inserted, result.updated, result.unchanged) == (3, 0, 0)
    rows = clients(any_store)
    assert [c.mrn for c in rows] == ["M1", "M2", "M3"]
    ana, ben, cleo = rows
    assert ana.dob == date(1950, 1, 31) and ana.risk_tier == "high" and ana.program == "CCM"
    assert ben.dob == date(1948, 2, 14) and ben.preferred_contact == "text"
    assert cleo.phone is None and cleo.language is None and cleo.program is None
    assert cleo.status == "active" and cleo.version == 1

    again = import_clients(any_store, f)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert all(c.version == 1 for c in clients(any_store))


def test_import_updates_only_what_changed(any_store: Store, tmp_path: Path) -> None:
    import_clients(any_store, write(tmp_path / "a.csv", HEADER + ROWS))
    changed = ROWS.replace("(555) 010-0002", "(555) 999-0002")
    result = import_clients(any_store, write(tmp_path / "b.csv", HEADER + changed))
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 2)
    ben = next(c for c in clients(any_store) if c.mrn == "M2")
    assert ben.phone == "(555) 999-0002" and ben.version == 2


def test_blank_cells_clear_optional_columns_and_keep_required_ones(
    sqlite_store: Store, tmp_path: Path
) -> None:
    import_clients(sqlite_store, write(tmp_path / "a.csv", HEADER + ROWS))
    blanked = "M1,Ana,Zapata,1950-01-31,,phone,Spanish,,CCM\n"
    result = import_clients(sqlite_store, write(tmp_path / "b.csv", HEADER + blanked))
    assert result.updated == 1
    ana = next(c for c in clients(sqlite_store) if c.mrn == "M1")
    assert ana.phone is None  # optional: the file is the truth for its columns
    assert ana.risk_tier == "high"  # NOT NULL: a blank keeps the stored value


def test_columns_the_file_lacks_are_untouched(sqlite_store: Store, tmp_path: Path) -> None:
    add_client(sqlite_store, "Ana", "Zapata", mrn="M1", what_matters="My garden", phone="1")
    f = write(tmp_path / "a.csv", "mrn,given_name,family_name,phone\nM1,Ana,Zapata,2\n")
    assert import_clients(sqlite_store, f).updated == 1
    ana = clients(sqlite_store)[0]
    assert ana.what_matters == "My garden" and ana.phone == "2"


def test_codes_and_headers_are_read_leniently(sqlite_store: Store, tmp_path: Path) -> None:
    f = write(
        tmp_path / "a.csv",
        "MRN,Given Name,Family-Name,Preferred Contact,Risk Tier,Program\n"
        "M1,Ana,Zapata,In person,HIGH,ccm\n",
    )
    assert import_clients(sqlite_store, f).inserted == 1
    ana = clients(sqlite_store)[0]
    assert (ana.preferred_contact, ana.risk_tier, ana.program) == ("in_person", "high", "CCM")


def test_care_team_by_username(sqlite_store: Store, tmp_path: Path) -> None:
    ann = add_user(sqlite_store, "ann")
    cara = add_user(sqlite_store, "cara", role="chw")
    f = write(
        tmp_path / "a.csv",
        "mrn,given_name,family_name,care_manager,chw\nM1,Ana,Zapata,ann,CARA\n",
    )
    assert import_clients(sqlite_store, f).ok
    ana = clients(sqlite_store)[0]
    assert (ana.care_manager_id, ana.chw_id) == (ann.id, cara.id)
    bad = write(tmp_path / "b.csv", "mrn,given_name,family_name,care_manager\nM2,B,C,nobody\n")
    result = import_clients(sqlite_store, bad)
    assert "no user 'nobody'" in str(result.errors[0])


def test_semicolon_separated_file(sqlite_store: Store, tmp_path: Path) -> None:
    f = write(tmp_path / "a.csv", "mrn;given_name;family_name\nM1;Ana;Zapata\n")
    assert import_clients(sqlite_store, f).inserted == 1


def test_import_is_audited_as_the_os_user(sqlite_store: Store, tmp_path: Path) -> None:
    import_clients(sqlite_store, write(tmp_path / "panel.csv", HEADER + ROWS))
    with sqlite_store.read() as s:
        event = s.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).scalars().first()
    assert event is not None
    assert event.action == "create" and event.entity == "client"
    assert event.actor and event.actor.startswith("os:")
    assert "panel.csv: 3 new" in (event.detail or "")


def test_only_supervisors_and_admins_import(sqlite_store: Store, tmp_path: Path) -> None:
    chw = add_user(sqlite_store, "cara", role="chw")
    with pytest.raises(ImportFailed, match="supervisors and admins"):
        import_clients(sqlite_store, write(tmp_path / "a.csv", HEADER + ROWS), viewer=chw)
    sup = add_user(sqlite_store, "sue", role="supervisor")
    assert import_clients(sqlite_store, tmp_path / "a.csv", viewer=sup).inserted == 3


# ---------------------------------------------------------------- mapping


def test_map_options_and_mapping_file(sqlite_store: Store, tmp_path: Path) -> None:
    text = "Member ID,First,Last,Birth Date,Notes\nM1,Ana,Zapata,1950-01-31,call after 3\n"
    f = write(tmp_path / "payer.csv", text)
    with pytest.raises(ImportFailed) as info:
        import_clients(sqlite_store, f)
    message = str(info.value)
    assert "unknown column 'Member ID' (and 4 more)" in message
    assert "--map 'Member ID=FIELD'" in message and "\n" not in message
    assert count(sqlite_store, Client) == 0

    mapping = parse_map_options(
        ["Member ID=mrn", "First=given_name", "Last=family_name", "Birth Date=dob", "Notes="]
    )
    result = import_clients(sqlite_store, f, mapping=mapping)
    assert result.inserted == 1 and result.skipped_columns == ("Notes",)

    toml = write(
        tmp_path / "payer.toml",
        '[columns]\n"Member ID" = "mrn"\nFirst = "given_name"\nLast = "family_name"\n'
        '"Birth Date" = "dob"\nNotes = "best_time"\n',
    )
    result = import_clients(sqlite_store, f, mapping=load_mapping(toml))
    assert result.updated == 1
    assert clients(sqlite_store)[0].best_time == "call after 3"


def test_bad_mappings_are_one_line_errors(sqlite_store: Store, tmp_path: Path) -> None:
    f = write(tmp_path / "a.csv", HEADER + ROWS)
    with pytest.raises(ImportFailed, match="'nope' is not a client column"):
        import_clients(sqlite_store, f, mapping={"phone": "nope"})
    with pytest.raises(ImportFailed, match="both give 'mrn'"):
        import_clients(sqlite_store, f, mapping={"phone": "mrn"})
    with pytest.raises(ImportFailed, match="COLUMN IN FILE=client_field"):
        parse_map_options(["no-equals-sign"])
    with pytest.raises(ImportFailed, match="not a valid TOML"):
        load_mapping(write(tmp_path / "m.toml", "[columns\n"))
    with pytest.raises(ImportFailed, match="no such mapping file"):
        load_mapping(tmp_path / "missing.toml")


def test_missing_required_column(sqlite_store: Store, tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="no 'mrn' column"):
        import_clients(sqlite_store, write(tmp_path / "a.csv", "given_name,family_name\nA,B\n"))


# ---------------------------------------------------------------- bad files


def test_utf8_bom_is_fine(sqlite_store: Store, tmp_path: Path) -> None:
    f = write(tmp_path / "bom.csv", "\ufeff" + HEADER + ROWS.replace("Zapata", "Zapata-Núñez"))
    assert import_clients(sqlite_store, f).inserted == 3
    assert clients(sqlite_store)[0].family_name == "Zapata-Núñez"


def test_latin1_file_is_refused_with_its_line(sqlite_store: Store, tmp_path: Path) -> None:
    f = write(tmp_path / "latin.csv", HEADER + ROWS.replace("Zapata", "Núñez"), "latin-1")
    with pytest.raises(ImportFailed) as info:
        import_clients(sqlite_store, f)
    assert str(info.value) == (
        "latin.csv, line 2: byte 0xfa is not UTF-8 (the file looks like Latin-1 or "
        'Windows-1252); save it as "CSV UTF-8" and import again.'
    )
    assert count(sqlite_store, Client) == 0


def test_utf16_file_is_refused(sqlite_store: Store, tmp_path: Path) -> None:
    f = write(tmp_path / "u16.csv", HEADER + ROWS, "utf-16")
    with pytest.raises(ImportFailed, match=r"u16.csv is UTF-16 text, not UTF-8"):
        import_clients(sqlite_store, f)


def test_empty_and_missing_files(sqlite_store: Store, tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="is empty"):
        import_clients(sqlite_store, write(tmp_path / "e.csv", ""))
    with pytest.raises(ImportFailed, match="is empty"):
        import_clients(sqlite_store, write(tmp_path / "e2.csv", "\n\n"))
    with pytest.raises(ImportFailed, match="no such file"):
        import_clients(sqlite_store, tmp_path / "nope.csv")
    with pytest.raises(ImportFailed, match="is a folder"):
        import_clients(sqlite_store, tmp_path)
    header_only = import_clients(sqlite_store, write(tmp_path / "h.csv", HEADER))
    assert header_only.ok and header_only.rows == 0


def test_row_problems_are_all_reported_and_nothing_is_written(
    any_store: Store, tmp_path: Path
) -> None:
    text = HEADER + (
        "M1,Ana,Zapata,1950-01-31,,phone,,high,CCM\n"
        "M2,Ben,Young,1948-02-30,,phone,,low,\n"  # line 3: no Feb 30
        "M3,Cleo,Xu,1961-07-04,,pigeon,,low,\n"  # line 4: bad code
        "M4,Dan,Wu\n"  # line 5: ragged
        'M1,"Ana\nagain",Zapata,1950-01-31,,phone,,low,\n'  # line 6: duplicate MRN
        ",Eve,Vo,1970-01-01,,phone,,low,\n"  # line 8 (the quoted newline): no MRN
        "M5,Fay,Ng,31/01/1950,,phone,,extreme,\n"  # line 9: two problems
    )
    f = write(tmp_path / "bad.csv", text)
    result = import_clients(any_store, f)
    assert not result.ok and result.rows == 7
    found = [str(e) for e in result.errors]
    assert found == [
        "line 3, dob: '1948-02-30' is not a real date",
        "line 4, preferred_contact: 'pigeon' is not one of phone, text, letter, in_person, video",
        "line 5: 3 values, but the header has 9 columns",
        "line 6, mrn: 'M1' is also on line 2",
        "line 8, mrn: is empty; every row needs one",
        "line 9, dob: '31/01/1950' is not a real date",
        "line 9, risk_tier: 'extreme' is not one of low, rising, high",
    ]
    assert result.summary() == (
        "bad.csv: 6 of 7 rows have problems (first: line 3, dob: '1948-02-30' is not a "
        "real date); nothing was imported."
    )
    assert count(any_store, Client) == 0

    report = write_error_report(result, tmp_path / "bad.errors.csv")
    assert stat.S_IMODE(os.stat(report).st_mode) == 0o600
    rows = list(csv.reader(report.open(encoding="utf-8")))
    assert rows[0] == ["line", "column", "mrn", "problem"]
    assert rows[1] == ["3", "dob", "M2", "'1948-02-30' is not a real date"]
    assert len(rows) == 8


def test_a_value_under_a_nameless_column_is_a_problem(sqlite_store: Store, tmp_path: Path) -> None:
    ok = write(tmp_path / "a.csv", "mrn,given_name,family_name,\nM1,Ana,Zapata,\n")
    assert import_clients(sqlite_store, ok).inserted == 1
    bad = write(tmp_path / "b.csv", "mrn,given_name,family_name,\nM2,Ben,Young,x\n")
    assert str(import_clients(sqlite_store, bad).errors[0]) == (
        "line 2, column 4: has a value but no header"
    )


def test_dry_run_counts_and_writes_nothing(sqlite_store: Store, tmp_path: Path) -> None:
    add_client(sqlite_store, "Ana", "Zapata", mrn="M1")
    result = import_clients(sqlite_store, write(tmp_path / "a.csv", HEADER + ROWS), dry_run=True)
    assert result.ok and (result.inserted, result.updated) == (2, 1)
    assert "would be imported (dry run: nothing written)" in result.summary()
    assert count(sqlite_store, Client) == 1
    assert clients(sqlite_store)[0].dob is None


def test_failure_while_writing_leaves_nothing_behind(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One transaction per file: a crash after the first batch writes nothing at all."""
    from cm_tui.services import importer

    monkeypatch.setattr(importer, "BATCH", 2)
    calls = {"n": 0}

    def boom(stage: str, done: int, total: int) -> None:
        if stage == "writing" and done >= 2:
            calls["n"] += 1
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        import_clients(sqlite_store, write(tmp_path / "a.csv", HEADER + ROWS), progress=boom)
    assert calls["n"] == 1
    assert count(sqlite_store, Client) == 0
    # the name-search trigger set aside during the bulk insert is back
    add_client(sqlite_store, "Zed", "Quux", mrn="Z9")
    with sqlite_store.read() as s:
        hits = s.execute(text("SELECT rowid FROM client_fts WHERE client_fts MATCH 'quux'")).all()
    assert len(hits) == 1


def test_imported_clients_are_found_by_name_search(sqlite_store: Store, tmp_path: Path) -> None:
    from cm_tui.store.queries import find_clients

    add_client(sqlite_store, "Old", "Timer", mrn="M0")
    import_clients(sqlite_store, write(tmp_path / "a.csv", HEADER + ROWS))
    sup = add_user(sqlite_store, "sue", role="supervisor")
    with sqlite_store.read() as s:
        assert [c.mrn for c in find_clients(s, sup, "zapa")] == ["M1"]
        assert [c.mrn for c in find_clients(s, sup, "timer")] == ["M0"]


def test_progress_is_reported(sqlite_store: Store, tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    import_clients(
        sqlite_store,
        write(tmp_path / "a.csv", HEADER + ROWS),
        progress=lambda s, d, t: seen.append((s, d, t)),
    )
    assert ("reading", 3, 3) in seen and ("writing", 3, 3) in seen


def test_preview_shows_first_rows_and_unknown_headers(tmp_path: Path) -> None:
    f = write(tmp_path / "p.csv", "Member ID,given_name,family_name\nM1,Ana,Zapata\nM2,B,C\n")
    preview = preview_file(f, limit=1)
    assert preview.headers == ["Member ID", "given_name", "family_name"]
    assert preview.rows == [["M1", "Ana", "Zapata"]]
    assert preview.targets == [None, "given_name", "family_name"]
    assert preview.unknown == ["Member ID"]
    mapped = preview_file(f, {"Member ID": "mrn"})
    assert mapped.targets[0] == "mrn" and not mapped.unknown


# ---------------------------------------------------------------- round trip


def test_round_trip_export_import_export_is_identical(any_store: Store, tmp_path: Path) -> None:
    from cm_tui.services.demo import generate_demo

    generate_demo(any_store, clients=150, seed=7, contacts_per_client=0, followups_per_client=0)
    first = export_text(any_store)
    assert first.splitlines()[0] == ",".join(client_fields())

    from cm_tui.store.db import open_store

    target = open_store(db_url(tmp_path / "empty.db"))
    try:
        with any_store.read() as s, target.write() as t:
            from cm_tui.store.models import User

            for u in s.exec(select(User)).scalars():
                t.add(User(**{k: v for k, v in u.model_dump().items() if k != "id"}))
        f = write(tmp_path / "clients.csv", first)
        result = import_clients(target, f)
        assert result.ok and result.inserted == 150
        assert export_text(target) == first
        assert import_clients(target, f).unchanged == 150
        assert export_text(target, fmt="jsonl") == export_text(any_store, fmt="jsonl")
    finally:
        target.close()


# ---------------------------------------------------------------- utilization events


def test_events_import_by_mrn(any_store: Store, tmp_path: Path) -> None:
    add_client(any_store, "Ana", "Zapata", mrn="M1")
    add_client(any_store, "Ben", "Young", mrn="M2")
    text = (
        "mrn,kind,occurred_at,facility\n"
        "M1,ED visit,2026-10-03,St Mary\n"
        "M1,admission,2026-10-05T14:30:00+00:00,St Mary\n"
        "M2,readmit,2026-10-20T08:00,\n"
    )
    f = write(tmp_path / "ev.csv", text)
    pacific = timezone(-timedelta(hours=7))
    result = import_events(any_store, f, tz=pacific)
    assert result.ok and result.inserted == 3
    with any_store.read() as s:
        events = list(
            s.exec(select(UtilizationEvent).order_by(col(UtilizationEvent.occurred_at))).scalars()
        )
    assert [e.kind for e in events] == ["ed_visit", "admission", "readmission"]
    assert events[0].occurred_at == datetime(2026, 10, 3, 19, 0, tzinfo=UTC)  # noon local
    assert events[2].occurred_at == datetime(2026, 10, 20, 15, 0, tzinfo=UTC)
    assert {e.source for e in events} == {"import"}
    assert import_events(any_store, f, tz=pacific).unchanged == 3
    assert count(any_store, UtilizationEvent) == 3


def test_events_import_problems(sqlite_store: Store, tmp_path: Path) -> None:
    add_client(sqlite_store, "Ana", "Zapata", mrn="M1")
    text = (
        "mrn,kind,occurred_at\n"
        "M9,ed_visit,2026-10-03\n"
        "M1,picnic,2026-10-03\n"
        "M1,ed_visit,yesterday\n"
    )
    result = import_events(sqlite_store, write(tmp_path / "ev.csv", text))
    assert [str(e) for e in result.errors] == [
        "line 2, mrn: no client with MRN 'M9'",
        "line 3, kind: 'picnic' is not one of ed_visit, admission, readmission",
        "line 4, occurred_at: can't read 'yesterday' as a date or time; "
        "use 2026-10-03 or 2026-10-03T14:30",
    ]
    only_unknown = "mrn,kind,occurred_at\nM9,ed_visit,2026-10-03\n"
    result = import_events(sqlite_store, write(tmp_path / "ev2.csv", only_unknown))
    assert [str(e) for e in result.errors] == ["line 2, mrn: no client with MRN 'M9'"]
    assert count(sqlite_store, UtilizationEvent) == 0


# ---------------------------------------------------------------- timing (printed, not asserted)


def test_timing_100k_rows(sqlite_store: Store, tmp_path: Path) -> None:
    """DESIGN §8 budget: 100,000 clients from CSV in under 15 s (`make bench` checks it)."""
    n = 100_000
    f = tmp_path / "big.csv"
    languages = ("English", "Spanish", "Vietnamese")
    with f.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(client_fields())
        blank = dict.fromkeys(client_fields(), "")
        for i in range(n):
            row = blank | {
                "mrn": f"MRN{i:07d}",
                "given_name": f"Given{i % 977}",
                "family_name": f"Family{i % 1511}",
                "dob": f"19{40 + i % 50}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "sex": "female" if i % 2 else "male",
                "language": languages[i % 3],
                "phone": f"(555) {i % 1000:03d}-{i % 10000:04d}",
                "address": f"{i} Main St, Portland, OR 97201",
                "preferred_contact": "phone",
                "risk_tier": "high" if i % 5 == 0 else "low",
                "program": "CCM",
                "status": "active",
                "enrolled_on": "2026-01-15",
                "pcp_name": "Dr. Priya Natarajan",
                "pcp_practice": "Riverside Family Medicine",
                "what_matters": "Seeing my grandchildren" if i % 3 == 0 else "",
            }
            w.writerow(row.values())
    started = time.perf_counter()
    result = import_clients(sqlite_store, f)
    seconds = time.perf_counter() - started
    assert result.ok and result.inserted == n
    print(f"\nimport of {n:,} clients from CSV: {seconds:.1f} s (budget 15 s)")
