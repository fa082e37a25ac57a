"""The run's picture: its metric per iteration, the running best, failed evaluations, the best
iteration marked and the target drawn. PNG bytes from matplotlib's Agg canvas (no pyplot, no
global state: safe in a server's worker threads)."""
from __future__ import annotations

import io
import textwrap
from typing import Any


def _params(params: dict[str, Any] | None) -> str:
    shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in (params or {}).items())
    return shown if len(shown) <= 60 else shown[:57] + "..."


def metric_png(iterations: list[dict[str, Any]], *, title: str, objective: str, maximize: bool,
               target: float | None = None, best: int | None = None, subtitle: str | None = None) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ok = [(it["n"], it["metric"]) for it in iterations if it.get("metric") is not None]
    failed = [it["n"] for it in iterations if it.get("metric") is None]
    if ok:
        ns, ms = zip(*ok, strict=True)
        ax.plot(ns, ms, marker="o", linewidth=1, markersize=4, label=objective)
        running, top = [], None
        for m in ms:
            top = m if top is None or (m > top if maximize else m < top) else top
            running.append(top)
        ax.step(ns, running, where="post", linestyle="--", linewidth=1, color="grey", label="best so far")
    if failed:
        floor = min(ms) if ok else 0.0
        ax.scatter(failed, [floor] * len(failed), marker="x", color="red", zorder=3, label="evaluation failed")
    if best is not None:
        found = [(it["metric"], it.get("params")) for it in iterations if it["n"] == best and it.get("metric") is not None]
        if found:
            metric, params = found[0]
            ax.scatter([best], [metric], marker="*", s=220, color="gold", edgecolors="black", zorder=4,
                       label=f"best: #{best} = {metric:.4g} ({_params(params)})")
    if target is not None:
        ax.axhline(target, color="green", linestyle=":", linewidth=1, label=f"target {target:g}")
    ax.set_xlabel("iteration")
    ax.set_ylabel(f"{objective} ({'higher' if maximize else 'lower'} is better)")
    ax.set_title(title, fontsize=10, loc="left")
    if subtitle:
        fig.text(0.01, 0.01, textwrap.shorten(subtitle, 140), fontsize=8, color="dimgrey")
    ax.grid(True, alpha=0.3)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout(rect=(0, 0.04 if subtitle else 0, 1, 1))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
