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
