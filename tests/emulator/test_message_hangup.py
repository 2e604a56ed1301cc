"""A caller who hangs up while leaving a message (issue 18, item 7): Twilio
then requests the <Record> action with Digits=hangup and ignores the answer.
Through the emulator and the real line: the message is kept and its
follow-up opened, and the line answers with a bare hang-up rather than
walking the caller, who is gone, into the next step of the menu."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import cast

import redis

from ivr.callbacks.urgent import UrgentItems
from ivr.platform.redis_store import decoded
from ivr.roster.store import ROSTER_KEY
from tests.live import MESSAGE_TO_CALL_BACK, LiveLine, eventually
from tests.raw_replies import RawList
from twilio_emulator import hangup, say

CALLER = "+12025550123"


def test_hanging_up_mid_message_still_leaves_it_with_urgent_work(
    live_line: LiveLine, redis_client: redis.Redis
) -> None:
    network = live_line.network
    redis_client.delete(ROSTER_KEY)  # nobody on call: 1 for a person, then 1 for a message
    call = network.call_line(CALLER, *MESSAGE_TO_CALL_BACK, say("this is Ana, call me"), hangup())
    network.wait_for_call(call.sid, timeout=30)

    hung_up = [
        d for d in network.webhooks.log() if d.params.get("Digits") == "hangup"
    ]  # the Record action, requested after the hang-up
    assert len(hung_up) == 1
    action = hung_up[0]
    assert "/voice/recorded/" in action.url
    assert action.params["CallSid"] == call.sid
    assert action.status == 200
    assert action.content_type.startswith("text/xml")
    answer = ET.fromstring(action.body)  # noqa: S314 - the line's own answer
    assert [verb.tag for verb in answer] == ["Hangup"]  # no next step for a caller who is gone

    sid = eventually(
        lambda: [s.decode() for s in cast(RawList, redis_client.zrange("voicemails", 0, -1))]
    )[0]
    assert sid == action.params["RecordingSid"]
    record = decoded(redis_client.hgetall(f"voicemail:{sid}"))
    reference = record["callback"]  # called back at the number they called from
    item = UrgentItems(redis_client, live_line.settings.retention_seconds).get(reference)
    assert item is not None
    assert item.kind == "voicemail"
    assert network.calls[call.sid].errors == []
