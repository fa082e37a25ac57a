"""The MCP server behind `neira-factory mcp`: the factory's tools for agents, over stdio, built with the `mcp` SDK.

Each tool is a typed method of FactoryTools (the SDK makes its JSON schema from the annotations) that calls the
factory's HTTP API through the CLI's client, with the caller's token: the factory's policy decides as for any
client. A refusal (an error answer, or no answer) becomes a tool error carrying the factory's code and reason;
the server itself goes on.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from .. import __version__
from ..domain.backend_kinds import BackendName
from ..domain.lifecycle import State
from ..domain.templates import Kind
from .client import ApiError, FactoryClient, Unreachable

StateName = Literal[tuple(state.value for state in State)]  # type: ignore[valid-type]
Id = Annotated[str, Field(min_length=1, max_length=200)]
NodeId = Annotated[Id, Field(description="Node id, e.g. analysis.text_normalize.v1.")]
Template = Annotated[dict[str, Any], Field(description=(
    "A node template: id, version, analysis_type, backend, params, examples … (docs/descriptors.md), e.g. "
    '{"id": "analysis.reverse.v1", "version": "0.1.0", "analysis_type": "reverse", "examples": '
    '[{"input": {"text": "abc"}, "expected": {"text": "cba"}}]}. A whole request is welcome too: '
    '{"template": …, "reason": …} or {"spec": {"backend": …, "template": …}}.'))]
Reason = Annotated[str | None, Field(max_length=2000, description="Why; kept in the audit trail.")]

INSTRUCTIONS = """Neira's factory makes nodes and organs; a human stays in the loop.
A node: dryrun_node (creates nothing; shows risks and runs its examples), then create_node (a draft), then
approve_node, which moves it a step (draft → canary → experimental → stable) and needs confirm: true: show the
user what will change first. list_nodes, analysis (a node's SLO verdicts) and invoke (traffic) read and run.
Organs: build_organ (a dry-run report unless dryrun is false), organ_status.
In words: say plans a command in Russian or English and returns the plan with a confirm_token; nothing is made
until confirm_plan is called with that token. Show the plan to the user before confirming it.
The factory's policy decides every call with the configured token; a refusal comes back as a tool error with
the factory's code and reason."""
READS = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITES = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
ACTS = ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=False)
TOOLS = {  # name: hints for the agent's host (whether to ask its user first)
    "dryrun_node": READS, "create_node": WRITES, "approve_node": ACTS, "build_organ": WRITES,
    "organ_status": READS, "invoke": ACTS, "say": READS, "confirm_plan": ACTS, "list_nodes": READS,
    "analysis": READS,
}


def refusal(exc: ApiError) -> str:
    """The factory's error answer in words: its code, HTTP status and reason, then any detail it gave."""
    details = "; ".join(f"{key}: {value}" for key, value in exc.extra.items() if value not in (None, "", [], {}))
    return f"{exc.code} (HTTP {exc.status}): {exc.reason}" + (f" [{details}]" if details else "")


@contextmanager
def _answering() -> Iterator[None]:
    """The client's errors as tool errors (is_error results for the agent), never a crash of the server."""
    try:
        yield
    except ApiError as exc:
        raise ToolError(refusal(exc)) from None
    except Unreachable as exc:
        raise ToolError(f"unreachable: {exc}") from None


class FactoryTools:
    """The tools, one method each; the docstrings are what the agent reads."""

    def __init__(self, client: FactoryClient):
        self._client = client

    def dryrun_node(self, template: Template) -> dict[str, Any]:
        """Dry-run a node template: validate it, resolve its links, list its risks, run its examples with side
        effects off. Creates nothing. `ok` is false when a risk blocks creation."""
        with _answering():
            return self._client.dryrun(template)

    def create_node(
        self, template: Template,
        idempotency_key: Annotated[str | None, Field(max_length=200, description=(
            "Retry-safe: a repeat with the same key and template creates nothing new and gets the first "
            "answer."))] = None,
    ) -> dict[str, Any]:
        """Create a draft node from a template. The factory dry-runs it first and refuses blocking risks; the
        backend's capability gate must be open. A draft serves no traffic until approve_node."""
        with _answering():
            return self._client.create(template, idempotency_key)

    def approve_node(
        self, node_id: NodeId,
        confirm: Annotated[bool, Field(description=(
            "Must be true: approving changes which version serves traffic. Show the user the node and its next "
            "state first; without it nothing is sent to the factory."))] = False,
        reason: Reason = None,
        force: Annotated[bool, Field(description=(
            "Admin only: approve past an analysis that has not passed (give a reason; it is audited)."))] = False,
    ) -> dict[str, Any]:
        """Approve a node's next step: draft → canary → experimental → stable. Needs confirm: true."""
        if not confirm:
            raise ToolError(f"confirmation_required: approving {node_id} moves it to its next state; show the "
                            "user what will change, then call approve_node again with confirm: true")
        with _answering():
            return self._client.transition(node_id, "approve", reason, force)

    def build_organ(
        self,
        organ_template: Annotated[dict[str, Any], Field(description=(
            "An organ template: id, roles, nodes, channels, policies (Neira's cells/pathways welcome), e.g. "
            '{"id": "organ.echo.v1", "roles": ["echo"], "nodes": ["analysis.echo.v1"], "channels": '
            '[{"name": "main", "nodes": ["analysis.echo.v1"]}]}.'))],
        dryrun: Annotated[bool, Field(description=(
            "true (the default): only the dry-run report; false: create the organ as a draft."))] = True,
    ) -> dict[str, Any]:
        """Build an organ from existing nodes: its dry-run report (the default), or with dryrun false a draft
        organ. Refused with the missing node, type mismatch or cycle named."""
        with _answering():
            return self._client.build_organ(organ_template, dryrun)

    def organ_status(self, organ_id: Annotated[Id, Field(description="Organ id, e.g. organ.voice.v1.")]
                     ) -> dict[str, Any]:
        """An organ's state, each of its nodes' state and health, and the organ's numbers."""
        with _answering():
            return self._client.organ_status(organ_id)

    def invoke(
        self,
        route: Annotated[Id, Field(description="A node id without its .vN suffix, e.g. analysis.echo.")],
        input: Annotated[Any, Field(description=(
            'The input, any JSON value the route\'s node takes, e.g. {"text": "hello"}.'))] = None,
        key: Annotated[str | None, Field(max_length=200, description=(
            "Sticky split: the same key always reaches the same version."))] = None,
    ) -> dict[str, Any]:
        """Invoke a route as traffic does: its stable version, or a canary/experimental candidate by its
        weight. Returns the output and which node answered."""
        with _answering():
            return self._client.invoke(route, input, key)

    def say(self, text: Annotated[str, Field(min_length=1, max_length=1000, description=(
            'A command in Russian or English, e.g. "создай голосовой орган v1" or "upgrade vision to v2 '
            '(grayscale)".'))]) -> dict[str, Any]:
        """Understand a command said in words and plan it. Nothing is made: returns the plan, the policy's
        outcome, the dry-run reports or diff, and a confirm_token for confirm_plan (null when the policy refuses
        it, or when the command only asks: its answer is already in `report`). A command it does not understand is refused (not_understood) rather than guessed."""
        with _answering():
            return self._client.command(text)

    def confirm_plan(self, confirm_token: Annotated[str, Field(min_length=1, max_length=200, description=(
            "The confirm_token that say returned with the plan."))]) -> dict[str, Any]:
        """Make the plan that say returned: confirm it with its token, after showing the plan to the user.
        A token works once, for the same caller, until it expires."""
        with _answering():
            return self._client.confirm(confirm_token)

    def list_nodes(
        self,
        state: Annotated[StateName | None, Field(description="Only nodes in this state.")] = None,
        route: Annotated[str | None, Field(max_length=200, description="Only versions of this route.")] = None,
        kind: Annotated[Kind | None, Field(description="Only this kind.")] = None,
        backend: Annotated[BackendName | None, Field(description="Only this backend.")] = None,
        search: Annotated[str | None, Field(max_length=200, description="Text to look for in ids.")] = None,
        limit: Annotated[int | None, Field(ge=1, le=1000, description="At most this many nodes.")] = None,
    ) -> dict[str, list[dict[str, Any]]]:
        """List nodes, newest first, as {"nodes": [...]}: id, state, backend, route, version, creator."""
        with _answering():
            return {"nodes": self._client.nodes(state=state, route=route, kind=kind, backend=backend,
                                                search=search, limit=limit)}

    def analysis(self, node_id: NodeId) -> dict[str, Any]:
        """A node's analysis: each SLO metric's value, threshold and verdict, the stable baseline, the phase;
        what approve_node past canary waits on."""
        with _answering():
            return self._client.analysis(node_id)


def build_server(client: FactoryClient) -> MCPServer:
    """The MCP server with every tool of FactoryTools registered, with its hints."""
    server = MCPServer(name="neira-factory", title="Neira's factory", version=__version__,
                       instructions=INSTRUCTIONS, log_level="WARNING")
    tools = FactoryTools(client)
    for name, hints in TOOLS.items():
        server.add_tool(getattr(tools, name), name=name, annotations=hints)
    return server


def serve_stdio(client: FactoryClient) -> None:
    """Serve the tools over stdin/stdout until the agent's host closes stdin."""
    build_server(client).run("stdio")
