"""runtime/sql.py: statements are formatted once, for one checked schema; the few other
names are written through its checked quoting helpers."""

from __future__ import annotations

import pytest

from runtime.sql import SqlStatements, quote_ident, quote_literal, substitute_schema


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


def test_an_identifier_is_quoted_only_when_plain() -> None:
    assert quote_ident("reporting_feeds") == '"reporting_feeds"'
    for unsafe in ['x" CASCADE; --', "Intake", "", "a.b"]:
        with pytest.raises(ValueError, match="unsafe identifier"):
            quote_ident(unsafe)


def test_a_literal_doubles_its_quotes() -> None:
    assert quote_literal("reitti") == "'reitti'"
    assert quote_literal("it's") == "'it''s'"
    with pytest.raises(ValueError, match="NUL"):
        quote_literal("a\x00b")


def test_a_migration_names_its_schema_quoted_and_keeps_its_own_braces() -> None:
    text = "CREATE TABLE {schema}.t (a jsonb DEFAULT '{}'); CREATE INDEX ON {schema}.t (a)"
    assert substitute_schema(text, "intake") == (
        'CREATE TABLE "intake".t (a jsonb DEFAULT \'{}\'); CREATE INDEX ON "intake".t (a)'
    )
    with pytest.raises(ValueError, match="unsafe identifier"):
        substitute_schema(text, "intake; DROP")
