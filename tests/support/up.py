"""A `reitti up` started as a user starts it, for tests that act on it while it runs:
its output is read in the background (wait for a line), its process tree can be listed
(which children it has, and that none outlives it), and a child can be killed."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from runtime.embedded import free_port

NAMES = ("nats", "postgres", "intake", "guidance", "reporting", "desk")


def embedded_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REITTI_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            stat = f.read()
    except OSError:
        return None
    # the command name is in parentheses and may hold spaces: the fields follow the last ')'
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] == "Z" else int(fields[1])


def command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting for its parent."""
    return _parent_of(pid) is not None


def descendants(root: int) -> set[int]:
    """Every live process below ``root`` (children, theirs, ...)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            parent = _parent_of(int(entry))
            if parent is not None:
                parents[int(entry)] = parent
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


@dataclass
class RunningUp:
    """``reitti up --data-dir DIR`` on free ports; ``lines`` is its output so far."""

    data_dir: Path
    extra_args: tuple[str, ...] = ()
    ports: dict[str, int] = field(default_factory=lambda: {name: free_port() for name in NAMES})
    lines: list[str] = field(default_factory=list)
    proc: subprocess.Popen[str] | None = None
    _reader: threading.Thread | None = None

    def start(self) -> RunningUp:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "reitti.cli", "up", "--data-dir", str(self.data_dir)]
            + [arg for name, port in self.ports.items() for arg in (f"--{name}-port", str(port))]
            + list(self.extra_args),
            env=embedded_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, *, after: int = 0, within: float = 180) -> int:
        """Wait until a line from index ``after`` on contains ``text``; its index."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for index in range(after, len(self.lines)):
                if text in self.lines[index]:
                    return index
            if self.proc is not None and self.proc.poll() is not None and self._reader is not None:
                self._reader.join(timeout=5)
                if not any(text in line for line in self.lines[after:]):
                    raise AssertionError(
                        f"reitti up exited ({self.proc.returncode}) before {text!r}:\n{self.output}"
                    )
            time.sleep(0.1)
        raise AssertionError(f"no {text!r} from reitti up within {within:.0f}s:\n{self.output}")

    def ready(self) -> RunningUp:
        self.wait_for("press Ctrl-C to stop")
        return self

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def children(self) -> set[int]:
        assert self.proc is not None
        return descendants(self.proc.pid)

    def pid_of(self, what: str) -> int:
        """The pid of a direct child: a service by name, ``nats`` or ``postgres``."""
        needle = {
            "nats": "nats-server",
            "postgres": str(self.data_dir / "postgres" / "pgdata"),
        }.get(what, f"serve {what} ")
        assert self.proc is not None
        direct = [pid for pid in self.children() if _parent_of(pid) == self.proc.pid]
        matches = [pid for pid in direct if needle in command_line(pid)]
        assert len(matches) == 1, f"{what}: {[(p, command_line(p)) for p in direct]}"
        return matches[0]

    def stop(self, sig: int = signal.SIGINT, within: float = 90) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=within)
        finally:
            if self._reader is not None:
                self._reader.join(timeout=10)
        return code

    def kill_all(self) -> None:
        """Last resort in a test's ``finally``: the launcher and every child it left."""
        if self.proc is None:
            return
        leftovers = self.children()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
