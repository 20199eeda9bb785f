"""Signed tokens for tests: one key pair per test session, trusted by every app the
tests build (``settings`` fixture)."""

from __future__ import annotations

from runtime.auth import TokenIssuer

ISSUER = TokenIssuer.generate()
#: a read's purpose (runtime/purposes.py): most tests read as the client's guidance would
PURPOSE = "service_guidance"


def headers(role: str, person: str | None = None, organisation: str = "te-office") -> dict[str, str]:
    """Request headers of a caller with ``role``: a bearer token and a purpose for reads."""
    token = ISSUER.issue(person_id=person or f"{role}-1", role=role, organisation=organisation)
    return {"Authorization": f"Bearer {token}", "X-Reitti-Purpose": PURPOSE}


def reader_for(path: str) -> dict[str, str]:
    """Headers of the role that reads ``path`` on reporting: the service coordinator reads
    statistics (every figure exact: the role has client access; the steering group's
    protected figures have tests of their own), the TE side its view, Mikkeli's social
    services theirs, the nurse the health partition, the auditor the audit log."""
    if path.startswith("/views/te"):
        return headers("employment_advisor", "advisor-1", "te-office")
    if path.startswith("/views/municipalities"):
        return headers("social_worker", "sw-1", "social_services:mikkeli")
    if path.startswith("/views/health"):
        return headers("nurse", "nurse-1", "centre")
    if path.startswith("/audit"):
        return headers("auditor", "auditor-1", "centre")
    return headers("service_coordinator", "coordinator-1", "centre")
