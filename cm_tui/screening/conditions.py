"""Evaluate condition trees (skip logic, rules, flags) against answers. Never `eval`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cm_tui.screening.model import (
    AllCondition,
    AnyCondition,
    Condition,
    Item,
    ItemCondition,
    NotCondition,
    PositiveCondition,
    ScoreCondition,
    Script,
)


@dataclass
class Context:
    """What a condition can look at.

    `answers` holds only valid, non-empty answers of visible, non-declined items.
    """

    script: Script
    answers: Mapping[str, tuple[str, ...]]
    scores: Mapping[str, int] = field(default_factory=dict)
    score_floors: Mapping[str, int] = field(default_factory=dict)
    positive: frozenset[str] = frozenset()


def item_value(item: Item, answer: tuple[str, ...]) -> float | None:
    """The number answered (kind number) or the option-score sum (single/multi)."""
    if item.kind == "number":
        try:
            return float(answer[0])
        except (ValueError, IndexError):
            return None
    if item.kind in ("single", "multi"):
        total = 0
        for option_id in answer:
            option = item.option(option_id)
            if option is not None and option.score is not None:
                total += option.score
        return total
    return None


def holds(condition: Condition, ctx: Context) -> bool:
    if isinstance(condition, ItemCondition):
        return _item_holds(condition, ctx)
    if isinstance(condition, ScoreCondition):
        if condition.score in ctx.scores:
            return ctx.scores[condition.score] >= condition.at_least
        floor = ctx.score_floors.get(condition.score)
        return floor is not None and floor >= condition.at_least
    if isinstance(condition, PositiveCondition):
        return condition.domain in ctx.positive
    if isinstance(condition, AllCondition):
        return all(holds(c, ctx) for c in condition.conditions)
    if isinstance(condition, AnyCondition):
        return any(holds(c, ctx) for c in condition.conditions)
    if isinstance(condition, NotCondition):
        return not holds(condition.condition, ctx)
    raise TypeError(f"not a condition: {condition!r}")  # pragma: no cover


def _item_holds(condition: ItemCondition, ctx: Context) -> bool:
    answer = ctx.answers.get(condition.item)
    if not answer:
        return False  # unanswered, declined or hidden: never matches, never "no"
    if condition.any_of is not None and not set(answer) & set(condition.any_of):
        return False
    if condition.at_least is None and condition.at_most is None:
        return True
    item = ctx.script.item(condition.item)
    value = item_value(item, answer) if item is not None else None
    if value is None:
        return False
    if condition.at_least is not None and value < condition.at_least:
        return False
    return not (condition.at_most is not None and value > condition.at_most)


def referenced_items(condition: Condition) -> list[ItemCondition]:
    """Every item test inside a condition tree, in order."""
    if isinstance(condition, ItemCondition):
        return [condition]
    if isinstance(condition, AllCondition | AnyCondition):
        found: list[ItemCondition] = []
        for sub in condition.conditions:
            found.extend(referenced_items(sub))
        return found
    if isinstance(condition, NotCondition):
        return referenced_items(condition.condition)
    return []


def walk(condition: Condition) -> list[Condition]:
    """The condition and all its descendants, depth first."""
    out: list[Condition] = [condition]
    if isinstance(condition, AllCondition | AnyCondition):
        for sub in condition.conditions:
            out.extend(walk(sub))
    elif isinstance(condition, NotCondition):
        out.extend(walk(condition.condition))
    return out
