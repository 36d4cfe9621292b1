"""Skip logic and scoring: answers in, positive domains / scores / bands / flags out.

Answers map item id -> list of option ids (single, multi), or a one-element list
holding the number as text (number) or the text itself (text). A declined item
is data: it is never scored as its lowest option, and a score that needs it is
absent (listed in `incomplete_scores`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from cm_tui.screening.conditions import Context, holds, item_value
from cm_tui.screening.model import Item, Script
from cm_tui.screening.parser import item_range

Answers = Mapping[str, Sequence[str]]


class AnswerError(ValueError):
    """An answer that does not fit the script (unknown item or option, bad number)."""


@dataclass(frozen=True)
class Proposal:
    """A need to open and a follow-up to create, offered on the summary (accept/edit/skip)."""

    need_domain: str | None
    title: str
    kind: str
    priority: str
    due_days: int
    source: str  # "domain" or "flag"
    trigger: str  # the positive domain or the raised flag
    script_id: str | None = None  # a screening the follow-up should run (e.g. "phq-9")

    @property
    def urgent(self) -> bool:
        return self.priority == "urgent"


@dataclass
class ScreeningResult:
    script_id: str
    script_version: str
    positive_domains: set[str] = field(default_factory=set)
    scores: dict[str, int] = field(default_factory=dict)
    bands: dict[str, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    declined_items: set[str] = field(default_factory=set)
    unanswered_items: set[str] = field(default_factory=set)
    answered_items: set[str] = field(default_factory=set)
    # scores absent because an item they need was declined: "incomplete — declined"
    incomplete_scores: set[str] = field(default_factory=set)
    # sum of the answered items of each absent score (shown beside "incomplete")
    partial_scores: dict[str, int] = field(default_factory=dict)
    proposals: list[Proposal] = field(default_factory=list)
    # with strict=False: answers that were ignored because they do not fit the script
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every visible question was answered or declined."""
        return not self.unanswered_items

    @property
    def proposed_needs(self) -> list[str]:
        """Need domains the proposals would open, each once, in proposal order."""
        return list(dict.fromkeys(p.need_domain for p in self.proposals if p.need_domain))

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (sorted lists, no sets) for Screening.result_json."""
        return {
            "script_id": self.script_id,
            "script_version": self.script_version,
            "positive_domains": sorted(self.positive_domains),
            "scores": dict(sorted(self.scores.items())),
            "bands": dict(sorted(self.bands.items())),
            "flags": sorted(self.flags),
            "declined_items": sorted(self.declined_items),
            "unanswered_items": sorted(self.unanswered_items),
            "answered_items": sorted(self.answered_items),
            "incomplete_scores": sorted(self.incomplete_scores),
            "partial_scores": dict(sorted(self.partial_scores.items())),
            "proposals": [asdict(p) for p in self.proposals],
            "problems": list(self.problems),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScreeningResult:
        """Read back what `to_json` wrote (missing keys are empty)."""
        return cls(
            script_id=str(data.get("script_id", "")),
            script_version=str(data.get("script_version", "")),
            positive_domains=set(data.get("positive_domains", [])),
            scores={str(k): int(v) for k, v in data.get("scores", {}).items()},
            bands={str(k): str(v) for k, v in data.get("bands", {}).items()},
            flags=set(data.get("flags", [])),
            declined_items=set(data.get("declined_items", [])),
            unanswered_items=set(data.get("unanswered_items", [])),
            answered_items=set(data.get("answered_items", [])),
            incomplete_scores=set(data.get("incomplete_scores", [])),
            partial_scores={str(k): int(v) for k, v in data.get("partial_scores", {}).items()},
            proposals=[Proposal(**p) for p in data.get("proposals", [])],
            problems=[str(p) for p in data.get("problems", [])],
        )


# --- skip logic --------------------------------------------------------------------


def visible_items(script: Script, answers: Answers) -> list[Item]:
    """The items to ask, in order: each `show_if` sees only answers to earlier visible items."""
    seen: dict[str, tuple[str, ...]] = {}
    ctx = Context(script, seen)
    shown: list[Item] = []
    for item in script.items:
        if item.show_if is not None and not holds(item.show_if, ctx):
            continue
        shown.append(item)
        answer = tuple(answers.get(item.id) or ())
        if answer:
            seen[item.id] = answer
    return shown


def _asked(answers: Answers, declined: Collection[str]) -> dict[str, Sequence[str]]:
    """Answers without declined items (a declined item has no answer)."""
    return {k: v for k, v in answers.items() if k not in declined and v}


def next_item(script: Script, answers: Answers, declined: Collection[str] = ()) -> Item | None:
    """The first visible item with neither an answer nor a decline; None when done."""
    asked = _asked(answers, declined)
    for item in visible_items(script, asked):
        if item.id not in asked and item.id not in declined:
            return item
    return None


def previous_item(
    script: Script, answers: Answers, declined: Collection[str], current: str | None
) -> Item | None:
    """The visible item before `current` (None: at the first); `current=None`: the last."""
    shown = visible_items(script, _asked(answers, declined))
    ids = [i.id for i in shown]
    if current is None:
        return shown[-1] if shown else None
    if current not in ids:
        return None
    index = ids.index(current)
    return shown[index - 1] if index > 0 else None


def progress(
    script: Script, answers: Answers, declined: Collection[str], current: str | None
) -> tuple[int, int]:
    """(position of `current` counting from 1, number of visible items): "question 4 of 10"."""
    ids = [i.id for i in visible_items(script, _asked(answers, declined))]
    if current in ids:
        return ids.index(current) + 1, len(ids)
    return len(ids), len(ids)


# --- answers -----------------------------------------------------------------------


def _clean(
    script: Script, answers: Answers, declined: Collection[str], strict: bool, problems: list[str]
) -> dict[str, tuple[str, ...]]:
    """Valid, non-empty answers of known, non-declined items."""

    def bad(message: str) -> None:
        if strict:
            raise AnswerError(message)
        problems.append(message)

    clean: dict[str, tuple[str, ...]] = {}
    for item_id in declined:
        if script.item(item_id) is None:
            bad(f"declined item {item_id!r} is not in script {script.id!r}")
    for item_id, raw in answers.items():
        item = script.item(item_id)
        if item is None:
            bad(f"answer to unknown item {item_id!r} in script {script.id!r}")
            continue
        if item_id in declined:
            continue  # declined wins: the person chose not to answer
        if isinstance(raw, str):
            bad(f"item {item_id!r}: answers are lists, got the string {raw!r}")
            continue
        values = tuple(str(v) for v in raw)
        if not values:
            continue
        if item.kind in ("single", "multi"):
            unknown = [v for v in values if item.option(v) is None]
            if unknown:
                bad(f"item {item_id!r}: unknown option(s) {unknown}")
                values = tuple(v for v in values if v not in unknown)
            values = tuple(dict.fromkeys(values))
            if item.kind == "single" and len(values) > 1:
                bad(f"item {item_id!r} takes one option, got {list(values)}")
                values = values[:1]
            exclusive = [v for v in values if (o := item.option(v)) is not None and o.exclusive]
            if exclusive and len(values) > 1:
                bad(f"item {item_id!r}: {exclusive[0]!r} cannot be combined with other options")
                values = (exclusive[0],)
        elif item.kind == "number":
            if len(values) != 1 or item_value(item, values) is None:
                bad(f"item {item_id!r}: expected one number, got {list(values)}")
                continue
            number = float(values[0])
            if not math.isfinite(number):
                bad(f"item {item_id!r}: {values[0]!r} is not a usable number")
                continue
            if (item.min is not None and number < item.min) or (
                item.max is not None and number > item.max
            ):
                bad(f"item {item_id!r}: {values[0]} is outside {item.min}..{item.max}")
                continue
        elif len(values) != 1:
            bad(f"item {item_id!r}: expected one text answer")
            values = (" ".join(values),)
        if values:
            clean[item_id] = values
    return clean


# --- evaluation --------------------------------------------------------------------


def evaluate(
    script: Script,
    answers: Answers,
    declined: Iterable[str] | None = None,
    *,
    strict: bool = True,
) -> ScreeningResult:
    """Score a (possibly partial) screening.

    `strict=True` raises AnswerError for answers that do not fit the script; with
    `strict=False` (resuming old data) they are ignored and listed in `problems`.
    """
    declined_set = set(declined or ())
    problems: list[str] = []
    clean = _clean(script, answers, declined_set, strict, problems)
    shown = visible_items(script, clean)
    shown_ids = {i.id for i in shown}
    given = {k: v for k, v in clean.items() if k in shown_ids}
    result = ScreeningResult(script.id, script.version, problems=problems)
    result.answered_items = set(given)
    result.declined_items = declined_set & shown_ids
    result.unanswered_items = shown_ids - result.answered_items - result.declined_items

    floors: dict[str, int] = {}
    for score in script.scores:
        needed = [i for i in shown if i.id in score.items]
        if not needed:
            continue
        total = 0
        floor = 0
        missing_declined = False
        complete = True
        for item in needed:
            if item.id in given:
                value = int(item_value(item, given[item.id]) or 0)
                total += value
                floor += value
            else:
                complete = False
                missing_declined = missing_declined or item.id in result.declined_items
                floor += int(item_range(item)[0] or 0)
        if complete:
            result.scores[score.id] = total
            band = score.band_for(total)
            if band is not None:
                result.bands[score.id] = band
        else:
            floors[score.id] = floor
            result.partial_scores[score.id] = total
            if missing_declined:
                result.incomplete_scores.add(score.id)

    ctx = Context(script, given, result.scores, floors)
    for rule in script.rules:
        if rule.domain not in result.positive_domains and holds(rule.when, ctx):
            result.positive_domains.add(rule.domain)
    ctx.positive = frozenset(result.positive_domains)
    for flag in script.flags:
        if flag.flag not in result.flags and holds(flag.when, ctx):
            result.flags.add(flag.flag)

    result.proposals = _proposals(script, result)
    return result


def _proposals(script: Script, result: ScreeningResult) -> list[Proposal]:
    """Flags first (always an urgent follow-up), then each positive domain, in rule order."""
    out: list[Proposal] = []
    flag_order = list(dict.fromkeys(f.flag for f in script.flags))
    for flag in (f for f in flag_order if f in result.flags):
        templates = [t for t in script.proposals if t.flag == flag]
        if not templates:
            out.append(
                Proposal(
                    None,
                    f"Urgent: {flag.replace('_', ' ')} — follow the protocol",
                    "call",
                    "urgent",
                    0,
                    "flag",
                    flag,
                )
            )
        for t in templates:
            out.append(
                Proposal(t.need, t.title, t.kind, "urgent", t.due_days, "flag", flag, t.script)
            )
    for domain in (d for d in script.domains if d in result.positive_domains):
        templates = [t for t in script.proposals if t.domain == domain]
        if not templates:
            out.append(
                Proposal(
                    domain,
                    f"{domain.replace('_', ' ').capitalize()}: follow up on screening result",
                    "referral_check",
                    "normal",
                    7,
                    "domain",
                    domain,
                )
            )
        for t in templates:
            out.append(
                Proposal(
                    t.need, t.title, t.kind, t.priority, t.due_days, "domain", domain, t.script
                )
            )
    return out
