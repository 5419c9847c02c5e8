import re

import pytest
from django.core.exceptions import ValidationError

from core.fields import (
    normalise_company_number,
    normalise_postcode,
    validate_charity_number,
    validate_company_number,
    validate_postcode,
)


@pytest.mark.parametrize(
    "raw, expected", [("e1 6an", "E1 6AN"), ("E16AN", "E1 6AN"), (" sw1a  1aa ", "SW1A 1AA"), ("e149qq", "E14 9QQ")]
)
def test_normalise_postcode(raw, expected):
    assert normalise_postcode(raw) == expected
    validate_postcode(expected)


@pytest.mark.parametrize("bad", ["E1", "NOTAPOSTCODE", "E1 6A", "12345", "Q1 1AA"])
def test_validate_postcode_rejects(bad):
    with pytest.raises(ValidationError, match="not a valid UK postcode"):
        validate_postcode(normalise_postcode(bad))


@pytest.mark.parametrize("good", ["1012345", "123456", "1012345-1"])
def test_validate_charity_number_accepts(good):
    validate_charity_number(good)


@pytest.mark.parametrize("bad", ["12345", "12345678", "ABC123", "SC12345"])
def test_validate_charity_number_rejects(bad):
    with pytest.raises(ValidationError, match="not a valid charity number .GB-CHC"):
        validate_charity_number(bad)


@pytest.mark.parametrize(
    "number, register",
    [("SC012345", "Scottish charity number (GB-SC)"), ("NIC101234", "Northern Ireland charity number (GB-NIC)")],
)
def test_a_scottish_or_northern_irish_number_is_not_a_charity_number_for_england_and_wales(number, register):
    # Each register now has its own field; the message says which one the number belongs in.
    with pytest.raises(ValidationError, match=re.escape(register)):
        validate_charity_number(number)


def test_company_number_is_zero_padded_and_checked():
    assert normalise_company_number("123456") == "00123456"
    assert normalise_company_number("ce 012345") == "CE012345"
    validate_company_number("00123456")
    with pytest.raises(ValidationError, match="not a valid company number"):
        validate_company_number("C1234567")
