"""``reitti up``: start the embedded servers (unless external URLs are given), migrate,
start the three services as child processes, and stop them all cleanly on Ctrl-C."""

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

from runtime.auth import ensure_dev_keys
from runtime.config import (
    CONNECTION_VARIABLES,
    Settings,
    external_urls,
    municipalities_from_env,
    write_connection,
)
from runtime.embedded import (
    EmbeddedNats,
    EmbeddedPostgres,
    EmbeddedServerError,
    ensure_port_free,
    stop_process,
)
from runtime.preparation import prepare_everything

SERVICES = ("intake", "guidance", "reporting")


class LaunchError(RuntimeError):
    pass


@dataclass
class Launcher:
    data_dir: Path
    nats_port: int
    postgres_port: int
    service_ports: dict[str, int]
    host: str = "127.0.0.1"
    out: object = sys.stdout
    demo: bool = False
    servers: list[EmbeddedNats | EmbeddedPostgres] = field(default_factory=list)
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _stopping: bool = False

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)  # type: ignore[call-overload]

    def run(self) -> int:
        for name, port in self.service_ports.items():
            ensure_port_free(port, f"the {name} service", f"--{name}-port", self.host)
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        # The key-encryption keys (docs/adr/0021): beside the token key, outside PostgreSQL;
        # the migrations below make the first one, and the services inherit the setting.
        os.environ.setdefault("REITTI_KEY_ENCRYPTION_KEY_DIR", str(self.data_dir / "keys" / "kek"))
        try:
            settings = self._start_servers()
            asyncio.run(prepare_everything(settings))
            self._start_services(settings)
            self._wait_healthy()
            for name in SERVICES:
                url = f"http://{self.host}:{self.service_ports[name]}"
                self.say(f"{name:<10} {url}   API docs: {url}/docs")
            if self.demo:
                from runtime.demo import after_launch

                after_launch(self.data_dir, self.host, self.service_ports, out=self.out)
            self.say(
                f"get a token: reitti token --data-dir {self.data_dir} --role employment_advisor --person you"
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

    def _start_servers(self) -> Settings:
        if external_urls() is not None:
            self.say("using external NATS and PostgreSQL from REITTI_NATS_URL / REITTI_DATABASE_URL")
            return Settings.from_env()
        # One NATS user per partner feed: the TE-office and each configured municipality.
        municipalities = municipalities_from_env()
        nats = EmbeddedNats(self.data_dir / "nats", self.nats_port, municipalities=municipalities)
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

    def _start_services(self, settings: Settings) -> None:
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
        if not env.get("REITTI_JWT_PUBLIC_KEY"):
            # No identity provider configured: sign development tokens with our own key.
            _, public = ensure_dev_keys(self.data_dir / "keys")
            env["REITTI_JWT_PUBLIC_KEY"] = str(public)
        if self.servers:
            # The operator commands (replay, audit-verify, dead-letters, ...) find the
            # embedded servers here; it holds the broker's internal password: owner only.
            write_connection(self.data_dir, {k: env[k] for k in CONNECTION_VARIABLES if k in env})
        for name in SERVICES:
            log = (logs / f"{name}.log").open("ab")
            self.children[name] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "runtime.cli",
                    "serve",
                    name,
                    "--host",
                    self.host,
                    "--port",
                    str(self.service_ports[name]),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait_healthy(self, within: float = 90.0) -> None:
        deadline = time.monotonic() + within
        pending = set(SERVICES)
        while pending:
            for name in sorted(pending):
                proc = self.children[name]
                if proc.poll() is not None:
                    raise LaunchError(
                        f"the {name} service exited with code {proc.returncode}; "
                        f"see {self.data_dir / 'logs' / (name + '.log')}"
                    )
                url = f"http://{self.host}:{self.service_ports[name]}/healthz"
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
        while True:
            for name, proc in self.children.items():
                if proc.poll() is not None:
                    self.say(
                        f"the {name} service stopped unexpectedly (code {proc.returncode}); "
                        f"see {self.data_dir / 'logs' / (name + '.log')}; stopping"
                    )
                    return 1
            for server in self.servers:
                if server.proc is not None and server.proc.poll() is not None:
                    self.say(f"{type(server).__name__} stopped unexpectedly; see {server.log}")
                    return 1
            time.sleep(0.5)

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


__all__ = ["EmbeddedServerError", "LaunchError", "Launcher"]
