"""Every Twilio-facing route refuses what Twilio did not sign."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from flask import Blueprint, Flask, Response
from werkzeug.datastructures import MultiDict

from ivr.app import create_app
from ivr.content.model import Content
from ivr.web.signature import guard
from tests.conftest import RedisServer, make_settings
from tests.twilio_signing import TwilioSigner, new_call_sid

# Twilio's own test vectors (twilio-python tests/unit/test_request_validator.py),
# auth token 12345.
VECTOR_TOKEN = "12345"
BASE_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
REPEATED_PARAMS = MultiDict(
    [
        ("Sid", "CA123"),
        ("SidAccount", "AC123"),
        ("Digits", "5678"),
        ("Digits", "1234"),
        ("Digits", "1234"),
    ]
)


@pytest.fixture
def vector_app(
    redis_server: RedisServer, tmp_path: Path, content: Content
) -> Callable[[str], Flask]:
    """The line, plus one guarded route at Twilio's example path."""

    def build(public_url: str) -> Flask:
        settings = make_settings(
            redis_server.url,
            tmp_path,
            TWILIO_AUTH_TOKEN=VECTOR_TOKEN,
            HELPLINE_PUBLIC_URL=public_url,
        )
        app = create_app(settings, content)
        example = guard(Blueprint("example", __name__))
        example.add_url_rule("/myapp.php", "myapp", lambda: Response("ok"), methods=["POST"])
        app.register_blueprint(example)
        return app

    return build


@pytest.mark.parametrize(
    ("public_url", "params", "signature"),
    [
        ("https://mycompany.com", BASE_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ("https://mycompany.com", BASE_PARAMS, "kvajT1Ptam85bY51eRf/AJRuM3w="),  # signed with :443
        ("http://mycompany.com:1234", BASE_PARAMS, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
        ("http://mycompany.com", BASE_PARAMS, "0ZXoZLH/DfblKGATFgpif+LLRf4="),  # signed with :80
        ("https://mycompany.com", REPEATED_PARAMS, "IK+Dwps556ElfBT0I3Rgjkr1wJU="),
    ],
)
def test_twilio_vectors_are_accepted(
    vector_app: Callable[[str], Flask], public_url: str, params: object, signature: str
) -> None:
    client = vector_app(public_url).test_client()
    form = params if isinstance(params, MultiDict) else MultiDict(params)  # type: ignore[arg-type]
    response = client.post(
        "/myapp.php?foo=1&bar=2", data=form, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 200


def test_a_dropped_repeated_key_breaks_the_signature(vector_app: Callable[[str], Flask]) -> None:
    client = vector_app("https://mycompany.com").test_client()
    only_last = MultiDict([(k, v) for k, v in REPEATED_PARAMS.to_dict().items()])
    response = client.post(
        "/myapp.php?foo=1&bar=2",
        data=only_last,
        headers={"X-Twilio-Signature": "IK+Dwps556ElfBT0I3Rgjkr1wJU="},
    )
    assert response.status_code == 403


def test_the_query_string_is_part_of_what_is_signed(vector_app: Callable[[str], Flask]) -> None:
    client = vector_app("https://mycompany.com").test_client()
    response = client.post(
        "/myapp.php?foo=1&bar=3",
        data=MultiDict(BASE_PARAMS),
        headers={"X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
    )
    assert response.status_code == 403


def twilio_routes(app: Flask) -> list[str]:
    """Every POST route of every Twilio-facing (guarded) blueprint."""
    guarded = {name for name, bp in app.blueprints.items() if getattr(bp, "twilio_signed", False)}
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in guarded and "POST" in (rule.methods or ()):
            path = rule.rule.replace("<node_id>", "main")
            routes.append(path)
    return sorted(routes)


def test_every_post_route_outside_operator_surfaces_is_twilio_guarded(app: Flask) -> None:
    """A new webhook route cannot be added without the signature check."""
    guarded = {name for name, bp in app.blueprints.items() if getattr(bp, "twilio_signed", False)}
    operator_prefixes = ("/api/", "/admin", "/desk/")  # sessions and CSRF, not Twilio
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()) or rule.rule.startswith(operator_prefixes):
            continue
        assert rule.endpoint.split(".")[0] in guarded, f"{rule.rule} is not signature-checked"
    assert {"/voice/incoming", "/voice/status", "/sms/incoming", "/sms/status"} <= set(
        twilio_routes(app)
    )


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl", "wrong"])
def test_every_twilio_route_refuses_a_missing_or_wrong_signature(
    app: Flask, redis_client: redis.Redis, signature: str | None
) -> None:
    client = app.test_client()
    for path in twilio_routes(app):
        headers = {} if signature is None else {"X-Twilio-Signature": signature}
        response = client.post(
            path, data={"CallSid": new_call_sid(), "From": "+12025550123"}, headers=headers
        )
        assert response.status_code == 403, path
    assert redis_client.dbsize() == 0, list(redis_client.scan_iter())  # and nothing changed


def test_a_signature_for_other_fields_is_refused(twilio: TwilioSigner) -> None:
    params = {"CallSid": new_call_sid(), "From": "+12025550123"}
    good = twilio.sign(twilio.public_url + "/voice/incoming", MultiDict(params))
    tampered = {**params, "From": "+12025550999"}
    assert twilio.post("/voice/incoming", tampered, signature=good).status_code == 403
    assert twilio.post("/voice/incoming", params, signature=good).status_code == 200


def test_a_signature_for_another_host_is_refused(twilio: TwilioSigner) -> None:
    params = {"CallSid": new_call_sid(), "From": "+12025550123"}
    elsewhere = twilio.sign("https://attacker.example/voice/incoming", MultiDict(params))
    assert twilio.post("/voice/incoming", params, signature=elsewhere).status_code == 403
