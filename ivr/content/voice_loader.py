"""Parse `flows/voice.yaml`: the phone menu's nodes, each by its type, and the
choices a caller makes in a menu (the two in `line.yaml` that work in every
menu are written the same way)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ivr.content.model import (
    CONSENTS,
    BackupNode,
    CallbackNode,
    Choice,
    CounselorNode,
    HangupNode,
    LanguageNode,
    MenuNode,
    Node,
    Prompt,
    SayNode,
    TextMeNode,
    VoiceFlow,
    VoicemailNode,
)
from ivr.content.reader import Reader
from ivr.content.yamlsrc import SourceList, SourceMap, Where

VOICE_FILE = "voice.yaml"
VALID_KEYS = frozenset("0123456789*#")


def read_choice(
    reader: Reader, data: Any, where: Where, what: str, *, may_offer: bool = False
) -> Choice | None:
    """One choice of a menu (or of `navigation`): its keys, its words in each
    language it is offered in, and the node it leads to. A menu's choice
    (MAY_OFFER) can carry an `offer`, said in the language it switches to."""
    item = reader.mapping(data, where, what)
    optional = {"keys", "words", "languages"} | ({"offer"} if may_offer else set())
    if item is None or not reader.fields(item, what, {"next"}, optional):
        return None
    offered = item.get("languages", [])
    if not isinstance(offered, list) or any(x not in reader.languages for x in offered):
        reader.problem(item.at("languages"), f"{what}: 'languages' must list known languages")
        offered = []
    keys: list[str] = []
    raw_keys = item.get("keys", [])
    if not isinstance(raw_keys, list):
        raw_keys = [raw_keys]
    for key in raw_keys:
        key_text = str(key)
        if key_text not in VALID_KEYS:
            reader.problem(item.at("keys"), f"{what}: '{key_text}' is not a phone key (0-9 * #)")
        else:
            keys.append(key_text)
    words: dict[str, tuple[str, ...]] = {}
    raw_words = item.get("words")
    if raw_words is not None:
        word_map = reader.mapping(raw_words, item.at("words"), f"{what} words")
        wanted = offered or list(reader.languages)
        for language in word_map or {}:
            if language not in wanted:
                reader.problem(
                    item.at("words"),
                    f"{what}: words for '{language}', where the choice is not offered",
                )
        for language in wanted:
            said = word_map.get(language) if word_map is not None else None
            if isinstance(said, list) and all(isinstance(w, str) and w.strip() for w in said):
                words[language] = tuple(w.strip() for w in said)
            else:
                reader.problem(
                    item.at("words"),
                    f"{what}: missing translation '{language}' for 'words' (a list of phrases)",
                )
    if not keys and not words:
        reader.problem(item.where, f"{what}: needs 'keys' or 'words'")
    return Choice(
        tuple(keys),
        words,
        reader.text(item, "next", what),
        item.where,
        tuple(offered),
        _offer(reader, item, what),
    )


def _offer(reader: Reader, item: SourceMap, what: str) -> Prompt | None:
    """`offer: {es: "Para español, oprima 9."}`: one language, the one the
    choice switches to (`flows check` holds it to that); the other languages
    are not asked for, as the offer is never said in them."""
    if "offer" not in item:
        return None
    raw, where = item.get("offer"), item.at("offer")
    if not isinstance(raw, SourceMap) or len(raw) != 1:
        reader.problem(where, f"{what}: 'offer' must give its text in one language")
        return None
    language, text = next(iter(raw.items()))
    if language not in reader.languages:
        reader.problem(where, f"{what}: 'offer' in unknown language '{language}'")
        return None
    if not isinstance(text, str) or not text.strip():
        reader.problem(where, f"{what}: 'offer' must be non-empty text")
        return None
    return Prompt({str(language): " ".join(text.split())}, where)


NodeParser = Callable[[Reader, str, SourceMap], Node]


def _say_node(reader: Reader, node_id: str, data: SourceMap) -> Node:
    what = f"node '{node_id}'"
    reader.fields(data, what, {"type", "say"}, {"next"})  # no next: a dead end, reported later
    say = reader.required_prompt(data, "say", what)
    return SayNode(node_id, data.where, say, reader.text(data, "next", what))


def _menu_node(reader: Reader, node_id: str, data: SourceMap) -> Node:
    what = f"node '{node_id}'"
    reader.fields(data, what, {"type", "say", "choices"}, {"intro", "tries", "on_fail"})
    say = reader.required_prompt(data, "say", what)
    intro = reader.prompt(data, "intro", what)
    raw = data.get("choices")
    choices: list[Choice] = []
    if isinstance(raw, SourceList):
        for index, (item, where) in enumerate(zip(raw, raw.item_where, strict=True), start=1):
            choice = read_choice(reader, item, where, f"{what} choice {index}", may_offer=True)
            if choice is not None:
                choices.append(choice)
    elif "choices" in data:
        reader.problem(data.at("choices"), f"{what}: 'choices' must be a list")
    tries = reader.integer(data, "tries", what, 1, 5)
    on_fail = reader.text(data, "on_fail", what) if "on_fail" in data else None
    return MenuNode(node_id, data.where, say, tuple(choices), intro, tries, on_fail)


def _language_node(reader: Reader, node_id: str, data: SourceMap) -> Node:
    what = f"node '{node_id}'"
    reader.fields(data, what, {"type", "language", "next"}, {"say"})
    language = reader.text(data, "language", what)
    if language and language not in reader.languages:
        reader.problem(data.at("language"), f"{what}: unknown language '{language}'")
    return LanguageNode(
        node_id,
        data.where,
        language,
        reader.text(data, "next", what),
        reader.prompt(data, "say", what),
    )


def _text_me_node(reader: Reader, node_id: str, data: SourceMap) -> Node:
    what = f"node '{node_id}'"
    reader.fields(data, what, {"type", "text", "say", "next"}, set())
    say = reader.required_prompt(data, "say", what)
    text_id = reader.text(data, "text", what)
    return TextMeNode(node_id, data.where, text_id, say, reader.text(data, "next", what))


def _counselor_node(reader: Reader, node_id: str, data: SourceMap) -> Node:
    what = f"node '{node_id}'"
    reader.fields(data, what, {"type", "say", "next", "voicemail"}, set())
    say = reader.required_prompt(data, "say", what)
    return CounselorNode(
        node_id,
        data.where,
        say,
        reader.text(data, "next", what),
        reader.text(data, "voicemail", what),
    )


def _backup_node(reader: Reader, node_id: str, data: SourceMap) -> Node:
    what = f"node '{node_id}'"
    reader.fields(data, what, {"type", "say", "next"}, {"ring_seconds"})
    say = reader.required_prompt(data, "say", what)
    ring = reader.integer(data, "ring_seconds", what, 5, 120) or 30
    return BackupNode(node_id, data.where, say, reader.text(data, "next", what), ring)


def _voicemail_node(reader: Reader, node_id: str, data: SourceMap) -> Node:
    what = f"node '{node_id}'"
    reader.fields(data, what, {"type", "say", "next"}, {"max_seconds"})
    say = reader.required_prompt(data, "say", what)
    limit = reader.integer(data, "max_seconds", what, 10, 600) or 120
    next_id = reader.text(data, "next", what)
    return VoicemailNode(node_id, data.where, say, next_id, limit)


def _callback_node(reader: Reader, node_id: str, data: SourceMap) -> Node:
    what = f"node '{node_id}'"
    reader.fields(
        data, what, {"type", "consent", "next"}, {"say", "withheld", "confirm", "choices"}
    )
    consent = reader.text(data, "consent", what)
    if consent and consent not in CONSENTS:
        reader.problem(data.at("consent"), f"{what}: consent must be one of {', '.join(CONSENTS)}")
    choices: list[Choice] = []
    raw = data.get("choices", [])
    if isinstance(raw, list):
        for i, item in enumerate(raw):
            choice = read_choice(reader, item, data.at("choices"), f"{what} choice {i + 1}")
            if choice is not None:
                choices.append(choice)
    else:
        reader.problem(data.at("choices"), f"{what}: 'choices' must be a list")
    node = CallbackNode(
        node_id,
        data.where,
        consent,
        reader.text(data, "next", what),
        reader.prompt(data, "say", what),
        reader.text(data, "withheld", what) if "withheld" in data else "",
        reader.prompt(data, "confirm", what),
        tuple(choices),
    )
    if consent == "this_number" and not node.withheld:
        reader.problem(
            data.where, f"{what}: this_number needs 'withheld', the node that asks for a number"
        )
    if consent == "other_number" and (node.say is None or node.confirm is None or not choices):
        reader.problem(data.where, f"{what}: other_number needs 'say', 'confirm' and 'choices'")
    return node


def _hangup_node(reader: Reader, node_id: str, data: SourceMap) -> Node:
    what = f"node '{node_id}'"
    reader.fields(data, what, {"type", "say"}, set())
    say = reader.required_prompt(data, "say", what)
    return HangupNode(node_id, data.where, say)


NODE_PARSERS: dict[str, NodeParser] = {
    "say": _say_node,
    "menu": _menu_node,
    "language": _language_node,
    "text_me": _text_me_node,
    "counselor": _counselor_node,
    "backup": _backup_node,
    "voicemail": _voicemail_node,
    "callback": _callback_node,
    "hangup": _hangup_node,
}


def read_voice(reader: Reader, data: SourceMap) -> VoiceFlow | None:
    reader.fields(data, VOICE_FILE, {"start", "nodes"}, set())
    nodes: dict[str, Node] = {}
    raw_nodes = reader.mapping(data.get("nodes"), data.at("nodes"), "nodes")
    for node_id, raw in (raw_nodes or {}).items():
        where = raw_nodes.at(node_id) if raw_nodes else data.where
        entry = reader.mapping(raw, where, f"node '{node_id}'")
        if entry is None:
            continue
        kind = entry.get("type")
        parser = NODE_PARSERS.get(kind) if isinstance(kind, str) else None
        if parser is None:
            reader.problem(
                entry.at("type"),
                f"node '{node_id}': 'type' must be one of {', '.join(sorted(NODE_PARSERS))}",
            )
            continue
        nodes[str(node_id)] = parser(reader, str(node_id), entry)
    return VoiceFlow(reader.text(data, "start", VOICE_FILE), nodes, data.where)
