"""Running a screening (DESIGN §5.4, §6): answers saved as given, results, needs, follow-ups.

Every change is one transaction with its audit event. Answers are stored exactly
as given: a "prefers not to answer" is a row with ``declined=True`` and no
options — never the lowest option, never "no". Where the person stopped is kept
in a `Draft` (kind ``screening``), so an interrupted screening resumes at the
same question.

Completing a screening and creating what its summary proposes happen in one
transaction (`complete(..., decisions=...)`): a crash at the summary leaves an
`in_progress` screening with every answer saved, never a completed screening
whose urgent follow-up was lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from cm_tui.dates import parse_due
from cm_tui.screening import (
    AnswerError,
    Proposal,
    ScreeningResult,
    Script,
    evaluate,
    next_item,
    visible_items,
)
from cm_tui.services.clients import NotAllowed
from cm_tui.store import audit
from cm_tui.store.access import Viewer, can_open
from cm_tui.store.db import Store
from cm_tui.store.models import (
    Client,
    Draft,
    FollowUp,
    Need,
    Screening,
    ScreeningAnswer,
    User,
)
from cm_tui.store.types import utcnow
from cm_tui.store.vocab import OPEN_NEED_STATUSES, PRIORITIES

DRAFT_KIND = "screening"
SUMMARY = "__summary__"  # the position of a screening whose questions are all answered


class ScreeningError(Exception):
    """A screening action that cannot be done, worded for the person at the keyboard."""


class FlagNotHandled(ScreeningError):
    """A flag's urgent follow-up was neither accepted nor skipped with explicit confirmation."""


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class InProgress:
    """An unfinished screening of a client (offered for resuming)."""

    screening_id: int
    script_id: str
    script_version: str
    started_at: datetime
    started_by: str | None
    answered: int
    declined: int


@dataclass(frozen=True)
class Subject:
    """The client a screening is about, as the screening screen shows them."""

    client_id: int
    name: str
    in_progress: tuple[InProgress, ...] = ()
    care_manager: str | None = None  # who the proposed follow-ups are assigned to

    def resumable(self, script_id: str) -> InProgress | None:
        for s in self.in_progress:
            if s.script_id == script_id:
                return s
        return None


@dataclass
class ScreeningState:
    """One screening as the screen works on it."""

    screening_id: int
    client_id: int
    script_id: str
    script_version: str
    status: str
    opt_out_acknowledged: bool
    started_at: datetime
    answers: dict[str, list[str]] = field(default_factory=dict)
    declined: set[str] = field(default_factory=set)
    position: str | None = None  # an item id, SUMMARY, or None (the first unanswered item)
    typed: dict[str, str] = field(default_factory=dict)  # half-typed text answers
    resumed: bool = False
    result_json: dict[str, Any] | None = None


@dataclass(frozen=True)
class Decision:
    """What the user chose for one proposal on the summary.

    `accept`: open the proposal's need (once per domain) and create its follow-up
    with the (possibly edited) title, due time and priority. A flag's proposal may
    only be skipped with `confirmed_skip=True`, and its follow-up is always urgent.
    """

    proposal: Proposal
    accept: bool
    title: str | None = None
    due_at: datetime | None = None
    priority: str | None = None
    confirmed_skip: bool = False


@dataclass
class Completion:
    screening_id: int
    result: ScreeningResult
    need_ids: list[int] = field(default_factory=list)
    reused_need_ids: list[int] = field(default_factory=list)  # needs that were already open
    followup_ids: list[int] = field(default_factory=list)
    pruned_items: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- reading


def _client(session: Session, viewer: Viewer, client_id: int) -> Client:
    client = session.get(Client, client_id)
    if client is None:
        raise ScreeningError(f"No client with id {client_id}.")
    if not can_open(viewer, client):
        raise NotAllowed("You do not have access to this client's record.")
    return client


def _screening(session: Session, viewer: Viewer, screening_id: int) -> Screening:
    screening = session.get(Screening, screening_id)
    if screening is None:
        raise ScreeningError(f"No screening with id {screening_id}.")
    _client(session, viewer, screening.client_id)
    return screening


def _open_screening(session: Session, viewer: Viewer, screening_id: int) -> Screening:
    screening = _screening(session, viewer, screening_id)
    if screening.status != "in_progress":
        raise ScreeningError(f"This screening is already {screening.status.replace('_', ' ')}.")
    return screening


def display_name(client: Client) -> str:
    name = f"{client.given_name} {client.family_name}"
    if client.preferred_name:
        name += f" ({client.preferred_name})"
    return name


def subject(store: Store, viewer: Viewer, client_id: int) -> Subject:
    """Who is being screened and their unfinished screenings; the view is audited."""
    with store.write() as session:
        client = session.get(Client, client_id)
        allowed = client is not None and can_open(viewer, client)
        detail = "screening" if allowed else "screening refused: outside this user's access"
        audit.record_by(session, viewer, "view", "client", client_id, detail)
        found = _subject(session, client) if client is not None and allowed else None
    if found is None:  # refused after the block, so the refusal's audit event is committed
        raise NotAllowed("You do not have access to this client's record.")
    return found


def _subject(session: Session, client: Client) -> Subject:
    rows = session.execute(
        select(Screening, User.display_name)
        .join(User, col(User.id) == col(Screening.user_id), isouter=True)
        .where(Screening.client_id == client.id, Screening.status == "in_progress")
        .order_by(col(Screening.started_at).desc(), col(Screening.id).desc())
        .limit(20)
    ).all()
    pending: list[InProgress] = []
    seen: set[str] = set()
    for screening, who in rows:
        if screening.script_id in seen:
            continue  # only the newest of each script is resumed
        seen.add(screening.script_id)
        answers = session.exec(
            select(ScreeningAnswer).where(ScreeningAnswer.screening_id == screening.id)
        ).all()
        pending.append(
            InProgress(
                screening.id or 0,
                screening.script_id,
                screening.script_version,
                screening.started_at,
                who,
                sum(1 for a in answers if not a.declined),
                sum(1 for a in answers if a.declined),
            )
        )
    care_manager = None
    if client.care_manager_id is not None:
        cm = session.get(User, client.care_manager_id)
        care_manager = cm.display_name if cm is not None else None
    return Subject(client.id or 0, display_name(client), tuple(pending), care_manager)


def _answers_of(
    session: Session, screening_id: int, script: Script | None = None
) -> tuple[dict[str, list[str]], set[str]]:
    answers: dict[str, list[str]] = {}
    declined: set[str] = set()
    rows = session.exec(
        select(ScreeningAnswer).where(ScreeningAnswer.screening_id == screening_id)
    ).all()
    for row in rows:
        if row.declined:
            declined.add(row.item_id)
            continue
        item = script.item(row.item_id) if script is not None else None
        if row.option_ids:
            answers[row.item_id] = list(row.option_ids)
        elif row.free_text is not None and (item is None or item.kind in ("number", "text")):
            answers[row.item_id] = [row.free_text]
    return answers, declined


def _draft(session: Session, viewer: Viewer, screening_id: int) -> Draft | None:
    """This user's saved position in the screening (drafts are read only by their author;
    someone else resuming it starts at the first unanswered question)."""
    return session.exec(
        select(Draft).where(
            Draft.user_id == viewer.id, Draft.kind == DRAFT_KIND, Draft.key == str(screening_id)
        )
    ).first()


def _state(
    session: Session, viewer: Viewer, screening: Screening, script: Script | None
) -> ScreeningState:
    answers, declined = _answers_of(session, screening.id or 0, script)
    draft = _draft(session, viewer, screening.id or 0)
    payload = draft.payload if draft is not None and draft.payload else {}
    position = payload.get("position")
    typed = payload.get("typed") or {}
    return ScreeningState(
        screening_id=screening.id or 0,
        client_id=screening.client_id,
        script_id=screening.script_id,
        script_version=screening.script_version,
        status=screening.status,
        opt_out_acknowledged=screening.opt_out_acknowledged,
        started_at=screening.started_at,
        answers=answers,
        declined=declined,
        position=str(position) if position else None,
        typed={str(k): str(v) for k, v in typed.items()},
        result_json=screening.result_json,
    )


def load_state(
    store: Store, viewer: Viewer, screening_id: int, script: Script | None = None
) -> ScreeningState:
    """A screening with its answers, declines and saved position."""
    with store.read() as session:
        return _state(session, viewer, _screening(session, viewer, screening_id), script)


def resume_position(script: Script, state: ScreeningState) -> str:
    """Where to continue: the saved position if it is still a question to show, else the
    first unanswered question, else the summary."""
    shown = visible_items(
        script, {k: v for k, v in state.answers.items() if k not in state.declined}
    )
    ids = [i.id for i in shown]
    if state.position in ids:
        return state.position
    item = next_item(script, state.answers, state.declined)
    if item is not None:
        return item.id
    return SUMMARY


def _find_in_progress(session: Session, client_id: int, script_id: str) -> Screening | None:
    return session.exec(
        select(Screening)
        .where(
            Screening.client_id == client_id,
            Screening.script_id == script_id,
            Screening.status == "in_progress",
        )
        .order_by(col(Screening.started_at).desc(), col(Screening.id).desc())
        .limit(1)
    ).first()


# ---------------------------------------------------------------- starting and declining


def start(
    store: Store,
    viewer: Viewer,
    client_id: int,
    script: Script,
    *,
    acknowledge: bool = True,
) -> ScreeningState:
    """Resume the newest `in_progress` screening of this script for the client, or start one.

    `acknowledge`: the opt-out prompt was read and acknowledged (recorded on the row).
    """
    with store.write() as session:
        _client(session, viewer, client_id)
        screening = _find_in_progress(session, client_id, script.id)
        resumed = screening is not None
        if screening is None:
            screening = Screening(
                client_id=client_id,
                user_id=viewer.id,
                script_id=script.id,
                script_version=script.version,
                status="in_progress",
                started_at=utcnow(),
                opt_out_acknowledged=acknowledge,
            )
            session.add(screening)
            session.flush()
            audit.record_by(
                session,
                viewer,
                "create",
                "screening",
                screening.id,
                f"started {script.id} {script.version} for client {client_id}"
                + ("; opt-out acknowledged" if acknowledge else ""),
            )
        else:
            detail = f"resumed {script.id}"
            if acknowledge and not screening.opt_out_acknowledged:
                screening.opt_out_acknowledged = True
                session.add(screening)
                detail += "; opt-out acknowledged"
            audit.record_by(session, viewer, "update", "screening", screening.id, detail)
        state = _state(session, viewer, screening, script)
        state.resumed = resumed
        return state


def acknowledge_opt_out(store: Store, viewer: Viewer, screening_id: int) -> None:
    """Record that the opt-out prompt was read to the person and acknowledged."""
    with store.write() as session:
        screening = _open_screening(session, viewer, screening_id)
        if screening.opt_out_acknowledged:
            return
        screening.opt_out_acknowledged = True
        session.add(screening)
        audit.record_by(
            session, viewer, "update", "screening", screening_id, "opt-out acknowledged"
        )


def decline_screening(store: Store, viewer: Viewer, client_id: int, script: Script) -> int:
    """The person declines the whole screening: status `declined` (its newest unfinished
    screening of this script, else a new one). Answers already given are kept as given."""
    now = utcnow()
    with store.write() as session:
        _client(session, viewer, client_id)
        screening = _find_in_progress(session, client_id, script.id)
        created = screening is None
        if screening is None:
            screening = Screening(
                client_id=client_id,
                user_id=viewer.id,
                script_id=script.id,
                script_version=script.version,
                started_at=now,
            )
        screening.status = "declined"
        screening.completed_at = now
        screening.result_json = {
            "script_id": script.id,
            "script_version": script.version,
            "declined_screening": True,
        }
        session.add(screening)
        session.flush()
        _drop_drafts(session, screening.id or 0)
        detail = f"{script.id}: the person declined the screening"
        audit.record_by(
            session, viewer, "create" if created else "update", "screening", screening.id, detail
        )
        return screening.id or 0


# ---------------------------------------------------------------- answers and position


def _validate(script: Script, item_id: str, values: Sequence[str]) -> None:
    item = script.item(item_id)
    if item is None:
        raise ScreeningError(f"Script {script.id} has no question {item_id!r}.")
    if not values:
        raise ScreeningError("Choose an answer, or record that they prefer not to answer.")
    try:
        evaluate(script, {item_id: list(values)}, strict=True)
    except AnswerError as exc:
        raise ScreeningError(str(exc)) from exc


def _save_draft(
    session: Session,
    viewer: Viewer,
    screening_id: int,
    position: str | None = None,
    typed: Mapping[str, str] | None = None,
    answered: str | None = None,
) -> None:
    draft = _draft(session, viewer, screening_id)
    if draft is None and position is None and typed is None:
        return
    if draft is None:
        draft = Draft(user_id=viewer.id, kind=DRAFT_KIND, key=str(screening_id), payload={})
    payload = dict(draft.payload or {})
    if position is not None:
        payload["position"] = position
    if typed is not None:
        payload["typed"] = {k: v for k, v in typed.items() if v}
    if answered is not None and answered in payload.get("typed", {}):
        # what was half-typed for this question is now its answer
        payload["typed"] = {k: v for k, v in payload["typed"].items() if k != answered}
    draft.payload = payload  # a new dict: the JSON column sees the change
    draft.updated_at = utcnow()
    session.add(draft)


def _drop_drafts(session: Session, screening_id: int) -> None:
    for draft in session.exec(
        select(Draft).where(Draft.kind == DRAFT_KIND, Draft.key == str(screening_id))
    ).all():
        session.delete(draft)


def save_answer(
    store: Store,
    viewer: Viewer,
    screening_id: int,
    script: Script,
    item_id: str,
    values: Sequence[str] = (),
    *,
    declined: bool = False,
    position: str | None = None,
) -> None:
    """Store one answer exactly as given (replacing an earlier answer to the same question).

    `values`: option ids (single, multi) or the one typed number/text. `declined`: the
    person prefers not to answer — stored as declined with no options. `position`: the
    question (or SUMMARY) shown next, so a resumed screening continues there.
    """
    values = [str(v) for v in values]
    if declined:
        if script.item(item_id) is None:
            raise ScreeningError(f"Script {script.id} has no question {item_id!r}.")
    else:
        _validate(script, item_id, values)
    item = script.item(item_id)
    assert item is not None
    with store.write() as session:
        screening = _open_screening(session, viewer, screening_id)
        if screening.script_id != script.id:
            raise ScreeningError(f"Screening {screening_id} is a {screening.script_id} screening.")
        row = session.get(ScreeningAnswer, (screening_id, item_id))
        existed = row is not None
        if row is None:
            row = ScreeningAnswer(screening_id=screening_id, item_id=item_id)
        if declined:
            row.option_ids = []
            row.free_text = None
        elif item.kind in ("single", "multi"):
            row.option_ids = values
            row.free_text = None
        else:
            row.option_ids = None
            row.free_text = values[0]
        row.declined = declined
        row.answered_at = utcnow()
        session.add(row)
        _save_draft(session, viewer, screening_id, position, answered=item_id)
        detail = f"{'changed' if existed else 'recorded'} {item_id}: " + (
            "prefers not to answer" if declined else "answered"
        )
        audit.record_by(session, viewer, "update", "screening", screening_id, detail)


def go_back(store: Store, viewer: Viewer, screening_id: int, item_id: str) -> None:
    """The user went back to an earlier question: resume there."""
    save_position(store, viewer, screening_id, item_id)


def save_position(
    store: Store,
    viewer: Viewer,
    screening_id: int,
    position: str | None,
    typed: Mapping[str, str] | None = None,
) -> None:
    """Remember where the user is (and any half-typed answer) without changing an answer."""
    with store.write() as session:
        _open_screening(session, viewer, screening_id)
        _save_draft(session, viewer, screening_id, position, typed)


# ---------------------------------------------------------------- completing


def default_due(proposal: Proposal, now: datetime) -> datetime:
    """A proposal's due time: `due_days` 0 is today (end of day), else that many days on."""
    return parse_due("today" if proposal.due_days <= 0 else f"+{proposal.due_days}d", now)


def _check_decisions(result: ScreeningResult, decisions: Sequence[Decision]) -> None:
    for d in decisions:
        if d.proposal not in result.proposals:
            raise ScreeningError(f"{d.proposal.title!r} is not a proposal of this screening.")
        if d.accept:
            if d.title is not None and not d.title.strip():
                raise ScreeningError("A follow-up needs a title.")
            if d.priority is not None and d.priority not in PRIORITIES:
                raise ScreeningError(f"Priority must be one of: {', '.join(PRIORITIES)}.")
            if d.proposal.source == "flag" and d.priority not in (None, "urgent"):
                raise ScreeningError("A flag's follow-up is always urgent.")
            if d.due_at is not None and d.due_at.tzinfo is None:
                raise ScreeningError("A due time needs a time zone.")
    for p in result.proposals:
        if p.source != "flag":
            continue
        chosen = next((d for d in decisions if d.proposal == p), None)
        if chosen is None or (not chosen.accept and not chosen.confirmed_skip):
            raise FlagNotHandled(
                f"{p.trigger.replace('_', ' ')}: the urgent follow-up must be created, "
                "or skipped with explicit confirmation."
            )


def _apply(
    session: Session,
    viewer: Viewer,
    screening: Screening,
    result: ScreeningResult,
    decisions: Sequence[Decision],
    completion: Completion,
    now: datetime,
) -> list[dict[str, Any]]:
    _check_decisions(result, decisions)
    client = session.get(Client, screening.client_id)
    assert client is not None
    assignee = client.care_manager_id or viewer.id
    opened: dict[str, int] = {}
    log: list[dict[str, Any]] = []
    for d in decisions:
        p = d.proposal
        entry: dict[str, Any] = {
            "title": p.title,
            "trigger": p.trigger,
            "source": p.source,
            "accepted": d.accept,
        }
        if not d.accept:
            entry["confirmed_skip"] = d.confirmed_skip
            log.append(entry)
            detail = (
                f"proposal skipped{' (confirmed)' if d.confirmed_skip else ''}: "
                f"{p.source} {p.trigger}"
            )
            audit.record_by(session, viewer, "update", "screening", screening.id, detail)
            continue
        if p.need_domain:
            if p.need_domain not in opened:
                existing = session.exec(
                    select(Need)
                    .where(
                        Need.client_id == client.id,
                        Need.domain == p.need_domain,
                        col(Need.status).in_(OPEN_NEED_STATUSES),
                    )
                    .order_by(col(Need.opened_at), col(Need.id))
                    .limit(1)
                ).first()
                if existing is not None:
                    opened[p.need_domain] = existing.id or 0
                    completion.reused_need_ids.append(existing.id or 0)
                else:
                    need = Need(
                        client_id=screening.client_id,
                        domain=p.need_domain,
                        screening_id=screening.id,
                        status="identified",
                        opened_at=now,
                    )
                    session.add(need)
                    session.flush()
                    opened[p.need_domain] = need.id or 0
                    completion.need_ids.append(need.id or 0)
                    detail = f"{p.need_domain} from screening {screening.id}"
                    audit.record_by(session, viewer, "create", "need", need.id, detail)
            entry["need_id"] = opened[p.need_domain]
        followup = FollowUp(
            client_id=screening.client_id,
            assignee_id=assignee,
            created_by_id=viewer.id,
            title=(d.title or p.title).strip(),
            kind=p.kind,
            due_at=d.due_at or default_due(p, now),
            priority="urgent" if p.source == "flag" else (d.priority or p.priority),
            status="open",
            source="screening",
            created_at=now,
        )
        session.add(followup)
        session.flush()
        completion.followup_ids.append(followup.id or 0)
        entry["followup_id"] = followup.id
        log.append(entry)
        detail = f"{followup.priority} {followup.kind} from screening {screening.id}" + (
            f" ({p.trigger} flag)" if p.source == "flag" else ""
        )
        audit.record_by(session, viewer, "create", "follow_up", followup.id, detail)
    return log


def complete(
    store: Store,
    viewer: Viewer,
    screening_id: int,
    script: Script,
    decisions: Sequence[Decision] | None = None,
) -> Completion:
    """Score the screening with the engine and mark it completed.

    Every question shown must be answered or declined. Answers to questions that the
    final answers skip (changed after going back) are removed: they were not part of
    the screening as completed. With `decisions`, the proposals are applied in the
    same transaction (see `accept_proposals`).
    """
    now = utcnow()
    with store.write() as session:
        screening = _open_screening(session, viewer, screening_id)
        if screening.script_id != script.id:
            raise ScreeningError(f"Screening {screening_id} is a {screening.script_id} screening.")
        answers, declined = _answers_of(session, screening_id, script)
        result = evaluate(script, answers, declined, strict=False)
        if result.unanswered_items:
            n = len(result.unanswered_items)
            raise ScreeningError(
                f"{n} question{'s are' if n != 1 else ' is'} not answered yet "
                "(answer, or record that they prefer not to answer)."
            )
        completion = Completion(screening_id, result)
        kept = result.answered_items | result.declined_items
        for row in session.exec(
            select(ScreeningAnswer).where(ScreeningAnswer.screening_id == screening_id)
        ).all():
            if row.item_id not in kept:
                completion.pruned_items.append(row.item_id)
                session.delete(row)
        data = result.to_json()
        if decisions is not None:
            data["decisions"] = _apply(
                session, viewer, screening, result, decisions, completion, now
            )
        screening.status = "completed"
        screening.completed_at = now
        screening.result_json = data
        session.add(screening)
        _drop_drafts(session, screening_id)
        detail = f"completed {script.id}"
        if completion.pruned_items:
            pruned = ", ".join(sorted(completion.pruned_items))
            detail += f"; removed answers to skipped questions: {pruned}"
        audit.record_by(session, viewer, "update", "screening", screening_id, detail)
        return completion


def accept_proposals(
    store: Store, viewer: Viewer, screening_id: int, decisions: Sequence[Decision]
) -> Completion:
    """Create the needs and follow-ups of a completed screening's accepted proposals.

    One transaction with an audit event per row. A need is opened once per domain (an
    already-open need of that domain is reused, not duplicated). Follow-ups go to the
    client's care manager (else the viewer), source `screening`; a flag's is `urgent`.
    Decisions are recorded on the screening; they can be made only once.
    """
    now = utcnow()
    with store.write() as session:
        screening = _screening(session, viewer, screening_id)
        if screening.status != "completed" or screening.result_json is None:
            raise ScreeningError("Only a completed screening's proposals can be accepted.")
        data = dict(screening.result_json)
        if "decisions" in data:
            raise ScreeningError("This screening's proposals were already decided.")
        result = ScreeningResult.from_json(data)
        completion = Completion(screening_id, result)
        data["decisions"] = _apply(session, viewer, screening, result, decisions, completion, now)
        screening.result_json = data
        session.add(screening)
        return completion
