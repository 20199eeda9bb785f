"""``reitti up``: start the embedded servers (unless external URLs are given), migrate,
start the three services and the staff desk as child processes, restart any of them that crashes (with
backoff, runtime/supervision.py, docs/adr/0017), and stop them all cleanly on Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from reitti.preparation import prepare_everything
from runtime.auth import ensure_dev_keys
from runtime.config import CONNECTION_VARIABLES, DESK_PORT, Settings, write_connection
from runtime.embedded import (
    EmbeddedNats,
    EmbeddedPostgres,
    EmbeddedServerError,
    ensure_port_free,
    stop_process,
)
from runtime.supervision import CrashHistory, RestartPolicy
from services.settings import ReittiConfig

SERVICES = ("intake", "guidance", "reporting")
#: what `reitti up` starts and watches: the services, then the desk that calls them
UNITS = (*SERVICES, "desk")


class LaunchError(RuntimeError):
    pass


@dataclass
class Launcher:
    data_dir: Path
    nats_port: int
    postgres_port: int
    service_ports: dict[str, int]
    host: str = "127.0.0.1"
    desk_port: int = DESK_PORT
    out: object = sys.stdout
    demo: bool = False
    restart_policy: RestartPolicy = field(default_factory=RestartPolicy)
    servers: list[EmbeddedNats | EmbeddedPostgres] = field(default_factory=list)
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _stopping: bool = False
    _env: dict[str, str] = field(default_factory=dict)
    _desk_env: dict[str, str] = field(default_factory=dict)

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)  # type: ignore[call-overload]
        self._log(text)

    def _log(self, text: str) -> None:
        """``<data-dir>/logs/up.log``: what `reitti up` said, with the time (UTC)."""
        logs = self.data_dir / "logs"
        try:
            logs.mkdir(parents=True, exist_ok=True)
            with (logs / "up.log").open("a", encoding="utf-8") as f:
                f.write(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {text}\n")
        except OSError:
            pass  # the terminal still has it

    def run(self) -> int:
        for name, port in self.service_ports.items():
            ensure_port_free(port, f"the {name} service", f"--{name}-port", self.host)
        ensure_port_free(self.desk_port, "the staff desk", "--desk-port", self.host)
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        # The key-encryption keys (docs/adr/0021): beside the token key, outside PostgreSQL;
        # the migrations below make the first one, and the services inherit the setting.
        os.environ.setdefault("REITTI_KEY_ENCRYPTION_KEY_DIR", str(self.data_dir / "keys" / "kek"))
        try:
            # `reitti up`'s composition root: the settings model, read once here; a wrong
            # setting stops the start before any server
            config = ReittiConfig.from_env()
            settings = self._start_servers(config)
            asyncio.run(prepare_everything(settings))
            self._start_services(settings, config)
            self._wait_healthy()
            for name in SERVICES:
                url = f"http://{self.host}:{self.service_ports[name]}"
                self.say(f"{name:<10} {url}   API docs: {url}/docs")
            self.say(
                f"{'desk':<10} http://{self.host}:{self.desk_port}   the staff desk (sign in in a browser)"
            )
            if self.demo:
                from reitti.demo import after_launch

                after_launch(self.data_dir, self.host, self.service_ports, config, out=self.out)
            self.say(
                f"get a token: reitti token --data-dir {self.data_dir} --role employment_advisor --person you"
            )
            dashboard = f"http://{self.host}:{self.service_ports['reporting']}/dashboard"
            self.say(
                f"dashboard: {dashboard} (sign in with a token of "
                f"reitti token --data-dir {self.data_dir} --role steering_group_member --person you)"
            )
            self.say(f"data and logs in {self.data_dir}; press Ctrl-C to stop")
            return self._watch()
        except KeyboardInterrupt:
            return 0
        finally:
            self.shutdown()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if not self._stopping:
            self._stopping = True
            raise KeyboardInterrupt

    def _start_servers(self, config: ReittiConfig) -> Settings:
        if config.runtime.external_urls() is not None:
            self.say("using external NATS and PostgreSQL from REITTI_NATS_URL / REITTI_DATABASE_URL")
            return config.settings()
        # One NATS user per partner feed: the TE-office and each configured municipality.
        municipalities = config.runtime.municipalities
        nats = EmbeddedNats(
            self.data_dir / "nats",
            self.nats_port,
            municipalities=municipalities,
            sync_interval=config.operator.nats_sync_interval,
        )
        postgres = EmbeddedPostgres(self.data_dir / "postgres", self.postgres_port)
        # Check both ports before starting either, so a clash leaves nothing behind.
        ensure_port_free(nats.port, "the embedded NATS server", "--nats-port")
        ensure_port_free(postgres.port, "the embedded PostgreSQL server", "--postgres-port")
        self.say(f"starting NATS (JetStream) on 127.0.0.1:{nats.port} ...")
        self.servers.append(nats)
        nats.start()
        self.say(f"starting PostgreSQL on 127.0.0.1:{postgres.port} ...")
        self.servers.append(postgres)
        postgres.start()
        # nats.url carries the internal user's password: never print it unredacted.
        return Settings(nats_url=nats.url, database_url=postgres.url(), municipalities=municipalities)

    def _start_services(self, settings: Settings, config: ReittiConfig) -> None:
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update(
            REITTI_NATS_URL=settings.nats_url,
            REITTI_DATABASE_URL=settings.database_url,
            REITTI_NAMESPACE=settings.namespace,
        )
        if self.demo:
            # The demo is the seed's 2010: its clients closed over four years ago, and the
            # retention sweep would erase them (and a later demo load would then refer
            # them again as new clients). `reitti erase-expired` shows the sweep by hand.
            env.setdefault("REITTI_RETENTION_SWEEP_HOURS", "0")
        url = {name: f"http://{self.host}:{port}" for name, port in self.service_ports.items()}
        desk = {
            "REITTI_DESK_INTAKE_URL": url["intake"],
            "REITTI_DESK_GUIDANCE_URL": url["guidance"],
            "REITTI_DESK_REPORTING_URL": url["reporting"],
        }
        if config.runtime.jwt_public_key is None:
            # No identity provider configured: sign development tokens with our own key, and
            # let the desk offer the development sign-in with it (docs/adr/0045).
            private, public = ensure_dev_keys(self.data_dir / "keys")
            env["REITTI_JWT_PUBLIC_KEY"] = str(public)
            desk.update(REITTI_DESK_DEVELOPMENT_SIGN_IN="true", REITTI_JWT_PRIVATE_KEY=str(private))
        if self.servers:
            # The operator commands (replay, audit-verify, dead-letters, ...) find the
            # embedded servers here; it holds the broker's internal password: owner only.
            write_connection(self.data_dir, {k: env[k] for k in CONNECTION_VARIABLES if k in env})
        self._env = env
        self._desk_env = {**env, **desk}
        for name in UNITS:
            self._spawn(name)

    def _service_log(self, name: str) -> Path:
        return self.data_dir / "logs" / f"{name}.log"

    def port(self, name: str) -> int:
        """The port of a service, or of the desk."""
        return self.desk_port if name == "desk" else self.service_ports[name]

    def _spawn(self, name: str) -> None:
        with self._service_log(name).open("ab") as log:
            self.children[name] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "reitti.cli",
                    "serve",
                    name,
                    "--host",
                    self.host,
                    "--port",
                    str(self.port(name)),
                ],
                env=self._desk_env if name == "desk" else self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait_healthy(self, within: float = 90.0) -> None:
        deadline = time.monotonic() + within
        pending = set(UNITS)
        while pending:
            for name in sorted(pending):
                proc = self.children[name]
                if proc.poll() is not None:
                    raise LaunchError(
                        f"the {name} service exited with code {proc.returncode}; "
                        f"see {self.data_dir / 'logs' / (name + '.log')}"
                    )
                url = f"http://{self.host}:{self.port(name)}/healthz"
                try:
                    with urllib.request.urlopen(url, timeout=2) as response:
                        if response.status == 200:
                            pending.discard(name)
                except (urllib.error.URLError, OSError):
                    pass
            if pending and time.monotonic() > deadline:
                raise LaunchError(f"not healthy within {within:.0f}s: {', '.join(sorted(pending))}")
            if pending:
                time.sleep(0.3)

    def _watch(self) -> int:
        """Supervise the children until Ctrl-C, or until one keeps crashing (then 1).

        A child that exits unasked is started again after a backoff; each event is said
        on the output and in ``logs/up.log`` (docs/adr/0017)."""
        units = [_ServiceUnit(self, name) for name in UNITS] + [_ServerUnit(self, s) for s in self.servers]
        self.say(f"restart policy: {self.restart_policy.describe()} per process")
        while True:
            now = time.monotonic()
            for unit in units:
                if unit.restart_at is None:
                    code = unit.exit_code()
                    if code is not None and not self._crashed(
                        unit, f"exited with {_describe_exit(code)}", now
                    ):
                        return 1
                elif now >= unit.restart_at:
                    unit.restart_at = None
                    try:
                        unit.start()
                    except (EmbeddedServerError, OSError) as exc:
                        if not self._crashed(unit, f"did not start again ({exc})", time.monotonic()):
                            return 1
                        continue
                    self.say(f"{unit.label} restarted (pid {unit.pid})")
                    unit.awaiting_health = True
                if unit.awaiting_health and unit.restart_at is None and unit.healthy():
                    unit.awaiting_health = False
                    self.say(f"{unit.label} is healthy again")
            time.sleep(0.25)

    def _crashed(self, unit: _Unit, why: str, now: float) -> bool:
        """Record a crash of ``unit``; schedule its restart (True) or give up (False)."""
        policy = self.restart_policy
        delay = unit.history.record(now)
        if delay is None:
            self.say(
                f"{unit.label} {why}; it crashed {unit.history.recent} times within "
                f"{policy.window:g}s, more than the {policy.max_restarts} restarts allowed: "
                f"giving up and stopping everything; see {unit.log}"
            )
            return False
        self.say(
            f"{unit.label} {why}; restarting it in {delay:g}s "
            f"(restart {unit.history.recent} of at most {policy.max_restarts} within "
            f"{policy.window:g}s); see {unit.log}"
        )
        unit.restart_at = now + delay
        return True

    def shutdown(self) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if not self.children and not self.servers:
            return
        self.say("stopping ...")
        for proc in self.children.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.children.values():
            stop_process(proc, within=15)
        for server in reversed(self.servers):
            server.stop()
        self.children.clear()
        self.servers.clear()
        self.say("stopped")
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"code {code}"


class _Unit:
    """One supervised child: a service or an embedded server."""

    label: str
    log: Path
    history: CrashHistory
    restart_at: float | None = None
    awaiting_health: bool = False

    def exit_code(self) -> int | None:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def healthy(self) -> bool:
        raise NotImplementedError

    @property
    def pid(self) -> int | None:
        raise NotImplementedError


class _ServiceUnit(_Unit):
    def __init__(self, launcher: Launcher, name: str) -> None:
        self.launcher, self.name = launcher, name
        self.label = "the staff desk" if name == "desk" else f"the {name} service"
        self.log = launcher._service_log(name)
        self.history = CrashHistory(launcher.restart_policy)

    def exit_code(self) -> int | None:
        return self.launcher.children[self.name].poll()

    def start(self) -> None:
        with self.log.open("a", encoding="utf-8") as f:
            f.write(f"--- reitti up: restarting {self.label} after a crash\n")
        self.launcher._spawn(self.name)

    def healthy(self) -> bool:
        url = f"http://{self.launcher.host}:{self.launcher.port(self.name)}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    @property
    def pid(self) -> int | None:
        return self.launcher.children[self.name].pid


class _ServerUnit(_Unit):
    def __init__(self, launcher: Launcher, server: EmbeddedNats | EmbeddedPostgres) -> None:
        self.server = server
        self.label = (
            "the embedded NATS server" if isinstance(server, EmbeddedNats) else "the embedded PostgreSQL"
        )
        self.log = server.log
        self.history = CrashHistory(launcher.restart_policy)

    def exit_code(self) -> int | None:
        proc = self.server.proc
        return None if proc is None else proc.poll()

    def start(self) -> None:
        try:
            self.server.start()  # returns once it listens (PostgreSQL: accepts connections)
        except BaseException:
            self.server.stop()  # one that started but never answered must not linger
            raise

    def healthy(self) -> bool:
        return self.exit_code() is None

    @property
    def pid(self) -> int | None:
        return None if self.server.proc is None else self.server.proc.pid


__all__ = ["EmbeddedServerError", "LaunchError", "Launcher"]
