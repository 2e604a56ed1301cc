"""Who may open the desk: a counselor's login (linked to the roster
counselor it is) or an admin's (who sees everything, every reading of a
person's words audited). Viewers and strangers are sent to the login."""

from __future__ import annotations

from flask import Blueprint, Response, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from ivr.callbacks.urgent import UrgentItems
from ivr.operators.accounts import Operator
from ivr.operators.audit import AuditLog
from ivr.operators.counselor_desk import CounselorDesk
from ivr.web.admin.guard import check_csrf, private_page, sessions
from ivr.web.current import helpline

desk_pages = Blueprint(
    "desk", __name__, url_prefix="/desk", template_folder="templates", static_folder="static"
)


def me() -> Operator:
    found: Operator = g.operator
    return found


def counselor_desk() -> CounselorDesk:
    line = helpline()
    retention = line.settings.retention_seconds
    return CounselorDesk(
        line.threads,
        UrgentItems(line.redis, retention),
        line.outbox,
        line.contacts,
        AuditLog(line.redis),
        line.content,
        line.jobs,
        line.settings,
    )


@desk_pages.before_request
def _door() -> ResponseReturnValue | None:
    if request.endpoint == "desk.static":
        return None
    found = sessions().find(session.get("sid", ""))
    if found is None:
        session.pop("sid", None)
        return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
    if not (found.counselor or found.can_change):
        reason = "The desk is for counselors (and admins): this login is a viewer's."
        return Response(render_template("refused.html", reason=reason), status=403)
    g.operator = found
    if request.method == "POST":
        return check_csrf()
    return None


@desk_pages.after_request
def _private(response: Response) -> Response:
    return private_page(response)  # a person's words: strict, no inline styles
