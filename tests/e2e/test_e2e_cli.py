"""The create → approve path through the `neira-factory` CLI, a client of a real server."""
from __future__ import annotations

import json
import re

import yaml
from e2e_support import NODE_ID, TEMPLATE, free_port, run_cli
from support import TOKENS

from neira_factory.runtime.router import bucket


def test_cli_create_to_stable(server, tmp_path):
    url = server.url

    def cli(*args: str, scope: str = "write", code: int = 0):
        done = run_cli(*args, token=TOKENS[scope], url=url)
        assert done.returncode == code, (args, done.returncode, done.stdout, done.stderr)
        return done

    template = tmp_path / "reverse.yaml"
    template.write_text(yaml.safe_dump({**TEMPLATE, "backend": "adapter", "metadata": {"schema": "v1"}},
                                       allow_unicode=True))

    # dry-run: ok, the example's output shown; creates nothing
    out = cli("dryrun", str(template)).stdout
    assert "ok" in out.split() and NODE_ID in out and '{"text": "cba"}' in out
    assert json.loads(cli("--json", "list").stdout) == []  # the factory's own modules are listed only on request

    # a dry-run that is not ok exits 1
    failing = tmp_path / "failing.yaml"
    failing.write_text(yaml.safe_dump({**TEMPLATE, "examples": [{"input": {"text": "ab"}, "expected": {"text": "ab"}}]}))
    assert "not ok" in cli("dryrun", str(failing), code=1).stdout
    # the required integrations: the implicit two with their evidence, and a missing one with its reason
    assert re.search(r"metrics \(implicit\)\s+│\s+yes\s+│.*factory_node_requests_total", out)
    assert re.search(r"immune \(implicit\)\s+│\s+yes\s+│.*pinned as sha256 [0-9a-f]{64}", out)
    needy = tmp_path / "needy.yaml"
    needy.write_text(yaml.safe_dump({**TEMPLATE, "requires": ["capability:organ_echo", "capability:nope"]}))
    out = cli("dryrun", str(needy), code=1).stdout
    assert re.search(r"capability:organ_echo\s+│\s+yes\s+│\s+gate organ_echo is experimental", out)
    assert re.search(r"capability:nope\s+│\s+missing\s+│\s+no such gate: nope", out)
    assert re.search(r"missing_integration\s+│\s+requires capability:nope: no such gate: nope\s+│\s+requires.1", out)
    # a malformed file: exit 1 with the line
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: [unclosed\n")
    assert "error: invalid_file" in cli("create", str(broken), code=1).stderr

    # create, list, show
    out = cli("create", str(template)).stdout
    assert f"created {NODE_ID} in state draft" in out
    assert "error: conflict" in cli("create", str(template), code=1).stderr
    out = cli("list").stdout
    assert "1 node(s)" in out and NODE_ID in out and "draft" in out and "writer" in out
    out = cli("show", NODE_ID).stdout
    assert f"node {NODE_ID}" in out and "allowed actions: approve, disable, quarantine" in out

    # approve without --yes and without a terminal: refused, nothing moves
    assert "confirmation_required" in cli("approve", NODE_ID, code=1).stderr
    # draft → canary (write)
    out = cli("approve", NODE_ID, "--yes", "--reason", "r").stdout
    assert f"approve: {NODE_ID} draft → canary" in out
    # canary → experimental: write is refused (no analysis yet), admin forces it
    err = cli("approve", NODE_ID, "--yes", "--reason", "r", code=1).stderr
    assert "error: analysis_not_passed" in err
    out = cli("approve", NODE_ID, "--yes", "--force", "--reason", "r", scope="admin").stdout
    assert f"approve: {NODE_ID} canary → experimental (forced)" in out
    out = cli("approve", NODE_ID, "--yes", "--force", "--reason", "r", scope="admin").stdout
    assert f"approve: {NODE_ID} experimental → stable (forced)" in out
    assert "error: invalid_transition" in cli("approve", NODE_ID, "--yes", "--reason", "r", code=1).stderr

    detail = json.loads(cli("--json", "show", NODE_ID, scope="read").stdout)
    assert detail["state"] == "stable"
    assert [h["to_state"] for h in detail["history"]] == ["draft", "canary", "experimental", "stable"]
    out = cli("show", NODE_ID, scope="read").stdout
    assert "approve (forced)" in out and "history" in out

    # capability gates: admin opens factory_script; a writer may not
    out = cli("caps", "list", scope="read").stdout
    assert _gate_row(out, "factory_script") == "locked"
    assert "insufficient_scope" in cli("caps", "set", "factory_script", "stable", code=1).stderr
    assert "usage" in cli("caps", "set", "factory_script", "wide-open", scope="admin", code=2).stderr.lower()
    out = cli("caps", "set", "factory_script", "experimental", "--reason", "e2e", scope="admin").stdout
    assert "factory_script: locked → experimental" in out
    assert _gate_row(cli("caps", "list", scope="read").stdout, "factory_script") == "experimental"
    assert json.loads(cli("--json", "caps", "list").stdout)["capabilities"]["factory_script"]["state"] == "experimental"

    # the audit trail verifies
    assert "audit chain intact" in cli("audit", "verify", scope="read").stdout
    assert json.loads(cli("--json", "audit", "verify", scope="read").stdout)["ok"] is True

    # safe mode: every write needs admin
    second = tmp_path / "reverse2.yaml"
    second.write_text(yaml.safe_dump({**TEMPLATE, "id": "analysis.reverse.v2", "version": "0.2.0"}))
    cli("create", str(second))
    assert "insufficient_scope" in cli("safe-mode", "on", scope="write", code=1).stderr  # admin only
    cli("safe-mode", "on", "--reason", "incident", scope="admin")
    assert "safe mode: on" in cli("caps", "list", scope="read").stdout.lower()
    err = cli("approve", "analysis.reverse.v2", "--yes", "--reason", "r", code=1).stderr
    assert "safe_mode" in err and err.startswith("error:")
    assert json.loads(cli("--json", "show", "analysis.reverse.v2").stdout)["state"] == "draft"
    cli("safe-mode", "off", scope="admin")
    assert "draft → canary" in cli("approve", "analysis.reverse.v2", "--yes", "--reason", "r").stdout

    # traffic through the route, the canary's analysis, quarantine and release; a key outside the canary's
    # share of the key space (5%) is served by the stable version, whatever random split a keyless request gets
    assert '"text": "cba"' in cli("invoke", "analysis.reverse", "--input", '{"text": "abc"}').stdout
    stable_key = next(k for k in map(str, range(100)) if bucket("analysis.reverse", k) >= 0.5)
    invoked = json.loads(cli("--json", "invoke", "analysis.reverse", "-i", '{"text": "ab"}', "-k", stable_key).stdout)
    assert (invoked["output"], invoked["node_id"]) == ({"text": "ba"}, NODE_ID)
    assert "error: bad_input" in cli("invoke", "analysis.reverse", "-i", "{nope", code=1).stderr
    out = cli("analysis", "analysis.reverse.v2", scope="read").stdout
    assert "phase inconclusive" in out and "requests" in out and "baseline_errors" in out
    assert "baseline_memory" in out and "baseline_operations" in out
    assert "candidate:" in out and "operations p95 —, memory peak —" in out  # an adapter measures neither
    out = cli("status", "--state", "canary", "--limit", "5", scope="read").stdout
    assert "analysis.reverse.v2" in out and NODE_ID not in out  # only the canary is listed
    assert "fabricators" in out and "factory_adapter" in out and "health over the last" in out
    assert "insufficient_scope" in cli("quarantine", "analysis.reverse.v2", "--yes", code=1).stderr
    assert "canary → quarantined" in cli("quarantine", "analysis.reverse.v2", "--yes", "-r", "x", scope="admin").stdout
    assert "quarantined → canary" in cli("release", "analysis.reverse.v2", "--yes", scope="admin").stdout

    # an unknown token is refused (exit 1); an unreachable factory is exit 2
    done = run_cli("list", token="nope", url=url)
    assert done.returncode == 1 and "unauthorized" in done.stderr
    done = run_cli("list", token=TOKENS["read"], url=f"http://127.0.0.1:{free_port()}")
    assert done.returncode == 2 and "unreachable" in done.stderr


def _gate_row(table: str, gate: str) -> str:
    """The state column of `gate`'s row in `caps list` output."""
    for line in table.splitlines():
        cells = [c.strip() for c in line.replace("│", "|").split("|") if c.strip()]
        if cells and cells[0] == gate:
            return cells[1]
    raise AssertionError(f"no row for {gate} in:\n{table}")
