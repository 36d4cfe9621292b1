"""FHIR R4 export (DESIGN §7): a collection Bundle per client, or one transaction Bundle.

What each record becomes:

- client -> ``Patient`` (MRN as an MR identifier; preferred name as a nickname;
  PCP as generalPractitioner; risk tier, programme, preferred contact, best
  time and "what matters to me" as extensions);
- contact -> ``Communication`` (medium from v3-ParticipationMode; reached or
  left a message: completed, otherwise not-done with the outcome as the
  reason; the note and its addenda as payloads; minutes as an extension);
- screening -> ``QuestionnaireResponse``: the questionnaire is LOINC's
  (``http://loinc.org/q/<panel>``) when the script has a panel code; each item
  carries its LOINC code (extension) and its answers as codings (with the
  option's score as ``ordinalValue``); a declined item has no answer and the
  standard ``data-absent-reason`` extension with ``asked-declined``; a
  screening declined as a whole is ``stopped``;
- each score of a completed screening -> ``Observation`` (category survey,
  LOINC code from the script, e.g. 44261-6 PHQ-9 total, 95614-4 AHC safety
  total, 55758-7 PHQ-2 total); a score left incomplete by a declined item is
  an Observation with ``dataAbsentReason`` asked-declined, never a number;
- need -> ``Condition`` (category health-concern; resolved needs abated);
- care-plan goal -> ``Goal`` (the client's own words as its description);
- referral -> ``ServiceRequest`` (SNOMED 3457005 patient referral; the
  resource as performer; the need as reason);
- follow-up -> ``Task`` (due date as restriction.period.end; the completing
  contact as output).

Resource ids are the database ids (a score's Observation: ``<screening>-<score>``),
and the full URLs are written against ``base_url``, so exporting again replaces
rather than duplicates (the transaction Bundle uses PUT).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlmodel import Session

from cm_tui.screening import Script, load_any
from cm_tui.services.export import record_export, scope_clause
from cm_tui.services.interchange import ProgressFn, open_private, private_dir, table_of
from cm_tui.store.access import Viewer
from cm_tui.store.db import Store
from cm_tui.store.models import (
    CarePlan,
    Client,
    Contact,
    ContactAddendum,
    FollowUp,
    Goal,
    Need,
    Referral,
    Resource,
    Screening,
    ScreeningAnswer,
    User,
)
from cm_tui.store.types import utcnow
from cm_tui.store.vocab import label

DEFAULT_BASE_URL = "https://cm-tui.example.org/fhir"
CLIENT_WINDOW = 200  # clients (with all their records) read at a time

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
DATA_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
DATA_ABSENT_CS = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
PARTICIPATION_MODE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/condition-category"
BCP47 = "urn:ietf:bcp:47"

MEDIUM = {
    "phone": ("PHONE", "telephone"),
    "text": ("SMSWRIT", "SMS written"),
    "letter": ("MAILWRIT", "mail"),
    "in_person": ("FACE", "face-to-face"),
    "video": ("VIDEOCONF", "videoconferencing"),
    "portal": ("ONLINEWRIT", "online written"),
}
LANGUAGE_CODES = {
    "english": "en",
    "spanish": "es",
    "vietnamese": "vi",
    "russian": "ru",
    "cantonese": "yue",
    "mandarin": "zh",
    "chinese": "zh",
    "arabic": "ar",
    "somali": "so",
    "tagalog": "tl",
    "ukrainian": "uk",
    "german": "de",
    "french": "fr",
    "korean": "ko",
    "portuguese": "pt",
    "hmong": "hmn",
    "japanese": "ja",
}
NEED_TEXT = {
    "housing": "Housing instability",
    "food": "Food insecurity",
    "transportation": "Transportation insecurity",
    "utilities": "Utility insecurity",
    "safety": "Interpersonal safety concern",
    "financial": "Financial insecurity",
    "mental_health": "Mental health need",
    "depression": "Depression",
    "benefits": "Benefits need",
}
QR_STATUS = {"completed": "completed", "in_progress": "in-progress", "declined": "stopped"}
TASK_STATUS = {"open": "requested", "done": "completed", "cancelled": "cancelled"}
TASK_PRIORITY = {"urgent": "urgent", "high": "asap", "normal": "routine", "low": "routine"}
REFERRAL_STATUS = {
    "sent": "active",
    "accepted": "active",
    "completed": "completed",
    "closed_unmet": "revoked",
}
GOAL_STATUS = {
    "active": ("active", None),
    "met": ("completed", "achieved"),
    "not_met": ("cancelled", "not-achieved"),
    "revised": ("cancelled", None),
}


@dataclass
class FhirResult:
    clients: int
    resources: int
    destination: str
    seconds: float


def fhir_time(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def _fhir_id(*parts: Any) -> str:
    return re.sub(r"[^A-Za-z0-9\-.]", "-", "-".join(str(p) for p in parts))[:64]


def _ref(kind: str, rid: Any) -> dict[str, str]:
    return {"reference": f"{kind}/{rid}"}


def _display(name: str | None) -> dict[str, str] | None:
    return {"display": name} if name else None


def _clean(resource: dict[str, Any]) -> dict[str, Any]:
    """Drop empty elements: FHIR forbids empty strings, arrays and objects."""
    out: dict[str, Any] = {}
    for key, value in resource.items():
        if isinstance(value, dict):
            value = _clean(value)
        elif isinstance(value, list):
            value = [_clean(v) if isinstance(v, dict) else v for v in value]
            value = [v for v in value if v not in (None, "", {}, [])]
        if value in (None, "", {}, []):
            continue
        out[key] = value
    return out


# ---------------------------------------------------------------- building resources


class _Builder:
    """Turns one window of rows into FHIR resources (plain dicts)."""

    def __init__(self, base_url: str, users: dict[int, str]) -> None:
        self.base = base_url.rstrip("/")
        self.ext = f"{self.base}/StructureDefinition/"
        self.cs = f"{self.base}/CodeSystem/"
        self.users = users
        self.scripts: dict[str, Script | None] = {}

    def user(self, user_id: int | None) -> dict[str, str] | None:
        return _display(self.users.get(user_id)) if user_id is not None else None

    def script(self, script_id: str) -> Script | None:
        if script_id not in self.scripts:
            try:
                self.scripts[script_id] = load_any(script_id)
            except (KeyError, ValueError, OSError):
                self.scripts[script_id] = None
        return self.scripts[script_id]

    def full_url(self, resource: dict[str, Any]) -> str:
        return f"{self.base}/{resource['resourceType']}/{resource['id']}"

    # --- Patient -----------------------------------------------------------------------

    def patient(self, c: dict[str, Any]) -> dict[str, Any]:
        telecom = []
        preferred = c["preferred_contact"]
        if c["phone"]:
            telecom.append(
                {"system": "phone", "value": c["phone"], "use": "home", "rank": 1}
                if preferred in ("phone", "video")
                else {"system": "phone", "value": c["phone"], "use": "home"}
            )
            if preferred == "text":
                telecom.append({"system": "sms", "value": c["phone"], "rank": 1})
        if c["alt_phone"]:
            telecom.append({"system": "phone", "value": c["alt_phone"], "use": "temp"})
        if c["email"]:
            telecom.append({"system": "email", "value": c["email"]})
        names = [{"use": "official", "family": c["family_name"], "given": [c["given_name"]]}]
        if c["preferred_name"] and c["preferred_name"] != c["given_name"]:
            names.append({"use": "nickname", "given": [c["preferred_name"]]})
        language = None
        if c["language"]:
            code = LANGUAGE_CODES.get(c["language"].strip().lower())
            language = {
                "language": {
                    "coding": [{"system": BCP47, "code": code}] if code else [],
                    "text": c["language"],
                },
                "preferred": True,
            }
        pcp = ", ".join(p for p in (c["pcp_name"], c["pcp_practice"]) if p)
        extension = [
            {"url": self.ext + "risk-tier", "valueCode": c["risk_tier"]},
            {"url": self.ext + "program", "valueString": c["program"]} if c["program"] else None,
            {"url": self.ext + "preferred-contact", "valueCode": preferred},
            {"url": self.ext + "best-time", "valueString": c["best_time"]}
            if c["best_time"]
            else None,
            {"url": self.ext + "what-matters", "valueString": c["what_matters"]}
            if c["what_matters"]
            else None,
            {"url": self.ext + "consent-date", "valueDate": fhir_time(c["consent_on"])}
            if c["consent_on"]
            else None,
        ]
        return _clean(
            {
                "resourceType": "Patient",
                "id": str(c["id"]),
                "extension": extension,
                "identifier": [
                    {
                        "use": "usual",
                        "type": {"coding": [{"system": V2_0203, "code": "MR"}], "text": "MRN"},
                        "system": f"{self.base}/NamingSystem/mrn",
                        "value": c["mrn"],
                    }
                ]
                if c["mrn"]
                else [],
                "active": c["status"] != "discharged",
                "name": names,
                "telecom": telecom,
                "gender": _gender(c["sex"]),
                "birthDate": fhir_time(c["dob"]),
                "address": [{"text": c["address"]}] if c["address"] else [],
                "communication": [language] if language else [],
                "generalPractitioner": [
                    {"display": pcp + (f" ({c['pcp_phone']})" if c["pcp_phone"] else "")}
                ]
                if pcp
                else [],
            }
        )

    # --- Communication -----------------------------------------------------------------

    def communication(
        self, row: dict[str, Any], addenda: Sequence[dict[str, Any]]
    ) -> dict[str, Any]:
        patient = _ref("Patient", row["client_id"])
        staff = self.user(row["user_id"])
        party = row["party"]
        other: dict[str, Any] | None = patient if party == "client" else {"display": label(party)}
        outbound = row["direction"] == "outbound"
        done = row["outcome"] in ("reached", "left_message")
        code, display = MEDIUM.get(row["method"], ("", ""))
        payload = [{"contentString": row["note"]}] if row["note"] else []
        for a in addenda:
            who = self.users.get(a["user_id"], "")
            payload.append(
                {
                    "contentString": f"Addendum {fhir_time(a['created_at'])}"
                    + (f" by {who}" if who else "")
                    + f": {a['text']}"
                }
            )
        extension = [
            {"url": self.ext + "contact-outcome", "valueCode": row["outcome"]},
            {"url": self.ext + "contact-direction", "valueCode": row["direction"]},
            {
                "url": self.ext + "contact-duration",
                "valueDuration": {
                    "value": row["duration_min"],
                    "unit": "min",
                    "system": "http://unitsofmeasure.org",
                    "code": "min",
                },
            }
            if row["duration_min"] is not None
            else None,
        ]
        return _clean(
            {
                "resourceType": "Communication",
                "id": str(row["id"]),
                "extension": extension,
                "status": "completed" if done else "not-done",
                "statusReason": None if done else {"text": label(row["outcome"])},
                "category": [
                    {
                        "coding": [{"system": self.cs + "contact-party", "code": party}],
                        "text": f"contact with {label(party)}",
                    }
                ],
                "medium": [
                    {
                        "coding": [{"system": PARTICIPATION_MODE, "code": code, "display": display}]
                        if code
                        else [],
                        "text": label(row["method"]),
                    }
                ],
                "subject": patient,
                "sent": fhir_time(row["occurred_at"]) if outbound else None,
                "received": None if outbound else fhir_time(row["occurred_at"]),
                "sender": staff if outbound else other,
                "recipient": [other] if outbound else [staff],
                "payload": payload,
            }
        )

    # --- QuestionnaireResponse and Observations ----------------------------------------

    def questionnaire_response(
        self, s: dict[str, Any], answers: Sequence[dict[str, Any]]
    ) -> dict[str, Any]:
        script = self.script(s["script_id"])
        if script is not None and script.loinc:
            questionnaire = f"{LOINC}/q/{script.loinc}"
        else:
            questionnaire = f"{self.base}/Questionnaire/{s['script_id']}|{s['script_version']}"
        order = {i.id: n for n, i in enumerate(script.items)} if script else {}
        items = []
        for a in sorted(answers, key=lambda a: (order.get(a["item_id"], 1_000), a["item_id"])):
            item = script.item(a["item_id"]) if script else None
            extension: list[dict[str, Any]] = []
            if item is not None and item.loinc:
                extension.append(
                    {
                        "url": self.ext + "item-code",
                        "valueCoding": {"system": LOINC, "code": item.loinc},
                    }
                )
            entry: dict[str, Any] = {
                "linkId": a["item_id"],
                "text": item.text if item else None,
            }
            if a["declined"]:
                extension.append({"url": DATA_ABSENT, "valueCode": "asked-declined"})
            else:
                entry["answer"] = self._answers(s["script_id"], item, a)
            entry["extension"] = extension
            items.append(entry)
        declined_whole = s["status"] == "declined"
        return _clean(
            {
                "resourceType": "QuestionnaireResponse",
                "id": str(s["id"]),
                "extension": [
                    {
                        "url": self.ext + "script",
                        "valueString": f"{s['script_id']}|{s['script_version']}",
                    },
                    {
                        "url": self.ext + "opt-out-acknowledged",
                        "valueBoolean": bool(s["opt_out_acknowledged"]),
                    },
                    {"url": DATA_ABSENT, "valueCode": "asked-declined"} if declined_whole else None,
                ],
                "questionnaire": questionnaire,
                "status": QR_STATUS.get(s["status"], "in-progress"),
                "subject": _ref("Patient", s["client_id"]),
                "authored": fhir_time(s["completed_at"] or s["started_at"]),
                "author": self.user(s["user_id"]),
                "item": items,
            }
        )

    def _answers(self, script_id: str, item: Any, a: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        kind = item.kind if item is not None else "single"
        if kind == "text":
            return [{"valueString": a["free_text"]}] if a["free_text"] else []
        for option_id in a["option_ids"] or []:
            if kind == "number":
                number = float(option_id)
                out.append(
                    {"valueInteger": int(number)}
                    if number.is_integer()
                    else {"valueDecimal": number}
                )
                continue
            option = item.option(option_id) if item is not None else None
            answer: dict[str, Any] = {
                "valueCoding": {
                    "system": self.cs + f"screening-{script_id}",
                    "code": option_id,
                    "display": option.label if option else None,
                }
            }
            if option is not None and option.score is not None:
                answer["extension"] = [{"url": ORDINAL, "valueDecimal": option.score}]
            out.append(answer)
        if a["free_text"]:
            out.append({"valueString": a["free_text"]})
        return out

    def observations(self, s: dict[str, Any]) -> list[dict[str, Any]]:
        result = s["result_json"] or {}
        if s["status"] != "completed" or not isinstance(result, dict):
            return []
        script = self.script(s["script_id"])
        scores: dict[str, Any] = result.get("scores") or {}
        incomplete: list[str] = list(result.get("incomplete_scores") or [])
        partial: dict[str, Any] = result.get("partial_scores") or {}
        bands: dict[str, Any] = result.get("bands") or {}
        out = []
        for score_id in [*scores, *[i for i in incomplete if i not in scores]]:
            definition = script.score_def(score_id) if script else None
            text = (definition.label if definition and definition.label else None) or score_id
            coding = (
                [{"system": LOINC, "code": definition.loinc, "display": text}]
                if definition and definition.loinc
                else [{"system": self.cs + f"screening-{s['script_id']}", "code": score_id}]
            )
            resource: dict[str, Any] = {
                "resourceType": "Observation",
                "id": _fhir_id(s["id"], score_id),
                "status": "final",
                "category": [
                    {"coding": [{"system": OBS_CATEGORY, "code": "survey", "display": "Survey"}]}
                ],
                "code": {"coding": coding, "text": text},
                "subject": _ref("Patient", s["client_id"]),
                "effectiveDateTime": fhir_time(s["completed_at"] or s["started_at"]),
                "performer": [],
                "derivedFrom": [_ref("QuestionnaireResponse", s["id"])],
            }
            if score_id in scores:
                resource["valueInteger"] = int(scores[score_id])
                if score_id in bands:
                    resource["interpretation"] = [{"text": label(str(bands[score_id]))}]
            else:
                resource["dataAbsentReason"] = {
                    "coding": [
                        {
                            "system": DATA_ABSENT_CS,
                            "code": "asked-declined",
                            "display": "Asked But Declined",
                        }
                    ],
                    "text": "incomplete — declined",
                }
                if score_id in partial:
                    resource["note"] = [
                        {"text": f"The answered items add up to {int(partial[score_id])}."}
                    ]
            out.append(_clean(resource))
        return out

    # --- Condition, Goal, ServiceRequest, Task -----------------------------------------

    def condition(self, n: dict[str, Any]) -> dict[str, Any]:
        resolved = n["status"] == "resolved"
        return _clean(
            {
                "resourceType": "Condition",
                "id": str(n["id"]),
                "extension": [{"url": self.ext + "need-status", "valueCode": n["status"]}],
                "clinicalStatus": {
                    "coding": [
                        {"system": CONDITION_CLINICAL, "code": "resolved" if resolved else "active"}
                    ]
                },
                "verificationStatus": {"coding": [{"system": CONDITION_VER, "code": "confirmed"}]},
                "category": [
                    {
                        "coding": [
                            {
                                "system": CONDITION_CATEGORY,
                                "code": "health-concern",
                                "display": "Health Concern",
                            }
                        ]
                    }
                ],
                "code": {
                    "coding": [{"system": self.cs + "need-domain", "code": n["domain"]}],
                    "text": NEED_TEXT.get(n["domain"], f"{label(n['domain'])} need"),
                },
                "subject": _ref("Patient", n["client_id"]),
                "recordedDate": fhir_time(n["opened_at"]),
                "abatementDateTime": fhir_time(n["closed_at"]) if resolved else None,
                "evidence": [{"detail": [_ref("QuestionnaireResponse", n["screening_id"])]}]
                if n["screening_id"]
                else [],
                "note": [{"text": n["note"]}] if n["note"] else [],
            }
        )

    def goal(self, g: dict[str, Any]) -> dict[str, Any]:
        lifecycle, achievement = GOAL_STATUS.get(g["status"], ("active", None))
        return _clean(
            {
                "resourceType": "Goal",
                "id": str(g["id"]),
                "lifecycleStatus": lifecycle,
                "achievementStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/goal-achievement",
                            "code": achievement,
                        }
                    ]
                }
                if achievement
                else None,
                "description": {"text": g["client_words"]},
                "subject": _ref("Patient", g["client_id"]),
                "startDate": fhir_time(g["created_at"].date()) if g["created_at"] else None,
                "target": [{"dueDate": fhir_time(g["target_date"])}] if g["target_date"] else [],
                "note": [{"text": f"Measure: {g['measurable']}"}] if g["measurable"] else [],
            }
        )

    def service_request(self, r: dict[str, Any]) -> dict[str, Any]:
        name = r["resource_name"]
        return _clean(
            {
                "resourceType": "ServiceRequest",
                "id": str(r["id"]),
                "extension": [
                    {"url": self.ext + "referral-status", "valueCode": r["status"]},
                    {"url": self.ext + "closed-at", "valueDateTime": fhir_time(r["closed_at"])}
                    if r["closed_at"]
                    else None,
                ],
                "status": REFERRAL_STATUS.get(r["status"], "unknown"),
                "intent": "order",
                "category": [
                    {
                        "coding": [
                            {"system": SNOMED, "code": "3457005", "display": "Patient referral"}
                        ]
                    }
                ],
                "code": {"text": f"Referral to {name}" if name else "Community resource referral"},
                "subject": _ref("Patient", r["client_id"]),
                "authoredOn": fhir_time(r["sent_at"]),
                "performer": [{"display": name}] if name else [],
                "reasonReference": [_ref("Condition", r["need_id"])],
                "note": [{"text": r["note"]}] if r["note"] else [],
            }
        )

    def task(self, f: dict[str, Any]) -> dict[str, Any]:
        created = f["created_at"]
        modified = max(x for x in (created, f["completed_at"]) if x is not None)
        return _clean(
            {
                "resourceType": "Task",
                "id": str(f["id"]),
                "extension": [
                    {"url": self.ext + "recurrence", "valueString": f["recurrence"]}
                    if f["recurrence"]
                    else None,
                    {
                        "url": self.ext + "snoozed-until",
                        "valueDateTime": fhir_time(f["snoozed_until"]),
                    }
                    if f["snoozed_until"]
                    else None,
                    {"url": self.ext + "follow-up-source", "valueCode": f["source"]},
                ],
                "status": TASK_STATUS.get(f["status"], "requested"),
                "intent": "plan",
                "priority": TASK_PRIORITY.get(f["priority"], "routine"),
                "code": {
                    "coding": [{"system": self.cs + "follow-up-kind", "code": f["kind"]}],
                    "text": label(f["kind"]),
                },
                "description": f["title"],
                "for": _ref("Patient", f["client_id"]),
                "authoredOn": fhir_time(created),
                "lastModified": fhir_time(modified),
                "requester": self.user(f["created_by_id"]),
                "owner": self.user(f["assignee_id"]),
                "restriction": {"period": {"end": fhir_time(f["due_at"])}},
                "output": [
                    {
                        "type": {"text": "completed by contact"},
                        "valueReference": _ref("Communication", f["completed_contact_id"]),
                    }
                ]
                if f["completed_contact_id"]
                else [],
            }
        )


def _gender(sex: str | None) -> str | None:
    if not sex:
        return None
    value = sex.strip().lower()
    if value in ("female", "f", "woman"):
        return "female"
    if value in ("male", "m", "man"):
        return "male"
    if value in ("unknown", "u"):
        return "unknown"
    return "other"


# ---------------------------------------------------------------- reading


def _rows(session: Session, stmt: Any) -> list[dict[str, Any]]:
    return [dict(m) for m in session.execute(stmt).mappings()]


def _group(rows: list[dict[str, Any]], key: str) -> dict[Any, list[dict[str, Any]]]:
    out: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row[key], []).append(row)
    return out


def iter_client_resources(
    session: Session,
    viewer: Viewer | None,
    *,
    base_url: str = DEFAULT_BASE_URL,
    window: int = CLIENT_WINDOW,
) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """(client id, that client's resources, Patient first), client by client."""
    users_t = table_of(User)
    users = {
        int(r[0]): str(r[1]) for r in session.execute(select(users_t.c.id, users_t.c.display_name))
    }
    builder = _Builder(base_url, users)
    clients = table_of(Client)
    contacts = table_of(Contact)
    addenda = table_of(ContactAddendum)
    screenings = table_of(Screening)
    answers = table_of(ScreeningAnswer)
    needs = table_of(Need)
    referrals = table_of(Referral)
    resources = table_of(Resource)
    followups = table_of(FollowUp)
    plans = table_of(CarePlan)
    goals = table_of(Goal)
    last = 0
    while True:
        window_clients = _rows(
            session,
            select(clients)
            .where(scope_clause(viewer), clients.c.id > last)
            .order_by(clients.c.id)
            .limit(window),
        )
        if not window_clients:
            return
        last = window_clients[-1]["id"]
        ids = [c["id"] for c in window_clients]
        contact_rows = _rows(
            session,
            select(contacts)
            .where(contacts.c.client_id.in_(ids))
            .order_by(contacts.c.client_id, contacts.c.occurred_at, contacts.c.id),
        )
        addenda_rows = _group(
            _rows(
                session,
                select(addenda)
                .join(contacts, contacts.c.id == addenda.c.contact_id)
                .where(contacts.c.client_id.in_(ids))
                .order_by(addenda.c.created_at, addenda.c.id),
            ),
            "contact_id",
        )
        screening_rows = _rows(
            session,
            select(screenings)
            .where(screenings.c.client_id.in_(ids))
            .order_by(screenings.c.client_id, screenings.c.started_at, screenings.c.id),
        )
        answer_rows = _group(
            _rows(
                session,
                select(answers)
                .join(screenings, screenings.c.id == answers.c.screening_id)
                .where(screenings.c.client_id.in_(ids)),
            ),
            "screening_id",
        )
        need_rows = _rows(
            session,
            select(needs).where(needs.c.client_id.in_(ids)).order_by(needs.c.id),
        )
        referral_rows = _rows(
            session,
            select(referrals, needs.c.client_id, resources.c.name.label("resource_name"))
            .join(needs, needs.c.id == referrals.c.need_id)
            .outerjoin(resources, resources.c.id == referrals.c.resource_id)
            .where(needs.c.client_id.in_(ids))
            .order_by(referrals.c.id),
        )
        goal_rows = _rows(
            session,
            select(goals, plans.c.client_id)
            .join(plans, plans.c.id == goals.c.care_plan_id)
            .where(plans.c.client_id.in_(ids))
            .order_by(goals.c.id),
        )
        followup_rows = _rows(
            session,
            select(followups).where(followups.c.client_id.in_(ids)).order_by(followups.c.id),
        )
        by_client = {
            "contacts": _group(contact_rows, "client_id"),
            "screenings": _group(screening_rows, "client_id"),
            "needs": _group(need_rows, "client_id"),
            "referrals": _group(referral_rows, "client_id"),
            "goals": _group(goal_rows, "client_id"),
            "followups": _group(followup_rows, "client_id"),
        }
        for c in window_clients:
            cid = c["id"]
            out = [builder.patient(c)]
            for row in by_client["contacts"].get(cid, []):
                out.append(builder.communication(row, addenda_rows.get(row["id"], [])))
            for row in by_client["screenings"].get(cid, []):
                out.append(builder.questionnaire_response(row, answer_rows.get(row["id"], [])))
                out.extend(builder.observations(row))
            for row in by_client["needs"].get(cid, []):
                out.append(builder.condition(row))
            for row in by_client["goals"].get(cid, []):
                out.append(builder.goal(row))
            for row in by_client["referrals"].get(cid, []):
                out.append(builder.service_request(row))
            for row in by_client["followups"].get(cid, []):
                out.append(builder.task(row))
            yield cid, out
        if len(window_clients) < window:
            return


def _count_clients(session: Session, viewer: Viewer | None) -> int:
    from sqlalchemy import func

    clients = table_of(Client)
    return int(
        session.execute(
            select(func.count()).select_from(clients).where(scope_clause(viewer))
        ).scalar_one()
    )


def collection_bundle(
    client_id: int, resources: list[dict[str, Any]], *, base_url: str = DEFAULT_BASE_URL
) -> dict[str, Any]:
    base = base_url.rstrip("/")
    return {
        "resourceType": "Bundle",
        "id": f"client-{client_id}",
        "type": "collection",
        "timestamp": fhir_time(utcnow()),
        "entry": [
            {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources
        ],
    }


def _transaction_entry(resource: dict[str, Any], base: str) -> dict[str, Any]:
    path = f"{resource['resourceType']}/{resource['id']}"
    return {
        "fullUrl": f"{base}/{path}",
        "resource": resource,
        "request": {"method": "PUT", "url": path},
    }


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _noop(_stage: str, _done: int, _total: int) -> None:
    pass


# ---------------------------------------------------------------- exports


def export_bundles(
    store: Store,
    out_dir: Path,
    *,
    viewer: Viewer | None = None,
    actor: str | None = None,
    base_url: str = DEFAULT_BASE_URL,
    progress: ProgressFn | None = None,
) -> FhirResult:
    """One collection Bundle per client, ``Patient-<id>.json`` in ``out_dir`` (files 0600)."""
    started = time.perf_counter()
    report = progress or _noop
    folder = private_dir(Path(out_dir))
    clients = resources = 0
    finished = False
    try:
        with store.read() as session:
            total = _count_clients(session, viewer)
            report("FHIR bundles", 0, total)
            for cid, items in iter_client_resources(session, viewer, base_url=base_url):
                bundle = collection_bundle(cid, items, base_url=base_url)
                with open_private(folder / f"Patient-{cid}.json") as fh:
                    fh.write(_dump(bundle))
                    fh.write("\n")
                clients += 1
                resources += len(items)
                if clients % 100 == 0:
                    report("FHIR bundles", clients, total)
            report("FHIR bundles", clients, max(total, clients))
        finished = True
    finally:
        record_export(
            store,
            viewer=viewer,
            actor=actor,
            entity="fhir",
            detail=_detail(clients, resources, f"collection bundles in {folder}", finished, viewer),
        )
    return FhirResult(clients, resources, str(folder), time.perf_counter() - started)


def export_transaction(
    store: Store,
    out: IO[str],
    *,
    viewer: Viewer | None = None,
    actor: str | None = None,
    destination: str = "stdout",
    base_url: str = DEFAULT_BASE_URL,
    progress: ProgressFn | None = None,
) -> FhirResult:
    """One transaction Bundle (PUT of every resource), streamed to ``out``."""
    started = time.perf_counter()
    report = progress or _noop
    base = base_url.rstrip("/")
    clients = resources = 0
    finished = False
    try:
        with store.read() as session:
            total = _count_clients(session, viewer)
            report("FHIR transaction", 0, total)
            head = {
                "resourceType": "Bundle",
                "type": "transaction",
                "timestamp": fhir_time(utcnow()),
            }
            out.write(_dump(head)[:-1])  # the entries follow, streamed
            first = True
            for _cid, items in iter_client_resources(session, viewer, base_url=base_url):
                for resource in items:
                    out.write(',"entry":[\n' if first else ",\n")
                    out.write(_dump(_transaction_entry(resource, base)))
                    first = False
                clients += 1
                resources += len(items)
                if clients % 100 == 0:
                    report("FHIR transaction", clients, total)
            out.write("}\n" if first else "\n]}\n")  # FHIR JSON has no empty arrays
            out.flush()
            report("FHIR transaction", clients, max(total, clients))
        finished = True
    finally:
        record_export(
            store,
            viewer=viewer,
            actor=actor,
            entity="fhir",
            detail=_detail(
                clients, resources, f"a transaction bundle to {destination}", finished, viewer
            ),
        )
    return FhirResult(clients, resources, destination, time.perf_counter() - started)


def _detail(clients: int, resources: int, where: str, finished: bool, viewer: Viewer | None) -> str:
    scope = (
        "all records" if viewer is None else f"records open to {viewer.username} ({viewer.role})"
    )
    return (
        f"FHIR R4: {clients} clients, {resources} resources as {where}"
        + ("" if finished else " (stopped before the end)")
        + f"; scope: {scope}"
    )
