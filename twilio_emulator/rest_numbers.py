"""Twilio's IncomingPhoneNumber resource (api v2010), on the REST blueprint:

    GET   IncomingPhoneNumbers.json          list; `PhoneNumber` (partial, `*`
                                             for any digit), `FriendlyName`
    GET   IncomingPhoneNumbers/{PN…}.json    fetch
    POST  IncomingPhoneNumbers/{PN…}.json    update: `VoiceUrl`, `VoiceMethod`,
          `VoiceFallbackUrl`, `VoiceFallbackMethod`, `StatusCallback`,
          `StatusCallbackMethod`, `SmsUrl`, `SmsMethod`, `SmsFallbackUrl`,
          `SmsFallbackMethod`, `FriendlyName`, `VoiceCallerIdLookup`

Lists page like Calls and Messages under the `incoming_phone_numbers` key. A
refused update (21402, 21403, 21405, 21406) changes nothing.
"""

from __future__ import annotations

from flask import Response, jsonify, request

from twilio_emulator.errors import twilio_error
from twilio_emulator.numbers import IncomingNumber, NumberBook, apply_update, matches
from twilio_emulator.rest import network, rest
from twilio_emulator.rest_common import page


def _book() -> NumberBook:
    return network().numbers


def _one(sid: str) -> IncomingNumber:
    found = _book().get(sid)
    if found is None:
        raise twilio_error(20404, path=request.path)
    return found


@rest.get("/IncomingPhoneNumbers.json")
def list_numbers(account_sid: str) -> Response:
    wanted, name = request.args.get("PhoneNumber"), request.args.get("FriendlyName")
    book = _book()
    with book.lock:
        chosen = [
            n.resource()
            for n in book.all()
            if (wanted is None or matches(wanted, n.phone_number))
            and (name is None or n.friendly_name == name)
        ]
    return page("incoming_phone_numbers", chosen)


@rest.get("/IncomingPhoneNumbers/<sid>.json")
def fetch_number(account_sid: str, sid: str) -> Response:
    with _book().lock:
        return jsonify(_one(sid).resource())


@rest.post("/IncomingPhoneNumbers/<sid>.json")
def update_number(account_sid: str, sid: str) -> Response:
    with _book().lock:
        number = _one(sid)
        apply_update(number, request.form.to_dict())
        return jsonify(number.resource())
