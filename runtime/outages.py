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

import errno
import socket

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
