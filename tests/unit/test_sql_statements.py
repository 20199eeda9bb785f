"""runtime/sql.py: statements are formatted once, for one checked schema."""

from __future__ import annotations

import pytest

from runtime.sql import SqlStatements


class Example(SqlStatements):
    insert = "INSERT INTO {schema}.events (id) VALUES ($1)"
    count = "SELECT count(*) FROM {schema}.events WHERE data @> '{{}}'::jsonb"


class MoreExample(Example):
    delete = "DELETE FROM {schema}.events"


def test_each_template_is_formatted_for_the_schema() -> None:
    sql = MoreExample("intake")
    assert sql.insert == "INSERT INTO intake.events (id) VALUES ($1)"
    assert sql.count == "SELECT count(*) FROM intake.events WHERE data @> '{}'::jsonb"
    assert sql.delete == "DELETE FROM intake.events"
    assert Example.insert.startswith("INSERT INTO {schema}")  # the class keeps its templates


@pytest.mark.parametrize("schema", ["intake; DROP TABLE x", "Intake", "", "a.b", "1abc"])
def test_a_schema_that_is_not_a_plain_identifier_is_refused(schema: str) -> None:
    with pytest.raises(ValueError, match="plain lowercase identifier"):
        Example(schema)
