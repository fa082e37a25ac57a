"""A factory seeded with real data for the suites that act on every state (fuzzing, the authorization
matrix): adapter nodes in each lifecycle state, a trainable node, and training runs waited for."""
from __future__ import annotations

import time

from neira_factory.domain.actors import SYSTEM
from neira_factory.services import fabricate, lifecycle, training

DRAFT, CANARY, STABLE = "analysis.reverse.v1", "analysis.echo.v1", "analysis.mirror.v1"
QUARANTINED = "analysis.text_normalize.v1"
TRAINABLE = "analysis.spam.v1"
SPAM_PARAMS = {"keywords": {"value": {"spam": ["free", "win", "prize", "cash"]}},
               "threshold": {"value": 0.5, "min": 0, "max": 1, "tunable": True}, "prior": {"value": 0.5}}
SPAM_DATA = [{"input": {"text": "free win prize"}, "expected": "spam"},
             {"input": {"text": "hello there"}, "expected": "uncertain"}]
ACTIVE_RUN_STATES = ("queued", "running", "paused")


def to_stable(f, node_id: str) -> None:
    """Draft → stable: approve, then approve with force twice (a first version has no baseline traffic)."""
    lifecycle.transition(f.lifecycle, SYSTEM, node_id, "approve")
    for _ in range(2):
        lifecycle.transition(f.lifecycle, SYSTEM, node_id, "approve", force=True, reason="seeded stable")


def seed_node_states(f, reason: str, more: tuple[tuple[str, str], ...] = ()) -> None:
    """DRAFT, CANARY, STABLE and QUARANTINED adapter nodes, plus drafts for `more` ((id, impl), …);
    and the trainable TRAINABLE as a draft."""
    for node_id, impl in ((DRAFT, "reverse"), (CANARY, "echo"), (QUARANTINED, "text_normalize"), *more):
        fabricate.create(f.fabricate, SYSTEM, {"id": node_id, "version": "0.1.0", "analysis_type": node_id.split(".")[1],
                                     "adapter": {"impl": impl}})
    fabricate.create(f.fabricate, SYSTEM, {"id": STABLE, "version": "0.1.0", "analysis_type": "mirror",
                                 "adapter": {"impl": "echo"}})
    to_stable(f, STABLE)
    lifecycle.transition(f.lifecycle, SYSTEM, CANARY, "approve")
    lifecycle.transition(f.lifecycle, SYSTEM, QUARANTINED, "quarantine", reason=reason)
    fabricate.create(f.fabricate, SYSTEM, {"id": TRAINABLE, "version": "0.1.0", "analysis_type": "spam",
                                 "adapter": {"impl": "keyword_classify"}, "params": SPAM_PARAMS})


def train(f, until=lambda run: run.state not in ACTIVE_RUN_STATES, **spec) -> str:
    """A training run of TRAINABLE on SPAM_DATA (accuracy), waited for until `until(run)`; its id."""
    run_id = training.start(f.training, SYSTEM, TRAINABLE,
                            {"dataset": SPAM_DATA, "objective": "accuracy", **spec}).run_id
    deadline = time.monotonic() + 30
    while not until(training.get(f.training, SYSTEM, run_id)):
        assert time.monotonic() < deadline, f"seeded training run {run_id} stuck"
        time.sleep(0.05)
    return run_id
