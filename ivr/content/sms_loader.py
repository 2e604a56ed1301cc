"""Parse `flows/sms.yaml`: keywords, compliance words and the roles of replies.
(What reads as a crisis is in flows/crisis/: ivr/content/crisis_loader.py.)"""

from __future__ import annotations

from typing import Any

from ivr.content.loader import Reader
from ivr.content.model import SMS_REPLY_ROLES, Keyword, SmsFlow
from ivr.content.yamlsrc import SourceMap, Where

SMS_FILE = "sms.yaml"
ACTIONS = ("reply", "callback", "language")


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
    if compliance is not None and reader.fields(compliance, "compliance", set(lists), set()):
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
        raw_replies, "replies", set(SMS_REPLY_ROLES), set()
    ):
        replies = {role: reader.text(raw_replies, role, "replies") for role in SMS_REPLY_ROLES}
        places.update({f"replies.{role}": raw_replies.at(role) for role in SMS_REPLY_ROLES})

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

    return SmsFlow(
        tuple(keywords),
        lists["opt_out"],
        lists["opt_in"],
        lists["help"],
        replies,
        data.where,
        places,
    )
