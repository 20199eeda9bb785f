"""Pure functions that lift stored event data from an old schema version to the next.

An upcaster takes the ``data`` dict of version N and returns the dict of version N+1. It
does no I/O and never fails on data that was valid at version N. Events are stored as
written; upcasting happens on read, so the log is never rewritten.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Data = dict[str, Any]
Upcaster = Callable[[Data], Data]

#: (event type, from version) -> function producing version + 1
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    def register(fn: Upcaster) -> Upcaster:
        key = (event_type, from_version)
        if key in UPCASTERS:
            raise ValueError(f"two upcasters for {event_type} v{from_version}")
        UPCASTERS[key] = fn
        return fn

    return register


class MissingUpcaster(LookupError):
    pass


class NewerSchemaVersion(ValueError):
    """The event was written by a newer version of its producer than this code knows:
    upgrade the consumer. The event waits in the dead-letter stream (``reitti dead-letters``);
    re-driving it is not built yet (its stream's later events have gone on without it)."""


def upcast(event_type: str, version: int, data: Data, *, target: int) -> Data:
    if version > target:
        raise NewerSchemaVersion(
            f"{event_type} v{version} is newer than this code knows (v{target}): upgrade this service, "
            "then see the dead letter (reitti dead-letters)"
        )
    while version < target:
        try:
            fn = UPCASTERS[(event_type, version)]
        except KeyError:
            raise MissingUpcaster(f"no upcaster for {event_type} v{version}") from None
        data = fn(data)
        version += 1
    return data


# --- ClientReferred -------------------------------------------------------------------
# v1 (the first thin slice) stored the referral source as the Finnish code URA uses on
# its info list ("TE", "SOS", "OMA", "MUU") and the "other" source's description inside
# the same string ("MUU:koulu"). v2 uses the English enum plus a separate description.

_V1_SOURCES = {"TE": "te_office", "SOS": "social_services", "OMA": "self_referral", "MUU": "other"}


@upcaster("ClientReferred", 1)
def client_referred_v1_to_v2(data: Data) -> Data:
    out = dict(data)
    code, _, description = str(out.pop("referral_source")).partition(":")
    out["source"] = _V1_SOURCES[code.strip().upper()]
    out["source_description"] = description.strip() or None
    return out


# --- fields newly marked personal (docs/adr/0020) ------------------------------------
# Marking a field personal changes where sealing writes and reveal looks, so it is a new
# schema version; the data itself is unchanged. An old event keeps its value as it was
# stored: plaintext where it was written before the field was personal.

_NEWLY_PERSONAL = {
    "ClientReferred": 2,
    "DuplicateReferralReceived": 1,
    "AssessmentCompleted": 1,
    "GuideAssigned": 1,
    "PlanRevised": 1,
    "TransferredToSocialServices": 1,
    "TransferAcknowledged": 1,
}


def _same_data(data: Data) -> Data:
    """The next version's data: the same fields, now marked personal."""
    return dict(data)


for _event_type, _version in _NEWLY_PERSONAL.items():
    upcaster(_event_type, _version)(_same_data)


# --- TransferAcknowledged v2 -> v3 ------------------------------------------------------
# v3 adds the activation plan of a hand-over the route opened; a v2 acknowledgement had none.


@upcaster("TransferAcknowledged", 2)
def transfer_acknowledged_v2_to_v3(data: Data) -> Data:
    return {**data, "activation_plan": None}


# --- InfoSessionAttended / InfoSessionMissed v1 -> v2 -----------------------------------
# v2 carries the business date of the session attended or missed (issue 14); a v1 event
# recorded none, and nothing in its data tells it, so it reads as null.


@upcaster("InfoSessionAttended", 1)
def info_session_attended_v1_to_v2(data: Data) -> Data:
    return {**data, "attended_on": None}


@upcaster("InfoSessionMissed", 1)
def info_session_missed_v1_to_v2(data: Data) -> Data:
    return {**data, "missed_on": None}


# --- ClientRelationshipClosed v1 -> v2 ---------------------------------------------------
# v2 names the closure proposal it decided (docs/adr/0031); a v1 closure decided none.


@upcaster("ClientRelationshipClosed", 1)
def client_relationship_closed_v1_to_v2(data: Data) -> Data:
    return {**data, "proposed_on": None, "proposed_by_person_id": None}
