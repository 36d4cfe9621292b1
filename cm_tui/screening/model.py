"""The screening-script data model: immutable dataclasses built from TOML.

A script is data, never code: skip logic and rules are trees of the condition
classes below, evaluated by `conditions.holds`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("single", "multi", "number", "text")
CHOICE_KINDS = ("single", "multi")
FLAGS = ("interpersonal_safety", "self_harm_risk")

# Mirrors cm_tui.store.vocab (FOLLOWUP_KINDS, PRIORITIES); the engine stays free
# of store imports, and tests check the two lists agree.
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


# --- conditions -----------------------------------------------------------------


@dataclass(frozen=True)
class ItemCondition:
    """True when the item is answered and matches every test given.

    `any_of`: at least one chosen option is in the set; `at_least` / `at_most`: the
    number answered (kind `number`) or the item's option-score sum (single/multi);
    with no test at all the condition means "answered".
    """

    item: str
    any_of: tuple[str, ...] | None = None
    at_least: float | None = None
    at_most: float | None = None


@dataclass(frozen=True)
class ScoreCondition:
    """A score at or above a threshold.

    Also true when the score is absent (an item declined or unanswered) but the
    answered items plus the lowest possible answer to every missing one already
    reach the threshold: the domain is positive whatever the person would say.
    """

    score: str
    at_least: int


@dataclass(frozen=True)
class PositiveCondition:
    """True when a domain is positive (flags only: rules are evaluated first)."""

    domain: str


@dataclass(frozen=True)
class AllCondition:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyCondition:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class NotCondition:
    condition: Condition


Condition = (
    ItemCondition | ScoreCondition | PositiveCondition | AllCondition | AnyCondition | NotCondition
)


# --- script ------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    score: int | None = None
    exclusive: bool = False  # e.g. "None of the above": cannot be combined with others


@dataclass(frozen=True)
class Item:
    id: str
    domain: str
    text: str
    kind: str
    options: tuple[Option, ...] = ()
    show_if: Condition | None = None
    loinc: str | None = None
    preamble: str = ""  # read before the question (e.g. the safety section's lead-in)
    min: float | None = None  # kind "number" only
    max: float | None = None

    def option(self, option_id: str) -> Option | None:
        for option in self.options:
            if option.id == option_id:
                return option
        return None

    @property
    def option_ids(self) -> tuple[str, ...]:
        return tuple(o.id for o in self.options)


@dataclass(frozen=True)
class Band:
    id: str
    min: int
    max: int


@dataclass(frozen=True)
class ScoreDef:
    """A sum of option scores over items; present only when every item is answered."""

    id: str
    items: tuple[str, ...]
    label: str = ""
    loinc: str | None = None
    bands: tuple[Band, ...] = ()

    def band_for(self, value: int) -> str | None:
        for band in self.bands:
            if band.min <= value <= band.max:
                return band.id
        return None


@dataclass(frozen=True)
class Rule:
    """A domain is positive when any of its rules holds."""

    domain: str
    when: Condition


@dataclass(frozen=True)
class FlagRule:
    flag: str
    when: Condition


@dataclass(frozen=True)
class ProposalTemplate:
    """The need and follow-up a positive domain (or a raised flag) proposes."""

    title: str
    domain: str | None = None  # trigger: a positive domain ...
    flag: str | None = None  # ... or a raised flag
    need: str | None = None  # need domain to open; None: no need
    kind: str = "referral_check"
    priority: str = "normal"
    due_days: int = 7
    script: str | None = None  # a screening to run next (PHQ-2 positive -> phq-9)


@dataclass(frozen=True)
class Script:
    id: str
    version: str
    title: str
    language: str
    intro: str
    items: tuple[Item, ...]
    rules: tuple[Rule, ...] = ()
    flags: tuple[FlagRule, ...] = ()
    scores: tuple[ScoreDef, ...] = ()
    proposals: tuple[ProposalTemplate, ...] = ()
    loinc: str | None = None
    source: str = ""  # citation of the instrument's official wording
    path: Path | None = field(default=None, compare=False)

    def item(self, item_id: str) -> Item | None:
        for item in self.items:
            if item.id == item_id:
                return item
        return None

    def score_def(self, score_id: str) -> ScoreDef | None:
        for score in self.scores:
            if score.id == score_id:
                return score
        return None

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    @property
    def domains(self) -> tuple[str, ...]:
        """Domains that rules can make positive, in rule order."""
        return tuple(dict.fromkeys(r.domain for r in self.rules))


@dataclass(frozen=True)
class ScriptProblem:
    """One thing wrong with a script file, located as precisely as possible."""

    message: str
    line: int | None = None
    item: str | None = None

    def __str__(self) -> str:
        where = f"{self.line}: " if self.line is not None else ""
        what = f"item {self.item}: " if self.item else ""
        return f"{where}{what}{self.message}"


@dataclass(frozen=True)
class ScriptInfo:
    """One line of `cm-tui scripts list`."""

    id: str
    version: str
    title: str
    language: str
    items: int
    builtin: bool
    path: Path | None = None
    problems: tuple[ScriptProblem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems
