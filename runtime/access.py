"""Roles and permissions: the one place that says which role may do what.

Every endpoint of every service names one :class:`Permission` (``Depends(require(...))``);
:data:`MATRIX` maps each permission to the roles that hold it. ``reitti permissions``
renders the endpoint x role matrix into ``docs/permissions.md``, and a test walks all of
it against the running apps.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from contracts.base import Actor
from runtime.auth import TokenVerifier, Unauthenticated

# The roles live in runtime.roles (pure, for the disclosure policy); re-exported here.
from runtime.roles import SIDE_OF_ROLE as SIDE_OF_ROLE
from runtime.roles import Role as Role


class Permission(StrEnum):
    # intake
    REFERRAL_REGISTER = "referral:register"
    REFERRAL_IMPORT = "referral:import"
    QUEUE_READ = "queue:read"
    QUEUE_PICK = "queue:pick"
    INTAKE_CASE_READ = "intake-case:read"
    SESSION_MANAGE = "info-session:manage"
    SESSION_READ = "info-session:read"
    CONSENT_RECORD = "consent:record"
    ASSESSMENT_COMPLETE = "assessment:complete"
    #: erase a client's personal data (key deletion) and set or clear a legal hold
    CLIENT_ERASE = "client:erase"
    #: set the yearly intake target (the steering group, *johtoryhmä*)
    TARGETS_SET = "targets:set"
    # guidance
    GUIDANCE_READ = "guidance:read"
    GUIDES_MANAGE = "guides:manage"
    GUIDE_ASSIGN = "guide:assign"
    PLAN_REVISE = "plan:revise"
    HEALTH_RECORD = "health:record"
    HEALTH_READ = "health:read"
    TRANSFER_MAKE = "transfer:make"
    TRANSFER_ACKNOWLEDGE = "transfer:acknowledge"
    TRANSFER_RETURN = "transfer:return"
    REASSESSMENT_RECORD = "reassessment:record"
    #: decide the closure; who may under the rules in force: services/guidance/domain/closure.py
    CLOSURE_RECORD = "closure:record"
    CLOSURE_PROPOSE = "closure:propose"
    # reporting
    STATISTICS_READ = "statistics:read"
    TE_VIEW_READ = "te-view:read"
    MUNICIPAL_VIEW_READ = "municipal-view:read"
    HEALTH_VIEW_READ = "health-view:read"
    AUDIT_READ = "audit:read"


R = Role
CENTRE_STAFF = frozenset(
    {
        R.EMPLOYMENT_ADVISOR,
        R.LEAD_EMPLOYMENT_ADVISOR,
        R.PSYCHOLOGIST,
        R.SERVICE_COORDINATOR,
        R.SERVICE_GUIDE,
        R.NURSE,
        R.OFFICE_SECRETARY,
    }
)
ADVISORS = frozenset({R.EMPLOYMENT_ADVISOR, R.LEAD_EMPLOYMENT_ADVISOR})
GUIDES = frozenset({R.EMPLOYMENT_ADVISOR, R.LEAD_EMPLOYMENT_ADVISOR, R.SERVICE_GUIDE, R.SERVICE_COORDINATOR})

#: Permission -> the roles that hold it. Everything not listed here is denied.
MATRIX: dict[Permission, frozenset[Role]] = {
    Permission.REFERRAL_REGISTER: GUIDES | {R.OFFICE_SECRETARY, R.SOCIAL_WORKER},
    Permission.REFERRAL_IMPORT: ADVISORS,
    Permission.QUEUE_READ: CENTRE_STAFF - {R.NURSE},
    Permission.QUEUE_PICK: ADVISORS,
    Permission.INTAKE_CASE_READ: CENTRE_STAFF,
    Permission.SESSION_MANAGE: GUIDES | {R.OFFICE_SECRETARY},
    Permission.SESSION_READ: CENTRE_STAFF,
    Permission.CONSENT_RECORD: GUIDES,
    Permission.CLIENT_ERASE: frozenset({R.LEAD_EMPLOYMENT_ADVISOR, R.SERVICE_COORDINATOR}),
    Permission.ASSESSMENT_COMPLETE: ADVISORS,
    Permission.TARGETS_SET: frozenset({R.STEERING_GROUP_MEMBER}),
    Permission.GUIDANCE_READ: CENTRE_STAFF,
    Permission.GUIDES_MANAGE: frozenset({R.SERVICE_COORDINATOR, R.LEAD_EMPLOYMENT_ADVISOR}),
    Permission.GUIDE_ASSIGN: GUIDES,
    Permission.PLAN_REVISE: GUIDES,
    Permission.HEALTH_RECORD: frozenset({R.NURSE}),
    Permission.HEALTH_READ: frozenset({R.NURSE}),
    Permission.TRANSFER_MAKE: GUIDES,
    Permission.TRANSFER_ACKNOWLEDGE: frozenset({R.SOCIAL_WORKER}),
    Permission.TRANSFER_RETURN: GUIDES | {R.SOCIAL_WORKER},
    Permission.REASSESSMENT_RECORD: GUIDES,
    # The service coordinator records the joint assessment of a closure the guide proposed
    # (the 2015 and 2025 acts; ADR 0031); the guides propose, and decide under the seed.
    Permission.CLOSURE_RECORD: frozenset(
        {R.EMPLOYMENT_ADVISOR, R.LEAD_EMPLOYMENT_ADVISOR, R.SERVICE_GUIDE, R.SERVICE_COORDINATOR}
    ),
    Permission.CLOSURE_PROPOSE: GUIDES,
    Permission.STATISTICS_READ: frozenset(
        {R.STEERING_GROUP_MEMBER, R.SERVICE_COORDINATOR, R.LEAD_EMPLOYMENT_ADVISOR, R.AUDITOR}
    ),
    Permission.TE_VIEW_READ: frozenset({R.EMPLOYMENT_ADVISOR, R.LEAD_EMPLOYMENT_ADVISOR, R.PSYCHOLOGIST}),
    Permission.MUNICIPAL_VIEW_READ: frozenset({R.SOCIAL_WORKER, R.SERVICE_COORDINATOR}),
    Permission.HEALTH_VIEW_READ: frozenset({R.NURSE}),
    Permission.AUDIT_READ: frozenset({R.AUDITOR}),
}


#: The permissions that read some client's data. A role holding none of them sees the
#: statistics under disclosure control (services/reporting/disclosure_control.py).
CLIENT_DATA_READS = frozenset(
    {
        Permission.QUEUE_READ,
        Permission.INTAKE_CASE_READ,
        Permission.GUIDANCE_READ,
        Permission.HEALTH_READ,
        Permission.TE_VIEW_READ,
        Permission.MUNICIPAL_VIEW_READ,
        Permission.HEALTH_VIEW_READ,
        Permission.AUDIT_READ,
    }
)


def has_client_access(role: str) -> bool:
    """Whether ``role`` may read any client's data: else its aggregates hide small cells."""
    return any(allowed(permission, role) for permission in CLIENT_DATA_READS)


class Forbidden(Exception):
    """The caller is authenticated but lacks the permission (HTTP 403)."""

    def __init__(self, permission: Permission, actor: Actor, scope: str | None = None) -> None:
        self.permission = permission
        if scope:
            message = f"missing permission {permission.value} here: {scope} may read this"
        else:
            message = (
                f"missing permission {permission.value}: role {actor.role!r} does not have it "
                f"(roles that do: {', '.join(sorted(MATRIX[permission]))})"
            )
        super().__init__(message)


def allowed(permission: Permission, role: str) -> bool:
    return role in {r.value for r in MATRIX[permission]}


Guard = Callable[..., Coroutine[Any, Any, Actor]]


bearer = HTTPBearer(auto_error=False, description="A signed token: `reitti token` makes one in embedded mode")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def authenticated(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Actor:
    """The caller, from a verified ``Authorization: Bearer`` token (else 401)."""
    if credentials is None:
        raise Unauthenticated("no bearer token: send Authorization: Bearer <token>")
    verifier: TokenVerifier = request.app.state.verifier
    return verifier.verify(credentials.credentials)


def require(permission: Permission) -> Guard:
    """A FastAPI dependency: the verified caller, if their role holds ``permission``.

    The token comes in the Authorization header only, never in a URL: a browser opening
    the dashboard signs in and holds a session cookie (services/reporting/sign_in.py)."""

    async def guard(request: Request, credentials: Credentials) -> Actor:
        actor = await authenticated(request, credentials)
        if not allowed(permission, actor.role):
            raise Forbidden(permission, actor)
        return actor

    guard.permission = permission  # type: ignore[attr-defined]
    return guard
