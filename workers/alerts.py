"""Tell the counselors on call that someone needs them: a crisis text or a
callback request. The alert carries a reference, never the person's number or
words; the counselor opens the reference to act."""

from __future__ import annotations

import logging

from ivr.callbacks.alerts import on_call, staff_language, staff_numbers
from ivr.callbacks.urgent import UrgentItems
from ivr.content.render import reply_texts
from ivr.line import Line
from ivr.operators.counselor_desk import free_for_new_work
from ivr.platform.privacy import number_ref
from workers.context import job_line

log = logging.getLogger("helpline.jobs.alerts")


def alert_on_call(role: str, reference: str, item: str | None = None, again: str = "") -> int:
    """Send the `role` text (crisis_alert, callback_alert, talk_alert) to everyone
    on call now (a talk_alert: those free for new work). ITEM: the urgent item
    this alert opens its ladder with; with nobody on call its next step
    (supervisors, the backup line) is due at once."""
    line = job_line()
    people = on_call(line.redis, store=line.roster)
    if role == "talk_alert":
        # A texter to take is new work: not offered to a counselor whose
        # wrap-up is overdue, as the desk holds back their Take, unless that
        # leaves nobody to tell (free_for_new_work). Crisis and callback alerts
        # go to everyone on call: urgent work waits for no paperwork.
        people = free_for_new_work(line.contacts, people, line.settings.wrapup_grace_seconds)
    recipients = staff_numbers(people, line.content.languages)
    if not recipients:
        if item is not None:
            UrgentItems(line.redis, line.settings.retention_seconds).hurry(item)
            log.warning("%s %s: nobody is on call; it climbs the ladder now", role, reference)
        else:
            log.error(
                "%s %s: nobody is on call to alert; it waits in the open list", role, reference
            )
        return 0
    cause = f"alert:{reference}" + (f":{again}" if again else "")
    text_staff(line, role, recipients, {"ref": reference}, cause)
    return len(recipients)


def alert_one(role: str, reference: str, counselor_id: str, cause: str) -> int:
    """The ROLE text about REFERENCE to one counselor on the roster (a
    conversation handed to them), once per CAUSE."""
    line = job_line()
    roster = line.roster.load()
    person = roster.by_id.get(counselor_id) if roster is not None else None
    if person is None or not person.active:
        log.warning("%s %s: %s is not an active counselor", role, reference, counselor_id)
        return 0
    language = staff_language(person, line.content.languages)
    text_staff(line, role, [(person.phone, language)], {"ref": reference}, cause)
    return 1


def text_staff(
    line: Line,
    role: str,
    recipients: list[tuple[str, str]],
    values: dict[str, str],
    cause: str,
) -> None:
    """The `role` text to each (number, language), through the outbox, once per
    CAUSE and recipient: a job run twice sends nothing twice."""
    outbox = line.outbox
    for number, language in recipients:
        bodies = reply_texts(line.content, role, language, values)
        outbox.send(
            number,
            bodies,
            kind=role,
            cause=f"{cause}:{number_ref(line.settings.secret_key, number)}",
        )
