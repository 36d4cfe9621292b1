"""A small, fixed organisation and a frozen clock, for snapshot and Pilot tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cm_tui.app import CmTuiApp, make_app
from cm_tui.config import Settings
from cm_tui.store.db import Store, open_store
from cm_tui.store.models import ContactAddendum, Screening
from cm_tui.store.types import freeze_clock
from tests.engine import db_url
from tests.factories import add_client, add_contact, add_followup, add_need, add_user

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)

PEOPLE = [
    ("Rosa", "Alvarez", "Rosie", date(1944, 3, 2), "high", "CCM", "phone", "Spanish"),
    ("Walter", "Brooks", None, date(1951, 7, 19), "rising", "TCM", "phone", "English"),
    ("Mei", "Chen", None, date(1938, 11, 30), "high", "complex", "text", "Chinese"),
    ("Dorothy", "Dawson", "Dot", date(1949, 1, 4), "low", "CCM", "letter", "English"),
    ("[bold]Evil[/bold]", "Escape\x1b[31m", None, date(1960, 5, 5), "low", "CCM", "phone", None),
    ("Frank", "Fischer", None, date(1957, 9, 9), "rising", "CCM", "video", "German"),
    ("Gloria", "Garcia", None, date(1947, 12, 24), "high", "TCM", "in_person", "Spanish"),
    ("Hassan", "Haddad", None, date(1955, 2, 14), "low", "CCM", "phone", "Arabic"),
]


def build_store(path: Path) -> Store:
    """The fixed organisation in a demo-marked database at ``path``."""
    freeze_clock(NOW)
    store = open_store(db_url(path))
    store.set_meta("demo", "1")
    ann = add_user(store, "ann", display_name="Ann Lee, RN", password="ann-password")
    bob = add_user(store, "bob", display_name="Bob Ortiz")
    add_user(store, "sue", role="supervisor", display_name="Sue Park")
    ids = []
    for i, (given, family, pref, dob, risk, program, prefers, lang) in enumerate(PEOPLE):
        ids.append(
            add_client(
                store,
                given,
                family,
                ann if i != 7 else bob,
                preferred_name=pref,
                dob=dob,
                risk_tier=risk,
                program=program,
                preferred_contact=prefers,
                language=lang,
                mrn=f"MRN{1000 + i}",
                phone=f"(555) 010-{2000 + i}",
                best_time="mornings" if i % 2 else "after 3pm",
                pcp_name="Dr. Priya Natarajan",
                pcp_practice="Riverside Family Medicine",
                pcp_phone="(555) 020-3000",
                what_matters=(
                    "Staying out of the hospital so I can keep my garden going "
                    "and see my grandkids on Sundays."
                    if i == 0
                    else "[link=http://x]click[/link] \x1b[2J not markup"
                    if i == 4
                    else None
                ),
            )
        )
    rosa = ids[0]
    notes = [
        ("reached", "phone", "client", 25, "Spoke with pt. BP log 130s/80s. Refill due Fri."),
        ("left_message", "phone", "client", 2, "LVM re: BP log, asked to call back."),
        ("reached", "phone", "caregiver", 15, "Spoke with daughter, pt at dialysis, call Thu."),
        ("reached", "phone", "pcp", 5, "Faxed med list to Riverside; Dr N aware of falls."),
        ("no_answer", "phone", "client", None, "No answer, no VM set up."),
    ]
    first_contact = None
    for n, (outcome, method, party, minutes, note) in enumerate(notes * 3):
        cid = add_contact(
            store,
            rosa,
            NOW - timedelta(days=2 + n * 4, hours=n % 5),
            ann,
            outcome=outcome,
            method=method,
            party=party,
            duration_min=minutes,
            note=note,
        )
        first_contact = first_contact or cid
    add_contact(store, ids[1], NOW - timedelta(days=40), ann, note="Post-discharge call [bold]x")
    add_contact(store, ids[2], NOW - timedelta(days=9), ann, outcome="no_answer")
    with store.write() as s:
        s.add(
            ContactAddendum(
                contact_id=first_contact,
                user_id=ann.id,
                text="Correction: refill is due Thursday.",
                created_at=NOW - timedelta(days=1),
            )
        )
        s.add(
            Screening(
                client_id=rosa,
                user_id=ann.id,
                script_id="ahc-hrsn",
                script_version="1.0",
                status="completed",
                started_at=NOW - timedelta(days=30),
                completed_at=NOW - timedelta(days=30),
                opt_out_acknowledged=True,
                result_json={"positive_domains": ["food", "transportation"], "flags": []},
            )
        )
    add_followup(
        store, rosa, NOW - timedelta(days=2), ann, title="Call re: BP log", priority="high"
    )
    add_followup(
        store,
        rosa,
        NOW + timedelta(days=5),
        ann,
        title="Check food bank referral",
        kind="referral_check",
    )
    add_followup(store, ids[2], NOW + timedelta(hours=3), ann, title="Callback: pharmacy")
    add_need(store, rosa, "food", status="referred")
    add_need(store, rosa, "transportation")
    return store


def build_app(path: Path, user: str = "ann", size_hint: str = "") -> CmTuiApp:
    build_store(path).close()
    app = make_app(db_url(path), demo=True, user=user, settings=Settings(idle_lock_minutes=0))
    app.show_clock = False
    return app
