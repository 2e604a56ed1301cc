"""One inbound text, start to finish. Crisis is answered in the webhook's own
response (TwiML <Message>), even to a number that opted out or that an
operator blocked; every other reply goes through the outbox. A MessageSid is
handled once, and texts from one number are handled one after another."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

import redis
from rq import Queue

from ivr.callbacks.alerts import on_call_numbers, staff_language
from ivr.callbacks.requests import Callbacks, new_reference
from ivr.callbacks.urgent import UrgentItems, deadline_after
from ivr.callers.blocklist import Blocklist
from ivr.content.model import Content, Keyword
from ivr.content.render import fill
from ivr.crisis.decisions import Decisions
from ivr.crisis.features import asks
from ivr.jobs import Jobs
from ivr.platform import clock
from ivr.platform.config import Settings, is_e164
from ivr.platform.privacy import number_ref
from ivr.roster.oncall import who_is_on_call
from ivr.roster.store import RosterStore
from ivr.sms.conversation import Conversations
from ivr.sms.keyword_counts import KeywordCounts
from ivr.sms.optout import OptOuts
from ivr.sms.outbox import Outbox
from ivr.sms.person import PersonTexts
from ivr.sms.reading import Intent, Reading, read_text
from ivr.sms.twilio_layer import twilio_answered
from ivr.sms.wait import wait_now, wait_texts
from ivr.threads.store import Threads

log = logging.getLogger("helpline.sms")
# A reply to an alert that takes its urgent work: the reference, maybe after a word.
# A callback's reference (CB-…) or a message's to hear (VM-…).
STAFF_CLAIM = re.compile(
    r"(?:(?:take|taking|mine|tomo|yo)\W*)?((?:CB|VM)-[2-9A-HJKMNP-Z]{6})\W*", re.I
)
SEEN_SECONDS = 2 * 86400  # longer than Twilio would ever retry a webhook
# Why a number opted out, as kept beside the opt-out (no words of the text).
OPT_OUT_WORD = "stop keyword"  # STOP, ALTO, … as the whole text
OPT_OUT_SENTENCE = "opt-out sentence"  # "please stop texting me", "ya no me escriban"
OPT_OUT_WITH_CRISIS = "opt-out with crisis words"
CRISIS_WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class InboundText:
    message_sid: str
    sender: str
    body: str
    opt_out_type: str = ""  # the webhook's OptOutType: Twilio's layer answered it


@dataclass(frozen=True)
class Outcome:
    """What the webhook answers: texts to put inline (crisis only), and what happened."""

    inline: list[str]
    what: str


def _reason(reading: Reading) -> str:
    return OPT_OUT_SENTENCE if reading.sentence else OPT_OUT_WORD


class SmsHandler:
    def __init__(
        self,
        content: Content,
        settings: Settings,
        client: redis.Redis,
        queue: Queue,
        roster: RosterStore | None = None,
    ) -> None:
        # The process's roster store keeps the parsed roster: a crisis text's
        # promise and a staff claim need not read and parse it again.
        self.roster = roster or RosterStore(client)
        self.content = content
        self.settings = settings
        self.redis = client
        self.queue = queue
        self.jobs = Jobs(queue)
        retention = settings.retention_seconds
        self.outbox = Outbox(client, queue, settings.secret_key, retention)
        self.opt_outs = OptOuts(client, settings.secret_key)
        self.conversations = Conversations(client, settings.secret_key, retention)
        self.callbacks = Callbacks(client, settings.secret_key, retention)
        self.blocklist = Blocklist(client, settings.secret_key)
        self.decisions = Decisions(client, retention)
        self.urgent = UrgentItems(client, retention)
        self.keyword_counts = KeywordCounts(client, retention)
        self.person = PersonTexts(
            Threads.for_settings(client, settings),
            self.urgent,
            self.jobs,
            settings,
        )

    def _texts(self, role: str, language: str) -> list[str]:
        text_id = self.content.sms.replies[role]
        return self._bodies(text_id, language)

    def _bodies(self, text_id: str, language: str) -> list[str]:
        return [
            fill(self.content, part.text(language), language, "sms")
            for part in self.content.texts[text_id]
        ]

    def handle(self, text: InboundText) -> Outcome:
        seen = f"sms:seen:{text.message_sid}"
        # A MessageSid leads back to the text at Twilio: never kept past retention
        # (HELPLINE_RETENTION_DAYS may be 1, shorter than SEEN_SECONDS).
        seen_for = min(SEEN_SECONDS, self.settings.retention_seconds)
        reading = read_text(text.body, self.content)  # content alone: no Redis
        # One round trip: whether this MessageSid is new, whether the sender is
        # blocked (needed either way, and an EXISTS changes nothing), and the
        # reading counted (every reading is, a retried webhook's too).
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(seen, 1, nx=True, ex=seen_for)
        pipe.exists(self.blocklist.key_of(text.sender))
        self.decisions.record(reading.crisis, "sms", within=pipe)
        if reading.keyword is not None:  # for the reports: which keyword, never who
            self.keyword_counts.count(reading.keyword.id, within=pipe)
        first_delivery, blocked_key, *_ = pipe.execute()
        blocked = bool(text.sender) and bool(blocked_key)
        if not first_delivery:
            # Twilio sends a webhook again only when our first answer did not reach
            # it: a crisis reply must then be given again (nothing else is redone).
            if reading.intent is Intent.CRISIS:
                # Words that do not tell their language: the conversation's, as
                # the first answer was (a retry must not switch language).
                language = (
                    reading.language
                    or self.conversations.language_of(text.sender)
                    or self.content.default_language
                )
                role = "blocked_crisis" if blocked else self._crisis_promise()
                return Outcome(self._texts(role, language), "crisis, again")
            return Outcome([], "duplicate")
        try:
            return self._handle(text, reading, blocked)
        except Exception:
            # Not handled after all: a later delivery of this message is not a duplicate.
            self.redis.delete(seen)
            raise

    def _handle(self, text: InboundText, reading: Reading, blocked: bool) -> Outcome:
        if not is_e164(text.sender):
            # Short codes and alphanumeric senders cannot be answered; nor dialed back.
            return Outcome([], "unanswerable sender")
        taken = self._staff_claim(text)
        if taken is not None:
            return taken
        if blocked:
            outcome = self._blocked(text, reading)
            log.info(
                "text from %s: %s", number_ref(self.settings.secret_key, text.sender), outcome.what
            )
            return outcome
        with self.conversations.opened(
            text.sender,
            self.content.default_language,
            # Whether they opted out, and whether a conversation with a person
            # is open: both in the round trip that opens the conversation.
            exists=[self.opt_outs.key_of(text.sender), self.person.threads.key_of(text.sender)],
        ) as opened:
            conversation = opened.conversation
            if reading.language and reading.intent is not Intent.MENU:
                # Words of one language (a keyword, crisis words, "ALTO",
                # "AYUDA", "ya no me escriban"): the reply, and the
                # conversation from now on, in that language.
                conversation.language = reading.language
            opted_out, in_thread = opened.exists
            outcome = self._act(text, reading, conversation.language, opted_out, in_thread)
            if reading.keyword is not None:
                if reading.keyword.action == "language" and reading.keyword.language:
                    conversation.language = reading.keyword.language
                conversation.topic = reading.keyword.id
        log.info(
            "text from %s: %s (first: %s)",
            number_ref(self.settings.secret_key, text.sender),
            outcome.what,
            opened.first,
        )
        return outcome

    def _blocked(self, text: InboundText, reading: Reading) -> Outcome:
        """An operator blocked this number for a while: no reply, nothing queued,
        no callback — except for a text that reads as a crisis.

        Safety (CONTRACT behaviour 2; docs/operators.md, "Blocked numbers"): a
        person blocked for abusing the line can still be a person in crisis, and
        a block is set by hand, for days, on a guess about who is texting. So
        crisis words are still answered at once, inline, with the 911/988
        guidance — an automatic reply that costs nothing and reaches no
        counselor. What the block does hold back is the rest of the crisis path:
        no counselor is alerted and no urgent callback is opened (that would ring
        a counselor for, and dial, the very number blocked from them, and make
        crisis words a way round every block); so the reply used is
        `blocked_crisis`, which promises no one will reach out. Each such text
        is counted on the block, where the operators who set it see it.

        STOP and START are still recorded (silently), so an opt-out holds after
        the block ends — an opt-out said beside crisis words too."""
        if reading.intent is Intent.CRISIS:
            self.blocklist.note_crisis(text.sender)
            if reading.opts_out:
                self.opt_outs.opt_out(text.sender, OPT_OUT_WITH_CRISIS)
            language = reading.language or self.content.default_language
            return Outcome(self._texts("blocked_crisis", language), "blocked: crisis answered")
        if reading.intent is Intent.OPT_OUT:
            self.opt_outs.opt_out(text.sender, _reason(reading))
            return Outcome([], "blocked: opted out, no reply")
        if reading.intent is Intent.OPT_IN:
            self.opt_outs.opt_in(text.sender)
            return Outcome([], "blocked: opted in, no reply")
        return Outcome([], "blocked: no reply")

    def _act(
        self, text: InboundText, reading: Reading, language: str, opted_out: bool, in_thread: bool
    ) -> Outcome:
        """`opted_out`, `in_thread` (a conversation with a person may be open):
        read when the conversation was opened, under its lock."""
        thread_id = self.person.open_thread_of(text.sender) if in_thread and not opted_out else None
        if reading.intent is Intent.CRISIS:
            held = thread_id is not None and not reading.opts_out
            if held and thread_id is not None and self.person.crisis(thread_id, text.body):
                # A counselor holds the conversation: they answer it, flagged
                # on their desk; the automatic reply goes if they do not.
                return Outcome([], "crisis in a held conversation: flagged")
            outcome = self._crisis(text, language)
            if held and thread_id is not None:  # kept in a conversation nobody holds yet
                self._told_in_thread(thread_id, outcome.inline)
            if reading.opts_out:
                # "Stop texting me, I'm going to kill myself": the crisis reply
                # (the one text an opt-out lets through, CONTRACT behaviour 3),
                # the counselors alerted as for any crisis, and the opt-out
                # recorded — without a confirmation on top of the crisis reply,
                # and without the keyword's answer or the menu.
                self.opt_outs.opt_out(text.sender, OPT_OUT_WITH_CRISIS)
                self.person.texter_left(text.sender, "opted out")
                opted_out = True
            if thread_id is None:  # in a conversation a person answers the rest
                self._answer_too(text, reading, language, opted_out)
            return outcome
        if reading.intent is Intent.OPT_OUT:
            # However it was said (STOP, ALTO, "take me off your list"):
            # confirmed once, in the language it was said in; a conversation
            # with a counselor ends with it.
            self.person.texter_left(text.sender, "opted out")
            if self.opt_outs.opt_out(text.sender, _reason(reading)):
                self._reply(text, "opted_out", language, despite_opt_out=True, kind="opted-out")
            if reading.keyword is not None and reading.keyword.action == "callback":
                # "No texts, just call me": a call is not a text; the call back
                # asked for is queued (without the confirming text).
                reference, new = self.callbacks.request_once(text.sender, language, "sms")
                if new:
                    self.jobs.alert("callback_alert", reference)
                return Outcome([], "opted out; callback asked for")
            return Outcome([], "opted out")
        if reading.intent is Intent.OPT_IN:
            self.opt_outs.opt_in(text.sender)
            if self._twilio_answered(text):
                return Outcome([], "opted in; Twilio confirmed it")
            self._reply(text, "opted_in", language, kind="opted-in")
            return Outcome([], "opted in")
        if opted_out:
            return Outcome([], "opted out: no reply")  # only crisis and START get through
        if thread_id is not None and self.person.relay(thread_id, text.body):
            # In a conversation with a person: no keyword replies, but HELP
            # (the carriers require its answer always).
            keyword = reading.keyword
            if reading.intent is Intent.HELP and text.opt_out_type.strip().upper() != "HELP":
                bodies = self._texts("help", language)
                sent = self._send(text, bodies, language, "help")
                self._told_in_thread(thread_id, bodies, sent)
            elif keyword is not None and keyword.action == "callback":
                # "Reply CALL to be called instead" (talk_nobody) is a promise:
                # kept inside a conversation too.
                reference, new = self.callbacks.request_once(text.sender, language, "sms")
                if new:
                    self.jobs.alert("callback_alert", reference)
                bodies = self._bodies(keyword.reply, language)
                sent = self._send(text, bodies, language, "callback")
                self._told_in_thread(thread_id, bodies, sent)
            return Outcome([], "to the conversation")
        if reading.intent is Intent.HELP:
            if text.opt_out_type.strip().upper() == "HELP":
                # Twilio sent the operator's help text (Advanced Opt-Out): a
                # second would be noise. Without Advanced Opt-Out Twilio's own
                # help text names neither the line nor 988, so the line still
                # answers: a duplicate costs less than a HELP from someone in
                # distress answered only with "Reply STOP to unsubscribe".
                return Outcome([], "help; Twilio answered it")
            self._reply(text, "help", language)
            return Outcome([], "help")
        keyword = reading.keyword
        if keyword is None:
            bodies = self._texts("menu", language) + self._near_line(reading, language)
            self._send(text, bodies, language, "menu")
            return Outcome([], "menu")
        reply_language = (
            keyword.language if keyword.action == "language" and (keyword.language) else language
        )
        if keyword.action == "callback":
            reference, new = self.callbacks.request_once(text.sender, language, "sms")
            if new:  # asking again while it is open: the same request, no second alert
                self.jobs.alert("callback_alert", reference)
        if keyword.action == "person":
            return self._ask_for_person(text, reading, keyword, language)
        bodies = self._bodies(keyword.reply, reply_language) + self._near_line(
            reading, reply_language
        )
        self._send(text, bodies, reply_language, f"keyword:{keyword.id}")
        # Not "near a crisis": the log line carries the number's hash.
        return Outcome([], f"keyword {keyword.id}")

    def _ask_for_person(
        self, text: InboundText, reading: Reading, keyword: Keyword, language: str
    ) -> Outcome:
        """TALK: a conversation offered to the counselors on call, and an honest
        word on the wait (ivr/sms/wait.py): how many who speak the texter's
        language are on call and how many wait before them, or, with none on,
        when the next comes on. Kept in the conversation for whoever takes it."""
        roster = self.roster.load()
        now = clock.now()
        people = who_is_on_call(roster, now) if roster is not None else []
        on_call = bool(people)
        asked = self.person.ask(text.sender, language, someone_on_call=on_call)
        wait = wait_now(roster, people, self.person.threads, asked.thread_id, language, now)
        bodies = wait_texts(self.content, keyword.reply, wait, language, self.settings.timezone)
        bodies += self._near_line(reading, language)
        sent = self._send(text, bodies, language, "talk")
        self._told_in_thread(asked.thread_id, bodies, sent)
        if wait.on_call:
            return Outcome([], "conversation asked for")
        if on_call:  # a language code only: nothing of the text or the number
            return Outcome([], f"conversation: nobody on call speaks {language}")
        return Outcome([], "conversation: nobody on call")

    def _told_in_thread(self, thread_id: str, bodies: list[str], batch_id: str = "") -> None:
        """What the line itself texted inside a conversation, kept in it as the
        line's: whoever takes it sees what the texter was already told. BATCH_ID:
        the outbox batch carrying them, one part each, so the desk shows
        whether each went (the hourly cap can hold them back); none for the
        inline crisis reply, which Twilio sends with its answer."""
        self.person.threads.note_line_texts(thread_id, bodies, batch_id)

    def _twilio_answered(self, text: InboundText) -> bool:
        """Twilio's layer replied to this text itself (ivr/sms/twilio_layer.py).
        Only opt-in asks this (HELP trusts only OptOutType): the opt-out confirmation is queued for
        every opt-out, since for Twilio's own words Twilio refuses it (21610)
        and the texter still gets one reply, while ALTO or a sentence needs it."""
        return twilio_answered(
            text.body, text.opt_out_type, advanced_opt_out=self.settings.advanced_opt_out
        )

    def _near_line(self, reading: Reading, language: str) -> list[str]:
        """Near a crisis, not one: the answer asked for, and one line about 988
        (no counselor alerted: a false alarm would cost one, and the text read
        as a question or a worry)."""
        return self._texts("near_crisis", language) if reading.near else []

    def _answer_too(
        self, text: InboundText, reading: Reading, language: str, opted_out: bool
    ) -> None:
        """After the crisis reply, what the text also asked for: the keyword's
        answer, or the menu when it asked a question no keyword names — so that a
        text read as a crisis by mistake ("overdose symptoms?") still gets its
        answer. A callback keyword is already met (the crisis opened an urgent
        one); an opted-out number gets the crisis reply only."""
        if opted_out:
            return
        keyword = reading.keyword
        if keyword is not None and keyword.action == "reply":
            self._send(
                text, self._bodies(keyword.reply, language), language, f"keyword:{keyword.id}"
            )
        elif keyword is None and asks(text.body):
            self._send(text, self._texts("menu", language), language, "menu")

    def _reply(
        self,
        text: InboundText,
        role: str,
        language: str,
        *,
        kind: str = "",
        despite_opt_out: bool = False,
    ) -> None:
        """Answer TEXT with content's reply for ROLE (its kind in the outbox: the
        role's, unless given)."""
        bodies = self._texts(role, language)
        self._send(text, bodies, language, kind or role, despite_opt_out=despite_opt_out)

    def _send(
        self,
        text: InboundText,
        bodies: list[str],
        language: str,
        kind: str,
        *,
        despite_opt_out: bool = False,
    ) -> str:
        """The outbox batch carrying BODIES. Once per inbound text: a repeated
        webhook queues nothing twice."""
        return self.outbox.send(
            text.sender,
            bodies,
            cause=f"sms:{text.message_sid}",
            kind=kind,
            despite_opt_out=despite_opt_out,
            language=language,
        )

    def _staff_claim(self, text: InboundText) -> Outcome | None:
        """A counselor or supervisor replying to an alert with its reference
        ("CB-7KQ2MX", "take CB-7KQ2MX", a message's "VM-…") takes that urgent
        work: its ladder stops. None for anything else, and for anyone not on
        the roster (a texter who types a reference is a texter)."""
        found = STAFF_CLAIM.fullmatch(text.body.strip())
        if found is None:
            return None
        roster = self.roster.load()
        person = roster.by_phone.get(text.sender) if roster is not None else None
        if person is None:
            return None
        reference = found.group(1).upper()
        language = staff_language(person, self.content.languages)
        if reference.startswith("VM-"):
            # A message is taken by hearing it, not by a reply: the line calls
            # them to play it (a counselor may have no admin login to listen).
            item = self.urgent.get(reference)
            taken = item is not None and item.claimed_by in ("", person.id)
            if taken:
                self.jobs.call_to_hear(reference, person.id)
            role = "message_taken" if taken else "urgent_not_taken"
        else:
            taken = self.urgent.claim(reference, person.id)
            role = "urgent_taken" if taken else "urgent_not_taken"
        bodies = [
            fill(self.content, part.text(language), language, "sms", {"ref": reference})
            for part in self.content.texts[self.content.sms.replies[role]]
        ]
        self._send(text, bodies, language, role)
        return Outcome([], f"urgent {reference}: {'taken' if taken else 'not taken'}")

    def _crisis_promise(self) -> str:
        """The crisis reply that promises only what the roster allows: a
        counselor on call now (`crisis`), or, with none, 988 and a call back
        when someone can (`crisis_no_counselor`; the ladder climbs to the
        supervisors and the backup line: workers/escalate.py)."""
        if on_call_numbers(self.redis, self.content.languages, store=self.roster):
            return "crisis"
        return "crisis_no_counselor"

    def _crisis(self, text: InboundText, language: str) -> Outcome:
        """Answered now, inline; a counselor alerted; a callback queued, marked urgent."""
        # One urgent callback and one alert per person per quarter hour, however
        # many crisis texts they send; every one of them still gets the reply.
        sender = number_ref(self.settings.secret_key, text.sender)
        promise = self._crisis_promise()
        if not self.redis.set(f"crisis:recent:{sender}", 1, nx=True, ex=CRISIS_WINDOW_SECONDS):
            return Outcome(self._texts(promise, language), "crisis (already alerted)")
        reference = new_reference("CR")
        key = f"crisis:{reference}"
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(
            key,
            mapping={
                "number": text.sender,
                "body": text.body[:1600],
                "language": language,
                "created": int(time.time()),
            },
        )
        pipe.expire(key, self.settings.retention_seconds)
        pipe.execute()
        callback = self.callbacks.create(
            text.sender, language, "crisis text", urgent=True, note=reference
        )
        # Someone must take it: past its deadline unclaimed, it climbs the ladder.
        self.urgent.open(
            callback, "crisis", language, time.time() + deadline_after("crisis", self.settings)
        )
        self.jobs.alert("crisis_alert", reference, callback)  # at the front of the queue
        return Outcome(self._texts(promise, language), "crisis")
