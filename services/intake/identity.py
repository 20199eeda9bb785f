"""The Finnish personal identity code (*henkilötunnus*): birth date, age, and a keyed
pseudonym used to find a client's existing intake case without storing the code."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

_CENTURY = {"+": 1800, "-": 1900, "Y": 1900, "X": 1900, "W": 1900, "V": 1900, "U": 1900}
_CENTURY.update({c: 2000 for c in "ABCDEF"})
CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_CHECK = CHECK_CHARACTERS


class InvalidIdentityCode(ValueError):
    pass


def birth_date(code: str) -> date:
    """The birth date encoded in a personal identity code (DDMMYY + century sign)."""
    try:
        day, month, year = int(code[0:2]), int(code[2:4]), int(code[4:6])
        return date(_CENTURY[code[6]] + year, month, day)
    except (KeyError, ValueError, IndexError):
        raise InvalidIdentityCode("the personal identity code has no valid birth date") from None


def check_character_ok(code: str) -> bool:
    """Whether the code's last character matches its checksum (mod 31 of DDMMYYNNN)."""
    try:
        number = int(code[0:6] + code[7:10])
    except ValueError:
        return False
    return len(code) == 11 and _CHECK[number % 31] == code[10]


def age_on(code: str, on: date) -> int:
    born = birth_date(code)
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def identity_key(code: str, secret: bytes) -> str:
    """A keyed pseudonym (HMAC-SHA256) of the code: equal codes give equal keys, and
    without the secret the code cannot be recovered by trying all possible codes."""
    return hmac.new(secret, code.strip().upper().encode(), hashlib.sha256).hexdigest()
