"""The labelled examples the crisis reader is fitted on and measured by:
flows/crisis/train.yaml (fitted on) and flows/crisis/heldout.yaml (never)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr.content.yamlsrc import SourceList, SourceMap, Where, YamlProblem, load_yaml
from ivr.platform.problems import Problem

CRISIS_DIR = "crisis"
TRAIN_FILE = "train.yaml"
HELDOUT_FILE = "heldout.yaml"
CATEGORIES = (
    "suicidal",
    "self_harm",
    "overdose",
    "medical_emergency",
    "severe_withdrawal",
    "danger_now",
)
NONE = "none"
LANGUAGES = ("en", "es")


@dataclass(frozen=True)
class Example:
    text: str
    language: str
    label: str  # a category, or "none"
    explicit: bool  # a crisis stated plainly (recall must be 100 %)
    lookalike: bool  # not a crisis, but it shares words with one
    where: Where

    @property
    def crisis(self) -> bool:
        return self.label != NONE


def corpus_digest(path: Path) -> str:
    """What a model records it was trained on: a retrain is due when this changes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _example(item: Any, where: Where, problems: list[Problem]) -> Example | None:
    def problem(message: str) -> None:
        problems.append(Problem(where.file, where.line, message))

    if not isinstance(item, SourceMap):
        problem("an example must be a mapping: {text, lang, label, explicit|lookalike}")
        return None
    text, language, label = item.get("text"), item.get("lang"), item.get("label")
    flag = "lookalike" if label == NONE else "explicit"
    unknown = set(item) - {"text", "lang", "label", flag}
    if unknown:
        problem(f"example: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    if not isinstance(text, str) or not text.strip():
        problem("example: 'text' must be a non-empty text")
        return None
    if language not in LANGUAGES:
        problem(f"example: 'lang' must be one of {', '.join(LANGUAGES)}")
        return None
    if label not in (*CATEGORIES, NONE):
        problem(f"example: 'label' must be one of {', '.join((*CATEGORIES, NONE))}")
        return None
    if not isinstance(item.get(flag), bool):
        problem(f"example: '{flag}' must be true or false for label {label}")
        return None
    return Example(
        text=text,
        language=str(language),
        label=str(label),
        explicit=bool(item.get("explicit", False)),
        lookalike=bool(item.get("lookalike", False)),
        where=where,
    )


def read_examples(path: Path, display_name: str) -> tuple[list[Example], list[Problem]]:
    problems: list[Problem] = []
    try:
        data = load_yaml(path, display_name)
    except YamlProblem as error:
        return [], [Problem(error.where.file, error.where.line, error.message)]
    items = data.get("examples") if isinstance(data, SourceMap) else None
    if not isinstance(items, SourceList):
        where = data.where if isinstance(data, SourceMap) else Where(display_name, 1)
        return [], [Problem(where.file, where.line, "'examples' must be a list")]
    examples: list[Example] = []
    for item, where in zip(items, items.item_where, strict=True):
        example = _example(item, where, problems)
        if example is not None:
            examples.append(example)
    return examples, problems


def load_corpus(directory: Path, name: str) -> list[Example]:
    """Examples of one corpus file; every problem raises (used by train and eval)."""
    examples, problems = read_examples(directory / name, f"{CRISIS_DIR}/{name}")
    if problems:
        raise ValueError("\n".join(str(p) for p in problems))
    return examples
