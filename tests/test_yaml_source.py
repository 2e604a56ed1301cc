"""Content and roster YAML read alike on every machine: libyaml's parser
(fast, where PyYAML has it) and the pure-Python one give the same values and
the same lines, and a text only one of them would take is refused everywhere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ivr.content import yamlsrc
from ivr.content.yamlsrc import SourceList, SourceMap, YamlProblem, parse_yaml
from ivr.platform.config import PROJECT_ROOT
from ivr.roster.source import load_roster_text

FILES = sorted(
    path
    for folder in (PROJECT_ROOT / "flows", PROJECT_ROOT / "tests" / "flows_minimal")
    for path in folder.rglob("*.yaml")
    if path.name != "heldout.yaml"  # never read here but by `make eval`
)


def located(value: Any, at: str = "") -> Iterator[tuple[str, str, int]]:
    """Every value with where it came from, as (path in the data, value, line)."""
    if isinstance(value, SourceMap):
        yield at, "{}", value.where.line
        for key, item in value.items():
            yield f"{at}/{key}", "key", value.at(key).line
            yield from located(item, f"{at}/{key}")
    elif isinstance(value, SourceList):
        yield at, "[]", value.where.line
        for index, item in enumerate(value):
            yield f"{at}/{index}", "item", value.item_where[index].line
            yield from located(item, f"{at}/{index}")
    else:
        yield at, repr(value), 0


def pure_python(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlsrc, "_over_libyaml", lambda loader: None)


def test_pyyaml_here_has_libyaml() -> None:
    assert yaml.__with_libyaml__, "the lock's PyYAML wheel carries libyaml"


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(PROJECT_ROOT)) for p in FILES])
def test_both_parsers_read_the_content_alike(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = path.read_text(encoding="utf-8")
    fast = list(located(parse_yaml(text, path.name)))
    pure_python(monkeypatch)
    assert list(located(parse_yaml(text, path.name))) == fast


def test_both_parsers_read_a_roster_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (PROJECT_ROOT / "examples" / "roster.yaml").read_text(encoding="utf-8")
    fast = list(located(load_roster_text(text, "roster.yaml")))
    pure_python(monkeypatch)
    assert list(located(load_roster_text(text, "roster.yaml"))) == fast


@pytest.mark.parametrize(
    "text",
    ["a:\tb\n", "a: 1\t# note\n", "%YAML 1.3\n---\na: 1\n", "a: [1,\t2]\n"],
    ids=["tab before a value", "tab before a comment", "a later YAML", "tab in a list"],
)
def test_a_text_only_libyaml_takes_is_read_as_everywhere(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def outcome() -> str:
        try:
            return repr(list(located(parse_yaml(text, "voice.yaml"))))
        except YamlProblem as problem:
            return str(problem)

    fast = outcome()
    pure_python(monkeypatch)
    assert outcome() == fast


def test_a_syntax_error_is_worded_by_the_pure_python_parser() -> None:
    with pytest.raises(YamlProblem) as refused:
        parse_yaml("menu:\n  say: hello\n   bad: indent\n", "voice.yaml")
    assert str(refused.value) == "voice.yaml:3: YAML: mapping values are not allowed here"
