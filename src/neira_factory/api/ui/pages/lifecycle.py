"""The lifecycle buttons of node and organ pages, each with the policy's answer, and what pressing one posts."""
from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from ....domain.errors import NotFound
from ....domain.lifecycle import HUMAN_ACTIONS, State
from ....domain.references import self_edit_gates
from ....services import lifecycle, organs
from ....services.nodes import NodeSummary
from ..rendering import Page, Posted, done, safe_next

NODE_ACTIONS = tuple(a.value for a in HUMAN_ACTIONS)
ORGAN_ACTIONS = (*NODE_ACTIONS, "fail")
CANDIDATE_STATES = (State.CANARY.value, State.EXPERIMENTAL.value)


def action_buttons(current: Page, record: NodeSummary, allowed: list[str], *, organ: bool) -> list[dict[str, Any]]:
    """The lifecycle's allowed actions, each with the policy's answer for this actor (disabled + why if no)."""
    buttons = []
    for action in allowed:
        if action not in (ORGAN_ACTIONS if organ else NODE_ACTIONS):
            continue
        decision = current.permissions.may(f"nodes.{action}", gates=self_edit_gates(record.id, record.route),
                                           owner=record.created_by)
        may_force = (action == "approve" and record.state in CANDIDATE_STATES and decision.allowed
                     and current.permissions.may("nodes.force").allowed)
        to = {"approve": {"draft": "canary", "canary": "experimental", "experimental": "stable"}.get(record.state),
              "rollback": "rolled_back", "disable": "disabled", "quarantine": "quarantined",
              "release": record.prev_state, "fail": "failed"}.get(action)
        buttons.append({"action": action, "allowed": decision.allowed, "why": decision.reason, "force": may_force,
                        "to": to, "danger": action in ("rollback", "disable", "quarantine", "fail")})
    return buttons


def transition(post: Posted, node_id: str, action: str, *, organ: bool) -> Response:
    if action not in (ORGAN_ACTIONS if organ else NODE_ACTIONS):
        raise NotFound(post.page.t("err_unknown_action", action=action), code="not_found")
    reason = post.text("reason", required=True)
    post.confirmed()
    force = post.ticked("force")
    f, actor = post.page.f, post.page.actor
    if organ:
        organs.require_organ(f.organs, node_id)
        result = (organs.cancel(f.organs, actor, node_id, reason) if action == "fail" else
                  lifecycle.transition(f.lifecycle, actor, node_id, action, reason=reason, force=force))
    else:
        result = lifecycle.transition(f.lifecycle, actor, node_id, action, reason=reason, force=force)
    message = post.page.t("done_transition", id=node_id, action=post.page.t(f"action_{action}"),
                          previous=result.previous, state=result.state)
    base = f"/admin/{'organs' if organ else 'nodes'}/{node_id}"
    return done(post, message, safe_next(post.form.get("next"), base), result.model_dump())
