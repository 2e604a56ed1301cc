"""The layout's rules (docs/layout.md) hold, and each check catches a planted
break of its rule.

import-linter's contracts in pyproject.toml say which layer may import which,
that the core knows no Flask or click, and that the product never imports its
workers or the emulator. What a contract cannot say is checked here: no import
cycle anywhere (imports inside functions count), no module importing another
module's private names, Flask and click only in web/, cli/, app.py and
processes/ (whatever new folder appears), and every folder of ivr/ placed in
a layer.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ivr", "workers", "twilio_emulator")
PRODUCT = ("ivr", "workers", "twilio_emulator")
WEB_STACK = ("flask", "click", "flask_wtf", "wtforms", "gunicorn")
# Where the web stack may be imported: the Flask app, its routes, the CLI and
# the processes that serve them.
MAY_USE_WEB_STACK = ("ivr.app", "ivr.web", "ivr.cli", "ivr.processes")


def _modules(root: Path, packages: tuple[str, ...] = PACKAGES) -> Iterator[tuple[str, Path]]:
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts).removesuffix(".__init__")
            yield name, path


def _imports(path: Path, module: str) -> Iterator[tuple[str, list[str], int]]:
    """(module imported, names taken from it, line) for every import
    statement, inside functions too, relative ones resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, [a.name for a in node.names], node.lineno


def _in(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the product's modules it imports, read from the source under
    ROOT (not from what is installed): `from a import b` is an import of the
    module a.b when there is one, else of a."""
    modules = dict(_modules(root, PRODUCT))
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        for imported, names, _ in _imports(path, module):
            for target in [f"{imported}.{name}" for name in names] or [imported]:
                if target in modules:
                    targets.add(target)
                elif imported in modules:
                    targets.add(imported)
        targets.discard(module)
        graph[module] = targets
    return graph


def cycles(root: Path) -> list[list[str]]:
    """Every set of modules that import each other, directly or around a
    loop, imports inside functions counted (Tarjan's strongly connected
    components)."""
    edges = import_graph(root)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:
        # Iterative: the import graph is deep enough to matter for recursion.
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in edges:
                    continue
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


def private_imports(root: Path) -> list[str]:
    """`from other import _name`: a module reaching into another's insides."""
    ours = {name for name, _ in _modules(root)}
    found = []
    for module, path in _modules(root, PRODUCT):
        for imported, names, line in _imports(path, module):
            if imported not in ours or imported == module:
                continue
            for name in names:
                if name.startswith("_") and not name.startswith("__") and name not in ours:
                    found.append(f"{path.relative_to(root)}:{line}: {imported}.{name}")
    return found


def web_stack_outside_the_web(root: Path) -> list[str]:
    found = []
    for module, path in _modules(root):
        if not module.startswith("ivr") or _in(module, MAY_USE_WEB_STACK):
            continue
        for imported, _, line in _imports(path, module):
            if _in(imported, WEB_STACK):
                found.append(f"{path.relative_to(root)}:{line}: {imported}")
    return found


def folders_outside_the_layers(root: Path) -> list[str]:
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["importlinter"]
    layered: set[str] = set()
    for contract in config["contracts"]:
        for layer in contract.get("layers", []):
            layered.update(part.strip() for part in layer.replace(":", "|").split("|"))
    return [
        f"ivr.{child.name}"
        for child in sorted((root / "ivr").iterdir())
        if (child.is_dir() and (child / "__init__.py").exists())
        or (child.suffix == ".py" and child.name != "__init__.py")
        if f"ivr.{child.stem}" not in layered
    ]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- the tree as it is --------------------------------------------------------


def test_the_import_contracts_are_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_import_cycles_even_inside_functions() -> None:
    assert cycles(ROOT) == []


def test_no_module_imports_another_modules_private_names() -> None:
    assert private_imports(ROOT) == []


def test_flask_and_click_only_in_the_web_the_cli_and_the_processes() -> None:
    assert web_stack_outside_the_web(ROOT) == []


def test_every_folder_of_ivr_has_its_layer() -> None:
    assert folders_outside_the_layers(ROOT) == []


# --- a planted break of each rule is caught ---------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the packages and pyproject.toml, to plant a break in."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def plant(tree: Path, module: str, line: str) -> None:
    path = tree / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + f"\n{line}\n")


# (where, the import planted, the contract it breaks)
CONTRACT_BREAKS = [
    ("ivr.platform.clock", "from ivr.roster import model", "Layers"),
    ("ivr.roster.model", "import click", "The core knows no Flask and no click"),
    ("ivr.jobs", "import workers.alerts", "The product imports neither"),
    ("workers.alerts", "import ivr.cli.support", "Workers use the core"),
]


@pytest.mark.parametrize(("module", "line", "contract"), CONTRACT_BREAKS)
def test_each_import_contract_catches_a_planted_break(
    tree: Path, module: str, line: str, contract: str
) -> None:
    plant(tree, module, line)
    result = lint_imports(tree)
    assert result.returncode != 0
    broken = [row for row in result.stdout.splitlines() if " BROKEN" in row]
    assert any(row.startswith(contract) for row in broken), result.stdout


def test_a_planted_cycle_through_a_function_is_caught(tree: Path) -> None:
    plant(tree, "ivr.platform.clock", "def _late() -> None:\n    from ivr.jobs import Jobs")
    plant(tree, "ivr.jobs", "from ivr.platform import clock")
    assert ["ivr.jobs", "ivr.platform.clock"] in cycles(tree)


def test_a_planted_private_import_is_caught(tree: Path) -> None:
    plant(tree, "ivr.jobs", "from ivr.platform.config import _int")
    assert any("ivr.platform.config._int" in found for found in private_imports(tree))


def test_the_web_stack_in_a_new_folder_is_caught(tree: Path) -> None:
    (tree / "ivr" / "reports").mkdir()
    (tree / "ivr" / "reports" / "__init__.py").write_text("from flask import request\n")
    assert web_stack_outside_the_web(tree) == ["ivr/reports/__init__.py:1: flask"]
    assert folders_outside_the_layers(tree) == ["ivr.reports"]


def test_a_core_module_loads_without_flask_or_click() -> None:
    """`ivr/__init__.py` was the app factory: importing the roster loaded Flask."""
    probe = (
        "import sys, ivr.roster.model, ivr.line, ivr.menu.engine, ivr.sms.handler; "
        "print(sorted(m for m in ('flask', 'click', 'werkzeug') if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert found.stdout.strip() == "[]"
