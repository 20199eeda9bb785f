"""How a client's case is cut into the side partitions: pure functions, no servers."""

from __future__ import annotations

from datetime import date

from contracts.base import ERASED
from contracts.guidance import Outcome
from contracts.intake import ConsentScope, ReferralSource, Route
from services.reporting.facts import CaseFacts, evolve
from services.reporting.partitions import (
    Metric,
    municipal_view,
    steering_changes,
    steering_counts,
    te_view,
)
from tests.support.reporting_events import Story, client_event

DISCLOSE_TO_MIKKELI = (ConsentScope.DISCLOSURE_TO_ORGANISATIONS,)


def fold(story: Story) -> CaseFacts:
    facts = CaseFacts.new(client_event(story.events[0]))
    for event in story.events:
        facts = evolve(facts, event)
    return facts


def guided_story() -> Story:
    story = Story("Mikkeli")
    story.referred(date(2010, 3, 1))
    story.consent(date(2010, 3, 10))
    story.assessed(date(2010, 3, 20))
    story.opened(date(2010, 3, 20))
    story.guide(date(2010, 4, 1))
    story.plan(date(2010, 4, 10), "work_try_out", "job_coach")
    return story


def test_the_te_side_sees_centre_data_only_while_the_exchange_consent_is_in_force() -> None:
    story = guided_story()
    view = te_view(fold(story))
    assert view is not None
    assert view.client[0] == story.client_id and view.client[4] == "individual_service_guidance"
    assert {m[2] for m in view.measures} == {"work_try_out", "job_coach"}

    story.withdraw(date(2010, 5, 1))
    assert te_view(fold(story)) is None


def test_a_consent_without_the_exchange_scope_shows_the_te_side_nothing() -> None:
    story = Story()
    story.referred(date(2010, 3, 1))
    story.consent(date(2010, 3, 10), scopes=(ConsentScope.MOVE_TO_CENTRE,))
    assert te_view(fold(story)) is None


def test_a_municipality_sees_a_transfer_only_while_a_consent_names_its_social_services() -> None:
    story = guided_story()
    story.transferred(date(2010, 6, 1), receiving="Mikkeli")
    assert municipal_view(fold(story)).transfers == (), "no disclosure consent yet"

    story.consent(
        date(2010, 6, 1), "consent-2", DISCLOSE_TO_MIKKELI, organisations=("social_services:puumala", "kela")
    )
    assert municipal_view(fold(story)).transfers == (), "the consent names another municipality"

    story.consent(
        date(2010, 6, 2), "consent-3", DISCLOSE_TO_MIKKELI, organisations=("social_services:mikkeli",)
    )
    view = municipal_view(fold(story))
    assert [(t[0], t[1], t[2]) for t in view.transfers] == [("Mikkeli", "t1", story.client_id)]
    assert [(c[0], c[1], c[6]) for c in view.clients] == [("Mikkeli", story.client_id, True)]

    story.withdraw(date(2010, 7, 1), "consent-3")
    assert municipal_view(fold(story)) == type(view)(clients=(), transfers=())


def test_the_health_check_details_never_enter_the_case_facts() -> None:
    story = guided_story()
    story.health_summary(date(2010, 5, 1))
    story.health_details(date(2010, 5, 1), "diagnosis: confidential")
    facts = fold(story)
    assert "confidential" not in facts.model_dump_json()
    view = te_view(facts)
    assert view is not None and view.health_summaries[0][4] == "work try-out, light duties"


def test_steering_counts_name_no_client() -> None:
    story = guided_story()
    story.closed(date(2010, 12, 1), Outcome.EDUCATION)
    counts = steering_counts(fold(story))
    assert counts
    assert all(story.client_id not in str(key) for key in counts)
    assert counts[(Metric.CLOSED, 2010, "Mikkeli", "education")] == 1
    assert counts[(Metric.WAIT_REFERRAL_TO_ASSESSMENT, 2010, "Mikkeli", "19")] == 1
    assert counts[(Metric.WAIT_ASSESSMENT_TO_GUIDE, 2010, "Mikkeli", "12")] == 1
    assert counts[(Metric.OVER_500_DAYS, 2010, "Mikkeli", "")] == 1
    assert counts[(Metric.MEASURES, 2010, "Mikkeli", "job_coach")] == 1


def test_a_guide_change_moves_the_client_between_caseloads() -> None:
    story = guided_story()
    before = fold(story)
    story.guide(date(2010, 5, 1), guide="guide-2")
    changes = steering_changes(before, fold(story))
    assert changes == {
        (Metric.ACTIVE_CASELOAD, 0, "Mikkeli", "guide-1"): -1,
        (Metric.ACTIVE_CASELOAD, 0, "Mikkeli", "guide-2"): 1,
    }


def test_a_client_with_social_services_stays_in_the_guides_caseload_while_the_relationship_is_open() -> None:
    story = guided_story()
    story.transferred(date(2010, 6, 1))
    assert fold(story).in_active_guidance
    story.acknowledged(date(2010, 6, 2))
    assert fold(story).in_active_guidance
    story.returned(date(2010, 9, 1))
    facts = fold(story)
    assert facts.in_active_guidance
    counts = steering_counts(facts)
    assert counts[(Metric.ACTIVE_CASELOAD, 0, "Mikkeli", "guide-1")] == 1
    assert counts[(Metric.TRANSFERRED, 2010, "Mikkeli", "")] == 1
    assert counts[(Metric.RETURNED, 2010, "Mikkeli", "")] == 1


def test_a_transfer_that_ends_the_relationship_leaves_the_caseload_until_declined_or_returned() -> None:
    story = guided_story()
    story.transferred(date(2010, 6, 1), stays_open=False)
    assert not fold(story).in_active_guidance
    story.acknowledged(date(2010, 6, 2))
    assert not fold(story).in_active_guidance
    story.returned(date(2010, 9, 1))
    assert fold(story).in_active_guidance

    declined = guided_story()
    declined.transferred(date(2010, 6, 1), stays_open=False)
    declined.acknowledged(date(2010, 6, 2), accepted=False)
    assert fold(declined).in_active_guidance


def test_a_closed_case_opened_again_counts_only_once_a_guide_is_named_again() -> None:
    story = guided_story()
    story.transferred(date(2010, 6, 1), stays_open=False)
    story.closed(date(2010, 8, 1), Outcome.EDUCATION)
    assert not fold(story).in_active_guidance
    story.opened(date(2011, 2, 1))
    assert not fold(story).in_active_guidance, "guidance names a guide afresh"
    story.guide(date(2011, 2, 10), guide="guide-2")
    facts = fold(story)
    assert facts.in_active_guidance, "the earlier relationship's hand-over does not count"
    assert steering_counts(facts)[(Metric.ACTIVE_CASELOAD, 0, "Mikkeli", "guide-2")] == 1


def test_facts_stored_before_the_relationship_flag_read_closed_from_the_closure_date() -> None:
    story = guided_story()
    story.closed(date(2010, 8, 1), Outcome.EDUCATION)
    stored = fold(story).model_dump(mode="json")
    del stored["relationship_closed"]
    assert not CaseFacts.model_validate(stored).in_active_guidance


def test_deadlines_follow_the_rules_of_the_referral_and_opening_dates() -> None:
    old = Story()
    old.referred(date(2014, 12, 30))
    old.assessed(date(2015, 5, 1))
    assert not any(k[0] == Metric.ASSESSMENT_DEADLINE for k in steering_counts(fold(old))), "seed rules: none"

    new = Story()
    new.referred(date(2015, 1, 2), ReferralSource.SELF_REFERRAL)
    new.assessed(date(2015, 5, 1))
    new.opened(date(2015, 5, 1))
    counts = steering_counts(fold(new))
    assert counts[(Metric.ASSESSMENT_DEADLINE, 2015, "Mikkeli", "2015-04-02|2015-05-01")] == 1
    # Act 1369/2014: the plan is due with the assessment, at the end of the mapping period
    # that began with the referral (docs/adr/0030), not 3 months after the opening
    assert counts[(Metric.PLAN_DEADLINE, 2015, "Mikkeli", "2015-04-02|")] == 1
    assert not any(k[0] == Metric.PLAN_DEADLINE and k[3].startswith("2015-08-01") for k in counts)


def test_a_relationship_opened_again_counts_its_plan_deadline_from_its_opening() -> None:
    story = Story()
    story.referred(date(2016, 1, 4))
    story.assessed(date(2016, 2, 1))
    story.opened(date(2016, 2, 1))
    story.closed(date(2016, 9, 30), Outcome.UNEMPLOYED)
    story.opened(date(2017, 3, 6))
    counts = steering_counts(fold(story))
    assert counts[(Metric.PLAN_DEADLINE, 2017, "Mikkeli", "2017-06-06|")] == 1
    assert not any(k[0] == Metric.PLAN_DEADLINE and k[1] == 2016 for k in counts)


def test_a_rehabilitative_work_activity_route_is_on_the_home_municipality_view_with_consent() -> None:
    story = Story("Puumala")
    story.referred(date(2010, 3, 1))
    story.consent(
        date(2010, 3, 1),
        scopes=(ConsentScope.MOVE_TO_CENTRE, ConsentScope.DISCLOSURE_TO_ORGANISATIONS),
        organisations=("social_services:puumala",),
    )
    story.assessed(date(2010, 3, 20), Route.REHABILITATIVE_WORK_ACTIVITY)
    story.opened(date(2010, 3, 20), Route.REHABILITATIVE_WORK_ACTIVITY)
    clients = municipal_view(fold(story)).clients
    assert [(c[0], c[3]) for c in clients] == [("Puumala", "rehabilitative_work_activity")]
    assert te_view(fold(story)) is None, "no exchange consent: nothing on the TE side"


def test_the_receiving_municipality_sees_the_client_s_name_with_consent_not_without_nor_after_erasure() -> (
    None
):
    story = Story("Puumala")
    story.referred(date(2016, 3, 1))
    story.assessed(date(2016, 3, 20), Route.REHABILITATIVE_WORK_ACTIVITY)
    story.opened(date(2016, 3, 20), Route.REHABILITATIVE_WORK_ACTIVITY)
    assert municipal_view(fold(story)).clients == (), "no consent names Puumala's social services"
    story.consent(
        date(2016, 3, 21),
        scopes=(ConsentScope.MOVE_TO_CENTRE, ConsentScope.DISCLOSURE_TO_ORGANISATIONS),
        organisations=("social_services:puumala",),
    )
    (row,) = municipal_view(fold(story)).clients
    assert (row[0], row[1], row[7]) == ("Puumala", story.client_id, "Maija Meikäläinen")
    assert te_view(fold(story)) is None, "the TE side's rows hold no name, and here none at all"
    story.erased(date(2016, 4, 1))
    assert [c[7] for c in municipal_view(fold(story)).clients] == [None]


def test_a_referral_replayed_after_erasure_gives_no_name() -> None:
    story = Story()
    referral = story.referred(date(2016, 3, 1))
    erased_details = referral.client.model_copy(update={"first_name": ERASED, "last_name": ERASED})
    replayed = referral.model_copy(update={"client": erased_details})
    assert evolve(CaseFacts.new(replayed), replayed).name is None
    assert evolve(CaseFacts.new(referral), referral).name == "Maija Meikäläinen"


def test_replaying_the_same_events_gives_the_same_facts() -> None:
    story = guided_story()
    story.closed(date(2010, 12, 1), Outcome.UNEMPLOYED)
    assert fold(story) == fold(story)
    facts = fold(story)
    assert CaseFacts.model_validate_json(facts.model_dump_json()) == facts


def test_only_involved_organisations_a_consent_named_are_told_of_an_erasure() -> None:
    """A consent may name anyone (Kela, a municipality the client never had to do with,
    a misspelt name): only the client's own municipalities' social services can hold
    copies, so only they, and the TE-office after closure, are told."""
    from datetime import date

    from contracts.intake import ConsentScope
    from services.reporting.facts import CaseFacts, evolve
    from services.reporting.feeds import told_of_erasure
    from tests.support.reporting_events import Story

    story = Story("Mikkeli")
    story.referred(date(2010, 3, 1))
    story.consent(
        date(2010, 3, 1),
        "consent-2",
        (ConsentScope.DISCLOSURE_TO_ORGANISATIONS,),
        organisations=("kela", "social_services:helsinki", "social_services:", "social_services:mikkeli"),
    )
    story.withdraw(date(2010, 4, 1), "consent-2")
    story.erased(date(2010, 5, 1))
    facts: CaseFacts | None = None
    for event in story.events:
        facts = evolve(facts or CaseFacts.new(client_event(event)), event)
    assert told_of_erasure(facts) == ["social_services:mikkeli"], "withdrawn, yet it may hold copies"
    assert told_of_erasure(None) == []


def test_every_transfer_stands_somewhere_and_the_states_add_up_to_the_transfers() -> None:
    def states(story: Story) -> dict[str, int]:
        counts = steering_counts(fold(story))
        transferred = sum(n for k, n in counts.items() if k[0] == Metric.TRANSFERRED)
        found = {k[3]: n for k, n in counts.items() if k[0] == Metric.TRANSFER_STATE}
        assert sum(found.values()) == transferred
        return found

    there = guided_story()
    there.transferred(date(2010, 6, 1))
    assert states(there) == {"at_social_services": 1}
    there.acknowledged(date(2010, 6, 2))
    there.returned(date(2010, 9, 1))
    assert states(there) == {"returned": 1}
    there.transferred(date(2010, 10, 1), "t2")
    there.closed(date(2010, 12, 1), Outcome.OUTSIDE_LABOUR_FORCE)
    assert states(there) == {"returned": 1, "closed_while_there": 1}

    declined = guided_story()
    declined.transferred(date(2010, 6, 1))
    declined.acknowledged(date(2010, 6, 2), accepted=False)
    assert states(declined) == {"declined": 1}

    reopened = guided_story()
    reopened.transferred(date(2010, 6, 1), stays_open=False)
    reopened.closed(date(2010, 8, 1), Outcome.EDUCATION)
    reopened.opened(date(2011, 2, 1))
    assert states(reopened) == {"closed_while_there": 1}, "the relationship that made it is closed"


def test_a_client_waits_for_a_guide_from_the_opening_until_one_is_named() -> None:
    story = Story("Puumala")
    story.referred(date(2010, 3, 1))
    story.consent(date(2010, 3, 10))
    story.assessed(date(2010, 3, 20))
    assert not fold(story).waiting_for_guide, "not opened yet"
    story.opened(date(2010, 3, 20))
    assert steering_counts(fold(story))[(Metric.WAITING_FOR_GUIDE, 2010, "Puumala", "")] == 1
    story.guide(date(2010, 4, 1))
    assert (Metric.WAITING_FOR_GUIDE, 2010, "Puumala", "") not in steering_counts(fold(story))

    at_social_services = Story("Puumala")
    at_social_services.referred(date(2010, 3, 1))
    at_social_services.assessed(date(2010, 3, 20))
    at_social_services.opened(date(2010, 3, 20), Route.REHABILITATIVE_WORK_ACTIVITY)
    facts = fold(at_social_services)
    assert facts.handed_to_social_services and not facts.waiting_for_guide
    closed = Story("Puumala")
    closed.referred(date(2010, 3, 1))
    closed.assessed(date(2010, 3, 20))
    closed.opened(date(2010, 3, 20))
    closed.closed(date(2010, 5, 1), Outcome.INTERRUPTED)
    assert not fold(closed).waiting_for_guide
