"""Every request gets an id, and one access line in the line's log format.

The id is Twilio's `I-Twilio-Idempotency-Token` when there is one (unique per
webhook delivery, and the id Twilio's own request inspector shows), else a
proxy's `X-Request-Id`, else a fresh one; a header value is used only when it
is short and plain, so nothing a client sends can forge or break a log line.
It is bound for every line logged during the request and returned in the
`X-Request-Id` response header.

A Twilio-facing request is also named by its call or text, as a hash of its
CallSid / MessageSid (`ivr.platform.privacy.sid_ref`). Nothing else of a request is
logged: the path without its query string, the method, the status, the time.
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from flask import Flask, Response, g, request

from ivr.platform import logs
from ivr.platform.privacy import sid_ref

log = logging.getLogger("helpline.access")

HEADER = "X-Request-Id"
TWILIO_HEADER = "I-Twilio-Idempotency-Token"
# Letters, digits and a few separators (UUIDs, Twilio's tokens, most proxies'
# ids); nothing that could end a line, quote a field or fill a disk.
_PLAIN = re.compile(r"[A-Za-z0-9._:=+/@-]{1,128}")
_LONGEST_PATH = 256  # in a log line


def init_app(app: Flask) -> None:
    """Registered before any other `before_request` hook, so even a request the
    next hook refuses (413) gets its id and its access line."""
    app.before_request(_begin)
    app.after_request(_access_line)
    app.teardown_request(_end)


def request_id() -> str:
    """The id of the request being handled (made now if none was given yet)."""
    found = g.get("request_id")
    if not isinstance(found, str):
        found = g.request_id = _chosen_id()
    return found


def _chosen_id() -> str:
    for header in (TWILIO_HEADER, HEADER):
        value = request.headers.get(header, "")
        if _PLAIN.fullmatch(value):
            return value
    return secrets.token_hex(8)


# Paths that carry a capability (a signed link to a message's audio): logged
# without it, so that a log reader cannot replay it.
_SECRET_PATHS = ("/media/messages/",)


def _path() -> str:
    path = request.path
    for prefix in _SECRET_PATHS:
        if path.startswith(prefix):
            return prefix + "…"
    return path if len(path) <= _LONGEST_PATH else path[:_LONGEST_PATH] + "…"


def _begin() -> None:
    g.request_started = time.perf_counter()
    logs.begin(request_id=request_id(), method=request.method[:16], path=_path())


def name_the_call() -> None:
    """Bind the call's or text's hash: a hook of every Twilio-facing blueprint
    (ivr.web.signature.guard). It reads the form, so never before the body size
    check, which the app runs ahead of every blueprint's hooks."""
    fields: dict[str, str] = {}
    call = request.form.get("CallSid", "")
    text = request.form.get("MessageSid", "") or request.form.get("SmsSid", "")
    if call:
        fields["call"] = sid_ref(call)
    if text:
        fields["sms"] = sid_ref(text)
    logs.bind(**fields)


def _access_line(response: Response) -> Response:
    rid = request_id()
    response.headers[HEADER] = rid
    started = g.get("request_started")
    elapsed = time.perf_counter() - started if isinstance(started, float) else 0.0
    duration_ms = round(elapsed * 1000, 1)
    status = response.status_code
    log.log(
        logging.WARNING if status >= 500 else logging.INFO,
        "%s %s %s %sms",
        request.method[:16],
        _path(),
        status,
        duration_ms,
        extra={"request_id": rid, "status": status, "duration_ms": duration_ms},
    )
    return response


def _end(_error: BaseException | None) -> None:
    logs.clear()
