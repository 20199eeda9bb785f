"""One way to write SQL (runtime/sql.py, docs/adr/0041): every statement in runtime/,
services/ and reitti/ is a template of a :class:`runtime.sql.SqlStatements` subclass,
formatted once for its schema (or a module constant such a class names). Nothing else
assembles SQL: no f-string, no ``.format``/``.replace`` on SQL text, no ``%``, no ``+``
with a value that is not itself constant text, and no statement written where it runs.

Exceptions, each listed here with why: statements whose names are not one schema known
when their owner is built, written through runtime/sql.py's quoting helpers
(:data:`ALLOWED`); three fixed statements that name no schema (:data:`FIXED`); and
migrations (``Migration(...)``), whose ``{schema}`` runtime/sql.py substitutes.

The check is a heuristic on the source (ast): SQL is text holding an upper-case SQL
statement word (SELECT, INSERT INTO, UPDATE, ...), as Reitti writes its SQL."""

from __future__ import annotations

import ast
import functools
import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from runtime.sql import SqlStatements
from tests.support import sources

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("runtime", "services", "reitti")
#: where the quoting helpers themselves assemble text
EXEMPT = {"runtime/sql.py"}
_WORDS = r"(SELECT|INSERT INTO|UPDATE|DELETE FROM|CREATE|ALTER|DROP|WITH|LOCK TABLE|TRUNCATE|SET|ROLLBACK)"
#: text with SQL in it
SQL = re.compile(rf"\b{_WORDS}\b")
#: text that is a statement
STATEMENT = re.compile(rf"\s*\(?\s*{_WORDS}\b")

#: fixed statements that name no schema and stand alone in their module, with why
FIXED: dict[str, str] = {
    "SELECT 1": "runtime/service.py: the health check's ping of the database",
    "ROLLBACK": "runtime/db.py: what a pooled connection needs when it goes back, if anything",
    "SELECT pg_try_advisory_lock(hashtext('reitti.retention-sweep'))": (
        "services/intake/retention.py: the sweep's session lock, on a connection of its own"
    ),
}

#: (module, enclosing function) -> why its statement is written where it runs
ALLOWED: dict[tuple[str, str], str] = {
    ("runtime/embedded.py", "EmbeddedPostgres._set_password_offline"): (
        "the password is sent to PostgreSQL's single-user mode, which takes no parameters: "
        "written with quote_literal"
    ),
    ("runtime/embedded.py", "EmbeddedPostgres._ensure_database"): (
        "psql -c with a database's name (not a schema), as a literal and as an identifier: "
        "quote_literal and quote_ident"
    ),
    ("runtime/replay_bulk.py", "drop_deferred"): (
        "a rebuild drops the indexes its projection names, found in the fresh schema's "
        "catalogue just before: each name written with quote_ident (and each is built again "
        "from the catalogue's own indexdef)"
    ),
    ("services/reporting/projections.py", "ReportingProjection.snapshot"): (
        "the snapshot reads every table of the schema with its columns, both found in the "
        "catalogue just before: each name written with quote_ident"
    ),
}


@dataclass(frozen=True)
class Finding:
    module: str
    function: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} ({self.function or 'module'}): {self.what}"


def _static_text(node: ast.expr, constants: dict[str, str]) -> str | None:
    """The text of ``node`` if it is constant: a literal, a module constant, or their sum."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _static_text(node.left, constants), _static_text(node.right, constants)
        if left is not None and right is not None:
            return left + right
    return None


def _module_constants(tree: ast.Module) -> dict[str, str]:
    """The module's constant texts, by name."""
    constants: dict[str, str] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target, value = stmt.target, stmt.value
        else:
            continue
        if isinstance(target, ast.Name) and (text := _static_text(value, constants)) is not None:
            constants[target.id] = text
    return constants


def _terms(node: ast.expr) -> Iterator[ast.expr]:
    """The operands of a chain of ``+``."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        yield from _terms(node.left)
        yield from _terms(node.right)
    else:
        yield node


def _statement_classes_in(tree: ast.Module) -> list[ast.ClassDef]:
    """The module's SqlStatements subclasses (and their subclasses)."""
    classes = [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    names = {"SqlStatements"}
    found: list[ast.ClassDef] = []
    while more := [
        c for c in classes if c not in found and any(ast.unparse(b).split(".")[-1] in names for b in c.bases)
    ]:
        found.extend(more)
        names.update(c.name for c in more)
    return found


def _placed(tree: ast.Module) -> set[int]:
    """The text constants that are in their place: in a SqlStatements class, in a module
    constant that such a class names (the pieces it is built of, too), in a migration
    (``Migration(...)``, applied through runtime/sql.py's ``substitute_schema``), or a
    docstring."""
    placed: set[int] = set()
    named: set[str] = set()

    def take(node: ast.AST) -> None:
        for inner in ast.walk(node):
            if isinstance(inner, ast.Constant):
                placed.add(id(inner))
            elif isinstance(inner, ast.Name):
                named.add(inner.id)

    for cls in _statement_classes_in(tree):
        take(cls)
    while True:
        before = len(named)
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in named for t in stmt.targets
            ):
                take(stmt.value)
        if len(named) == before:
            break
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            placed.add(id(node.value))
        elif isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] == "Migration":
            placed.update(id(inner) for inner in ast.walk(node) if isinstance(inner, ast.Constant))
    return placed


class _Finder(ast.NodeVisitor):
    def __init__(self, module: str, constants: dict[str, str], placed: set[int]) -> None:
        self.module = module
        self.constants = constants
        self.placed = placed
        self.fixed: set[str] = set()
        self.scope: list[str] = []
        self.functions: list[int] = []
        self.found: list[Finding] = []

    def _add(self, node: ast.AST, what: str) -> None:
        function = ".".join(self.scope) if self.functions else ""
        self.found.append(Finding(self.module, function, getattr(node, "lineno", 0), what))

    def _scoped(self, node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.scope.append(node.name)
        is_function = not isinstance(node, ast.ClassDef)
        if is_function:
            self.functions.append(1)
        self.generic_visit(node)
        if is_function:
            self.functions.pop()
        self.scope.pop()

    visit_ClassDef = visit_FunctionDef = visit_AsyncFunctionDef = _scoped

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        text = "".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
        if SQL.search(text):
            self._add(node, f"an f-string of SQL: {text.strip()[:60]!r}")
        for value in node.values:  # its text parts are not statements of their own
            if isinstance(value, ast.FormattedValue):
                self.visit(value)

    def visit_Constant(self, node: ast.Constant) -> None:
        if not isinstance(node.value, str) or id(node) in self.placed or not STATEMENT.match(node.value):
            return
        if node.value.strip() in FIXED:
            self.fixed.add(node.value.strip())
        else:
            self._add(node, f"a statement outside a SqlStatements class: {node.value.strip()[:60]!r}")

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("format", "replace"):
            text = _static_text(func.value, self.constants)
            if text is not None and SQL.search(text):
                self._add(node, f".{func.attr}() on SQL: {text.strip()[:60]!r}")
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.Mod):
            text = _static_text(node.left, self.constants)
            if text is not None and SQL.search(text):
                self._add(node, f"% on SQL: {text.strip()[:60]!r}")
            self.generic_visit(node)
        elif isinstance(node.op, ast.Add):
            terms = list(_terms(node))
            texts = [_static_text(t, self.constants) for t in terms]
            if any(t is not None and SQL.search(t) for t in texts) and None in texts:
                sql = next(t for t in texts if t is not None and SQL.search(t))
                self._add(node, f"SQL joined with a value: {sql.strip()[:60]!r}")
            for term in terms:  # the chain's own operands are looked at once, here
                self.visit(term)
        else:
            self.generic_visit(node)


def _finder(source: str, module: str) -> _Finder:
    return _finder_of(ast.parse(source), module)


def _finder_of(tree: ast.Module, module: str) -> _Finder:
    finder = _Finder(module, _module_constants(tree), _placed(tree))
    finder.visit(tree)
    return finder


def findings_in(source: str, module: str) -> list[Finding]:
    return _finder(source, module).found


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in sources.python_files(package))


@functools.cache
def _all_finders() -> tuple[_Finder, ...]:
    return tuple(
        _finder_of(sources.tree(path), module)
        for path in _modules()
        if (module := path.relative_to(ROOT).as_posix()) not in EXEMPT
    )


def _all_findings() -> list[Finding]:
    return [f for finder in _all_finders() for f in finder.found]


def test_no_statement_is_written_outside_sql_statements() -> None:
    stray = [f for f in _all_findings() if (f.module, f.function) not in ALLOWED]
    assert not stray, (
        "SQL written another way than runtime/sql.py's SqlStatements (a class attribute "
        "template, formatted once for its schema):\n" + "\n".join(map(str, stray))
    )


def test_every_allowed_exception_is_still_there() -> None:
    finders = _all_finders()
    used = {(f.module, f.function) for finder in finders for f in finder.found}
    assert not set(ALLOWED) - used, f"allowed but no longer needed: {sorted(set(ALLOWED) - used)}"
    fixed = set().union(*(finder.fixed for finder in finders))
    assert not set(FIXED) - fixed, f"allowed but no longer there: {sorted(set(FIXED) - fixed)}"


OLD_STYLES = {
    "a module constant formatted": (
        '_APPEND = "INSERT INTO {s}.events VALUES ($1)"\nsql = _APPEND.format(s=s)\n'
    ),
    "a constant built of pieces, formatted": (
        'C = "a, b"\n_ALL = "SELECT " + C + " FROM {s}.audit_log"\n'
        "class A:\n    def __init__(self, s):\n        self.sql = _ALL.format(s=s)\n"
    ),
    "an f-string with the schema": 'def f(s):\n    return f"DELETE FROM {s}.erasures WHERE client_id = $1"\n',
    "an f-string in a constructor": (
        "class R:\n    def __init__(self, schema):\n        self.q = (\n"
        '            f"SELECT version FROM {quote_ident(schema)}.stream_positions "\n'
        '            "WHERE consumer = $1"\n        )\n'
    ),
    "a replace on a literal": 'sql = "SELECT 1 FROM {schema}.t".replace("{schema}", q)\n',
    "a % on a literal": 'sql = "SELECT 1 FROM %s.t" % schema\n',
    "a statement extended at the call": (
        '_KEYS = "SELECT key FROM keys.client_keys"\nq = _KEYS + (" FOR SHARE" if hold else "")\n'
    ),
    "a SET with a value in it": "def f(ms):\n    return f\"SET LOCAL lock_timeout = '{ms}ms'\"\n",
    "a statement written at the call": (
        'async def f(conn):\n    await conn.execute("DELETE FROM keys.client_keys")\n'
    ),
    "a module constant no class names": '_DUE = """\nSELECT client_id FROM reporting_feeds.erasures\n"""\n',
}


@pytest.mark.parametrize("source", OLD_STYLES.values(), ids=OLD_STYLES.keys())
def test_each_old_style_is_found(source: str) -> None:
    assert findings_in(source, "example.py")


@pytest.mark.parametrize(
    "source",
    [
        'class S(SqlStatements):\n    drop = "DROP SCHEMA IF EXISTS {schema} CASCADE"\n',
        'C = "a, b"\nclass S(SqlStatements):\n    all = "SELECT " + C + " FROM {schema}.audit_log"\n',
        'def f(n):\n    return f"{n} events SELECTed"\n',  # no statement word on its own
        'def f(n):\n    log.info(f"reconciled {n} streams")\n    return "x" + n\n',
        '_LOCK = "SELECT pg_advisory_xact_lock(1)"\nclass S(SqlStatements):\n    lock = _LOCK\n',
        'class S(SqlStatements):\n    a = "SELECT 1 FROM {schema}.t"\n'
        'class T(S):\n    b = "DELETE FROM {schema}.t"\n',
        'M = Migration(name="0001.sql", sql="CREATE TABLE {schema}.t (a int)")\n',
        'def f():\n    """SELECT the best."""\n    return "UPDATEs are counted"\n',
    ],
)
def test_the_one_style_and_plain_text_pass(source: str) -> None:
    assert not findings_in(source, "example.py")


def _statement_classes() -> list[type[SqlStatements]]:
    """Every SqlStatements subclass defined in runtime/, services/ and reitti/."""
    classes: list[type[SqlStatements]] = []
    for path in _modules():
        tree = sources.tree(path)
        names = [
            node.name
            for node in tree.body
            if isinstance(node, ast.ClassDef) and any(ast.unparse(b) == "SqlStatements" for b in node.bases)
        ]
        if names:
            module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
            classes.extend(getattr(module, name) for name in names)
    return classes


def test_every_statement_class_formats_for_a_schema() -> None:
    classes = _statement_classes()
    assert len(classes) >= 20  # the finder above really found them
    for cls in classes:
        sql = cls("probe_schema")
        for name in cls.templates():
            text = getattr(sql, name)
            assert "{schema}" not in text and SQL.search(text), f"{cls.__name__}.{name}: {text!r}"
