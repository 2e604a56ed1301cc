"""Why the line may be sending a number nothing, as its own records say: an
opt-out, an operator's block, the hourly cap on replies, or replies queued
with no worker to send them. For `helpline simulate sms`, when no reply came:
a texter in development is told why instead of left guessing.

Every record is kept by the number's keyed hash; this reads them for one
number the person already knows (the simulator's own), and says nothing of
any other."""

from __future__ import annotations

import redis
from rq import Queue

from ivr.callers.blocklist import Blocklist
from ivr.jobs import QUEUE_NAME
from ivr.platform.config import Settings
from ivr.platform.privacy import number_ref
from ivr.sms.optout import OptOuts
from ivr.sms.outbox import Outbox, cap_notice_key


def reasons_held_back(client: redis.Redis, settings: Settings, number: str) -> list[str]:
    """What would keep the line's replies from NUMBER, one sentence each."""
    secret = settings.secret_key
    found: list[str] = []
    if OptOuts(client, secret).is_opted_out(number):
        found.append(
            "this number opted out (it texted STOP, or said so in a sentence): the line "
            "sends it nothing until it texts START, YES or UNSTOP; a text that reads as "
            "a crisis is still answered"
        )
    if Blocklist(client, secret).is_blocked(number):
        found.append(
            "an operator blocked this number (`helpline block list`): its texts get no "
            "reply, except a crisis's 911/988 guidance"
        )
    queue = Queue(QUEUE_NAME, connection=client)
    outbox = Outbox(client, queue, secret, settings.retention_seconds)
    cap = settings.sms_per_recipient_per_hour
    sent = outbox.replies_this_hour(number)
    if cap and sent >= cap:
        told = bool(client.exists(cap_notice_key(number_ref(secret, number))))
        found.append(
            f"replies to this number are paused: {sent} this hour, and the cap is {cap} "
            "(HELPLINE_SMS_PER_RECIPIENT_PER_HOUR)"
            + ("; one notice said so" if told else "")
            + "; they resume at the top of the hour"
        )
    waiting = queue.count
    if waiting:
        found.append(
            f"{waiting} job(s) wait in the line's queue: is a worker running "
            "(`helpline worker`, or `make run`)?"
        )
    return found
