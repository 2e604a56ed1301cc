"""Reading flows/crisis/rules.yaml into `CrisisRules`, each problem with its line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ivr.content.yamlsrc import SourceList, SourceMap, Where, YamlProblem, load_yaml
from ivr.crisis.corpus import CATEGORIES, LANGUAGES
from ivr.crisis.rules import (
    SHORT_TEXT_WORDS,
    CrisisRules,
    Guards,
    Rule,
    RuleError,
    ShortWord,
    compile_rule,
    guards_of,
    idiom_regex,
    slot_regex,
)
from ivr.crisis.text import fold
from ivr.platform.problems import Problem

RULES_FILE = "rules.yaml"


class _Problems(list[Problem]):
    def at(self, where: Where, message: str) -> None:
        self.append(Problem(where.file, where.line, message))


def _phrases(value: Any, where: Where, what: str, problems: _Problems) -> list[tuple[str, Where]]:
    if not isinstance(value, SourceList) or not value:
        problems.at(where, f"{what}: a non-empty list of phrases is needed")
        return []
    found: list[tuple[str, Where]] = []
    for item, item_where in zip(value, value.item_where, strict=True):
        if not isinstance(item, str) or not item.strip():
            problems.at(item_where, f"{what}: each phrase must be text")
            continue
        found.append((" ".join(item.split()), item_where))
    return found


def _by_language(data: SourceMap, key: str, problems: _Problems) -> SourceMap:
    value = data.get(key)
    if not isinstance(value, SourceMap):
        problems.at(data.at(key), f"'{key}' must map each language ({', '.join(LANGUAGES)})")
        empty = SourceMap()
        empty.where, empty.key_where = data.at(key), {}
        return empty
    for language in LANGUAGES:
        if language not in value:
            problems.at(value.where, f"'{key}': missing language '{language}'")
    for language in value:
        if language not in LANGUAGES:
            problems.at(value.at(language), f"'{key}': unknown language '{language}'")
    return value


def _slots(data: SourceMap, problems: _Problems) -> dict[str, dict[str, str]]:
    slots: dict[str, dict[str, str]] = {language: {} for language in LANGUAGES}
    by_language = _by_language(data, "slots", problems)
    for language in LANGUAGES:
        named = by_language.get(language)
        if language in by_language and not isinstance(named, SourceMap):
            problems.at(by_language.at(language), f"slots.{language}: a mapping of slots")
            continue
        for name, phrases in (named or {}).items():
            assert isinstance(named, SourceMap)
            where = named.at(name)
            if not isinstance(name, str) or not re.fullmatch(r"[a-z_]+", name):
                problems.at(where, f"slots.{language}: a slot's name is a-z and _")
                continue
            listed = [p for p, _ in _phrases(phrases, where, f"slot {name}", problems)]
            try:
                slots[language][name] = slot_regex(listed, slots[language])
            except RuleError as error:
                problems.at(where, f"slot <{name}> ({language}): {error}")
    return slots


def read_rules(path: Path, display_name: str) -> tuple[CrisisRules | None, list[Problem]]:
    problems = _Problems()
    try:
        data = load_yaml(path, display_name)
    except YamlProblem as error:
        return None, [Problem(error.where.file, error.where.line, error.message)]
    if not isinstance(data, SourceMap):
        return None, [Problem(display_name, 1, "rules.yaml must be a mapping")]
    for key in sorted(set(data) - {"slots", "idioms", "guards", "rules", "short"}, key=str):
        problems.at(data.at(key), f"unknown field '{key}'")
    slots = _slots(data, problems)

    idioms: dict[str, re.Pattern[str]] = {}
    idiom_data = _by_language(data, "idioms", problems)
    for language in LANGUAGES:
        if language in idiom_data:
            listed = _phrases(idiom_data[language], idiom_data.at(language), "idioms", problems)
            try:
                idioms[language] = idiom_regex([p for p, _ in listed], slots[language])
            except RuleError as error:
                problems.at(idiom_data.at(language), f"idioms ({language}): {error}")

    rules: list[Rule] = []
    rule_data = data.get("rules")
    if not isinstance(rule_data, SourceMap):
        problems.at(data.at("rules"), "'rules' must map each category to its rules")
        return None, list(problems)
    for category in CATEGORIES:
        if category not in rule_data:
            problems.at(rule_data.where, f"rules: missing category '{category}'")
    for category, by_language in rule_data.items():
        where = rule_data.at(category)
        if category not in CATEGORIES:
            problems.at(where, f"rules: unknown category '{category}'")
            continue
        if not isinstance(by_language, SourceMap):
            problems.at(where, f"rules.{category}: must map each language to its rules")
            continue
        languages = _by_language(rule_data, category, problems)
        for language in LANGUAGES:
            if language not in languages:
                continue
            what = f"rules.{category}.{language}"
            for pattern, at in _phrases(
                languages[language], languages.at(language), what, problems
            ):
                try:
                    rules.append(compile_rule(category, language, pattern, slots[language]))
                except RuleError as error:
                    problems.at(at, f"{what}: {error}")
    short = _short(data, problems)
    guards = _guards(data, slots, problems)
    if problems:
        return None, list(problems)
    return CrisisRules(tuple(rules), idioms, short, guards), []


GUARD_KINDS = ("before", "anywhere")


def _per_language(
    data: SourceMap, key: str, what: str, problems: _Problems
) -> Iterator[tuple[str, SourceMap]]:
    """`KEY:` language -> a mapping (of WHAT): each language's that is one."""
    by_language = _by_language(data, key, problems)
    for language in LANGUAGES:
        if language not in by_language:
            continue
        value = by_language[language]
        if isinstance(value, SourceMap):
            yield language, value
        else:
            problems.at(by_language.at(language), f"{key}.{language}: map {what}")


def _guards(data: SourceMap, slots: dict[str, dict[str, str]], problems: _Problems) -> Guards:
    """`guards:` language -> before / anywhere -> phrases (optional)."""
    if "guards" not in data:
        return Guards()
    phrases: dict[str, tuple[list[str], list[str]]] = {}
    for language, kinds in _per_language(data, "guards", "before/anywhere", problems):
        for kind in kinds:
            if kind not in GUARD_KINDS:
                problems.at(kinds.at(kind), f"guards.{language}: unknown kind '{kind}'")
        listed: list[list[str]] = []
        for kind in GUARD_KINDS:
            what = f"guards.{language}.{kind}"
            found = _phrases(kinds[kind], kinds.at(kind), what, problems) if kind in kinds else []
            for phrase, at in found:
                try:
                    compile_rule("guard", language, phrase, slots[language])
                except RuleError as error:
                    problems.at(at, f"{what}: {error}")
            listed.append([phrase for phrase, _ in found])
        phrases[language] = (listed[0], listed[1])
    if problems:
        return Guards()
    return guards_of(phrases, slots)


def _short(data: SourceMap, problems: _Problems) -> tuple[ShortWord, ...]:
    """`short:` language -> category -> words (one to three plain words each)."""
    if "short" not in data:
        return ()
    found: list[ShortWord] = []
    for language, categories in _per_language(data, "short", "categories to words", problems):
        for category, phrases in categories.items():
            where = categories.at(category)
            if category not in CATEGORIES:
                problems.at(where, f"short.{language}: unknown category '{category}'")
                continue
            for phrase, at in _phrases(phrases, where, f"short.{language}.{category}", problems):
                words = tuple(fold(phrase).split())
                # Three words are a whole short text: "me estoy cortando" reads
                # that text alone, where "estoy cortando" read "estoy cortando
                # cebolla" too.
                plain = all(re.fullmatch(r"[a-z0-9_]+", w) for w in words)
                if not plain or len(words) > SHORT_TEXT_WORDS:
                    problems.at(
                        at,
                        f"short.{language}.{category}: '{phrase}' must be one to "
                        f"{SHORT_TEXT_WORDS} plain words",
                    )
                    continue
                found.append(ShortWord(str(category), language, words))
    return tuple(found)
