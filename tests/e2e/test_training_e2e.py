"""Training end to end: `neira-factory train` against a real server (progress, final table, exit codes, the
`training` commands), and a run in progress that survives a restart of the server process."""
from __future__ import annotations

import json

from e2e_support import run_cli, wait_run
from support import TOKENS

NODE = "analysis.spam.v1"
TEMPLATE = {"id": NODE, "version": "0.1.0", "analysis_type": "spam", "adapter": {"impl": "keyword_classify"},
            "params": {"keywords": {"value": {"spam": ["free", "win", "prize", "cash"]}},
                       "threshold": {"value": 0.5, "min": 0, "max": 1, "tunable": True}, "prior": {"value": 0.5}}}
DATA = [{"input": {"text": "free win prize"}, "expected": "spam"},
        {"input": {"text": "free cash win prize"}, "expected": "spam"},
        {"input": {"text": "free win"}, "expected": "uncertain"},
        {"input": {"text": "win"}, "expected": "uncertain"},
        {"input": {"text": "hello there"}, "expected": "uncertain"}]


def cli(server, *args: str, scope: str = "write", code: int = 0):
    done = run_cli(*args, token=TOKENS[scope], url=server.url, timeout=60)
    assert done.returncode == code, (args, done.returncode, done.stdout, done.stderr)
    return done


def test_cli_train_shows_progress_and_the_iterations_and_exits_0_when_converged(server, tmp_path):
    writer = server.client("write")
    assert writer.post("/factory/nodes", json=TEMPLATE).status_code == 201
    dataset = tmp_path / "spam.jsonl"
    dataset.write_text("\n".join(json.dumps(d) for d in DATA) + "\n")

    done = cli(server, "train", NODE, "--dataset", str(dataset), "--objective", "accuracy", "--patience", "6",
               "--max-iterations", "40", "--interval", "0.1")
    assert "★ best" in done.stdout and "state: converged" in done.stdout and "best: #" in done.stdout
    assert "training approve" in done.stdout  # what a human does next
    assert "tr-" in done.stderr  # the progress bar, on stderr
    run_id = next(w for w in done.stdout.split() if w.startswith("tr-"))

    out = cli(server, "training", "list", "--node", NODE, scope="read").stdout
    assert run_id in out and "converged" in out
    shown = json.loads(cli(server, "--json", "training", "show", run_id, scope="read").stdout)
    assert shown["state"] == "converged" and 0.8 < shown["best"]["params"]["threshold"] <= 6 / 7
    picture = tmp_path / "plot.png"
    assert "wrote" in cli(server, "training", "plot", run_id, "-o", str(picture), scope="read").stdout
    assert picture.read_bytes()[:4] == b"\x89PNG"

    assert "confirmation_required" in cli(server, "training", "approve", run_id, code=1).stderr
    out = cli(server, "training", "approve", run_id, "--yes", "--reason", "e2e").stdout
    assert "created analysis.spam.v2" in out and "draft" in out
    assert writer.get("/factory/nodes/analysis.spam.v2").json()["template"]["params"]["threshold"]["value"] == \
        shown["best"]["params"]["threshold"]

    # a target it cannot reach: not_converged, exit 1; a bad dataset file: exit 1 before any request
    done = cli(server, "train", NODE, "--dataset", str(dataset), "--objective", "accuracy", "--target", "2",
               "--patience", "100", "--max-iterations", "3", "--interval", "0.1", code=1)
    assert "state: not_converged" in done.stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"input": {"text": "a"}}\n')
    assert "line 1" in cli(server, "train", NODE, "--dataset", str(bad), code=1).stderr
    assert "insufficient_scope" in cli(server, "train", NODE, "--dataset", str(dataset), scope="read", code=1).stderr
    started = json.loads(cli(server, "--json", "train", NODE, "--dataset", str(dataset), "--no-wait").stdout)
    assert started["state"] == "queued"


def test_a_run_in_progress_survives_a_restart_of_the_server(start_server):
    first = start_server()
    writer, admin = first.client("write"), first.client("admin")
    assert writer.post("/factory/nodes", json=TEMPLATE).status_code == 201
    run_id = writer.post(f"/factory/nodes/{NODE}/train", json={
        "dataset": DATA, "objective": "accuracy", "approve_every": 3, "patience": 6, "max_iterations": 40}).json()["run_id"]
    wait_run(writer, run_id, lambda r: r["state"] == "waiting")
    assert admin.post("/immune/safe-mode", json={"on": True}).status_code == 200
    assert admin.post(f"/training/{run_id}/continue", json={}).status_code == 200
    wait_run(writer, run_id, lambda r: r["state"] == "paused")
    first.stop()  # SIGTERM: a graceful shutdown gives the run up

    second = start_server(var_dir=first.var_dir)
    reader, admin = second.client("read"), second.client("admin")
    run = reader.get(f"/training/{run_id}").json()
    assert run["state"] in ("queued", "paused") and run["iterations_done"] == 3
    assert admin.post("/immune/safe-mode", json={"on": False}).status_code == 200
    run = wait_run(reader, run_id, lambda r: r["state"] in ("waiting", "converged"))
    assert run["iterations_done"] > 3 and [it["n"] for it in run["iterations"]] == list(range(1, run["iterations_done"] + 1))
