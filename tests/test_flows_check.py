"""`helpline flows check`: the shipped content passes; each broken example is
refused with the right file:line and message."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli.main import main
from ivr.content import check
from ivr.content.check import check_directory, check_remembered
from ivr.content.crisis_loader import read_crisis
from ivr.platform.config import PROJECT_ROOT
from ivr.platform.problems import Problem

HERE = Path(__file__).parent
MINIMAL = HERE / "flows_minimal"
BROKEN = sorted(p for p in (HERE / "flows_broken").iterdir() if p.is_dir())


def broken_copy(case: Path, into: Path) -> Path:
    """The minimal valid content with the case's files laid over it."""
    target = into / case.name
    shutil.copytree(MINIMAL, target)
    for path in case.glob("*.yaml"):
        shutil.copy(path, target / path.name)
    return target


def test_the_shipped_content_passes() -> None:
    assert [str(p) for p in check_directory(PROJECT_ROOT / "flows")] == []


def test_the_minimal_base_of_the_broken_examples_passes() -> None:
    assert check_directory(MINIMAL) == []


@pytest.mark.parametrize("case", BROKEN, ids=[p.name for p in BROKEN])
def test_each_broken_example_is_refused_with_its_place(case: Path, tmp_path: Path) -> None:
    expected = (case / "expected.txt").read_text().splitlines()
    assert expected, "a broken example must pin at least one problem"
    found = [str(p) for p in check_directory(broken_copy(case, tmp_path))]
    assert found == expected


def test_the_command_prints_file_line_message_and_exits_1(tmp_path: Path) -> None:
    target = broken_copy(HERE / "flows_broken" / "unknown_node", tmp_path)
    result = CliRunner().invoke(main, ["flows", "check", str(target)])
    assert result.exit_code == 1
    assert f"{target / 'voice.yaml'}:12: node 'main': unknown node 'text_inf'" in result.output


def test_the_command_passes_on_good_content() -> None:
    result = CliRunner().invoke(main, ["flows", "check", str(MINIMAL)])
    assert result.exit_code == 0, result.output
    assert "content OK" in result.output


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    target = tmp_path / "flows"
    shutil.copytree(MINIMAL, target)
    (target / "texts.yaml").unlink()
    assert "texts.yaml:1: missing content file texts.yaml" in [
        str(p) for p in check_directory(target)
    ]


def test_the_content_page_checks_again_only_once_a_file_has_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "flows"
    shutil.copytree(MINIMAL, target)
    checks: list[Path] = []

    def counted(directory: Path) -> list[Problem]:
        checks.append(directory)
        return check_directory(directory)

    monkeypatch.setattr(check, "check_directory", counted)
    first = check_remembered(target)
    assert first[0] == []
    assert check_remembered(target) == first
    assert len(checks) == 1
    texts = target / "texts.yaml"
    before = texts.stat()
    original = texts.read_text(encoding="utf-8")
    replace_keeping_size_and_time(texts, original.replace("info:", "inf0:", 1))
    assert texts.stat().st_size == before.st_size
    problems, checked_at = check_remembered(target)
    assert problems
    assert checked_at >= first[1]
    assert len(checks) == 2
    texts.write_text(original, encoding="utf-8")
    assert check_remembered(target)[0] == []
    assert len(checks) == 3


def replace_keeping_size_and_time(path: Path, text: str) -> None:
    """PATH replaced by TEXT as `rsync -a` replaces an edited file: a new file
    renamed over it, its modification time the old one's. (An edit in place
    would be seen by its ctime only, which moves in clock ticks of a few
    milliseconds: within one, a test could not tell.)"""
    before = path.stat()
    staged = path.with_name(f".{path.name}.new")
    staged.write_text(text, encoding="utf-8")
    os.utime(staged, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(staged, path)


def test_the_crisis_reader_is_read_again_after_an_edit_that_kept_size_and_time(
    tmp_path: Path,
) -> None:
    target = tmp_path / "flows"
    shutil.copytree(MINIMAL, target)
    rules = target / "crisis" / "rules.yaml"
    reader, problems = read_crisis(target)
    assert reader is not None
    assert problems == []
    assert reader.read("i will kill myself", "en").why == "rule: kill <self>"
    # "kill" becomes "kilk": the same size and modification time.
    before = rules.stat()
    edited = rules.read_text(encoding="utf-8").replace("[kill <self>]", "[kilk <self>]")
    replace_keeping_size_and_time(rules, edited)
    assert rules.stat().st_size == before.st_size
    again, _ = read_crisis(target)
    assert again is not None
    assert again is not reader
    assert again.read("i will kill myself", "en").why != "rule: kill <self>"


def test_the_graph_is_mermaid_with_every_node_and_choice() -> None:
    result = CliRunner().invoke(main, ["flows", "graph", str(MINIMAL)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("flowchart TD\n")
    for node_id in ("greeting", "main", "text_info", "counselor", "voicemail", "bye"):
        assert f"n_{node_id}" in result.output
    assert "n_main -->|\"1 / 'talk'\"| n_counselor" in result.output


def test_the_readme_shows_the_menu_as_it_is() -> None:
    """The diagram in the README is the one `helpline flows graph` draws today."""
    from ivr.content.check import load_content
    from ivr.content.graph import mermaid

    drawn = mermaid(load_content(PROJECT_ROOT / "flows"))
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert f"```mermaid\n{drawn}```" in readme, "run: helpline flows graph, paste into README"
