"""Parse `flows/` into a `Content`, collecting every problem with its place.

Shape errors (a missing field, a wrong type, an unknown field, a missing
translation) are found here; graph errors (unknown or unreachable nodes, dead
ends, menus without a person) are found by `ivr.content.check`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ivr.content.crisis_loader import read_crisis
from ivr.content.model import (
    SYSTEM_PROMPTS,
    BackupNode,
    Choice,
    Content,
    CounselorNode,
    HangupNode,
    LanguageNode,
    Locale,
    MenuNode,
    Navigation,
    Node,
    Prompt,
    Resource,
    SayNode,
    TextMeNode,
    VoiceFlow,
    VoicemailNode,
)
from ivr.content.yamlsrc import SourceList, SourceMap, Where, YamlProblem, load_yaml
from ivr.platform.problems import FileProblems, Problem

LINE_FILE, VOICE_FILE, TEXTS_FILE, SMS_FILE = "line.yaml", "voice.yaml", "texts.yaml", "sms.yaml"
VALID_KEYS = frozenset("0123456789*#")

T = TypeVar("T")


class ContentError(FileProblems):
    """Content that cannot be used: every problem, each with its place."""


@dataclass
class Reader:
    """Reads typed fields out of located YAML, noting problems instead of stopping."""

    languages: tuple[str, ...] = ()
    problems: list[Problem] = field(default_factory=list)

    def problem(self, where: Where, message: str) -> None:
        self.problems.append(Problem(where.file, where.line, message))

    def mapping(self, value: Any, where: Where, what: str) -> SourceMap | None:
        if isinstance(value, SourceMap):
            return value
        self.problem(where, f"{what} must be a mapping")
        return None

    def fields(self, data: SourceMap, what: str, required: set[str], optional: set[str]) -> bool:
        ok = True
        for name in sorted(required - data.keys()):
            self.problem(data.where, f"{what}: missing '{name}'")
            ok = False
        for name in data:
            if name not in required | optional:
                self.problem(data.at(name), f"{what}: unknown field '{name}'")
        return ok

    def text(self, data: SourceMap, key: str, what: str) -> str:
        if key not in data:
            return ""  # reported once, by fields()
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        self.problem(data.at(key), f"{what}: '{key}' must be non-empty text")
        return ""

    def integer(self, data: SourceMap, key: str, what: str, low: int, high: int) -> int | None:
        if key not in data:
            return None
        value = data[key]
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        self.problem(data.at(key), f"{what}: '{key}' must be a whole number {low}..{high}")
        return None

    def prompt(self, data: SourceMap, key: str, what: str) -> Prompt | None:
        """A {language: text} mapping that must hold every language."""
        if key not in data:
            return None
        value = data[key]
        where = data.at(key)
        if not isinstance(value, SourceMap):
            self.problem(where, f"{what}: '{key}' must map each language to its text")
            return None
        texts: dict[str, str] = {}
        for language in self.languages:
            said = value.get(language)
            if isinstance(said, str) and said.strip():
                texts[language] = " ".join(said.split())
            else:
                self.problem(where, f"{what}: missing translation '{language}' for '{key}'")
        for language in value:
            if language not in self.languages:
                self.problem(value.at(language), f"{what}: unknown language '{language}'")
        return Prompt(texts, where)

    def required_prompt(self, data: SourceMap, key: str, what: str) -> Prompt:
        """The prompt, or an empty one (the problem noted) so the node still
        takes its place in the graph and causes no second, misleading report."""
        if key not in data:
            self.problem(data.where, f"{what}: missing '{key}'")
        found = self.prompt(data, key, what) if key in data else None
        return found if found is not None else Prompt({}, data.at(key))


def _file(directory: Path, name: str, reader: Reader) -> SourceMap | None:
    path = directory / name
    if not path.is_file():
        reader.problem(Where(name, 1), f"missing content file {name}")
        return None
    try:
        data = load_yaml(path, name)
    except YamlProblem as problem:
        reader.problem(problem.where, problem.message)
        return None
    return reader.mapping(data, Where(name, 1), name)


def _choice(reader: Reader, data: Any, where: Where, what: str) -> Choice | None:
    item = reader.mapping(data, where, what)
    if item is None or not reader.fields(item, what, {"next"}, {"keys", "words", "languages"}):
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
    return Choice(tuple(keys), words, reader.text(item, "next", what), item.where, tuple(offered))


def _line(reader: Reader, data: SourceMap) -> dict[str, Any]:
    what = LINE_FILE
    reader.fields(
        data, what, {"languages", "locales", "name", "resources", "navigation", "prompts"}, set()
    )
    languages = data.get("languages")
    if isinstance(languages, list) and languages and all(isinstance(x, str) for x in languages):
        reader.languages = tuple(languages)
    else:
        reader.problem(data.at("languages"), "languages must be a list of language codes")
        reader.languages = ("en",)

    locales: dict[str, Locale] = {}
    locale_map = reader.mapping(data.get("locales"), data.at("locales"), "locales") or SourceMap()
    for code in reader.languages:
        entry = locale_map.get(code)
        if not isinstance(entry, SourceMap):
            reader.problem(
                locale_map.where if locale_map else data.where,
                f"locales: missing locale for language '{code}'",
            )
            continue
        label = f"locale '{code}'"
        reader.fields(
            entry, label, {"label", "say_voice", "say_language", "speech_language"}, set()
        )
        locales[code] = Locale(
            code,
            reader.text(entry, "label", label),
            reader.text(entry, "say_voice", label),
            reader.text(entry, "say_language", label),
            reader.text(entry, "speech_language", label),
        )

    name_prompt = reader.required_prompt(data, "name", "line")
    resources: dict[str, Resource] = {}
    resource_map = reader.mapping(data.get("resources"), data.at("resources"), "resources")
    for name, entry in (resource_map or {}).items():
        label = f"resource '{name}'"
        raw = reader.mapping(entry, resource_map.at(name) if resource_map else data.where, label)
        if raw is None or not reader.fields(raw, label, {"text", "spoken"}, set()):
            continue
        spoken = reader.prompt(raw, "spoken", label)
        resources[str(name)] = Resource(
            str(name), reader.text(raw, "text", label), spoken.by_language if spoken else {}
        )

    navigation = None
    nav = reader.mapping(data.get("navigation"), data.at("navigation"), "navigation")
    if nav is not None and reader.fields(
        nav,
        "navigation",
        {"main_menu", "person", "main", "tries", "on_fail"},
        {"gather_timeout_seconds"},
    ):
        main_menu = _choice(reader, nav["main_menu"], nav.at("main_menu"), "navigation.main_menu")
        person = _choice(reader, nav["person"], nav.at("person"), "navigation.person")
        tries = reader.integer(nav, "tries", "navigation", 1, 5)
        timeout = reader.integer(nav, "gather_timeout_seconds", "navigation", 3, 15) or 6
        if main_menu and person and tries:
            navigation = Navigation(
                main_menu,
                person,
                reader.text(nav, "main", "navigation"),
                tries,
                reader.text(nav, "on_fail", "navigation"),
                timeout,
                nav.where,
            )

    prompts: dict[str, Prompt] = {}
    prompt_map = reader.mapping(data.get("prompts"), data.at("prompts"), "prompts")
    if prompt_map is not None:
        for name in SYSTEM_PROMPTS:
            found = reader.required_prompt(prompt_map, name, "prompts")
            if found is not None:
                prompts[name] = found
        for name in prompt_map:
            if name not in SYSTEM_PROMPTS:
                reader.problem(prompt_map.at(name), f"prompts: unknown system prompt '{name}'")
    return {
        "locales": locales,
        "line_name": name_prompt.by_language if name_prompt else {},
        "resources": resources,
        "navigation": navigation,
        "prompts": prompts,
    }


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
            choice = _choice(reader, item, where, f"{what} choice {index}")
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
    "hangup": _hangup_node,
}


def _voice(reader: Reader, data: SourceMap) -> VoiceFlow | None:
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


def _texts(reader: Reader, data: SourceMap) -> dict[str, tuple[Prompt, ...]]:
    """Each text is one message, or a list of messages sent in order."""
    reader.fields(data, TEXTS_FILE, {"texts"}, set())
    texts: dict[str, tuple[Prompt, ...]] = {}
    raw = reader.mapping(data.get("texts"), data.at("texts"), "texts")
    if raw is None:
        return texts
    for text_id, value in raw.items():
        what = f"text '{text_id}'"
        items = value if isinstance(value, SourceList) else None
        if items is None:
            holder = SourceMap({"part": value})
            holder.where, holder.key_where = raw.at(text_id), {"part": raw.at(text_id)}
            parts = [reader.prompt(holder, "part", what)]
        else:
            parts = []
            for index, (item, where) in enumerate(zip(items, items.item_where, strict=True), 1):
                holder = SourceMap({f"part {index}": item})
                holder.where, holder.key_where = where, {f"part {index}": where}
                parts.append(reader.prompt(holder, f"part {index}", what))
            if not parts:
                reader.problem(raw.at(text_id), f"{what}: has no messages")
        if parts and all(part is not None for part in parts):
            texts[str(text_id)] = tuple(part for part in parts if part is not None)
    return texts


def read_content(directory: Path) -> tuple[Content | None, list[Problem]]:
    """Everything that could be parsed, and every problem found on the way."""
    reader = Reader()
    line_data = _file(directory, LINE_FILE, reader)
    voice_data = _file(directory, VOICE_FILE, reader)
    texts_data = _file(directory, TEXTS_FILE, reader)
    sms_data = _file(directory, SMS_FILE, reader)
    line = _line(reader, line_data) if line_data is not None else None
    voice = _voice(reader, voice_data) if voice_data is not None else None
    texts = _texts(reader, texts_data) if texts_data is not None else None
    from ivr.content.sms_loader import read_sms  # sms_loader builds on this module's Reader

    sms = read_sms(reader, sms_data) if sms_data is not None else None
    crisis, crisis_problems = read_crisis(directory)
    reader.problems += crisis_problems
    if (
        line is None
        or voice is None
        or texts is None
        or sms is None
        or crisis is None
        or (line["navigation"] is None)
    ):
        return None, sorted(reader.problems)
    content = Content(
        languages=reader.languages,
        voice=voice,
        texts=texts,
        sms=sms,
        crisis=crisis,
        files=(LINE_FILE, VOICE_FILE, TEXTS_FILE, SMS_FILE),
        **line,
    )
    return content, sorted(reader.problems)
