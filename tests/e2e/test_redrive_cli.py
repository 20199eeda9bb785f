"""``reitti redrive`` against a running reporting service: the operator names a consumer,
and a dead letter that still cannot be applied stays, with its reason."""

from __future__ import annotations

import pytest

from contracts.envelope import CloudEventEnvelope
from runtime.deadletters import read_dead_letters
from services.reporting.app import CONSUMER
from services.reporting.app import create_app as reporting_app
from tests.integration.test_consumer import subject
from tests.support.apps import eventually, running
from tests.support.cli import reitti
from tests.support.factories import client_referred

pytestmark = pytest.mark.integration


async def test_redrive_names_the_consumers_and_keeps_a_letter_that_still_fails(settings, nats_client) -> None:
    js = nats_client.jetstream()
    async with running(reporting_app(settings)):
        wrong = CloudEventEnvelope.wrap(client_referred(), source="/reitti/intake").model_dump(mode="json")
        wrong["data"]["source"] = "carrier pigeon"
        await js.publish(subject(settings), CloudEventEnvelope.model_validate(wrong).to_bytes())
        [letter] = await eventually(
            lambda: read_dead_letters(js, settings, consumer=CONSUMER), lambda ls: len(ls) == 1
        )

    code, _, err = await reitti(settings, "redrive", "no-such-consumer")
    assert code == 2 and "guidance-intake" in err and "reporting" in err

    code, out, _ = await reitti(settings, "redrive", CONSUMER)
    assert code == 1, out
    assert f"dead letter {letter.dlq_seq}: still fails, kept: invalid event:" in out and "source" in out
    assert [kept.dlq_seq for kept in await read_dead_letters(js, settings, consumer=CONSUMER)] == [
        letter.dlq_seq
    ]
