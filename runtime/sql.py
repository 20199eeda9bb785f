"""Named SQL statements, formatted once for one schema.

The one way Reitti writes SQL (issue 13; the style of the ``eventsourcing`` library's
statement attributes): a subclass of :class:`SqlStatements` declares each statement as a
class attribute, a template that names its schema as ``{schema}``. An instance holds every
template formatted for one schema, once, when the repository that owns it is built, so a
query reads ``self.sql.insert_event`` and no statement is assembled on the hot path. The
schema is checked to be a plain identifier, since it is written into the text.
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
