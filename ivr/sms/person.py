"""Texting with a person (issue 19): what the SMS handler does for a texter
who asks for a counselor (TALK, HABLAR) and for everything they text while
their conversation is open.

Asking opens a thread (`TX-…`, ivr/threads/store.py), offers it to the
counselors on call by reference (never the number or the words), and opens
urgent work on it so that a thread nobody takes climbs the escalation ladder
(workers/escalate.py). The texter is told honestly what to expect: a
counselor on call was told, or nobody is on call now and where to turn.

While the thread is open, what they text goes to it and the keyword replies
stop: a counselor is, or soon will be, reading. HELP is still answered (the
carriers require it), STOP still ends everything, and a text that reads as a
crisis is flagged in the thread: with nobody holding it yet the ordinary
crisis reply goes at once; with a counselor holding it, they answer, and the
automatic crisis reply goes anyway if they have not within
HELPLINE_THREAD_CRISIS_SECONDS (workers/threads.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ivr.callbacks.requests import new_reference
from ivr.callbacks.urgent import UrgentItems, deadline_after
from ivr.contacts.records import Contacts
from ivr.jobs import Jobs
from ivr.platform.config import Settings
from ivr.sms.outbox import Outbox, batch_id_for
from ivr.sms.status import RANK
from ivr.threads.contact import record_conversation
from ivr.threads.store import LINE, PREFIX, TEXTER, ThreadMessage, Threads

THREAD_KIND = "thread"  # a counselor's words in a conversation, in the outbox
# Where a message can end: nothing after these changes it.
SETTLED = ("delivered", "failed", "undelivered", "refused", "capped")


@dataclass(frozen=True)
class Asked:
    thread_id: str
    new: bool
    someone_on_call: bool


class PersonTexts:
    def __init__(
        self, threads: Threads, urgent: UrgentItems, jobs: Jobs, settings: Settings
    ) -> None:
        self.threads = threads
        self.urgent = urgent
        self.jobs = jobs
        self.settings = settings
        self.contacts = Contacts(threads.redis, settings.retention_seconds)

    def open_thread_of(self, sender: str) -> str | None:
        return self.threads.open_thread_of(sender)

    def ask(self, sender: str, language: str, *, someone_on_call: bool) -> Asked:
        """SENDER asks for a person: their open thread, or a new one offered to
        the counselors on call (and on the ladder until someone takes it)."""
        thread_id, new = self.threads.open(sender, language, new_reference(PREFIX))
        if new:
            deadline = time.time() + deadline_after("conversation", self.settings)
            self.urgent.open(thread_id, "conversation", language, deadline)
            self.jobs.alert("talk_alert", thread_id, thread_id)
        return Asked(thread_id, new, someone_on_call)

    def relay(self, thread_id: str, body: str) -> bool:
        """A text for the counselor, kept in the thread; False when the thread
        closed meanwhile (the text is then the handler's to answer)."""
        return self.threads.hear(thread_id, body) is not None

    def crisis(self, thread_id: str, body: str) -> bool:
        """A text read as a crisis, flagged in the thread. True when a
        counselor holds the thread: they answer it (or the automatic crisis
        reply goes after HELPLINE_THREAD_CRISIS_SECONDS). False when nobody
        holds it: the handler gives the ordinary crisis reply at once."""
        _, held = self.threads.hear_crisis(thread_id, body)
        return held

    def texter_left(self, sender: str, why: str) -> str | None:
        """The texter opted out: their thread closes at once (nothing more is
        sent: the outbox refuses an opted-out number). Its id, if one was open."""
        thread_id = self.threads.open_thread_of(sender)
        thread = self.threads.get(thread_id) if thread_id is not None else None
        if thread is not None and self.threads.close(thread.id, "texter", why):
            record_conversation(self.contacts, thread, "opted_out")
            if thread.state == "waiting":
                self.urgent.claim(thread.id, "texter left")  # nobody to find for it now
        return thread_id


def _cause(thread_id: str, seq: int) -> str:
    """The outbox's cause for message SEQ: its batch, sent once."""
    return f"thread:{thread_id}:{seq}"


def deliver(threads: Threads, outbox: Outbox, thread_id: str, seq: int) -> str:
    """A counselor's message SEQ to the texter, through the outbox, once (the
    outbox's cause is the message's place in the thread): what the desk does
    at once, and a worker for a message the desk's process never handed over.
    The message's status in the thread: sent (the outbox has it: where it
    went from there is `delivery_status`), or why not."""
    message = threads.message(thread_id, seq)
    thread = threads.get(thread_id)
    number = threads.number_of(thread_id)
    if message is None or thread is None or not number:
        return "gone"
    if message.status != "queued":
        return message.status
    outbox.send(
        number,
        [message.body],
        cause=_cause(thread_id, seq),
        kind=THREAD_KIND,
        language=thread.language,
    )
    threads.mark(thread_id, seq, "sent")
    return "sent"


def delivery_status(outbox: Outbox, thread_id: str, message: ThreadMessage) -> str:
    """Where a counselor's message is now: queued (not yet with the carrier),
    sent, delivered, failed or undelivered (Twilio's words), capped (held
    back by the hourly cap), or refused (never sent). The thread keeps only
    whether the outbox took the message; the rest is the outbox's record of
    its texts, which Twilio's status callbacks move (ivr/sms/status.py). The
    line's own texts the same way, by the batch part that carried them; the
    texter's, and the line's inline replies, as they are."""
    if message.sender == TEXTER or message.status != "sent":
        return message.status
    if message.sender == LINE:
        if not message.part:
            return message.status
        batch_id, _, index = message.part.partition(":")
        batch, indexes = outbox.batch(batch_id), [index]
    else:
        batch = outbox.batch(batch_id_for(_cause(thread_id, message.seq)))
        indexes = [str(i) for i in range(int(batch.get("parts", "1")))] if batch else []
    if not batch:
        return message.status  # expired with the conversation's retention
    if batch.get("replaced") or batch.get("status") == "capped":
        return "capped"  # the hourly cap held it back: the notice went, or nothing
    if batch.get("status") in ("failed", "blocked") and not all(
        batch.get(f"sid{i}") for i in indexes
    ):
        return "failed"  # the outbox gave up before it went (a permanent error, an opt-out)
    states = [batch.get(f"state{i}", "") for i in indexes]
    for bad in ("failed", "undelivered", "canceled"):
        if bad in states:
            return "failed" if bad == "canceled" else bad
    least = min(RANK.get(state, 0) for state in states)
    if least >= RANK["delivered"]:
        return "delivered"
    return "sent" if least >= RANK["sent"] else "queued"
