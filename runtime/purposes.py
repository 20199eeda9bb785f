"""Why client data is read: a code from a documented vocabulary, and a free-text detail.

Every read of client data names its purpose in ``X-Reitti-Purpose`` (a
:class:`PurposeCode`) and may add ``X-Reitti-Purpose-Detail`` (up to
:data:`DETAIL_MAX_LENGTH` bytes of UTF-8, no control characters). Both go into the access
log. The codes follow the client's path through the centre (``docs/domain.md``)
and the readers beside it, so an auditor can ask "who read this client for anything but
their guidance?" and get an answer; free text alone could not be counted (ADR 0027).

The detail says why, never about whom: the access log is on an ``access-…`` stream that
no client's key seals (ADR 0020), so it must carry no personal data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from fastapi.exceptions import RequestValidationError

PURPOSE_HEADER = "X-Reitti-Purpose"
DETAIL_HEADER = "X-Reitti-Purpose-Detail"
#: the longest detail, in bytes as sent (UTF-8): a header's length as the OpenAPI states it
DETAIL_MAX_LENGTH = 200
#: no control characters (C0 and DEL), as the OpenAPI states it
DETAIL_PATTERN = r"^[^\x00-\x1f\x7f]*$"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class PurposeCode(StrEnum):
    """The purposes for which client data may be read; each member's ``description``
    says what it covers."""

    description: str

    def __new__(cls, value: str, description: str) -> PurposeCode:
        member = str.__new__(cls, value)
        member._value_ = value
        member.description = description
        return member

    INTAKE = (
        "intake",
        "Intake (*asiakkaaksi ohjautuminen*): a referral and its possible duplicates, the "
        "intake queue, the info session and the client's consent.",
    )
    ASSESSMENT = (
        "assessment",
        "The service-needs assessment (*palvelutarvearvio*) and a reassessment that routes the client.",
    )
    SERVICE_GUIDANCE = (
        "service_guidance",
        "Service guidance (*palveluohjaus*): the guide's work with the client, the plan of "
        "measures, its reviews and the choice of a guide.",
    )
    HEALTH_CHECK = (
        "health_check",
        "The nurse's health check (*terveystarkastus*) and its details in the health partition.",
    )
    TRANSFER = (
        "transfer",
        "A hand-over to a municipality's rehabilitative work activity, its acknowledgement and the return.",
    )
    CLOSURE = (
        "closure",
        "Closing the client relationship and its final assessment (*loppuarvio*) for the TE-office.",
    )
    TE_OFFICE_SERVICE = (
        "te_office_service",
        "The TE-office's own service of its client (*TE-toimisto*), through the TE side's view.",
    )
    SOCIAL_SERVICES = (
        "social_services",
        "A municipality's social services' work with their resident, through the municipal view.",
    )
    STATISTICS = (
        "statistics",
        "Statistics and the steering group's follow-up (*johtoryhmä*): figures, not persons.",
    )
    AUDIT = (
        "audit",
        "Supervising the lawful use of data: the access log, the audit timeline and its export.",
    )
    CLIENT_REQUEST = (
        "client_request",
        "The client's own request: their right of access, who saw their data, a correction.",
    )
    ERASURE = (
        "erasure",
        "Preparing, carrying out or checking an erasure, a legal hold or the retention sweep.",
    )
    PARTNER_FEED = (
        "partner_feed",
        "A partner system's read of what the client consented to disclose to it.",
    )
    SYSTEM_TEST = (
        "system_test",
        "Exercising the system with synthetic data (reitti demo, benchmarks, tests); no real person.",
    )


_BY_VALUE = {code.value: code for code in PurposeCode}


@dataclass(frozen=True)
class ReadPurpose:
    """A read's purpose as the access log records it."""

    code: PurposeCode
    detail: str | None = None

    def __str__(self) -> str:
        return self.code.value if self.detail is None else f"{self.code.value}: {self.detail}"


def vocabulary() -> str:
    """The codes and what each covers, one a line: for the OpenAPI and error messages."""
    return "\n".join(f"- `{code.value}`: {code.description}" for code in PurposeCode)


#: the purpose header's description in the OpenAPI
PURPOSE_DESCRIPTION = (
    "Why you read this client's data, kept in the access log: one of these codes.\n\n" + vocabulary()
)
DETAIL_DESCRIPTION = (
    f"Optional: the purpose in your words, UTF-8, at most {DETAIL_MAX_LENGTH} bytes, no control "
    "characters; kept in the access log beside the code. Say why, never about whom."
)


def codes() -> str:
    return ", ".join(code.value for code in PurposeCode)


def parse(code: PurposeCode | str, detail: str | None = None) -> ReadPurpose:
    """The purpose the two headers name; a :class:`RequestValidationError` (422) naming
    the header, with the known codes, if they name none."""
    known = _BY_VALUE.get(str(code))
    if known is None:
        raise _invalid(PURPOSE_HEADER, f"use one of the purpose codes: {codes()}")
    return ReadPurpose(known, _detail(detail))


def _detail(raw: str | None) -> str | None:
    if raw is None:
        return None
    text = _as_utf8(raw)
    if _CONTROL.search(text):
        raise _invalid(DETAIL_HEADER, "the purpose's detail may not contain control characters")
    if len(text.encode()) > DETAIL_MAX_LENGTH:
        raise _invalid(DETAIL_HEADER, f"the purpose's detail is at most {DETAIL_MAX_LENGTH} bytes (UTF-8)")
    return text.strip() or None


def _as_utf8(raw: str) -> str:
    """A header value as the client sent it: HTTP servers decode header bytes as
    latin-1, so a UTF-8 ``ä`` arrives as two characters; recode it when it is UTF-8."""
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw


def _invalid(header: str, message: str) -> RequestValidationError:
    return RequestValidationError(
        [{"loc": ("header", header.lower()), "msg": message, "type": "value_error"}]
    )
