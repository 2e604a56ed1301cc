"""Logging in and out of the pages: by name and password (set with
`helpline password set`), or by pasting an API token. Repeated failures back
off per name (from one address) and per address; the address is the client's,
from X-Forwarded-For when HELPLINE_TRUSTED_PROXIES says how many proxies set it.

Every outcome is audited: a login in the main log, a failed one in the failed
logins log (`AuditLog.record_failed_login`). Neither ever holds what was typed
unless it names an account: a number or a password typed into the Name field
would otherwise be there for every viewer to read."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from ivr.operators.accounts import Operator
from ivr.web.admin.guard import admin, desk, sessions


@admin.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    target = _safe_next(request.values.get("next", ""))
    if request.method == "GET":
        return render_template("login.html", next=target, error=None)
    name = request.form.get("name", "").strip().lower()[:64]
    secret = request.form.get("secret", "")
    address = request.remote_addr or "unknown"
    throttle = desk().throttle
    # Token logins back off per token id (and per address), so bad guesses at
    # one token never lock out everyone else who logs in with theirs.
    counted = _token_id(secret) if secret.startswith("hl_") else name or "(no name)"
    wait = throttle.wait_seconds(counted, address)
    if wait > 0:
        message = f"Too many failed logins. Try again in {wait} seconds."
        return Response(render_template("login.html", next=target, error=message), status=429)
    found = _verify(name, secret)
    if found is None:
        throttle.failed(counted, address)
        desk().audit.record_failed_login(_failed_who(name, secret), address)
        message = "That name and password, or that token, did not match."
        return Response(render_template("login.html", next=target, error=message), status=401)
    throttle.succeeded(counted, address)
    old = session.get("sid")
    if old:
        sessions().close(old)
    session.clear()  # a fresh session: nothing from before the login survives it
    session["sid"] = sessions().open(found)
    session.permanent = True
    desk().audit.record(f"web:{found.audit_name}", "login", found.credential.split(":")[0])
    if not found.is_staff and not target.startswith("/desk"):
        target = url_for("desk.index")  # a counselor's login opens the desk
    return redirect(target)


def _failed_who(name: str, secret: str) -> str:
    """Who a failed login was for, as far as it named an account; else only
    that it named none."""
    accounts = desk().accounts
    if secret.startswith("hl_"):
        info = accounts.token(secret.strip().split("_")[1])
        if info is None:
            return "web:(unknown token)"
        return "web:" + Operator(info.name, info.role, f"token:{info.id}").audit_name
    if accounts.password_role(name) is None:
        return "web:(unknown name)"
    return f"web:{name}"


def _token_id(secret: str) -> str:
    parts = secret.strip().split("_")
    token_id = parts[1] if len(parts) >= 3 else ""
    return "token-" + (token_id if token_id.isalnum() and len(token_id) <= 16 else "malformed")


def _verify(name: str, secret: str) -> Operator | None:
    accounts = desk().accounts
    if secret.startswith("hl_"):
        return accounts.verify_token(secret.strip())
    if not name or not secret:
        return None
    return accounts.verify_password(name, secret)


@admin.post("/logout")
def logout() -> ResponseReturnValue:
    sid = session.pop("sid", "")
    if sid:
        sessions().close(sid)
    session.clear()
    return redirect(url_for("admin.login"))


def _safe_next(target: str) -> str:
    """Only a path on this site: never an open redirect to somewhere else."""
    parts = urlsplit(target)
    inside = target.startswith("/admin") or target.startswith("/desk")
    if parts.scheme or parts.netloc or not inside or "\\" in target:
        return url_for("admin.now")
    return target
