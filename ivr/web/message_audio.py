"""A message's audio for the line's own `<Play>`, when a counselor is called
to hear it (ivr/web/voice/message_routes.py).

Twilio's recording URL cannot be played as it is: accounts made since July
2023 must send credentials for recording media ("Enforce HTTP Auth on Media
URLs", Twilio support: "Prevent unauthorized access to your Programmable Voice
Media with HTTP Basic Auth"), and `<Play>` sends none. So the `<Play>` points
here: a link signed with the line's secret, for one message and one
counselor, good for ten minutes; the line fetches the audio with its own
credentials (as the admin's player does) and passes it on."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ivr.callbacks.urgent import UrgentItems
from ivr.platform.twilio_transport import TransportError, open_recording
from ivr.web.current import helpline

log = logging.getLogger("helpline.messages")
message_audio = Blueprint("message_audio", __name__)
LINK_SECONDS = 600  # the call plays it within seconds; again on request for a while
AUDIO_CHUNK = 64 * 1024
_SALT = "message-audio"


def _signer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def audio_token(secret_key: str, reference: str, counselor_id: str) -> str:
    return _signer(secret_key).dumps([reference, counselor_id])


@message_audio.get("/media/messages/<token>")
def play(token: str) -> Response:
    line = helpline()
    try:
        reference, counselor_id = _signer(line.settings.secret_key).loads(
            token, max_age=LINK_SECONDS
        )
    except (BadSignature, ValueError, TypeError):
        abort(404)
    item = UrgentItems(line.redis, line.settings.retention_seconds).get(str(reference))
    # Only for the counselor who took it by pressing 1 (the route claims first).
    if item is None or item.kind != "message" or item.claimed_by != counselor_id:
        abort(404)
    try:
        audio = open_recording(line.settings, item.subject)
    except (TransportError, ValueError) as error:
        log.warning("message %s: the recording could not be fetched: %s", reference, error)
        abort(502)
    response = Response(
        audio.iter_content(AUDIO_CHUNK), content_type="audio/x-wav", direct_passthrough=True
    )
    response.headers["Cache-Control"] = "no-store"
    return response
