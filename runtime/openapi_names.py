"""The centre's municipalities in the OpenAPI: every field or parameter that names one
is marked (:data:`MUNICIPALITY`, :data:`MUNICIPALITIES` for a list) where it is
declared, and gets the configured names as its ``enum`` when the document is built. So
the document lists what the service accepts (ADR 0027), and a partner or a fuzzer
generates names the configuration knows. The service also takes each name in another
case or as its slug, and stores it as listed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from fastapi import FastAPI

from contracts.names import SOCIAL_SERVICES
from contracts.subjects import organisation_slug

_MARK = "x-reitti-names"
#: ``json_schema_extra`` of a field or parameter that names one of the centre's municipalities
MUNICIPALITY: dict[str, Any] = {_MARK: "municipality"}
#: ``json_schema_extra`` of a list of the centre's municipalities
MUNICIPALITIES: dict[str, Any] = {_MARK: "municipalities"}
#: ``json_schema_extra`` of an object keyed by the centre's municipalities (``{"Mikkeli": 7}``)
MUNICIPALITY_KEYS: dict[str, Any] = {_MARK: "municipality_keys"}
#: ``json_schema_extra`` of a municipality, or ``all`` (a picker's choice of every one)
MUNICIPALITY_OR_ALL: dict[str, Any] = {_MARK: "municipality_or_all"}
#: the value that stands for every municipality in :data:`MUNICIPALITY_OR_ALL`
ALL = "all"
#: ``json_schema_extra`` of a list of organisation ids (``social_services:<municipality>``, ``kela``)
ORGANISATIONS: dict[str, Any] = {_MARK: "organisations"}
_NOTE = "Any case, or the slug (mantyharju), is accepted too and stored as listed."


def document_municipalities(app: FastAPI, municipalities: Sequence[str]) -> None:
    """Wrap ``app.openapi`` so the marked schemas list ``municipalities``."""
    base: Callable[[], dict[str, Any]] = app.openapi
    names = list(municipalities)
    done: list[bool] = []

    def openapi() -> dict[str, Any]:
        document = base()
        if not done:
            _fill(document, names)
            done.append(True)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _fill(node: Any, names: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _fill(item, names)
        return
    if not isinstance(node, dict):
        return
    mark = node.pop(_MARK, None)
    if mark == "municipality":
        _enum(node, names)
    elif mark == "municipalities":
        items = node.get("items")
        if isinstance(items, dict):
            _enum(items, names, describe=False)
        node["description"] = _described(node.get("description"))
    elif mark == "municipality_or_all":
        _enum(node, [*names, ALL])
    elif mark == "municipality_keys":
        branches = node.get("anyOf")
        objects = [b for b in branches if b.get("type") == "object"] if isinstance(branches, list) else [node]
        for target in objects:
            target["propertyNames"] = {"enum": names}
        node["description"] = _described(node.get("description"))
    elif mark == "organisations":
        items = node.get("items")
        if isinstance(items, dict):
            items["pattern"] = organisation_pattern(names)
    for value in node.values():
        _fill(value, names)


def _enum(schema: dict[str, Any], names: list[str], *, describe: bool = True) -> None:
    """The string schema (or the string branch of an optional one) lists ``names``."""
    branches = schema.get("anyOf")
    targets = [b for b in branches if b.get("type") == "string"] if isinstance(branches, list) else [schema]
    for target in targets:
        target["enum"] = names
        target.pop("pattern", None)
    if describe:
        schema["description"] = _described(schema.get("description"))


def _described(description: str | None) -> str:
    if not description:
        return _NOTE
    if _NOTE in description:
        return description
    return f"{description.rstrip('.')}. {_NOTE}"


def organisation_pattern(municipalities: Iterable[str]) -> str:
    """What :func:`contracts.names.canonical_organisation` accepts, as a JSON Schema
    pattern: ``social_services:`` and a centre municipality's name or slug in any case,
    or another organisation's id (letters, digits, ``_`` and ``-``)."""
    names = sorted({n for m in municipalities for n in (m, organisation_slug(m))}, key=lambda n: (-len(n), n))
    alternatives = dict.fromkeys(_any_case(n) for n in names)
    social = _any_case(SOCIAL_SERVICES) + "(?:" + "|".join(alternatives) + ")"
    return f"^(?:{social}|[A-Za-z0-9][A-Za-z0-9_-]{{0,99}})$"


def _any_case(text: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" if c.upper() != c.lower() else re.escape(c) for c in text)
