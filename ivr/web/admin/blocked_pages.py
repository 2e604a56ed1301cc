"""The Blocked page: numbers an operator blocked, each for a while. Everyone
logged in sees the list (numbers masked); admins block and unblock, and every
change is in the audit log. What a block does, and the one thing it never
does (leave a text that reads as a crisis unanswered), is in docs/operators.md."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ivr.callers.blocklist import BlockError
from ivr.operators.blocking import block_number, unblock_id
from ivr.web.admin.form_problems import Refusal, refusal
from ivr.web.admin.guard import admin, admins_only, desk, who

# How long a block lasts, as the form offers it (the API and the CLI take any
# length from an hour to 365 days).
DURATIONS = ((1, "1 day"), (7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "365 days"))
DEFAULT_DAYS = 30
FORM = "add-block"


def _page(
    status: int = 200, refused: Refusal | None = None, form: dict[str, str] | None = None
) -> tuple[str, int]:
    """The page; after a refused block, with why beside the field at fault."""
    page = render_template(
        "blocked.html",
        page="blocked",
        blocks=desk().blocklist.list(),
        durations=DURATIONS,
        default_days=DEFAULT_DAYS,
        refused=refused,
        form=form or {},
    )
    return page, status


@admin.get("/blocked")
def blocked() -> tuple[str, int]:
    return _page()


@admin.post("/blocked")
@admins_only
def block_add() -> ResponseReturnValue:
    form = {name: request.form.get(name, "") for name in ("number", "reason", "days")}
    days = next((n for n, _ in DURATIONS if str(n) == form["days"]), None)
    if days is None:
        return _page(422, refusal(FORM, [("days", "choose how long the block lasts")]), form)
    try:
        block = block_number(desk(), who(), form["number"], form["reason"], seconds=days * 86400)
    except BlockError as error:
        return _page(422, refusal(FORM, [(error.field, str(error))]), form)
    flash(f"{block.number} blocked until {block.until:%Y-%m-%d %H:%M} UTC.", "ok")
    return redirect(url_for("admin.blocked"))


@admin.post("/blocked/<block_id>/remove")
@admins_only
def block_remove(block_id: str) -> ResponseReturnValue:
    removed = unblock_id(desk(), who(), block_id)
    if removed is None:
        flash("That block had already ended or been lifted.", "error")
    else:
        flash(f"{removed.number} unblocked.", "ok")
    return redirect(url_for("admin.blocked"))
