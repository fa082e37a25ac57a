"""A factory with real data for the fuzzers: nodes in every reachable state, a script node, a memory node, an organ
and a finished training run, so that generated paths with ids hit real records (not only 404s)."""
from __future__ import annotations

from dataclasses import dataclass, field

from memory_support import stable_memory
from seeding import (
    CANARY,
    DRAFT,
    QUARANTINED,
    STABLE,
    TRAINABLE,
    seed_node_states,
    to_stable,
    train,
)

from neira_factory.domain.actors import SYSTEM
from neira_factory.services import capabilities, fabricate, lifecycle, organs

DISABLED = "analysis.upper.v1"
SCRIPT = "analysis.shout.v1"
ORGAN = "organ.mirror.v1"
SCRIPT_SOURCE = 'fn run(input) { #{text: `${input.text}`.to_upper() + global::suffix} }'


@dataclass
class Seeded:
    nodes: list[str]
    organs: list[str]
    routes: list[str]
    runs: list[str]
    capabilities: list[str] = field(default_factory=list)


def seed(f) -> Seeded:
    capabilities.set_capability(f.capabilities, SYSTEM, "factory_script", "experimental", reason="fuzz seed")
    seed_node_states(f, "fuzz seed", more=((DISABLED, "echo"),))
    lifecycle.transition(f.lifecycle, SYSTEM, DISABLED, "disable", reason="fuzz seed")
    fabricate.create(f.fabricate, SYSTEM, {"id": SCRIPT, "version": "0.1.0", "analysis_type": "shout", "backend": "script",
                                 "script": {"source": SCRIPT_SOURCE}, "params": {"suffix": {"value": "!"}},
                                 "limits": {"max_operations": 100_000, "timeout_ms": 1000}})
    to_stable(f, SCRIPT)
    organs.build(f.organs, SYSTEM, {"organ_template": {"id": ORGAN, "nodes": [STABLE],
                                                 "channels": [{"name": "main", "nodes": [STABLE]}]},
                             "dryrun": False})
    memory_route = stable_memory(f)
    run_id = train(f, max_iterations=2)
    with f.read() as uow:
        gates = sorted(uow.capabilities.all())
    nodes = [DRAFT, CANARY, STABLE, QUARANTINED, DISABLED, SCRIPT, TRAINABLE, "factory.selector.v1",
             f"{memory_route}.v1"]
    return Seeded(nodes=nodes, organs=[ORGAN], routes=["analysis.mirror", "analysis.shout", "analysis.echo",
                                                       "organ.mirror", "factory.selector", memory_route],
                  runs=[run_id], capabilities=gates)
