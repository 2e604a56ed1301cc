"""The emulator's own JSON API, under `/_emulator/`: drive virtual phones,
inject faults, look at everything that happened, start over.

    GET  /_emulator/                       what is here
    GET  /_emulator/log                    REST requests the line made, webhooks sent
    GET  /_emulator/messages               every message, with its status history
    POST /_emulator/messages               a phone texts the line {"from", "body", "to"?}
    GET  /_emulator/calls[/<sid>]          every call leg, with its TwiML history
    POST /_emulator/calls                  a phone calls the line {"from", "to"?, "script"?}
    GET  /_emulator/phones                 scripts set
    POST /_emulator/phones/<number>/script {"answer", "steps", "talk_seconds", "ring_seconds",
                                            "single_line"}
    POST /_emulator/phones/<number>/opt-out {"opted_out": true|false}
    POST /_emulator/phones/<number>/interactive {"interactive"?: true|false}
                                           a person plays the phone (interactive.py);
                                           answers `next`, the first event to read
    GET  /_emulator/phones/<number>/events?after=N&wait=S
                                           what it heard since event N (waits up to S s)
    POST /_emulator/phones/<number>/input  {"answer": true} | {"digits": "1"} |
                                           {"speech": "words"} | {"hangup": true}
    GET  /_emulator/queues                 every queue and who waits in it
    GET  /_emulator/faults                 faults waiting
    POST /_emulator/faults                 {"resource": "messages"|"calls", "code"?, "status"?,
                                            "delivery"?, "delay"?, "drop"?, "count"?}
    POST /_emulator/reset                  forget everything

Meant for a developer's machine and tests: it has no authentication, so the
emulator listens on the loopback interface only unless told otherwise.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from twilio_emulator.faults import RESOURCES, Fault, FaultError
from twilio_emulator.interactive import InteractivePhone
from twilio_emulator.phones import Script, ScriptError
from twilio_emulator.rest import network

control = Blueprint("emulator_control", __name__, url_prefix="/_emulator")


class BadRequest(Exception):
    pass


@control.errorhandler(BadRequest)
@control.errorhandler(ScriptError)
@control.errorhandler(FaultError)
def _bad_request(error: Exception) -> Response:
    response = jsonify({"error": str(error)})
    response.status_code = 400
    return response


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if data is None and not request.data:
        return {}
    if not isinstance(data, dict):
        raise BadRequest("send a JSON object")
    return data


def _text(data: dict[str, Any], name: str, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{name!r} must be a non-empty string")
    return value


def _required(data: dict[str, Any], name: str) -> str:
    value = _text(data, name)
    assert value is not None
    return value


def _created(payload: dict[str, Any]) -> Response:
    response = jsonify(payload)
    response.status_code = 201
    return response


@control.get("/")
def index() -> Response:
    net = network()
    return jsonify(
        {
            "account_sid": net.config.account_sid,
            "line_number": net.config.line_number,
            "line_url": net.config.line_url,
            "public_url": net.config.base_url,
            "rest_base": f"{request.host_url.rstrip('/')}/2010-04-01",
            "help": __doc__,
        }
    )


@control.get("/log")
def log() -> Response:
    net = network()
    with net.lock:
        requests = list(net.requests)
        notes = list(net.notes)
    return jsonify(
        {
            "requests": requests,
            "webhooks": [delivery.as_json() for delivery in net.webhooks.log()],
            "notes": notes,
        }
    )


@control.get("/messages")
def messages() -> Response:
    return jsonify({"messages": network().snapshot_messages()})


@control.post("/messages")
def text_line() -> Response:
    data = _body()
    sender, body = _required(data, "from"), _required(data, "body")
    inbound = network().text_line(sender, body, _text(data, "to", required=False))
    return _created(
        {
            "message": inbound.message.inspect(),
            "line_status": inbound.delivery.status,
            "line_error": inbound.delivery.error,
            "replies": [reply.inspect() for reply in inbound.replies],
        }
    )


@control.get("/calls")
def calls() -> Response:
    return jsonify({"calls": network().snapshot_calls()})


@control.get("/calls/<sid>")
def call(sid: str) -> Response:
    net = network()
    with net.lock:
        if sid not in net.calls:
            raise BadRequest(f"no call {sid}")
    return jsonify(net.snapshot_calls([sid])[0])


@control.post("/calls")
def call_line() -> Response:
    data = _body()
    caller = _required(data, "from")
    script_data = data.get("script")
    if script_data is not None and not isinstance(script_data, dict):
        raise BadRequest("'script' must be an object")
    script = Script.from_json(script_data) if script_data is not None else None
    record = network().call_line(caller, script_=script, to=_text(data, "to", required=False))
    return _created(record.inspect())


@control.get("/phones")
def phones() -> Response:
    return jsonify({"phones": network().phones.all()})


@control.post("/phones/<number>/script")
def set_script(number: str) -> Response:
    script = Script.from_json(_body())
    network().phones.set(number, script)
    return jsonify({"number": number, "script": script.as_json()})


@control.post("/phones/<number>/opt-out")
def opt_out(number: str) -> Response:
    opted_out = _body().get("opted_out", True)
    if not isinstance(opted_out, bool):
        raise BadRequest("'opted_out' must be true or false")
    net = network()
    (net.opt_out if opted_out else net.opt_in)(number)
    return jsonify({"number": number, "opted_out": opted_out})


@control.get("/faults")
def faults() -> Response:
    return jsonify({"faults": network().faults.pending()})


@control.post("/faults")
def add_fault() -> Response:
    data = dict(_body())
    resource = data.pop("resource", None)
    if resource not in RESOURCES:
        raise BadRequest(f"'resource' must be one of {', '.join(RESOURCES)}")
    net = network()
    net.faults.add(resource, Fault.from_json(data))
    return _created({"faults": net.faults.pending()})


@control.post("/reset")
def reset() -> Response:
    network().reset()
    return jsonify({"reset": True})


@control.post("/phones/<number>/interactive")
def set_interactive(number: str) -> Response:
    wanted = _body().get("interactive", True)
    if not isinstance(wanted, bool):
        raise BadRequest("'interactive' must be true or false")
    net = network()
    if not wanted:
        net.phones.set_interactive(number, None)
        return jsonify({"number": number, "interactive": False})
    # `next`: the first event for this person to read, taken as the phone is
    # made theirs, so a call that rings before their first read is not missed.
    return jsonify(
        {"number": number, "interactive": True, "next": net.interactive(number).cursor()}
    )


def _person(number: str) -> InteractivePhone:
    phone = network().phones.interactive(number)
    if phone is None:
        raise BadRequest(
            f"{number} is not interactive: POST /_emulator/phones/{number}/interactive"
        )
    return phone


@control.get("/phones/<number>/events")
def phone_events(number: str) -> Response:
    try:
        after = int(request.args.get("after", "0"))
        wait = float(request.args.get("wait", "0"))
    except ValueError as error:
        raise BadRequest("after and wait must be numbers") from error
    return jsonify(_person(number).events(after, wait))


@control.post("/phones/<number>/input")
def phone_input(number: str) -> Response:
    phone = _person(number)
    phone.push(_body())
    response = jsonify({"number": number, "accepted": True})
    response.status_code = 202
    return response


@control.get("/queues")
def queues() -> Response:
    return jsonify({"queues": network().queues.inspect()})
