"""Rich rendering of the factory's answers for the CLI: one small function per answer shape.

Values from the server are wrapped in `Text`, so a reason that contains `[brackets]`
is shown as written, never read as Rich markup.
"""
from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

STATE_STYLES = {
    "stable": "green", "canary": "yellow", "experimental": "yellow", "draft": "cyan",
    "deprecated": "dim", "disabled": "red", "rolled_back": "red", "quarantined": "bold red", "failed": "red",
}
SEVERITY_STYLES = {"blocking": "bold red", "warning": "yellow", "info": "dim"}
GATE_STYLES = {"locked": "red", "experimental": "yellow", "stable": "green", "deprecated": "dim", "disabled": "red"}


def cell(value: Any, style: str = "") -> Text:
    if value is None:
        return Text("-", style="dim")
    if isinstance(value, (dict, list)):
        return Text(json.dumps(value, ensure_ascii=False), style=style)
    return Text(str(value), style=style)


def styled(value: Any, styles: dict[str, str]) -> Text:
    return cell(value, styles.get(str(value), ""))


def print_json(data: Any) -> None:
    """Raw JSON on stdout, never wrapped or coloured, so it pipes into jq as it is."""
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def table(title: str | None, columns: list[str], body: list[list[Text]]) -> Table:
    t = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        t.add_column(column)
    for row in body:
        t.add_row(*row)
    return t


def flatten(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested mappings as dotted keys, for a key/value view of any answer."""
    items: list[tuple[str, Any]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            items += flatten(value, f"{name}.")
        else:
            items.append((name, value))
    return items


def key_values(data: dict[str, Any], title: str | None = None) -> Table:
    t = Table.grid(padding=(0, 2))
    t.title, t.title_justify = title, "left"
    t.add_column(style="bold")
    t.add_column()
    for key, value in flatten(data):
        styles = STATE_STYLES if key.endswith("state") else GATE_STYLES if key.startswith("capabilities.") else {}
        t.add_row(key, styled(value, styles))
    return t


def risks_table(risks: list[dict[str, Any]], title: str = "risks") -> Table:
    return table(title, ["severity", "code", "message", "field"], [
        [styled(r.get("severity"), SEVERITY_STYLES), cell(r.get("code")), cell(r.get("message")), cell(r.get("field"))]
        for r in risks])


def integrations_table(found: list[dict[str, Any]]) -> Table:
    """Each required integration (the implicit metrics and immune first): satisfied or missing, and why."""
    return table("integrations", ["requirement", "satisfied", "reason"], [
        [Text.assemble(cell(i.get("requirement")), Text(" (implicit)", style="dim") if i.get("implicit") else ""),
         verdict(bool(i.get("satisfied")), "yes", "missing"), cell(i.get("reason"))] for i in found])


def verdict(ok: bool, yes: str, no: str) -> Text:
    return Text(yes, style="bold green") if ok else Text(no, style="bold red")


def dryrun(data: dict[str, Any]) -> None:
    report = data.get("report") or {}
    out.print(Text.assemble(verdict(data.get("ok", False), "ok", "not ok"), "  ",
                            cell(report.get("id")), Text(f"  ({report.get('kind')}, {report.get('backend')})",
                                                         style="dim")))
    if report.get("risks"):
        out.print(risks_table(report["risks"]))
    if report.get("integrations"):
        out.print(integrations_table(report["integrations"]))
    if report.get("deps"):
        out.print(table("deps", ["id", "status", "state"], [
            [cell(d.get("id")), cell(d.get("status")), styled(d.get("state"), STATE_STYLES)] for d in report["deps"]]))
    if report.get("examples"):
        out.print(table("examples", ["ok", "input", "output"], [
            [verdict(e.get("ok", False), "yes", "no"), cell(e.get("input")),
             cell(e.get("output") if e.get("error") is None else e["error"])] for e in report["examples"]]))


def created(data: dict[str, Any]) -> None:
    out.print(Text.assemble("created ", cell(data.get("id"), "bold"), " in state ",
                            styled(data.get("state"), STATE_STYLES)))


def nodes(found: list[dict[str, Any]]) -> None:
    out.print(table(f"{len(found)} node(s)", ["id", "state", "backend", "route", "version", "created_by"], [
        [cell(n.get("id")), styled(n.get("state"), STATE_STYLES), cell(n.get("backend")), cell(n.get("route")),
         cell(n.get("version")), cell(n.get("created_by"))] for n in found]))


def node(data: dict[str, Any]) -> None:
    summary = {k: v for k, v in data.items() if k not in ("template", "report", "allowed", "history")}
    out.print(key_values(summary, title=f"node {data.get('id')}"))
    allowed = data.get("allowed") or []
    out.print(Text.assemble(Text("allowed actions: ", style="bold"), cell(", ".join(allowed) or "none")))
    history = data.get("history") or []
    if history:
        out.print(table("history", ["when", "action", "from", "to", "actor", "reason"], [
            [cell(h.get("ts")), cell(f"{h.get('action')}{' (forced)' if h.get('forced') else ''}"),
             styled(h.get("from_state"), STATE_STYLES), styled(h.get("to_state"), STATE_STYLES),
             cell(h.get("actor")), cell(h.get("reason"))] for h in history]))
    risks = (data.get("report") or {}).get("risks") or []
    if risks:
        out.print(risks_table(risks, "risks (from the dry-run at create)"))


def transitioned(action: str, data: dict[str, Any]) -> None:
    line = Text.assemble(f"{action}: ", cell(data.get("id"), "bold"), " ",
                         styled(data.get("previous"), STATE_STYLES), " → ", styled(data.get("state"), STATE_STYLES))
    if data.get("forced"):
        line.append(" (forced)", style="bold yellow")
    out.print(line)
    out.print(Text.assemble(Text("allowed next: ", style="bold"), cell(", ".join(data.get("allowed") or []) or "none")))


VERDICT_STYLES = {"pass": "green", "passed": "bold green", "fail": "red", "failed": "bold red",
                  "inconclusive": "yellow", "running": "yellow"}


def _numbers(stats: dict[str, Any]) -> str:
    """A version's requests, latency and resources in one line ('—': not measured)."""
    p95, operations, memory = stats.get("p95_ms"), stats.get("operations_p95"), stats.get("memory_peak_bytes")
    return (f"{stats.get('requests')} requests, p95 {'—' if p95 is None else f'{p95} ms'}, operations p95 "
            f"{'—' if operations is None else operations}, memory peak {f'{memory / 2**20:.2f} MiB' if memory else '—'}")


def analysis(data: dict[str, Any]) -> None:
    out.print(Text.assemble(cell(data.get("id"), "bold"), " ", styled(data.get("state"), STATE_STYLES), "  phase ",
                            styled(data.get("phase"), VERDICT_STYLES), "  ", cell(data.get("reason"))))
    out.print(table("metrics", ["metric", "value", "threshold", "verdict", "reason"], [
        [cell(m.get("name")), cell(m.get("value")), cell(m.get("threshold")), styled(m.get("verdict"), VERDICT_STYLES),
         cell(m.get("reason"))] for m in data.get("metrics") or []]))
    out.print(Text.assemble(Text("candidate: ", style="bold"), _numbers(data.get("stats") or {})))
    baseline = data.get("baseline")
    if baseline:
        out.print(Text.assemble(Text("baseline: ", style="bold"), cell(baseline.get("id")), "  ", _numbers(baseline)))
    if data.get("needs_human"):
        out.print(Text("the analysis stays inconclusive: a human should look", style="bold yellow"))


def invoked(data: dict[str, Any]) -> None:
    out.print(Text.assemble(cell(data.get("node_id"), "bold"), " ", styled(data.get("state"), STATE_STYLES),
                            Text(f"  {data.get('ms')} ms", style="dim")))
    print_json(data.get("output"))


def command_plan(data: dict[str, Any]) -> None:
    plan, policy = data.get("plan") or {}, data.get("policy") or {}
    if data.get("llm"):
        llm = data["llm"]
        out.print(Text(f"read by the model {llm.get('provider')}/{llm.get('model')}, not by the rules (they stopped "
                       f"at: {', '.join(llm.get('not_understood') or [])}): check the plan", style="bold yellow"))
    out.print(Text.assemble(Text("plan: ", style="bold"), cell(plan.get("summary"))))
    ignored = (data.get("intent") or {}).get("ignored")
    if ignored:
        out.print(Text(f"ignored: {', '.join(ignored)}", style="dim"))
    out.print(table("steps", ["op", "target", "policy"], [
        [cell(s.get("op")), cell(s.get("target")), verdict(bool(s.get("allowed")), "allowed", s.get("reason") or "no")]
        for s in policy.get("steps") or []]))
    if data.get("diff"):
        out.print(Syntax(data["diff"], "diff", theme="ansi_dark", word_wrap=True))
    for name, part in (data.get("report") or {}).items():
        risks = part.get("risks") if isinstance(part, dict) else None
        if risks:
            out.print(risks_table(risks, f"dry-run of {name}"))
    if plan.get("read_only"):
        print_json(data.get("report"))


def command_done(data: dict[str, Any]) -> None:
    out.print(Text.assemble(Text("done: ", style="bold green"), cell(data.get("summary"))))
    for item in data.get("created") or []:
        out.print(Text.assemble("  ", cell(item.get("id"), "bold"), " ", styled(item.get("state"), STATE_STYLES)))


def capabilities(data: dict[str, Any]) -> None:
    caps = data.get("capabilities") or {}
    out.print(table("capabilities", ["name", "state", "updated_by", "updated_at"], [
        [cell(name), styled(row.get("state"), GATE_STYLES), cell(row.get("updated_by")), cell(row.get("updated_at"))]
        for name, row in sorted(caps.items())]))
    safe_mode(data)


def capability_set(data: dict[str, Any]) -> None:
    out.print(Text.assemble(cell(data.get("name"), "bold"), ": ", styled(data.get("previous"), GATE_STYLES), " → ",
                            styled(data.get("state"), GATE_STYLES)))


def safe_mode(data: dict[str, Any]) -> None:
    line = Text.assemble(Text("safe mode: ", style="bold"), verdict(not data.get("safe_mode"), "off", "ON"))
    if "previous" in data:
        line.append(f" (was {'on' if data['previous'] else 'off'})", style="dim")
    out.print(line)


def audit(entries: list[dict[str, Any]]) -> None:
    out.print(table(f"{len(entries)} audit entr{'y' if len(entries) == 1 else 'ies'}",
                    ["seq", "when", "actor", "action", "resource", "reason"], [
        [cell(e.get("seq")), cell(e.get("ts")), cell(e.get("actor")), cell(e.get("action")), cell(e.get("resource")),
         cell(e.get("reason"))] for e in entries]))


def audit_verified(data: dict[str, Any]) -> None:
    keyed = f"keyed from entry {data['keyed_from']}" if data.get("keyed_from") else "not keyed"
    checkpoint = data.get("checkpoint")
    held = f"checkpoint at entry {checkpoint['seq']}" if checkpoint else "no checkpoint"
    out.print(Text.assemble(verdict(data.get("ok", False), "audit chain intact", "audit chain BROKEN"),
                            f"  ({data.get('checked', 0)} entries checked; head {str(data.get('head'))[:16]}…; "
                            f"{keyed}; {held}; {data.get('digests_checked', 0)} node digests checked)"))
    for warning in data.get("warnings") or []:
        out.print(Text(f"warning: {warning}", style="yellow"))
    problems = data.get("problems") or []
    if problems:
        out.print(table("problems", ["seq", "problem"], [[cell(p.get("seq")), cell(p.get("problem"))]
                                                        for p in problems]))


STATUS_LISTS = ("capabilities", "capability_states", "nodes", "organs", "fabricators")


def status(data: dict[str, Any]) -> None:
    """The facts, the gates, then a table each for the nodes, the organs and the fabricators."""
    out.print(key_values({k: v for k, v in data.items() if k not in STATUS_LISTS}, title="factory status"))
    states = data.get("capability_states") or {}
    out.print(table("capabilities", ["gate", "state", "on"], [
        [cell(name), styled(state, GATE_STYLES), cell("yes" if (data.get("capabilities") or {}).get(name) else "no")]
        for name, state in sorted(states.items())]))
    window = f"last {data.get('health_window_s')} s"
    for kind in ("nodes", "organs"):
        listed = data.get(kind) or []
        out.print(table(f"{len(listed)} {kind} (health over the {window})",
                        ["id", "state", "backend", "requests", "error rate", "p95 ms"], [
            [cell(n.get("id")), styled(n.get("state"), STATE_STYLES), cell(n.get("backend")),
             cell(n["health"].get("requests")), cell(n["health"].get("error_rate")), cell(n["health"].get("p95_ms"))]
            for n in listed]))
    out.print(table("fabricators (this replica)", ["backend", "gate", "busy", "queued", "last error"], [
        [cell(b.get("backend")), styled(b.get("gate_state"), GATE_STYLES), cell(b.get("busy")), cell(b.get("queued")),
         cell(_last_error(b.get("last_error")))] for b in data.get("fabricators") or []]))


def _last_error(error: dict[str, Any] | None) -> str:
    return "" if not error else f"{error.get('kind')} in {error.get('node')}: {error.get('message')}"


def error(code: str, reason: str, extra: dict[str, Any]) -> None:
    """`error: <code>: <reason>` on stderr, then whatever else the error carries (field, capability, risks)."""
    err.print(Text(f"error: {code}: {reason}"), soft_wrap=True)
    for key, value in extra.items():
        if key != "report":
            err.print(Text(f"  {key}: {value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"),
                      soft_wrap=True)
    risks = (extra.get("report") or {}).get("risks") if isinstance(extra.get("report"), dict) else None
    if risks:
        err.print(risks_table(risks))


def serving(url: str, facts: dict[str, str]) -> None:
    """The start-up banner of `serve`: where to go, and what the factory started with."""
    out.print(Text.assemble(Text("neira-factory", style="bold"), " serving at ", Text(url, style="bold cyan")))
    width = max(len(key) for key in ("API docs", "admin UI", *facts)) + 2
    for key, value in {"API docs": f"{url}/docs", "admin UI": f"{url}/admin", **facts}.items():
        # Plain lines that never wrap or cut: a log file must show the whole token path.
        out.print(Text.assemble(Text(key.ljust(width), style="bold"), value), soft_wrap=True)


# ---- memory --------------------------------------------------------------------------------------

def _short(text: Any, width: int = 80) -> Text:
    value = str(text or "")
    return Text(value if len(value) <= width else value[:width - 1] + "…")


def memory_summary(data: dict[str, Any]) -> None:
    out.print(key_values(data, title=f"memory {data.get('route')}"))


def memory_results(data: dict[str, Any]) -> None:
    """A search's answer: the best first."""
    results = (data.get("output") or {}).get("results") or []
    out.print(table(f"{len(results)} record(s)", ["id", "score", "type", "priority", "description", "keywords"], [
        [cell(r.get("id")), cell(r.get("score")), cell((r.get("record") or {}).get("type")),
         cell((r.get("record") or {}).get("priority")), _short((r.get("record") or {}).get("description")),
         cell(", ".join((r.get("record") or {}).get("keywords") or []) or None)] for r in results]))


def memory_record(data: dict[str, Any]) -> None:
    record = (data.get("output") or {}).get("record") or {}
    out.print(key_values(record, title=f"record {record.get('id')}"))


def memory_written(data: dict[str, Any]) -> None:
    output = data.get("output") or {}
    out.print(Text.assemble("stored ", cell(output.get("id"), "bold"), f" version {output.get('version')} in ",
                            cell(data.get("route"))))


def memory_imported(data: dict[str, Any]) -> None:
    out.print(Text.assemble(f"imported {data.get('imported')} record(s) into ", cell(data.get("store"), "bold"),
                            Text(f"  ({data.get('evicted')} evicted beyond the capacity; "
                                 f"{data.get('requests')} request(s))", style="dim")))


class RecordProgress:
    """A Rich progress bar (on stderr) counting records: exported or imported of the total expected."""

    def __init__(self, what: str, total: int | None):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("records"), TimeElapsedColumn(), console=err, transient=False)
        self.task = self.progress.add_task(what, total=total)

    def advance(self, records: int) -> None:
        self.progress.advance(self.task, records)

    def __enter__(self) -> "RecordProgress":
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()

# ---- training ------------------------------------------------------------------------------------

RUN_STYLES = {"queued": "dim", "running": "cyan", "paused": "yellow", "waiting": "bold yellow",
              "converged": "bold green", "not_converged": "yellow", "failed": "bold red", "approved": "green",
              "rejected": "red"}


def _metric(value: Any) -> Text:
    return Text("failed", style="red") if value is None else Text(f"{value:.6g}")


def _params(params: Any) -> Text:
    if not isinstance(params, dict):
        return cell(params)
    return Text(", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={json.dumps(v, ensure_ascii=False)}"
                          for k, v in params.items()))


def _best_line(data: dict[str, Any]) -> Text:
    best = data.get("best")
    if not best:
        return Text("best: none yet", style="dim")
    return Text.assemble(Text("best: ", style="bold"), f"#{best.get('iteration')} ", Text(data.get("objective") or ""),
                         " = ", _metric(best.get("metric")), "  ", _params(best.get("params")))


def training_started(data: dict[str, Any]) -> None:
    out.print(Text.assemble("training run ", cell(data.get("run_id"), "bold"), " on ", cell(data.get("node_id")),
                            " ", styled(data.get("state"), RUN_STYLES), Text(
                                f"  ({data.get('objective')} over {', '.join(data.get('params') or [])}; "
                                f"{(data.get('dataset') or {}).get('size')} examples)", style="dim")))


def training_run(data: dict[str, Any]) -> None:
    """A run with its iterations: one row each, the best starred; then the outcome and what a human can do."""
    iterations = data.get("iterations") or []
    best_n = (data.get("best") or {}).get("iteration")
    out.print(table(f"run {data.get('run_id')} · {data.get('node_id')} · {data.get('objective')}",
                    ["#", "params", "metric", "failed", "ms", ""], [
        [cell(it.get("n")), _params(it.get("params")), _metric(it.get("metric")),
         cell(f"{it.get('failed')}/{it.get('examples')}"), cell(round(it.get("ms") or 0, 1)),
         Text("★ best", style="bold green") if it.get("n") == best_n else Text(it.get("error") or "", style="red")]
        for it in iterations]))
    out.print(Text.assemble(Text("state: ", style="bold"), styled(data.get("state"), RUN_STYLES),
                            Text(f"  {data.get('reason')}" if data.get("reason") else "", style="dim")))
    out.print(_best_line(data))
    if data.get("result_node"):
        out.print(Text.assemble(Text("created: ", style="bold"), cell(data.get("result_node"))))
    run_id = data.get("run_id")
    if data.get("state") == "waiting":
        out.print(Text(f"waiting for a human: neira-factory training continue {run_id}  (or reject)", style="yellow"))
    elif data.get("needs_decision"):
        out.print(Text(f"decide: neira-factory training approve {run_id} [--iteration N]  |  "
                       f"neira-factory training reject {run_id}", style="yellow"))


def training_runs(found: list[dict[str, Any]]) -> None:
    out.print(table(f"{len(found)} training run(s)", ["run", "node", "state", "objective", "iterations", "best",
                                                      "created_by", "created_at"], [
        [cell(r.get("run_id")), cell(r.get("node_id")), styled(r.get("state"), RUN_STYLES), cell(r.get("objective")),
         cell(f"{r.get('iterations_done')}/{r.get('max_iterations')}"),
         _metric((r.get("best") or {}).get("metric")) if r.get("best") else cell(None), cell(r.get("created_by")),
         cell(r.get("created_at"))] for r in found]))


def training_decided(action: str, data: dict[str, Any]) -> None:
    line = Text.assemble(f"{action}: run ", cell(data.get("run_id"), "bold"), " ", styled(data.get("state"), RUN_STYLES))
    created_node = data.get("created")
    if action == "approve" and created_node:
        approved = [d for d in data.get("decisions") or [] if d.get("action") == "approve"]
        line.append_text(Text.assemble("  → created ", cell(created_node.get("id"), "bold"), " ",
                                       styled(created_node.get("state"), STATE_STYLES),
                                       f" from iteration {approved[-1].get('iteration')}" if approved else ""))
    out.print(line)


class TrainingProgress:
    """A Rich progress bar (on stderr) that follows a run: iterations done of max_iterations, state, best."""

    def __init__(self, run: dict[str, Any]):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[state]}"), TextColumn("{task.fields[best]}"),
                                 TimeElapsedColumn(), console=err, transient=False)
        self.task = self.progress.add_task(str(run.get("run_id")), total=run.get("max_iterations") or 1,
                                           state="", best="")
        self.update(run)

    def update(self, run: dict[str, Any]) -> None:
        best = run.get("best")
        shown = f"best {best['metric']:.4g}" if best and best.get("metric") is not None else ""
        self.progress.update(self.task, completed=run.get("iterations_done") or 0, state=run.get("state") or "",
                             best=shown)

    def __enter__(self) -> "TrainingProgress":
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()
