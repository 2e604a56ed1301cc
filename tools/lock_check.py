"""Do the lock files and pyproject.toml agree? Run by `make lint` and `make lock`.

pyproject.toml keeps the ranges a library user installs from; requirements/
keeps the exact versions every machine of ours installs. They drift when one
is edited without the other (a range narrowed, a dependency added, a pin
edited by hand). Each disagreement is printed on a line of its own:

- a requirement of pyproject.toml missing from the lock that must hold it,
  or locked at a version outside its range;
- a pin of run.txt that dev.txt does not hold at the same version (`make test`
  would then test other versions than `make run` runs);
- a pin without a hash.
"""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
HASH = re.compile(r"--hash=\S+")


@dataclass(frozen=True)
class Pin:
    name: str
    version: Version
    marker: Marker | None
    hashes: int
    line: int


def read_lock(path: Path) -> dict[str, Pin]:
    """The pins of a requirements file as pip-tools and uv write it: one
    `name==version ; marker` per entry, continued with `\\` over hash lines.
    A package pinned differently per Python (numpy) is keyed `name ; marker`."""
    pins: dict[str, Pin] = {}
    entry = ""
    first_line = 0
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        text = raw.strip()
        if not text.startswith("--hash"):
            text = text.split("#", 1)[0].strip()  # "# via flask", the file's header
        if not entry:
            first_line = number
        entry += " " + text.rstrip("\\").strip()
        if text.endswith("\\"):
            continue
        entry = entry.strip()
        if entry:
            hashes = len(HASH.findall(entry))
            requirement = Requirement(HASH.sub("", entry).strip())
            (specifier,) = requirement.specifier
            if specifier.operator != "==":
                raise ValueError(f"{path.name}:{first_line}: {entry[:60]!r} is not a pin")
            name = canonicalize_name(requirement.name)
            key = name if requirement.marker is None else f"{name} ; {requirement.marker}"
            pins[key] = Pin(
                name, Version(specifier.version), requirement.marker, hashes, first_line
            )
        entry = ""
    return pins


def requirements_of(pyproject: dict[str, Any], *extras: str) -> list[Requirement]:
    project = pyproject["project"]
    texts: list[str] = [*project["dependencies"], *pyproject["build-system"]["requires"]]
    for extra in extras:
        texts += project["optional-dependencies"][extra]
    return [Requirement(text) for text in texts]


def disagreements(root: Path = ROOT) -> list[str]:
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    run = read_lock(root / "requirements" / "run.txt")
    dev = read_lock(root / "requirements" / "dev.txt")
    optional = pyproject["project"]["optional-dependencies"]
    found: list[str] = []
    for lock_name, pins, extras in (("run.txt", run, ()), ("dev.txt", dev, tuple(optional))):
        for requirement in requirements_of(pyproject, *extras):
            name = canonicalize_name(requirement.name)
            locked = [pin for pin in pins.values() if pin.name == name]
            if not locked:
                found.append(f"{lock_name}: {requirement} is in pyproject.toml but not locked")
            for pin in locked:
                if not requirement.specifier.contains(pin.version, prereleases=True):
                    found.append(
                        f"{lock_name}:{pin.line}: {pin.name}=={pin.version} is outside "
                        f"pyproject.toml's {requirement}"
                    )
        for pin in pins.values():
            if pin.hashes == 0:
                found.append(f"{lock_name}:{pin.line}: {pin.name}=={pin.version} has no hash")
    for key, pin in run.items():
        other = dev.get(key)
        if other is None or other.version != pin.version or other.marker != pin.marker:
            held = "not at all" if other is None else f"as {other.version}"
            found.append(
                f"dev.txt holds {pin.name} {held}, but run.txt pins it at {pin.version}"
                + (f" ; {pin.marker}" if pin.marker else "")
            )
    return found


def main() -> int:
    found = disagreements()
    for line in found:
        print(f"requirements/{line}")
    if found:
        print(
            f"{len(found)} disagreement(s) between pyproject.toml and requirements/: "
            "`make lock` resolves them again (README, Upgrading)."
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
