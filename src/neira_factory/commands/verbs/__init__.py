"""The command language's verbs: one table, one entry per kind of Intent.

The parser (parser.py) reads a command with the entry its verb word belongs to,
the planner (planner.py) plans an Intent with the entry of its action, and the
service (services/commands.py) has a handler for every kind of step an entry's
plans hold. A new command is a module here (how it is read and planned), an
entry in VERBS, its verb words in synonyms.ACTION_WORDS and, for a new kind of
step, a handler in services/commands.py.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..plans import Plan, World
from ..reader import Reader
from ..vocabulary import Intent
from . import capability, create, pipeline, status, train, transitions, update


@dataclass(frozen=True)
class Verb:
    """One command: the words that ask for it, how it is read and planned, what its plans hold."""

    action: str  # the Intent's action: what the planner and the HTTP API see
    # its verb words (keys of synonyms.ACTION_WORDS) → how each is said, (ru, en), to a command without a verb
    words: Mapping[str, tuple[str, str]]
    example: tuple[str, str]  # a whole command, (ru, en); the first few are suggested to a command without a verb
    read: Callable[[Reader, str], Intent]  # reads a command with one of `words` (its Intent may be another verb's)
    plan: Callable[[Intent, World], Plan]  # plans an Intent with this action
    steps: tuple[str, ...]  # the kinds of step its plans hold


_ORGAN_STEPS = ("create_node", "build_organ")
_TRANSITION = ("transition",)

VERBS: tuple[Verb, ...] = (
    Verb("create", words={"create": ("создай", "create")},
         example=("создай голосовой орган v1", "create voice organ v1"),
         read=create.read, plan=create.plan, steps=_ORGAN_STEPS),
    Verb("update", words={"update": ("обнови", "update")},
         example=("обнови зрение до v2 (grayscale)", "upgrade vision to v2 (grayscale)"),
         read=update.read, plan=update.plan, steps=_ORGAN_STEPS),
    Verb("pipeline", words={"assemble": ("собери", "assemble")},
         example=("собери speak-pipeline normalize→phonemes→adapter",
                  "assemble speak-pipeline normalize→phonemes→adapter"),
         read=create.read, plan=pipeline.plan, steps=_ORGAN_STEPS),  # "assemble" reads like create
    Verb("approve", words={"approve": ("одобри", "approve")},
         example=("одобри analysis.echo.v1", "approve analysis.echo.v1"),
         read=transitions.read, plan=transitions.plan, steps=_TRANSITION),
    Verb("rollback", words={"rollback": ("откати", "roll back")},
         example=("откати орган зрения", "roll back the vision organ"),
         read=transitions.read, plan=transitions.plan, steps=_TRANSITION),
    Verb("disable", words={"disable": ("отключи", "disable")},
         example=("отключи analysis.echo.v1", "disable analysis.echo.v1"),
         read=transitions.read_disable, plan=transitions.plan, steps=_TRANSITION),
    Verb("capability", words={"unlock": ("разблокируй", "unlock"), "enable": ("включи", "enable"),
                              "lock": ("заблокируй", "lock")},
         example=("разблокируй factory_script", "unlock factory_script"),
         read=capability.read, plan=capability.plan, steps=("set_capability",)),
    Verb("status", words={"status": ("покажи", "show")},
         example=("покажи статус способностей", "show capabilities"),
         read=status.read, plan=status.plan, steps=("organ_status", "node", "organs", "nodes", "capabilities")),
    Verb("train", words={"train": ("обучи", "train")},
         example=("обучи analysis.keyword_classify.v1", "train analysis.keyword_classify.v1"),
         read=train.read, plan=train.plan, steps=("train",)),
)

BY_ACTION: Mapping[str, Verb] = {verb.action: verb for verb in VERBS}
BY_WORD: Mapping[str, Verb] = {word: verb for verb in VERBS for word in verb.words}
