"""A three-node NATS JetStream cluster on loopback, from the nats-server wheel: what
compose.yaml runs (deploy/nats/nats-{1,2,3}.conf), without Docker, for the cluster tests
and benchmarks.

Each node has its own client, route and monitoring port and its own store directory;
all three share the cluster name, route to each other, and carry Reitti's accounts
(runtime/broker_access.py: the ``internal`` user and one user per partner feed) from an
``accounts.conf`` that includes ``passwords.inc``, as in deploy/nats. A node can be
killed (SIGKILL) and started again on the same ports and store.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from runtime.broker_access import INTERNAL_USER, partner_feeds
from runtime.config import DEFAULT_MUNICIPALITIES, DEFAULT_NAMESPACE
from runtime.embedded import EmbeddedServerError, free_port, nats_server_binary, stop_process, wait_for_port
from runtime.nats_accounts import development_passwords, render_accounts, render_password_variables

#: as in deploy/nats/nats-N.conf
CLUSTER_NAME = "reitti"


@dataclass
class Node:
    name: str
    client_port: int
    route_port: int
    http_port: int
    directory: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def config(self) -> Path:
        return self.directory / f"{self.name}.conf"

    @property
    def log(self) -> Path:
        return self.directory / f"{self.name}.log"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def node_config(node: Node, peers: list[Node]) -> str:
    """A node's configuration: deploy/nats/nats-N.conf with loopback ports and paths."""
    routes = "\n".join(f"    nats://127.0.0.1:{peer.route_port}" for peer in peers)
    store = node.directory / "jetstream"
    return (
        f"server_name: {node.name}\n"
        f"listen: 127.0.0.1:{node.client_port}\n"
        'include "accounts.conf"\n'
        f"http: 127.0.0.1:{node.http_port}\n"
        "jetstream {\n"
        f'  store_dir: "{store}"\n'
        "}\n"
        "cluster {\n"
        f"  name: {CLUSTER_NAME}\n"
        f"  listen: 127.0.0.1:{node.route_port}\n"
        "  routes: [\n"
        f"{routes}\n"
        "  ]\n"
        "}\n"
    )


@dataclass
class LocalNatsCluster:
    """Three (``size``) nats-server processes under ``base`` forming one JetStream cluster."""

    base: Path
    size: int = 3
    namespace: str = DEFAULT_NAMESPACE
    municipalities: tuple[str, ...] = DEFAULT_MUNICIPALITIES
    nodes: list[Node] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._choose_ports()
        self.passwords = development_passwords(partner_feeds(self.municipalities))

    def _choose_ports(self) -> None:
        ports: list[int] = []
        while len(ports) < 3 * self.size:  # free_port can hand out the same port twice
            if (port := free_port()) not in ports:
                ports.append(port)
        self.nodes = [
            Node(f"nats-{i}", ports[3 * i - 3], ports[3 * i - 2], ports[3 * i - 1], self.base / f"nats-{i}")
            for i in range(1, self.size + 1)
        ]

    def url(self, user: str = INTERNAL_USER) -> str:
        """Every node's URL with ``user``'s credentials, comma-separated (REITTI_NATS_URL)."""
        password = self.passwords[user]
        return ",".join(f"nats://{user}:{password}@127.0.0.1:{n.client_port}" for n in self.nodes)

    def write_configs(self) -> None:
        feeds = partner_feeds(self.municipalities)
        for node in self.nodes:
            node.directory.mkdir(parents=True, exist_ok=True)
            (node.directory / "accounts.conf").write_text(
                render_accounts(self.namespace, feeds, include="passwords.inc"), encoding="utf-8"
            )
            (node.directory / "passwords.inc").write_text(
                render_password_variables(self.passwords, feeds), encoding="utf-8"
            )
            node.config.write_text(
                node_config(node, [p for p in self.nodes if p is not node]), encoding="utf-8"
            )

    def start(self, *, within: float = 60, attempts: int = 3) -> LocalNatsCluster:
        """Start every node and wait until each is ready. A port chosen free can be taken
        by another process before a node binds it: then start again on new ports."""
        for attempt in range(1, attempts + 1):
            self.write_configs()
            try:
                for node in self.nodes:
                    self.start_node(node, wait=False)
                for node in self.nodes:
                    self.wait_ready(node, within=within)
                return self
            except (RuntimeError, EmbeddedServerError):
                self.stop()
                if attempt == attempts or not self._port_taken():
                    raise
                self._choose_ports()
        raise AssertionError("unreachable")

    def _port_taken(self) -> bool:
        return any(
            node.log.exists() and "address already in use" in node.log.read_text(errors="replace")
            for node in self.nodes
        )

    def start_node(self, node: Node, *, wait: bool = True) -> None:
        with node.log.open("ab") as log:
            node.proc = subprocess.Popen(
                [str(nats_server_binary()), "-c", str(node.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for_port(node.client_port, node.proc, node.name, node.log, 20)
        if wait:
            self.wait_ready(node)

    def wait_ready(self, node: Node, *, within: float = 60) -> None:
        """Until the node's ``/healthz`` answers 200: JetStream up and a meta leader elected."""
        deadline = time.monotonic() + within
        url = f"http://127.0.0.1:{node.http_port}/healthz"
        while True:
            with (
                contextlib.suppress(urllib.error.URLError, OSError),
                urllib.request.urlopen(url, timeout=2) as response,
            ):
                if response.status == 200:
                    return
            if node.proc is not None and node.proc.poll() is not None:
                raise RuntimeError(f"{node.name} exited ({node.proc.returncode}); see {node.log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{node.name} not healthy within {within:.0f}s; see {node.log}")
            time.sleep(0.2)

    def node(self, name: str) -> Node:
        return next(node for node in self.nodes if node.name == name)

    def kill(self, name: str) -> None:
        """SIGKILL the node: no goodbye to its peers, no flush of its store."""
        node = self.node(name)
        assert node.proc is not None
        node.proc.send_signal(signal.SIGKILL)
        node.proc.wait(timeout=10)

    def stop(self) -> None:
        for node in self.nodes:
            if node.proc is not None:
                stop_process(node.proc, within=10)


@contextlib.contextmanager
def local_nats_cluster(
    base: Path,
    *,
    size: int = 3,
    namespace: str = DEFAULT_NAMESPACE,
    municipalities: tuple[str, ...] = DEFAULT_MUNICIPALITIES,
) -> Iterator[LocalNatsCluster]:
    cluster = LocalNatsCluster(base, size=size, namespace=namespace, municipalities=municipalities)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@dataclass
class ServiceReplica:
    """One ``reitti serve <service> --port N`` process with the environment ``env``."""

    service: str
    env: dict[str, str]
    logs: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.logs / f"{self.service}-{self.port}.log"

    def start(self) -> ServiceReplica:
        import sys

        self.logs.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "reitti.cli", "serve", self.service, "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def healthy(self) -> bool:
        with (
            contextlib.suppress(urllib.error.URLError, OSError),
            urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response,
        ):
            return bool(response.status == 200)
        return False

    def wait_healthy(self, within: float = 90) -> None:
        deadline = time.monotonic() + within
        while not self.healthy():
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.service} on {self.port} exited; see {self.log}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.service} on {self.port} not healthy in {within:.0f}s; see {self.log}"
                )
            time.sleep(0.2)

    def start_healthy(self, within: float = 90, attempts: int = 3) -> ServiceReplica:
        """Start and wait until healthy; on a port taken meanwhile, again on another."""
        for attempt in range(1, attempts + 1):
            self.start()
            try:
                self.wait_healthy(within)
                return self
            except RuntimeError:
                taken = "address already in use" in self.log.read_text(errors="replace")
                if attempt == attempts or not taken:
                    raise
                self.port = free_port()
        raise AssertionError("unreachable")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, within=15)
