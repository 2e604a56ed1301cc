"""Typed fields out of located YAML (`ivr.content.yamlsrc`), each problem noted
with its place instead of stopping at the first: how every loader of `flows/`
reads its file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ivr.content.model import Prompt
from ivr.content.yamlsrc import SourceMap, Where
from ivr.platform.problems import Problem


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
