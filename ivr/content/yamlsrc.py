"""YAML that remembers where each value came from, so every content problem can
be reported as `file:line: message`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import yaml


class Where:
    """A place in a content file."""

    __slots__ = ("file", "line")

    def __init__(self, file: str, line: int) -> None:
        self.file = file
        self.line = line

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class SourceMap(dict[Any, Any]):
    """A YAML mapping that knows its own line and the line of each key."""

    where: Where
    key_where: dict[Any, Where]

    def at(self, key: Any) -> Where:
        return self.key_where.get(key, self.where)


class SourceList(list[Any]):
    where: Where
    item_where: list[Where]


class YamlProblem(Exception):
    def __init__(self, where: Where, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


# libyaml's parser, which PyYAML's wheels carry, where there is one: the same
# nodes and line marks, and train.yaml's 5,400 examples read in 0.65 s against
# 4.3 s (measured 2026-12-07; every `flows check` and the admin content page
# read it). The pure-Python parser where PyYAML was built without it.
SAFE_LOADER = cast(type[yaml.SafeLoader], getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def located_loader(file: str) -> type[yaml.SafeLoader]:
    class LineLoader(SAFE_LOADER):  # type: ignore[valid-type,misc]
        pass

    def mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> SourceMap:
        result = SourceMap()
        result.where = Where(file, node.start_mark.line + 1)
        result.key_where = {}
        loader.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise YamlProblem(Where(file, key_node.start_mark.line + 1), "keys must be text")
            if key in result:
                raise YamlProblem(
                    Where(file, key_node.start_mark.line + 1), f"duplicate key {key!r}"
                )
            result[key] = loader.construct_object(value_node, deep=True)
            result.key_where[key] = Where(file, key_node.start_mark.line + 1)
        return result

    def sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> SourceList:
        result = SourceList(loader.construct_object(child, deep=True) for child in node.value)
        result.where = Where(file, node.start_mark.line + 1)
        result.item_where = [Where(file, child.start_mark.line + 1) for child in node.value]
        return result

    LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, sequence)
    return LineLoader


def load_yaml(path: Path, display_name: str) -> Any:
    """Parse one file; any syntax error becomes a YamlProblem at its line."""
    return parse_yaml(read_source(path, display_name), display_name)


def read_source(path: Path, display_name: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise YamlProblem(Where(display_name, 1), f"cannot read: {error}") from error


def parse_yaml(text: str, display_name: str, loader: type[yaml.SafeLoader] | None = None) -> Any:
    """Located data from TEXT (LOADER: a subclass of `located_loader`'s);
    any syntax error becomes a YamlProblem at its line."""
    try:
        return yaml.load(text, Loader=loader or located_loader(display_name))  # noqa: S506 - SafeLoader subclass
    except YamlProblem:
        raise
    except yaml.MarkedYAMLError as found:
        error = _as_python_words_it(text) or found
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlProblem(Where(display_name, line), f"YAML: {error.problem}") from error
    except yaml.YAMLError as error:
        raise YamlProblem(Where(display_name, 1), f"YAML: {error}") from error


def _as_python_words_it(text: str) -> yaml.MarkedYAMLError | None:
    """TEXT's syntax error as the pure-Python parser words and places it: libyaml
    says "did not find expected key" where it says "expected <block end>, but
    found '<block mapping start>'", and a content author should meet the same
    message on every machine."""
    try:
        yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        return error
    return None
