"""The phrasing corpora (corpus.yaml, corpus_heldout.yaml): each sentence with what it must mean, and how a parse of it is judged."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from neira_factory.commands import STEP_LABELS

CORPUS = Path(__file__).with_name("corpus.yaml")
# written by someone who had not read corpus.yaml or the parser, before the parser was run on it (issue 19)
HELDOUT = Path(__file__).with_name("corpus_heldout.yaml")
_LABELS = {label: impl for impl, label in STEP_LABELS.items()}
_LISTS = {"opts": "options", "steps": "steps"}
_SCALARS = {"v": "version", "state": "state", "pick": "pick"}
_FIELDS = ("action", "target", "name", "version", "options", "steps", "state", "pick", "filters")


@dataclass(frozen=True, eq=False)
class Case:
    """One sentence and what it must mean: an Intent's fields (`want`), a refusal's code, or the implementation a
    node described by the sentence is made of."""

    group: str
    lang: str
    text: str
    spec: str
    want: dict[str, Any] | None = None
    refuse: str | None = None  # not_understood | no_implementation
    describe: str | None = None
    ignored: tuple[str, ...] | None = None  # checked only when the expectation names them


def expectation(spec: str) -> dict[str, Any]:
    """Case fields from an expectation: "create organ voice v=1", "refuse", "describe reverse" (corpus.yaml)."""
    words = spec.split()
    if words[0] == "refuse":
        return {"refuse": words[1] if len(words) > 1 else "not_understood"}
    if words[0] == "describe":
        return {"describe": words[1]}
    action, target, name, *pairs = words if len(words) >= 3 else [*words, "-", "-"][:3]
    want: dict[str, Any] = {"action": action, "target": None if target == "-" else target,
                            "name": None if name == "-" else name, "version": None, "options": (), "steps": (),
                            "state": None, "pick": None, "filters": {}}
    ignored = None
    key_values = " ".join(pairs)
    for pair in _pairs(key_values):
        key, _, value = pair.partition("=")
        if key == "v":
            want["version"] = int(value)
        elif key in _SCALARS:
            want[_SCALARS[key]] = value
        elif key == "opts":
            want["options"] = tuple(value.split(","))
        elif key == "steps":
            want["steps"] = tuple(_LABELS.get(s, s) for s in value.split(">"))
        elif key == "where":
            want["filters"] = dict(item.split(":", 1) for item in value.split(","))
        elif key == "ignored":
            ignored = tuple(value.split(","))
        else:
            raise ValueError(f"unknown key {key!r} in {spec!r}")
    return {"want": want, "ignored": ignored}


def _pairs(text: str) -> list[str]:
    """key=value pairs; a value runs to the next " key=" (ignored=не могли бы вы holds spaces)."""
    out: list[str] = []
    for word in text.split():
        if "=" in word.split(",")[0] or not out:
            out.append(word)
        else:
            out[-1] += " " + word
    return out


def load(path: Path = CORPUS) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases = []
    for group, by_lang in data.items():
        for lang, rows in by_lang.items():
            for text, spec in rows:
                cases.append(Case(group, lang, text, spec, **expectation(spec)))
    return cases


def fields(intent: Any) -> dict[str, Any]:
    """The Intent's fields a corpus expectation names."""
    got = {name: getattr(intent, name) for name in _FIELDS}
    got["filters"] = dict(got["filters"])
    return got
