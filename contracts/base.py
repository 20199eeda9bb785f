"""The event base every Reitti event derives from."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Side(StrEnum):
    """Which side of the centre a piece of data belongs to.

    The TE side is the state employment office (*TE-toimisto*); the municipal side is the
    municipality's social services (*sosiaalitoimi*); health is the nurse's partition,
    never shared; centre is the joint workspace (*TYP*) that both sides' staff use
    under the client's consent.
    """

    TE = "te"
    MUNICIPAL = "municipal"
    HEALTH = "health"
    CENTRE = "centre"
    #: the access log: who read whose data; readable by auditors only
    AUDIT = "audit"


#: What a personal field reads as once the client's key is deleted (docs/adr/0011).
ERASED = "[erased]"


class PersonalData:
    """Marks a field as personal data: ``Annotated[str, PersonalData()]``.

    The erasure work encrypts exactly the fields carrying this marker with a per-client
    key; the JSON Schema shows them with ``"x-personal-data": true``.
    """

    def __repr__(self) -> str:
        return "PersonalData()"

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> Any:
        schema = handler(core_schema)
        schema["x-personal-data"] = True
        return schema


class Actor(BaseModel):
    """Who did it: a person, in a role, for an organisation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    person_id: str = Field(min_length=1, max_length=200, description="Stable id of the person")
    role: str = Field(min_length=1, max_length=100, examples=["employment_advisor"])
    organisation: str = Field(min_length=1, max_length=100, examples=["te-office"])


class EventBase(BaseModel):
    """Fields every event carries. Subclasses set ``event_type`` and ``schema_version``.

    ``event_type`` is the stable wire name: never a Python class path, never renamed.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    #: which service emits this event, for its subject
    producer: ClassVar[str]

    event_id: UUID = Field(description="Unique id of this event; also the Nats-Msg-Id")
    stream_id: str = Field(min_length=1, max_length=200, description="The client stream (aggregate) id")
    stream_version: int = Field(ge=1, description="Position of this event in its stream")
    occurred_at: datetime = Field(description="When it happened in the world")
    recorded_at: datetime = Field(description="When Reitti recorded it")
    actor: Actor
    correlation_id: UUID = Field(description="The request or process this event belongs to")
    causation_id: UUID | None = Field(default=None, description="The command or event that caused this event")

    def subject_side(self) -> Side:
        """The side whose feed this event belongs to; subclasses refine."""
        return Side.CENTRE

    def subject_organisation(self) -> str:
        """The organisation (slug) whose feed this event belongs to; subclasses refine."""
        return "centre"

    def data(self) -> dict[str, Any]:
        """The event as JSON-ready data (what goes into the envelope's ``data``)."""
        return self.model_dump(mode="json")


def personal_fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Dotted paths of every field marked :class:`PersonalData`, nested models included."""
    found: list[str] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        if any(isinstance(m, PersonalData) for m in info.metadata):
            found.append(path)
            continue
        annotation = info.annotation
        for candidate in _model_types(annotation):
            found.extend(personal_fields(candidate, prefix=f"{path}."))
    return found


def _model_types(annotation: Any) -> list[type[BaseModel]]:
    args = getattr(annotation, "__args__", None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if args:
        return [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
    return []


PersonalStr = Annotated[str, PersonalData()]
