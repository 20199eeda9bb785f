"""The local cluster of the cluster tests (tests/support/cluster.py) is the cluster of
compose.yaml: the same node names, cluster name, accounts and development passwords as
deploy/nats, only on loopback ports and local directories. If deploy/nats changes, this
fails until the local cluster follows (and the other way round)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.cluster import LocalNatsCluster
from tests.unit.test_compose import (
    ROOT,
    block,
    nats_config_path,
    nats_server_binary,
    nats_services,
    setting,
    strip_comments,
)


def significant(text: str) -> list[str]:
    return [line.strip() for line in strip_comments(text).splitlines() if line.strip()]


def test_the_local_cluster_has_the_nodes_cluster_and_accounts_of_compose(tmp_path: Path) -> None:
    cluster = LocalNatsCluster(tmp_path)
    cluster.write_configs()
    compose_nodes = nats_services()
    assert sorted(node.name for node in cluster.nodes) == sorted(compose_nodes)
    for node in cluster.nodes:
        local = strip_comments(node.config.read_text(encoding="utf-8"))
        deployed = strip_comments(
            nats_config_path(node.name, compose_nodes[node.name]).read_text(encoding="utf-8")
        )
        assert setting(local, "server_name") == setting(deployed, "server_name") == node.name
        local_cluster, deployed_cluster = block(local, "cluster"), block(deployed, "cluster")
        assert local_cluster is not None and deployed_cluster is not None
        assert setting(local_cluster, "name") == setting(deployed_cluster, "name")
        assert block(local, "jetstream") is not None and block(deployed, "jetstream") is not None
        routes = {f"nats://127.0.0.1:{peer.route_port}" for peer in cluster.nodes if peer is not node}
        assert all(route in local_cluster for route in routes), f"{node.name}: not routed to every peer"
        assert 'include "accounts.conf"' in local and 'include "accounts.conf"' in deployed
        for name in ("accounts.conf", "passwords.inc"):
            ours = (node.directory / name).read_text(encoding="utf-8")
            theirs = (ROOT / "deploy" / "nats" / name).read_text(encoding="utf-8")
            assert significant(ours) == significant(theirs), f"{node.name}: {name} differs from deploy/nats"
        checked = subprocess.run(
            [nats_server_binary(), "-t", "-c", str(node.config)], capture_output=True, text=True, timeout=30
        )
        assert checked.returncode == 0, checked.stderr or checked.stdout
