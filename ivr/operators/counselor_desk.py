"""What a counselor does at the desk (issue 19), for the pages, the API and
the CLI alike: see what is offered to them, take a conversation (the first
to take it holds it), write to the texter, hand it on, close it. A closed
conversation is a contact with a wrap-up due (ivr/contacts/records.py).

Who may see what: a conversation's words only to the counselor holding it
and to admins (whose every view is audited by the caller); what is offered
shows a reference, a language and a wait, never a number or words."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ivr.callbacks.urgent import UrgentItem, UrgentItems, deadline_after
from ivr.contacts.records import Contact, Contacts, WrapUp, WrapUpLists, WrapUpRefused
from ivr.content.model import Content
from ivr.content.render import reply_texts
from ivr.jobs import Jobs
from ivr.operators.accounts import Operator
from ivr.operators.audit import AuditLog
from ivr.platform import clock
from ivr.platform.config import Settings
from ivr.platform.privacy import mask
from ivr.roster.model import Counselor
from ivr.roster.oncall import who_is_on_call
from ivr.roster.store import RosterStore
from ivr.sms.outbox import Outbox
from ivr.sms.person import deliver, delivery_status
from ivr.threads.contact import record_conversation
from ivr.threads.seen import Seen
from ivr.threads.store import Thread, ThreadMessage, Threads

MESSAGE_MAX = 1600  # characters: what one text can carry (Twilio joins the segments)
# Control characters but the tab and line breaks (a paste from a terminal, a
# NUL): a phone shows them as boxes or not at all, and some carriers drop the text.
UNSENDABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class DeskRefused(ValueError):
    """What the desk will not do; FIELD names the form field it is about."""

    def __init__(self, message: str, field_name: str = "", status: int = 409) -> None:
        super().__init__(message)
        self.field = field_name
        self.status = status


@dataclass(frozen=True)
class ThreadView:
    thread: Thread
    number: str  # masked, as everywhere
    messages: tuple[ThreadMessage, ...]


# An admin's reads of one conversation within this long after an audited one
# continue it (a page's polls every second); a read after it is a view again.
VIEW_WINDOW_SECONDS = 15 * 60


def free_for_new_work(
    contacts: Contacts, counselors: Sequence[Counselor], grace_seconds: float
) -> list[Counselor]:
    """Of COUNSELORS, those to offer new work: not one with a wrap-up overdue
    (HELPLINE_WRAPUP_GRACE_SECONDS), as the desk holds back their Take. But
    when that would leave nobody, all of them: someone waiting must reach a
    person, and an overdue wrap-up is paperwork, not a reason for silence."""
    free = [c for c in counselors if not contacts.overdue(c.id, grace_seconds)]
    return free or list(counselors)


def wrapup_lists(content: Content) -> WrapUpLists:
    """The codes a wrap-up may use, from flows/wrapup.yaml."""
    wrapup = content.wrapup
    return WrapUpLists(
        dispositions=frozenset(wrapup.dispositions),
        risks=frozenset(code for code, _ in wrapup.risks),
        referrals=frozenset(wrapup.referrals),
    )


class CounselorDesk:
    def __init__(
        self,
        threads: Threads,
        urgent: UrgentItems,
        outbox: Outbox,
        contacts: Contacts,
        audit: AuditLog,
        content: Content,
        jobs: Jobs,
        settings: Settings,
    ) -> None:
        """SETTINGS: among them how long a wrap-up may wait before its counselor
        is offered no new work until it is done, and the ladder's deadlines."""
        self.threads = threads
        self.urgent = urgent
        self.outbox = outbox
        self.contacts = contacts
        self.audit = audit
        self.content = content
        self.jobs = jobs
        self.settings = settings
        self.wrapup_grace_seconds = settings.wrapup_grace_seconds
        self.seen = Seen(threads, settings.retention_seconds)

    # -- what a counselor sees -------------------------------------------------

    def offered(self) -> list[Thread]:
        """Conversations waiting for someone, oldest first."""
        found = (self.threads.get(thread_id) for thread_id in self.threads.waiting())
        return [thread for thread in found if thread is not None and thread.state == "waiting"]

    def mine(self, counselor: str) -> list[Thread]:
        found = (self.threads.get(thread_id) for thread_id in self.threads.held_by(counselor))
        return [t for t in found if t is not None and t.state == "held" and t.holder == counselor]

    def all_open(self) -> list[Thread]:
        """Every open conversation (an admin's view)."""
        found = (self.threads.get(thread_id) for thread_id in self.threads.open_ids())
        return [thread for thread in found if thread is not None and thread.is_open]

    def view(
        self,
        thread_id: str,
        who: Operator,
        *,
        after: int = -1,
        audited: bool = True,
        via: str = "web",
        mark_seen: bool = True,
    ) -> ThreadView:
        """The conversation's words after AFTER, for its holder or an admin
        (audited when AUDITED, a view of its own, and whenever it is not a
        continuation of one audited in the last VIEW_WINDOW_SECONDS: the
        line's wait texts come first, so a poll "after 0" holds every word
        the texter wrote); a counselor's
        messages with where they are now (`delivery_status`). The holder has
        now been shown them: they are no longer new on their desk, unless
        MARK_SEEN is false (fetched by a page not in front of them)."""
        thread = self._readable(thread_id, who)
        if who.can_change:
            # An admin reading a person's words is a reveal, as hearing a message is.
            actor = f"{via}:{who.audit_name}"
            window = f"desk:viewed:{actor}:{thread_id}"
            fresh = self.threads.redis.set(window, 1, nx=True, ex=VIEW_WINDOW_SECONDS)
            if audited or fresh:
                try:
                    self.audit.record(actor, "conversation.view", thread_id)
                except BaseException:
                    # Unaudited, the window must not pass its reads as continued.
                    self.threads.redis.delete(window)
                    raise
        number = mask(self.threads.number_of(thread_id) or "")
        messages = self.threads.messages(thread_id, after=after)
        if mark_seen and messages and who.counselor and thread.holder == who.counselor:
            self.seen.mark(thread_id, who.counselor, messages[-1].seq)
        return ThreadView(thread, number, tuple(self._delivery(thread_id, m) for m in messages))

    def delivery(self, thread_id: str, who: Operator, seqs: Iterable[int]) -> list[ThreadMessage]:
        """The messages SEQS (a counselor's, as a page last showed them) with
        where they are now: what the page polls until each is settled."""
        self._readable(thread_id, who)
        found = (self.threads.message(thread_id, seq) for seq in seqs)
        return [self._delivery(thread_id, m) for m in found if m is not None]

    def _delivery(self, thread_id: str, message: ThreadMessage) -> ThreadMessage:
        status = delivery_status(self.outbox, thread_id, message)
        return message if status == message.status else replace(message, status=status)

    def _readable(self, thread_id: str, who: Operator) -> Thread:
        """The thread, if WHO may read it: its holder or an admin."""
        thread = self.threads.get(thread_id)
        if thread is None:
            raise DeskRefused(f"no conversation {thread_id}", status=404)
        if not (who.can_change or (who.counselor and thread.holder == who.counselor)):
            raise DeskRefused("this conversation is not yours", status=403)
        return thread

    def unread(self, thread_id: str, counselor: str) -> int:
        """The texter's messages in COUNSELOR's conversation they have not been shown."""
        return self.seen.unread(thread_id, counselor)

    # -- what a counselor does -------------------------------------------------

    def urgent_offered(self) -> list[UrgentItem]:
        """Urgent work nobody has taken, but conversations (offered above):
        callbacks to return and messages to hear, oldest first."""
        return [item for item in self.urgent.open_items() if item.kind != "conversation"]

    def call_to_take(self, reference: str, counselor: str) -> str:
        """The line rings COUNSELOR to take urgent work REFERENCE: pressing 1
        on that call dials the person back, or plays the message, and takes
        it (as the whisper of its ladder does). What it will do."""
        item = self.urgent.get(reference)
        if item is None or item.claimed_by or item.kind == "conversation":
            raise DeskRefused("someone took it already, or it is not urgent work waiting")
        if item.kind == "message":
            self.jobs.call_to_hear(reference, counselor)
            what = "calling you to hear the message"
        else:
            self.jobs.connect_callback(reference, counselor)
            what = "calling you to return the call"
        self.audit.record(f"desk:{counselor}", "urgent.call_me", reference)
        return what

    def others_on_call(self, counselor: str) -> list[str]:
        """The counselors on call now but COUNSELOR: whom a conversation may go to."""
        roster = RosterStore(self.threads.redis).load()
        if roster is None:
            return []
        return [c.id for c in who_is_on_call(roster, clock.now()) if c.id != counselor]

    def overdue_wrapups(self, counselor: str) -> int:
        return self.contacts.overdue(counselor, self.wrapup_grace_seconds)

    def held_back(self, counselor: str) -> bool:
        """Is COUNSELOR kept from new work? With a wrap-up overdue, while
        someone else on call is free to take it: a record for the next shift
        before new work (HELPLINE_WRAPUP_GRACE_SECONDS). When nobody else is
        free, not: a texter waiting must reach a person, and the alerts went
        to everyone (`free_for_new_work`)."""
        if not self.overdue_wrapups(counselor):
            return False
        return any(not self.overdue_wrapups(other) for other in self.others_on_call(counselor))

    def take(self, thread_id: str, counselor: str) -> None:
        if self.held_back(counselor):
            raise DeskRefused("finish your overdue wrap-ups first; then take new work")
        verdict = self.threads.claim(thread_id, counselor)
        if verdict == "won":
            # Taken: its escalation ladder stops at once.
            self.urgent.claim(thread_id, counselor)
            self.audit.record(f"desk:{counselor}", "conversation.take", thread_id)
            return
        if verdict == "yours":
            return
        reasons = {
            "held": "someone else took this conversation first",
            "closed": "this conversation has ended",
            "gone": f"no conversation {thread_id}",
        }
        raise DeskRefused(reasons.get(verdict, verdict), status=404 if verdict == "gone" else 409)

    def say(self, thread_id: str, counselor: str, body: str) -> int:
        """COUNSELOR's message to the texter, sent once; its sequence."""
        words = body.strip()
        if not words:
            raise DeskRefused("write a message first", "body", 422)
        if len(words) > MESSAGE_MAX:
            too_long = f"a message is at most {MESSAGE_MAX} characters (this one is {len(words)})"
            raise DeskRefused(too_long, "body", 422)
        found = UNSENDABLE.search(words)
        if found:
            control = f"U+{ord(found.group()):04X}"
            unsendable = f"this message has a control character ({control}) a phone cannot show"
            raise DeskRefused(unsendable, "body", 422)
        seq = self.threads.say(thread_id, counselor, words)
        if seq is None:
            raise DeskRefused("this conversation is not yours, or has ended")
        deliver(self.threads, self.outbox, thread_id, seq)
        return seq

    def hand(self, thread_id: str, counselor: str, to: str) -> None:
        """Hand the conversation to counselor TO (on call now), or back to
        those on call ('')."""
        if to and to not in self.others_on_call(counselor):
            raise DeskRefused("hand it to a counselor on call now", "to", 422)
        verdict = self.threads.hand(thread_id, counselor, to)
        if verdict != "ok":
            raise DeskRefused(f"cannot hand it on: {verdict}")
        if not to:
            # Waiting again: offered and on the ladder as when it was new.
            thread = self.threads.get(thread_id)
            language = thread.language if thread is not None else ""
            deadline = time.time() + deadline_after("conversation", self.settings)
            if not self.urgent.reopen(thread_id, deadline):
                self.urgent.open(thread_id, "conversation", language, deadline)
            self.jobs.alert("talk_alert", thread_id, thread_id, again=str(int(time.time())))
        if to:
            # Theirs now: told by text, as the counselors on call were when it was new.
            cause = f"hand:{thread_id}:{to}:{int(time.time())}"
            self.jobs.alert_one("talk_handed", thread_id, to, cause)
        what = "conversation.hand" if to else "conversation.release"
        self.audit.record(f"desk:{counselor}", what, thread_id, after={"to": to} if to else None)

    def close(self, thread_id: str, counselor: str) -> str:
        """Close the conversation COUNSELOR holds: the texter is told how to
        reach someone again, and it becomes a contact with a wrap-up due.
        The contact's id."""
        thread = self.threads.get(thread_id)
        if thread is None or thread.state != "held" or thread.holder != counselor:
            raise DeskRefused("this conversation is not yours, or has ended")
        number = self.threads.number_of(thread_id)
        if number:
            language = thread.language
            bodies = reply_texts(self.content, "thread_closed", language)
            batch_id = self.outbox.send(
                number,
                bodies,
                cause=f"thread-closed:{thread_id}",
                kind="thread_closed",
                language=language,
            )
            self.threads.note_line_texts(thread_id, bodies, batch_id)
        self.threads.close(thread_id, counselor, "closed by the counselor")
        contact_id = record_conversation(self.contacts, thread)
        self.audit.record(f"desk:{counselor}", "conversation.close", thread_id)
        return contact_id

    # -- wrap-ups --------------------------------------------------------------

    def contact(self, contact_id: str, who: Operator, *, via: str = "web") -> Contact:
        """A contact, for the counselor who handled it or an admin (audited:
        the note is a counselor's words about a person)."""
        found = self.contacts.get(contact_id)
        if found is None:
            raise DeskRefused(f"no contact {contact_id}", status=404)
        if not (who.can_change or (who.counselor and found.counselor == who.counselor)):
            raise DeskRefused("this contact is not yours", status=403)
        if who.can_change:
            self.audit.record(f"{via}:{who.audit_name}", "contact.view", contact_id)
        return found

    def wrap_up(self, contact_id: str, who: Operator, wrap: WrapUp, *, via: str = "web") -> Contact:
        """Complete the contact's wrap-up; refused beside its field (422).
        From a terminal (VIA "cli", WHO the counselor it is recorded for, named
        as the terminal's user) the audit log names that user and the counselor."""
        self.contact(contact_id, who, via=via)
        by = who.counselor or f"admin:{who.name}"
        try:
            done = self.contacts.wrap_up(contact_id, by, wrap, wrapup_lists(self.content))
        except WrapUpRefused as refused:
            raise DeskRefused(str(refused), refused.field, 422) from None
        # Which codes, never the note: the audit log is read by every viewer.
        after: dict[str, object] = {"dispositions": list(done.dispositions), "risk": done.risk}
        actor = f"desk:{by}"
        if via == "cli":
            actor, after["by"] = f"cli:{who.audit_name}", by
        self.audit.record(actor, "contact.wrapup", contact_id, after=after)
        return done
