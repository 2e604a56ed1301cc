"""YAML that remembers where each value came from, so every content problem can
be reported as `file:line: message`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

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


def located_loader(file: str) -> type[yaml.SafeLoader]:
    class LineLoader(yaml.SafeLoader):
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
    located = loader or located_loader(display_name)
    fast = _over_libyaml(located) if _libyaml_reads_alike(text) else None
    if fast is not None:
        try:
            return yaml.load(text, Loader=fast)  # noqa: S506 - SafeLoader's constructors
        except yaml.YAMLError:  # a YamlProblem from our constructors is not one: it goes up
            pass  # the pure-Python parser decides, and words it as on any machine
    try:
        return yaml.load(text, Loader=located)  # noqa: S506 - SafeLoader subclass
    except YamlProblem:
        raise
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlProblem(Where(display_name, line), f"YAML: {error.problem}") from error
    except yaml.YAMLError as error:
        raise YamlProblem(Where(display_name, 1), f"YAML: {error}") from error


def _over_libyaml(loader: type[yaml.SafeLoader]) -> Any:
    """LOADER's constructors and resolvers over libyaml's parser (in PyYAML's
    wheels): the same nodes and line marks, and train.yaml's 5,400 examples
    read in 0.65 s against 4.3 s (2026-12-07; every `flows check` and the
    admin content page read it). None without libyaml."""
    parser = getattr(yaml, "CSafeLoader", None)
    if parser is None:
        return None
    kept = ("yaml_constructors", "yaml_multi_constructors", "yaml_implicit_resolvers")
    return type(loader.__name__, (parser,), {name: getattr(loader, name) for name in kept})


def _libyaml_reads_alike(text: str) -> bool:
    """Whether libyaml would read TEXT as the pure-Python parser does. It takes
    tabs the other refuses (between a key and its value, before a comment), and directives
    differ (`%YAML 1.3`): such a text is read by the pure-Python parser alone,
    so a file passes or fails the same on every machine."""
    return "\t" not in text and _DIRECTIVE.search(text) is None


_DIRECTIVE = re.compile(r"^%", re.MULTILINE)
