"""Request bodies and parameters that PostgreSQL can store: no NUL character.

PostgreSQL's ``text`` and ``jsonb`` reject U+0000, so a string carrying it would fail
only when written (HTTP 500). Every request model derives from :class:`RequestModel`,
which refuses it up front as a 422 naming the field (and the path inside it), without
echoing the value; :func:`no_nul_in_parameters` does the same for path and query
parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, field_validator
from pydantic_core import PydanticCustomError

NUL = "\x00"
NUL_ERROR = "nul_character"
NUL_MESSAGE = "must not contain the NUL character (\\u0000)"


def nul_path(value: Any) -> tuple[str | int, ...] | None:
    """Where in ``value`` (strings, and mappings and sequences of them) a NUL character
    is: the path to the first one (empty when ``value`` itself is such a string), or
    ``None`` when there is none."""
    if isinstance(value, str):
        return () if NUL in value else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and NUL in key:
                return ()
            found = nul_path(item)
            if found is not None:
                return (str(key), *found)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = nul_path(item)
            if found is not None:
                return (index, *found)
    return None


def nul_error(field: str, inner: tuple[str | int, ...]) -> PydanticCustomError:
    where = ".".join(str(p) for p in (field, *inner))
    return PydanticCustomError(NUL_ERROR, f"{where}: {NUL_MESSAGE}")


class RequestModel(BaseModel):
    """A request body: unknown fields are refused, and so is NUL in any string."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any, info: Any) -> Any:
        found = nul_path(value)
        if found is not None:
            raise nul_error(info.field_name, found)
        return value


async def no_nul_in_parameters(request: Request) -> None:
    """A router dependency: path and query parameters with NUL answer 422 naming them."""
    errors = [
        {"loc": (where, name), "msg": f"{name}: {NUL_MESSAGE}", "type": NUL_ERROR}
        for where, params in (("path", request.path_params.items()), ("query", request.query_params.items()))
        for name, value in params
        if isinstance(value, str) and (NUL in value or NUL in name)
    ]
    if errors:
        raise RequestValidationError(errors)
