"""Twilio's Queue and Member resources (api v2010), on the REST blueprint:

    GET/POST  Queues.json                          list / create (FriendlyName, MaxSize)
    GET/POST  Queues/{QueueSid}.json               fetch / update (FriendlyName, MaxSize)
    DELETE    Queues/{QueueSid}.json               delete (204); 409 (20409) while
                                                   callers wait in it
    GET       Queues/{QueueSid}/Members.json       the callers waiting, in order
    GET/POST  Queues/{QueueSid}/Members/{CallSid|Front}.json
              fetch / dequeue: `Url` (+`Method`) redirects that caller out of
              the queue (its Enqueue action gets QueueResult=redirected)

Fields and parameters as in twilio/twilio-oai (spec/json/twilio_api_v2010.json):
`CreateQueue` needs `FriendlyName` (≤ 64 characters), `MaxSize` is 1–5000
(default 1000); `UpdateMember` needs `Url`. Lists page like Calls and Messages
under the `queues` and `queue_members` keys.
"""

from __future__ import annotations

from flask import Response, jsonify, request

from twilio_emulator.errors import twilio_error
from twilio_emulator.queues import DEFAULT_MAX_SIZE, LARGEST_MAX_SIZE, MAX_NAME, Queue
from twilio_emulator.rest import network, rest
from twilio_emulator.rest_common import created, page, valid_url
from twilio_emulator.twiml import Goto


def _max_size(default: int) -> int:
    raw = request.form.get("MaxSize")
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError as error:
        raise twilio_error(20001, detail="MaxSize must be a number") from error
    if not 1 <= size <= LARGEST_MAX_SIZE:
        raise twilio_error(20001, detail=f"MaxSize must be between 1 and {LARGEST_MAX_SIZE}")
    return size


def _name(required: bool) -> str | None:
    name = request.form.get("FriendlyName")
    if name is None and not required:
        return None
    if not name or len(name) > MAX_NAME:
        raise twilio_error(20001, detail=f"FriendlyName is required, at most {MAX_NAME} characters")
    return name


def _queue(sid: str) -> Queue:
    queue = network().queues.get(sid)
    if queue is None:
        raise twilio_error(20404, path=request.path)
    return queue


@rest.post("/Queues.json")
def create_queue(account_sid: str) -> Response:
    name = _name(required=True)
    assert name is not None
    queues = network().queues
    if queues.named(name) is not None:
        raise twilio_error(20001, detail=f"a queue named {name!r} already exists")
    queue = queues.create(name, _max_size(DEFAULT_MAX_SIZE))
    with queues.lock:
        return created(queue.resource())


@rest.get("/Queues.json")
def list_queues(account_sid: str) -> Response:
    queues = network().queues
    with queues.lock:
        return page("queues", [queue.resource() for queue in queues.all()])


@rest.get("/Queues/<sid>.json")
def fetch_queue(account_sid: str, sid: str) -> Response:
    queues = network().queues
    with queues.lock:
        return jsonify(_queue(sid).resource())


@rest.post("/Queues/<sid>.json")
def update_queue(account_sid: str, sid: str) -> Response:
    queues = network().queues
    with queues.lock:
        queue = _queue(sid)
        name = _name(required=False)
        if name is not None:
            queue.friendly_name = name
        queue.max_size = _max_size(queue.max_size)
        return jsonify(queue.resource())


@rest.delete("/Queues/<sid>.json")
def delete_queue(account_sid: str, sid: str) -> Response:
    done = network().queues.delete(sid)
    if done == "gone":
        raise twilio_error(20404, path=request.path)
    if done == "busy":
        # Twilio: "Only empty queues are deletable"; the code it answers with is
        # not documented, so Twilio's generic Conflict.
        raise twilio_error(20409, detail="only an empty queue can be deleted")
    return Response(status=204)


@rest.get("/Queues/<sid>/Members.json")
def list_members(account_sid: str, sid: str) -> Response:
    queues = network().queues
    with queues.lock:
        queue = _queue(sid)
        return page("queue_members", [queue.member_resource(m) for m in queue.members])


@rest.get("/Queues/<sid>/Members/<call_sid>.json")
def fetch_member(account_sid: str, sid: str, call_sid: str) -> Response:
    queues = network().queues
    with queues.lock:
        queue = _queue(sid)
        member = queues.find_member(queue, call_sid)
        if member is None:
            raise twilio_error(20404, path=request.path)
        return jsonify(queue.member_resource(member))


@rest.post("/Queues/<sid>/Members/<call_sid>.json")
def dequeue_member(account_sid: str, sid: str, call_sid: str) -> Response:
    url = request.form.get("Url", "").strip()
    if not valid_url(url):
        raise twilio_error(21205, url=url)
    net = network()
    with net.queues.lock:
        queue = _queue(sid)
        member = net.queues.find_member(queue, call_sid)
        if member is None:
            raise twilio_error(20404, path=request.path)
        resource = queue.member_resource(member)
    member.leg.deliver(Goto(url, {}, request.form.get("Method", "POST").upper()))
    return jsonify(resource)
