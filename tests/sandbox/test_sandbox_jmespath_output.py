"""JMESPath bombs and amplified outputs against a real `neira-factory serve` (issue 15, items 3 and 8).

* A few `[@,@,@,@,@,@,@,@,@,@][]` stages in a `json_map` expression, an adapter's `map` or a
  `routes[].when` ask for 10^k values: the bounded evaluator stops them with `limit` (a value too big to
  build) or `timeout` (the node's deadline) — through a run, an invoke, a dry-run's example and an organ.
* A Rhai script returning one 4 Mi-character string 200 times (800 Mi characters of JSON in the memory of
  one string) is `bad_output`: the output is measured before anything serialises it (under a small
  `memory_mb` the script's own size limits may stop it first, with `limit`). Thrown, the same value is
  left out of the error (its `dropped` names it).

Each hostile call fails within the node's timeout plus MARGIN_S, with its kind, and /healthz keeps
answering in under a second while it runs (polled from another thread).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from e2e_support import to_stable
from sandbox_support import healthz_while

MARGIN_S = 1.0
TEN = "[" + ",".join(["@"] * 10) + "]"
BOMB = "@" + f"|{TEN}[]" * 8  # 10^8 copies of the input
BOMB_WHEN = "length(to_string(@" + "|[@,@]" * 40 + ")) > `0`"  # 2^40 copies, as text
SLOW = "a" + f"|[*].{TEN}|[]" * 8  # projections: many small steps, stopped by the clock or the work budget
PAD = 'fn run(input) { let s = "я"; s.pad(4000000, "ю"); let a = []; a.pad(200, s); a }'
INPUT = {"a": [1, 2, 3], "text": "x" * 2000}  # big enough that a bomb passes the size bound in a few stages
TINY = {"a": [1, 2, 3]}  # the bomb takes more (and smaller) steps: the size bound or the deadline stops it


@dataclass(frozen=True)
class Hostile:
    name: str
    fields: dict[str, Any]  # the template's fields beyond id and version
    kinds: tuple[str, ...]  # the error kinds it may end in
    timeout_ms: int
    where: str | None = None  # the error's `field` (a JMESPath limit)
    input: Any = field(default_factory=lambda: INPUT)

    @property
    def node_id(self) -> str:
        return f"analysis.jmes_{self.name.replace('-', '_')}.v1"

    def template(self, **more: Any) -> dict[str, Any]:
        limits = {"timeout_ms": self.timeout_ms, **self.fields.get("limits", {})}
        return {"id": self.node_id, "version": "0.1.0", "analysis_type": self.node_id.split(".")[1],
                **self.fields, "limits": limits, **more}


TABLE = [
    Hostile("json-map", {"adapter": {"impl": "json_map"}, "params": {"map": {"value": {"out": BOMB}}}},
            ("limit",), 100, "params.map.out"),
    Hostile("adapter-map", {"adapter": {"impl": "echo", "map": {"x": BOMB}}}, ("limit",), 100, "adapter.map.x"),
    Hostile("adapter-map-tiny-input", {"adapter": {"impl": "echo", "map": {"x": BOMB}}}, ("limit", "timeout"), 100,
            "adapter.map.x", TINY),
    Hostile("routes-when", {"adapter": {"impl": "echo", "routes": [{"when": BOMB_WHEN, "to": "reverse"}]}},
            ("limit",), 100, "adapter.routes.0.when"),
    Hostile("slow-projections", {"adapter": {"impl": "json_map"}, "params": {"map": {"value": {"out": SLOW}}}},
            ("timeout", "limit"), 300),
    # memory_mb 4096: the script's own size limits let it build this, the output cap (16 MiB) stops it
    Hostile("rhai-pad", {"backend": "script", "script": {"source": PAD}, "limits": {"memory_mb": 4096}},
            ("bad_output",), 2000),
    # the row, memory_mb 16: the script's limits (which count a shared string each time) or the cap
    Hostile("rhai-pad-16mb", {"backend": "script", "script": {"source": PAD}, "limits": {"memory_mb": 16}},
            ("limit", "bad_output"), 2000),
    # the same value thrown: the node's own exception, answered without the 800 Mi characters it threw
    Hostile("rhai-throw", {"backend": "script", "script": {"source": PAD.replace("; a }", "; throw a; }")},
                           "limits": {"memory_mb": 4096}}, ("exception",), 2000),
]


@pytest.fixture(scope="module")
def server(module_server):
    server = module_server()
    assert server.client("admin").put("/capabilities/factory_script", json={"state": "experimental"}).status_code == 200
    return server


def check(server, row: Hostile, call) -> dict[str, Any]:
    """Run the hostile `call` while polling /healthz; the error body, checked for kind and timing."""
    r, elapsed, slowest = healthz_while(server, call)
    assert slowest < 1.0, f"{row.name}: /healthz took {slowest:.2f}s"
    assert elapsed <= row.timeout_ms / 1000 + MARGIN_S, f"{row.name}: answered after {elapsed:.2f}s"
    body = r.json()
    error = body["report"]["examples"][0]["error"] if "report" in body else body
    assert error["kind"] in row.kinds, (row.name, r.status_code, error)
    if row.where is not None and error["kind"] == "limit":
        assert error["field"] == row.where, error
    assert len(r.content) < 100_000  # nothing of the bomb came back
    return error


@pytest.mark.parametrize("row", TABLE, ids=[row.name for row in TABLE])
def test_a_hostile_node_fails_with_its_kind_within_its_timeout_and_the_server_keeps_serving(server, row):
    admin = server.client("admin")
    r = admin.post("/factory/nodes", json=row.template())
    assert r.status_code == 201, r.text
    error = check(server, row, lambda: server.client("write").post(f"/factory/nodes/{row.node_id}/run",
                                                                   json={"input": row.input}))
    assert error["node"] == row.node_id


@pytest.mark.parametrize("row", TABLE, ids=[row.name for row in TABLE])
def test_a_dry_run_example_of_a_hostile_node_fails_the_same_way(server, row):
    template = row.template(examples=[{"input": row.input}])
    template["id"] = template["id"].replace(".v1", ".v2")
    check(server, row, lambda: server.client("write").post("/factory/nodes/dryrun", json=template))


def test_an_invoked_stable_bomb_is_a_limit(server):
    row = Hostile("invoked", {"adapter": {"impl": "echo", "map": {"x": BOMB}}}, ("limit",), 100, "adapter.map.x")
    to_stable(server.client("admin"), row.template())
    check(server, row, lambda: server.client("write").post("/invoke/analysis.jmes_invoked", json={"input": INPUT}))


def test_an_organ_whose_member_routes_on_a_bomb_fails_at_that_member(server):
    admin = server.client("admin")
    member = Hostile("organ-member", {"adapter": {"impl": "echo", "routes": [{"when": BOMB_WHEN, "to": "reverse"}]}},
                     ("limit",), 100, "adapter.routes.0.when")
    assert admin.post("/factory/nodes", json=member.template()).status_code == 201
    organ = {"id": "organ.jmes_bomb.v1", "nodes": [member.node_id],
             "channels": [{"name": "main", "nodes": [member.node_id]}], "limits": {"timeout_ms": 500}}
    r = admin.post("/organs/build", json={"organ_template": organ, "dryrun": False})
    assert r.status_code == 200, r.text
    error = check(server, member, lambda: server.client("write").post("/organs/organ.jmes_bomb.v1/run",
                                                                      json={"input": INPUT}))
    assert error["node"] == member.node_id and error["organ"] == "organ.jmes_bomb.v1"
