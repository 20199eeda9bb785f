"""The one disclosure policy (*tietojen luovutus*; architecture decision 13, docs/adr/0018).

Over 400 lines because every disclosure rule is written here and nowhere else
(docs/adr/0018): one module is the point.

:func:`decide` answers one question for all three services: may this actor (role,
organisation, side) see or cause this crossing of this client's data, now, given the
consents in force, the municipalities involved and the actor's task? Every command that
discloses (a transfer, its acknowledgement and return, a copy on a partner's feed, the
final assessment) and every read of client data asks it; each rule is written here and
nowhere else. The permission matrix (``runtime/access.py``) still says which role may
call which endpoint; this says, below that, which client's data the caller may reach.

Pure: no I/O and no web framework; the callers load the client's consents and pass them in.

The data rules it applies (domain.md, "Data rules"; the seed's consent step):

- Nothing crosses from one side to another without a consent in force that covers it:
  ``data_exchange_within_centre`` for the centre's staff of both sides, and
  ``disclosure_to_organisations`` naming the organisation for anything sent outside
  the centre (a municipality's social services).
- Without that consent, data stays with the side it came from and with the person whose
  task it is: a referral is its referring side's own (a TE-office referral came from
  URA, the TE-office's register), and the intake advisor who received or picked it, or
  the client's named guide, works on it.
- The health partition is the nurse's only; the audit log is the auditors'.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

from contracts.base import Actor, Side
from contracts.intake import ConsentScope, ReferralSource
from contracts.subjects import organisation_slug, social_services
from runtime.roles import Role, side_of

#: The sides whose staff work at the centre (a municipality's social workers do not).
CENTRE_SIDES = frozenset({Side.TE, Side.MUNICIPAL, Side.HEALTH})
EXCHANGE = ConsentScope.DATA_EXCHANGE_WITHIN_CENTRE.value
DISCLOSURE = ConsentScope.DISCLOSURE_TO_ORGANISATIONS.value


class Kind(StrEnum):
    """What crosses. Commands and copies first, then reads."""

    #: a hand-over to a municipality's rehabilitative work activity (guidance)
    TRANSFER = "transfer to social services"
    #: the receiving social services accept or decline a hand-over
    ACKNOWLEDGEMENT = "acknowledgement of a transfer"
    #: the client comes back from social services
    RETURN = "return from social services"
    #: an event copied to a partner's feed (reporting)
    FEED_COPY = "copy on a partner's feed"
    #: the final assessment to the TE-office for URA
    FINAL_ASSESSMENT = "final assessment to the TE-office"
    #: the client's rows on the TE side's projection (reporting)
    TE_PARTITION = "TE side's projection"
    #: the client's rows on a municipality's projection (reporting), with the client's name
    MUNICIPAL_PARTITION = "municipality's projection"
    #: whether a person is a client of the centre at all (e.g. answering a referral)
    CLIENT_KNOWN = "whether the person is a client"
    #: the intake queue: ids, municipality, source and stage, no name or identity code
    INTAKE_QUEUE = "intake queue"
    #: intake's case: the client's name and identity code, consents, assessment
    INTAKE_CASE = "intake case"
    #: guidance's case, waiting list, worklist and guide suggestions
    GUIDANCE_CASE = "guidance case"
    #: the health check's details (the health partition)
    HEALTH_DETAILS = "health check details"
    #: reporting's TE-side view
    TE_VIEW = "TE side's view"
    #: reporting's view of one municipality's social services
    MUNICIPAL_VIEW = "municipality's view"
    #: the audit log: timelines, exports, access reports
    AUDIT = "audit log"


class Refusal(StrEnum):
    #: who asks may not (HTTP 403)
    FORBIDDEN = "forbidden"
    #: no consent in force covers it (HTTP 409: record the consent first)
    CONSENT = "consent"
    #: the organisation is not one of the centre's partners (HTTP 409)
    NOT_A_PARTNER = "not a partner"


class ConsentRecord(Protocol):
    """A consent as a service knows it (intake's case, guidance's copy, reporting's facts)."""

    @property
    def consent_id(self) -> str: ...
    @property
    def scopes(self) -> Collection[str]: ...
    @property
    def organisations(self) -> Collection[str]: ...
    @property
    def given_on(self) -> date: ...
    @property
    def withdrawn_on(self) -> date | None: ...


@dataclass(frozen=True)
class Client:
    """What the policy needs to know of the client whose data crosses."""

    client_id: str
    municipality: str
    consents: Sequence[ConsentRecord] = ()
    #: who referred the client (a :class:`ReferralSource` value), when known
    referred_by: str | None = None
    #: persons with a current task on the client: the intake advisor who received or
    #: picked the referral (while in intake), the assessors, the named guide
    task_holders: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Crossing:
    kind: Kind
    #: the municipality involved: a transfer's receiving one, a view's or projection's
    municipality: str | None = None
    #: the organisation a copy goes to (a feed copy)
    recipient: str | None = None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    #: why: the legal basis when allowed, what is missing when refused
    reason: str
    refusal: Refusal | None = None
    #: the consent scopes that would allow it, in intake's terms
    #: (``data_exchange_within_centre``, ``disclosure_to_organisations:social_services:mikkeli``)
    missing: tuple[str, ...] = ()
    #: the consent it rests on, when it rests on one
    consent_id: str | None = None

    @property
    def basis(self) -> str | None:
        """The legal basis, if allowed."""
        return self.reason if self.allowed else None


class DisclosureForbidden(Exception):
    """The caller may not see or cause this (HTTP 403); the message says what is missing."""

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        self.missing = list(decision.missing)
        super().__init__(decision.reason)


class DisclosureRefused(Exception):
    """No consent in force covers it, or the recipient is not a partner (HTTP 409)."""

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        self.missing = list(decision.missing)
        super().__init__(decision.reason)


def decide(
    actor: Actor | None,
    crossing: Crossing,
    client: Client,
    *,
    on: Sequence[date] = (),
    centre: Collection[str] = (),
) -> Decision:
    """May ``actor`` see or cause ``crossing`` of ``client``'s data?

    ``actor`` is None for a copy Reitti makes itself (a projection, a feed). A consent
    counts if it is in force on every day of ``on`` (a command: its date and today);
    with no days, if it is not withdrawn, whatever the withdrawal's date ("as the log
    stands", which a replay gives the same). ``centre`` names the centre's
    municipalities, where a crossing names one."""
    return _RULES[crossing.kind](_Ask(actor, crossing, client, tuple(on), tuple(centre)))


def ensure(decision: Decision) -> Decision:
    """``decision`` if allowed; else raise :class:`DisclosureForbidden` (403) or
    :class:`DisclosureRefused` (409)."""
    if decision.allowed:
        return decision
    if decision.refusal is Refusal.FORBIDDEN:
        raise DisclosureForbidden(decision)
    raise DisclosureRefused(decision)


def consent_covering(client: Client, need: str, on: Sequence[date] = ()) -> ConsentRecord | None:
    """The first consent that covers ``need`` (a scope, or ``disclosure_to_organisations:<org>``)
    and is in force on each of ``on`` (none: not withdrawn)."""
    for consent in client.consents:
        if not _covers(consent, need):
            continue
        if on and all(_in_force(consent, day) for day in on):
            return consent
        if not on and consent.withdrawn_on is None:
            return consent
    return None


def _in_force(consent: ConsentRecord, day: date) -> bool:
    return consent.given_on <= day and (consent.withdrawn_on is None or day < consent.withdrawn_on)


# --- the rules -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ask:
    actor: Actor | None
    crossing: Crossing
    client: Client
    on: tuple[date, ...]
    centre: tuple[str, ...]

    @property
    def side(self) -> Side | None:
        return side_of(self.actor.role) if self.actor else None

    @property
    def at_centre(self) -> bool:
        """Staff of the centre itself, on the TE, municipal or health side."""
        return self.actor is not None and self.side in CENTRE_SIDES and self.actor.role != Role.SOCIAL_WORKER

    @property
    def who(self) -> str:
        if self.actor is None:
            return "Reitti itself"
        return f"{self.actor.role} of {self.actor.organisation}"

    @property
    def holds_task(self) -> bool:
        return self.actor is not None and self.actor.person_id in self.client.task_holders

    def municipality(self) -> str:
        assert self.crossing.municipality is not None, f"{self.crossing.kind} names its municipality"
        return self.crossing.municipality


def _allow(reason: str, consent_id: str | None = None) -> Decision:
    return Decision(True, reason, consent_id=consent_id)


def _forbid(reason: str, missing: tuple[str, ...] = ()) -> Decision:
    return Decision(False, reason, Refusal.FORBIDDEN, missing)


def _under_consent(ask: _Ask, need: str, what: str, refusal: Refusal = Refusal.CONSENT) -> Decision:
    """Allowed under a consent covering ``need``; else refused naming it (and a withdrawal)."""
    found = consent_covering(ask.client, need, ask.on)
    if found is not None:
        return _allow(f"the client's consent {found.consent_id} to {_scope_text(need)}", found.consent_id)
    days = f" on {', '.join(str(d) for d in sorted(set(ask.on)))}" if ask.on else ""
    withdrawn = [c for c in ask.client.consents if c.withdrawn_on is not None and _covers(c, need)]
    why = "".join(f"; consent {c.consent_id} was withdrawn on {c.withdrawn_on}" for c in withdrawn)
    return Decision(
        False,
        f"missing consent: {what} needs a consent in force{days} that covers {need} "
        f"(client {ask.client.client_id}){why}; record the client's consent first",
        refusal,
        missing=(need,),
    )


def _covers(consent: ConsentRecord, need: str) -> bool:
    scope, _, organisation = need.partition(":")
    return scope in consent.scopes and (not organisation or organisation in consent.organisations)


def _scope_text(need: str) -> str:
    scope, _, organisation = need.partition(":")
    if scope == DISCLOSURE:
        return f"disclosure to {organisation}"
    return "data exchange within the centre" if scope == EXCHANGE else scope


def _disclosure_to(organisation: str) -> str:
    return f"{DISCLOSURE}:{organisation}"


def _slug(name: str) -> str | None:
    """``name`` as an organisation token; None for a name that cannot be one."""
    try:
        return organisation_slug(name)
    except ValueError:
        return None


def _transfer(ask: _Ask) -> Decision:
    m = ask.municipality()
    if not (ask.at_centre and ask.side in (Side.TE, Side.MUNICIPAL)):
        return _forbid(f"only the centre's guidance staff transfer a client; {ask.who} may not")
    known = {_slug(c) for c in ask.centre}
    if _slug(m) is None or _slug(m) not in known:
        return Decision(
            False,
            f"{m} is not one of the centre's municipalities ({', '.join(ask.centre)}): "
            "its social services are no partner to transfer a client to",
            Refusal.NOT_A_PARTNER,
        )
    return _under_consent(ask, _disclosure_to(social_services(m)), f"a transfer to {social_services(m)}")


def _acknowledgement(ask: _Ask) -> Decision:
    receiver = social_services(ask.municipality())
    if ask.actor is None or ask.actor.organisation != receiver:
        return _forbid(f"only {receiver} acknowledges this transfer; {ask.who} may not")
    return _allow(f"{receiver}'s answer on a hand-over to it (Act 189/2001)")


def _return(ask: _Ask) -> Decision:
    receiver = social_services(ask.municipality())
    if ask.actor is not None and ask.actor.organisation == receiver:
        return _allow(f"{receiver} ends a hand-over to it (Act 189/2001)")
    if ask.at_centre and ask.side in (Side.TE, Side.MUNICIPAL):
        return _allow("the centre's guidance takes the client back")
    return _forbid(
        f"only {receiver} (which received this transfer) or the centre's guidance staff record "
        f"the return; {ask.who} may not"
    )


def _feed_copy(ask: _Ask) -> Decision:
    recipient = ask.crossing.recipient
    assert recipient is not None, "a feed copy names its recipient"
    return _under_consent(ask, _disclosure_to(recipient), f"a copy on {recipient}'s feed")


def _final_assessment(ask: _Ask) -> Decision:
    return _allow("closure of the client relationship (Act 1369/2014 / Act 381/2023)")


def _te_partition(ask: _Ask) -> Decision:
    return _under_consent(ask, EXCHANGE, "the TE side's view of centre data")


def _municipal_partition(ask: _Ask) -> Decision:
    organisation = social_services(ask.municipality())
    return _under_consent(ask, _disclosure_to(organisation), f"{organisation}'s view")


def _client_known(ask: _Ask) -> Decision:
    if ask.at_centre:
        return _allow("the centre's intake task: its staff see the intake queue")
    if ask.actor is not None and ask.actor.organisation.startswith("social_services:"):
        return _under_consent(
            ask,
            _disclosure_to(ask.actor.organisation),
            f"telling {ask.actor.organisation} that this person is a client",
            Refusal.FORBIDDEN,
        )
    return _forbid(f"whether a person is a client is the centre's to know; {ask.who} may not learn it")


def _intake_queue(ask: _Ask) -> Decision:
    if ask.at_centre and ask.side in (Side.TE, Side.MUNICIPAL):
        return _allow("the centre's intake task (the queue holds no name or identity code)")
    return _forbid(f"the intake queue is the centre's intake staff's; {ask.who} may not read it")


def _own_side(ask: _Ask) -> str | None:
    """The basis on which the data is the reader's side's own, if it is: the referral
    came from it (a TE-office referral from URA; a social services referral)."""
    source = ask.client.referred_by
    if source == ReferralSource.TE_OFFICE.value and ask.side is Side.TE:
        return "the TE-office's own referral (from URA), read by the TE side"
    if source == ReferralSource.SOCIAL_SERVICES.value and ask.side is Side.MUNICIPAL:
        return "the municipality's own referral, read by the municipal side"
    return None


def _centre_record(ask: _Ask, what: str, *, own_side: bool, task: str) -> Decision:
    """The centre's record of a client (intake's or guidance's case): the centre's staff
    under a consent to data exchange; without one, only the side the data came from and
    the person whose task the client is."""
    if not ask.at_centre:
        return _forbid(f"{what} is the centre's record; {ask.who} may not read it")
    consent = consent_covering(ask.client, EXCHANGE, ask.on)
    if consent is not None:
        basis = f"the client's consent {consent.consent_id} to data exchange within the centre"
        return _allow(basis, consent.consent_id)
    if own_side and (own := _own_side(ask)) is not None:
        return _allow(own)
    if ask.holds_task:
        return _allow(task)
    refused = _under_consent(ask, EXCHANGE, f"reading the {what}")
    source = ask.client.referred_by
    origin = f"the referral came from {source}, " if own_side and source else ""
    return _forbid(
        f"{refused.reason}. Without that consent the {what} stays with the side it came from and "
        f"with whoever holds the task on the client ({task}): {origin}and {ask.who} "
        f"({ask.actor.person_id if ask.actor else '-'}) holds no task on this client",
        refused.missing,
    )


def _intake_case(ask: _Ask) -> Decision:
    return _centre_record(
        ask,
        "intake case",
        own_side=True,
        task="the intake task: the advisor who received or picked the referral, until the route, "
        "and the assessors",
    )


def _guidance_case(ask: _Ask) -> Decision:
    return _centre_record(ask, "guidance case", own_side=False, task="the named guide's task")


def _health_details(ask: _Ask) -> Decision:
    if ask.side is Side.HEALTH and ask.at_centre:
        return _allow("the health partition: health staff's own records, never shared")
    return _forbid(f"the health check's details are health staff's only; {ask.who} may not read them")


def _te_view(ask: _Ask) -> Decision:
    if ask.at_centre and ask.side is Side.TE:
        return _allow("the TE side's own view (centre data in it only under consent)")
    return _forbid(f"the TE side's view is the TE side's; {ask.who} may not read it")


def _municipal_view(ask: _Ask) -> Decision:
    organisation = social_services(ask.municipality())
    if ask.actor is not None and ask.actor.organisation == organisation:
        return _allow(f"{organisation}'s own view (its rows only under consent)")
    if ask.at_centre and ask.actor is not None and ask.actor.role == Role.SERVICE_COORDINATOR:
        return _allow("the centre's service coordinator, for the municipalities' hand-overs")
    return _forbid(f"only {ask.municipality()}'s own social services may read this; {ask.who} may not")


def _audit(ask: _Ask) -> Decision:
    if ask.actor is not None and ask.actor.role == Role.AUDITOR:
        return _allow("supervision of the use of client data (the access log)")
    return _forbid(f"the audit log is the auditors'; {ask.who} may not read it")


_RULES: dict[Kind, Callable[[_Ask], Decision]] = {
    Kind.TRANSFER: _transfer,
    Kind.ACKNOWLEDGEMENT: _acknowledgement,
    Kind.RETURN: _return,
    Kind.FEED_COPY: _feed_copy,
    Kind.FINAL_ASSESSMENT: _final_assessment,
    Kind.TE_PARTITION: _te_partition,
    Kind.MUNICIPAL_PARTITION: _municipal_partition,
    Kind.CLIENT_KNOWN: _client_known,
    Kind.INTAKE_QUEUE: _intake_queue,
    Kind.INTAKE_CASE: _intake_case,
    Kind.GUIDANCE_CASE: _guidance_case,
    Kind.HEALTH_DETAILS: _health_details,
    Kind.TE_VIEW: _te_view,
    Kind.MUNICIPAL_VIEW: _municipal_view,
    Kind.AUDIT: _audit,
}


def may_learn_client_exists(actor: Actor, client: Client, *, on: Sequence[date] = ()) -> Decision:
    """May ``actor`` learn that ``client`` is a client of the centre (for example from the
    answer to a referral of a known person)? Intake's referral answer asks it."""
    return decide(actor, Crossing(Kind.CLIENT_KNOWN), client, on=on)
