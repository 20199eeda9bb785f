"""Which files under a data directory hold secrets, and a check that another OS user
(``nobody``, through ``runuser``) can read none of them (docs/adr/0022)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def as_nobody(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", "nobody", "--", *command], capture_output=True, text=True, check=False, timeout=30
    )


def secret_files(data_dir: Path) -> list[Path]:
    """Every file under ``data_dir`` that holds a secret: credentials, passwords, keys."""
    return [
        data_dir / "connection.env",
        data_dir / "nats" / "credentials.json",
        data_dir / "nats" / "nats-server.conf",
        data_dir / "postgres" / "password",
        data_dir / "keys" / "token-signing.key",
        *sorted((data_dir / "keys" / "kek").glob("kek-*.key")),
    ]


def assert_nobody_reads_no_secret(data_dir: Path) -> None:
    files = secret_files(data_dir)
    for path in files:
        assert path.is_file(), path
        assert path.stat().st_mode & 0o077 == 0, f"{path} is readable by others"
    # The directories are traversable (embedded PostgreSQL, as root, opens the prefix for
    # its own OS user): the file modes are what stops another user.
    assert as_nobody("ls", str(data_dir)).returncode == 0
    for path in files:
        result = as_nobody("cat", str(path))
        assert result.returncode != 0 and result.stdout == "", f"nobody read {path}"
    result = as_nobody("ls", str(data_dir / "postgres" / "pgdata"))
    assert result.returncode != 0, "nobody listed PostgreSQL's data directory"
