"""Per-organisation feeds on the broker (ADR 0009), against a real nats-server started
with the generated accounts: a partner organisation reads its own feed and nothing else.

The broker is the suite's own embedded server when there is one (so this also proves the
suite runs against the permissioned broker), else an embedded server of this module's own
on a free port: the test never depends on a server already on the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import stat
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import nats
import nats.errors
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig

from contracts.base import Side
from contracts.subjects import dead_letter_subject, event_subject
from runtime.broker_access import BrokerAccessError, feed_subject, partner_feeds
from runtime.broker_credentials import FeedAccess, read_feed_access, redact_nats_url
from runtime.config import DEFAULT_NAMESPACE, Settings
from runtime.embedded import EmbeddedNats, free_port, nats_server_binary, stop_process, wait_for_port
from runtime.nats_accounts import deploy_accounts_text, deploy_passwords_text, development_passwords
from runtime.streams import connect_nats, ensure_streams
from tests.support.servers import Servers

pytestmark = pytest.mark.integration

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "nats"
#: how long a refused request waits for the answer that never comes
REFUSED_WITHIN = 1.0


@pytest.fixture(scope="module")
def broker(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNats]:
    if servers.embedded_nats is not None:
        yield servers.embedded_nats
        return
    own = EmbeddedNats(Path(tmp_path_factory.mktemp("broker-access")), free_port())
    own.start()
    try:
        yield own
    finally:
        own.stop()


@dataclass
class Feeds:
    settings: Settings
    js: JetStreamContext
    broker: EmbeddedNats

    @property
    def ns(self) -> str:
        return self.settings.namespace

    async def count(self, stream: str, subject: str | None = None) -> int:
        info = await self.js.stream_info(stream, subjects_filter=subject)
        if subject is None:
            return int(info.state.messages)
        return sum((info.state.subjects or {}).values())


@pytest.fixture
async def feeds(broker: EmbeddedNats) -> AsyncIterator[Feeds]:
    """Fresh streams with one message on Mikkeli's feed, one on Puumala's, one on the
    TE-office's, one internal event and one dead letter, all published as ``internal``."""
    settings = Settings(
        nats_url=broker.url,
        database_url="postgresql://unused",
        namespace=broker.namespace,
        municipalities=broker.municipalities,
    )
    streams = (settings.events_stream, settings.dead_letter_stream, settings.feeds_stream)
    nc = await connect_nats(settings.nats_url, name="test-broker-access")
    js = nc.jetstream()
    for stream in streams:
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await js.delete_stream(stream)
    await ensure_streams(js, settings)
    ns = settings.namespace
    await js.publish(feed_subject(ns, "social_services:Mikkeli", "ClientReferred"), b"for mikkeli")
    await js.publish(feed_subject(ns, "social_services:Puumala", "ClientReferred"), b"for puumala")
    await js.publish(feed_subject(ns, "te-office", "FinalAssessmentIssued"), b"for te-office")
    await js.publish(event_subject(ns, "intake", Side.CENTRE, "mikkeli", "ClientReferred"), b"internal")
    await js.publish(dead_letter_subject(ns, "reporting"), b"dead letter")
    try:
        yield Feeds(settings, js, broker)
    finally:
        for stream in streams:
            with contextlib.suppress(Exception):
                await js.delete_stream(stream)
        await nc.close()


@dataclass
class Partner:
    access: FeedAccess
    nc: NatsClient
    errors: list[Exception]

    @property
    def js(self) -> JetStreamContext:
        return self.nc.jetstream(timeout=REFUSED_WITHIN)

    async def refused(self, verb: str, subject: str) -> None:
        """Assert the server answered with a permissions violation for ``subject``."""
        expected = f'nats: permissions violation for {verb} to "{subject}"'.lower()
        for _ in range(40):
            if any(str(e).lower() == expected for e in self.errors):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {expected!r} among {[str(e) for e in self.errors]}")


@contextlib.asynccontextmanager
async def partner(feeds: Feeds, organisation: str) -> AsyncIterator[Partner]:
    access = feeds.broker.feed_access(organisation)
    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    nc = await nats.connect(access.url, name=f"test-{access.user}", error_cb=on_error, allow_reconnect=False)
    try:
        yield Partner(access, nc, errors)
    finally:
        await nc.close()


async def read_all(p: Partner) -> list[tuple[str, bytes]]:
    """Everything the partner's consumer delivers, acknowledged."""
    sub = await p.js.pull_subscribe_bind(p.access.consumer, stream=p.access.stream)
    got: list[tuple[str, bytes]] = []
    while True:
        try:
            batch = await sub.fetch(10, timeout=1.0)
        except (nats.errors.TimeoutError, TimeoutError):  # nats-py raises either when none come
            return got
        for msg in batch:
            got.append((msg.subject, msg.data))
            await msg.ack_sync()


# --- (a) a partner reads its own feed ---------------------------------------------------


async def test_a_municipality_reads_its_own_feed_and_nothing_of_the_others(feeds: Feeds) -> None:
    async with partner(feeds, "social_services:mikkeli") as mikkeli:
        got = await read_all(mikkeli)
        assert mikkeli.errors == []
    assert got == [(f"{feeds.ns}.feeds.mikkeli.ClientReferred", b"for mikkeli")]
    info = await feeds.js.consumer_info(feeds.settings.feeds_stream, "feed-mikkeli")
    assert (info.num_pending, info.num_ack_pending) == (0, 0), "the partner's acks did not arrive"


async def test_the_te_office_reads_the_te_feed(feeds: Feeds) -> None:
    async with partner(feeds, "te-office") as te:
        got = await read_all(te)
        assert te.errors == []
    assert got == [(f"{feeds.ns}.feeds.te-office.FinalAssessmentIssued", b"for te-office")]


# --- (b) and (c): everything else is refused --------------------------------------------


async def test_a_municipality_cannot_create_a_consumer_on_another_municipalitys_feed(feeds: Feeds) -> None:
    async with partner(feeds, "mikkeli") as mikkeli:
        config = ConsumerConfig(name="sneaky", filter_subject=f"{feeds.ns}.feeds.puumala.>")
        with pytest.raises(nats.errors.TimeoutError):
            await mikkeli.js.add_consumer(feeds.settings.feeds_stream, config)
        await mikkeli.refused(
            "publish",
            f"$JS.API.CONSUMER.CREATE.{feeds.settings.feeds_stream}.sneaky.{feeds.ns}.feeds.puumala.>",
        )


async def test_a_municipality_cannot_create_an_unfiltered_consumer_on_the_feeds(feeds: Feeds) -> None:
    stream = feeds.settings.feeds_stream
    async with partner(feeds, "mikkeli") as mikkeli:
        with pytest.raises(nats.errors.TimeoutError):
            await mikkeli.js.add_consumer(stream, ConsumerConfig(name="everything"))
        await mikkeli.refused("publish", f"$JS.API.CONSUMER.CREATE.{stream}.everything")
        with pytest.raises(nats.errors.TimeoutError):
            await mikkeli.js.add_consumer(stream, ConsumerConfig(durable_name="everything"))
        await mikkeli.refused("publish", f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.everything")
    assert [c.name for c in await feeds.js.consumers_info(stream) if c.name == "everything"] == []


async def test_a_municipality_cannot_create_a_consumer_on_the_events(feeds: Feeds) -> None:
    stream = feeds.settings.events_stream
    async with partner(feeds, "mikkeli") as mikkeli:
        config = ConsumerConfig(
            name="events", filter_subject=f"{feeds.ns}.events.>", ack_policy=AckPolicy.NONE
        )
        with pytest.raises(nats.errors.TimeoutError):
            await mikkeli.js.add_consumer(stream, config)
        await mikkeli.refused("publish", f"$JS.API.CONSUMER.CREATE.{stream}.events.{feeds.ns}.events.>")


async def test_a_municipality_cannot_pull_from_another_municipalitys_consumer(feeds: Feeds) -> None:
    subject = f"$JS.API.CONSUMER.MSG.NEXT.{feeds.settings.feeds_stream}.feed-puumala"
    async with partner(feeds, "mikkeli") as mikkeli:
        with pytest.raises(nats.errors.TimeoutError):
            await mikkeli.nc.request(subject, json.dumps({"batch": 1}).encode(), timeout=REFUSED_WITHIN)
        await mikkeli.refused("publish", subject)
    info = await feeds.js.consumer_info(feeds.settings.feeds_stream, "feed-puumala")
    assert info.delivered.stream_seq == 0, "Puumala's message was delivered to someone"


async def test_a_municipality_cannot_read_stored_messages_directly(feeds: Feeds) -> None:
    async with partner(feeds, "mikkeli") as mikkeli:
        for stream in (
            feeds.settings.events_stream,
            feeds.settings.feeds_stream,
            feeds.settings.dead_letter_stream,
        ):
            subject = f"$JS.API.STREAM.MSG.GET.{stream}"
            with pytest.raises(nats.errors.TimeoutError):
                await mikkeli.nc.request(subject, json.dumps({"seq": 1}).encode(), timeout=REFUSED_WITHIN)
            await mikkeli.refused("publish", subject)


@pytest.mark.parametrize("wildcard", ["events.>", "dlq.>", "feeds.puumala.>", "feeds.>"])
async def test_a_municipality_cannot_subscribe_to_reittis_own_subjects(feeds: Feeds, wildcard: str) -> None:
    subject = f"{feeds.ns}.{wildcard}"
    async with partner(feeds, "mikkeli") as mikkeli:
        await mikkeli.nc.subscribe(subject)
        await mikkeli.nc.flush()
        await mikkeli.refused("subscription", subject)


async def test_a_municipality_cannot_publish_into_a_feed_or_the_events(feeds: Feeds) -> None:
    forged = [
        feed_subject(feeds.ns, "puumala", "ClientReferred"),
        feed_subject(feeds.ns, "mikkeli", "ClientReferred"),
        event_subject(feeds.ns, "intake", Side.CENTRE, "mikkeli", "ClientReferred"),
    ]
    before = (await feeds.count(feeds.settings.feeds_stream), await feeds.count(feeds.settings.events_stream))
    async with partner(feeds, "mikkeli") as mikkeli:
        for subject in forged:
            await mikkeli.nc.publish(subject, b"forged")
            await mikkeli.nc.flush()
            await mikkeli.refused("publish", subject)
    after = (await feeds.count(feeds.settings.feeds_stream), await feeds.count(feeds.settings.events_stream))
    assert after == before


async def test_the_te_office_cannot_read_a_municipalitys_feed(feeds: Feeds) -> None:
    stream = feeds.settings.feeds_stream
    async with partner(feeds, "te-office") as te:
        subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.feed-mikkeli"
        with pytest.raises(nats.errors.TimeoutError):
            await te.nc.request(subject, json.dumps({"batch": 1}).encode(), timeout=REFUSED_WITHIN)
        await te.refused("publish", subject)
        config = ConsumerConfig(name="te-reads-mikkeli", filter_subject=f"{feeds.ns}.feeds.mikkeli.>")
        with pytest.raises(nats.errors.TimeoutError):
            await te.js.add_consumer(stream, config)
        await te.refused(
            "publish", f"$JS.API.CONSUMER.CREATE.{stream}.te-reads-mikkeli.{feeds.ns}.feeds.mikkeli.>"
        )
    info = await feeds.js.consumer_info(stream, "feed-mikkeli")
    assert info.delivered.stream_seq == 0, "Mikkeli's message was delivered to someone"


# --- the account boundary itself --------------------------------------------------------


async def test_a_partners_pull_cannot_be_answered_into_reittis_subjects(feeds: Feeds) -> None:
    # A request's reply subject is the requester's choice, and NATS checks it against no
    # permission. In one account shared with Reitti, a partner's pull with the reply
    # subject <ns>.events.... is served (the events stream listens there) and its feed
    # message lands in Reitti's event log; on another municipality's feed subject, in that
    # feed. In its own account the reply subject is the partner's own: nothing listens.
    next_subject = f"$JS.API.CONSUMER.MSG.NEXT.{feeds.settings.feeds_stream}.feed-mikkeli"
    targets = [
        event_subject(feeds.ns, "intake", Side.CENTRE, "mikkeli", "ClientReferred"),
        feed_subject(feeds.ns, "puumala", "ClientReferred"),
        dead_letter_subject(feeds.ns, "reporting"),
    ]

    async def counts() -> list[int]:
        return [
            await feeds.count(feeds.settings.events_stream),
            await feeds.count(feeds.settings.feeds_stream, targets[1]),
            await feeds.count(feeds.settings.dead_letter_stream),
        ]

    before = await counts()
    async with partner(feeds, "mikkeli") as mikkeli:
        pull = json.dumps({"batch": 1, "expires": 300_000_000}).encode()
        for reply in targets:
            await mikkeli.nc.publish(next_subject, pull, reply=reply)
        await mikkeli.nc.flush()
        await asyncio.sleep(0.6)
        assert await counts() == before, "a partner's pull was answered into Reitti's streams"
        # the same pull answered to the partner's own inbox is served: the message is still there
        assert await read_all(mikkeli) == [(f"{feeds.ns}.feeds.mikkeli.ClientReferred", b"for mikkeli")]
        assert mikkeli.errors == []


async def test_a_wrong_password_or_none_is_refused(feeds: Feeds) -> None:
    access = feeds.broker.feed_access("mikkeli")
    wrong = dataclasses.replace(access, password="not-the-password")
    for url in (wrong.url, access.servers):
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await nats.connect(url, allow_reconnect=False, connect_timeout=2)


# --- configuration and credentials ------------------------------------------------------


def test_the_deploy_configuration_is_what_the_generator_renders() -> None:
    feeds = partner_feeds()
    assert (DEPLOY / "accounts.conf").read_text(encoding="utf-8") == deploy_accounts_text(
        DEFAULT_NAMESPACE, feeds
    ), "stale: run `reitti nats-config accounts --output deploy/nats/accounts.conf`"
    assert (DEPLOY / "passwords.inc").read_text(encoding="utf-8") == deploy_passwords_text(
        development_passwords(feeds), feeds, dev=True
    ), "stale: run `reitti nats-config passwords --dev --output deploy/nats/passwords.inc`"


def test_embedded_credentials_are_private_stable_and_readable_for_a_partner(tmp_path: Path) -> None:
    first = EmbeddedNats(tmp_path, 14999)
    internal_url = first.url
    assert stat.S_IMODE(os.stat(first.credentials_file).st_mode) == 0o600
    again = EmbeddedNats(tmp_path, 14999)
    assert again.url == internal_url, "a restart changed the passwords"
    access = read_feed_access(tmp_path, "social_services:Mäntyharju")
    assert (access.user, access.consumer, access.filter_subject) == (
        "feed-mantyharju",
        "feed-mantyharju",
        f"{DEFAULT_NAMESPACE}.feeds.mantyharju.>",
    )
    assert access.password == again.credentials().passwords["feed-mantyharju"]
    assert access.password not in repr(access)
    with pytest.raises(BrokerAccessError, match="no feed here"):
        read_feed_access(tmp_path, "social_services:Helsinki")


@contextlib.contextmanager
def server_without_accounts(data_dir: Path) -> Iterator[str]:
    """nats-server as the embedded one was configured before ADR 0009: no accounts."""
    port = free_port()
    conf = data_dir / "old.conf"
    conf.write_text(f'listen: 127.0.0.1:{port}\njetstream {{ store_dir: "{data_dir / "jetstream"}" }}\n')
    proc = subprocess.Popen([str(nats_server_binary()), "-c", str(conf)], stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc, "the old NATS server", data_dir / "no.log", 20)
        yield f"nats://127.0.0.1:{port}"
    finally:
        stop_process(proc)


async def test_streams_of_a_data_directory_from_before_accounts_survive_the_upgrade(tmp_path: Path) -> None:
    with server_without_accounts(tmp_path) as url:
        nc = await nats.connect(url)
        js = nc.jetstream()
        await js.add_stream(name="REITTI_EVENTS", subjects=["reitti.events.>"])
        await js.publish("reitti.events.intake.centre.mikkeli.ClientReferred", b"from before")
        await nc.close()
    upgraded = EmbeddedNats(tmp_path, free_port())
    upgraded.start()
    try:
        nc = await nats.connect(upgraded.url)
        info = await nc.jetstream().stream_info("REITTI_EVENTS")
        await nc.close()
    finally:
        upgraded.stop()
    assert info.state.messages == 1


def test_a_nats_url_is_printed_without_its_passwords() -> None:
    url = "nats://internal:s3cret@nats-1:4222, nats://internal:s3cret@nats-2:4222,nats://tok3n@nats-3:4222"
    redacted = redact_nats_url(url)
    assert (
        redacted == "nats://internal:***@nats-1:4222,nats://internal:***@nats-2:4222,nats://***@nats-3:4222"
    )
    assert redact_nats_url("nats://127.0.0.1:4222") == "nats://127.0.0.1:4222"


def test_feed_subjects_name_the_organisations_feed() -> None:
    assert feed_subject("reitti", "social_services:Mäntyharju", "ClientReferred") == (
        "reitti.feeds.mantyharju.ClientReferred"
    )
    assert feed_subject("reitti", "te-office", "FinalAssessmentIssued") == (
        "reitti.feeds.te-office.FinalAssessmentIssued"
    )
    # an organisation becomes a slug: no wildcard or extra token gets through
    assert feed_subject("reitti", "social_services:puumala.>", "X") == "reitti.feeds.puumala.X"
    for organisation, event_type in (("*", "X"), ("", "X"), ("mikkeli", "client.referred"), ("mikkeli", "*")):
        with pytest.raises(BrokerAccessError):
            feed_subject("reitti", organisation, event_type)
