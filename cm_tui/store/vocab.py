"""Controlled vocabularies: the one place that lists the allowed values of coded columns."""

from __future__ import annotations

ROLES = ("care_manager", "chw", "supervisor", "admin")
CONTACT_METHODS = ("phone", "text", "letter", "in_person", "video", "portal")
PREFERRED_CONTACT = ("phone", "text", "letter", "in_person", "video")
DIRECTIONS = ("outbound", "inbound")
PARTIES = ("client", "caregiver", "pcp", "specialist", "community_org", "other")
OUTCOMES = ("reached", "left_message", "no_answer", "wrong_number", "declined")
RISK_TIERS = ("low", "rising", "high")
CLIENT_STATUSES = ("active", "paused", "discharged")
PROGRAMS = ("CCM", "TCM", "complex", "behavioural health", "maternity")
SCREENING_STATUSES = ("in_progress", "completed", "declined")
NEED_DOMAINS = (
    "housing",
    "food",
    "transportation",
    "utilities",
    "safety",
    "financial",
    "mental_health",
    "depression",
    "benefits",
    "other",
)
NEED_STATUSES = ("identified", "referred", "in_progress", "resolved", "declined_help")
OPEN_NEED_STATUSES = ("identified", "referred", "in_progress")
REFERRAL_STATUSES = ("sent", "accepted", "completed", "closed_unmet")
UTILIZATION_KINDS = ("ed_visit", "admission", "readmission")
UTILIZATION_SOURCES = ("manual", "import")
FOLLOWUP_KINDS = (
    "call",
    "callback",
    "visit",
    "pcp_coordination",
    "referral_check",
    "screening",
    "other",
)
PRIORITIES = ("urgent", "high", "normal", "low")
FOLLOWUP_STATUSES = ("open", "done", "cancelled")
FOLLOWUP_SOURCES = ("manual", "screening", "inbound_call", "programme", "care_plan")
CARE_PLAN_STATUSES = ("active", "superseded", "closed")
GOAL_STATUSES = ("active", "met", "not_met", "revised")
OPEN_GOAL_STATUSES = ("active",)
INTERVENTION_STATUSES = ("active", "done", "stopped")
BARRIER_STATUSES = ("open", "resolved")
# What a contact was for (chronic care management documents the service given).
SERVICE_TYPES = (
    "education",
    "self_management",
    "care_coordination",
    "medication_reconciliation",
    "social_work",
    "behavioural_health",
)
# Programmes with a built-in definition (services.programmes); any other name is a
# custom programme. PROGRAMS above stays the importer's list for Client.program.
PROGRAMME_KINDS = ("CCM", "TCM", "complex", "behavioural health", "maternity", "custom")
TCM_COMPLEXITY = ("moderate", "high")
# Outreach: in_progress while attempts go on; reached / declined end it;
# unable_to_reach waits for a supervisor's review; stopped when ended by hand.
OUTREACH_STATUSES = ("in_progress", "reached", "declined", "unable_to_reach", "stopped")
FAILED_ATTEMPT_OUTCOMES = ("no_answer", "left_message", "wrong_number")
AUDIT_ACTIONS = ("view", "create", "update", "export", "login", "login_failed", "lock")

RISK_ORDER = {"high": 0, "rising": 1, "low": 2}
PRIORITY_ORDER = {"urgent": 0, "high": 1, "normal": 2, "low": 3}

LABELS = {
    "in_person": "in person",
    "left_message": "left message",
    "no_answer": "no answer",
    "wrong_number": "wrong number",
    "community_org": "community org",
    "care_manager": "care manager",
    "chw": "CHW",
    "pcp": "PCP",
    "pcp_coordination": "PCP coordination",
    "referral_check": "referral check",
    "declined_help": "declined help",
    "closed_unmet": "closed, unmet",
    "mental_health": "mental health",
    "ed_visit": "ED visit",
    "self_management": "self-management support",
}


def label(code: str | None) -> str:
    """Human wording of a coded value ("in_person" -> "in person")."""
    if code is None:
        return ""
    return LABELS.get(code, code.replace("_", " "))
