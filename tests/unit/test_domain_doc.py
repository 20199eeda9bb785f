"""docs/domain.md says where each rule lives. Every path it names (in backticks) must
exist, and every name after ``::`` must be defined there, so the page cannot point at
code that has moved or gone."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "docs" / "domain.md"
#: a path into the repository, in backticks, optionally ``::Name`` or ``::Class.member``
REFERENCE = re.compile(
    r"`((?:contracts|runtime|services|reitti|tests|docs|deploy|bench)/[\w./-]+?)(?:::([\w.]+))?`"
)


def references(text: str) -> list[tuple[str, str | None]]:
    return [(m.group(1), m.group(2)) for m in REFERENCE.finditer(text)]


def defined_names(tree: ast.Module) -> dict[str, set[str]]:
    """Top-level names of a module: functions, classes (with their members) and assignments."""
    names: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names[node.name] = set()
        elif isinstance(node, ast.ClassDef):
            members: set[str] = set()
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    members.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    members.add(item.target.id)
                elif isinstance(item, ast.Assign):
                    members |= {t.id for t in item.targets if isinstance(t, ast.Name)}
            names[node.name] = members
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = set()
        elif isinstance(node, ast.Assign):
            names.update({t.id: set() for t in node.targets if isinstance(t, ast.Name)})
    return names


def missing(path: str, name: str | None, root: Path = ROOT) -> str | None:
    """Why ``path`` (and ``name`` in it) is not there; None when it is."""
    target = root / path
    if not target.exists():
        return f"{path}: no such file or directory"
    if name is None:
        return None
    if target.suffix != ".py":
        return f"{path}::{name}: only a Python module defines names"
    names = defined_names(ast.parse(target.read_text(encoding="utf-8")))
    top, _, member = name.partition(".")
    if top not in names:
        return f"{path}::{name}: {top} is not defined there"
    if member and member not in names[top]:
        return f"{path}::{name}: {top} has no {member}"
    return None


def test_every_code_path_and_name_in_docs_domain_md_exists() -> None:
    found = references(DOMAIN.read_text(encoding="utf-8"))
    assert len(found) >= 60, "the page names where each rule lives"
    problems = [p for p in (missing(path, name) for path, name in found) if p]
    assert not problems, "docs/domain.md points at code that is not there:\n" + "\n".join(problems)


def test_the_page_covers_the_rule_sets_the_process_and_the_data_rules() -> None:
    text = DOMAIN.read_text(encoding="utf-8")
    for rule_set in ("SEED_2010", "ACT_1369_2014", "ACT_1369_2014_FROM_MAY_2022", "ACT_381_2023"):
        assert f"`{rule_set}`" in text, rule_set
    for heading in (
        "## The process, step by step",
        "## The rules by date",
        "### Municipal cost",
        "## Data rules",
    ):
        assert heading in text, heading
    for term in ("loppuarvio", "palvelutarvearvio", "kuntouttava työtoiminta", "suostumus"):
        assert term in text, term


def test_the_readme_points_at_the_page_in_the_repository() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/domain.md)" in readme
    assert "shared/domain.md" not in readme, "a clone has no shared folder"


@pytest.mark.parametrize(
    ("reference", "why"),
    [
        ("`services/rules/nowhere.py`", "no such file"),
        ("`services/rules/cost.py::municipal_charge`", "municipal_charge is not defined"),
        ("`services/rules/model.py::RuleSet.closes_by_vote`", "RuleSet has no closes_by_vote"),
        ("`docs/adr/::anything`", "only a Python module"),
    ],
)
def test_a_reference_to_code_that_is_not_there_is_named(reference: str, why: str) -> None:
    [(path, name)] = references(reference)
    problem = missing(path, name)
    assert problem is not None and why in problem


def test_real_references_are_found_with_their_names() -> None:
    text = "`services/rules/catalogue.py::rules_in_force` and `services/rules/model.py::RuleSet.in_force_on`"
    assert references(text) == [
        ("services/rules/catalogue.py", "rules_in_force"),
        ("services/rules/model.py", "RuleSet.in_force_on"),
    ]
    assert all(missing(path, name) is None for path, name in references(text))
