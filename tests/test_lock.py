"""The lock files and pyproject.toml agree, and the check that says so can fail."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tools import install
from tools.lock_check import ROOT, disagreements, read_lock


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of what the check reads: pyproject.toml and the two locks."""
    (tmp_path / "requirements").mkdir()
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for name in ("run.txt", "dev.txt"):
        shutil.copy(ROOT / "requirements" / name, tmp_path / "requirements" / name)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_the_committed_lock_agrees_with_pyproject() -> None:
    assert disagreements() == []


def test_every_runtime_pin_is_in_the_dev_lock_at_the_same_version() -> None:
    run = read_lock(ROOT / "requirements" / "run.txt")
    dev = read_lock(ROOT / "requirements" / "dev.txt")
    assert run, "run.txt has pins"
    assert {name: pin.version for name, pin in run.items()} == {
        name: dev[name].version for name in run
    }


def test_a_range_the_locked_version_is_outside_of_is_found(project: Path) -> None:
    locked = read_lock(project / "requirements" / "run.txt")["redis"].version
    edit(project / "pyproject.toml", '"redis>=5.2,<9"', f'"redis>=5.2,<{locked}"')
    found = disagreements(project)
    assert any(f"redis=={locked} is outside" in line for line in found), found
    assert all(line.startswith(("run.txt", "dev.txt")) for line in found)


def test_a_dependency_added_without_locking_it_is_found(project: Path) -> None:
    edit(project / "pyproject.toml", '"flask>=3.1,<4",', '"flask>=3.1,<4",\n    "attrs-bogus>=1",')
    found = disagreements(project)
    assert "run.txt: attrs-bogus>=1 is in pyproject.toml but not locked" in found
    assert "dev.txt: attrs-bogus>=1 is in pyproject.toml but not locked" in found


def test_a_test_tool_outside_its_range_is_found_in_the_dev_lock(project: Path) -> None:
    edit(project / "pyproject.toml", '"pytest>=8,<10"', '"pytest>=8,<8.1"')
    found = disagreements(project)
    assert len(found) == 1, found
    assert found[0].startswith("dev.txt:")
    assert "pytest==" in found[0]


def test_a_runtime_pin_the_dev_lock_holds_otherwise_is_found(project: Path) -> None:
    dev = project / "requirements" / "dev.txt"
    version = str(read_lock(dev)["flask"].version)
    edit(dev, f"flask=={version} ", "flask==3.0.0 ")
    found = disagreements(project)
    assert f"dev.txt holds flask as 3.0.0, but run.txt pins it at {version}" in found


def test_a_pin_without_a_hash_is_found(project: Path) -> None:
    run = project / "requirements" / "run.txt"
    text = run.read_text()
    # The pyyaml entry with its hash lines, replaced by the bare pin.
    entry = re.search(r"^pyyaml==(\S+) \\\n(?:    --hash=\S+(?: \\)?\n)+", text, re.MULTILINE)
    assert entry is not None
    run.write_text(text.replace(entry.group(0), f"pyyaml=={entry.group(1)}\n"))
    found = disagreements(project)
    assert any("pyyaml==" in line and "has no hash" in line for line in found), found


def test_a_virtualenv_made_from_another_lock_is_made_anew(tmp_path: Path) -> None:
    """pip never removes what a lock stops naming: `make` starts such a venv over."""
    locks = {"run": tmp_path / "run.txt", "dev": tmp_path / "dev.txt"}
    locks["run"].write_text("flask==3.1.3\n")
    locks["dev"].write_text("flask==3.1.3\npytest==9.0.0\n")
    venv = tmp_path / "venv"
    assert install.stale(venv, locks) is None, "no venv yet: nothing to throw away"
    venv.mkdir()
    assert install.stale(venv, locks) == "it was not made from a lock"
    install.stamp("run", venv).write_text(install.digest(locks["run"]))
    assert install.stale(venv, locks) is None, "made from today's run lock: kept"
    install.stamp("dev", venv).write_text(install.digest(locks["dev"]))
    locks["dev"].write_text("flask==3.1.3\npytest==9.0.1\n")
    assert install.stale(venv, locks) == "requirements/dev.txt has changed"
