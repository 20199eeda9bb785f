"""The steering group's yearly intake targets: the decision that sets one, and which
setting is in force on a day (effective-dated, a later one supersedes). No servers."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from contracts.base import Actor
from contracts.intake import IntakeTargetSet
from runtime.config import DEFAULT_MUNICIPALITIES
from runtime.decision import Context
from services.intake.domain import targets
from services.intake.domain.errors import DomainError
from services.reporting.config import POPULATIONS
from services.reporting.figures import TargetSetting, apportion, municipal_targets, target_in_force

STEERING = Actor(person_id="steering-1", role="steering_group_member", organisation="centre")


def ctx() -> Context:
    return Context(actor=STEERING, now=datetime(2010, 12, 15, 12, tzinfo=UTC), correlation_id=uuid.uuid4())


def test_a_setting_is_the_years_next_event_with_its_business_date() -> None:
    command = targets.SetIntakeTarget(2011, 200, date(2010, 12, 15))
    (event,) = targets.set_target(command, version=2, ctx=ctx())
    assert isinstance(event, IntakeTargetSet)
    assert (event.stream_id, event.stream_version) == ("intake-target-2011", 3)
    assert (event.year, event.target, event.set_on, event.municipalities) == (
        2011,
        200,
        date(2010, 12, 15),
        None,
    )
    assert event.subject_organisation() == "centre"


def test_a_split_must_add_up_and_a_target_is_not_set_after_its_year() -> None:
    split = targets.SetIntakeTarget(2011, 10, date(2011, 1, 3), {"Mikkeli": 7, "Puumala": 2})
    with pytest.raises(DomainError, match="add up to 9, not to the target 10"):
        targets.set_target(split, version=0, ctx=ctx())
    (ok,) = targets.set_target(
        targets.SetIntakeTarget(2011, 10, date(2011, 1, 3), {"Mikkeli": 7, "Puumala": 3}),
        version=0,
        ctx=ctx(),
    )
    assert isinstance(ok, IntakeTargetSet) and ok.municipalities == {"Mikkeli": 7, "Puumala": 3}
    with pytest.raises(DomainError, match="after the year"):
        targets.set_target(targets.SetIntakeTarget(2010, 350, date(2011, 1, 1)), version=0, ctx=ctx())
    with pytest.raises(DomainError, match="from 2000 to 2100"):
        targets.set_target(targets.SetIntakeTarget(1999, 350, date(1999, 1, 1)), version=0, ctx=ctx())


def test_the_event_contract_refuses_a_split_that_does_not_add_up() -> None:
    (event,) = targets.set_target(
        targets.SetIntakeTarget(2011, 200, date(2010, 12, 15)), version=0, ctx=ctx()
    )
    data = event.model_dump() | {"municipalities": {"Mikkeli": 150}}
    with pytest.raises(ValidationError, match="add up"):
        IntakeTargetSet.model_validate(data)
    with pytest.raises(ValidationError):
        IntakeTargetSet.model_validate(event.model_dump() | {"target": 0})


def test_the_target_in_force_is_the_latest_set_by_the_day_and_a_later_one_supersedes() -> None:
    first = TargetSetting(set_on=date(2009, 12, 15), order=1, target=350)
    cut = TargetSetting(set_on=date(2010, 6, 1), order=2, target=300)
    same_day = TargetSetting(set_on=date(2010, 6, 1), order=3, target=320)
    settings = [cut, first, same_day]
    assert target_in_force(settings, date(2009, 12, 14)) is None, "nothing set yet"
    assert target_in_force(settings, date(2010, 5, 31)) == first
    assert target_in_force(settings, date(2010, 6, 1)) == same_day, "of one day, the last set"
    assert target_in_force(settings, None) == same_day
    # set later, but effective from an earlier day: it is in force from that day
    backdated = TargetSetting(set_on=date(2010, 3, 1), order=4, target=250)
    assert target_in_force([*settings, backdated], date(2010, 4, 1)) == backdated
    assert target_in_force([*settings, backdated], date(2010, 7, 1)) == same_day
    assert target_in_force([], None) is None


def test_municipal_targets_are_as_split_else_apportioned_by_population() -> None:
    municipalities = DEFAULT_MUNICIPALITIES
    by_population = municipal_targets(TargetSetting(date(2009, 12, 15), 1, 350), POPULATIONS, municipalities)
    assert by_population == apportion(350, POPULATIONS) and by_population["Mikkeli"] == 233
    split = municipal_targets(
        TargetSetting(date(2010, 12, 15), 1, 10, {"Mikkeli": 7, "Puumala": 3}), POPULATIONS, municipalities
    )
    assert split == {m: 0 for m in municipalities} | {"Mikkeli": 7, "Puumala": 3}
    assert sum(split.values()) == 10
