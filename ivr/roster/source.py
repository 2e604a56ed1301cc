"""Reading roster YAML with every value's line remembered.

Reuses the content loader's located YAML (`ivr.content.yamlsrc`) with
YAML 1.2-style scalars: `22:00` stays the text "22:00" (YAML 1.1 would read
the number 1320), `+12025550101` stays text, `no` is a language code rather
than false, and dates stay text for the roster's own checks.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ivr.content.yamlsrc import (
    SourceList,
    SourceMap,
    Where,
    located_loader,  # the located constructors; only the scalar rules differ here
    parse_yaml,
    read_source,
)

_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_DROPPED = {_INT, _BOOL, "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp"}


def _roster_loader(file: str) -> type[yaml.SafeLoader]:
    base = located_loader(file)

    class RosterLoader(base):  # type: ignore[valid-type,misc]
        pass

    RosterLoader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in rules if tag not in _DROPPED]
        for first, rules in base.yaml_implicit_resolvers.items()
    }
    RosterLoader.add_implicit_resolver(
        _INT, re.compile(r"^(?:0|-?[1-9][0-9]*)$"), list("-0123456789")
    )
    RosterLoader.add_implicit_resolver(
        _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    loader: type[yaml.SafeLoader] = RosterLoader
    return loader


def load_roster_yaml(path: Path, display_name: str) -> Any:
    """Parse one roster file; unreadable or malformed YAML is a YamlProblem."""
    return load_roster_text(read_source(path, display_name), display_name)


def load_roster_text(text: str, display_name: str) -> Any:
    return parse_yaml(text, display_name, _roster_loader(display_name))


def located(value: Any, where: Where) -> Any:
    """Plain data (from JSON) as located data, every place being `where`."""
    if isinstance(value, dict):
        result = SourceMap((key, located(item, where)) for key, item in value.items())
        result.where = where
        result.key_where = dict.fromkeys(value, where)
        return result
    if isinstance(value, list):
        items = SourceList(located(item, where) for item in value)
        items.where = where
        items.item_where = [where] * len(value)
        return items
    return value
