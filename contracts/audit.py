"""The access log as events: every read of client data through any API."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from contracts.base import EventBase, Side


class ClientDataAccessed(EventBase):
    """Someone read client data: who (the actor), whose (``client_ids``), what, for which
    purpose, and when (``occurred_at``). Stream ``access-<uuid>`` in the reading
    service's event store; travels on the ``audit`` side, which only auditors read."""

    event_type: ClassVar[str] = "ClientDataAccessed"
    producer: ClassVar[str] = "any"

    service: str = Field(min_length=1, max_length=50, description="The service whose API was read")
    client_ids: tuple[str, ...] = Field(min_length=1, max_length=5000)
    what: str = Field(min_length=1, max_length=200, examples=["intake case", "health check details"])
    purpose: str = Field(
        min_length=3,
        max_length=200,
        description="The purpose code (runtime/purposes.py PurposeCode); free text in events "
        "recorded before the vocabulary",
    )
    purpose_detail: str | None = Field(
        default=None, max_length=200, description="The reader's own words on the purpose (optional)"
    )

    def subject_side(self) -> Side:
        return Side.AUDIT

    def subject_organisation(self) -> str:
        return "centre"
