"""The MCP server's tools and the CLI's client against arguments and settings an agent or a careless host could
give, against a real `neira-factory serve`: an id of dots reaches its own endpoint as an id (a URL would resolve
it away, to another endpoint), approve_node without confirm sends nothing, and a token a header cannot carry is
refused without being shown (h11's error would print it, into the agent's context and the host's logs)."""
from __future__ import annotations

import asyncio
import subprocess
from typing import Any

import pytest
from e2e_support import BIN, ROOT, base_env, free_port
from mcp import Client
from support import TOKENS

from neira_factory.cli.client import FactoryClient, Unreachable
from neira_factory.cli.mcp_server import build_server

SECRET = "a-secret-token-0123456789"


def _call(url: str, tool: str, **arguments: Any) -> tuple[bool, str]:
    """One tool call through the SDK's in-process client: (is_error, its text)."""
    async def scenario() -> tuple[bool, str]:
        async with Client(build_server(FactoryClient(url, TOKENS["admin"]))) as agent:
            result = await agent.call_tool(tool, arguments)
            return bool(result.is_error), result.content[0].text

    return asyncio.run(asyncio.wait_for(scenario(), timeout=60))


@pytest.mark.parametrize("tool,arguments,named", [
    ("approve_node", {"node_id": "..", "confirm": True}, "node .. does not exist"),  # was POST /factory/approve
    ("approve_node", {"node_id": ".", "confirm": True}, "node . does not exist"),  # was POST /factory/nodes/approve
    ("analysis", {"node_id": ".."}, "node .. does not exist"),  # was GET /factory/analysis
    ("organ_status", {"organ_id": ".."}, "organ .. does not exist"),  # was GET /status
    ("invoke", {"route": "..", "input": {"text": "x"}}, "route .. has no nodes"),  # was POST /
])
def test_an_id_of_dots_reaches_its_own_endpoint_as_an_id(server, tool, arguments, named):
    failed, text = _call(server.url, tool, **arguments)
    assert failed and "not_found (HTTP 404)" in text and named in text, text


def test_approve_node_without_confirm_sends_nothing():
    nothing_there = f"http://127.0.0.1:{free_port()}"  # had it sent anything, the error would be unreachable
    for arguments in ({}, {"confirm": False}, {"confirm": "false"}):
        failed, text = _call(nothing_there, "approve_node", node_id="analysis.echo.v1", **arguments)
        assert failed and "confirmation_required" in text and "unreachable" not in text, (arguments, text)


@pytest.mark.parametrize("token", [SECRET + "\r", SECRET + "\n", f"{SECRET}\r\nX-Injected: 1", SECRET + "é"])
def test_a_token_a_header_cannot_carry_is_refused_without_being_shown(server, token):
    with pytest.raises(Unreachable) as caught:
        FactoryClient(server.url, token)
    assert "token" in str(caught.value) and SECRET not in str(caught.value)
    for args in (["list"], ["mcp"]):  # the CLI, and the MCP server at its start
        run = subprocess.run([str(BIN), *args], cwd=ROOT, env=base_env(NEIRA_URL=server.url, NEIRA_TOKEN=token),
                             capture_output=True, text=True, timeout=30, input="")
        assert run.returncode == 2 and "unreachable: the token" in run.stderr, (args, run.stderr)
        assert SECRET not in run.stderr + run.stdout, args
