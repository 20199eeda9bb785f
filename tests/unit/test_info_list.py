"""Parsing URA's info list: every row valid or reported with its line, never all-or-nothing."""

from __future__ import annotations

import io

import pytest

from contracts.intake import ReferralSource
from services.intake.info_list import InfoListError, ListFormat, count_rows, detect_format, parse
from tests.support.factories import identity_code

HEADER = (
    "personal_identity_code,first_name,last_name,municipality,referral_date,subsidy_days,unemployment_months"
)


def csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def test_valid_csv_rows_become_te_office_referrals() -> None:
    code = identity_code()
    [row] = parse(csv(f"{code},Maija,Meikäläinen,Mikkeli,2010-03-01,520,"), ListFormat.CSV)
    assert row.errors == () and row.line == 2 and row.row is not None
    command = row.row.command()
    assert command.source is ReferralSource.TE_OFFICE
    assert (command.subsidy_days, command.unemployment_months) == (520, None)
    assert command.client.personal_identity_code == code


def test_a_semicolon_separated_file_with_a_byte_order_mark_is_read() -> None:
    data = "\ufeff" + HEADER.replace(",", ";") + "\n" + f"{identity_code()};A;B;Puumala;2011-01-03;;\n"
    [row] = parse(data.encode(), ListFormat.CSV)
    assert row.row is not None and row.row.municipality == "Puumala"


def test_bad_rows_are_reported_by_line_and_field_while_good_rows_pass() -> None:
    rows = list(
        parse(
            csv(
                f"{identity_code()},A,B,Mikkeli,2010-03-01,1,2",
                "",
                "010190-123A,A,B,Mikkeli,2010-03-01,1,2",
                f"{identity_code()},,B,Mikkeli,2010-02-30,x,2",
                f"{identity_code()},A,B,Mikkeli,2010-03-01,1,2,extra",
            ),
            ListFormat.CSV,
        )
    )
    assert [r.line for r in rows] == [2, 4, 5, 6]
    assert rows[0].row is not None
    assert [(e.field, "check character" in e.reason) for e in rows[1].errors] == [
        ("personal_identity_code", True)
    ]
    assert {e.field for e in rows[2].errors} == {"first_name", "referral_date", "subsidy_days"}
    assert rows[3].errors[0].reason == "more values than columns"


def test_a_header_without_the_required_columns_rejects_the_file() -> None:
    with pytest.raises(InfoListError, match="municipality"):
        list(parse(csv(header="personal_identity_code,first_name,last_name,referral_date"), ListFormat.CSV))
    with pytest.raises(InfoListError, match="unknown columns: shoe_size"):
        list(parse(csv(header=HEADER + ",shoe_size"), ListFormat.CSV))


def test_json_lines_report_broken_lines_and_keep_the_rest() -> None:
    good = (
        f'{{"personal_identity_code": "{identity_code()}", "first_name": "A", "last_name": "B", '
        '"municipality": "Mikkeli", "referral_date": "2010-01-04"}'
    )
    rows = list(parse(f"{good}\n[1, 2]\n{{oops\n\n{good}\n".encode(), ListFormat.JSON_LINES))
    assert [(r.line, r.row is not None) for r in rows] == [(1, True), (2, False), (3, False), (5, True)]
    assert rows[1].errors[0].reason == "each line must be a JSON object"


def test_a_file_that_is_not_utf8_is_refused_whole() -> None:
    with pytest.raises(InfoListError, match="UTF-8"):
        list(parse(HEADER.encode() + b"\n\xff\xfe", ListFormat.CSV))


def test_the_format_comes_from_the_content_type_or_the_file_name() -> None:
    assert detect_format("text/csv; charset=utf-8") is ListFormat.CSV
    assert detect_format("application/x-ndjson") is ListFormat.JSON_LINES
    assert detect_format(None, "list.jsonl") is ListFormat.JSON_LINES
    with pytest.raises(InfoListError):
        detect_format("application/pdf")


def test_a_csv_field_over_the_size_limit_is_that_rows_error_and_the_rest_pass() -> None:
    """A field over csv's 131,072 characters once gave a 500 (_csv.Error)."""
    good = f"{identity_code()},A,B,Mikkeli,2010-03-01,,"
    rows = list(
        parse(csv(good, f"{identity_code()},{'x' * 200_000},B,Mikkeli,2010-03-01,,", good), ListFormat.CSV)
    )
    assert [r.row is not None for r in rows] == [True, False, True]
    assert rows[1].errors[0].field == "first_name"


def test_json_lines_nested_too_deeply_or_with_huge_numbers_are_those_rows_errors() -> None:
    """A line nested about 1,000 deep once gave a 500 (RecursionError)."""
    good = (
        f'{{"personal_identity_code": "{identity_code()}", "first_name": "A", "last_name": "B", '
        '"municipality": "Mikkeli", "referral_date": "2010-03-01"}'
    )
    deep = "[" * 100_000 + "]" * 100_000
    huge = '{"subsidy_days": ' + "9" * 5000 + "}"
    rows = list(parse("\n".join([good, deep, huge, good]).encode(), ListFormat.JSON_LINES))
    assert [r.row is not None for r in rows] == [True, False, False, True]
    assert "nested too deeply" in rows[1].errors[0].reason


@pytest.mark.parametrize("day", ["0", "46388", "2010-03-01T00:00:00"])
def test_a_referral_date_that_is_a_number_or_a_timestamp_is_the_rows_error(day: str) -> None:
    [row] = parse(csv(f"{identity_code()},A,B,Mikkeli,{day},1,2"), ListFormat.CSV)
    assert row.row is None and [e.field for e in row.errors] == ["referral_date"]


@pytest.mark.parametrize("flag", ["true", "false"])
def test_a_json_lines_boolean_is_not_a_count_of_days(flag: str) -> None:
    line = (
        f'{{"personal_identity_code": "{identity_code()}", "first_name": "A", "last_name": "B", '
        f'"municipality": "Mikkeli", "referral_date": "2010-03-01", "subsidy_days": {flag}}}'
    )
    [row] = parse(line.encode(), ListFormat.JSON_LINES)
    assert row.row is None and [e.field for e in row.errors] == ["subsidy_days"]


def test_rows_are_counted_as_parse_reads_them_and_no_further_than_one_past_the_bound() -> None:
    good = f"{identity_code()},A,B,Mikkeli,2010-03-01,,"
    data = csv(good, "", '"010190-123A","Anna\nLiisa",B,Mikkeli,2010-03-01,,', "not,enough")
    assert count_rows(data, ListFormat.CSV, up_to=10) == len(list(parse(data, ListFormat.CSV))) == 3
    assert count_rows(csv(*[good] * 50), ListFormat.CSV, up_to=4) == 5
    lines = b'{"a": 1}\n\n[1]\n{oops\n'
    assert count_rows(lines, ListFormat.JSON_LINES, up_to=10) == 3
    with pytest.raises(InfoListError, match="unknown columns"):
        count_rows(csv(header=HEADER + ",shoe_size"), ListFormat.CSV, up_to=10)


def test_a_file_is_read_line_by_line_as_its_bytes_would_be() -> None:
    data = csv(
        f"{identity_code()},A,B,Mikkeli,2010-03-01,1,2", "x,y", f"{identity_code()},C,D,Puumala,2011-01-03,,"
    )
    from_bytes = [(r.line, r.row, r.errors) for r in parse(data, ListFormat.CSV)]
    from_file = [(r.line, r.row, r.errors) for r in parse(io.BytesIO(data), ListFormat.CSV)]
    assert from_file == from_bytes and [line for line, _, _ in from_file] == [2, 3, 4]


def test_a_line_that_is_not_utf8_is_named_by_its_number() -> None:
    with pytest.raises(InfoListError, match="line 3"):
        list(parse(HEADER.encode() + b"\n\n\xff\xfe\n", ListFormat.CSV))


def test_a_header_that_csv_cannot_read_is_the_files_error_not_a_crash() -> None:
    """Found by the fuzzing gate: a carriage return inside the unquoted header line was a
    500 (_csv.Error)."""
    data = b"personal_identity_code,first\rname\n"
    with pytest.raises(InfoListError, match="line 1"):
        count_rows(data, ListFormat.CSV, up_to=10)
