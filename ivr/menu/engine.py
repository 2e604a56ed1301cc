"""The phone menu engine: content nodes in, TwiML out.

Every response ends in a way forward: a `<Gather>` followed by a `<Redirect>`,
a `<Redirect>`, or a hand-off (`<Dial>`, `<Record>`), and only a hang-up node
or a finished hand-off ends a call. Nodes that need no answer (say, language,
text me) are chained into the same response, so the caller hears no gap; what
say and language nodes speak before a menu is spoken inside the menu's
`<Gather>`, so that a caller who already knows what they want (a key, or
words) need not wait for the greeting to end.

Words said at any menu are read for a crisis first (content's crisis reader):
a caller who says they are in danger hears 911 and 988 at once and is put
through to a counselor ahead of every other waiting caller, or to the backup
line when nobody is on call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.callers.caller_id import may_call_back
from ivr.content.model import (
    BackupNode,
    CallbackNode,
    Choice,
    Content,
    CounselorNode,
    HangupNode,
    LanguageNode,
    MenuNode,
    Node,
    Prompt,
    SayNode,
    TextMeNode,
    VoicemailNode,
)
from ivr.content.render import fill
from ivr.crisis.reader import CrisisReading
from ivr.menu.consent import heard_number, negated, spoken_number
from ivr.menu.matching import choose_by_key, choose_by_words, spoken_key, words_beyond_choice
from ivr.menu.state import CallbackConsent, CallState, CallStates
from ivr.routing.holding import queue_name

# A callback number keyed digit by digit: Twilio waits this long for the next
# key (its default, 5 s, cut off people reading a number off a card).
NUMBER_TIMEOUT_SECONDS = 10
# The read-back's "press 1 if that is right" takes keys until this long a
# pause (or #): a single key then costs this wait, a number keyed again is
# heard whole. Twilio's default, 5 s: 4 left too little for an anxious
# caller to begin (it is also the wait for the first key).
CONFIRM_TIMEOUT_SECONDS = 5
MAX_CHAINED_NODES = 12  # `flows check` forbids loops; this guards the call anyway

# A menu phrase with up to this many words more ("uh, talk to someone please")
# is an answer to the menu, read by the crisis rules alone.
MENU_ANSWER_SLACK = 2


class Holds(Protocol):
    """Puts a caller on hold for a counselor (see ivr.routing.holding); an
    urgent caller is rung for ahead of every other waiting caller."""

    def hold(
        self, call_sid: str, caller: str, language: str, node_id: str, *, urgent: bool = False
    ) -> str | None: ...


class CrisisHeard(Protocol):
    """Reads a caller's words for a crisis, and records the decision (no words)."""

    def __call__(self, speech: str, language: str, *, learned: bool = True) -> CrisisReading: ...


class TextRequests(Protocol):
    """Queues "text me this" for the caller's own number, once per call and text:
    "queued", or why not ("unavailable": no number to text; "limited": over its
    hourly cap of texts)."""

    def request(self, call_sid: str, caller: str, text_id: str, language: str) -> str: ...


@dataclass(frozen=True)
class Call:
    sid: str
    caller: str  # the caller's number as Twilio gave it ("From")


UrlFor = Callable[[str, str], str]  # (route name, node or dispatch id) -> absolute URL

# Nodes whose TwiML depends only on content and language: a chain of them renders
# to the same document every time, so it is rendered once (`VoiceEngine._static`).
# A text-me or counselor node acts (queues a text, opens a dispatch): never cached.
STATIC_NODES = (SayNode, LanguageNode, MenuNode, BackupNode, VoicemailNode, HangupNode)


@dataclass(frozen=True)
class Rendered:
    """A static chain, rendered: the document, and where it leaves the caller."""

    document: str
    node: str
    language: str


class VoiceEngine:
    def __init__(
        self,
        content: Content,
        states: CallStates,
        texts: TextRequests,
        url_for: UrlFor,
        backup_number: str,
        holds: Holds,
        crisis_heard: CrisisHeard | None = None,
    ) -> None:
        self.content = content
        self.crisis_heard = crisis_heard
        self.states = states
        self.texts = texts
        self.holds = holds
        self.url_for = url_for
        self.backup_number = backup_number
        # (first node, language) -> the rendered chain. Serialising TwiML was a
        # third of a menu step's time (docs/benchmarks.md); the keys are bounded
        # by the content's nodes times its languages. Content never changes while
        # the line runs, and a dict's get and set are atomic across threads.
        self._static: dict[tuple[str, str], Rendered] = {}
        self._first_menu, self._greeting = self._start()  # content is fixed while the line runs

    # -- entry points, one per webhook -------------------------------------

    def incoming(self, call: Call) -> str:
        state = CallState(language=self.content.default_language, node="")
        return self._enter(call, state, self.content.voice.start)

    def node(self, call: Call, node_id: str) -> str:
        """Render a node the caller was sent to; an unknown node or an expired
        call starts over at the greeting rather than failing."""
        state = self.states.load(call.sid)
        if state is None or node_id not in self.content.voice.nodes:
            return self.incoming(call)
        return self._enter(call, state, node_id)

    def answer(self, call: Call, node_id: str, digits: str, speech: str) -> str:
        """The caller's reply to a menu: a key, words, or silence."""
        state = self.states.load(call.sid)
        menu = self.content.voice.nodes.get(node_id)
        if state is None or not isinstance(menu, MenuNode):
            return self.incoming(call)
        choice = self._choose(menu, state.language, digits, speech)
        if choice is not None and not digits and self._consents_to_caller_id(choice, speech):
            choice = None  # "do not call this number": asked again, never read as yes
        # Words that answer the menu ("again", "money", "two", "se me está acabando
        # el medicamento") are read by the crisis rules alone: a score on a menu
        # phrase is no reading of a person. Speech with more than MENU_ANSWER_SLACK
        # words besides the phrase is read whole: of the corpus's crises that hold
        # a menu phrase ("someone", "quit"), the rules alone missed 257, read
        # whole 4 (docs/crisis.md).
        learned = choice is None or self._beyond_menu(menu, state.language, speech)
        if self._sounds_like_crisis(speech, state.language, learned=learned):
            return self.crisis(call, state)
        if choice is not None:
            return self._enter(call, state, choice.next)
        tries = (state.tries if state.node == node_id else 0) + 1
        limit = menu.tries or self.content.navigation.tries
        response = VoiceResponse()
        if tries >= limit:
            self._say(response, state.language, self.content.prompts["too_many_tries"])
            return self._enter(
                call, state, menu.on_fail or self.content.navigation.on_fail, response
            )
        heard_nothing = not digits and not speech.strip()
        self._say(
            response,
            state.language,
            self.content.prompts["no_input" if heard_nothing else "not_understood"],
        )
        state.node, state.tries = node_id, tries
        self.states.save(call.sid, state)
        # A "hello?" as the call connects cuts the greeting short (it is spoken
        # inside the menu's Gather): the first re-prompt of the first menu says
        # it again, 911 and 988 first.
        first_failure = tries == 1 and node_id == self._first_menu
        again = [(state.language, prompt) for prompt in self._greeting] if first_failure else []
        self._gather(response, state.language, menu, with_intro=False, before=again)
        return str(response)

    def _start(self) -> tuple[str | None, tuple[Prompt, ...]]:
        """The menu the start of a call leads into through say and language
        nodes, and what the say nodes on the way say (the greeting)."""
        nodes = self.content.voice.nodes
        node = nodes.get(self.content.voice.start)
        said: list[Prompt] = []
        for _ in range(MAX_CHAINED_NODES):
            if isinstance(node, MenuNode):
                return node.id, tuple(said)
            if not isinstance(node, SayNode | LanguageNode):
                break
            if isinstance(node, SayNode):
                said.append(node.say)
            node = nodes.get(node.next)
        return None, tuple(said)

    def crisis(self, call: Call, state: CallState) -> str:
        """The caller's words read as a crisis: 911 and 988 first, then a person
        now — a counselor, rung ahead of every other waiting caller, or the
        always-staffed backup line when nobody is on call."""
        response = VoiceResponse()
        language = state.language
        self._say(response, language, self.content.prompts["crisis_heard"])
        nodes = self.content.voice.nodes
        person = nodes.get(self.content.navigation.person.next)
        if isinstance(person, CounselorNode):
            dispatch_id = self.holds.hold(call.sid, call.caller, language, person.id, urgent=True)
            if dispatch_id is not None:
                response.enqueue(
                    queue_name(dispatch_id),
                    wait_url=self.url_for("hold", dispatch_id),
                    action=self.url_for("queue_done", dispatch_id),
                )
                state.node, state.tries = person.id, 0
                self.states.save(call.sid, state)
                return str(response)
        following = self._backup() or self.content.navigation.on_fail
        return self._enter(call, state, following, response)

    def dial_done(self, call: Call, node_id: str, dial_status: str) -> str:
        """After a hand-off to a person: a finished conversation ends the call;
        anything else goes on to the node's safe next step."""
        response = VoiceResponse()
        if dial_status == "completed":
            response.hangup()
            return str(response)
        state = self.states.load(call.sid)
        node = self.content.voice.nodes.get(node_id)
        if state is None or not isinstance(node, BackupNode):
            return self.incoming(call)
        self._say(response, state.language, self.content.prompts["backup_unreachable"])
        return self._enter(call, state, node.next, response)

    def consent_number(self, call: Call, node_id: str, digits: str, speech: str) -> str:
        """The callback number a caller keyed or said: read back to confirm,
        or asked for again; too many unclear tries leave a message with no
        call back (never a guess at a number)."""
        state = self.states.load(call.sid)
        node = self.content.voice.nodes.get(node_id)
        if state is None or not isinstance(node, CallbackNode) or node.confirm is None:
            return self.incoming(call)
        if self._sounds_like_crisis(speech, state.language, learned=True):
            return self.crisis(call, state)
        number = heard_number(digits, speech)
        response = VoiceResponse()
        if number is not None:
            self._consent(call.sid, CallbackConsent("pending", number))
            state.node, state.tries = node_id, 0
            self.states.save(call.sid, state)
            self._confirm(response, state.language, node, number)
            return str(response)
        return self._again(call, state, node, digits, speech, response, ask_number=True)

    def consent_confirm(self, call: Call, node_id: str, digits: str, speech: str) -> str:
        """Yes to the number read back: the message, with that number kept for
        the call back. The choice that leads back here: the number again."""
        state = self.states.load(call.sid)
        node = self.content.voice.nodes.get(node_id)
        given = self.states.consent_of(call.sid)
        if state is None or not isinstance(node, CallbackNode):
            return self.incoming(call)
        if self._sounds_like_crisis(speech, state.language, learned=True):
            return self.crisis(call, state)
        if given is None or given.how != "pending" or node.confirm is None:
            return self._enter(call, state, node.id)  # the number is gone: ask again
        if len(digits.strip()) > 1:
            # The number keyed again over the read-back: read that one back.
            return self.consent_number(call, node_id, digits, "")
        choice = self._choose_among(node.choices, state.language, digits, speech)
        accepts = choice is not None and choice in node.choices and choice.next != node.id
        if accepts and not digits and negated(speech):
            choice = None  # "that isn't right": asked again, never read as yes
        if choice is not None:
            if choice in node.choices and choice.next != node.id:
                self._consent(call.sid, CallbackConsent("number", given.number))
            return self._enter(call, state, choice.next)
        response = VoiceResponse()
        return self._again(call, state, node, digits, speech, response, number=given.number)

    def _again(
        self,
        call: Call,
        state: CallState,
        node: CallbackNode,
        digits: str,
        speech: str,
        response: VoiceResponse,
        *,
        ask_number: bool = False,
        number: str = "",
    ) -> str:
        tries = (state.tries if state.node == node.id else 0) + 1
        if tries >= self.content.navigation.tries:
            self._say(response, state.language, self.content.prompts["callback_none"])
            self._consent(call.sid, CallbackConsent("none"))
            return self._enter(call, state, node.next, response)
        heard_nothing = not digits and not speech.strip()
        unclear = "callback_unclear" if ask_number else "not_understood"
        self._say(
            response, state.language, self.content.prompts["no_input" if heard_nothing else unclear]
        )
        state.node, state.tries = node.id, tries
        self.states.save(call.sid, state)
        if ask_number or not number:
            self._ask_number(response, state.language, node)
        else:
            self._confirm(response, state.language, node, number)
        return str(response)

    def _consents_to_caller_id(self, choice: Choice, speech: str) -> bool:
        """Words that would pick "call me back at this number" while turning it
        around ("not this number", "no al mismo número")."""
        target = self.content.voice.nodes.get(choice.next)
        calls_here = isinstance(target, CallbackNode) and target.consent == "this_number"
        return calls_here and negated(speech)

    def _sounds_like_crisis(self, speech: str, language: str, *, learned: bool) -> bool:
        heard = self.crisis_heard
        return (
            bool(speech.strip())
            and heard is not None
            and heard(speech, language, learned=learned).crisis
        )

    def _consent(self, call_sid: str, consent: CallbackConsent) -> None:
        self.states.save_consent(call_sid, consent)

    def _callback(
        self, response: VoiceResponse, call: Call, language: str, node: CallbackNode
    ) -> str | None:
        """Ask, or note, how the caller may be called back; the next node to
        chain into, or None when the caller is asked for a number."""
        if node.consent == "none":
            self._consent(call.sid, CallbackConsent("none"))
        elif node.consent == "this_number":
            if not may_call_back(call.caller):
                # A withheld caller ID, or a placeholder for one: ask for a number.
                self._say(response, language, self.content.prompts["callback_withheld"])
                return node.withheld
            self._consent(call.sid, CallbackConsent("caller_id", call.caller))
        else:
            self._ask_number(response, language, node)
            return None
        if node.say is not None:
            self._say(response, language, node.say)
        return node.next

    def _ask_number(self, response: VoiceResponse, language: str, node: CallbackNode) -> None:
        locale = self.content.locales[language]
        gather = Gather(
            input="dtmf speech",
            finish_on_key="#",
            timeout=NUMBER_TIMEOUT_SECONDS,
            speech_timeout="auto",
            language=locale.speech_language,
            action=self.url_for("consent_number", node.id),
        )
        if node.say is not None:
            self._say(gather, language, node.say)
        response.append(gather)
        response.redirect(self.url_for("consent_number", node.id))

    def _confirm(
        self, response: VoiceResponse, language: str, node: CallbackNode, number: str
    ) -> None:
        locale = self.content.locales[language]
        words = [w for c in node.choices for w in c.words.get(language, ())]
        # No numDigits: a caller who hears a wrong number often just keys it
        # again, and its first digit (a 1) must not confirm the wrong one. A
        # single key is taken after CONFIRM_TIMEOUT_SECONDS of quiet, or at #.
        gather = Gather(
            input="dtmf speech",
            finish_on_key="#",
            timeout=CONFIRM_TIMEOUT_SECONDS,
            speech_timeout="auto",
            language=locale.speech_language,
            action=self.url_for("consent_confirm", node.id),
            hints=", ".join(dict.fromkeys(words)),
        )
        if node.confirm is not None:
            self._say(gather, language, node.confirm, {"number": spoken_number(number)})
        response.append(gather)
        response.redirect(self.url_for("consent_confirm", node.id))

    def after_recording(self, call: Call, node_id: str) -> str:
        state = self.states.load(call.sid)
        node = self.content.voice.nodes.get(node_id)
        if state is None or not isinstance(node, VoicemailNode):
            return self.incoming(call)
        return self._enter(call, state, node.next)

    def after_hold(
        self, call: Call, node_id: str, chose_voicemail: bool, *, urgent: bool = False
    ) -> str:
        """The caller left the hold without a counselor: their choice of a
        message, or the counselor node's other choices — or, for a caller whose
        words read as a crisis, the always-staffed backup line."""
        state = self.states.load(call.sid)
        node = self.content.voice.nodes.get(node_id)
        if not isinstance(node, CounselorNode):
            return self.incoming(call)
        state = state or CallState(language=self.content.default_language, node=node_id)
        if urgent and not chose_voicemail:
            backup = self._backup()
            if backup is not None:
                return self._enter(call, state, backup)
        return self._enter(call, state, node.voicemail if chose_voicemail else node.next)

    def _backup(self) -> str | None:
        """The always-staffed line's node, if content has one."""
        nodes = self.content.voice.nodes.values()
        return next((n.id for n in nodes if isinstance(n, BackupNode)), None)

    def language_of(self, call_sid: str) -> str:
        state = self.states.load(call_sid)
        return state.language if state else self.content.default_language

    # -- rendering ---------------------------------------------------------

    def _beyond_menu(self, menu: MenuNode, language: str, speech: str) -> bool:
        nav = self.content.navigation
        choices = [*menu.choices, nav.main_menu, nav.person]
        return words_beyond_choice(speech, language, choices) > MENU_ANSWER_SLACK

    def _choose(self, menu: MenuNode, language: str, digits: str, speech: str) -> Choice | None:
        return self._choose_among(menu.choices, language, digits, speech)

    def _choose_among(
        self, choices: tuple[Choice, ...], language: str, digits: str, speech: str
    ) -> Choice | None:
        """One of CHOICES, or `*` and `0` (the main menu, a person) from anywhere."""
        nav = self.content.navigation
        everywhere = (nav.main_menu, nav.person)
        offered = [c for c in choices if c.offered_in(language)]
        key = digits[:1] if digits else (spoken_key(speech, language) if speech else None)
        if key:
            return choose_by_key(key, offered) or choose_by_key(key, everywhere)
        if speech:
            return choose_by_words(speech, language, offered) or choose_by_words(
                speech, language, everywhere
            )
        return None

    def _enter(
        self, call: Call, state: CallState, node_id: str, response: VoiceResponse | None = None
    ) -> str:
        """Walk from `node_id` through the nodes that chain, render them after
        `response` (if any), save where the caller is, and return the document."""
        cacheable = response is None
        key = (node_id, state.language)
        rendered = self._static.get(key) if cacheable else None
        if rendered is None:
            response = response if response is not None else VoiceResponse()
            static = self._walk(response, call, state, node_id)
            rendered = Rendered(str(response), state.node, state.language)
            if cacheable and static:
                self._static[key] = rendered
        state.node, state.language, state.tries = rendered.node, rendered.language, 0
        self.states.save(call.sid, state)
        return rendered.document

    def _walk(self, response: VoiceResponse, call: Call, state: CallState, node_id: str) -> bool:
        """Render the chain from `node_id` into `response`; True when every node
        in it was static (the same document for every caller in this language)."""
        nodes = self.content.voice.nodes
        static = True
        spoken: list[tuple[str, Prompt]] = []  # said before a menu: inside its <Gather>
        for _ in range(MAX_CHAINED_NODES):
            node = nodes.get(node_id)
            if node is None:  # content is checked at start; never leave a caller hanging
                node = nodes[self.content.navigation.person.next]
            state.node, state.tries = node.id, 0
            static = static and isinstance(node, STATIC_NODES)
            if isinstance(node, SayNode | LanguageNode):
                if isinstance(node, LanguageNode):
                    state.language = node.language
                if node.say is not None:
                    spoken.append((state.language, node.say))
                node_id = node.next
                continue
            if isinstance(node, MenuNode):
                self._gather(response, state.language, node, with_intro=True, before=spoken)
                spoken = []
                break
            self._speak(response, spoken)
            spoken = []
            following = self._render(response, call, state, node)
            if following is None:
                break
            node_id = following
        else:
            self._speak(response, spoken)
            response.redirect(self.url_for("node", node_id))
        return static

    def _speak(self, response: VoiceResponse | Gather, spoken: list[tuple[str, Prompt]]) -> None:
        for language, prompt in spoken:
            self._say(response, language, prompt)

    def _render(
        self, response: VoiceResponse, call: Call, state: CallState, node: Node
    ) -> str | None:
        """Add one node's TwiML (not a say or language node's: `_walk` speaks
        those); return the next node to chain into, if any."""
        language = state.language  # say and language nodes are spoken by _walk
        if isinstance(node, TextMeNode):
            requested = self.texts.request(call.sid, call.caller, node.text, language)
            if requested == "queued":
                self._say(response, language, node.say)
            elif requested == "limited":
                self._say(response, language, self.content.prompts["text_limited"])
            else:
                self._say(response, language, self.content.prompts["text_unavailable"])
            return node.next
        if isinstance(node, MenuNode):
            self._gather(response, language, node, with_intro=True)
        elif isinstance(node, CounselorNode):
            dispatch_id = self.holds.hold(call.sid, call.caller, language, node.id)
            if dispatch_id is None:
                return node.next  # nobody on call: straight to the other choices
            self._say(response, language, node.say)
            response.enqueue(
                queue_name(dispatch_id),
                wait_url=self.url_for("hold", dispatch_id),
                action=self.url_for("queue_done", dispatch_id),
            )
        elif isinstance(node, BackupNode):
            self._say(response, language, node.say)
            dial = response.dial(
                action=self.url_for("dial_done", node.id), timeout=node.ring_seconds
            )
            dial.number(self.backup_number)
        elif isinstance(node, VoicemailNode):
            self._say(response, language, node.say)
            response.record(
                action=self.url_for("recorded", node.id),
                max_length=node.max_seconds,
                finish_on_key="#",
                play_beep=True,
                timeout=10,
            )
            # Silence records nothing and Twilio moves on without calling the
            # action: go on to the node after the voicemail all the same.
            response.redirect(self.url_for("node", node.next))
        elif isinstance(node, CallbackNode):
            return self._callback(response, call, language, node)
        elif isinstance(node, HangupNode):
            self._say(response, language, node.say)
            response.hangup()
        return None

    def _gather(
        self,
        response: VoiceResponse,
        language: str,
        menu: MenuNode,
        *,
        with_intro: bool,
        before: list[tuple[str, Prompt]] | None = None,
    ) -> None:
        locale = self.content.locales[language]
        nav = self.content.navigation
        offered = [c for c in menu.choices if c.offered_in(language)]
        hints = [
            w for c in (*offered, nav.person, nav.main_menu) for w in c.words.get(language, ())
        ]
        gather = Gather(
            input="dtmf speech",
            num_digits=1,
            action=self.url_for("answer", menu.id),
            timeout=nav.gather_timeout_seconds,
            speech_timeout="auto",
            language=locale.speech_language,
            hints=", ".join(dict.fromkeys(hints)),
        )
        # Inside the <Gather>: a key or words during the greeting answer the menu.
        self._speak(gather, before or [])
        if with_intro and menu.intro is not None:
            self._say(gather, language, menu.intro)
        # The offer of another language, by that language's voice (the caller's
        # would mispronounce it), before the choices: its speakers need not sit
        # through a menu they may not follow. Still inside the <Gather>.
        for offer in (c.offer for c in offered if c.offer is not None):
            for spoken_in in offer.by_language:
                self._say(gather, spoken_in, offer)
        self._say(gather, language, menu.say)
        response.append(gather)
        # No input falls through the <Gather>: the same URL hears the silence.
        response.redirect(self.url_for("answer", menu.id))

    def _say(
        self,
        verb: VoiceResponse | Gather,
        language: str,
        prompt: Prompt,
        values: dict[str, str] | None = None,
    ) -> None:
        locale = self.content.locales[language]
        verb.say(
            fill(self.content, prompt.text(language), language, "voice", values),
            voice=locale.say_voice,
            language=locale.say_language,
        )
