"""The Finnish personal identity code (*henkilötunnus*): its form as the law defines it,
birth date, age, and keyed pseudonyms used to find a client's existing intake case (and
clients who may be the same person) without storing the code or the name.

The form (Act 128/2010 on the population information system, with the century signs of
the 2023 reform): ``DDMMYY`` + century sign + a three-digit individual number + a check
character. Digits are ASCII only (``0-9``: Python's ``\\d`` and ``int()`` also take
Arabic-Indic, Bengali or fullwidth digits, and would let one person be four clients).
Century signs: ``+`` 1800s; ``-``, ``Y``, ``X``, ``W``, ``V``, ``U`` 1900s; ``A``-``F``
2000s. The date must exist. The individual number is 002-999 (900-999 are temporary
codes). The check character is ``CHECK_CHARACTERS[DDMMYYNNN mod 31]``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date

_CENTURY = {"+": 1800, "-": 1900, "Y": 1900, "X": 1900, "W": 1900, "V": 1900, "U": 1900}
_CENTURY.update({c: 2000 for c in "ABCDEF"})
CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_CHECK = CHECK_CHARACTERS
#: The code's form after :func:`normalise`: ASCII digits and the century signs only.
FORM = re.compile(r"[0-9]{6}[-+YXWVUABCDEF][0-9]{3}[0-9A-Y]", re.ASCII)


class InvalidIdentityCode(ValueError):
    """The code is not a personal identity code; the message gives the reason and never
    the value; ``kind`` names the rule it broke (``identity_code``, or
    ``identity_code_check`` for the check character)."""

    def __init__(self, reason: str, kind: str = "identity_code") -> None:
        super().__init__(reason)
        self.kind = kind


def normalise(code: str) -> str:
    """The code as it is compared and pseudonymised: surrounding whitespace removed,
    letters in upper case (``010190a123m`` and `` 010190A123M `` are one code)."""
    return code.strip().upper()


def parse(code: str) -> str:
    """The normalised code, if it is a personal identity code as the law defines it (form,
    century sign, a real calendar date, individual number, check character); else
    :class:`InvalidIdentityCode` with the reason."""
    code = normalise(code)
    if not FORM.fullmatch(code):
        raise InvalidIdentityCode(
            "not a personal identity code: DDMMYY, a century sign (+ - Y X W V U A B C D E F), "
            "three digits and a check character, with ASCII digits 0-9"
        )
    birth_date(code)
    if int(code[7:10]) < 2:
        raise InvalidIdentityCode("the individual number must be 002-999")
    if not check_character_ok(code):
        raise InvalidIdentityCode("the check character does not match", "identity_code_check")
    return code


def birth_date(code: str) -> date:
    """The birth date encoded in a personal identity code (DDMMYY + century sign)."""
    code = normalise(code)
    if not FORM.fullmatch(code):
        raise InvalidIdentityCode("the personal identity code has no valid birth date")
    try:
        day, month, year = int(code[0:2]), int(code[2:4]), int(code[4:6])
        return date(_CENTURY[code[6]] + year, month, day)
    except (KeyError, ValueError):
        raise InvalidIdentityCode("the personal identity code has no valid birth date") from None


def check_character_ok(code: str) -> bool:
    """Whether the code's last character matches its checksum (mod 31 of DDMMYYNNN).
    Only ASCII digits count as digits."""
    code = normalise(code)
    if not FORM.fullmatch(code):
        return False
    return _CHECK[int(code[0:6] + code[7:10]) % 31] == code[10]


def age_on(code: str, on: date) -> int:
    born = birth_date(code)
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def identity_key(code: str, secret: bytes) -> str:
    """A keyed pseudonym (HMAC-SHA256) of the normalised code: equal codes give equal
    keys, and without the secret the code cannot be recovered by trying all possible
    codes."""
    return hmac.new(secret, normalise(code).encode(), hashlib.sha256).hexdigest()


def normalise_name(name: str) -> str:
    """A name as it is compared: compatibility forms folded (NFKC), accents dropped,
    case folded, and only letters and digits kept (``Anna-Liisa Mäki`` and
    ``anna liisa maki`` are one name). Deliberately lenient: two spellings of one
    person should meet; people who only look alike are told apart by an advisor."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name))
    return "".join(c for c in decomposed.casefold() if c.isalnum() and not unicodedata.combining(c))


def same_name(first_a: str, last_a: str, first_b: str, last_b: str) -> bool:
    """Whether two names are one name under :func:`normalise_name`."""
    return (normalise_name(first_a), normalise_name(last_a)) == (
        normalise_name(first_b),
        normalise_name(last_b),
    )


def look_alike_key(first_name: str, last_name: str, born: date, secret: bytes) -> str:
    """A keyed blind index (HMAC-SHA256) of the normalised name and the birth date: the
    clients with equal keys may be one person under two identity codes. Without the
    secret the name cannot be recovered from it."""
    text = f"{normalise_name(first_name)}|{normalise_name(last_name)}|{born.isoformat()}"
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()
