"""`helpline flows check`: every way content can hurt a caller, found before it ships.

Shape problems come from the loader; this module adds what needs the whole
graph: unknown and unreachable nodes, dead ends, menus with no way to a person,
prompts too long to hear, texts over two SMS segments, unknown placeholders,
and a greeting or fallback that does not put the crisis numbers first.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ivr.content.compliance import KINDS, ComplianceReader, phrase_of
from ivr.content.crisis_loader import corpus_problems, unfitted
from ivr.content.loader import ContentError, read_content
from ivr.content.model import (
    NEXT_SHIFT_VALUE,
    PROMPT_VALUES,
    SMS_ROLES_WITHOUT_OPT_OUT,
    TEXT_VALUES,
    WAIT_VALUES,
    BackupNode,
    CallbackNode,
    Choice,
    Content,
    CounselorNode,
    LanguageNode,
    MenuNode,
    Node,
    Prompt,
    SayNode,
    SmsFlow,
    TextMeNode,
    successors,
)
from ivr.content.normalize import normalize
from ivr.content.render import (
    RUNTIME_PLACEHOLDERS,
    clock_time,
    fill,
    known_placeholders,
    placeholders,
)
from ivr.content.segments import count_segments
from ivr.content.signature import Signature, tree_signature
from ivr.content.yamlsrc import Where
from ivr.platform.problems import Problem

# Telephone speech runs at about 150 words a minute; past ~40 s a caller forgets
# the first choice before hearing the last.
WORDS_PER_SECOND = 2.5
MAX_PROMPT_SECONDS = 40
MAX_SMS_SEGMENTS = 2
# A caller holds about five choices in mind; "repeat" and "main menu" are extra.
MAX_MENU_CHOICES = 5
OPT_OUT_WORD = "STOP"  # carriers require every first text to say how to opt out
log = logging.getLogger("helpline.content")
CRISIS_RESOURCES = ("emergency", "crisis")
# Characters XML 1.0 cannot carry, escaped or not: TwiML with one of them does
# not parse, and Twilio answers the caller with an application error.
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def node_prompts(node: Node) -> Iterator[Prompt]:
    for name in ("intro", "say"):
        prompt = getattr(node, name, None)
        if isinstance(prompt, Prompt):
            yield prompt
    if isinstance(node, MenuNode):
        yield from (c.offer for c in node.choices if c.offer is not None)


def _problem(where: Where, message: str) -> Problem:
    return Problem(where.file, where.line, message)


def _references(content: Content) -> Iterator[Problem]:
    nodes = content.voice.nodes
    nav = content.navigation
    if content.voice.start not in nodes:
        yield _problem(content.voice.where, f"start: unknown node '{content.voice.start}'")
    for name, target in (("main", nav.main), ("on_fail", nav.on_fail)):
        if target not in nodes:
            yield _problem(nav.where, f"navigation.{name}: unknown node '{target}'")
    if nav.main in nodes and not isinstance(nodes[nav.main], MenuNode):
        yield _problem(nav.where, f"navigation.main: '{nav.main}' is not a menu")
    for name, choice in (("main_menu", nav.main_menu), ("person", nav.person)):
        if choice.next not in nodes:
            yield _problem(choice.where, f"navigation.{name}: unknown node '{choice.next}'")
    person = nodes.get(nav.person.next)
    if person is not None and not isinstance(person, CounselorNode):
        yield _problem(nav.person.where, "navigation.person must lead to a counselor node")
    for node in nodes.values():
        for target, where in successors(node, content):
            if target and target not in nodes:
                yield _problem(where, f"node '{node.id}': unknown node '{target}'")
        if isinstance(node, TextMeNode) and node.text not in content.texts:
            yield _problem(node.where, f"node '{node.id}': unknown text '{node.text}'")


def _node_ids(content: Content) -> Iterator[Problem]:
    """A node id is one segment of the URL Twilio requests next (/voice/menu/<id>):
    with a "/" in it, or as "." or "..", which HTTP clients fold away, that
    request finds no route and the call ends in Twilio's application error."""
    for node in content.voice.nodes.values():
        if not node.id or "/" in node.id or node.id in (".", ".."):
            yield _problem(node.where, f"node id '{node.id}' cannot be part of a URL")


def _xml_characters(content: Content) -> Iterator[Problem]:
    """Everything said or texted, and every spoken phrase (the hints of a
    <Gather>), goes into TwiML, which is XML."""
    prompts: list[tuple[str, Prompt]] = [
        (f"node '{node.id}'", prompt)
        for node in content.voice.nodes.values()
        for prompt in node_prompts(node)
    ]
    prompts += [(f"prompt '{name}'", prompt) for name, prompt in content.prompts.items()]
    prompts += [(f"text '{t}'", part) for t, parts in content.texts.items() for part in parts]
    for what, prompt in prompts:
        for language, text in prompt.by_language.items():
            found = NOT_IN_XML.search(fill(content, text, language, "voice"))
            found = found or NOT_IN_XML.search(fill(content, text, language, "sms"))
            if found:
                yield _problem(
                    prompt.where, f"{what} ({language}): {found.group()!r} cannot be sent in TwiML"
                )
    nav = content.navigation
    choices = [
        c for n in content.voice.nodes.values() if isinstance(n, MenuNode) for c in n.choices
    ]
    for choice in (*choices, nav.main_menu, nav.person):
        for language, phrases in choice.words.items():
            for phrase in phrases:
                if found := NOT_IN_XML.search(phrase):
                    yield _problem(
                        choice.where,
                        f"words ({language}): {found.group()!r} cannot be sent in TwiML",
                    )


def _dead_ends(content: Content) -> Iterator[Problem]:
    nodes = content.voice.nodes
    for node in nodes.values():
        if isinstance(node, SayNode) and not node.next:
            yield _problem(node.where, f"dead end: node '{node.id}' says something, then nothing")
        if isinstance(node, MenuNode) and not node.choices:
            yield _problem(node.where, f"dead end: menu '{node.id}' has no choices")
    # A chain of nodes that never waits for the caller and never ends would
    # redirect forever: Twilio drops such a call.
    for node in nodes.values():
        seen: set[str] = set()
        current: Node | None = node
        while isinstance(current, SayNode | LanguageNode | TextMeNode) and current.next:
            if current.id in seen:
                yield _problem(node.where, f"dead end: node '{node.id}' loops without a menu")
                break
            seen.add(current.id)
            current = nodes.get(current.next)


def _unreachable(content: Content) -> Iterator[Problem]:
    nodes = content.voice.nodes
    nav = content.navigation
    reached: set[str] = set()
    todo = [content.voice.start, nav.main, nav.on_fail, nav.person.next, nav.main_menu.next]
    while todo:
        node_id = todo.pop()
        if node_id in reached or node_id not in nodes:
            continue
        reached.add(node_id)
        todo.extend(target for target, _ in successors(nodes[node_id], content))
    for node in nodes.values():
        if node.id not in reached:
            yield _problem(node.where, f"unreachable node '{node.id}'")


def _menus(content: Content) -> Iterator[Problem]:
    nodes = content.voice.nodes
    nav = content.navigation
    global_keys: dict[str, Choice] = {k: nav.main_menu for k in nav.main_menu.keys}
    global_keys.update({k: nav.person for k in nav.person.keys})
    for node in nodes.values():
        if not isinstance(node, MenuNode):
            continue
        if not any(isinstance(nodes.get(c.next), CounselorNode | BackupNode) for c in node.choices):
            yield _problem(
                node.where, f"menu '{node.id}' has no choice that reaches a person (a counselor)"
            )
        for language in content.languages:
            offered = [c for c in node.choices if c.offered_in(language)]
            yield from _menu_choices(node, offered, language, global_keys)


def _menu_choices(
    node: MenuNode, offered: list[Choice], language: str, global_keys: dict[str, Choice]
) -> Iterator[Problem]:
    real = [c for c in offered if c.next != node.id]  # "repeat" is not a choice to weigh
    if len(real) > MAX_MENU_CHOICES:
        yield _problem(
            node.where,
            f"menu '{node.id}' ({language}) offers {len(real)} choices; "
            f"keep it to {MAX_MENU_CHOICES} plus repeat and main menu",
        )
    phrases: dict[str, Choice] = {}
    for choice in offered:
        for phrase in choice.words.get(language, ()):
            said = normalize(phrase)
            other = phrases.setdefault(said, choice)
            if other is not choice and other.next != choice.next:
                yield _problem(
                    choice.where,
                    f"menu '{node.id}' ({language}): '{phrase}' "
                    f"could mean '{other.next}' or '{choice.next}'",
                )
    seen: dict[str, Choice] = {}
    for choice in offered:
        for key in choice.keys:
            if key in seen and seen[key] is not choice:
                yield _problem(choice.where, f"menu '{node.id}': key '{key}' used twice")
            seen[key] = choice
            everywhere = global_keys.get(key)
            if everywhere is not None and everywhere.next != choice.next:
                yield _problem(
                    choice.where,
                    f"menu '{node.id}': key '{key}' always means '{everywhere.next}'",
                )


def _offers(content: Content) -> Iterator[Problem]:
    """An offer is said in the language its choice switches to, by that
    language's voice: it must lead to a language node of that language, and
    never be said to callers already in it."""
    nodes = content.voice.nodes
    for node in nodes.values():
        for choice in node.choices if isinstance(node, MenuNode) else ():
            target = nodes.get(choice.next)
            switches_to = target.language if isinstance(target, LanguageNode) else None
            said_in_another = switches_to is not None and any(
                choice.offered_in(other) for other in content.languages if other != switches_to
            )
            if said_in_another and (
                choice.offer is None or switches_to not in choice.offer.by_language
            ):
                # Written into the menu's own prompt it would be read by the
                # other language's voice (issue 18, item 3).
                yield _problem(
                    choice.where,
                    f"menu '{node.id}': a choice that switches to '{switches_to}' needs an "
                    f"'offer' in '{switches_to}', said by that language's voice",
                )
            if choice.offer is None:
                continue
            for language in choice.offer.by_language:
                target = nodes.get(choice.next)
                if not isinstance(target, LanguageNode) or target.language != language:
                    yield _problem(
                        choice.offer.where,
                        f"menu '{node.id}': an offer in '{language}' must lead to a "
                        f"language node that switches to '{language}'",
                    )
                if choice.offered_in(language):
                    yield _problem(
                        choice.offer.where,
                        f"menu '{node.id}': the offer in '{language}' would be said to "
                        f"callers already in '{language}' (give the choice 'languages')",
                    )


def _words(content: Content, text: str, language: str) -> int:
    return len(fill(content, text, language, "voice").split())


def _prompt_problems(
    content: Content,
    prompt: Prompt,
    what: str,
    sms: bool,
    runtime: frozenset[str] = frozenset(),
    samples: Mapping[str, Mapping[str, str]] | None = None,
) -> Iterator[Problem]:
    """SAMPLES: per language, the longest values runtime placeholders are
    likely to take, filled in before a text's length is counted."""
    known = known_placeholders(content) | runtime
    for language, text in prompt.by_language.items():
        for name in placeholders(text):
            if name not in known:
                yield _problem(prompt.where, f"{what}: unknown placeholder '{{{name}}}'")
        if sms:
            values = dict(samples.get(language, {})) if samples else None
            count = count_segments(fill(content, text, language, "sms", values))
            if count.segments > MAX_SMS_SEGMENTS:
                reason = (
                    f"; {count.forced_by!r} forces UCS-2" if count.forced_by is not None else ""
                )
                yield _problem(
                    prompt.where,
                    f"{what} ({language}) is {count.segments} SMS segments "
                    f"({count.units} {count.encoding} characters{reason}); "
                    f"keep it to {MAX_SMS_SEGMENTS}",
                )
        else:
            seconds = _words(content, text, language) / WORDS_PER_SECOND
            if seconds > MAX_PROMPT_SECONDS:
                yield _problem(
                    prompt.where,
                    f"{what} ({language}) is about {seconds:.0f} s of speech; "
                    f"keep it under {MAX_PROMPT_SECONDS} s",
                )


def _wait_samples(content: Content) -> dict[str, dict[str, dict[str, str]]]:
    """Text id -> language -> the values ivr/sms/wait.py fills in it, at their
    longest: a person keyword's reply (the wait), and talk_nobody_until (the
    next shift's start, at 12:59 in a zone with a four-letter abbreviation)."""
    found: dict[str, dict[str, dict[str, str]]] = {}
    for keyword in content.sms.keywords:
        if keyword.action == "person":
            found[keyword.reply] = {lang: dict(WAIT_VALUES) for lang in content.languages}
    until = content.sms.replies.get("talk_nobody_until")
    if until is not None:
        late = datetime(2025, 1, 15, 12, 59, tzinfo=ZoneInfo("America/Anchorage"))
        found[until] = {
            lang: {
                NEXT_SHIFT_VALUE: max(
                    (clock_time(content, lang, late, tomorrow=day) for day in (False, True)),
                    key=len,
                )
            }
            for lang in content.languages
        }
    return found


def _lengths_and_placeholders(content: Content) -> Iterator[Problem]:
    for node in content.voice.nodes.values():
        for prompt in node_prompts(node):
            yield from _prompt_problems(content, prompt, f"node '{node.id}'", sms=False)
        if isinstance(node, CallbackNode) and node.confirm is not None:
            number = frozenset({"number"})  # the engine reads the number back
            yield from _prompt_problems(content, node.confirm, f"node '{node.id}'", False, number)
    for name, prompt in content.prompts.items():
        values = frozenset(PROMPT_VALUES.get(name, ()))
        yield from _prompt_problems(content, prompt, f"prompt '{name}'", False, values)
    alerts = {
        content.sms.replies.get(r)
        for r in ("crisis_alert", "callback_alert", "message_alert", "talk_alert", "talk_handed")
    }
    urgent = {content.sms.replies.get(r) for r in ("urgent_alert", "message_urgent", "talk_urgent")}
    staff = {
        content.sms.replies.get(r) for r in ("urgent_taken", "urgent_not_taken", "message_taken")
    }
    exempt = {content.sms.replies.get(role) for role in SMS_ROLES_WITHOUT_OPT_OUT}
    samples = _wait_samples(content)
    for text_id, parts in content.texts.items():
        runtime = RUNTIME_PLACEHOLDERS if text_id in alerts else frozenset()
        if text_id in urgent:
            runtime = frozenset({"ref", "minutes"})  # workers/escalate.py fills them
        elif text_id in staff:
            runtime = frozenset({"ref"})  # ivr/sms/handler.py fills it
        runtime |= frozenset(TEXT_VALUES.get(text_id, ()))
        filled = samples.get(text_id)
        if filled:
            runtime |= frozenset(filled[content.default_language])
        for prompt in parts:
            yield from _prompt_problems(content, prompt, f"text '{text_id}'", True, runtime, filled)
        if text_id in exempt or text_id in TEXT_VALUES:
            continue
        for language, first in parts[0].by_language.items() if parts else ():
            if OPT_OUT_WORD not in first:
                yield _problem(
                    parts[0].where,
                    f"text '{text_id}' ({language}): the first "
                    f"message must say how to opt out ({OPT_OUT_WORD})",
                )


def _crisis_first(content: Content) -> Iterator[Problem]:
    """In every language, the greeting and the fallback name 911 and 988
    before the caller hears any menu."""
    nodes = content.voice.nodes
    before_menu: list[Prompt] = []
    node = nodes.get(content.voice.start)
    seen: set[str] = set()
    while node is not None and node.id not in seen and not isinstance(node, MenuNode):
        seen.add(node.id)
        before_menu += list(node_prompts(node))
        node = nodes.get(getattr(node, "next", ""))
    if isinstance(node, MenuNode) and node.intro is not None:
        before_menu.append(node.intro)
    start = nodes.get(content.voice.start)
    checks = [("the greeting", before_menu, start.where if start else content.voice.where)]
    fallback = content.prompts.get("fallback")
    if fallback is not None:
        checks.append(("prompt 'fallback'", [fallback], fallback.where))
    for what, prompts, where in checks:
        for language in content.languages:
            said = " ".join(p.by_language.get(language, "") for p in prompts)
            for resource in CRISIS_RESOURCES:
                if f"{{{resource}}}" not in said:
                    yield _problem(
                        where, f"{what} ({language}) must name {{{resource}}} before any menu"
                    )


# Twilio's own keywords (twilio-facts.md): the line must honour every one.
TWILIO_KEYWORDS = {
    "opt_out": ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"),
    "opt_in": ("START", "YES", "UNSTOP"),
    "help": ("HELP", "INFO"),
}


def _sms(content: Content) -> Iterator[Problem]:
    sms = content.sms
    for role, text_id in sms.replies.items():
        if text_id not in content.texts:
            yield _problem(sms.at(f"replies.{role}"), f"replies.{role}: unknown text '{text_id}'")
    for name, required in TWILIO_KEYWORDS.items():
        missing = [w for w in required if w not in getattr(sms, name)]
        if missing:
            yield _problem(
                sms.at(f"compliance.{name}"), f"compliance.{name} must include {', '.join(missing)}"
            )
    reader = ComplianceReader(sms)
    yield from _compliance_words(sms, reader)
    claimed: dict[tuple[str, str], str] = {}
    for keyword in sms.keywords:
        if keyword.reply not in content.texts:
            yield _problem(keyword.where, f"keyword '{keyword.id}': unknown text '{keyword.reply}'")
        for language, words in keyword.words.items():
            for word in words:
                said = normalize(word)
                if reader.whole(word) is not None:
                    yield _problem(
                        keyword.where,
                        f"keyword '{keyword.id}': '{word}' is a compliance word "
                        "(STOP/START/HELP); it cannot mean anything else",
                    )
                elif (opt_out := reader.sentence(word)) is not None:
                    yield _problem(
                        keyword.where,
                        f"keyword '{keyword.id}': '{word}' reads as an opt-out "
                        f"('{opt_out.pattern}'); it cannot mean anything else",
                    )
                other = claimed.setdefault((language, said), keyword.id)
                if other != keyword.id:
                    yield _problem(
                        keyword.where, f"keyword '{keyword.id}': '{word}' already means '{other}'"
                    )


def _compliance_words(sms: SmsFlow, reader: ComplianceReader) -> Iterator[Problem]:
    """A word in two compliance lists means two things; an example of an
    opt-out sentence must be read as content says it is (one that must opt
    out, and a look-alike that must not)."""
    lists: dict[tuple[str, ...], str] = {}
    for kind in KINDS:
        named = [*getattr(sms, kind)]
        for words in sms.by_language.values():
            named += words.get(kind, ())
        for word in named:
            other = lists.setdefault(phrase_of(word), kind)
            if other != kind:
                yield _problem(
                    sms.at(f"compliance.{kind}"),
                    f"compliance: '{word}' is in both {other} and {kind}",
                )
    for language, sentences in sms.sentences.items():
        for example in sentences.examples:
            # As the line reads a text (ivr/sms/reading.py): the whole message, then a sentence.
            whole = reader.whole(example.text)
            sentence = reader.sentence(example.text) if whole is None else None
            opts_out = whole.kind == "opt_out" if whole is not None else sentence is not None
            if example.opts_out and not opts_out:
                yield _problem(
                    example.where,
                    f"compliance.sentences.{language}: '{example.text}' must opt out, "
                    "and no word or sentence reads it so",
                )
            elif not example.opts_out and opts_out:
                why = f"'{sentence.pattern}'" if sentence is not None else "a compliance word"
                yield _problem(
                    example.where,
                    f"compliance.sentences.{language}: '{example.text}' must not opt out, "
                    f"and {why} reads it so",
                )


def check_content(content: Content) -> list[Problem]:
    problems: list[Problem] = []
    for rule in (
        _references,
        _node_ids,
        _xml_characters,
        _dead_ends,
        _unreachable,
        _menus,
        _offers,
        _lengths_and_placeholders,
        _crisis_first,
        _sms,
    ):
        problems.extend(rule(content))
    return sorted(set(problems))


def check_directory(directory: Path) -> list[Problem]:
    content, problems = read_content(directory)
    if content is not None:
        problems = problems + check_content(content)
    return sorted(set(problems + corpus_problems(directory)))


def check_remembered(directory: Path) -> tuple[list[Problem], datetime]:
    """`check_directory`'s answer and when it was made, made again only once a
    file under DIRECTORY has changed. The admin content page asks on every
    view, and a check of the shipped content took 3.5 s of a core here
    (2026-12-07, mostly the 5,400 training examples and the n-gram model):
    one check at a time per process, and the others wait for its answer."""
    key = directory.resolve()
    with _checking:
        signature = tree_signature(key)  # before the check: an edit during it is seen next time
        remembered = _remembered.get(key)
        if remembered is None or remembered[0] != signature:
            remembered = (signature, check_directory(directory), datetime.now(UTC))
            _remembered[key] = remembered
    return list(remembered[1]), remembered[2]


# directory -> (its files' signature, the problems found, when)
_remembered: dict[Path, tuple[Signature, list[Problem], datetime]] = {}
_checking = threading.Lock()


def load_content(directory: Path) -> Content:
    """The content, only if it passes every check: the line never runs on broken content."""
    content, problems = read_content(directory)
    if content is not None:
        problems = problems + check_content(content)
    if problems or content is None:
        raise ContentError(sorted(set(problems)))
    for problem in unfitted(directory):
        log.warning("content: %s (the line runs with the model as it is)", problem)
    return content
