"""Needs, resources and closed-loop referrals on every engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from cm_tui.services import referrals as svc
from cm_tui.services import resources as res
from cm_tui.services.clients import NotAllowed
from cm_tui.services.importer import ImportFailed
from cm_tui.store.db import Store
from cm_tui.store.models import AuditEvent, FollowUp, Need, Referral, Resource
from cm_tui.store.types import freeze_clock
from tests.factories import add_client, add_need, add_user

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    freeze_clock(NOW)
    yield
    freeze_clock(None)


def resource(store: Store, name: str, domains: list[str], languages: list[str]) -> int:
    return res.create_resource(
        store, None, res.ResourceInput(name=name, domains=domains, languages=languages)
    )


@pytest.fixture
def org(any_store: Store) -> dict[str, Any]:
    ann = add_user(any_store, "ann")
    chw = add_user(any_store, "cam", role="chw")
    client = add_client(
        any_store, "Rosa", "Alvarez", ann, language="Spanish", preferred_contact="text"
    )
    other = add_client(any_store, "Walter", "Brooks", None)
    return {"store": any_store, "ann": ann, "chw": chw, "client": client, "other": other}


def audit_details(store: Store, entity: str) -> list[str]:
    with store.read() as s:
        return [
            e.detail or ""
            for e in s.exec(
                select(AuditEvent).where(AuditEvent.entity == entity).order_by(col(AuditEvent.id))
            ).all()
        ]


def test_suggestions_language_first(org: dict[str, Any]) -> None:
    store = org["store"]
    a = resource(store, "Alpha Pantry", ["food"], ["English"])
    b = resource(store, "Zeta Comedor", ["food", "benefits"], ["English", "Spanish"])
    resource(store, "Roof Now", ["housing"], ["Spanish"])
    need = add_need(store, org["client"], "food")
    got = svc.suggest_resources(store, org["ann"], need)
    assert [s.resource_id for s in got] == [b, a]
    assert got[0].language_match and not got[1].language_match


def test_closed_loop(org: dict[str, Any]) -> None:
    store, ann = org["store"], org["ann"]
    pantry = resource(store, "Eastside Pantry", ["food"], ["Spanish"])
    need = svc.add_need(store, ann, org["client"], "food", "ran out last week")
    with pytest.raises(svc.ReferralError, match="already has an open food need"):
        svc.add_need(store, ann, org["client"], "food")
    sent = svc.send_referral(store, ann, need, pantry, method="fax", note="form faxed")
    assert sent.due_at == NOW + timedelta(days=7)
    assert sent.title.startswith("Text Rosa:")
    with store.read() as s:
        fu = s.get(FollowUp, sent.followup_id)
        assert fu is not None and fu.kind == "referral_check" and fu.assignee_id == ann.id
        ref = s.get(Referral, sent.referral_id)
        assert ref is not None and ref.note == "Sent by fax: form faxed"
        n = s.get(Need, need)
        assert n is not None and n.status == "referred"
    with pytest.raises(svc.ReferralError, match="already exists"):
        svc.send_referral(store, ann, need, pantry, method="phone")
    up = svc.update_referral(store, ann, sent.referral_id, "accepted")
    assert not up.offer_resolve
    with pytest.raises(svc.ReferralError, match="cannot go back"):
        svc.update_referral(store, ann, sent.referral_id, "sent")
    up = svc.update_referral(store, ann, sent.referral_id, "completed")
    assert up.offer_resolve
    with pytest.raises(svc.ReferralError, match="stays closed"):
        svc.update_referral(store, ann, sent.referral_id, "closed_unmet", reason="x")
    svc.resolve_need(store, ann, need)
    with store.read() as s:
        n = s.get(Need, need)
        assert n is not None and n.status == "resolved" and n.closed_at is not None
    assert svc.client_needs(store, ann, org["client"]) == []
    assert any("referred to resource" in d for d in audit_details(store, "referral"))
    assert audit_details(store, "need")[-1] == "status resolved"
    assert "sent -> accepted" in audit_details(store, "referral")


def test_closed_unmet_needs_a_reason_and_other_referral_keeps_need_open(
    org: dict[str, Any],
) -> None:
    store, ann = org["store"], org["ann"]
    one = resource(store, "One", ["housing"], [])
    two = resource(store, "Two", ["housing"], [])
    need = add_need(store, org["client"], "housing")
    r1 = svc.send_referral(store, ann, need, one, method="phone")
    r2 = svc.send_referral(store, ann, need, two, method="email", check_days=3)
    assert r2.due_at == NOW + timedelta(days=3)
    with pytest.raises(svc.ReferralError, match="Say why"):
        svc.update_referral(store, ann, r1.referral_id, "closed_unmet", reason="  ")
    assert not svc.update_referral(
        store, ann, r1.referral_id, "closed_unmet", reason="waitlist full"
    ).offer_resolve
    with pytest.raises(svc.ReferralError, match="still open"):
        svc.resolve_need(store, ann, need)
    assert svc.update_referral(
        store, ann, r2.referral_id, "closed_unmet", reason="no answer"
    ).offer_resolve
    views = svc.client_needs(store, ann, org["client"])
    assert len(views) == 1 and views[0].open_referrals == 0
    assert "Closed, unmet: waitlist full" in (views[0].referrals[1].note or "")


def test_bad_referral_input_writes_nothing(org: dict[str, Any]) -> None:
    store, ann = org["store"], org["ann"]
    pantry = resource(store, "Pantry", ["food"], [])
    need = add_need(store, org["client"], "food")
    with pytest.raises(svc.ReferralError, match="Say how it was sent"):
        svc.send_referral(store, ann, need, pantry, method="pigeon")
    with pytest.raises(svc.ReferralError, match=r"NUL|null|control"):
        svc.send_referral(store, ann, need, pantry, method="phone", note="a\x00b")
    with pytest.raises(svc.ReferralError, match="no longer in the directory"):
        svc.send_referral(store, ann, need, 9999, method="phone")
    with pytest.raises(svc.ReferralError, match="domain must be"):
        svc.add_need(store, ann, org["client"], "moon")
    with store.read() as s:
        assert s.exec(select(Referral)).all() == []
        assert s.exec(select(FollowUp)).all() == []
        n = s.get(Need, need)
        assert n is not None and n.status == "identified"


def test_chw_only_reaches_own_clients(org: dict[str, Any]) -> None:
    store = org["store"]
    need = add_need(store, org["other"], "food")
    with pytest.raises(NotAllowed):
        svc.suggest_resources(store, org["chw"], need)
    with pytest.raises(NotAllowed):
        svc.add_need(store, org["chw"], org["other"], "housing")


def test_resource_directory_crud_and_search(org: dict[str, Any]) -> None:
    store = org["store"]
    rid = res.create_resource(
        store,
        org["ann"],
        res.ResourceInput(
            name="  Bus  Buddies ",
            domains=res.parse_domains("Transportation; mental health"),
            phone="(555) 010-2000 ext 4",
            languages=res.parse_languages("english;Spanish; ENGLISH"),
        ),
    )
    row = res.get_resource(store, rid)
    assert row is not None and row.name == "Bus Buddies"
    assert row.domains == ["transportation", "mental_health"]
    assert row.languages == ["English", "Spanish"]
    with pytest.raises(res.ResourceError, match="already in the directory"):
        resource(store, "bus buddies", ["food"], [])
    with pytest.raises(res.ResourceError, match="not a phone number"):
        res.create_resource(
            store, None, res.ResourceInput(name="X", domains=["food"], phone="call me")
        )
    with pytest.raises(res.ResourceError, match="not a domain"):
        res.parse_domains("food; moon")
    resource(store, "Food Hub", ["food"], ["Somali"])
    assert [r.name for r in res.search_resources(store, "bus")] == ["Bus Buddies"]
    assert [r.name for r in res.search_resources(store, "food")] == ["Food Hub"]
    assert [r.name for r in res.search_resources(store, "somali")] == ["Food Hub"]
    resource(store, "Casa Abierta", ["housing"], ["Español"])
    assert [r.name for r in res.search_resources(store, "español")] == ["Casa Abierta"]
    assert [r.name for r in res.search_resources(store, "Español")] == ["Casa Abierta"]
    assert [r.name for r in res.search_resources(store, domain="transportation")] == ["Bus Buddies"]
    first = res.search_resources(store, limit=1)
    assert [
        r.name for r in res.search_resources(store, after=(first[0].name, first[0].id or 0))
    ] == ["Casa Abierta", "Food Hub"]
    assert [r.name for r in res.search_resources(store, "100%_")] == []
    res.update_resource(
        store, org["ann"], rid, res.ResourceInput(name="Bus Buddies", domains=["transportation"])
    )
    row = res.get_resource(store, rid)
    assert row is not None and row.domains == ["transportation"] and row.languages == []


CSV_OK = (
    "name,domains,phone,address,hours,eligibility,languages,notes\n"
    'Corner Pantry,food,555-010-1000,"1 Main St, Springfield",Mon-Fri 9-5,All,English;Spanish,\n'
    "Warm Homes,utilities; housing,,,,,,winter only\n"
)


def test_import_resources(org: dict[str, Any], tmp_path: Path) -> None:
    store = org["store"]
    path = tmp_path / "dir.csv"
    path.write_text(CSV_OK, encoding="utf-8")
    dry = res.import_resources(store, path, dry_run=True)
    assert dry.ok and dry.inserted == 2 and "dry run" in dry.summary()
    assert res.search_resources(store) == []
    done = res.import_resources(store, path)
    assert done.ok and done.inserted == 2
    again = res.import_resources(store, path)
    assert again.inserted == 0 and again.updated == 2
    with store.read() as s:
        rows = s.exec(select(Resource).order_by(col(Resource.name))).all()
    assert [(r.name, r.domains) for r in rows] == [
        ("Corner Pantry", ["food"]),
        ("Warm Homes", ["utilities", "housing"]),
    ]
    assert rows[0].address == "1 Main St, Springfield" and rows[0].languages == [
        "English",
        "Spanish",
    ]


def test_import_resources_bad_input_writes_nothing(org: dict[str, Any], tmp_path: Path) -> None:
    store = org["store"]
    path = tmp_path / "bad.csv"
    path.write_text(
        "name,domains,phone\nGood,food,555-010-1000\n,food,\nBad,moon,\nPhone,food,call us\n"
        "good,housing,\n",
        encoding="utf-8",
    )
    result = res.import_resources(store, path)
    assert not result.ok
    msgs = [str(e) for e in result.errors]
    assert msgs[0] == "line 3, name: Give the resource a name."
    assert msgs[1].startswith("line 4, domains: 'moon' is not a domain")
    assert msgs[2].startswith("line 5, phone:")
    assert msgs[3] == "line 6, name: 'good' is also on line 2"
    assert "4 of 5 rows have problems" in result.summary() and "nothing was imported" in (
        result.summary()
    )
    assert res.search_resources(store) == []
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name,domains\nCaf\xe9,food\n".encode("latin-1"))
    with pytest.raises(ImportFailed, match="not UTF-8"):
        res.import_resources(store, latin)
    odd = tmp_path / "odd.csv"
    odd.write_text("name,domains,colour\nX,food,red\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="unknown column"):
        res.import_resources(store, odd)
    nohead = tmp_path / "nohead.csv"
    nohead.write_text("name,phone\nX,555-010-1000\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="no domains column"):
        res.import_resources(store, nohead)
    with pytest.raises(ImportFailed, match="Only supervisors"):
        res.import_resources(store, path, viewer=org["ann"])
