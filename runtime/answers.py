"""Answers shared by the services' command endpoints."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, Field

from runtime.field_docs import CLIENT_ID, EVENT_IDS, STREAM_VERSION


class Written(BaseModel):
    """What a command wrote."""

    client_id: str = Field(description=CLIENT_ID)
    stream_version: int = Field(ge=1, description=STREAM_VERSION)
    event_ids: list[UUID] = Field(description=EVENT_IDS)
