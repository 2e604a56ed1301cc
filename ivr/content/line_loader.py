"""Parse `flows/line.yaml`: the line's languages and their voices, its name,
the resources it names ({emergency}, {crisis}), the navigation that works in
every menu, and the system prompts. Read first: its languages are the ones
every other file must translate into."""

from __future__ import annotations

from typing import Any

from ivr.content.model import (
    CLOCK_FIELDS,
    SYSTEM_PROMPTS,
    Clock,
    Locale,
    Navigation,
    Prompt,
    Resource,
)
from ivr.content.reader import Reader
from ivr.content.render import clock_fields
from ivr.content.voice_loader import read_choice
from ivr.content.yamlsrc import SourceMap

LINE_FILE = "line.yaml"


def _clock(reader: Reader, entry: SourceMap, label: str) -> Clock:
    """The locale's way of writing a time of day (`clock`: a pattern before
    noon, `am`, and one from noon, `pm`, and the words for {day}, `today` and
    `tomorrow`); a 24-hour clock when it gives none."""
    if "clock" not in entry:
        return Clock()
    what = f"{label} clock"
    raw = reader.mapping(entry["clock"], entry.at("clock"), what)
    if raw is None or not reader.fields(raw, what, {"am", "pm"}, {"today", "tomorrow"}):
        return Clock()
    for half in ("am", "pm"):
        for name in clock_fields(reader.text(raw, half, what)):
            if name not in CLOCK_FIELDS:
                reader.problem(raw.at(half), f"{what}: unknown field '{{{name}}}'")
    days = {day: reader.text(raw, day, what) for day in ("today", "tomorrow") if day in raw}
    return Clock(reader.text(raw, "am", what), reader.text(raw, "pm", what), **days)


def read_line(reader: Reader, data: SourceMap) -> dict[str, Any]:
    """The fields of `Content` that line.yaml gives, by name. Sets the reader's
    languages, which every file read after it is held to."""
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
            entry,
            label,
            {"label", "names", "say_voice", "say_language", "speech_language"},
            {"clock"},
        )
        locales[code] = Locale(
            code,
            reader.text(entry, "label", label),
            reader.text(entry, "say_voice", label),
            reader.text(entry, "say_language", label),
            reader.text(entry, "speech_language", label),
            # Its name in every language: a missing one is a missing translation.
            reader.required_prompt(entry, "names", label).by_language,
            _clock(reader, entry, label),
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
        main_menu = read_choice(
            reader, nav["main_menu"], nav.at("main_menu"), "navigation.main_menu"
        )
        person = read_choice(reader, nav["person"], nav.at("person"), "navigation.person")
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
