"""`neira-factory mcp` driven by the `mcp` SDK's own client (stdio_client + ClientSession, the server a subprocess)
against a real `neira-factory serve`: the tools and their schemas, a node's way to canary, organs, commands in
words, and the factory's refusals and bad arguments as tool errors that leave the server running."""
from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from e2e_support import BIN, NODE_ID, ROOT, TEMPLATE, base_env, free_port
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import CallToolResult
from support import TOKENS

TOOLS = {  # name: (required parameters, every parameter)
    "dryrun_node": ({"template"}, {"template"}),
    "create_node": ({"template"}, {"template", "idempotency_key"}),
    "approve_node": ({"node_id"}, {"node_id", "confirm", "reason", "force"}),
    "build_organ": ({"organ_template"}, {"organ_template", "dryrun"}),
    "organ_status": ({"organ_id"}, {"organ_id"}),
    "invoke": ({"route"}, {"route", "input", "key"}),
    "say": ({"text"}, {"text"}),
    "confirm_plan": ({"confirm_token"}, {"confirm_token"}),
    "list_nodes": (set(), {"state", "route", "kind", "backend", "search", "limit"}),
    "analysis": ({"node_id"}, {"node_id"}),
}
ROUTE = NODE_ID.rsplit(".", 1)[0]
ORGAN = {"id": "organ.reverse.v1", "roles": ["reverse"], "nodes": [NODE_ID],
         "channels": [{"name": "main", "nodes": [NODE_ID]}]}


def _run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), timeout=120))


@asynccontextmanager
async def _agent(url: str, token: str) -> AsyncIterator[ClientSession]:
    """An agent's session with `neira-factory mcp`, started as a host starts it: a command and its env."""
    params = StdioServerParameters(command=str(BIN), args=["mcp"], cwd=str(ROOT),
                                   env=base_env(NEIRA_URL=url, NEIRA_TOKEN=token))
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


async def _ok(session: ClientSession, tool: str, **arguments: Any) -> Any:
    """A call that must succeed: its structured result, the same as its text."""
    result = await session.call_tool(tool, arguments)
    assert isinstance(result, CallToolResult) and not result.is_error, (tool, result.content)
    assert [json.loads(block.text) for block in result.content] == [result.structured_content]
    return result.structured_content


async def _refused(session: ClientSession, tool: str, **arguments: Any) -> str:
    """A call that must come back as a tool error: its text."""
    result = await session.call_tool(tool, arguments)
    assert isinstance(result, CallToolResult) and result.is_error, (tool, result)
    return result.content[0].text


def test_the_tools_and_their_schemas(server):
    async def scenario() -> None:
        async with _agent(server.url, TOKENS["read"]) as agent:
            listed = {tool.name: tool for tool in (await agent.list_tools()).tools}
            assert set(listed) == set(TOOLS)
            for name, (required, parameters) in TOOLS.items():
                tool = listed[name]
                schema = tool.input_schema
                assert tool.description and schema["type"] == "object", name
                assert set(schema.get("required", [])) == required and set(schema["properties"]) == parameters, name
                for parameter, spec in schema["properties"].items():
                    assert spec.get("description"), (name, parameter)
                    assert "type" in spec or "anyOf" in spec or parameter == "input", (name, parameter)
            confirm = listed["approve_node"].input_schema["properties"]["confirm"]
            assert (confirm["type"], confirm["default"]) == ("boolean", False) and "true" in confirm["description"]
            states = listed["list_nodes"].input_schema["properties"]["state"]["anyOf"][0]["enum"]
            assert {"draft", "canary", "stable", "quarantined", "rolled_back"} <= set(states)
            assert listed["list_nodes"].annotations.read_only_hint is True
            assert listed["confirm_plan"].annotations.read_only_hint is False

    _run(scenario)


def test_an_agent_makes_a_node_and_walks_it_to_canary(server):
    reader, admin = server.client("read"), server.client("admin")

    async def scenario() -> None:
        async with _agent(server.url, TOKENS["write"]) as agent:
            report = await _ok(agent, "dryrun_node", template=TEMPLATE)
            assert report["ok"] is True and report["report"]["examples"][0]["output"] == {"text": "cba"}
            assert reader.get("/factory/nodes").json() == []  # a dry-run makes nothing

            created = await _ok(agent, "create_node", template={"template": TEMPLATE, "reason": "mcp e2e"},
                                idempotency_key="mcp-1")
            assert (created["id"], created["state"]) == (NODE_ID, "draft")

            refused = await _refused(agent, "approve_node", node_id=NODE_ID, reason="no confirm")
            assert "confirmation_required" in refused and "confirm: true" in refused
            assert reader.get(f"/factory/nodes/{NODE_ID}").json()["state"] == "draft"  # nothing was sent
            moved = await _ok(agent, "approve_node", node_id=NODE_ID, confirm=True, reason="mcp e2e")
            assert (moved["state"], moved["previous"]) == ("canary", "draft")
            history = reader.get(f"/factory/nodes/{NODE_ID}").json()["history"]
            assert [(h["action"], h["actor"], h["reason"]) for h in history][-1] == ("approve", "writer", "mcp e2e")

            listed = (await _ok(agent, "list_nodes", state="canary"))["nodes"]
            assert [(n["id"], n["state"]) for n in listed] == [(NODE_ID, "canary")]
            assert (await _ok(agent, "list_nodes", state="stable"))["nodes"] == []
            analysis = await _ok(agent, "analysis", node_id=NODE_ID)
            assert analysis == reader.get(f"/factory/nodes/{NODE_ID}/analysis").json()

            no_stable = await _refused(agent, "invoke", route=ROUTE, input={"text": "mcp"})
            assert "no_stable_version (HTTP 409)" in no_stable and f"route: {ROUTE}" in no_stable, no_stable
            for _ in range(2):  # an admin graduates it (a first version has no baseline to be analysed against)
                assert admin.post(f"/factory/nodes/{NODE_ID}/approve",
                                  json={"force": True, "reason": "first version"}).status_code == 200
            invoked = await _ok(agent, "invoke", route=ROUTE, input={"text": "mcp"}, key="agent-1")
            assert invoked["output"] == {"text": "pcm"} and invoked["node_id"] == NODE_ID

            unknown = await _refused(agent, "analysis", node_id="analysis.nope.v1")
            assert unknown.startswith("Error executing tool analysis: not_found (HTTP 404)"), unknown

    _run(scenario)


def test_organs_and_commands_in_words(server):
    writer, reader = server.client("write"), server.client("read")
    assert writer.post("/factory/nodes", json=TEMPLATE).status_code == 201

    async def scenario() -> None:
        async with _agent(server.url, TOKENS["write"]) as agent:
            built = await _ok(agent, "build_organ", organ_template=ORGAN)
            assert built == writer.post("/organs/build", json={"organ_template": ORGAN}).json()
            assert reader.get("/organs").json() == []  # a dry-run by default
            missing = await _refused(agent, "build_organ", organ_template={**ORGAN, "nodes": ["analysis.nope.v1"],
                                                                           "channels": []})
            assert "(HTTP 422)" in missing

            planned = await _ok(agent, "say", text="создай голосовой орган v1")
            assert planned["confirm_token"] and "organ.voice.v1" in json.dumps(planned["plan"])
            assert reader.get("/organs").json() == []  # a plan makes nothing
            done = await _ok(agent, "confirm_plan", confirm_token=planned["confirm_token"])
            assert {"id": "organ.voice.v1", "state": "draft"} in done["created"]
            again = await _refused(agent, "confirm_plan", confirm_token=planned["confirm_token"])
            assert "(HTTP 4" in again  # a token works once

            status = await _ok(agent, "organ_status", organ_id="organ.voice.v1")
            assert status == reader.get("/organs/organ.voice.v1/status").json() and status["state"] == "draft"
            nonsense = await _refused(agent, "say", text="asdf qwerty")
            assert "not_understood (HTTP 422)" in nonsense

    _run(scenario)


def test_refusals_and_bad_arguments_are_tool_errors(server):
    async def scenario() -> None:
        async with _agent(server.url, TOKENS["read"]) as agent:
            forbidden = await _refused(agent, "create_node", template=TEMPLATE)
            assert "insufficient_scope (HTTP 403)" in forbidden, forbidden
            assert server.client("read").get("/factory/nodes").json() == []

            bad_state = await _refused(agent, "list_nodes", state="sideways")
            assert "\nstate\n  Input should be 'draft', 'canary'" in bad_state, bad_state
            no_id = await _refused(agent, "approve_node", confirm=True)
            assert "\nnode_id\n  Field required" in no_id, no_id
            bad_limit = await _refused(agent, "list_nodes", limit=0)
            assert "\nlimit\n  Input should be greater than or equal to 1" in bad_limit, bad_limit
            assert (await _ok(agent, "list_nodes"))["nodes"] == []  # the server goes on

    _run(scenario)


def test_an_unreachable_factory_is_a_tool_error():
    async def scenario() -> None:
        async with _agent(f"http://127.0.0.1:{free_port()}", TOKENS["read"]) as agent:
            for _ in range(2):  # and the server goes on
                text = await _refused(agent, "list_nodes")
                assert "unreachable: cannot connect to the factory" in text, text

    _run(scenario)


def test_it_will_not_start_without_its_settings():
    def start(**env: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN), "mcp"], cwd=ROOT, env=base_env(**env), capture_output=True, text=True,
                              timeout=30, input="")

    no_url = start(NEIRA_TOKEN=TOKENS["read"])
    assert no_url.returncode == 1 and "missing_setting: NEIRA_URL is not set" in no_url.stderr
    assert no_url.stdout == ""  # stdout is the protocol's
    no_token = start(NEIRA_URL="http://127.0.0.1:8080")
    assert no_token.returncode == 1 and "missing_setting: NEIRA_TOKEN is not set" in no_token.stderr
    not_a_url = start(NEIRA_URL="127.0.0.1:8080", NEIRA_TOKEN=TOKENS["read"])
    assert not_a_url.returncode == 1 and "not an http(s) URL" in not_a_url.stderr
