"""Twilio's Recording resource (api v2010), on the REST blueprint:

    GET  Recordings/{RE…}.json   the resource (api.v2010.account.recording)
    GET  Recordings/{RE…}.wav    the audio, audio/x-wav
    GET  Recordings/{RE…}        the same audio (Twilio's default is WAV)

MP3 (`.mp3`), which Twilio also offers, is not: 404, as for an unknown SID.
"""

from __future__ import annotations

from flask import Response, jsonify, request

from twilio_emulator.errors import twilio_error
from twilio_emulator.recordings import wav
from twilio_emulator.rest import network, rest


@rest.get("/Recordings/<name>")
def fetch_recording(account_sid: str, name: str) -> Response:
    sid, _, extension = name.partition(".")
    found = network().recording(sid)
    if found is None or extension not in ("", "json", "wav"):
        raise twilio_error(20404, path=request.path)
    if extension == "json":
        return jsonify(found.resource())
    return Response(wav(found.seconds), mimetype="audio/x-wav")
