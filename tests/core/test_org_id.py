import pytest
from django.core.exceptions import ValidationError

from core.org_id import LISTS, org_id, parse_org_id


@pytest.mark.parametrize(
    "scheme, value, expected",
    [
        ("GB-CHC", "1164883", "GB-CHC-1164883"),
        ("GB-CHC", "279417", "GB-CHC-279417"),
        ("GB-CHC", "1164883-1", "GB-CHC-1164883-1"),
        ("gb-sc", "sc 042386", "GB-SC-SC042386"),
        ("GB-NIC", "100019", "GB-NIC-100019"),
        ("GB-NIC", "NIC100019", "GB-NIC-100019"),
        ("GB-COH", "9506232", "GB-COH-09506232"),
        ("GB-COH", "sc123456", "GB-COH-SC123456"),
        ("GB-MPR", "235c", "GB-MPR-235C"),
        ("GB-MPR", "IP031455", "GB-MPR-IP031455"),
    ],
)
def test_org_id_tidies_and_joins_the_list_code_and_number(scheme, value, expected):
    assert org_id(scheme, value) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("GB-CHC-1164883", ("GB-CHC", "1164883")),
        (" gb-chc-1164883 ", ("GB-CHC", "1164883")),
        ("GB-CHC-1164883-1", ("GB-CHC", "1164883-1")),
        ("GB-SC-SC042386", ("GB-SC", "SC042386")),
        ("GB-NIC-100019", ("GB-NIC", "100019")),
        ("GB-COH-09506232", ("GB-COH", "09506232")),
        ("GB-COH-NI123456", ("GB-COH", "NI123456")),
        ("GB-MPR-235C", ("GB-MPR", "235C")),
    ],
)
def test_parse_org_id(text, expected):
    assert parse_org_id(text) == expected


def test_every_list_round_trips_its_own_example():
    for code, item in LISTS.items():
        assert parse_org_id(org_id(code, item.example)) == (code, item.example)


@pytest.mark.parametrize(
    "text, expected_words",
    [
        # wrong prefix inside the number
        ("GB-SC-XX042386", ["Scottish charity number", "GB-SC", "SC and 6 digits"]),
        # wrong length
        ("GB-CHC-12345", ["charity number", "GB-CHC", "6 or 7 digits"]),
        ("GB-SC-SC04238", ["GB-SC", "SC and 6 digits"]),
        ("GB-NIC-10001", ["Northern Ireland charity number", "GB-NIC", "6 digits"]),
        ("GB-COH-123456789", ["company number", "GB-COH", "8 digits"]),
        ("GB-MPR-IP0314551", ["mutuals register number", "GB-MPR", "IP031455"]),
        # letters where digits belong
        ("GB-CHC-ABCDEFG", ["charity number", "GB-CHC", "6 or 7 digits"]),
        ("GB-COH-C1234567", ["company number", "GB-COH"]),
        # a number from another register
        ("GB-CHC-SC042386", ["Scottish charity number (GB-SC)", "GB-CHC"]),
        ("GB-NIC-1164883", ["charity number (GB-CHC)", "GB-NIC"]),
        # an unknown list
        ("GB-XXX-1", ["GB-XXX", "not an identifier list", "GB-CHC, GB-SC, GB-NIC, GB-COH, GB-MPR"]),
        # not an org-id at all
        ("1164883", ["not an org-id", "GB-CHC-1164883"]),
        ("", ["not an org-id"]),
    ],
)
def test_a_malformed_org_id_names_the_list_and_its_format(text, expected_words):
    with pytest.raises(ValidationError) as error:
        parse_org_id(text)
    message = " ".join(error.value.messages)
    for words in expected_words:
        assert words in message


def test_control_characters_and_huge_values_are_refused_without_being_echoed():
    with pytest.raises(ValidationError) as error:
        parse_org_id("GB-CHC-116\x004883")
    message = error.value.messages[0]
    assert "\x00" not in message and "control characters" in message and "GB-CHC" in message

    with pytest.raises(ValidationError) as error:
        parse_org_id("GB-CHC-" + "1" * 10_000)
    message = error.value.messages[0]
    assert len(message) < 200 and "10007 characters" in message

    with pytest.raises(ValidationError) as error:
        org_id("GB-COH", "9" * 10_000)
    assert len(error.value.messages[0]) < 300 and "GB-COH" in error.value.messages[0]


def test_org_id_refuses_an_unknown_list():
    with pytest.raises(ValidationError, match="GB-XXX"):
        org_id("GB-XXX", "1")
