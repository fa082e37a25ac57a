"""What the parser works with and what it returns: Vocabulary, Intent, NotUnderstood."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["TARGETS", "Intent", "NotUnderstood", "Vocabulary"]

TARGETS = ("organ", "node", "capability", "capabilities", "organs", "nodes")


@dataclass(frozen=True)
class Vocabulary:
    """What names exist right now (the caller builds it from the registry and the library).

    organs: organ name → versions known, e.g. {"voice": (1,), "vision": (1, 2)}
    nodes: node ids, e.g. "analysis.text_normalize.v1"
    capabilities: capability gate names, e.g. "factory_script", "organ_voice"
    impls: library implementations, e.g. "text_normalize", "ocr"
    An empty ``impls`` means "any implementation the synonym table knows".
    """

    organs: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    nodes: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    impls: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        organs = {str(k).lower(): tuple(sorted(int(v) for v in (vs or ()))) for k, vs in dict(self.organs).items()}
        object.__setattr__(self, "organs", MappingProxyType(organs))
        for name in ("nodes", "capabilities", "impls"):
            object.__setattr__(self, name, tuple(str(x).lower() for x in getattr(self, name)))

    def __hash__(self) -> int:  # Mapping fields are not hashable; the content is
        return hash((tuple(sorted(self.organs.items())), self.nodes, self.capabilities, self.impls))

    @classmethod
    def build(
        cls,
        organs: Mapping[str, Iterable[int]] | Iterable[str] = (),
        nodes: Iterable[str] = (),
        capabilities: Iterable[str] = (),
        impls: Iterable[str] = (),
    ) -> Vocabulary:
        """Convenience constructor: organs may be a mapping or organ ids
        ("organ.vision.v2" → vision: (2,))."""
        if isinstance(organs, Mapping):
            table = {k: tuple(v) for k, v in organs.items()}
        else:
            table: dict[str, tuple[int, ...]] = {}
            for oid in organs:
                parts = str(oid).split(".")
                if parts and parts[0] == "organ":
                    parts = parts[1:]
                version = ()
                if len(parts) > 1 and parts[-1][:1] == "v" and parts[-1][1:].isdigit():
                    version = (int(parts[-1][1:]),)
                    parts = parts[:-1]
                name = ".".join(parts)
                table[name] = tuple(sorted(set(table.get(name, ())) | set(version)))
        return cls(organs=table, nodes=tuple(nodes), capabilities=tuple(capabilities), impls=tuple(impls))


@dataclass(frozen=True)
class Intent:
    """What a command asks for, with every name in canonical form."""

    action: str  # the action of one of the verbs (verbs/__init__.py): create, update, pipeline, …
    lang: str  # "ru" | "en"
    target: str | None  # organ | node | capability | capabilities | organs | nodes | None
    name: str | None  # organ name, node id or capability name
    version: int | None
    options: tuple[str, ...] = ()  # canonical option names, e.g. ("grayscale",)
    steps: tuple[str, ...] = ()  # pipeline steps: impl names in order
    # capability intents: the gate state asked for (experimental | stable | locked | disabled); an organ or node
    # named with a lifecycle state («стабильную версию»): its newest version in that state
    state: str | None = None
    pick: str | None = None  # a version named relative to the others: newest | previous (planned against the registry)
    filters: tuple[tuple[str, str], ...] = ()  # status listings: (state | kind | backend | organ, value), sorted
    ignored: tuple[str, ...] = ()  # words that changed nothing (please, the, пожалуйста), as written
    text: str = ""  # the command as given
    # create, a node described by what it does: the words after «узел, который» / "a node that" (verbs/described.py)
    description: str | None = None

    def to_dict(self) -> dict:
        return {
            "action": self.action,
            "lang": self.lang,
            "target": self.target,
            "name": self.name,
            "version": self.version,
            "options": list(self.options),
            "steps": list(self.steps),
            "state": self.state,
            "pick": self.pick,
            "filters": dict(self.filters),
            "ignored": list(self.ignored),
            "text": self.text,
            **({"description": self.description} if self.description is not None else {}),
        }


_ACTION_RU = {
    "create": "создать", "update": "обновить", "pipeline": "собрать конвейер", "approve": "одобрить",
    "rollback": "откатить", "disable": "отключить", "capability": "изменить способность",
    "status": "показать статус", "train": "обучить",
}
_TARGET_RU = {
    "organ": "орган", "node": "узел", "capability": "способность", "capabilities": "способности",
    "organs": "органы", "nodes": "узлы",
}
_FIELD_RU = {"action": "действие", "target": "цель", "name": "имя", "version": "версия",
             "options": "опции", "steps": "шаги", "state": "состояние", "pick": "выбор версии",
             "filters": "фильтры"}


def _describe(lang: str, understood: Mapping) -> str:
    parts = []
    for key in ("action", "target", "name", "version", "pick", "options", "steps", "state", "filters"):
        value = understood.get(key)
        if value in (None, "", [], (), {}):
            continue
        if isinstance(value, Mapping):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        if lang == "ru":
            if key == "action":
                value = _ACTION_RU.get(str(value), value)
            elif key == "target":
                value = _TARGET_RU.get(str(value), value)
            parts.append(f"{_FIELD_RU[key]} — {value}")
        else:
            parts.append(f"{key} {value}")
    return ", ".join(parts)


class NotUnderstood(Exception):
    """The command was not understood well enough to act on it: nothing is guessed.

    ``understood`` holds the Intent fields that were recognised, ``not_understood``
    the words that were not (or that fit more than one name), ``suggestions``
    names or commands that were probably meant. ``reason`` is written in the
    command's language. ``to_dict()`` is the wire error (HTTP 422)."""

    code = "not_understood"

    def __init__(
        self,
        lang: str,
        understood: dict,
        not_understood: list[str],
        suggestions: list[str],
        reason: str | None = None,
    ) -> None:
        self.lang = lang if lang in ("ru", "en") else "ru"
        self.understood = dict(understood)
        self.not_understood = list(not_understood)
        self.suggestions = list(suggestions)
        self.reason = reason or self._default_reason()
        super().__init__(self.reason)

    def _default_reason(self) -> str:
        words = self.not_understood
        desc = _describe(self.lang, self.understood)
        if self.lang == "ru":
            text = "Не понял: " + ", ".join(f"«{w}»" for w in words) + "." if words else "Не понял команду."
            if desc:
                text += f" Понял: {desc}."
            if self.suggestions:
                text += " Возможно, вы имели в виду: " + ", ".join(self.suggestions) + "."
        else:
            text = "Did not understand: " + ", ".join(f"'{w}'" for w in words) + "." if words else "Did not understand the command."
            if desc:
                text += f" Understood: {desc}."
            if self.suggestions:
                text += " Did you mean: " + ", ".join(self.suggestions) + "?"
        return text

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "reason": self.reason,
            "lang": self.lang,
            "understood": dict(self.understood),
            "not_understood": list(self.not_understood),
            "suggestions": list(self.suggestions),
        }
