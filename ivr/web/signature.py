"""Twilio-facing routes accept only requests Twilio signed.

One `before_request` hook per Twilio-facing blueprint, so no route in it can be
added unguarded. The URL checked is the public one Twilio was given (never what
a proxy made of it), and repeated form keys are kept, as Twilio signs them.
Checking is never switched off: development signs with a local token.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from flask import Blueprint, Response, request
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    compare,
    get_signature_algorithm,
)

from ivr.golive.overrides import OVERRIDDEN_PATHS, OVERRIDES
from ivr.web.current import helpline
from ivr.web.request_log import name_the_call

log = logging.getLogger("helpline.signature")


# What werkzeug's url building leaves unquoted in a path segment (its default
# converter's `to_url`).
_PATH_SAFE = "!$&'()*+,/:;=@"


def requested_url(public_url: str) -> str:
    """The URL Twilio requested, rebuilt from the public base URL."""
    query = request.query_string.decode("latin-1")
    # Twilio signs the URL exactly as we gave it, which url_for percent-encoded;
    # request.path is decoded. Encode it again the same way, or a step URL with
    # a space or an accent in it (from a node id, say) is refused as unsigned.
    path = quote(request.path, safe=_PATH_SAFE)
    return public_url + path + (f"?{query}" if query else "")


def request_is_signed() -> bool:
    settings = helpline().settings
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        return False
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    validator = RequestValidator(settings.twilio_auth_token)
    url = requested_url(settings.public_url)
    candidates = [url]
    if request.path in OVERRIDDEN_PATHS:
        # The number's Voice and SMS URLs carry connection overrides in their
        # fragment (ivr/golive/overrides.py), which HTTP never sends: accept a
        # signature over the URL with it as well as without.
        candidates.append(f"{url}#{OVERRIDES}")
    return any(_signed_over(validator, c, signature, algorithm) for c in candidates)


def _signed_over(
    validator: RequestValidator, url: str, signature: str, algorithm: str | None
) -> bool:
    """Twilio signs the URL as it was given, which is what `url` rebuilds: one
    HMAC settles nearly every request. Only a mismatch runs the library's full
    check, which tries the URL with and without its port (two more)."""
    try:
        if compare(validator.compute_signature(url, request.form, algorithm), signature):
            return True
    except ValueError:  # an algorithm the library does not know: refused below
        pass
    return bool(validator.validate(url, request.form, signature, algorithm))


def _require_signature() -> Response | None:
    if request_is_signed():
        return None
    log.warning("refused an unsigned or wrongly signed request to %s", request.path)
    return Response("Twilio signature missing or invalid\n", status=403, mimetype="text/plain")


def guard(blueprint: Blueprint) -> Blueprint:
    """Mark a blueprint Twilio-facing: every route in it checks the signature.
    Its requests are named by their call or text first (blueprint hooks run
    after the app's, so after the body size check), signed or not."""
    blueprint.before_request(name_the_call)
    blueprint.before_request(_require_signature)
    blueprint.twilio_signed = True  # type: ignore[attr-defined]
    return blueprint
