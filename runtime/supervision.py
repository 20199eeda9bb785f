"""The restart policy of ``reitti up`` (docs/adr/0017): when a child that crashed is
started again, and when the launcher gives up instead.

Pure: the launcher passes the clock in. A child (a service or an embedded server) that
exits while nobody asked it to is restarted after a delay that doubles with each crash
in the window (``initial_delay``, ``2 * initial_delay``, ... at most ``max_delay``). A
child may be restarted at most ``max_restarts`` times within any ``window`` seconds;
the crash after that means it cannot stay up, and ``reitti up`` stops everything and
exits 1. A start that fails (a server that does not come up) counts as a crash.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

#: restarts allowed within the window, and the window in seconds: the defaults of `reitti up`
DEFAULT_MAX_RESTARTS = 5
DEFAULT_RESTART_WINDOW = 120.0


@dataclass(frozen=True)
class RestartPolicy:
    """At most ``max_restarts`` restarts of one child within ``window`` seconds, each
    after an exponential backoff from ``initial_delay`` up to ``max_delay`` seconds."""

    max_restarts: int = DEFAULT_MAX_RESTARTS
    window: float = DEFAULT_RESTART_WINDOW
    initial_delay: float = 0.5
    max_delay: float = 30.0

    def __post_init__(self) -> None:
        if self.max_restarts < 0:
            raise ValueError("max_restarts must be 0 or more")
        if self.window <= 0 or self.initial_delay < 0 or self.max_delay < self.initial_delay:
            raise ValueError("window must be positive and 0 <= initial_delay <= max_delay")

    def delay(self, crashes_in_window: int) -> float:
        """The backoff before the restart that follows the ``crashes_in_window``-th crash."""
        return min(self.max_delay, self.initial_delay * 2.0 ** max(0, crashes_in_window - 1))

    def describe(self) -> str:
        return (
            f"at most {self.max_restarts} restarts within {self.window:g}s, "
            f"backoff {self.initial_delay:g}s doubling up to {self.max_delay:g}s"
        )


@dataclass
class CrashHistory:
    """One child's crashes, newest last, within the policy's window."""

    policy: RestartPolicy
    crashes: deque[float] = field(default_factory=deque)

    def record(self, now: float) -> float | None:
        """Record a crash at ``now``: the delay before restarting, or None to give up."""
        self.crashes.append(now)
        while self.crashes and self.crashes[0] <= now - self.policy.window:
            self.crashes.popleft()
        if len(self.crashes) > self.policy.max_restarts:
            return None
        return self.policy.delay(len(self.crashes))

    @property
    def recent(self) -> int:
        return len(self.crashes)
