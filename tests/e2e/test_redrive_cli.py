"""``reitti redrive`` with reporting: the operator names a consumer; a letter that still
cannot be applied stays, with its reason; one whose cause was fixed is applied while the
service keeps running."""

from __future__ import annotations

import pytest

from contracts.envelope import CloudEventEnvelope
from contracts.intake import ReferralSource
from runtime.deadletters import read_dead_letters
from services.reporting.app import CONSUMER
from services.reporting.app import create_app as reporting_app
from tests.integration.test_consumer import publish, subject
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


async def test_a_letter_fixed_while_the_service_runs_is_redriven_by_the_command(
    settings, pool, nats_client
) -> None:
    """A projection bug, played by a constraint the referral counts cannot meet: the event
    fails until it is dead-lettered. The constraint goes (the fix is deployed); the
    operator re-drives the letter while reporting keeps running, and it is counted once."""
    js = nats_client.jetstream()
    async with running(reporting_app(settings)):
        await pool.execute(
            "ALTER TABLE reporting.referrals_by_source "
            "ADD CONSTRAINT not_other CHECK (source <> 'other') NOT VALID"
        )
        event = client_referred(source=ReferralSource.OTHER)
        await publish(js, settings, event)
        [letter] = await eventually(
            lambda: read_dead_letters(js, settings, consumer=CONSUMER), lambda ls: len(ls) == 1, within=60
        )
        assert letter.reason is not None and "not_other" in letter.reason
        await pool.execute("ALTER TABLE reporting.referrals_by_source DROP CONSTRAINT not_other")

        code, out, err = await reitti(settings, "redrive", CONSUMER, "--seq", str(letter.dlq_seq))
        assert code == 0, out + err
        assert out.strip() == f"dead letter {letter.dlq_seq}: applied"
        counted = await pool.fetchval(
            "SELECT sum(referred) FROM reporting.referrals_by_source WHERE source = 'other'"
        )
        assert counted == 1
        assert await read_dead_letters(js, settings, consumer=CONSUMER) == []

        code, _, err = await reitti(settings, "redrive", CONSUMER, "--seq", "999999")
        assert code == 2 and "999999" in err
