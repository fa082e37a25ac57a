"""Natural-language commands: say one, see its plan, policy outcome and diff, then confirm it."""
from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ....domain.errors import FactoryError
from ....services import commands
from ..rendering import Page, Posted, UIRoute, done, page, posted, render, wants_json

router = APIRouter(route_class=UIRoute)


@router.get("/commands")
def commands_page(current: Page = Depends(page)) -> Response:
    return render(current, "commands.html", text="", plan=None, error=None)


def diff_lines(diff: str | None) -> list[tuple[str, str]]:
    kinds = {"+": "add", "-": "del", "@": "hunk"}
    return [(kinds.get(line[:1], "ctx") if not line.startswith(("+++", "---")) else "file", line)
            for line in (diff or "").splitlines()]


@router.post("/commands")
def plan_command(post: Posted = Depends(posted)) -> Response:
    current = post.page
    text = post.text("text", max_len=commands.MAX_TEXT + 1) or ""
    try:
        planned = commands.plan_command(current.f.commands, current.actor, text)
    except FactoryError as exc:
        return render(current, "commands.html", status=exc.status, text=text, plan=None, error=exc.body())
    return render(current, "commands.html", text=text, plan=planned, error=None, diff=diff_lines(planned.diff),
                  can_confirm=current.permissions.may("commands.confirm"))


@router.post("/commands/confirm")
def confirm_command(post: Posted = Depends(posted)) -> Response:
    token = post.text("confirm_token", required=True, max_len=200)
    post.confirmed()
    result = commands.confirm(post.page.f.commands, post.page.actor, token)
    if wants_json(post.page.request):
        return done(post, result.summary, "/admin/commands", result.model_dump())
    return render(post.page, "command_done.html", result=result)
