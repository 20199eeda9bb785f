"""The personal identity code as the law defines it (ASCII digits, the century signs of
the 2023 reform, a real date, the check character), its normalisation, and the keyed
pseudonyms made from it and from the name."""

from __future__ import annotations

from datetime import date

import pytest

from services.intake.identity import (
    CHECK_CHARACTERS,
    InvalidIdentityCode,
    birth_date,
    check_character_ok,
    identity_key,
    look_alike_key,
    normalise,
    parse,
    same_name,
)

CODE = "010190-123M"
SECRET = b"s" * 32


def with_check(base: str) -> str:
    """``DDMMYY`` + sign + ``NNN`` completed with its check character."""
    return base + CHECK_CHARACTERS[int(base[:6] + base[7:10]) % 31]


def spelled_with(digits: str, code: str = CODE) -> str:
    """``code`` with its ASCII digits replaced by another script's digits 0-9."""
    return "".join(digits[int(c)] if c.isdigit() else c for c in code)


def fullwidth(text: str) -> str:
    """``text`` in fullwidth forms (U+FF01-FF5E)."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


ARABIC_INDIC = "".join(chr(0x0660 + i) for i in range(10))
BENGALI = "".join(chr(0x09E6 + i) for i in range(10))
FULLWIDTH = fullwidth("0123456789")


@pytest.mark.parametrize(
    "digits", [ARABIC_INDIC, BENGALI, FULLWIDTH], ids=["arabic-indic", "bengali", "fullwidth"]
)
def test_a_code_written_with_other_scripts_digits_is_refused_though_python_reads_them_as_digits(
    digits: str,
) -> None:
    other = spelled_with(digits)
    assert other[:6].isdigit() and int(other[:6]) == 10190, "\\d and int() take these digits"
    with pytest.raises(InvalidIdentityCode, match="ASCII digits") as refused:
        parse(other)
    assert other not in str(refused.value), "the value is never echoed"
    assert not check_character_ok(other)
    with pytest.raises(InvalidIdentityCode):
        birth_date(other)


@pytest.mark.parametrize(
    ("sign", "year"),
    [("+", 1890), ("-", 1990), ("Y", 1990), ("X", 1990), ("W", 1990), ("V", 1990), ("U", 1990)]
    + [(s, 2090) for s in "ABCDEF"],
)
def test_every_century_sign_of_the_2023_reform_gives_its_century(sign: str, year: int) -> None:
    code = with_check(f"010190{sign}123")
    assert parse(code) == code
    assert birth_date(code) == date(year, 1, 1)


@pytest.mark.parametrize("sign", ["G", "Z", "T", "*", " ", "/"])
def test_a_sign_that_is_no_century_sign_is_refused(sign: str) -> None:
    with pytest.raises(InvalidIdentityCode):
        parse(with_check(f"010190{sign}123"))


@pytest.mark.parametrize(
    "code",
    [
        "300210A901L",
        with_check("290201A123"),
        with_check("310490-123"),
        with_check("001390-123"),
        "000000-0000",
    ],
)
def test_a_code_whose_birth_date_does_not_exist_is_refused_even_with_the_right_check_character(
    code: str,
) -> None:
    if len(code) == 11 and code != "000000-0000":
        assert check_character_ok(code), "the check character alone would let it through"
    with pytest.raises(InvalidIdentityCode, match="birth date"):
        parse(code)


def test_a_leap_day_exists_in_a_leap_year_only() -> None:
    assert birth_date(parse(with_check("290200A123"))) == date(2000, 2, 29)
    with pytest.raises(InvalidIdentityCode):
        parse(with_check("290200-123"))  # 1900 was no leap year


@pytest.mark.parametrize("number", ["000", "001"])
def test_individual_numbers_000_and_001_are_not_given(number: str) -> None:
    with pytest.raises(InvalidIdentityCode, match="individual number"):
        parse(with_check(f"010190-{number}"))


def test_a_wrong_check_character_is_refused() -> None:
    with pytest.raises(InvalidIdentityCode, match="check character"):
        parse("010190-123A")


@pytest.mark.parametrize("spelling", ["010190-123m", " 010190-123M", "010190-123M\n", "\t010190-123m "])
def test_case_and_surrounding_whitespace_are_normalised_away(spelling: str) -> None:
    assert normalise(spelling) == CODE
    assert parse(spelling) == CODE


def test_lower_case_century_letters_are_the_same_code() -> None:
    code = with_check("010105A123")
    assert parse(code.lower()) == code


@pytest.mark.parametrize("bad", ["010190-123", "010190-123MM", "0101 90-123M", "010190\u2013123M", ""])
def test_other_forms_are_refused(bad: str) -> None:
    with pytest.raises(InvalidIdentityCode):
        parse(bad)


def test_the_pseudonym_is_of_the_normalised_code() -> None:
    keys = {identity_key(s, SECRET) for s in (CODE, "010190-123m", " 010190-123M ", "010190-123M\n")}
    assert len(keys) == 1
    other = with_check("020190-123")
    assert identity_key(other, SECRET) not in keys
    assert identity_key(CODE, b"t" * 32) not in keys, "another secret, another pseudonym"
    assert CODE not in keys.pop()


def test_names_meet_across_case_accents_hyphens_and_compatibility_forms() -> None:
    assert same_name("Anna-Liisa", "Mäki", "anna liisa", "MAKI")
    assert same_name(fullwidth("Maija"), "Meikäläinen", "Maija", "Meikalainen")
    assert not same_name("Maija", "Meikäläinen", "Matti", "Meikäläinen")
    assert not same_name("Maija", "Virtanen", "Maija", "Meikäläinen")


def test_the_look_alike_key_is_of_the_normalised_name_and_the_birth_date() -> None:
    born = date(1990, 1, 1)
    key = look_alike_key("Anna-Liisa", "Mäki", born, SECRET)
    assert look_alike_key(" anna liisa ", "MAKI", born, SECRET) == key
    assert look_alike_key("Anna-Liisa", "Mäki", date(1990, 1, 2), SECRET) != key
    assert look_alike_key("Anna-Liisa", "Mäkelä", born, SECRET) != key
    assert look_alike_key("Anna-Liisa", "Mäki", born, b"t" * 32) != key
    assert "maki" not in key and "Mäki" not in key
