"""Twilio's REST API, api v2010, the part the line uses: Messages (create,
list, fetch) and Calls (create, list, fetch, update), under
`/2010-04-01/Accounts/{AccountSid}/`, with HTTP basic auth (account SID and
auth token).

Request parameters are the ones the official client sends (`To`, `From`,
`Body`, `StatusCallback`, `Url`, `Twiml`, `Method`, `FallbackUrl`,
`StatusCallbackEvent`, `Timeout`, `MachineDetection`, `Status`, `PageSize`,
`Page`), checked against the api v2010 description in twilio/twilio-oai
(spec/json/twilio_api_v2010.json: `call_enum_update_status` is
`canceled|completed`; lists page with `page`, `page_size`, `first_page_uri`,
`next_page_uri`, `previous_page_uri`, `start`, `end`, `uri` beside the
`messages`/`calls` key). Faults waiting for a resource are applied here.
"""

from __future__ import annotations

import contextlib
import socket
import time
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from ivr.platform.config import is_e164
from twilio_emulator.errors import TwilioError, twilio_error
from twilio_emulator.faults import Fault, Resource
from twilio_emulator.ids import API_VERSION
from twilio_emulator.messaging import new_outbound
from twilio_emulator.network import Network
from twilio_emulator.records import CallRecord, MessageRecord
from twilio_emulator.rest_common import created, page, valid_url
from twilio_emulator.twiml import End, Goto

rest = Blueprint("twilio_rest", __name__, url_prefix=f"/{API_VERSION}/Accounts/<account_sid>")

UPDATE_SETTLE_SECONDS = 2.0  # how long a hang-up update waits to report the call ended
STATUS_CODES = {429: 20429, 500: 20500, 503: 20503, 404: 20404, 401: 20003}


def network() -> Network:
    found: Network = current_app.extensions["twilio_emulator"]
    return found


def _form() -> dict[str, Any]:
    return {key: values if len(values) > 1 else values[0] for key, values in request.values.lists()}


@rest.before_request
def _authenticate() -> Response | None:
    config = network().config
    auth = request.authorization
    if (
        auth is None
        or auth.type != "basic"
        or auth.username != config.account_sid
        or auth.password != config.auth_token
    ):
        return _error(twilio_error(20003))
    if (request.view_args or {}).get("account_sid") != config.account_sid:
        return _error(twilio_error(20404, path=request.path))
    return None


@rest.after_request
def _log(response: Response) -> Response:
    network().log_request(
        {
            "method": request.method,
            "path": request.path,
            "params": _form(),
            "status": response.status_code,
            "dropped": bool(g.get("emulator_dropped")),
            "error_code": g.get("emulator_error_code"),
        }
    )
    return response


@rest.errorhandler(TwilioError)
def _twilio_error(error: TwilioError) -> Response:
    return _error(error)


def _error(error: TwilioError) -> Response:
    g.emulator_error_code = error.code  # in the request log: why a create was refused
    response = jsonify(error.body())
    response.status_code = error.status
    return response


def _drop() -> Response:
    """Close the connection with no answer at all, as a network failure would."""
    connection = request.environ.get("werkzeug.socket") or request.environ.get("gunicorn.socket")
    if isinstance(connection, socket.socket):
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)
    g.emulator_dropped = True
    return Response(status=500)


def _apply(fault: Fault | None) -> Response | None:
    """A waiting fault's effect on this create: a response to give instead, or None."""
    if fault is None:
        return None
    if fault.delay:
        time.sleep(fault.delay)
    if fault.drop:
        return _drop()
    if fault.code is not None or fault.status is not None:
        code = fault.code if fault.code is not None else STATUS_CODES.get(fault.status or 500, 0)
        return _error(twilio_error(code, status=fault.status, to=str(request.values.get("To"))))
    return None


def _take(resource: Resource) -> tuple[Fault | None, Response | None]:
    request.form.to_dict()  # read the whole request before any fault cuts the connection
    fault = network().faults.take(resource)
    return fault, _apply(fault)


# -- Messages ----------------------------------------------------------------


@rest.post("/Messages.json")
def create_message(account_sid: str) -> Response:
    fault, answer = _take("messages")
    if answer is not None:
        return answer
    net = network()
    record = new_outbound(net, request.form)
    resource = record.resource()  # as accepted, before the carrier moves it on
    net.send_message(record, fault.delivery if fault else None)
    return created(resource)


def _when(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as error:
        raise twilio_error(20001, detail=f"{name} must be an ISO 8601 date") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _sent_between(message: MessageRecord) -> bool:
    """Twilio's `DateSent`, `DateSent<`, `DateSent>` filters (inclusive, by date
    for `DateSent` alone). A message not sent yet has no date_sent and is left
    out by any of them."""
    on, before, after = _when("DateSent"), _when("DateSent<"), _when("DateSent>")
    if on is None and before is None and after is None:
        return True
    sent = message.date_sent
    if sent is None:
        return False
    return (
        (on is None or sent.date() == on.date())
        and (before is None or sent <= before)
        and (after is None or sent >= after)
    )


@rest.get("/Messages.json")
def list_messages(account_sid: str) -> Response:
    to, from_ = request.args.get("To"), request.args.get("From")
    net = network()
    with net.lock:
        chosen = [
            m.resource()
            for m in reversed(list(net.messages.values()))
            if (to is None or m.to == to)
            and (from_ is None or m.from_ == from_)
            and _sent_between(m)
        ]
    return page("messages", chosen)


@rest.get("/Messages/<sid>.json")
def fetch_message(account_sid: str, sid: str) -> Response:
    net = network()
    with net.lock:
        record = net.messages.get(sid)
        if record is None:
            raise twilio_error(20404, path=request.path)
        return jsonify(record.resource())


# -- Calls -------------------------------------------------------------------


@rest.post("/Calls.json")
def create_call(account_sid: str) -> Response:
    _, answer = _take("calls")
    if answer is not None:
        return answer
    net = network()
    form = request.form
    to, from_ = form.get("To", "").strip(), form.get("From", "").strip()
    url, twiml = form.get("Url", "").strip(), form.get("Twiml")
    if not to:
        raise twilio_error(21201)
    if not from_:
        raise twilio_error(21213)
    if twiml is None and not valid_url(url):
        raise twilio_error(21205, url=url)
    if not is_e164(to):
        raise twilio_error(21211, to=to)
    if from_ not in net.owned_numbers:
        raise twilio_error(21210, from_=from_)
    try:
        timeout = max(1, min(600, int(form.get("Timeout", "60"))))
    except ValueError as error:
        raise twilio_error(20001, detail="Timeout must be a number") from error
    events = tuple(
        event
        for value in form.getlist("StatusCallbackEvent")
        for event in value.replace(",", " ").split()
    )
    record = CallRecord(
        account_sid=net.config.account_sid,
        to=to,
        from_=from_,
        url=url or None,
        method=form.get("Method", "POST").upper(),
        twiml=twiml,
        fallback_url=form.get("FallbackUrl") or None,
        fallback_method=form.get("FallbackMethod", "POST").upper(),
        status_callback=form.get("StatusCallback") or None,
        status_callback_method=form.get("StatusCallbackMethod", "POST").upper(),
        status_callback_events=events or ("completed",),
        timeout=timeout,
        machine_detection=form.get("MachineDetection") or None,
    )
    resource = record.resource()  # queued, before the phone starts ringing
    net.place_call(record)
    return created(resource)


@rest.get("/Calls.json")
def list_calls(account_sid: str) -> Response:
    wanted = {
        name: request.args.get(param)
        for name, param in (("to", "To"), ("from_", "From"), ("status", "Status"))
    }
    parent = request.args.get("ParentCallSid")
    net = network()
    with net.lock:
        chosen = [
            c.resource()
            for c in reversed(list(net.calls.values()))
            if all(value is None or getattr(c, name) == value for name, value in wanted.items())
            and (parent is None or c.parent_call_sid == parent)
        ]
    return page("calls", chosen)


@rest.get("/Calls/<sid>.json")
def fetch_call(account_sid: str, sid: str) -> Response:
    net = network()
    with net.lock:
        record = net.calls.get(sid)
        if record is None:
            raise twilio_error(20404, path=request.path)
        return jsonify(record.resource())


@rest.post("/Calls/<sid>.json")
def update_call(account_sid: str, sid: str) -> Response:
    net = network()
    with net.lock:
        record = net.calls.get(sid)
    if record is None:
        raise twilio_error(20404, path=request.path)
    form = request.form
    status = form.get("Status")
    url, twiml = form.get("Url", "").strip(), form.get("Twiml")
    if status is not None and status not in ("completed", "canceled"):
        raise twilio_error(20001, detail="Status must be completed or canceled")
    if status is not None:
        ringing = record.status in ("queued", "ringing")
        if (status == "completed" or ringing) and net.update_call(sid, End(status, by="api")):
            net.wait_until(lambda: record.finished, UPDATE_SETTLE_SECONDS)
    elif twiml is not None or url:
        if twiml is None and not valid_url(url):
            raise twilio_error(21205, url=url)
        if record.status != "in-progress" or not net.update_call(
            sid, Goto(url, {}, form.get("Method", "POST").upper(), twiml)
        ):
            raise twilio_error(21220)
    with net.lock:
        return jsonify(record.resource())
