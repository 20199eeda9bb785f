"""Tokens a caller can make, however malformed or signed with whatever algorithm, are
answered as unauthenticated, never as an error of ours (a 500 here was reachable by anyone)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from runtime.auth import TokenIssuer, TokenVerifier, Unauthenticated

ISSUER = TokenIssuer.generate()
VERIFIER = TokenVerifier.from_pem(ISSUER.public_pem())


def claims(**changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "sub": "advisor-1",
        "role": "employment_advisor",
        "org": "te-office",
        "iss": ISSUER.issuer,
        "aud": ISSUER.audience,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def signed(**changes: Any) -> str:
    return jwt.encode(claims(**changes), ISSUER.private_key, algorithm="EdDSA")


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (jwt.encode(claims(), RSA_KEY, algorithm="RS256"), "algorithm"),
        (jwt.encode(claims(), EC_KEY, algorithm="ES256"), "algorithm"),
        (jwt.encode(claims(), "a shared secret of thirty-two bytes!", algorithm="HS256"), "algorithm"),
        (jwt.encode(claims(), "", algorithm="none"), "algorithm"),  # the unsigned-token attack ("": no key)
        ("not-a-token", "not a JWT"),
        ("a.b.c", "not a JWT"),
        (signed(sub="advisor\x00-1"), "control characters"),
        (signed(org="te-office\n"), "control characters"),
        (signed(sub="x" * 201), "longer than 200"),
        (signed(role=""), "non-empty"),
        (signed(role=None), "non-empty"),
        (signed(exp=1), "not valid"),
        (signed(aud="someone-else"), "not valid"),
    ],
)
def test_a_token_that_is_not_ours_is_unauthenticated_with_a_reason(token: str, reason: str) -> None:
    with pytest.raises(Unauthenticated, match=reason):
        VERIFIER.verify(token)


def test_an_rsa_or_ec_key_of_a_real_issuer_verifies_its_own_tokens_only() -> None:
    from cryptography.hazmat.primitives import serialization

    def pem(key: Any) -> str:
        return (
            key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    both = TokenVerifier.from_pem(pem(RSA_KEY) + pem(EC_KEY) + ISSUER.public_pem())
    assert both.verify(jwt.encode(claims(), RSA_KEY, algorithm="RS256")).person_id == "advisor-1"
    assert both.verify(jwt.encode(claims(), EC_KEY, algorithm="ES256")).role == "employment_advisor"
    assert both.verify(signed()).organisation == "te-office"
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthenticated, match="not signed by a trusted key"):
        both.verify(jwt.encode(claims(), other, algorithm="RS256"))


def test_a_verified_token_is_remembered_until_it_expires_and_only_by_its_own_verifier(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verifier = TokenVerifier.from_pem(ISSUER.public_pem())
    token = signed(exp=int(datetime.now(UTC).timestamp()) + 60)
    calls: list[str] = []
    real = jwt.decode

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append("decode")
        return real(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counted)
    first = verifier.verify(token)
    assert verifier.verify(token) == first and calls == ["decode"], "verified once"
    other = TokenVerifier.from_pem(TokenIssuer.generate().public_pem())
    with pytest.raises(Unauthenticated, match="not signed by a trusted key"):
        other.verify(token)  # another verifier's memory is its own
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(Unauthenticated):
        verifier.verify(forged)  # a different string is verified afresh
    calls.clear()
    verifier.verify(token)
    assert calls == [], "still remembered before its expiry"
    monkeypatch.setattr(time, "time", time_after(61))
    verifier.verify(token)  # (PyJWT's own clock says it is still valid)
    assert calls == ["decode"], "past its expiry, the token is verified again, by PyJWT's exp check"
    expired = signed(exp=int(datetime.now(UTC).timestamp()) - 1)
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify(expired)


def time_after(seconds: float) -> Any:
    start = time.time()
    return lambda: start + seconds
