"""TOML text -> `Script`, collecting every problem with its line and item.

One pass both builds the script and validates it, so `cm-tui scripts check` and
the loader can never disagree about what a valid script is.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from cm_tui.screening.conditions import referenced_items
from cm_tui.screening.model import (
    CHOICE_KINDS,
    FOLLOWUP_KINDS,
    KINDS,
    PRIORITIES,
    AllCondition,
    AnyCondition,
    Band,
    Condition,
    FlagRule,
    Item,
    ItemCondition,
    NotCondition,
    Option,
    PositiveCondition,
    ProposalTemplate,
    Rule,
    ScoreCondition,
    ScoreDef,
    Script,
    ScriptProblem,
)

_TOP_KEYS = {
    "id",
    "version",
    "title",
    "language",
    "intro",
    "items",
    "rules",
    "flags",
    "scores",
    "proposals",
    "loinc",
    "source",
}
_ITEM_KEYS = {
    "id",
    "domain",
    "text",
    "kind",
    "options",
    "show_if",
    "loinc",
    "preamble",
    "min",
    "max",
}
_OPTION_KEYS = {"id", "label", "score", "exclusive"}
_RULE_FORMS = ("any_of", "score", "when")
_FLAG_FORMS = ("any_of", "score", "positive", "when")
_PROPOSAL_KEYS = {"domain", "flag", "need", "title", "kind", "priority", "due_days", "script"}
_TOML_LINE = re.compile(r"line (\d+)")


class ScriptError(ValueError):
    """A script that cannot be used; `problems` says why."""

    def __init__(self, source: str, problems: list[ScriptProblem]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s) in screening script\n{lines}")


def parse_script(text: str, path: Path | None = None) -> tuple[Script | None, list[ScriptProblem]]:
    """The script, or None and the list of problems (never both a script and problems)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        line = int(match.group(1)) if match else None
        return None, [ScriptProblem(f"bad TOML: {exc}", line)]
    parser = _Parser(doc, _Locator(text))
    script = parser.run(path)
    if parser.problems:
        return None, sorted(parser.problems, key=lambda p: p.line or 0)
    return script, []


# --- where things are in the source text -------------------------------------------


class _Locator:
    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def _blocks(self, name: str) -> list[tuple[int, int]]:
        """(first, last) 1-based line range of each `[[name]]` array-of-tables entry."""
        header = re.compile(rf"^\s*\[\[\s*{re.escape(name)}\s*\]\]")
        any_header = re.compile(r"^\s*\[")
        starts = [n for n, line in enumerate(self.lines, 1) if header.match(line)]
        blocks = []
        for start in starts:
            end = start
            for n in range(start + 1, len(self.lines) + 1):
                line = self.lines[n - 1]
                if any_header.match(line) and not re.match(rf"^\s*\[\s*{re.escape(name)}\.", line):
                    break
                end = n
            blocks.append((start, end))
        return blocks

    def block(self, name: str, index: int) -> tuple[int, int] | None:
        blocks = self._blocks(name)
        return blocks[index] if index < len(blocks) else None

    def find(self, pattern: str, where: tuple[int, int] | None = None, nth: int = 0) -> int | None:
        first, last = where or (1, len(self.lines))
        regex = re.compile(pattern)
        seen = 0
        for n in range(first, last + 1):
            if regex.search(self.lines[n - 1]):
                if seen == nth:
                    return n
                seen += 1
        return None

    def id_line(self, value: str, where: tuple[int, int] | None = None, nth: int = 0) -> int | None:
        return self.find(rf"\bid\s*=\s*[\"']{re.escape(value)}[\"']", where, nth)

    def token_line(self, token: str, where: tuple[int, int] | None) -> int | None:
        return self.find(rf"[\"']{re.escape(token)}[\"']", where)


# --- the parser ---------------------------------------------------------------------


class _Parser:
    def __init__(self, doc: dict[str, Any], loc: _Locator) -> None:
        self.doc = doc
        self.loc = loc
        self.problems: list[ScriptProblem] = []
        self.items: dict[str, Item] = {}
        self.order: dict[str, int] = {}
        self.item_lines: dict[str, int | None] = {}
        self.item_blocks: dict[str, tuple[int, int] | None] = {}
        self.id_seen: dict[str, int] = {}
        self.show_if_lines: dict[str, int | None] = {}

    def problem(self, message: str, line: int | None = None, item: str | None = None) -> None:
        self.problems.append(ScriptProblem(message, line, item))

    def top_line(self, key: str) -> int | None:
        return self.loc.find(rf"^\s*{re.escape(key)}\s*=")

    def run(self, path: Path | None) -> Script | None:
        doc = self.doc
        for key in sorted(set(doc) - _TOP_KEYS):
            self.problem(f"unknown key {key!r} at the top of the script", self.top_line(key))
        script_id = self.req_str(doc, "id", "script", self.top_line("id"))
        version = doc.get("version")
        if isinstance(version, int | float) and not isinstance(version, bool):
            version = str(version)
        if not isinstance(version, str) or not version.strip():
            self.problem("missing required key 'version' (a string, e.g. \"1.0\")")
            version = ""
        title = self.req_str(doc, "title", "script", self.top_line("title"))
        intro = self.req_str(doc, "intro", "script", self.top_line("intro"))
        language = self.opt_str(doc, "language", "script", self.top_line("language")) or "en"
        raw_items = doc.get("items")
        if not isinstance(raw_items, list) or not raw_items:
            self.problem("missing required key 'items': a script needs at least one [[items]]")
            raw_items = []
        for n, raw in enumerate(raw_items):
            if not isinstance(raw, dict):
                self.problem(f"item #{n + 1} must be a table ([[items]])", self.top_line("items"))
        raw_items = [raw for raw in raw_items if isinstance(raw, dict)]
        items = [self.parse_item(n, raw) for n, raw in enumerate(raw_items)]
        for n, (raw, item) in enumerate(zip(raw_items, items, strict=True)):
            if item is not None and "show_if" in raw:
                items[n] = self.parse_show_if(item, raw["show_if"])
        self.check_cycles([i for i in items if i is not None])
        scores = self.parse_scores(doc.get("scores", []))
        rules = self.parse_rules(doc.get("rules", []), scores)
        domains = {r.domain for r in rules}
        flags = self.parse_flags(doc.get("flags", []), scores, domains)
        proposals = self.parse_proposals(doc.get("proposals", []), domains, {f.flag for f in flags})
        if self.problems:
            return None
        return Script(
            id=script_id,
            version=version,
            title=title,
            language=language,
            intro=intro,
            items=tuple(i for i in items if i is not None),
            rules=tuple(rules),
            flags=tuple(flags),
            scores=tuple(scores.values()),
            proposals=tuple(proposals),
            loinc=self.opt_str(doc, "loinc", "script", self.top_line("loinc")),
            source=self.opt_str(doc, "source", "script", self.top_line("source")) or "",
            path=path,
        )

    # -- small typed getters

    def req_str(
        self, raw: dict[str, Any], key: str, what: str, line: int | None, item: str | None = None
    ) -> str:
        value = raw.get(key)
        if value is None:
            self.problem(f"missing required key {key!r} in {what}", line, item)
            return ""
        if not isinstance(value, str) or not value.strip():
            self.problem(f"{key!r} must be a non-empty string", line, item)
            return ""
        return value

    def opt_str(
        self, raw: dict[str, Any], key: str, what: str, line: int | None, item: str | None = None
    ) -> str | None:
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.problem(f"{key!r} in {what} must be a string", line, item)
            return None
        return value

    # -- items

    def parse_item(self, n: int, raw: dict[str, Any]) -> Item | None:
        block = self.loc.block("items", n)
        raw_id = raw.get("id")
        item_id = raw_id if isinstance(raw_id, str) and raw_id else None
        if item_id is not None:
            nth = self.id_seen.get(item_id, 0)
            self.id_seen[item_id] = nth + 1
            line = self.loc.id_line(item_id, block) or self.loc.id_line(item_id, None, nth)
        else:
            line = block[0] if block else None
        line = line or (block[0] if block else None)
        label = item_id or f"#{n + 1}"
        if item_id is None:
            self.problem(f"item #{n + 1} is missing required key 'id'", line)
        elif item_id in self.items or item_id in self.item_lines:
            self.problem(f"duplicate item id {item_id!r}", line, item_id)
            item_id = None
        else:
            self.item_lines[item_id] = line
            self.item_blocks[item_id] = block
        for key in sorted(set(raw) - _ITEM_KEYS):
            key_line = self.loc.find(rf"^\s*{re.escape(key)}\s*=", block) or line
            self.problem(f"unknown key {key!r}", key_line, label)
        domain = self.req_str(raw, "domain", "item", line, label)
        text = self.req_str(raw, "text", "item", line, label)
        kind = raw.get("kind")
        if kind is None:
            self.problem("missing required key 'kind'", line, label)
        elif kind not in KINDS:
            kind_line = self.loc.find(r"^\s*kind\s*=", block) or line
            self.problem(f"unknown kind {kind!r} (use one of {', '.join(KINDS)})", kind_line, label)
        options = self.parse_options(raw, kind, label, line, block)
        loinc = self.opt_str(raw, "loinc", "item", line, label)
        preamble = self.opt_str(raw, "preamble", "item", line, label) or ""
        bounds: list[float | None] = []
        for key in ("min", "max"):
            value = raw.get(key)
            if value is not None and (
                kind != "number" or isinstance(value, bool) or not isinstance(value, int | float)
            ):
                self.problem(f"{key!r} is for number items and must be a number", line, label)
                value = None
            bounds.append(value)
        if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
            self.problem("'min' is greater than 'max'", line, label)
        if item_id is None or kind not in KINDS or not domain or not text:
            return None
        item = Item(
            id=item_id,
            domain=domain,
            text=text,
            kind=kind,
            options=tuple(options),
            loinc=loinc,
            preamble=preamble,
            min=bounds[0],
            max=bounds[1],
        )
        self.items[item_id] = item
        self.order[item_id] = n
        return item

    def parse_options(
        self,
        raw: dict[str, Any],
        kind: Any,
        label: str,
        line: int | None,
        block: tuple[int, int] | None,
    ) -> list[Option]:
        raw_options = raw.get("options")
        if kind in CHOICE_KINDS:
            if not isinstance(raw_options, list) or not raw_options:
                self.problem(f"a {kind} item needs a non-empty 'options' list", line, label)
                return []
        elif raw_options is not None:
            if kind in KINDS:
                self.problem(f"a {kind} item takes no 'options'", line, label)
            return []
        else:
            return []
        options: list[Option] = []
        seen: dict[str, int] = {}
        for n, raw_option in enumerate(raw_options):
            if not isinstance(raw_option, dict):
                self.problem(
                    f"option #{n + 1} must be a table {{ id = ..., label = ... }}", line, label
                )
                continue
            option_id = raw_option.get("id")
            if not isinstance(option_id, str) or not option_id:
                self.problem(f"option #{n + 1} is missing required key 'id'", line, label)
                continue
            option_line = (
                self.loc.id_line(option_id, block, seen.get(option_id, 0))
                or self.loc.id_line(option_id, block)
                or line
            )
            if option_id in seen:
                seen[option_id] += 1
                self.problem(f"duplicate option id {option_id!r}", option_line, label)
                continue
            seen[option_id] = 1
            for key in sorted(set(raw_option) - _OPTION_KEYS):
                self.problem(f"unknown key {key!r} in option {option_id!r}", option_line, label)
            option_label = raw_option.get("label")
            if not isinstance(option_label, str) or not option_label.strip():
                self.problem(
                    f"option {option_id!r} is missing required key 'label'", option_line, label
                )
                continue
            score = raw_option.get("score")
            if score is not None and (isinstance(score, bool) or not isinstance(score, int)):
                self.problem(
                    f"option {option_id!r}: 'score' must be a whole number", option_line, label
                )
                score = None
            exclusive = raw_option.get("exclusive", False)
            if not isinstance(exclusive, bool):
                self.problem(
                    f"option {option_id!r}: 'exclusive' must be true or false", option_line, label
                )
                exclusive = False
            options.append(Option(option_id, option_label, score, exclusive))
        return options

    def parse_show_if(self, item: Item, raw: Any) -> Item:
        block = self.item_blocks.get(item.id)
        line = self.loc.find(r"^\s*(show_if\s*=|\[\s*items\.show_if)", block)
        if line is not None and block is not None:
            block = (line, block[1])  # look for referenced ids from show_if on
        line = line or self.item_lines.get(item.id)
        self.show_if_lines[item.id] = line
        condition = self.condition(raw, line, item.id, owner=item.id, block=block)
        if condition is None:
            return item
        return replace(item, show_if=condition)

    def check_cycles(self, items: list[Item]) -> None:
        graph = {
            i.id: [c.item for c in referenced_items(i.show_if) if c.item in self.items]
            for i in items
            if i.show_if is not None
        }
        reported: set[str] = set()
        for start in graph:
            path: list[str] = []
            self._find_cycle(start, graph, path, set(), reported)

    def _find_cycle(
        self,
        node: str,
        graph: dict[str, list[str]],
        path: list[str],
        done: set[str],
        reported: set[str],
    ) -> None:
        if node in path:
            cycle = [*path[path.index(node) :], node]
            if not set(cycle) <= reported:
                reported.update(cycle)
                self.problem(
                    f"show_if cycle: {' -> '.join(cycle)}",
                    self.show_if_lines.get(node, self.item_lines.get(node)),
                    node,
                )
            return
        if node in done:
            return
        path.append(node)
        for target in graph.get(node, []):
            self._find_cycle(target, graph, path, done, reported)
        path.pop()
        done.add(node)

    # -- conditions

    def condition(
        self,
        raw: Any,
        line: int | None,
        item: str | None,
        *,
        owner: str | None = None,
        block: tuple[int, int] | None = None,
        flags: bool = False,
        scores: dict[str, ScoreDef] | None = None,
        domains: set[str] | None = None,
    ) -> Condition | None:
        """Parse one condition table; `owner` set means skip logic (items before it only)."""

        def sub(value: Any) -> Condition | None:
            return self.condition(
                value,
                line,
                item,
                owner=owner,
                block=block,
                flags=flags,
                scores=scores,
                domains=domains,
            )

        if not isinstance(raw, dict):
            self.problem(
                'a condition must be a table such as { item = "x", any_of = ["a"] }', line, item
            )
            return None
        keys = set(raw)
        if keys & {"all", "any"}:
            key = "all" if "all" in raw else "any"
            if keys != {key}:
                self.problem(f"'{key}' cannot be combined with other keys", line, item)
                return None
            values = raw[key]
            if not isinstance(values, list) or not values:
                self.problem(f"'{key}' needs a non-empty list of conditions", line, item)
                return None
            parts = [sub(v) for v in values]
            if any(p is None for p in parts):
                return None
            kept = tuple(p for p in parts if p is not None)
            return AllCondition(kept) if key == "all" else AnyCondition(kept)
        if "not" in raw:
            if keys != {"not"}:
                self.problem("'not' cannot be combined with other keys", line, item)
                return None
            inner = sub(raw["not"])
            return NotCondition(inner) if inner is not None else None
        if "item" in raw:
            return self.item_condition(raw, line, item, owner, block)
        if "score" in raw:
            if owner is not None:
                self.problem("show_if can only test earlier answers, not scores", line, item)
                return None
            return self.score_condition(raw, line, item, scores or {})
        if "positive" in raw:
            if not flags:
                self.problem("'positive' can only be used in [[flags]]", line, item)
                return None
            domain = raw["positive"]
            if keys != {"positive"} or not isinstance(domain, str):
                self.problem('write a domain test as { positive = "domain" }', line, item)
                return None
            if domain not in (domains or set()):
                self.problem(
                    f"'positive' names domain {domain!r}, which no rule makes positive", line, item
                )
                return None
            return PositiveCondition(domain)
        self.problem(
            f"unknown condition {sorted(keys)} (use item, score, all, any or not)", line, item
        )
        return None

    def item_condition(
        self,
        raw: dict[str, Any],
        line: int | None,
        where: str | None,
        owner: str | None,
        block: tuple[int, int] | None,
    ) -> Condition | None:
        target = raw.get("item")
        unknown = set(raw) - {"item", "any_of", "at_least", "at_most"}
        if unknown:
            self.problem(f"unknown key(s) {sorted(unknown)} in condition", line, where)
            return None
        if not isinstance(target, str):
            self.problem("'item' must name an item id", line, where)
            return None
        label = owner or target
        ref_line = self.loc.token_line(target, block) or line
        item = self.items.get(target)
        if item is None:
            self.problem(f"refers to missing item {target!r}", ref_line, label)
            return None
        if owner is not None and target != owner and self.order[target] > self.order[owner]:
            self.problem(
                f"show_if refers to later item {target!r}; skip logic can only use answers "
                "given before this question",
                ref_line,
                owner,
            )
        any_of = raw.get("any_of")
        if any_of is not None:
            if item.kind not in CHOICE_KINDS:
                self.problem(
                    f"'any_of' needs a single or multi item; {target!r} is {item.kind}", line, label
                )
                return None
            if not isinstance(any_of, list) or not all(isinstance(o, str) for o in any_of):
                self.problem("'any_of' must be a list of option ids", line, label)
                return None
            if not any_of:
                self.problem(f"empty 'any_of' for item {target!r} can never be true", line, label)
            for option_id in any_of:
                if item.option(option_id) is None:
                    self.problem(
                        f"unknown option {option_id!r} for item {target!r} "
                        f"(options: {', '.join(item.option_ids)})",
                        self.loc.token_line(option_id, block) or line,
                        label,
                    )
        bounds: list[float | None] = []
        for key in ("at_least", "at_most"):
            value = raw.get(key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                self.problem(f"{key!r} must be a number", line, label)
                return None
            bounds.append(value)
        at_least, at_most = bounds
        if (at_least is not None or at_most is not None) and item.kind == "text":
            self.problem(f"'at_least'/'at_most' cannot test text item {target!r}", line, label)
            return None
        if at_least is not None or at_most is not None:
            low, high = item_range(item)
            if at_least is not None and high is not None and at_least > high:
                self.problem(
                    f"threshold at_least = {at_least} can never be reached: item "
                    f"{target!r} is at most {high}",
                    line,
                    label,
                )
            if at_most is not None and low is not None and at_most < low:
                self.problem(
                    f"threshold at_most = {at_most} can never be met: item "
                    f"{target!r} is at least {low}",
                    line,
                    label,
                )
        return ItemCondition(
            target,
            tuple(any_of) if isinstance(any_of, list) else None,
            at_least,
            at_most,
        )

    def score_condition(
        self, raw: dict[str, Any], line: int | None, where: str | None, scores: dict[str, ScoreDef]
    ) -> Condition | None:
        name = raw.get("score")
        at_least = raw.get("at_least")
        if set(raw) != {"score", "at_least"}:
            self.problem('write a score test as { score = "name", at_least = N }', line, where)
            return None
        if not isinstance(at_least, int) or isinstance(at_least, bool):
            self.problem("'at_least' must be a whole number", line, where)
            return None
        if not isinstance(name, str) or name not in scores:
            self.problem(f"unknown score {name!r} (declare it in [[scores]])", line, where)
            return None
        high = self.score_range(scores[name])[1]
        if at_least > high:
            self.problem(
                f"threshold {at_least} for score {name!r} can never be reached "
                f"(highest possible total is {high})",
                line,
                where,
            )
        return ScoreCondition(name, at_least)

    # -- scores, rules, flags, proposals

    def score_range(self, score: ScoreDef) -> tuple[int, int]:
        low = high = 0
        for item_id in score.items:
            item = self.items.get(item_id)
            if item is None:
                continue
            item_low, item_high = item_range(item)
            low += int(item_low or 0)
            high += int(item_high or 0)
        return low, high

    def parse_scores(self, raw: Any) -> dict[str, ScoreDef]:
        scores: dict[str, ScoreDef] = {}
        if not isinstance(raw, list):
            self.problem("'scores' must be a list of [[scores]] tables", self.top_line("scores"))
            return scores
        for n, entry in enumerate(raw):
            block = self.loc.block("scores", n)
            line = block[0] if block else self.top_line("scores")
            if not isinstance(entry, dict):
                self.problem(f"score #{n + 1} must be a table", line)
                continue
            unknown = set(entry) - {"id", "items", "label", "loinc", "bands"}
            if unknown:
                self.problem(f"unknown key(s) {sorted(unknown)} in score #{n + 1}", line)
            score_id = self.req_str(entry, "id", f"score #{n + 1}", line)
            if not score_id:
                continue
            if score_id in scores:
                self.problem(f"duplicate score id {score_id!r}", line)
                continue
            item_ids = entry.get("items")
            if (
                not isinstance(item_ids, list)
                or not item_ids
                or not all(isinstance(i, str) for i in item_ids)
            ):
                self.problem(f"score {score_id!r} needs 'items', a list of item ids", line)
                continue
            ok = True
            for item_id in item_ids:
                item = self.items.get(item_id)
                item_line = self.loc.token_line(item_id, block) or line
                if item is None:
                    self.problem(
                        f"score {score_id!r} refers to missing item {item_id!r}", item_line, item_id
                    )
                    ok = False
                elif item.kind not in CHOICE_KINDS:
                    self.problem(
                        f"score {score_id!r}: a {item.kind} item cannot be scored",
                        item_line,
                        item_id,
                    )
                    ok = False
                elif any(o.score is None for o in item.options):
                    self.problem(
                        f"score {score_id!r}: every option of the item needs a 'score'",
                        item_line,
                        item_id,
                    )
                    ok = False
            if len(set(item_ids)) != len(item_ids):
                self.problem(f"score {score_id!r} lists an item twice", line)
                ok = False
            score = ScoreDef(
                score_id,
                tuple(item_ids),
                self.opt_str(entry, "label", "score", line) or "",
                self.opt_str(entry, "loinc", "score", line),
            )
            bands = self.parse_bands(entry.get("bands", []), score, line, block) if ok else ()
            if ok:
                scores[score_id] = replace(score, bands=bands)
        return scores

    def parse_bands(
        self, raw: Any, score: ScoreDef, line: int | None, block: tuple[int, int] | None
    ) -> tuple[Band, ...]:
        if not isinstance(raw, list):
            self.problem(f"score {score.id!r}: 'bands' must be a list", line)
            return ()
        bands: list[Band] = []
        for n, entry in enumerate(raw):
            if (
                not isinstance(entry, dict)
                or set(entry) != {"id", "min", "max"}
                or not isinstance(entry["id"], str)
                or not all(
                    isinstance(entry[k], int) and not isinstance(entry[k], bool)
                    for k in ("min", "max")
                )
            ):
                self.problem(
                    f"score {score.id!r}: band #{n + 1} must be "
                    '{ id = "name", min = N, max = M } with whole numbers',
                    line,
                )
                continue
            band = Band(entry["id"], entry["min"], entry["max"])
            band_line = self.loc.id_line(band.id, block) or line
            if band.min > band.max:
                self.problem(f"score {score.id!r}: band {band.id!r} has min > max", band_line)
                continue
            bands.append(band)
        low, high = self.score_range(score)
        ordered = sorted(bands, key=lambda b: b.min)
        for band in ordered:
            if band.min > high or band.max < low:
                self.problem(
                    f"score {score.id!r}: band {band.id!r} ({band.min}-{band.max}) can "
                    f"never be reached (totals run {low}-{high})",
                    self.loc.id_line(band.id, block) or line,
                )
        for before, after in itertools.pairwise(ordered):
            if after.min <= before.max:
                self.problem(
                    f"score {score.id!r}: bands {before.id!r} and {after.id!r} overlap",
                    self.loc.id_line(after.id, block) or line,
                )
        if ordered:
            covered: set[int] = set()
            for band in ordered:
                covered.update(range(band.min, band.max + 1))
            gaps = [v for v in range(low, high + 1) if v not in covered]
            if gaps:
                self.problem(f"score {score.id!r}: no band covers {_ranges(gaps)}", line)
        return tuple(bands)

    def rule_condition(
        self,
        entry: dict[str, Any],
        forms: tuple[str, ...],
        line: int | None,
        block: tuple[int, int] | None,
        scores: dict[str, ScoreDef],
        domains: set[str] | None,
        what: str,
    ) -> Condition | None:
        given = [f for f in forms if f in entry]
        if len(given) != 1:
            self.problem(f"{what} needs exactly one of {', '.join(forms)}", line)
            return None
        form = given[0]
        if form == "any_of":
            table = entry["any_of"]
            if not isinstance(table, dict) or not table:
                self.problem(f"{what}: 'any_of' must map item ids to lists of option ids", line)
                return None
            parts = [
                self.condition({"item": item_id, "any_of": options}, line, None, block=block)
                for item_id, options in table.items()
            ]
            if any(p is None for p in parts):
                return None
            kept = tuple(p for p in parts if p is not None)
            return kept[0] if len(kept) == 1 else AnyCondition(kept)
        if form == "score":
            return self.score_condition(
                {"score": entry["score"], "at_least": entry.get("at_least")}, line, None, scores
            )
        if form == "positive":
            return self.condition(
                {"positive": entry["positive"]}, line, None, flags=True, domains=domains
            )
        return self.condition(
            entry["when"],
            line,
            None,
            block=block,
            flags=domains is not None,
            scores=scores,
            domains=domains,
        )

    def parse_rules(self, raw: Any, scores: dict[str, ScoreDef]) -> list[Rule]:
        rules: list[Rule] = []
        if not isinstance(raw, list):
            self.problem("'rules' must be a list of [[rules]] tables", self.top_line("rules"))
            return rules
        for n, entry in enumerate(raw):
            block = self.loc.block("rules", n)
            line = block[0] if block else self.top_line("rules")
            if not isinstance(entry, dict):
                self.problem(f"rule #{n + 1} must be a table", line)
                continue
            unknown = set(entry) - {"domain", "at_least", *_RULE_FORMS}
            if unknown:
                self.problem(f"unknown key(s) {sorted(unknown)} in rule #{n + 1}", line)
            domain = self.req_str(entry, "domain", f"rule #{n + 1}", line)
            when = self.rule_condition(
                entry, _RULE_FORMS, line, block, scores, None, f"rule #{n + 1} ({domain or '?'})"
            )
            if domain and when is not None:
                rules.append(Rule(domain, when))
        return rules

    def parse_flags(
        self, raw: Any, scores: dict[str, ScoreDef], domains: set[str]
    ) -> list[FlagRule]:
        flags: list[FlagRule] = []
        if not isinstance(raw, list):
            self.problem("'flags' must be a list of [[flags]] tables", self.top_line("flags"))
            return flags
        for n, entry in enumerate(raw):
            block = self.loc.block("flags", n)
            line = block[0] if block else self.top_line("flags")
            if not isinstance(entry, dict):
                self.problem(f"flag #{n + 1} must be a table", line)
                continue
            unknown = set(entry) - {"id", "at_least", *_FLAG_FORMS}
            if unknown:
                self.problem(f"unknown key(s) {sorted(unknown)} in flag #{n + 1}", line)
            flag = self.req_str(entry, "id", f"flag #{n + 1}", line)
            when = self.rule_condition(
                entry, _FLAG_FORMS, line, block, scores, domains, f"flag #{n + 1} ({flag or '?'})"
            )
            if flag and when is not None:
                flags.append(FlagRule(flag, when))
        return flags

    def parse_proposals(
        self, raw: Any, domains: set[str], flags: set[str]
    ) -> list[ProposalTemplate]:
        proposals: list[ProposalTemplate] = []
        if not isinstance(raw, list):
            self.problem(
                "'proposals' must be a list of [[proposals]] tables", self.top_line("proposals")
            )
            return proposals
        for n, entry in enumerate(raw):
            block = self.loc.block("proposals", n)
            line = block[0] if block else self.top_line("proposals")
            what = f"proposal #{n + 1}"
            if not isinstance(entry, dict):
                self.problem(f"{what} must be a table", line)
                continue
            unknown = set(entry) - _PROPOSAL_KEYS
            if unknown:
                self.problem(f"unknown key(s) {sorted(unknown)} in {what}", line)
            domain, flag = entry.get("domain"), entry.get("flag")
            if (domain is None) == (flag is None):
                self.problem(f"{what} needs exactly one of 'domain' or 'flag'", line)
                continue
            if not isinstance(domain if domain is not None else flag, str):
                key = "domain" if domain is not None else "flag"
                self.problem(f"{what}: '{key}' must be a text value", line)
                continue
            if domain is not None and domain not in domains:
                self.problem(f"{what} is for domain {domain!r}, which no rule makes positive", line)
                continue
            if flag is not None and flag not in flags:
                self.problem(f"{what} is for flag {flag!r}, which no [[flags]] raises", line)
                continue
            title = self.req_str(entry, "title", what, line)
            kind = entry.get("kind", "call" if flag else "referral_check")
            if kind not in FOLLOWUP_KINDS:
                self.problem(
                    f"{what}: unknown follow-up kind {kind!r} "
                    f"(use one of {', '.join(FOLLOWUP_KINDS)})",
                    line,
                )
            priority = entry.get("priority", "urgent" if flag else "normal")
            if priority not in PRIORITIES:
                self.problem(f"{what}: unknown priority {priority!r}", line)
            elif flag is not None and priority != "urgent":
                self.problem(f"{what}: a flag's follow-up is always 'urgent'", line)
            due_days = entry.get("due_days", 0 if flag else 7)
            if not isinstance(due_days, int) or isinstance(due_days, bool) or due_days < 0:
                self.problem(f"{what}: 'due_days' must be a whole number of days, 0 or more", line)
                due_days = 0
            need = entry.get("need", domain)
            if need is not None and not isinstance(need, str):
                self.problem(f"{what}: 'need' must be a domain name", line)
                need = None
            script = self.opt_str(entry, "script", what, line)
            proposals.append(
                ProposalTemplate(
                    title=title,
                    domain=domain,
                    flag=flag,
                    need=need or None,
                    kind=kind,
                    priority=priority,
                    due_days=due_days,
                    script=script,
                )
            )
        return proposals


def item_range(item: Item) -> tuple[float | None, float | None]:
    """Lowest and highest value an answer to the item can have (None: unbounded)."""
    if item.kind == "number":
        return item.min, item.max
    if item.kind not in CHOICE_KINDS or not item.options:
        return None, None
    scores = [o.score or 0 for o in item.options]
    if item.kind == "single":
        return min(scores), max(scores)
    combinable = [o.score or 0 for o in item.options if not o.exclusive]
    low = min(min(scores), sum(s for s in combinable if s < 0))
    high = max(max(scores), sum(s for s in combinable if s > 0))
    return low, high


def _ranges(values: Iterable[int]) -> str:
    spans: list[list[int]] = []
    for value in sorted(values):
        if spans and spans[-1][1] == value - 1:
            spans[-1][1] = value
        else:
            spans.append([value, value])
    return ", ".join(str(a) if a == b else f"{a} to {b}" for a, b in spans)


def check_text(text: str, path: Path | None = None) -> list[ScriptProblem]:
    return parse_script(text, path)[1]
