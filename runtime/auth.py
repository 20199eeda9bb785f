"""Who is calling: signed bearer tokens (JWT) with standard claims.

A token carries ``sub`` (the person's or machine client's id), ``role``, ``org`` (the
organisation), ``iss``, ``aud``, ``iat`` and ``exp``. Services only verify: they hold
the issuer's public key(s). In embedded mode ``reitti up`` generates an Ed25519 key pair
under the data directory and ``reitti token`` signs development tokens with it; a real
identity provider is plugged in by setting the issuer and its public key instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from contracts.base import Actor

ALGORITHMS = ["EdDSA", "RS256", "ES256"]
DEFAULT_ISSUER = "reitti-embedded"
DEFAULT_AUDIENCE = "reitti"


class Unauthenticated(Exception):
    """No token, or one that does not verify (HTTP 401)."""


@dataclass(frozen=True)
class TokenVerifier:
    issuer: str
    audience: str
    public_keys: tuple[Any, ...]

    @classmethod
    def from_pem(
        cls, pem: str, *, issuer: str = DEFAULT_ISSUER, audience: str = DEFAULT_AUDIENCE
    ) -> TokenVerifier:
        keys = []
        for block in pem.split("-----END PUBLIC KEY-----"):
            if "-----BEGIN PUBLIC KEY-----" in block:
                keys.append(
                    serialization.load_pem_public_key((block + "-----END PUBLIC KEY-----").strip().encode())
                )
        if not keys:
            raise ValueError("no PEM public key found")
        return cls(issuer=issuer, audience=audience, public_keys=tuple(keys))

    def verify(self, token: str) -> Actor:
        last: Exception | None = None
        for key in self.public_keys:
            try:
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=ALGORITHMS,
                    audience=self.audience,
                    issuer=self.issuer,
                    options={"require": ["exp", "iat", "sub", "iss", "aud"]},
                )
            except jwt.InvalidSignatureError as exc:
                last = exc
                continue
            except jwt.PyJWTError as exc:
                raise Unauthenticated(f"the token is not valid: {exc}") from None
            return _actor(claims)
        raise Unauthenticated(f"the token is not signed by a trusted key: {last}")


def _actor(claims: dict[str, Any]) -> Actor:
    role, org = claims.get("role"), claims.get("org")
    if not isinstance(role, str) or not isinstance(org, str):
        raise Unauthenticated("the token lacks the 'role' and 'org' claims")
    try:
        return Actor(person_id=str(claims["sub"]), role=role, organisation=org)
    except ValueError as exc:
        raise Unauthenticated(f"the token's identity claims are not valid: {exc}") from None


@dataclass(frozen=True)
class TokenIssuer:
    """Signs tokens: for development and tests (a real identity provider signs in production)."""

    private_key: ed25519.Ed25519PrivateKey
    issuer: str = DEFAULT_ISSUER
    audience: str = DEFAULT_AUDIENCE

    def issue(
        self,
        *,
        person_id: str,
        role: str,
        organisation: str,
        ttl: timedelta = timedelta(hours=12),
        now: datetime | None = None,
    ) -> str:
        now = now or datetime.now(UTC)
        claims = {
            "sub": person_id,
            "role": role,
            "org": organisation,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
        }
        return jwt.encode(claims, self.private_key, algorithm="EdDSA")

    def public_pem(self) -> str:
        return (
            self.private_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    @classmethod
    def generate(cls, **kwargs: Any) -> TokenIssuer:
        return cls(ed25519.Ed25519PrivateKey.generate(), **kwargs)

    @classmethod
    def load(cls, path: Path, **kwargs: Any) -> TokenIssuer:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ValueError(f"{path}: expected an Ed25519 private key")
        return cls(key, **kwargs)


def ensure_dev_keys(directory: Path) -> tuple[Path, Path]:
    """The embedded mode's signing key pair (created once; the private key is 0600)."""
    directory.mkdir(parents=True, exist_ok=True)
    private, public = directory / "token-signing.key", directory / "token-signing.pub"
    if not private.exists():
        issuer = TokenIssuer.generate()
        pem = issuer.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        public.write_text(issuer.public_pem(), encoding="utf-8")
    return private, public
