import pytest

from registry.domain.numbering import (
    NumberSpaceExhausted,
    RegistrationNumber,
    format_number,
    parse_number,
)


@pytest.mark.parametrize(
    ("year", "seq", "expected"),
    [
        (2026, 1, "AIR-2026-000001"),
        (2026, 42, "AIR-2026-000042"),
        (2031, 999_999, "AIR-2031-999999"),
    ],
)
def test_format(year, seq, expected):
    assert format_number(year, seq) == expected


def test_format_refuses_out_of_range():
    with pytest.raises(NumberSpaceExhausted):
        format_number(2026, 1_000_000)
    with pytest.raises(ValueError):
        format_number(2026, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AIR-2026-000001", RegistrationNumber(2026, 1)),
        (" air-2026-42 ", RegistrationNumber(2026, 42)),
        ("AIR - 2026 - 000123", RegistrationNumber(2026, 123)),
        ("AIR-2026-000000", None),
        ("AIR-26-000001", None),
        ("AIR-2026-1234567", None),
        ("2026-000001", None),
        ("", None),
        ("harbour", None),
    ],
)
def test_parse(text, expected):
    assert parse_number(text) == expected


def test_parse_round_trips():
    assert str(parse_number(format_number(2026, 7))) == "AIR-2026-000007"
