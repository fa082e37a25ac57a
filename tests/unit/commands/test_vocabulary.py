"""Vocabulary: built by the caller from the registry and the library."""
from __future__ import annotations

from pathlib import Path

import pytest

from neira_factory.commands import Vocabulary, parse
from neira_factory.domain.capabilities import DEFAULT_GATES
from neira_factory.library import registry

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_build_from_organ_ids():
    v = Vocabulary.build(organs=["organ.voice.v1", "organ.vision.v1", "organ.vision.v2", "organ.speak-pipeline.v1"])
    assert dict(v.organs) == {"voice": (1,), "vision": (1, 2), "speak-pipeline": (1,)}


def test_vocabulary_is_immutable_and_hashable():
    v = Vocabulary(organs={"vision": [2, 1]}, nodes=["analysis.echo.v1"])
    assert v.organs["vision"] == (1, 2) and v.nodes == ("analysis.echo.v1",)
    with pytest.raises(TypeError):
        v.organs["voice"] = (1,)  # type: ignore[index]
    assert hash(v) == hash(Vocabulary(organs={"vision": (1, 2)}, nodes=("analysis.echo.v1",)))


def test_the_repositorys_own_names():
    organ_ids = [p.stem for p in EXAMPLES.glob("organ.*.yaml")]
    node_ids = [p.stem for p in EXAMPLES.glob("*.yaml") if not p.stem.startswith("organ.")]
    v = Vocabulary.build(organs=organ_ids, nodes=node_ids, capabilities=list(DEFAULT_GATES), impls=registry.names())
    assert parse("создай голосовой орган v1", v).name == "voice"
    update = parse("обнови зрение до v2 (grayscale)", v)
    assert (update.name, update.version, update.options) == ("vision", 2, ("grayscale",))
    pipeline = parse("собери speak-pipeline normalize→phonemes→adapter", v)
    assert pipeline.steps == ("text_normalize", "text_to_phonemes", "speak_adapter")
    assert parse("включи голосовой орган", v).name == "organ_voice"
    assert parse("train keyword_classify", v).name == "analysis.keyword_classify.v1"
