"""Climb one step of an urgent item's ladder (ivr.callbacks.urgent).

Run by the worker's sweeper when an item's deadline has passed unclaimed:
1. the counselors on call again: the alert text again, and for a crisis a
   call to the first of them that plays the whisper ("press 1 to take it");
2. the supervisors on call: the alert text and the same call;
3. the backup line: the same call, to HELPLINE_BACKUP_NUMBER.
A message nobody may call back, or a texter waiting for a conversation, has
no one to connect by phone: each step texts (the counselors on call, then the
supervisors), and in place of the backup line, which cannot take it, both
again, at each deadline until someone takes it (with nobody on call at all,
whoever comes on shift is told); a message's supervisors step also calls
the first supervisor to play it. Taking it is hearing the message (by phone
or in the admin), or taking the thread.
A step that finds nobody to reach (no counselor, no supervisor on call) is
recorded and the next one is due at once: a crisis never waits a deadline
for nobody. Pressing 1 on the whisper claims the item and dials the person
(ivr.web.voice.callback_routes).
"""

from __future__ import annotations

import logging
import time

from ivr.callbacks.alerts import staff_numbers
from ivr.callbacks.requests import BACKUP_LINE, Callbacks
from ivr.callbacks.returning import ReturnCalls
from ivr.callbacks.urgent import (
    BACKUP,
    BACKUP_TRIES,
    LADDER,
    ON_CALL_AGAIN,
    SUPERVISORS,
    TEXTS_ONLY,
    UNTIL_TAKEN,
    UrgentItem,
    UrgentItems,
    deadline_after,
)
from ivr.line import Line
from ivr.platform import clock
from ivr.platform.redis_store import text
from ivr.roster.model import Counselor
from ivr.roster.oncall import supervisors_on_call, who_is_on_call
from ivr.roster.store import RosterStore
from workers.alerts import text_staff
from workers.context import job_line

log = logging.getLogger("helpline.jobs.escalate")


def urgent_items(line: Line) -> UrgentItems:
    return UrgentItems(line.redis, line.settings.retention_seconds)


def escalate(reference: str) -> str:
    line = job_line()
    items = urgent_items(line)
    opened = items.get(reference)
    texts_only = opened is not None and opened.kind in TEXTS_ONLY
    tries = UNTIL_TAKEN if texts_only else BACKUP_TRIES
    step = items.begin(reference, line.settings.job_lease_seconds, tries=tries)
    if step is None:
        return "nothing to do"
    item = items.get(reference)
    if item is None or _already_done(line, item):
        # Returned (or heard) some other way, or kept its full time: nobody
        # need climb.
        items.claim(reference, "done")
        return "already done"
    returns = ReturnCalls(line.redis)
    if returns.is_dialing(reference):
        # Someone pressed 1 and the person is being dialed: they have it.
        items.finish(
            reference, step, time.time() + deadline_after(item.kind, line.settings), "taken"
        )
        return "being returned"
    if item.runs <= 1:
        # A new step. A step run again after its worker died keeps the mark:
        # its own ring may be going on.
        returns.new_step(reference)
    reached = _reach(line, item, step)
    now = time.time()
    later = now + deadline_after(item.kind, line.settings)
    called_backup = step >= BACKUP and not texts_only
    if reached:
        what = f"reached {reached}"
        items.finish(reference, step, later, what, called_backup=called_backup)
    elif texts_only and step >= BACKUP:
        # Nobody on call at all: told again at the next deadline, not at once
        # (its last step repeats until taken), so whoever comes on is told.
        what = "nobody on call: everyone on call is texted at the next deadline"
        items.finish(reference, step, later, what, called_backup=False)
    else:
        items.finish(reference, step, now, "nobody on call: the next step at once")
    log.info("urgent %s: %s, %s", reference, LADDER[step], "reached" if reached else "nobody")
    return f"{LADDER[step]}: {reached or 'nobody'}"


def _already_done(line: Line, item: UrgentItem) -> bool:
    """A callback marked done, a message marked done, or either gone."""
    if item.kind == "message":
        message = line.redis.hget(f"voicemail:{item.subject}", "status")
        return message is None or text(message) == "done"
    if item.kind == "conversation":
        thread = line.threads.get(item.reference)
        return thread is None or thread.state != "waiting"
    callback = Callbacks(line.redis, line.settings.secret_key, line.settings.retention_seconds).get(
        item.reference
    )
    return not callback or callback.get("status") == "done"


def _reach(line: Line, item: UrgentItem, step: int) -> str:
    """Who this step reached ("" for nobody): texts and a whisper call."""
    texts_only = item.kind in TEXTS_ONLY
    if step >= BACKUP and not texts_only:
        line.jobs.connect_callback(item.reference, BACKUP_LINE)
        return "the backup line"
    roster = RosterStore(line.redis).load()
    if roster is None:
        return ""
    moment = clock.now()
    people: list[Counselor] = []
    if step in (ON_CALL_AGAIN, BACKUP):
        people += who_is_on_call(roster, moment)
    if step in (SUPERVISORS, BACKUP):
        people += [p for p in supervisors_on_call(roster, moment) if p not in people]
    if not people:
        return ""
    _text(line, item, step, people)
    if not texts_only and (item.kind == "crisis" or step == SUPERVISORS):
        line.jobs.connect_callback(item.reference, people[0].id)
    elif item.kind == "message" and step == SUPERVISORS:
        # Nobody has heard it for two deadlines: a call that plays it.
        line.jobs.call_to_hear(item.reference, people[0].id)
    role = "supervisor" if step == SUPERVISORS else "counselor"
    if step >= BACKUP:
        role = "person"  # the counselors and supervisors on call, together
    return f"{len(people)} {role}{'s' if len(people) > 1 else ''}"


def _text(line: Line, item: UrgentItem, step: int, people: list[Counselor]) -> None:
    """The alert again, in each person's language, once per step and backup
    try (outbox cause)."""
    recipients = staff_numbers(people, line.content.languages)
    minutes = str(int(item.age(time.time()) // 60))
    values = {"ref": item.reference, "minutes": minutes}
    role = {"message": "message_urgent", "conversation": "talk_urgent"}.get(
        item.kind, "urgent_alert"
    )
    cause = f"urgent:{item.reference}:{step}" + (f".{item.backup_tries}" if step >= BACKUP else "")
    text_staff(line, role, recipients, values, cause)
