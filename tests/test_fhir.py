"""FHIR R4 export: every resource validates with `fhir.resources` (R4B models), LOINC codes
from the scripts, declined items marked asked-declined, references resolve in the bundle."""

from __future__ import annotations

import io
import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlmodel import col, select

from cm_tui.screening import evaluate, load_builtin
from cm_tui.services.fhir import (
    collection_bundle,
    export_bundles,
    export_transaction,
    iter_client_resources,
)
from cm_tui.store.db import Store
from cm_tui.store.models import (
    AuditEvent,
    CarePlan,
    Goal,
    Referral,
    Resource,
    Screening,
    ScreeningAnswer,
)
from tests.factories import add_client, add_contact, add_followup, add_need, add_user

T0 = datetime(2026, 10, 5, 16, 0, tzinfo=UTC)


def add_screening(
    store: Store,
    client_id: int,
    script_id: str,
    answers: dict[str, list[str]],
    declined: set[str],
    status: str = "completed",
) -> int:
    script = load_builtin(script_id)
    result = evaluate(script, answers, declined)
    with store.write() as s:
        scr = Screening(
            client_id=client_id,
            script_id=script.id,
            script_version=script.version,
            status=status,
            started_at=T0,
            completed_at=T0 if status == "completed" else None,
            opt_out_acknowledged=status != "declined",
            result_json=result.to_json() if status == "completed" else None,
        )
        s.add(scr)
        s.flush()
        assert scr.id is not None
        for item_id, options in answers.items():
            s.add(ScreeningAnswer(screening_id=scr.id, item_id=item_id, option_ids=options,
                                  answered_at=T0))  # fmt: skip
        for item_id in declined:
            s.add(ScreeningAnswer(screening_id=scr.id, item_id=item_id, declined=True,
                                  answered_at=T0))  # fmt: skip
        return scr.id


@pytest.fixture
def small(any_store: Store) -> dict[str, Any]:
    ann = add_user(any_store, "ann", display_name="Ann Lee, RN")
    cara = add_user(any_store, "cara", role="chw", display_name="Cara Diaz")
    a = add_client(
        any_store,
        "Ana",
        "Zapata",
        ann,
        mrn="M1",
        chw_id=cara.id,
        preferred_name="Anita",
        dob=datetime(1950, 1, 31).date(),
        sex="female",
        language="Spanish",
        phone="(555) 010-0001",
        pcp_name="Dr. Priya Natarajan",
        what_matters="My garden",
    )
    b = add_client(any_store, "Ben", "Young", ann, mrn="M2", sex="M")
    contact = add_contact(any_store, a, T0, ann, note="Spoke with pt", duration_min=12)
    add_contact(any_store, a, T0 + timedelta(days=1), ann, outcome="no_answer", method="text")
    add_contact(any_store, b, T0, ann, direction="inbound", party="caregiver")
    add_followup(
        any_store,
        a,
        T0 + timedelta(days=2),
        ann,
        title="Call back",
        status="done",
        completed_at=T0 + timedelta(days=1),
        completed_contact_id=contact,
    )
    need = add_need(any_store, a, "food")
    add_need(any_store, b, "housing", status="resolved")
    ahc = add_screening(
        any_store,
        a,
        "ahc-hrsn",
        {
            "living_situation": ["steady"],
            "food_worry": ["often_true"],
            "safety_hurt": ["never"],
            "safety_insult": ["rarely"],
        },
        {"safety_threaten", "transportation"},
    )
    phq = add_screening(any_store, a, "phq-9", {f"phq_{i}": ["1"] for i in range(1, 10)}, set())
    add_screening(any_store, b, "phq-2", {}, set(), status="declined")
    with any_store.write() as s:
        res = Resource(name="Food Bank", domains=["food"])
        s.add(res)
        plan = CarePlan(client_id=a)
        s.add(plan)
        s.flush()
        s.add(Referral(need_id=need, resource_id=res.id, status="closed_unmet", sent_at=T0,
                       closed_at=T0 + timedelta(days=9)))  # fmt: skip
        s.add(Goal(care_plan_id=plan.id, client_words="Walk to church again", status="met"))
    return {"ann": ann, "cara": cara, "a": a, "b": b, "ahc": ahc, "phq": phq, "need": need}


def resources_of(store: Store, **kw: Any) -> dict[int, list[dict[str, Any]]]:
    with store.read() as s:
        return dict(iter_client_resources(s, kw.pop("viewer", None), **kw))


def by_type(items: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in items if r["resourceType"] == kind]


def test_bundles_validate_and_references_resolve(any_store: Store, small: dict[str, Any]) -> None:
    for cid, items in resources_of(any_store).items():
        bundle = collection_bundle(cid, items)
        Bundle.model_validate(bundle)  # raises on any invalid resource
        present = {f"{r['resourceType']}/{r['id']}" for r in items}
        refs = set(_references(bundle))
        assert refs <= present, refs - present


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["reference"]] if isinstance(node.get("reference"), str) else []
        return found + [r for v in node.values() for r in _references(v)]
    if isinstance(node, list):
        return [r for v in node for r in _references(v)]
    return []


def test_patient(any_store: Store, small: dict[str, Any]) -> None:
    (patient,) = by_type(resources_of(any_store)[small["a"]], "Patient")
    assert patient["identifier"][0]["value"] == "M1"
    assert patient["identifier"][0]["type"]["coding"][0]["code"] == "MR"
    assert patient["name"] == [
        {"use": "official", "family": "Zapata", "given": ["Ana"]},
        {"use": "nickname", "given": ["Anita"]},
    ]
    assert patient["gender"] == "female" and patient["birthDate"] == "1950-01-31"
    assert patient["communication"][0]["language"]["coding"][0]["code"] == "es"
    assert patient["generalPractitioner"] == [{"display": "Dr. Priya Natarajan"}]
    assert {"url": patient["extension"][-1]["url"], "valueString": "My garden"} in patient[
        "extension"
    ]


def test_questionnaire_response_marks_declined_items(
    any_store: Store, small: dict[str, Any]
) -> None:
    items = resources_of(any_store)[small["a"]]
    qr = next(r for r in by_type(items, "QuestionnaireResponse") if r["id"] == str(small["ahc"]))
    assert qr["questionnaire"] == "http://loinc.org/q/96777-8"
    assert qr["status"] == "completed"
    answered = {i["linkId"]: i for i in qr["item"]}
    living = answered["living_situation"]
    assert living["answer"][0]["valueCoding"]["code"] == "steady"
    assert {"system": "http://loinc.org", "code": "71802-3"} in [
        e.get("valueCoding") for e in living["extension"]
    ]
    declined = answered["transportation"]
    assert "answer" not in declined
    assert {
        "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
        "valueCode": "asked-declined",
    } in declined["extension"]
    hurt = answered["safety_hurt"]["answer"][0]
    assert hurt["extension"] == [
        {"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue", "valueDecimal": 1}
    ]
    # items follow the script's order
    assert [i["linkId"] for i in qr["item"]] == [
        "living_situation",
        "food_worry",
        "transportation",
        "safety_hurt",
        "safety_insult",
        "safety_threaten",
    ]


def test_scores_are_observations_with_loinc_codes(any_store: Store, small: dict[str, Any]) -> None:
    items = resources_of(any_store)[small["a"]]
    observations = {o["id"]: o for o in by_type(items, "Observation")}
    phq9 = observations[f"{small['phq']}-phq9"]
    assert phq9["code"]["coding"][0]["code"] == "44261-6"
    assert phq9["valueInteger"] == 9
    assert phq9["interpretation"] == [{"text": "mild"}]
    assert phq9["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{small['phq']}"}]
    safety = observations[f"{small['ahc']}-safety"]  # a safety item was declined
    assert safety["code"]["coding"][0]["code"] == "95614-4"
    assert "valueInteger" not in safety
    assert safety["dataAbsentReason"]["coding"][0]["code"] == "asked-declined"
    assert safety["note"] == [{"text": "The answered items add up to 3."}]


def test_declined_screening_is_stopped(any_store: Store, small: dict[str, Any]) -> None:
    (qr,) = by_type(resources_of(any_store)[small["b"]], "QuestionnaireResponse")
    assert qr["status"] == "stopped" and "item" not in qr
    assert qr["questionnaire"] == "http://loinc.org/q/55757-9"
    assert not by_type(resources_of(any_store)[small["b"]], "Observation")


def test_contacts_needs_referrals_goals_tasks(any_store: Store, small: dict[str, Any]) -> None:
    items = resources_of(any_store)[small["a"]]
    reached, missed = by_type(items, "Communication")
    assert reached["status"] == "completed" and reached["medium"][0]["coding"][0]["code"] == "PHONE"
    assert reached["payload"] == [{"contentString": "Spoke with pt"}]
    assert reached["sender"] == {"display": "Ann Lee, RN"}
    assert reached["recipient"] == [{"reference": f"Patient/{small['a']}"}]
    assert missed["status"] == "not-done" and missed["statusReason"] == {"text": "no answer"}
    assert missed["medium"][0]["coding"][0]["code"] == "SMSWRIT"
    (inbound,) = by_type(resources_of(any_store)[small["b"]], "Communication")
    assert inbound["sender"] == {"display": "caregiver"} and "received" in inbound

    (condition,) = by_type(items, "Condition")
    assert condition["code"]["text"] == "Food insecurity"
    assert condition["clinicalStatus"]["coding"][0]["code"] == "active"
    (resolved,) = by_type(resources_of(any_store)[small["b"]], "Condition")
    assert resolved["clinicalStatus"]["coding"][0]["code"] == "resolved"

    (referral,) = by_type(items, "ServiceRequest")
    assert referral["status"] == "revoked" and referral["performer"] == [{"display": "Food Bank"}]
    assert referral["reasonReference"] == [{"reference": f"Condition/{small['need']}"}]

    (goal,) = by_type(items, "Goal")
    assert goal["description"] == {"text": "Walk to church again"}
    assert goal["lifecycleStatus"] == "completed"

    (task,) = by_type(items, "Task")
    assert task["status"] == "completed" and task["description"] == "Call back"
    assert task["restriction"] == {"period": {"end": "2026-10-07T16:00:00Z"}}
    assert task["output"][0]["valueReference"] == {"reference": f"Communication/{reached['id']}"}


def test_transaction_bundle(any_store: Store, small: dict[str, Any]) -> None:
    buf = io.StringIO()
    result = export_transaction(any_store, buf, base_url="https://fhir.example.org/r4/")
    bundle = json.loads(buf.getvalue())
    Bundle.model_validate(bundle)
    assert bundle["type"] == "transaction"
    assert len(bundle["entry"]) == result.resources and result.clients == 2
    first = bundle["entry"][0]
    assert first["request"] == {"method": "PUT", "url": f"Patient/{small['a']}"}
    assert first["fullUrl"] == f"https://fhir.example.org/r4/Patient/{small['a']}"


def test_empty_transaction_bundle_is_valid(any_store: Store) -> None:
    buf = io.StringIO()
    export_transaction(any_store, buf)
    bundle = json.loads(buf.getvalue())
    Bundle.model_validate(bundle)
    assert "entry" not in bundle


def test_bundle_files_are_0600_role_scoped_and_audited(
    any_store: Store, small: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "fhir"
    result = export_bundles(any_store, out, viewer=small["cara"])
    assert result.clients == 1
    (only,) = sorted(out.iterdir())
    assert only.name == f"Patient-{small['a']}.json"
    assert stat.S_IMODE(os.stat(only).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o700
    Bundle.model_validate_json(only.read_text(encoding="utf-8"))
    with any_store.read() as s:
        event = s.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()
    assert event is not None and event.action == "export" and event.entity == "fhir"
    assert event.user_id == small["cara"].id
    assert "1 clients" in (event.detail or "") and "cara (chw)" in (event.detail or "")


@pytest.mark.slow
def test_demo_database_of_1000_clients_validates(sqlite_store: Store) -> None:
    """The issue's done-when: FHIR validation passes for a demo database of 1,000 clients."""
    from cm_tui.services.demo import generate_demo

    generate_demo(sqlite_store, clients=1000, seed=3)
    clients = resources = 0
    kinds: set[str] = set()
    with sqlite_store.read() as s:
        for cid, items in iter_client_resources(s, None):
            Bundle.model_validate(collection_bundle(cid, items))
            clients += 1
            resources += len(items)
            kinds.update(r["resourceType"] for r in items)
    assert clients == 1000
    assert kinds == {
        "Patient",
        "Communication",
        "QuestionnaireResponse",
        "Observation",
        "Condition",
        "ServiceRequest",
        "Task",
        "Goal",
    }
    print(f"\nFHIR: {clients} clients, {resources:,} resources, all valid (R4B models)")
