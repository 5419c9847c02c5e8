"""directory.forms: tidying, duplicate checks and the near-duplicate warning, without the pages."""

from datetime import date

import pytest

from accounts.forms import LoginForm
from organisations.admin import OrganisationAdminForm
from organisations.forms import MembershipApplicationForm, OrganisationFilterForm, OrganisationForm, RegistrationForm
from organisations.models import Organisation
from tests.factories import make_organisation, term

pytestmark = pytest.mark.django_db


def _organisation_form(organisation, **changes):
    data = {
        "name": organisation.name,
        "geographic_level": organisation.geographic_level,
        "town": organisation.town,
        "public_fields": list(organisation.public_fields),
        **changes,
    }
    return OrganisationForm(data=data, instance=Organisation.objects.get(pk=organisation.pk))


def test_identifiers_are_tidied_before_they_are_checked(people):
    form = _organisation_form(
        people.vco,
        postcode=" e3   5es ",
        charity_number=" 1164 883",
        scottish_charity_number="sc 012345",
        ni_charity_number="nic100019",
        company_number="1234567",
        mutuals_number="ip 031455",
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["postcode"] == "E3 5ES"
    assert form.cleaned_data["charity_number"] == "1164883"
    assert form.cleaned_data["scottish_charity_number"] == "SC012345"
    assert form.cleaned_data["ni_charity_number"] == "100019"
    assert form.cleaned_data["company_number"] == "01234567"
    assert form.cleaned_data["mutuals_number"] == "IP031455"


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("charity_number", "SC012345", ["Scottish charity number (GB-SC)", "give it as the Scottish charity number"]),
        ("charity_number", "12345678", ["GB-CHC", "6 or 7 digits"]),
        ("scottish_charity_number", "012345", ["GB-SC", "SC and 6 digits"]),
        ("scottish_charity_number", "1164883", ["charity number (GB-CHC)"]),
        ("ni_charity_number", "NIC10001", ["GB-NIC", "6 digits"]),
        ("company_number", "ABC", ["GB-COH", "8 digits"]),
        ("mutuals_number", "IP-0314", ["GB-MPR", "235C or IP031455"]),
        ("mutuals_number", "123\x00", ["GB-MPR", "control characters"]),
        ("company_number", "9" * 10_000, ["GB-COH"]),
    ],
)
def test_each_register_number_is_checked_in_its_own_lists_format(people, field, value, words):
    form = _organisation_form(people.vco, **{field: value})
    assert not form.is_valid()
    message = " ".join(form.errors[field])
    for expected in words:
        assert expected in message
    assert value not in message or len(value) < 30


def test_two_organisations_cannot_share_any_register_number(people):
    people.other_vco.scottish_charity_number = "SC012345"
    people.other_vco.mutuals_number = "235C"
    people.other_vco.save()
    form = _organisation_form(people.vco, scottish_charity_number="SC012345", mutuals_number="235c")
    assert not form.is_valid()
    assert (
        "Poplar Youth Football is already in the directory with Scottish charity number SC012345"
        in (form.errors["scottish_charity_number"][0])
    )
    assert "mutuals register number 235C" in form.errors["mutuals_number"][0]
    assert not form.non_field_errors()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("postcode", "E3 XXX", "not a valid UK postcode"),
        ("charity_number", "12", "not a valid charity number"),
        ("company_number", "ABC", "not a valid company number"),
        ("website", "not a web address", "Enter a valid URL"),
        ("year_founded", "1066", "greater than or equal to 1800"),
        ("year_founded", str(date.today().year + 1), "The year founded cannot be in the future"),
    ],
)
def test_bad_values_get_a_message_on_their_own_field(people, field, value, message):
    form = _organisation_form(people.vco, **{field: value})
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


def test_another_organisations_charity_number_is_refused_but_its_own_is_fine(people):
    people.other_vco.charity_number = "1234567"
    people.other_vco.save()
    form = _organisation_form(people.vco, charity_number="1234567")
    assert not form.is_valid()
    assert "Poplar Youth Football is already in the directory" in form.errors["charity_number"][0]
    # No second, vaguer message about a database constraint.
    assert not form.non_field_errors()
    assert _organisation_form(people.other_vco, charity_number="1234567").is_valid()


def test_a_closed_organisations_number_is_refused_without_naming_it(people):
    make_organisation(name="Secret Closed Charity", charity_number="7654321", is_active=False)
    form = _organisation_form(people.vco, charity_number="7654321")
    assert not form.is_valid()
    assert "Secret Closed Charity" not in form.errors["charity_number"][0]
    assert "Another organisation already has charity number 7654321" in form.errors["charity_number"][0]


def test_a_new_name_like_another_organisations_needs_the_tick(people):
    form = _organisation_form(people.vco, name="Poplar Youth Football CIC")
    assert not form.is_valid()
    assert form.similar_organisations == [people.other_vco]
    assert "different organisation" in form.errors["name"][0]
    ticked = _organisation_form(people.vco, name="Poplar Youth Football CIC", different_organisation="on")
    assert ticked.is_valid(), ticked.errors


def test_a_closed_organisation_is_never_offered_as_a_match(people):
    make_organisation(name="Hidden Allotment Society", is_active=False)
    form = _organisation_form(people.vco, name="Hidden Allotment Society Ltd")
    assert form.is_valid(), form.errors
    assert form.similar_organisations == []


def test_the_unchanged_name_is_not_checked(people):
    make_organisation(name="Bow Community Gardeners Group")
    assert _organisation_form(people.vco).is_valid()


def test_the_public_fields_are_saved_in_the_models_order_and_only_known_ones(people):
    form = _organisation_form(people.vco, public_fields=["phone", "email"])
    assert form.is_valid(), form.errors
    assert form.organisation_data()["public_fields"] == ["email", "phone"]
    assert not _organisation_form(people.vco, public_fields=["password"]).is_valid()


def test_a_providers_form_offers_infrastructure_functions_only_from_their_own_list(people):
    form = OrganisationForm(instance=people.provider)
    functions = form.fields["functions"].queryset
    assert functions.filter(code="training").exists()
    assert not functions.filter(code="support-and-development").exists()  # a group heading, not a function
    assert "functions" not in OrganisationForm(instance=people.vco).fields
    assert set(form.fields["ward"].queryset.values_list("taxonomy__code", flat=True)) == {"wards"}


def test_the_filter_form_keeps_good_filters_and_drops_bad_ones(people):
    form = OrganisationFilterForm({"q": "bow", "ward": "bow-east", "stage": "7", "kind": "vco"})
    filters = form.filters()
    assert filters == {"q": "bow", "ward": term("wards", "bow-east"), "kind": "vco"}
    assert "stage" in form.errors
    assert OrganisationFilterForm(None).filters() == {}


def test_the_membership_form_offers_only_the_organisations_given(people):
    form = MembershipApplicationForm(
        {"organisation": people.other_vco.pk}, organisations=Organisation.objects.filter(pk=people.vco.pk)
    )
    assert not form.is_valid()
    assert "organisation" in form.errors


def test_the_login_form_accepts_an_email_address(people, rf):
    request = rf.post("/accounts/login/")
    form = LoginForm(request, data={"username": "Editor@Example.org", "password": "correct horse battery staple"})
    assert form.is_valid(), form.errors
    assert form.get_user() == people.editor


def test_registration_form_offers_only_networks_that_take_applications(people):
    from tests.factories import make_network

    open_network = make_network(name="Open")
    make_network(name="Closed to applications", accepts_applications=False)
    assert list(RegistrationForm().fields["network"].queryset) == [open_network]


def test_the_admin_form_refuses_a_year_founded_in_the_future_too():
    # (The registration form does not ask for the year; the edit form is in the list above.)
    form = OrganisationAdminForm(data={"year_founded": str(date.today().year + 1)})
    assert not form.is_valid()
    assert "The year founded cannot be in the future" in form.errors["year_founded"][0]
    assert "year_founded" not in OrganisationAdminForm(data={"year_founded": str(date.today().year)}).errors
