"""Reading an amount: one parser, the ledger's, for both screens and the import."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounting.services.checks import parse_amount

D = Decimal


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("2340.50", D("2340.50")),
        ("2,340.50", D("2340.50")),
        ("1,234,567.00", D("1234567.00")),
        ("2,34,050.50", D("234050.50")),
        ("1,00,00,000", D("10000000")),
        ("12,345", D("12345")),
        ("-12.50", D("-12.50")),
        ("-1,234.5", D("-1234.5")),
        ("  75.25 ", D("75.25")),
        ("0.5", D("0.5")),
        ("10.500", D("10.500")),
        ("", D("0.00")),
        ("   ", D("0.00")),
        (None, D("0.00")),
        (10, D("10")),
        (D("3.10"), D("3.10")),
    ],
)
def test_plain_grouped_and_indian_amounts_are_read_exactly(text, amount):
    parsed = parse_amount(text)

    assert parsed == amount
    assert str(parsed) == str(amount)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("1,2,3", "commas in the wrong places"),
        ("12,34.5", "commas in the wrong places"),
        ("1234,567", "commas in the wrong places"),
        (",123", "commas in the wrong places"),
        ("1,23,45", "commas in the wrong places"),
        ("1e3", "exponent"),
        ("2.5E-2", "exponent"),
        ("1_000", "underscore"),
        ("١٢٣", "digits other than 0-9"),
        ("１２３", "digits other than 0-9"),
        ("NaN", "not a finite number"),
        ("-Infinity", "not a finite number"),
        ("inf", "not a finite number"),
        ("+10", "plus sign"),
        ("1 000", "space inside"),
        ("ten", "is not a number"),
        ("10.", "is not a number"),
        ("1.2.3", "is not a number"),
        ("--5", "is not a number"),
        (True, "is not a number"),
        ([1], "is not a number"),
    ],
)
def test_misplaced_separators_exponents_and_foreign_digits_are_refused_saying_what_is_allowed(
    text, says
):
    with pytest.raises(ValueError) as refused:
        parse_amount(text)

    message = str(refused.value)
    assert says in message
    assert "1,234,567.89" in message and "12,34,567.89" in message


def test_floats_stay_refused():
    with pytest.raises(ValueError, match="not a float"):
        parse_amount(10.1)


def test_non_finite_decimals_are_refused():
    with pytest.raises(ValueError, match="not a finite number"):
        parse_amount(D("NaN"))


def thousands(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def indian(amount: Decimal) -> str:
    """12,34,567.89: the last three digits of the whole part, then groups of two."""
    sign = "-" if amount < 0 else ""
    whole, fraction = f"{abs(amount):.2f}".split(".")
    head, tail = whole[:-3], whole[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    return sign + ",".join([*groups, tail]) + "." + fraction


money = st.decimals(min_value=D("-9999999999999.99"), max_value=D("9999999999999.99"), places=2)


@given(money)
def test_any_amount_written_with_thousands_grouping_reads_back(amount):
    assert parse_amount(thousands(amount)) == amount


@given(money)
def test_any_amount_written_with_indian_grouping_reads_back(amount):
    assert parse_amount(indian(amount)) == amount


@given(money)
def test_any_amount_written_plainly_reads_back(amount):
    assert parse_amount(f"{amount:.2f}") == amount


def test_indian_writer_groups_the_way_the_tests_expect():
    assert indian(D("10000000.00")) == "1,00,00,000.00"
    assert indian(D("234050.5")) == "2,34,050.50"
    assert indian(D("-999.00")) == "-999.00"
