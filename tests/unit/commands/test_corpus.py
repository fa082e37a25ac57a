"""The phrasing corpus (corpus.yaml, issue 19): sentences written as users type them, half Russian and half
English, across every intent, about sixty of them to be refused. Each is parsed against the vocabulary of a
fresh factory (examples/, the library, the default gates) and is either understood exactly as expected or
refused (none is one of the parser's own test sentences): a misread (an Intent other than the one expected, or one where a refusal is expected) fails the test,
and the accuracy must be at least 95%. The accuracy and the refusal rate are printed and reported."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from neira_factory import library
from neira_factory.commands import ACTIONS, NotUnderstood, parse
from neira_factory.commands.lexicon import node_impl
from neira_factory.commands.planner import plan
from neira_factory.commands.plans import World
from neira_factory.domain.capabilities import DEFAULT_GATES
from neira_factory.domain.errors import BadInput
from neira_factory.services.commands import vocabulary

from .corpus import HELDOUT, Case, fields, load
from .test_not_understood import CASES as REFUSED
from .test_parser import INFLECTIONS, MIXED, SEED, TABLES, TYPOS

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = {d["id"]: d for d in (yaml.safe_load(p.read_text(encoding="utf-8"))
                                 for p in sorted((ROOT / "examples").glob("*.yaml")))}
# a fresh factory: nothing registered yet, the default gates, the examples and the library
FRESH = World(nodes={}, organs={}, capabilities={g: s.value for g, s in DEFAULT_GATES.items()}, examples=EXAMPLES)
VOCAB = vocabulary(FRESH)
CASES = load()
HELD_OUT = load(HELDOUT)
ACCURACY_MIN = 0.95
HELD_OUT_MIN = 0.90  # phrasings nobody tuned the parser to before it was measured on them


def judge(case: Case) -> tuple[str, str]:
    """(outcome, what happened): correct, refused (a refusal where the meaning or another refusal was expected),
    or misread."""
    try:
        intent = parse(case.text, VOCAB)
    except NotUnderstood as err:
        return _refused(case, err.code, err.reason)
    except BadInput as err:  # «собери орган из … перевода»: no such implementation
        return _refused(case, err.code, str(err))
    if getattr(intent, "description", None) is not None:  # a node described by what it does (verbs/described.py)
        try:
            step, = plan(intent, FRESH).steps
        except BadInput as err:
            return _refused(case, err.code, str(err))
        made = node_impl(step.target)
        return ("correct", made) if made == case.describe else ("misread", f"a node of {made}")
    got = fields(intent)
    if case.want is None:
        return "misread", f"{got} where {case.spec!r} was expected"
    if got != case.want:
        return "misread", str({k: v for k, v in got.items() if v != case.want[k]})
    if case.ignored is not None and tuple(intent.ignored) != case.ignored:
        return "misread", f"ignored {intent.ignored}"
    return "correct", ""


def _refused(case: Case, code: str, reason: str) -> tuple[str, str]:
    return ("correct" if case.refuse == code else "refused"), f"{code}: {reason}"


def test_the_corpus_is_big_balanced_and_covers_every_intent():
    by_lang = Counter(case.lang for case in CASES)
    assert len(CASES) >= 400 and set(by_lang) == {"ru", "en"}, by_lang
    assert abs(by_lang["ru"] - by_lang["en"]) <= len(CASES) * 0.05, by_lang
    refusals = [case for case in CASES if case.refuse]
    assert 55 <= len(refusals) <= 80, len(refusals)
    texts = [case.text.lower() for case in CASES]
    assert len(texts) == len(set(texts)), [t for t, n in Counter(texts).items() if n > 1]
    actions = Counter(case.want["action"] for case in CASES if case.want)
    assert set(actions) == set(ACTIONS), actions
    for group in {case.group for case in CASES}:
        for lang in ("ru", "en"):
            assert sum(1 for c in CASES if (c.group, c.lang) == (group, lang)) >= 6, (group, lang)
    assert sum(1 for c in CASES if c.want and c.want["target"] == "node" and "memory" in c.want["options"]) >= 6


def test_no_sentence_is_one_the_parser_was_written_against():
    pinned = {text.lower() for table in (*TABLES.values(),) for side in table for text, _ in side}
    pinned |= {text.lower() for text, *_ in (*SEED, *MIXED, *TYPOS, *INFLECTIONS, *REFUSED)}
    assert not [case.text for case in CASES if case.text.lower() in pinned]
    corpus = {case.text.lower() for case in CASES}
    held_out = [case.text.lower() for case in HELD_OUT]
    assert len(held_out) == len(set(held_out)), [t for t, n in Counter(held_out).items() if n > 1]
    assert not [text for text in held_out if text in pinned | corpus]


def test_the_held_out_corpus_covers_every_intent_and_refusals():
    by_lang = Counter(case.lang for case in HELD_OUT)
    assert by_lang == {"ru": 70, "en": 70}, by_lang
    assert 20 <= sum(1 for case in HELD_OUT if case.refuse) <= 35
    assert {case.want["action"] for case in HELD_OUT if case.want} == set(ACTIONS)


@pytest.mark.parametrize("name,cases,minimum", [("phrasing corpus", CASES, ACCURACY_MIN),
                                                ("held-out corpus", HELD_OUT, HELD_OUT_MIN)],
                         ids=["corpus", "held-out"])
def test_every_sentence_is_understood_exactly_or_refused(request, capsys, name, cases, minimum):
    outcomes = {case: judge(case) for case in cases}
    count = Counter(outcome for outcome, _ in outcomes.values())
    total = len(cases)
    accuracy = count["correct"] / total
    refused = sum(1 for case, (outcome, said) in outcomes.items()
                  if said.startswith(("not_understood", "no_implementation")))
    by_lang = {lang: sum(1 for c, (o, _) in outcomes.items() if c.lang == lang and o == "correct")
               / sum(1 for c in cases if c.lang == lang) for lang in ("ru", "en")}
    summary = (f"{name}: {total} sentences ({sum(1 for c in cases if c.lang == 'ru')} ru, "
               f"{sum(1 for c in cases if c.lang == 'en')} en): accuracy {accuracy:.1%} "
               f"(ru {by_lang['ru']:.1%}, en {by_lang['en']:.1%}), refusal rate {refused / total:.1%} "
               f"({sum(1 for c in cases if c.refuse)} refusals expected), misread {count['misread']}")
    misses = [f"  {outcome}: [{case.lang}] {case.text!r} -> {said} (expected {case.spec!r})"
              for case, (outcome, said) in outcomes.items() if outcome != "correct"]
    request.node.add_report_section("call", name, "\n".join([summary, *misses]))
    with capsys.disabled():
        print("\n" + summary)
    misread = [m for m in misses if m.startswith("  misread")]
    assert not misread, "\n".join([summary, "a misunderstanding must never act:", *misread])
    assert accuracy >= minimum, "\n".join([summary, *misses])


@pytest.mark.parametrize("case", [c for c in (*CASES, *HELD_OUT) if c.describe], ids=lambda c: c.text)
def test_described_nodes_are_made_of_an_implementation_the_library_has(case):
    assert case.describe in library.names()
