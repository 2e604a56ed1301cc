"""Parse `flows/sms.yaml`: keywords, compliance words and the roles of replies.
(What reads as a crisis is in flows/crisis/: ivr/content/crisis_loader.py.)"""

from __future__ import annotations

import re
from typing import Any

from ivr.content.compliance import phrase_of
from ivr.content.model import (
    SMS_OPTIONAL_ROLES,
    SMS_REPLY_ROLES,
    Keyword,
    OptOutExample,
    OptOutPattern,
    OptOutSentences,
    SmsFlow,
    Token,
)
from ivr.content.reader import Reader
from ivr.content.yamlsrc import SourceList, SourceMap, Where

SMS_FILE = "sms.yaml"
# person: a text conversation with a counselor (issue 19).
ACTIONS = ("reply", "callback", "language", "person")
LANGUAGE_LISTS = ("opt_out", "opt_in", "help", "courtesy")
_GROUP = re.compile(r"^\{([a-z_]+)\}$")


def _word_list(reader: Reader, value: Any, where: Where, what: str) -> tuple[str, ...]:
    if isinstance(value, list) and any(isinstance(w, bool) for w in value):
        reader.problem(
            where, f"{what}: YAML reads a bare YES, NO, ON or OFF as true/false; quote the words"
        )
        return ()
    if isinstance(value, list) and value and all(isinstance(w, str) and w.strip() for w in value):
        return tuple(w.strip() for w in value)
    reader.problem(where, f"{what} must be a list of words")
    return ()


def _words_by_language(
    reader: Reader, data: SourceMap, key: str, what: str, *, every_language: bool
) -> dict[str, tuple[str, ...]]:
    raw = reader.mapping(data.get(key), data.at(key), f"{what} '{key}'")
    words: dict[str, tuple[str, ...]] = {}
    if raw is None:
        return words
    for language, value in raw.items():
        if language not in reader.languages:
            reader.problem(raw.at(language), f"{what}: unknown language '{language}'")
            continue
        words[language] = _word_list(reader, value, raw.at(language), f"{what} {key}.{language}")
    if every_language:
        for language in reader.languages:
            if language not in raw:
                reader.problem(raw.where, f"{what}: missing translation '{language}' for '{key}'")
    elif not words:
        reader.problem(raw.where, f"{what}: '{key}' needs words in at least one language")
    return words


def _keyword(reader: Reader, keyword_id: str, data: SourceMap) -> Keyword | None:
    what = f"keyword '{keyword_id}'"
    if not reader.fields(data, what, {"words", "reply"}, {"action", "language"}):
        return None
    action = data.get("action", "reply")
    if action not in ACTIONS:
        reader.problem(data.at("action"), f"{what}: 'action' must be one of {', '.join(ACTIONS)}")
    language = data.get("language")
    if action == "language" and language not in reader.languages:
        reader.problem(
            data.at("language") if "language" in data else data.where,
            f"{what}: a language keyword needs a known 'language'",
        )
    words = _words_by_language(reader, data, "words", what, every_language=False)
    return Keyword(
        keyword_id,
        words,
        reader.text(data, "reply", what),
        str(action),
        data.where,
        language if isinstance(language, str) else None,
    )


def read_sms(reader: Reader, data: SourceMap) -> SmsFlow:
    reader.fields(data, SMS_FILE, {"compliance", "replies", "keywords"}, set())
    compliance = reader.mapping(data.get("compliance"), data.at("compliance"), "compliance")
    places: dict[str, Where] = {}
    lists: dict[str, tuple[str, ...]] = {"opt_out": (), "opt_in": (), "help": ()}
    if compliance is not None and reader.fields(
        compliance, "compliance", set(lists), {"languages", "sentences"}
    ):
        for name in lists:
            places[f"compliance.{name}"] = compliance.at(name)
            lists[name] = tuple(
                w.upper()
                for w in _word_list(
                    reader, compliance[name], compliance.at(name), f"compliance.{name}"
                )
            )

    replies: dict[str, str] = {}
    raw_replies = reader.mapping(data.get("replies"), data.at("replies"), "replies")
    if raw_replies is not None and reader.fields(
        raw_replies, "replies", set(SMS_REPLY_ROLES), set(SMS_OPTIONAL_ROLES)
    ):
        given = [*SMS_REPLY_ROLES, *(r for r in SMS_OPTIONAL_ROLES if r in raw_replies)]
        replies = {role: reader.text(raw_replies, role, "replies") for role in given}
        places.update({f"replies.{role}": raw_replies.at(role) for role in given})

    keywords: list[Keyword] = []
    raw_keywords = reader.mapping(data.get("keywords"), data.at("keywords"), "keywords")
    for keyword_id, value in (raw_keywords or {}).items():
        entry = reader.mapping(
            value,
            raw_keywords.at(keyword_id) if raw_keywords else data.where,
            f"keyword '{keyword_id}'",
        )
        if entry is not None:
            found = _keyword(reader, str(keyword_id), entry)
            if found is not None:
                keywords.append(found)

    by_language: dict[str, dict[str, tuple[str, ...]]] = {}
    sentences: dict[str, OptOutSentences] = {}
    if compliance is not None:
        by_language = _by_language(reader, compliance)
        sentences = _sentences(reader, compliance)

    return SmsFlow(
        tuple(keywords),
        lists["opt_out"],
        lists["opt_in"],
        lists["help"],
        replies,
        data.where,
        places,
        by_language,
        sentences,
    )


def _by_language(reader: Reader, compliance: SourceMap) -> dict[str, dict[str, tuple[str, ...]]]:
    """`compliance.languages`: one language's own whole-message words; a reply
    to one of them is in that language."""
    if "languages" not in compliance:
        return {}
    raw = reader.mapping(
        compliance["languages"], compliance.at("languages"), "compliance.languages"
    )
    found: dict[str, dict[str, tuple[str, ...]]] = {}
    if raw is None:
        return found
    for language, value in raw.items():
        what = f"compliance.languages.{language}"
        if language not in reader.languages:
            reader.problem(raw.at(language), f"compliance.languages: unknown language '{language}'")
            continue
        lists = reader.mapping(value, raw.at(language), what)
        if lists is None or not reader.fields(lists, what, set(), set(LANGUAGE_LISTS)):
            continue
        found[str(language)] = {
            name: tuple(
                w.upper() for w in _word_list(reader, lists[name], lists.at(name), f"{what}.{name}")
            )
            for name in LANGUAGE_LISTS
            if name in lists
        }
    return found


def _phrases(reader: Reader, data: SourceMap, key: str, what: str) -> tuple[tuple[str, ...], ...]:
    if key not in data:
        return ()
    words = _word_list(reader, data[key], data.at(key), f"{what}.{key}")
    return tuple(p for p in (phrase_of(w) for w in words) if p)


def _sentences(reader: Reader, compliance: SourceMap) -> dict[str, OptOutSentences]:
    """`compliance.sentences`: per language, sentences that ask for no more
    messages. Optional; when given, every language of the line must have them
    (an opt-out is honoured in whichever of them it is said)."""
    if "sentences" not in compliance:
        return {}
    raw = reader.mapping(
        compliance["sentences"], compliance.at("sentences"), "compliance.sentences"
    )
    if raw is None:
        return {}
    found: dict[str, OptOutSentences] = {}
    for language in reader.languages:
        if language not in raw:
            reader.problem(raw.where, f"compliance.sentences: missing translation '{language}'")
    for language, value in raw.items():
        what = f"compliance.sentences.{language}"
        if language not in reader.languages:
            reader.problem(raw.at(language), f"compliance.sentences: unknown language '{language}'")
            continue
        data = reader.mapping(value, raw.at(language), what)
        if data is None or not reader.fields(
            data,
            what,
            {"say", "negated_by", "about_others"},
            {"groups", "except_after", "examples"},
        ):
            continue
        groups = _groups(reader, data, what)
        found[str(language)] = OptOutSentences(
            language=str(language),
            patterns=_patterns(reader, data, what, groups),
            negated_by=_phrases(reader, data, "negated_by", what),
            except_after=_phrases(reader, data, "except_after", what),
            about_others=_phrases(reader, data, "about_others", what),
            examples=_examples(reader, data, what),
            where=raw.at(language),
        )
    return found


def _groups(reader: Reader, data: SourceMap, what: str) -> dict[str, tuple[tuple[str, ...], ...]]:
    if "groups" not in data:
        return {}
    raw = reader.mapping(data["groups"], data.at("groups"), f"{what}.groups")
    groups: dict[str, tuple[tuple[str, ...], ...]] = {}
    if raw is None:
        return groups
    for name in raw:
        if not isinstance(name, str) or not re.fullmatch(r"[a-z_]+", name):
            reader.problem(
                raw.at(name), f"{what}.groups: '{name}' must be lower-case letters and _"
            )
            continue
        groups[name] = _phrases(reader, raw, name, f"{what}.groups")
    return groups


def _patterns(
    reader: Reader, data: SourceMap, what: str, groups: dict[str, tuple[tuple[str, ...], ...]]
) -> tuple[OptOutPattern, ...]:
    """`say`: each a sentence's words, in order. A word is `{group}` (any of the
    group's words or phrases) or `a|b|c`; a `?` after it: it may be missing."""
    value = data.get("say")
    places = value.item_where if isinstance(value, SourceList) else []
    sources = _word_list(reader, value, data.at("say"), f"{what}.say")
    patterns: list[OptOutPattern] = []
    for n, source in enumerate(sources):
        where = places[n] if n < len(places) else data.at("say")
        tokens: list[Token] = []
        for raw_token in source.split():
            optional = raw_token.endswith("?")
            token = raw_token.rstrip("?")
            group = _GROUP.match(token)
            if group is not None:
                alternatives = groups.get(group.group(1))
                if alternatives is None:
                    reader.problem(where, f"{what}.say: '{source}': unknown group '{token}'")
                    alternatives = ()
            else:
                alternatives = tuple(p for p in (phrase_of(w) for w in token.split("|")) if p)
                if not alternatives:
                    reader.problem(where, f"{what}.say: '{source}': '{raw_token}' has no word")
            tokens.append((alternatives, optional))
        if tokens and all(optional for _, optional in tokens):
            reader.problem(where, f"{what}.say: '{source}': every word is optional")
            continue
        if all(alternatives for alternatives, _ in tokens):
            patterns.append(OptOutPattern(source, tuple(tokens), where))
    return tuple(patterns)


def _examples(reader: Reader, data: SourceMap, what: str) -> tuple[OptOutExample, ...]:
    """`examples`: texts `flows check` reads: `opt_out` ones must opt out, `not`
    ones must not (the look-alikes: "how do I stop taking klonopin safely")."""
    if "examples" not in data:
        return ()
    raw = reader.mapping(data["examples"], data.at("examples"), f"{what}.examples")
    if raw is None or not reader.fields(raw, f"{what}.examples", set(), {"opt_out", "not"}):
        return ()
    examples: list[OptOutExample] = []
    for key in ("opt_out", "not"):
        if key not in raw:
            continue
        value = raw[key]
        places = value.item_where if isinstance(value, SourceList) else []
        texts = _word_list(reader, value, raw.at(key), f"{what}.examples.{key}")
        for n, text in enumerate(texts):
            where = places[n] if n < len(places) else raw.at(key)
            examples.append(OptOutExample(text, key == "opt_out", where))
    return tuple(examples)
