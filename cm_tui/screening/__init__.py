"""Pure screening engine: scripts as TOML data, skip logic, scores, rules and flags.

No Textual, Rich or database imports here: the CLI, the screens and the tests
all use this library.
"""

from cm_tui.screening.engine import (
    AnswerError,
    Answers,
    Proposal,
    ScreeningResult,
    evaluate,
    next_item,
    previous_item,
    progress,
    visible_items,
)
from cm_tui.screening.loader import (
    BUILTIN_IDS,
    check_file,
    list_scripts,
    load_any,
    load_builtin,
    load_script,
)
from cm_tui.screening.model import (
    Band,
    FlagRule,
    Item,
    Option,
    ProposalTemplate,
    Rule,
    ScoreDef,
    Script,
    ScriptInfo,
    ScriptProblem,
)
from cm_tui.screening.parser import ScriptError, check_text, parse_script

__all__ = [
    "BUILTIN_IDS",
    "AnswerError",
    "Answers",
    "Band",
    "FlagRule",
    "Item",
    "Option",
    "Proposal",
    "ProposalTemplate",
    "Rule",
    "ScoreDef",
    "ScreeningResult",
    "Script",
    "ScriptError",
    "ScriptInfo",
    "ScriptProblem",
    "check_file",
    "check_text",
    "evaluate",
    "list_scripts",
    "load_any",
    "load_builtin",
    "load_script",
    "next_item",
    "parse_script",
    "previous_item",
    "progress",
    "visible_items",
]
