"""Named SQL statements, formatted once for one schema.

The one way Reitti writes SQL (issue 13; the style of the ``eventsourcing`` library's
statement attributes): a subclass of :class:`SqlStatements` declares each statement as a
class attribute, a template that names its schema as ``{schema}``. An instance holds every
template formatted for one schema, once, when the repository that owns it is built, so a
query reads ``self.sql.insert_event`` and no statement is assembled on the hot path. The
schema is checked to be a plain identifier, since it is written into the text.

The few statements whose names are not one schema known when their owner is built (the
embedded server's database and password, a migration file's schema, a snapshot's tables
and columns read from the catalogue) write them through :func:`quote_ident`,
:func:`quote_literal` and :func:`substitute_schema` here; tests/unit/test_one_sql_style.py
lists where, and why, and fails on any other statement assembled from pieces.
"""

from __future__ import annotations

import re
from typing import Any

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


class SqlStatements:
    """Subclass it with ``name = "... {schema}.table ..."`` attributes; instances hold them
    formatted for their schema. A template's other braces are written doubled (``{{``)."""

    def __init__(self, schema: str) -> None:
        if not _IDENTIFIER.fullmatch(schema):
            raise ValueError(f"a schema name must be a plain lowercase identifier, not {schema!r}")
        self.schema = schema
        for name, template in self.templates().items():
            setattr(self, name, template.format(schema=schema))

    @classmethod
    def templates(cls) -> dict[str, str]:
        """Every statement template of the class and its bases, by name."""
        found: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if not name.startswith("_") and isinstance(value, str) and name != "schema":
                    found[name] = value
        return found


def quote_ident(name: str) -> str:
    """``name`` as a quoted SQL identifier, checked to be a plain lowercase identifier
    (the same check as a :class:`SqlStatements` schema's), so nothing else can be written
    into a statement through it."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"unsafe identifier {name!r}: not a plain lowercase identifier")
    return '"' + name + '"'


def quote_literal(value: str) -> str:
    """``value`` as an SQL string literal (quotes doubled), for the one place that cannot
    pass it as a parameter: a statement to PostgreSQL's single-user mode."""
    if "\x00" in value:
        raise ValueError("an SQL string literal cannot hold a NUL character")
    return "'" + value.replace("'", "''") + "'"


def substitute_schema(text: str, schema: str) -> str:
    """A migration's SQL for ``schema``: each ``{schema}`` becomes its quoted name. A
    migration is a file of its own, and may hold braces of its own (JSON), so it is not a
    :class:`SqlStatements` template."""
    return text.replace("{schema}", quote_ident(schema))
