"""The CLI's local behaviour: reading descriptors, confirmations, help, an unreachable server.

Nothing here needs a running factory; the client commands are pointed at a port that
nothing listens on, so a command that got past its local checks exits 2 (unreachable),
and one stopped by them exits 1 before any request.
"""
from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from neira_factory.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def dead_url() -> str:
    """A URL on a local port that was free a moment ago (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def invoke(*args: str, url: str, input: str | None = None):
    return runner.invoke(app, ["--url", url, *args], input=input, env={"NEIRA_TOKEN": ""})


VALID = "id: analysis.reverse.v9\nversion: 0.1.0\nanalysis_type: reverse\nmetadata: {schema: v1}\n"


@pytest.mark.parametrize("content, where", [
    ("id: analysis.x.v1\nversion: 0.1.0\n  analysis_type: [reverse\n", "line 3"),  # bad indentation
    ("id: analysis.x.v1\nlinks: [a, b\nversion: 1\n", "line 3"),                   # unclosed flow sequence
    ("{\n\t\"id\": \"analysis.x.v1\",\n\t\"version\": \"0.1.0\",\n}\n", "line 4, column 1"),  # JSON, trailing comma
    ("id: a\n---\nid: b\n", "line 2"),                                           # two documents
])
@pytest.mark.parametrize("command", ["dryrun", "create"])
def test_malformed_file_exits_1_naming_file_and_line(tmp_path, dead_url, command, content, where):
    path = tmp_path / "node.yaml"
    path.write_text(content)
    result = invoke(command, str(path), url=dead_url)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: invalid_file: ")
    assert str(path) in result.stderr and where in result.stderr


def test_malformed_stdin_is_named_stdin(dead_url):
    result = invoke("dryrun", "-", url=dead_url, input="id: x\n  bad: [\n")
    assert result.exit_code == 1
    assert "<stdin>: line 2, column 6" in result.stderr


@pytest.mark.parametrize("content, found", [
    ("", "an empty document"),
    ("- id: analysis.x.v1\n", "a list"),
    ("just a string\n", "a str"),
])
def test_file_that_is_not_a_template_is_refused(tmp_path, dead_url, content, found):
    path = tmp_path / "node.yaml"
    path.write_text(content)
    result = invoke("dryrun", str(path), url=dead_url)
    assert result.exit_code == 1
    assert f"expected a node template (a mapping of fields), found {found}" in result.stderr


def test_missing_file_exits_1(tmp_path, dead_url):
    result = invoke("dryrun", str(tmp_path / "absent.yaml"), url=dead_url)
    assert result.exit_code == 1
    assert "cannot read" in result.stderr and "absent.yaml" in result.stderr


@pytest.mark.parametrize("text", [
    VALID,
    '{"id": "analysis.reverse.v9", "version": "0.1.0", "analysis_type": "reverse"}',
    '{\n\t"id": "analysis.reverse.v9",\n\t"analysis_type": "reverse"\n}\n',  # tab-indented JSON is not YAML
])
def test_valid_yaml_and_json_get_as_far_as_the_server(tmp_path, dead_url, text):
    path = tmp_path / "node.json"
    path.write_text(text)
    result = invoke("dryrun", str(path), url=dead_url)
    assert result.exit_code == 2, result.output  # parsed, then nobody answered


def test_stdin_template_gets_as_far_as_the_server(dead_url):
    assert invoke("create", "-", url=dead_url, input=VALID).exit_code == 2


@pytest.mark.parametrize("action", ["approve", "disable", "rollback"])
def test_lifecycle_action_without_yes_on_non_interactive_input_is_refused(dead_url, action):
    result = invoke(action, "analysis.reverse.v1", "--reason", "r", url=dead_url, input="y\n")
    assert result.exit_code == 1
    assert "error: confirmation_required:" in result.stderr
    assert f"refusing to {action} analysis.reverse.v1" in result.stderr and "--yes" in result.stderr


@pytest.mark.parametrize("args", [["approve", "n.x.v1", "--yes", "--force", "-r", "why"], ["disable", "n.x.v1", "-y"],
                                  ["rollback", "n.x.v1", "--yes"]])
def test_lifecycle_action_with_yes_skips_the_question(dead_url, args):
    assert invoke(*args, url=dead_url).exit_code == 2


@pytest.mark.parametrize("args", [["status"], ["list", "--state", "draft", "--limit", "5"], ["show", "n.x.v1"],
                                  ["caps", "list"], ["caps", "set", "factory_script", "stable"], ["audit", "list"],
                                  ["audit", "verify"], ["safe-mode", "on"], ["--json", "status"]])
def test_connection_refused_exits_2_with_a_clear_message(dead_url, args):
    result = invoke(*args, url=dead_url)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: unreachable: cannot connect to the factory at {dead_url}")
    assert "neira-factory serve" in result.stderr and "NEIRA_URL" in result.stderr
    assert result.stdout == ""


def test_neira_url_from_the_environment(dead_url):
    result = runner.invoke(app, ["status"], env={"NEIRA_URL": dead_url})
    assert result.exit_code == 2 and dead_url in result.stderr


HELP = {
    (): ["--url", "--token", "--json", "NEIRA_URL", "NEIRA_TOKEN", "serve", "dryrun", "create", "list", "show",
         "approve", "disable", "rollback", "caps", "audit", "safe-mode", "status"],
    ("serve",): ["--host", "--port", "--examples", "--no-examples", "NEIRA_DATABASE_URL", "NEIRA_ADMIN_TOKEN"],
    ("dryrun",): ["FILE"],
    ("create",): ["FILE", "--idempotency-key"],
    ("list",): ["--state", "--route", "--kind", "--backend", "--search", "--limit"],
    ("show",): ["ID"],
    ("approve",): ["ID", "--reason", "--force", "--yes", "-y"],
    ("disable",): ["ID", "--reason", "--yes", "-y"],
    ("rollback",): ["ID", "--reason", "--yes", "-y"],
    ("caps",): ["list", "set"],
    ("caps", "list"): ["capability gates"],
    ("caps", "set"): ["NAME", "STATE", "--reason"],
    ("audit",): ["list", "verify"],
    ("audit", "list"): ["--resource", "--limit"],
    ("audit", "verify"): ["Exits 1"],
    ("safe-mode",): ["MODE", "--reason"],
    ("status",): ["introspection"],
}


@pytest.mark.parametrize("command", list(HELP), ids=lambda c: " ".join(c) or "app")
def test_help_lists_the_options(command):
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for text in HELP[command]:
        assert text in result.stdout, f"{text!r} missing from `{' '.join(command)} --help`"


def test_unknown_state_for_caps_set_is_a_usage_error(dead_url):
    result = invoke("caps", "set", "factory_script", "open", url=dead_url)
    assert result.exit_code == 2 and "locked" in result.output


def test_serve_refuses_examples_together_with_no_examples(tmp_path):
    result = runner.invoke(app, ["serve", "--examples", str(tmp_path), "--no-examples"])
    assert result.exit_code == 2
    assert "not both" in result.output
