"""The reader of Reitti's one settings model (docs/adr/0040, 0042): flat ``REITTI_<FIELD>``
environment variables into frozen sections.

Each field of a section keeps the flat variable name it has always had: the variable is
``REITTI_`` + the field's name in upper case, whatever its section (``REITTI_CASELOAD_LIMIT``,
not a name nested by section). The model itself is ``services.settings.ReittiConfig``; its
runtime sections (:mod:`runtime.config`) are defined in this layer, which imports nothing
of the services, so this reader lives here too and both layers read through it:

- :class:`FlatSettings` is the pydantic-settings base of the whole model
  (``ReittiConfig.from_env``);
- :func:`read_section` reads one section alone, for the runtime code that cannot import
  the model (``Settings.from_env``, the key-encryption-key directory).

A wrong value raises :class:`ConfigError` naming the variable, however the section was
built: from the environment, in code, or by ``with_``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

PREFIX = "REITTI_"


class ConfigError(ValueError):
    pass


class FromFile:
    """Marks a field whose variable names a file: the field holds the file's text
    (``REITTI_JWT_PUBLIC_KEY`` names a PEM file; the field is the key)."""


#: ``Annotated[str | None, FROM_FILE]``
FROM_FILE = FromFile()


def variable(field_name: str) -> str:
    """The environment variable of a field: ``REITTI_`` + its name in upper case."""
    return PREFIX + field_name.upper()


def blank_is_unset(raw: object) -> object:
    return None if isinstance(raw, str) and not raw.strip() else raw


def config_error(exc: ValidationError) -> ConfigError:
    """The first error of ``exc`` as a :class:`ConfigError`: the one a validator raised, or
    pydantic's own message behind the variable's name."""
    first = exc.errors()[0]
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, ConfigError):
        return cause
    loc = [str(part) for part in first["loc"]]
    name = variable(loc[-1]) if loc else "REITTI_*"
    return ConfigError(f"{name}: {first['msg']}")


class Section(BaseModel):
    """A section of the settings: frozen, no field it does not declare, and a wrong value
    is a :class:`ConfigError` even when the section is built in code."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    if not TYPE_CHECKING:  # mypy keeps the plugin's typed __init__ of each section

        def __init__(self, **data: Any) -> None:
            try:
                super().__init__(**data)
            except ValidationError as exc:
                raise config_error(exc) from None


S = TypeVar("S", bound=Section)


def validated(section: type[S], values: Mapping[str, Any]) -> S:
    """``values`` as a ``section``, or a :class:`ConfigError` naming the variable."""
    try:
        return section.model_validate(dict(values))
    except ValidationError as exc:
        raise config_error(exc) from None


def _from_file(name: str, field: FieldInfo, raw: str) -> str | None:
    if not any(isinstance(m, FromFile) for m in field.metadata):
        return raw
    if not raw:
        return None
    try:
        return Path(raw).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{name} {raw}: {exc.strerror}") from None


def flat_values(section: type[Section], env: Mapping[str, str]) -> dict[str, Any]:
    """The fields of ``section`` that ``env`` sets, as given there (a file's text for a
    :data:`FROM_FILE` field)."""
    found: dict[str, Any] = {}
    for name, field in section.model_fields.items():
        key = variable(name)
        if key in env:
            found[name] = _from_file(key, field, env[key])
    return found


def read_section(section: type[S], env: Mapping[str, str] | None = None) -> S:
    """One section from ``env`` (default: the process environment)."""
    return validated(section, flat_values(section, os.environ if env is None else env))


def sections_of(model: type[BaseModel]) -> dict[str, type[Section]]:
    """The sections of a settings model, by field name, in their order."""
    found: dict[str, type[Section]] = {}
    for name, field in model.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, Section):
            found[name] = field.annotation
    return found


class _FlatEnvironment(PydanticBaseSettingsSource):
    """Reads each section's fields from their flat ``REITTI_<FIELD>`` variables."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self._env = env

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # whole sections are read in __call__

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, section in sections_of(self.settings_cls).items():
            if values := flat_values(section, self._env):
                found[name] = values
        return found


class FlatSettings(BaseSettings):
    """A settings model of sections, each read from the flat variables; build it with
    :meth:`from_env`."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, frozen=True, extra="forbid")

    #: the environment :meth:`from_env` reads (set only for the duration of one build)
    _source_env: ClassVar[Mapping[str, str] | None] = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        env = os.environ if cls._source_env is None else cls._source_env
        return (init_settings, _FlatEnvironment(settings_cls, env))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        """The settings from ``env`` (default: the process environment, read here only);
        a wrong value raises :class:`ConfigError` naming its variable."""
        try:
            FlatSettings._source_env = env
            return cls()
        except ValidationError as exc:
            raise config_error(exc) from None
        finally:
            FlatSettings._source_env = None
