"""The organ's graph as a picture: DOT source, rendered to SVG by graphviz's `dot`.

Node ids and channel names come from untrusted templates, so none of them is
ever a DOT identifier: nodes are `n0`, `n1`, … and the text only appears in
quoted, escaped labels and tooltips. `dot` runs without a shell, reads the
source on stdin and gets `RENDER_TIMEOUT_S` seconds.

Colours by lifecycle state (a fixed palette): draft grey, canary yellow,
experimental orange, stable green, deprecated light grey, rolled_back / failed
red, disabled dark grey, quarantined purple; a missing node has a dashed red
outline; any other state is white.
"""
from __future__ import annotations

import shutil
import subprocess
from typing import Any

RENDER_TIMEOUT_S = 5.0
MAX_LABEL = 120  # characters of one label line; longer text is cut with "…"

# state -> (fill colour, font colour)
PALETTE: dict[str, tuple[str, str]] = {
    "draft": ("#c8c8c8", "#000000"),
    "canary": ("#ffe866", "#000000"),
    "experimental": ("#ffb347", "#000000"),
    "stable": ("#8fd18f", "#000000"),
    "deprecated": ("#ececec", "#6e6e6e"),
    "rolled_back": ("#f08080", "#000000"),
    "failed": ("#f08080", "#000000"),
    "disabled": ("#555555", "#ffffff"),
    "quarantined": ("#b48ee6", "#000000"),
}
OTHER = ("#ffffff", "#000000")
MISSING_OUTLINE = "#d62728"


def dot_source(graph: dict, *, title: str) -> str:
    """DOT for `graph` (as `organs.graph.validate` gives it): left to right, labelled, coloured."""
    nodes = [n for n in graph.get("nodes", ()) if isinstance(n, dict) and "id" in n]
    ids = {str(n["id"]): n for n in nodes}
    for edge in graph.get("edges", ()):  # an edge to an id the node list lacks: show it as missing
        for end in (edge.get("from"), edge.get("to")):
            if end is not None and str(end) not in ids:
                ids[str(end)] = {"id": end, "state": "missing"}
    order = [str(n) for n in graph.get("order", ()) if str(n) in ids]
    names = {node_id: f"n{i}" for i, node_id in enumerate(dict.fromkeys([*order, *ids]))}
    lines = [
        "digraph organ {",
        f'  graph [rankdir=LR, labelloc=t, fontname="Helvetica", label={_quote(title)}];',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for node_id, name in names.items():
        lines.append(f"  {name} [{_node_attributes(ids[node_id])}];")
    for edge in graph.get("edges", ()):
        if edge.get("from") is None or edge.get("to") is None:
            continue
        label = _quote(str(edge.get("channel") or ""))
        lines.append(f"  {names[str(edge['from'])]} -> {names[str(edge['to'])]} [label={label}, tooltip={label}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def svg(graph: dict, *, title: str) -> bytes:
    """The graph as an SVG document, rendered by `dot -Tsvg`."""
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError("graphviz's `dot` was not found on PATH: install the apt package `graphviz` "
                           "(apt-get install graphviz) to draw organ graphs")
    source = dot_source(graph, title=title).encode("utf-8")
    try:
        done = subprocess.run([dot, "-Tsvg"], input=source, capture_output=True,
                              timeout=RENDER_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"graphviz `dot` took longer than {RENDER_TIMEOUT_S:g} s to draw the graph") from None
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip()[:500]
        raise RuntimeError(f"graphviz `dot` failed (exit {done.returncode}): {why}")
    return done.stdout


def _node_attributes(node: dict[str, Any]) -> str:
    node_id = str(node["id"])
    state = str(node.get("state") or "missing")
    roles = [str(r) for r in node.get("roles") or ()]
    label = [node_id]
    if roles:
        label.append(", ".join(roles))
    label.append(state)
    attributes = {"label": "\n".join(_cut(line) for line in label), "tooltip": node_id}
    if state == "missing":
        attributes.update(style="rounded,dashed", color=MISSING_OUTLINE, fontcolor=MISSING_OUTLINE, penwidth="2")
    else:
        fill, font = PALETTE.get(state, OTHER)
        attributes.update(fillcolor=fill, fontcolor=font)
    return ", ".join(f"{key}={_quote(value)}" for key, value in attributes.items())


def _cut(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _quote(text: str) -> str:
    """A DOT double-quoted string showing `text` literally (newlines as line breaks).

    Backslashes are doubled (so `\\N`, `\\G`, … are not expanded and a trailing one
    cannot swallow the closing quote), quotes escaped, `&` written as `&amp;` (dot
    would read `&lt;` and the like as entities), other control characters dropped, lone surrogates replaced.
    """
    out = []
    for ch in str(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "&":
            out.append("&amp;")
        elif ch == "\n":
            out.append("\\n")
        elif ch < " " or ch == "\x7f":
            out.append(" " if ch == "\t" else "")
        elif "\ud800" <= ch <= "\udfff":  # a lone surrogate cannot be encoded
            out.append("\ufffd")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'
