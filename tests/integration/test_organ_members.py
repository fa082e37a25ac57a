"""An organ's members run on its worker with what their own runs need made once (services/execution.py): their
output checks, statistics and backend load still hold per member. An organ's answer is its last member's output,
measured there; the organ's own, lower, cap still stops it."""
import pytest

from neira_factory.backends import ExecutionError
from neira_factory.domain.actors import SYSTEM
from neira_factory.services import capabilities, execution, fabricate, lifecycle, organs
from neira_factory.services.bootstrap import build_services
from neira_factory.services.invoke import invoke

from support import make_settings

NODES = ["analysis.reverse.v1", "analysis.echo.v1"]


@pytest.fixture
def f(tmp_path):
    f = build_services(make_settings(tmp_path))
    yield f
    f.runtime.watchdog.shutdown()
    f.db.dispose()


def live_organ(f, organ_id: str, nodes: list[str] = NODES, **extra) -> None:
    """The nodes to canary, the organ built with `extra` and forced to stable (a first version)."""
    for node_id in nodes:
        impl = node_id.split(".")[1]
        fabricate.create(f.fabricate, SYSTEM, {"id": node_id, "version": "0.1.0", "analysis_type": impl,
                                               "adapter": {"impl": impl}})
        assert lifecycle.transition(f.lifecycle, SYSTEM, node_id, "approve").state == "canary"
    template = {"id": organ_id, "nodes": nodes, "channels": [{"name": "main", "nodes": nodes}], **extra}
    assert organs.build(f.organs, SYSTEM, {"organ_template": template, "dryrun": False}).state == "draft"
    lifecycle.transition(f.lifecycle, SYSTEM, organ_id, "approve")
    for _ in range(2):
        lifecycle.transition(f.lifecycle, SYSTEM, organ_id, "approve", force=True, reason="first version")


def test_an_answer_its_members_may_give_is_bad_output_past_the_organs_own_lower_cap(f):
    # the organ's cap 1 MiB; its node's NEIRA_MAX_OUTPUT_BYTES, 16 MiB
    live_organ(f, "organ.small.v1", ["analysis.echo.v1"], limits={"memory_mb": 1})
    with pytest.raises(ExecutionError) as caught:  # 1,100 strings of 1,000 characters
        invoke(f.invoke, SYSTEM, "organ.small", {"pad": ["x" * 1000] * 1100}, "k")
    assert caught.value.kind == "bad_output" and caught.value.extra["node"] == "organ.small.v1"
    assert caught.value.extra["limit_bytes"] == 1024 * 1024
    small = invoke(f.invoke, SYSTEM, "organ.small", {"text": "abc"}, "k")  # under the cap: the members' answer
    assert small["output"] == {"text": "abc"}


def test_each_member_is_counted_and_none_is_left_queued_or_busy(f):
    live_organ(f, "organ.pair.v1")
    for i in range(5):
        assert invoke(f.invoke, SYSTEM, "organ.pair", {"text": f"ab{i}"}, f"k{i}")["output"] == {"text": f"{i}ba"}
    with pytest.raises(ExecutionError) as caught:  # the first member refuses the input: counted as its bad_input
        invoke(f.invoke, SYSTEM, "organ.pair", {"text": 5}, "bad")
    assert caught.value.kind == "bad_input" and caught.value.extra["organ"] == "organ.pair.v1"
    f.flush_stats()
    status = organs.status(f.organs, SYSTEM, "organ.pair.v1")
    assert status.metrics["requests"] == 6
    assert {n.id: n.requests for n in status.nodes} == {"analysis.reverse.v1": 6, "analysis.echo.v1": 5}
    assert f.runtime.load.of("adapter") | {"last_error": None} == {"busy": 0, "queued": 0, "last_error": None}
    assert f.runtime.load.of("organ") | {"last_error": None} == {"busy": 0, "queued": 0, "last_error": None}


def test_a_gate_closed_while_an_organ_runs_stops_its_remaining_members(f):
    """Members run in their organ's context, which reads the gates again for each member: the adapter gate locked
    as the second member is looked up refuses it (a policy error naming it), and the first has run."""
    live_organ(f, "organ.gated.v1")
    organ = f.runtime.routes.get("organ.gated").stable.template
    looked_up = []

    def resolve(node_id):
        looked_up.append(node_id)
        if node_id == NODES[1]:
            capabilities.set_capability(f.capabilities, SYSTEM, "factory_adapter", "locked", "test")
        return f.runtime.resolved.get(node_id)

    outcome = execution.guarded(f.execution, organ, organ.id, {"text": "ab"}, side_effects=True, resolve=resolve)[0]
    assert looked_up == NODES
    error = outcome.error
    assert (error.kind, error.extra["node"], error.extra["capability"]) == ("policy", NODES[1], "factory_adapter")
    assert [(step["node"], step["ok"]) for step in error.extra["trace"]] == [(NODES[0], True), (NODES[1], False)]
    f.flush_stats()
    assert {n.id: n.requests for n in organs.status(f.organs, SYSTEM, organ.id).nodes} == {NODES[0]: 1, NODES[1]: 1}
