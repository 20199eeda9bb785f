"""Who is calling: signed bearer tokens (JWT) with standard claims.

A token carries ``sub`` (the person's or machine client's id), ``role``, ``org`` (the
organisation), ``iss``, ``aud``, ``iat`` and ``exp``. Services only verify: they hold
the issuer's public key(s). In embedded mode ``reitti up`` generates an Ed25519 key pair
under the data directory and ``reitti token`` signs development tokens with it; a real
identity provider is plugged in by setting the issuer and its public key instead.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from contracts.base import Actor

ALGORITHMS = ["EdDSA", "RS256", "ES256"]
#: the algorithm each kind of public key verifies: a token whose header names another
#: algorithm than its key's is refused, never tried against the wrong kind of key
_ALGORITHM_OF_KEY: tuple[tuple[type[Any], str], ...] = (
    (ed25519.Ed25519PublicKey, "EdDSA"),
    (rsa.RSAPublicKey, "RS256"),
    (ec.EllipticCurvePublicKey, "ES256"),
)
#: the identity claims, as an :class:`Actor` holds them: printable text of bounded length
_CLAIM_LIMITS = {"sub": 200, "role": 100, "org": 100}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
DEFAULT_ISSUER = "reitti-embedded"
DEFAULT_AUDIENCE = "reitti"


class Unauthenticated(Exception):
    """No token, or one that does not verify (HTTP 401)."""


#: how many verified tokens a verifier remembers until they expire (then it starts over)
VERIFIED_TOKENS = 4096


@dataclass(frozen=True)
class TokenVerifier:
    issuer: str
    audience: str
    public_keys: tuple[Any, ...]
    #: tokens this verifier has verified, with their caller and expiry: a caller sends the
    #: same token with each request until it expires, and its signature stays verified
    _verified: dict[str, tuple[Actor, float]] = field(
        default_factory=dict, init=False, compare=False, repr=False, hash=False
    )

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
        """The caller a token names, if one of our keys signed it; else
        :class:`Unauthenticated` saying why (never an error of our own: any token a caller
        can make, however malformed, is answered 401). A token verified before is not
        verified again until it expires: the same string, signed by the same key, names
        the same caller, and its expiry is checked each time."""
        known = self._verified.get(token)
        if known is not None:
            if time.time() < known[1]:
                return known[0]
            self._verified.pop(token, None)
        actor, expires = self._verify(token)
        if len(self._verified) >= VERIFIED_TOKENS:
            self._verified.clear()
        self._verified[token] = (actor, expires)
        return actor

    def _verify(self, token: str) -> tuple[Actor, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("the token is not a JWT: send Authorization: Bearer <token>") from None
        algorithm = header.get("alg")
        keys = [k for k in self.public_keys if _algorithm_of(k) == algorithm]
        if not keys:
            raise Unauthenticated(
                f"the token's algorithm is not one a trusted key verifies ({', '.join(self.algorithms)})"
            )
        for key in keys:
            try:
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=[str(algorithm)],
                    audience=self.audience,
                    issuer=self.issuer,
                    options={"require": ["exp", "iat", "sub", "iss", "aud"]},
                )
            except jwt.InvalidSignatureError:
                continue
            except (jwt.PyJWTError, TypeError, ValueError) as exc:
                raise Unauthenticated(f"the token is not valid: {_reason(exc)}") from None
            return _actor(claims), float(claims["exp"])
        raise Unauthenticated("the token is not signed by a trusted key")

    @property
    def algorithms(self) -> list[str]:
        return sorted({a for k in self.public_keys if (a := _algorithm_of(k)) is not None})


def _algorithm_of(key: Any) -> str | None:
    return next((alg for kind, alg in _ALGORITHM_OF_KEY if isinstance(key, kind)), None)


def _reason(exc: Exception) -> str:
    """PyJWT's reason in one short line; no token content."""
    text = " ".join(str(exc).split())[:200]
    return text or type(exc).__name__


def _actor(claims: dict[str, Any]) -> Actor:
    for name, limit in _CLAIM_LIMITS.items():
        value = claims.get(name)
        if not isinstance(value, str) or not value:
            raise Unauthenticated(f"the token's {name!r} claim must be a non-empty string")
        if len(value) > limit:
            raise Unauthenticated(f"the token's {name!r} claim is longer than {limit} characters")
        if _CONTROL.search(value):
            raise Unauthenticated(f"the token's {name!r} claim contains control characters")
    return Actor(person_id=claims["sub"], role=claims["role"], organisation=claims["org"])


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
