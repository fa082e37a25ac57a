"""/factory/commands: a command in Russian or English → plan, policy, dry-run, diff; confirm → drafts."""
from __future__ import annotations

from fastapi import APIRouter, Depends

from ...services import commands
from ...services.bootstrap import Services
from ...services.commands import CommandDone, CommandPlan
from ..auth import ActorDep, services
from ..json_body import JSONRoute
from ..schemas import ERRORS, CommandBody, ConfirmBody

router = APIRouter(prefix="/factory/commands", tags=["commands"], responses=ERRORS, route_class=JSONRoute)


@router.post("", response_model=CommandPlan, summary="Understand a command and plan it (nothing is made yet)",
             responses={422: {"description": "not_understood: what was understood, what was not, suggestions — "
                                              "in the command's language"},
                        404: {"description": "it names something that does not exist"},
                        409: {"description": "what it would create exists already"}})
def plan(body: CommandBody, actor: ActorDep, f: Services = Depends(services)):
    return commands.plan_command(f.commands, actor, body.text)


@router.post("/confirm", response_model=CommandDone, summary="Make the plan a confirmation token stands for",
             responses={404: {"description": "unknown_token"}, 403: {"description": "not_your_plan, or a step "
                                                                                    "the policy refuses now"},
                        409: {"description": "plan_expired, plan_used, or a step that conflicts now"}})
def confirm(body: ConfirmBody, actor: ActorDep, f: Services = Depends(services)):
    return commands.confirm(f.commands, actor, body.confirm_token)
