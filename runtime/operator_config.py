"""The command line's and ``reitti up``'s section of the one settings model
(docs/adr/0042): ``REITTI_DATA_DIR``, the key-encryption keys' directory, the embedded
broker's fsync policy, and the key and token an operator signs or calls with. Defined in
runtime, beside :mod:`runtime.config`, because runtime code reads two of them (the
embedded server, the key vault)."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from pathlib import Path

from pydantic import Field, field_validator

from runtime.config import default_data_dir
from runtime.flat_settings import ConfigError, Section, blank_is_unset, flat_values, validated

#: how often the embedded JetStream fsyncs (``REITTI_NATS_SYNC_INTERVAL``): NATS's own
#: default, a duration, or ``always`` (every write; see docs/adr/0015 for the choice)
DEFAULT_NATS_SYNC_INTERVAL = "2m"
_SYNC_INTERVAL = re.compile(r"always|[1-9][0-9]*(ms|s|m|h)")


class OperatorSection(Section):
    """The command line's and ``reitti up``'s own settings: where its data is, the
    embedded broker's fsync policy, and the keys and token an operator signs or calls with."""

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="where the operator commands find the servers of `reitti up` "
        "(`connection.env`) and, by default, the key-encryption keys: set it when `reitti up` "
        "ran with `--data-dir`",
        json_schema_extra={"shown_default": "the user data directory"},
    )
    key_encryption_key_dir: Path | None = Field(
        None,
        description="the directory of the key-encryption keys that wrap the client keys (mode "
        "0700; the same directory for every service process; keep it out of the database's "
        "backups, `docs/adr/0021`)",
        json_schema_extra={"shown_default": "`<REITTI_DATA_DIR>/keys/kek`"},
    )
    nats_sync_interval: str = Field(
        DEFAULT_NATS_SYNC_INTERVAL,
        description="how often the embedded JetStream fsyncs: a duration (`2m`, `30s`) or "
        "`always` (see `docs/adr/0015`)",
    )
    jwt_private_key: Path | None = Field(
        None,
        description="the signing key (PEM file) of `reitti token` and `reitti demo`",
        json_schema_extra={"shown_default": "`<data-dir>/keys/token-signing.key` of `reitti up`"},
    )
    token: str | None = Field(
        None,
        repr=False,
        description="your bearer token for `reitti import-info-list` (or its `--token`)",
        json_schema_extra={"shown_default": "unset"},
    )

    @field_validator("data_dir", mode="before")
    @classmethod
    def _data_dir(cls, raw: object) -> object:
        raw = blank_is_unset(raw)
        return default_data_dir() if raw is None else Path(str(raw)).expanduser()

    @field_validator("key_encryption_key_dir", mode="before")
    @classmethod
    def _kek_dir(cls, raw: object) -> object:
        raw = blank_is_unset(raw)
        return None if raw is None else Path(str(raw)).expanduser()

    @field_validator("jwt_private_key", "token", mode="before")
    @classmethod
    def _unset(cls, raw: object) -> object:
        return blank_is_unset(raw)

    @field_validator("nats_sync_interval", mode="before")
    @classmethod
    def _sync_interval(cls, raw: object) -> object:
        """JetStream's ``sync_interval`` for the embedded server (``always``, or a duration
        such as ``2m``, ``30s``); NATS's default when unset."""
        raw = str(raw).strip() if raw is not None else ""
        if not raw:
            return DEFAULT_NATS_SYNC_INTERVAL
        if not _SYNC_INTERVAL.fullmatch(raw):
            raise ConfigError(
                f"REITTI_NATS_SYNC_INTERVAL {raw!r}: use always, or a duration such as 2m, 30s or 500ms"
            )
        return raw

    @property
    def kek_directory(self) -> Path:
        """``REITTI_KEY_ENCRYPTION_KEY_DIR``; else ``<REITTI_DATA_DIR>/keys/kek``, where
        ``reitti up`` keeps it."""
        return self.key_encryption_key_dir or self.data_dir / "keys" / "kek"

    def signing_key(self, data_dir: Path) -> Path:
        """``REITTI_JWT_PRIVATE_KEY``; else the key ``reitti up`` keeps in ``data_dir``."""
        return self.jwt_private_key or data_dir / "keys" / "token-signing.key"


def kek_directory(env: Mapping[str, str] | None = None) -> Path:
    """The key-encryption keys' directory, read from ``env`` (default: the process
    environment) on each call, so a process that changes it gets the new one. Called on
    every write of personal data: the section is validated once per set of values."""
    values = flat_values(OperatorSection, os.environ if env is None else env)
    return _kek_directory(tuple(sorted(values.items())))


@functools.lru_cache(maxsize=8)
def _kek_directory(values: tuple[tuple[str, str], ...]) -> Path:
    return validated(OperatorSection, dict(values)).kek_directory
