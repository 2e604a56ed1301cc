"""The admin blueprint and what stands at its door: a login for every page,
a CSRF token on every form post, admins only for changes, and cookies that
stay on this site, out of scripts and off plain HTTP where it is public."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import redis
from flask import (
    Blueprint,
    Flask,
    Response,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from wtforms import ValidationError

from ivr.operators.accounts import Operator
from ivr.operators.sessions import SESSION_SECONDS, Sessions
from ivr.roster.parse import RosterError
from ivr.web.current import helpline
from ivr.web.desk import request_desk

admin = Blueprint(
    "admin", __name__, url_prefix="/admin", template_folder="templates", static_folder="static"
)
OPEN_ENDPOINTS = {"admin.login", "admin.static"}
# What a counselor's login may reach here: leaving (the desk is theirs).
COUNSELOR_ENDPOINTS = {"admin.logout"}
F = TypeVar("F", bound=Callable[..., Any])


def configure(app: Flask) -> None:
    settings = helpline_settings(app)
    app.config.update(
        SESSION_COOKIE_NAME="helpline_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Browsers keep Secure cookies off plain HTTP; loopback development is the exception.
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://") or settings.is_production,
        PERMANENT_SESSION_LIFETIME=SESSION_SECONDS,
        WTF_CSRF_TIME_LIMIT=SESSION_SECONDS,
    )


def helpline_settings(app: Flask) -> Any:
    return app.extensions["helpline"].settings


desk = request_desk


def sessions() -> Sessions:
    return Sessions(helpline().redis, desk().accounts)


def operator() -> Operator:
    found: Operator = g.operator
    return found


def who() -> str:
    return f"web:{operator().audit_name}"


@admin.before_request
def _door() -> ResponseReturnValue | None:
    if request.endpoint in OPEN_ENDPOINTS:
        if request.method == "POST":
            return check_csrf()
        return None
    found = sessions().find(session.get("sid", ""))
    if found is None:
        session.pop("sid", None)
        return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
    g.operator = found
    if not found.is_staff and request.endpoint not in COUNSELOR_ENDPOINTS:
        # A counselor sees their own work at the desk, never everyone's here.
        reason = "This login is a counselor's: it opens the desk, not the admin pages."
        return Response(render_template("refused.html", reason=reason), status=403)
    if request.method == "POST":
        return check_csrf()
    return None


def check_csrf() -> ResponseReturnValue | None:
    try:
        validate_csrf(request.form.get("csrf_token", ""))
    except (ValidationError, CSRFError) as error:
        return Response(
            render_template("refused.html", reason=f"This form has expired or was not ours "
                            f"({error}). Go back, reload the page and try again."),
            status=400,
        )  # fmt: skip
    return None


def admins_only(view: F) -> F:
    """Viewers read; only admins change (and open the forms that change)."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not operator().can_change:
            return Response(
                render_template("refused.html", reason="Your login may read but not change."),
                status=403,
            )
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


@admin.errorhandler(redis.RedisError)
def _store_down(error: redis.RedisError) -> tuple[str, int]:
    reason = (
        "The line's store (Redis) cannot be reached just now, so this page cannot be shown. "
        "Callers still hear the crisis numbers and reach the backup line. Try again shortly."
    )
    return render_template("refused.html", reason=reason), 503


@admin.errorhandler(RosterError)
def _roster_invalid(error: RosterError) -> tuple[str, int]:
    reason = (
        "The stored roster no longer validates, so nobody can be shown as on call. "
        "Import a corrected roster with `helpline roster import FILE`. Problems: " + str(error)
    )
    return render_template("refused.html", reason=reason), 503


@admin.app_context_processor
def _page_context() -> dict[str, Any]:
    return {"csrf_token": generate_csrf, "me": g.get("operator"), "here": {}}


def private_page(response: Response, *, inline_styles: bool = False) -> Response:
    """Pages that hold callers' references, counselors' details or a person's
    words: no shared cache, no frame, no other site. INLINE_STYLES: style
    attributes allowed (the calendar places each block by minute)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    styles = "'self' 'unsafe-inline'" if inline_styles else "'self'"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; script-src 'self'; "
        f"style-src {styles}; frame-ancestors 'none'; form-action 'self'"
    )
    return response


@admin.after_request
def _no_store(response: Response) -> ResponseReturnValue:
    return private_page(response, inline_styles=True)
