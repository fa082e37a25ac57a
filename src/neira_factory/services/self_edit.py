"""Self-edit: the factory's own tunable modules are nodes (`factory.selector.v1`, `factory.rollout.v1`).

At start-up the first versions are seeded as stable (audited). The selector's
weights and the default rollout policy are then read through their routes, so a
new version — created, trained and approved like any node, behind the
`self_edit` gate — takes a share of the factory's own decisions as a canary,
is analysed, and rolls back like any node. Nothing edits code on disk.
"""
from __future__ import annotations

from dataclasses import dataclass
import logging
from typing import Any

from ..domain.actors import SYSTEM
from ..domain.errors import FactoryError
from ..domain.lifecycle import State
from ..domain.node import Node
from ..domain.templates import NodeTemplate, RolloutPolicy
from ..library.factory_modules import ROLLOUT_PARAMS, WEIGHT_PARAMS
from ..selector import SelectorWeights
from ..domain.clock import now
from ..store.templates import store_template
from . import lifecycle
from . import invoke
from .ports import Write

log = logging.getLogger(__name__)
@dataclass(frozen=True)
class Deps:
    """What self-edit uses: a write (to seed) and invocation (to ask the modules)."""

    write: Write
    invoke: invoke.Deps


MODULES = {
    "factory.selector.v1": ("selector_weights", WEIGHT_PARAMS, "the SelectorNode's scoring weights and min_score"),
    "factory.rollout.v1": ("rollout_defaults", ROLLOUT_PARAMS, "the rollout policy a template gets where it sets none"),
}


def seed(f: Deps) -> list[str]:
    """The first version of each module, stable, when its route has no node yet."""
    seeded = []
    with f.write() as uow:
        for node_id, (impl, params, what) in MODULES.items():
            template = NodeTemplate.model_validate({
                "id": node_id, "version": "1.0.0", "analysis_type": impl, "backend": "adapter",
                "adapter": {"impl": impl}, "draft_content": f"The factory's own module: {what}.",
                "params": params, "rollout": {"min_requests": 50, "canary_weight": 0.1}})
            if uow.nodes.list(route=template.route_name, limit=1):
                continue
            digest = store_template(uow, template)
            node = Node.draft(template, sha256=digest, report=None, actor=SYSTEM, at=now(), state=State.STABLE)
            lifecycle.create(uow, node.created("seed", SYSTEM, reason="the factory's own module, as built",
                                               audit={"params": params, "sha256": digest}))
            seeded.append(node_id)
    return seeded


def _module(f: Deps, route: str, key: str | None) -> dict[str, Any] | None:
    """What the serving version of a module returns for this decision; None (defaults) when it cannot."""
    try:
        return invoke.invoke(f.invoke, SYSTEM, route, {}, key)["output"]
    except FactoryError as exc:
        log.warning("%s unavailable (%s); using the built-in defaults", route, exc.reason)
        return None


def selector_weights(f: Deps, key: str | None) -> SelectorWeights:
    values = _module(f, "factory.selector", key)
    return SelectorWeights(**values) if values else SelectorWeights()


def rollout_defaults(f: Deps, key: str | None) -> dict[str, Any]:
    """The fields of the default rollout policy as the serving `factory.rollout` version says."""
    values = _module(f, "factory.rollout", key) or {}
    slo = {"error_rate_max": values.pop("error_rate_max")} if "error_rate_max" in values else {}
    return {**values, **({"slo": slo} if slo else {})}


def with_rollout_defaults(f: Deps, template: NodeTemplate) -> NodeTemplate:
    """The template with the fields its author left out of `rollout` taken from `factory.rollout`."""
    given = template.rollout.model_fields_set
    defaults = {k: v for k, v in rollout_defaults(f, template.id).items() if k not in given}
    if "slo" in defaults and "slo" in given:
        defaults.pop("slo")
    if not defaults:
        return template
    rollout = RolloutPolicy.model_validate({**template.rollout.model_dump(exclude_unset=True), **defaults})
    return template.model_copy(update={"rollout": rollout})
