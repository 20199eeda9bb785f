"""Which errors mean "the database or broker cannot be reached right now" (an outage),
as opposed to "this event or request is wrong" (docs/adr/0016).

One rule for every place that has to tell them apart: a consumer pauses on an outage
instead of counting a failure against the event (runtime/consumer.py), the relay says
so in its log (runtime/relay.py), and an API answers 503 with ``Retry-After`` instead of
500 (runtime/http.py).

Connection-class errors are outages: the socket failed, timed out or found no route (an
OSError about, say, a missing file is no outage), the server refused
or dropped the connection (SQLSTATE class 08), is shutting down or starting (57P01-57P03),
has no free connection slot (53300), or ended an idle session of ours (57P05, 25P03).
asyncpg's ``InterfaceError`` is both kinds, so it is told apart by what it says: one
about a closed connection or pool (raised, for example, when a transaction is left after
its backend was killed) is an outage, one about the call itself (the wrong number of
arguments, an unencodable value) is a bug and fails like any other error. An error
raised while handling an outage (its ``__cause__`` or ``__context__``) is an outage too.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import nats.errors
import nats.js.errors

#: the database's connection-class errors
DATABASE_OUTAGES: tuple[type[BaseException], ...] = (
    OSError,  # ConnectionError (refused, reset, broken pipe), TimeoutError, unreachable host
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.IdleSessionTimeoutError,
    asyncpg.IdleInTransactionSessionTimeoutError,
)
#: what a retry through a database outage catches; :func:`database_outage` then tells an
#: ``InterfaceError`` about a closed connection (an outage) from one about the call (a bug)
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (*DATABASE_OUTAGES, asyncpg.InterfaceError)
#: the broker's: no connection, no answer in time, or JetStream itself unavailable
BROKER_OUTAGES: tuple[type[BaseException], ...] = (
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionDrainingError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.StaleConnectionError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.NoServersError,
    nats.errors.NoRespondersError,
    nats.errors.TimeoutError,
    nats.js.errors.ServiceUnavailableError,
)
#: what an ``InterfaceError`` says when the connection (or pool) under it is gone
_CLOSED_CONNECTION = ("connection is closed", "connection was closed", "pool is closed", "pool is closing")


#: the OSErrors that are about the network, by class or by errno
_NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    *BROKER_OUTAGES,
)
_NETWORK_ERRNOS = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENETDOWN, errno.EHOSTDOWN, errno.ETIMEDOUT}


class BrokerUnavailable(ConnectionError):
    """A request needs the broker and the service is not connected to it."""


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` means the database or broker is unreachable (retry later) rather
    than that the work itself failed."""
    return any(_is_outage_itself(e) for e in _chain(exc))


def broker_outage(exc: BaseException) -> bool:
    """Whether the outage ``exc`` is the broker's (else it is the database's)."""
    return any(isinstance(e, (*BROKER_OUTAGES, BrokerUnavailable)) for e in _chain(exc))


def _chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _is_outage_itself(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and not isinstance(exc, _NETWORK_ERRORS):
        return exc.errno in _NETWORK_ERRNOS  # not, say, a missing file
    if isinstance(exc, DATABASE_OUTAGES + BROKER_OUTAGES):
        return True
    if isinstance(exc, asyncpg.InterfaceError):
        message = str(exc).lower()
        return any(text in message for text in _CLOSED_CONNECTION)
    return False


def database_outage(exc: BaseException) -> bool:
    """Whether ``exc``, raised by a database call, means the database is unreachable."""
    return isinstance(exc, OUTAGE_ERRORS) and is_outage(exc)


T = TypeVar("T")


class StoppedWaiting(Exception):
    """:func:`retry_through_outages` was told to stop while it waited to try again."""


async def retry_through_outages(
    attempt: Callable[[], Awaitable[T]],
    *,
    backoff: tuple[float, float] = (0.1, 5.0),
    on_pause: Callable[[BaseException, float], Awaitable[None]] | None = None,
    retry_if: Callable[[BaseException], bool] = database_outage,
    stop: asyncio.Event | None = None,
) -> T:
    """``attempt()``, tried again for as long as it fails with an outage (``retry_if``;
    any other error is raised at once): the one retry loop of the consumer, the relay and
    whatever else must outlast the database (katko, an outage) rather than fail.

    ``backoff`` is (first delay, cap): the wait doubles after each failure up to the cap.
    ``on_pause(exc, delay)`` runs before each wait (to log, or to tell JetStream the
    deliveries are still being worked on). With ``stop``, the wait ends early when it is
    set, and :class:`StoppedWaiting` is raised instead of trying again."""
    delay, cap = backoff
    while True:
        try:
            return await attempt()
        except Exception as exc:
            if not retry_if(exc):
                raise
            if on_pause is not None:
                await on_pause(exc, delay)
            if stop is None:
                await asyncio.sleep(delay)
            else:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                except TimeoutError:
                    pass
                else:
                    raise StoppedWaiting from exc
            delay = min(delay * 2, cap)
