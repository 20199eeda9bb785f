"""The layers import one way (README, "Architecture in a paragraph"):

- ``contracts`` imports nothing of Reitti's but itself;
- ``runtime``, the library under the services, imports contracts only;
- ``services`` import runtime and contracts (and each other only where the process
  joins them: the disclosure policy and the shared rules);
- ``reitti``, the entrypoints, may import everything; nothing imports it.

Read from the source itself (every ``import``, including those inside functions and
``importlib.import_module("...")`` with a literal name), so a late import cannot hide."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import sources

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("contracts", "runtime", "services", "reitti")
#: package -> the Reitti packages it may import (besides itself)
ALLOWED = {
    "contracts": set(),
    "runtime": {"contracts"},
    "services": {"contracts", "runtime"},
    "reitti": {"contracts", "runtime", "services"},
}


def imported(path: Path) -> set[str]:
    """The top-level Reitti packages ``path`` imports."""
    return imports_of(ast.parse(path.read_text(encoding="utf-8")))


def imports_of(tree: ast.Module) -> set[str]:
    """The top-level Reitti packages a parsed module imports."""
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        found |= {name.split(".")[0] for name in names if name.split(".")[0] in PACKAGES}
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_a_layer_imports_only_the_layers_below_it(package: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(imports_of(sources.tree(path)) - ALLOWED[package] - {package})
        for path in sources.python_files(package)
    }
    assert {path: found for path, found in wrong.items() if found} == {}


def test_the_check_sees_late_and_dynamic_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import importlib\ndef f():\n    from services.intake import app\n"
        "    importlib.import_module('reitti.cli')\n",
        encoding="utf-8",
    )
    assert imported(module) == {"services", "reitti"}


#: what the desk may import of Reitti's: contracts, runtime, the shared rules and the
#: settings model, never another service's internals (it calls their public APIs)
DESK_ALLOWED = ("contracts", "runtime", "services.desk", "services.rules", "services.settings")


def desk_imports(tree: ast.Module) -> set[str]:
    """The Reitti modules a parsed module imports, by their full dotted name."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name.split(".")[0] in PACKAGES}


def outside_the_desk_s_layer(names: set[str]) -> list[str]:
    return sorted(n for n in names if not any(n == a or n.startswith(a + ".") for a in DESK_ALLOWED))


def test_the_desk_imports_no_other_service() -> None:
    wrong = {
        str(path.relative_to(ROOT)): found
        for path in sources.python_files("services")
        if path.relative_to(ROOT).parts[:2] == ("services", "desk")
        and (found := outside_the_desk_s_layer(desk_imports(sources.tree(path))))
    }
    assert wrong == {}


def test_no_service_imports_the_desk() -> None:
    wrong = [
        str(path.relative_to(ROOT))
        for path in sources.python_files("services")
        if path.relative_to(ROOT).parts[:2] != ("services", "desk")
        and any(n.startswith("services.desk") for n in desk_imports(sources.tree(path)))
    ]
    assert wrong == []


def test_the_desk_check_sees_an_import_of_another_service() -> None:
    tree = ast.parse("from services.intake.domain.case import Stage\nimport services.rules\n")
    assert outside_the_desk_s_layer(desk_imports(tree)) == ["services.intake.domain.case"]
