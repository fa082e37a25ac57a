"""The vocabulary the parser tests run against: the names this repository ships
(examples/, the library, the default capability gates)."""
import pytest

from neira_factory.commands import Vocabulary
from neira_factory.domain.capabilities import DEFAULT_GATES

ORGANS = {"voice": (1,), "vision": (1, 2), "speak-pipeline": (1,), "echo": (1,), "reverse": (1,)}
NODES = (
    "action.speak_adapter.v1",
    "analysis.echo.v1",
    "analysis.image_binarize.v1",
    "analysis.image_downscale.v1",
    "analysis.image_grayscale.v1",
    "analysis.keyword_classify.v1",
    "analysis.ocr.v1",
    "analysis.ocr_roi.v1",
    "analysis.reverse.v1",
    "analysis.speak_adapter.v1",
    "analysis.text_normalize.v1",
    "analysis.text_to_phonemes.v1",
)
CAPABILITIES = tuple(DEFAULT_GATES)
IMPLS = (
    "echo", "image_binarize", "image_downscale", "image_grayscale", "json_map", "keyword_classify",
    "ocr", "regex_extract", "reverse", "speak_adapter", "text_normalize", "text_to_phonemes",
)

VOCAB = Vocabulary(organs=ORGANS, nodes=NODES, capabilities=CAPABILITIES, impls=IMPLS)


@pytest.fixture(scope="session")
def vocab() -> Vocabulary:
    return VOCAB
