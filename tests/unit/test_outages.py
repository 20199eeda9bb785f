"""Which errors are outages (retry later) and which are the work's own failure."""

from __future__ import annotations

import asyncpg
import nats.errors
import pytest
from asyncpg.exceptions import _base as asyncpg_base

from runtime.consumer import OUTAGE_ERRORS, outage
from runtime.outages import BrokerUnavailable, broker_outage, is_outage


def raised_while_handling(first: BaseException, then: BaseException) -> BaseException:
    try:
        try:
            raise first
        except BaseException:
            raise then  # noqa: B904 - the implicit __context__ is the point
    except BaseException as exc:
        return exc


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.InterfaceError("cannot perform operation: connection is closed"),
        asyncpg.InterfaceError("cannot call Transaction.__aexit__(): the underlying connection is closed"),
        asyncpg.InterfaceError("pool is closing"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.IdleInTransactionSessionTimeoutError("idle-in-transaction timeout"),
        ConnectionResetError(104, "Connection reset by peer"),
        ConnectionRefusedError(111, "Connect call failed"),
        OSError(113, "Connect call failed: no route to host"),
        TimeoutError(),
        nats.errors.NoServersError(),
        nats.errors.TimeoutError(),
        BrokerUnavailable("the broker connection is down"),
    ],
    ids=lambda exc: f"{type(exc).__name__}:{exc}"[:60],
)
def test_connection_class_errors_are_outages(exc: BaseException) -> None:
    assert is_outage(exc)


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.InterfaceError("the server expects 2 arguments for this query, 1 was passed"),
        asyncpg_base.DataError("invalid input for query argument $1: 'x' (an integer is required)"),
        asyncpg.UniqueViolationError("duplicate key value violates unique constraint"),
        asyncpg.UndefinedTableError('relation "nope" does not exist'),
        RuntimeError("the projection has a bug"),
        FileNotFoundError(2, "No such file or directory"),
        ValueError("bad value"),
    ],
    ids=lambda exc: f"{type(exc).__name__}:{exc}"[:60],
)
def test_errors_of_the_work_itself_are_not_outages(exc: BaseException) -> None:
    assert not is_outage(exc)


def test_an_error_raised_while_handling_a_dropped_connection_is_an_outage() -> None:
    # What leaving `async with conn.transaction()` raises after the backend was killed.
    exc = raised_while_handling(
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
    )
    assert is_outage(exc)
    assert not is_outage(asyncpg.InterfaceError("cannot perform operation: another operation is in progress"))


def test_the_consumer_pauses_on_an_interface_error_about_a_closed_connection_and_fails_on_a_bug() -> None:
    closed = asyncpg.InterfaceError("cannot perform operation: connection is closed")
    bug = asyncpg.InterfaceError("the server expects 2 arguments for this query, 1 was passed")
    assert isinstance(closed, OUTAGE_ERRORS) and isinstance(bug, OUTAGE_ERRORS)
    outage(closed)  # the consumer's except-clause lets it through as an outage
    with pytest.raises(asyncpg.InterfaceError, match="arguments"):
        outage(bug)


def test_an_outage_says_whether_it_is_the_broker_or_the_database() -> None:
    assert broker_outage(BrokerUnavailable("down"))
    assert broker_outage(nats.errors.TimeoutError())
    assert not broker_outage(ConnectionRefusedError(111, "Connect call failed"))
