"""`reitti token` signs only callers the code meets: a social worker belongs to a
municipality's social services and a partner system to its partner, so neither gets a
default organisation (docs/adr/0033); the other roles' defaults are their side's."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from reitti.cli import TOKEN_DEFAULT_ORGANISATION, main
from runtime.auth import TokenIssuer
from runtime.roles import SIDE_OF_ROLE, Role


@pytest.fixture
def signing_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TokenIssuer:
    issuer = TokenIssuer.generate()
    key = tmp_path / "token-signing.key"
    key.write_bytes(
        issuer.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    monkeypatch.setenv("REITTI_JWT_PRIVATE_KEY", str(key))
    monkeypatch.delenv("REITTI_MUNICIPALITIES", raising=False)
    return issuer


def organisation_signed(issuer: TokenIssuer, out: str) -> str:
    claims = jwt.decode(out.strip(), issuer.public_pem(), algorithms=["EdDSA"], audience=issuer.audience)
    return str(claims["org"])


@pytest.mark.parametrize(
    ("role", "named"),
    [("social_worker", "social_services:mikkeli"), ("partner_system", "kela")],
)
def test_a_role_of_one_organisation_without_organisation_is_refused_with_exit_code_2(
    role: str, named: str, signing_key: TokenIssuer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "--role", role, "--person", "someone-1"]) == 2
    out, err = capsys.readouterr()
    assert out == "", "no token is printed"
    assert "--organisation" in err and named in err, err


def test_a_social_workers_token_names_the_social_services_given(
    signing_key: TokenIssuer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "--role", "social_worker", "--person", "sw-1", "--organisation", "Mäntyharju"]) == 0
    assert organisation_signed(signing_key, capsys.readouterr().out) == "social_services:mantyharju"
    assert main(["token", "--role", "partner_system", "--person", "ura", "--organisation", "TE-office"]) == 0
    assert organisation_signed(signing_key, capsys.readouterr().out) == "te-office"


@pytest.mark.parametrize("role", [r for r in Role if TOKEN_DEFAULT_ORGANISATION[r] is not None])
def test_other_roles_default_to_their_sides_organisation(
    role: Role, signing_key: TokenIssuer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "--role", role.value, "--person", "someone-1"]) == 0
    signed = organisation_signed(signing_key, capsys.readouterr().out)
    te_side = SIDE_OF_ROLE[role].value == "te"
    assert signed == ("te-office" if te_side else "centre"), role


def test_every_role_has_a_decided_default() -> None:
    assert set(TOKEN_DEFAULT_ORGANISATION) == set(Role)
    assert [r for r, org in TOKEN_DEFAULT_ORGANISATION.items() if org is None] == [
        Role.SOCIAL_WORKER,
        Role.PARTNER_SYSTEM,
    ]
