"""A lifecycle command that names an organ without a version acts on the version it can apply to: the live one
for disable and rollback, the newest candidate for approve; the plan says which and why."""
from __future__ import annotations

import pytest

from neira_factory.commands import Vocabulary, parse
from neira_factory.commands.planner import plan
from neira_factory.commands.plans import World

VOICE = {"id": "organ.voice.v1", "nodes": ["analysis.text_normalize.v1"]}
VOCAB = Vocabulary(organs={"voice": (1, 2, 3)}, capabilities=("organ_voice",))


def world(**states: str) -> World:
    organs = {f"organ.voice.{v}": {**VOICE, "id": f"organ.voice.{v}"} for v in states}
    return World(nodes={}, organs=organs, capabilities={"organ_voice": "experimental"}, examples={},
                 organ_states={f"organ.voice.{v}": s for v, s in states.items()})


@pytest.mark.parametrize("text,states,target,why", [
    ("выключи голосовой орган", {"v1": "stable", "v2": "rolled_back"}, "organ.voice.v1", "живая версия: stable"),
    ("disable the voice organ", {"v1": "stable", "v2": "rolled_back"}, "organ.voice.v1", "the live version: stable"),
    ("откати орган голоса", {"v1": "stable", "v2": "canary", "v3": "disabled"}, "organ.voice.v1",
     "живая версия: stable"),
    ("одобри голосовой орган", {"v1": "stable", "v2": "canary", "v3": "rolled_back"}, "organ.voice.v2",
     "новейший кандидат: canary"),
    ("approve the voice organ", {"v1": "stable", "v2": "draft", "v3": "experimental"}, "organ.voice.v3",
     "the newest candidate: experimental"),
    ("disable the voice organ", {"v1": "experimental", "v2": "canary"}, "organ.voice.v1",
     "the live version: experimental"),
])
def test_an_organ_named_without_a_version_is_the_version_the_action_applies_to(text, states, target, why):
    planned = plan(parse(text, VOCAB), world(**states))
    step, = planned.steps
    assert step.target == target
    assert planned.summary.endswith(f"{target} ({why})"), planned.summary


def test_a_named_version_is_kept_and_with_none_the_action_can_apply_to_the_latest_is_named():
    states = {"v1": "stable", "v2": "rolled_back"}
    assert plan(parse("выключи голосовой орган v2", VOCAB), world(**states)).steps[0].target == "organ.voice.v2"
    none_live = world(v1="rolled_back", v2="disabled")
    planned = plan(parse("disable the voice organ", VOCAB), none_live)
    assert planned.steps[0].target == "organ.voice.v2" and "(" not in planned.summary
