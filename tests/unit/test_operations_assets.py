"""The operations guide and its monitoring assets stay true to the app.

- every metric name (and label, and enumerated label value) used in the alert rules
  (examples/prometheus/alerts.yml) and the Grafana dashboard (examples/grafana/) exists in what a
  real app serves at /metrics; every exported metric is on the dashboard and in the guide;
- the dashboard is Grafana dashboard JSON (a Prometheus datasource variable; panels with targets,
  unique ids, a layout without overlaps); the rules and the scrape configuration have the
  structure Prometheus expects (and pass `promtool` where it is installed);
- docs/operations.md names every setting src/neira_factory/config/__init__.py reads, every alert, and its
  documented commands (the migration one-liners, the SQLite backup snippet) really run.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args

import pytest
import yaml

from support import ROOT, make_settings

GUIDE = ROOT / "docs" / "operations.md"
DASHBOARD = ROOT / "examples" / "grafana" / "neira-factory.json"
SCRAPE = ROOT / "examples" / "prometheus" / "prometheus.yml"
ALERTS = ROOT / "examples" / "prometheus" / "alerts.yml"
CONFIG = ROOT / "src" / "neira_factory" / "config" / "__init__.py"
JOB = "neira-factory"

# Series Prometheus itself adds for every target (not in /metrics).
SYNTHETIC = {"up": set(), "scrape_duration_seconds": set(), "scrape_samples_scraped": set()}
TARGET_LABELS = {"job", "instance"}
GRAFANA_BUILTINS = {"__rate_interval", "__range", "__interval", "__interval_ms", "__range_s"}
SEVERITIES = {"critical", "warning", "info"}
PANEL_TYPES = {"timeseries", "stat", "gauge", "bargauge", "table", "heatmap", "text", "piechart", "barchart"}


# -- what the app really exports ----------------------------------------------------------------

@dataclass
class Exported:
    text: str
    families: dict[str, str]  # base name -> type (counter, gauge, histogram)
    samples: dict[str, str] = field(default_factory=dict)  # queryable series name -> its family
    labels: dict[str, set[str]] = field(default_factory=dict)  # series name -> label names
    values: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (series, label) -> known values


def _series_names(base: str, kind: str) -> list[str]:
    if kind == "counter":
        return [base if base.endswith("_total") else f"{base}_total"]
    if kind == "histogram":
        return [f"{base}_bucket", f"{base}_count", f"{base}_sum"]
    if kind == "summary":
        return [base, f"{base}_count", f"{base}_sum"]
    return [base]


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Exported:
    from fastapi.testclient import TestClient
    from prometheus_client.metrics import MetricWrapperBase
    from prometheus_client.parser import text_string_to_metric_families

    from neira_factory.api.app import create_app
    from neira_factory.domain.errors import EXECUTION_ERROR_KINDS
    from neira_factory.domain.lifecycle import State
    from neira_factory.runtime.analysis import PhaseName
    from neira_factory.services.bootstrap import build_services
    from neira_factory.config.tokens import TokenRegistry

    factory = build_services(make_settings(tmp_path_factory.mktemp("ops")))
    try:
        with TestClient(create_app(factory, TokenRegistry.load(factory.settings))) as client:
            response = client.get("/metrics")
        assert response.status_code == 200
        text = response.text
        wrappers = [m for m in vars(factory.metrics).values() if isinstance(m, MetricWrapperBase)]
    finally:
        factory.db.dispose()

    parsed = {f.name: f for f in text_string_to_metric_families(text)}
    bases = {name: f.type for name, f in parsed.items() if f.type in ("counter", "histogram", "summary")}
    families = {name: kind for name, kind in ((n, f.type) for n, f in parsed.items())
                 # prometheus_client's `<name>_created` timestamp gauges are not metrics of ours
                 if not (kind == "gauge" and name.endswith("_created") and name[: -len("_created")] in bases)}
    out = Exported(text, families)
    for base, kind in families.items():
        for series in _series_names(base, kind):
            out.samples[series] = base

    # Label names, from the metric objects themselves (a labelled metric without children has no
    # samples in the exposition yet); they must describe exactly the exported families.
    declared = {}
    for metric in wrappers:
        for series in _series_names(metric._name, metric._type):
            declared[series] = set(metric._labelnames) | TARGET_LABELS | ({"le"} if series.endswith("_bucket") else set())
    assert set(declared) == set(out.samples), "FactoryMetrics attributes and /metrics disagree"
    out.labels = declared
    for name, labels in SYNTHETIC.items():
        out.samples[name] = name
        out.labels[name] = labels | TARGET_LABELS

    # Known label values: pre-created children in the exposition, plus the domains in the code.
    for family in parsed.values():
        for sample in family.samples:
            for label, value in sample.labels.items():
                out.values.setdefault((sample.name, label), set()).add(value)
    states = {s.value for s in State}
    out.values.update({
        ("factory_node_requests_total", "outcome"): {"ok", *EXECUTION_ERROR_KINDS},
        ("factory_node_requests_total", "state"): states,
        ("factory_state_transitions_total", "from"): states | {"none"},
        ("factory_state_transitions_total", "to"): states,
        ("factory_analysis_verdicts_total", "phase"): set(get_args(PhaseName)),
        ("factory_shadow_comparisons_total", "outcome"): {"match", "mismatch", "dropped"},  # services/invoke.py
    })
    return out


# -- PromQL, as far as these checks need it -----------------------------------------------------

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
            "offset", "inf", "nan"}
GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)")
SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^{}]*)\}")
MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
VARIABLE = re.compile(r"\$\{?(\w+)\}?|\[\[(\w+)\]\]")


@dataclass
class Query:
    expr: str
    metrics: set[str] = field(default_factory=set)
    matchers: list[tuple[str | None, str, str, str]] = field(default_factory=list)  # (metric, label, op, value)
    grouping: list[str] = field(default_factory=list)


def parse(expr: str) -> Query:
    q = Query(expr)
    text = re.sub(r"\[[^\]]*\]", " ", expr)  # range selectors: [5m], [$__rate_interval]

    def selector(m: re.Match) -> str:
        name, body = m.group(1), m.group(2)
        for label, op, value in MATCHER.findall(body):
            q.matchers.append((name, label, op, value))
        rest = MATCHER.sub("", body).replace(",", "").strip()
        assert not rest, f"cannot read the label matchers {body!r} in {expr!r}"
        return f" {name or ''} "

    text = SELECTOR.sub(selector, text)

    def grouping(m: re.Match) -> str:
        q.grouping.extend(label.strip() for label in m.group(2).split(",") if label.strip())
        return " "

    text = GROUPING.sub(grouping, text)
    text = re.sub(r'"(?:[^"\\]|\\.)*"', " ", text)
    text = VARIABLE.sub(" ", text)
    text = re.sub(r"(?<![\w:])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?", " ", text)
    for m in IDENT.finditer(text):
        word, rest = m.group(0), text[m.end():].lstrip()
        if word in KEYWORDS or rest.startswith("("):  # operators, functions and aggregations
            continue
        q.metrics.add(word)
    q.metrics |= {name for name, *_ in q.matchers if name}
    return q


def check_query(q: Query, exported: Exported, where: str) -> list[str]:
    """Everything wrong with one query: unknown metrics, labels, label values."""
    problems = []
    for name in sorted(q.metrics):
        if name not in exported.samples:
            problems.append(f"{where}: metric {name!r} is not in /metrics")
    known = [n for n in q.metrics if n in exported.labels]
    for name, label, op, value in q.matchers:
        if name is None or name not in exported.labels:
            continue
        if label not in exported.labels[name]:
            problems.append(f"{where}: {name} has no label {label!r} (has {sorted(exported.labels[name])})")
            continue
        allowed = {JOB} if label == "job" else exported.values.get((name, label))
        if allowed is None or "$" in value:
            continue
        alternatives = value.split("|") if op in ("=~", "!~") else [value]
        for alt in alternatives:
            if re.fullmatch(r"[\w.:-]+", alt) and alt not in allowed:
                problems.append(f"{where}: {name}{{{label}{op}\"{value}\"}}: {alt!r} is never exported "
                                f"(known: {sorted(allowed)})")
    everywhere = set().union(*(exported.labels[n] for n in known)) if known else set()
    for label in q.grouping:
        if known and label not in everywhere:
            problems.append(f"{where}: grouping label {label!r} is on none of {sorted(known)}")
    return problems


def test_the_promql_reader_reads_what_the_assets_use():
    q = parse('histogram_quantile(0.95, sum by (route, version, le) (rate(factory_node_duration_seconds_bucket'
              '{job="$job", route=~"$route"}[$__rate_interval]))) / on() group_left() sum(up) > 1e3 '
              'unless absent(safe_mode{kind!~"a|b"})')
    assert q.metrics == {"factory_node_duration_seconds_bucket", "up", "safe_mode"}
    assert ("factory_node_duration_seconds_bucket", "route", "=~", "$route") in q.matchers
    assert ("safe_mode", "kind", "!~", "a|b") in q.matchers
    assert q.grouping == ["route", "version", "le"]


# -- the files ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


@pytest.fixture(scope="module")
def rules() -> dict:
    return yaml.safe_load(ALERTS.read_text())


@pytest.fixture(scope="module")
def scrape() -> dict:
    return yaml.safe_load(SCRAPE.read_text())


def all_panels(dashboard: dict) -> list[dict]:
    out = []
    for panel in dashboard["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))  # a collapsed row keeps its panels inside
    return out


def dashboard_queries(dashboard: dict) -> list[tuple[str, Query]]:
    """(where, query) for every PromQL expression in the dashboard: targets, annotations, variables."""
    found = []
    for panel in all_panels(dashboard):
        for target in panel.get("targets", []):
            found.append((f"panel {panel['id']} {panel['title']!r} {target['refId']}", parse(target["expr"])))
    for annotation in dashboard.get("annotations", {}).get("list", []):
        if annotation.get("expr"):
            found.append((f"annotation {annotation['name']!r}", parse(annotation["expr"])))
    for variable in dashboard["templating"]["list"]:
        if variable["type"] != "query":
            continue
        query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
        m = re.fullmatch(r"\s*label_values\((.*),\s*([a-zA-Z_]\w*)\s*\)\s*", query)
        assert m, f"variable {variable['name']}: expected label_values(selector, label), got {query!r}"
        q = parse(m.group(1))
        q.grouping.append(m.group(2))  # the label it lists must exist on the selected metric
        found.append((f"variable ${variable['name']}", q))
    return found


def rule_queries(rules: dict) -> list[tuple[str, Query]]:
    return [(f"alert {rule['alert']}", parse(rule["expr"])) for group in rules["groups"] for rule in group["rules"]]


# -- metric names -------------------------------------------------------------------------------

def test_every_metric_in_the_dashboard_exists_in_metrics(exported, dashboard):
    problems = [p for where, q in dashboard_queries(dashboard) for p in check_query(q, exported, where)]
    assert not problems, "\n".join(problems)


def test_every_metric_in_the_alert_rules_exists_in_metrics(exported, rules):
    problems = [p for where, q in rule_queries(rules) for p in check_query(q, exported, where)]
    assert not problems, "\n".join(problems)


def test_the_checks_catch_a_wrong_name_label_or_value(exported):
    assert check_query(parse("rate(factory_node_request_total[5m])"), exported, "x")
    assert check_query(parse("factory_node_duration_seconds"), exported, "x")  # a histogram has no bare series
    assert check_query(parse('rate(factory_rollbacks_total{kind="hard"}[5m])'), exported, "x")
    assert check_query(parse('rate(notify_deliveries_total{outcome="lost"}[5m])'), exported, "x")
    assert check_query(parse('sum by (cause) (rate(factory_rollbacks_total[5m]))'), exported, "x")
    assert not check_query(parse('sum by (cause) (rate(immune_quarantines_total{cause=~"violation|timeouts"}[5m]))'),
                           exported, "x")


def test_every_exported_metric_is_on_the_dashboard_and_in_the_guide(exported, dashboard):
    used = set().union(*(q.metrics for _, q in dashboard_queries(dashboard)))
    guide = GUIDE.read_text()
    missing_panel = [base for base in exported.families if not any(exported.samples.get(s) == base for s in used)]
    documented = {base: _series_names(base, kind)[0] if kind == "counter" else base  # as people write it
                  for base, kind in exported.families.items()}
    missing_doc = [name for name in documented.values() if not re.search(rf"`{re.escape(name)}`", guide)]
    assert not missing_panel, f"add a panel to {DASHBOARD.relative_to(ROOT)} for {missing_panel}"
    assert not missing_doc, f"describe {missing_doc} in docs/operations.md (Metrics reference)"


# -- the Grafana dashboard ----------------------------------------------------------------------

def test_dashboard_is_grafana_dashboard_json(dashboard):
    for key in ("title", "uid", "schemaVersion", "panels", "templating", "time", "annotations"):
        assert key in dashboard, key
    assert isinstance(dashboard["schemaVersion"], int) and dashboard["schemaVersion"] >= 30
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,40}", dashboard["uid"])
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    for v in variables.values():
        if v["type"] == "query":
            assert v["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, v["name"]


def test_dashboard_panels_have_targets_unique_ids_and_a_layout(dashboard):
    panels = all_panels(dashboard)
    ids = [p["id"] for p in panels]
    assert all(isinstance(i, int) for i in ids) and len(ids) == len(set(ids)), "panel ids must be unique integers"
    variables = {v["name"] for v in dashboard["templating"]["list"]} | GRAFANA_BUILTINS
    boxes = []
    for p in panels:
        g = p["gridPos"]
        assert g["h"] > 0 and g["w"] > 0 and g["x"] >= 0 and g["y"] >= 0 and g["x"] + g["w"] <= 24, p["title"]
        boxes.append((g["x"], g["y"], g["x"] + g["w"], g["y"] + g["h"], p["title"]))
        if p["type"] == "row":
            continue
        assert p["type"] in PANEL_TYPES, p["type"]
        assert p["title"] and p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, p["title"]
        assert p["targets"], f"panel {p['title']!r} has no targets"
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs)), f"panel {p['title']!r}: duplicate refId"
        for t in p["targets"]:
            assert t["expr"].strip() and t["datasource"]["uid"] == "${datasource}", p["title"]
            for m in VARIABLE.finditer(t["expr"]):
                assert (m.group(1) or m.group(2)) in variables, f"{p['title']!r}: undefined variable {m.group(0)}"
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            overlap = a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
            assert not overlap, f"panels {a[4]!r} and {b[4]!r} overlap"


def test_dashboard_covers_red_use_and_the_lifecycle(dashboard):
    exprs = " ".join(t["expr"] for p in all_panels(dashboard) for t in p.get("targets", []))
    assert "histogram_quantile(0.95" in exprs and "factory_node_duration_seconds_bucket" in exprs
    assert re.search(r"sum by \(route, version\) \(rate\(factory_node_requests_total", exprs)
    for name in ("factory_sandbox_workers_busy", "factory_sandbox_queue_length", "safe_mode",
                 'notify_deliveries_total', "watchdog_timeouts_total", "immune_quarantines_total"):
        assert name in exprs, name


# -- alert rules and scrape configuration -------------------------------------------------------

def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors."""
    out = set()
    for line in markdown.splitlines():
        m = re.match(r"#{1,6}\s+(.*)", line)
        if m:
            out.add(re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-"))
    return out


def test_alert_rules_have_the_prometheus_structure(rules):
    assert set(rules) == {"groups"} and rules["groups"]
    names, groups = [], []
    guide = GUIDE.read_text()
    guide_anchors = anchors(guide)
    for group in rules["groups"]:
        assert set(group) <= {"name", "rules", "interval"} and group["name"] and group["rules"]
        groups.append(group["name"])
        for rule in group["rules"]:
            assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule.get("alert")
            assert re.fullmatch(r"NeiraFactory[A-Z][A-Za-z]+", rule["alert"])
            assert re.fullmatch(r"\d+[smhdwy]", rule["for"]), rule["for"]
            assert rule["labels"]["severity"] in SEVERITIES
            assert rule["annotations"]["summary"] and rule["annotations"]["description"]
            url = rule["annotations"].get("runbook_url", "")
            if url:
                path, _, anchor = url.partition("#")
                assert path == "docs/operations.md" and anchor in guide_anchors, url
            assert f"`{rule['alert']}`" in guide, f"list {rule['alert']} in docs/operations.md (Alerts)"
            names.append(rule["alert"])
    assert len(names) == len(set(names)) and len(groups) == len(set(groups))


def test_alert_rules_cover_what_operators_must_hear_about(rules):
    exprs = " ".join(rule["expr"] for group in rules["groups"] for rule in group["rules"])
    for needle in ("factory_rollbacks_total", "immune_quarantines_total", 'watchdog_timeouts_total{job="neira-factory",kind="hard"}',
                   "factory_exec_errors_total", "safe_mode", 'notify_deliveries_total{job="neira-factory",outcome="failed"}',
                   "organ_build_failures_total", "training_converged_total", "factory_sandbox_queue_length", "up{"):
        assert needle in exprs, needle


def test_scrape_config_scrapes_every_replica_and_loads_the_rules(scrape):
    assert {"global", "scrape_configs", "rule_files"} <= set(scrape)
    for rule_file in scrape["rule_files"]:
        assert (SCRAPE.parent / rule_file).is_file(), rule_file
    jobs = {job["job_name"]: job for job in scrape["scrape_configs"]}
    job = jobs[JOB]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    targets = [t for sc in job["static_configs"] for t in sc["targets"]]
    assert len(targets) >= 2 and all(re.fullmatch(r"[\w.-]+:\d+", t) for t in targets)


# -- the guide ----------------------------------------------------------------------------------

def config_variables() -> set[str]:
    source = CONFIG.read_text()
    names = set(re.findall(r"(?<![A-Z0-9_])((?:NEIRA|WATCHDOG)_[A-Z0-9_]+)", source))
    # _int("X") also reads NEIRA_X
    names |= {f"NEIRA_{n}" for n in re.findall(r'_int\("([A-Z0-9_]+)"', source) if not n.startswith("NEIRA_")}
    return names


def test_the_guide_names_every_setting_config_reads():
    names = config_variables()
    assert {"NEIRA_DATABASE_URL", "NEIRA_STATS_FLUSH_MS", "NEIRA_CACHE_TTL_MS", "WATCHDOG_HARD_MS",
            "NEIRA_WATCHDOG_HARD_MS"} <= names
    guide = GUIDE.read_text()
    missing = sorted(n for n in names if not re.search(rf"(?<![A-Z0-9_]){n}(?![A-Z0-9_])", guide))
    assert not missing, f"docs/operations.md does not mention {missing}"


def test_the_guides_internal_links_resolve():
    guide = GUIDE.read_text()
    found = anchors(guide)
    broken = [a for a in re.findall(r"\]\(#([^)]+)\)", guide) if a not in found]
    assert not broken, broken
    for path in re.findall(r"\]\(\.\./([^)#]+)\)", guide):
        assert (ROOT / path).exists(), path


def _python_one_liners(section: str) -> list[str]:
    guide = GUIDE.read_text()
    body = guide.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r'python -c "(.*?)"', body, flags=re.S)


def test_the_documented_migration_commands_run(tmp_path):
    commands = _python_one_liners("Upgrades and migrations")
    assert len(commands) == 2
    env = {**os.environ, "NEIRA_DATABASE_URL": f"sqlite:///{tmp_path / 'neira.db'}"}
    for _ in range(2):  # the second run finds the schema at head and changes nothing
        migrate = subprocess.run([sys.executable, "-c", commands[0]], env=env, capture_output=True, text=True)
        assert migrate.returncode == 0, migrate.stderr
    current = subprocess.run([sys.executable, "-c", commands[1]], env=env, capture_output=True, text=True)
    assert current.returncode == 0, current.stderr
    lines = current.stdout.split()
    assert lines.count("(head)") == 2 and lines[0] == lines[2], current.stdout


def test_the_documented_sqlite_backup_is_consistent(tmp_path):
    import sqlite3

    from neira_factory.store import Database

    guide = GUIDE.read_text()
    snippet = re.search(r"```python\n(import sqlite3\n.*?)```", guide, flags=re.S).group(1)
    (tmp_path / "var").mkdir()
    (tmp_path / "backups").mkdir()
    db = Database(f"sqlite:///{tmp_path / 'var' / 'neira.db'}")
    db.migrate()
    with db.unit_of_work() as uow:  # committed, and still in the WAL: the file alone lacks it
        uow.audit.append("ops-test", "test.write", "ops", after={"n": 1})
    code = snippet.replace("/backups/", f"{tmp_path / 'backups'}/")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    db.dispose()
    assert done.returncode == 0, done.stderr
    copy = sqlite3.connect(tmp_path / "backups" / "neira.db")
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert copy.execute("SELECT count(*) FROM audit WHERE actor = 'ops-test'").fetchone() == (1,)
    copy.close()


# -- promtool (Debian: prometheus; scripts/setup.sh installs it) ----------------------------------

PROMTOOL = shutil.which("promtool") or "promtool"


def test_promtool_accepts_the_scrape_config_and_the_rules():
    done = subprocess.run([PROMTOOL, "check", "config", str(SCRAPE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_parses_every_dashboard_query(dashboard, tmp_path):
    values = {"__rate_interval": "5m", "__range": "1h", "__interval": "1m", "job": JOB, "instance": ".*", "route": ".*"}
    records = []
    for panel in all_panels(dashboard):
        for target in panel.get("targets", []):
            expr = VARIABLE.sub(lambda m: values[m.group(1) or m.group(2)], target["expr"])
            records.append({"record": f"dashboard:panel_{panel['id']}_{target['refId']}", "expr": expr})
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": records}]}))
    done = subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
