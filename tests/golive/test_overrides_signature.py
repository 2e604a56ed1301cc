"""The number's front doors carry connection overrides in their fragment,
which HTTP never sends. Whether Twilio signs the URL with it or without, the
line accepts the request; anything else signed is still refused."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from ivr.golive.overrides import OVERRIDES
from tests.conftest import PUBLIC_URL
from tests.twilio_signing import TwilioSigner, new_call_sid


def _call() -> MultiDict[str, str]:
    return MultiDict(
        {
            "CallSid": new_call_sid(),
            "From": "+12025550123",
            "To": "+18885550100",
            "CallStatus": "ringing",
        }
    )


def _text() -> MultiDict[str, str]:
    return MultiDict(
        {"MessageSid": "SM" + "1" * 32, "From": "+12025550123", "To": "+18885550100", "Body": "hi"}
    )


@pytest.mark.parametrize(("path", "form"), [("/voice/incoming", _call), ("/sms/incoming", _text)])
@pytest.mark.parametrize("fragment", ["", f"#{OVERRIDES}"])
def test_a_front_door_accepts_twilio_signing_with_or_without_the_fragment(
    twilio: TwilioSigner, path: str, form: object, fragment: str
) -> None:
    params = form()  # type: ignore[operator]
    signature = twilio.sign(PUBLIC_URL + path + fragment, params)
    response = twilio.post(path, params, signature=signature)
    assert response.status_code == 200
    assert b"<Response" in response.data


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("/voice/incoming", "#ct=9999"),  # another fragment: not what we configured
        ("/voice/status", f"#{OVERRIDES}"),  # not a front door: no fragment there
    ],
)
def test_other_fragments_are_still_refused(twilio: TwilioSigner, path: str, fragment: str) -> None:
    params = _call()
    signature = twilio.sign(PUBLIC_URL + path + fragment, params)
    assert twilio.post(path, params, signature=signature).status_code == 403
