"""The OpenAPI a partner codes against: every property of every schema of the three
services says what it is, and every example in the documents validates against the
schema it illustrates (no servers: the apps are built and asked for their document)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from runtime.requests import RequestModel
from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from services.intake.identity import InvalidIdentityCode
from services.intake.identity import parse as parse_identity_code
from services.reporting.app import create_app as reporting_app
from tests.unit.test_openapi import SETTINGS

BASE = "urn:reitti:openapi"
#: FastAPI's own 422 body (``HTTPValidationError`` and its ``ValidationError`` items) is
#: not a model of ours: its shape is the shared HTTP layer's (runtime/http.py), which is
#: being replaced by the problem document of RFC 9457 and documented there.
FRAMEWORK_SCHEMAS = frozenset({"HTTPValidationError", "ValidationError"})
#: the keywords whose values are subschemas (one, a list, or a name -> schema map)
ONE = ("items", "additionalProperties", "not", "contains", "propertyNames")
MANY = ("anyOf", "oneOf", "allOf", "prefixItems")
NAMED = ("properties", "patternProperties", "$defs")


def documents() -> dict[str, dict[str, Any]]:
    return {
        name: factory(SETTINGS).openapi()
        for name, factory in (
            ("intake", intake_app),
            ("guidance", guidance_app),
            ("reporting", reporting_app),
        )
    }


DOCUMENTS = documents()


def subschemas(schema: Any, pointer: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema within ``schema`` (itself included), with its JSON pointer."""
    if not isinstance(schema, dict):
        return
    yield pointer, schema
    for key in ONE:
        yield from subschemas(schema.get(key), f"{pointer}/{key}")
    for key in MANY:
        for index, item in enumerate(schema.get(key, ())):
            yield from subschemas(item, f"{pointer}/{key}/{index}")
    for key in NAMED:
        for name, item in schema.get(key, {}).items():
            yield from subschemas(item, f"{pointer}/{key}/{_escape(name)}")


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def schemas_of(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema of the document: components, parameters, request and response bodies."""
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        yield from subschemas(schema, f"#/components/schemas/{_escape(name)}")
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            where = f"#/paths/{_escape(path)}/{method}"
            for index, parameter in enumerate(operation.get("parameters", ())):
                yield from subschemas(parameter.get("schema"), f"{where}/parameters/{index}/schema")
            bodies = [("requestBody", operation.get("requestBody", {}))] + [
                (f"responses/{status}", response)
                for status, response in operation.get("responses", {}).items()
            ]
            for at, body in bodies:
                for media, content in body.get("content", {}).items():
                    yield from subschemas(
                        content.get("schema"), f"{where}/{at}/content/{_escape(media)}/schema"
                    )


def examples(schema: dict[str, Any]) -> list[Any]:
    found = list(schema.get("examples", ())) if isinstance(schema.get("examples"), list) else []
    return found + ([schema["example"]] if "example" in schema else [])


def undescribed(document: dict[str, Any]) -> list[str]:
    return [
        f"{name}.{field}"
        for name, schema in document["components"]["schemas"].items()
        if name not in FRAMEWORK_SCHEMAS
        for field, prop in schema.get("properties", {}).items()
        if not str(prop.get("description", "")).strip()
    ]


@pytest.mark.parametrize("service", DOCUMENTS)
def test_every_property_of_every_schema_has_a_description(service: str) -> None:
    missing = undescribed(DOCUMENTS[service])
    assert not missing, f"{len(missing)} properties without a description: {missing}"


@pytest.mark.parametrize("service", DOCUMENTS)
def test_every_example_validates_against_its_schema(service: str) -> None:
    document = DOCUMENTS[service]
    registry: Registry[Any] = Registry().with_resource(BASE, DRAFT202012.create_resource(document))
    wrong = []
    for pointer, schema in schemas_of(document):
        validator = Draft202012Validator(
            {"$ref": f"{BASE}{pointer}"},
            registry=registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        for example in examples(schema):
            wrong += [f"{pointer}: {example!r}: {error.message}" for error in validator.iter_errors(example)]
    assert not wrong, "\n".join(wrong)


def test_the_walk_sees_examples_so_the_check_above_can_fail() -> None:
    seen = [
        e for document in DOCUMENTS.values() for _, schema in schemas_of(document) for e in examples(schema)
    ]
    assert len(seen) > 20
    document = DOCUMENTS["intake"]
    registry: Registry[Any] = Registry().with_resource(BASE, DRAFT202012.create_resource(document))
    date = next(p for p, s in schemas_of(document) if s.get("format") == "date")
    validator = Draft202012Validator(
        {"$ref": f"{BASE}{date}"}, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    assert not validator.is_valid("2010-02-30"), "a date example is checked as a date"


def identity_code_examples() -> Iterator[tuple[str, Any]]:
    for service, document in DOCUMENTS.items():
        for pointer, schema in schemas_of(document):
            if pointer.endswith("/personal_identity_code"):
                yield from ((f"{service} {pointer}", example) for example in examples(schema))


def test_every_example_identity_code_has_the_right_check_character() -> None:
    """JSON Schema cannot say what the check character is, so the service's own rule does."""
    codes = list(identity_code_examples())
    assert codes, "the identity code fields show an example"
    wrong = []
    for where, code in codes:
        try:
            parse_identity_code(code)
        except InvalidIdentityCode as exc:
            wrong.append(f"{where}: {code!r}: {exc}")
    assert not wrong, wrong


@pytest.mark.parametrize("service", DOCUMENTS)
def test_every_parameter_and_every_enumeration_says_what_it_is(service: str) -> None:
    document = DOCUMENTS[service]
    missing = [
        f"{method.upper()} {path} {parameter['in']} {parameter['name']}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for parameter in operation.get("parameters", ())
        if not str(parameter.get("description", "")).strip()
    ] + [
        f"enumeration {name}"
        for name, schema in document["components"]["schemas"].items()
        if "enum" in schema and not str(schema.get("description", "")).strip()
    ]
    assert not missing, missing


def request_models() -> dict[str, type[RequestModel]]:
    """Every request body model by its schema name (the apps above have imported them)."""
    found: dict[str, type[RequestModel]] = {}
    pending: list[type[RequestModel]] = [RequestModel]
    while pending:
        model = pending.pop()
        found[model.__name__] = model
        pending.extend(model.__subclasses__())
    return found


def json_bodies(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(operation, schema name) of every JSON request body."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            schema = (
                operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            )
            if schema is not None:
                yield f"{method.upper()} {path}", schema["$ref"].rsplit("/", 1)[-1]


@pytest.mark.parametrize("service", DOCUMENTS)
def test_every_json_body_shows_a_whole_example_that_the_service_accepts(service: str) -> None:
    """A partner's first request can be the example: JSON Schema checks its shape above;
    here the model itself reads it, with its own rules (a check character, a consent's
    organisations, a source that needs its description)."""
    document, models = DOCUMENTS[service], request_models()
    wrong = []
    for operation, name in json_bodies(document):
        shown = document["components"]["schemas"][name].get("examples", [])
        if not shown:
            wrong.append(f"{operation}: {name} shows no example")
        for example in shown:
            try:
                models[name].model_validate_json(json.dumps(example))
            except ValidationError as exc:
                wrong.append(f"{operation}: {name} refuses its example: {exc}")
    assert not wrong, "\n".join(wrong)
