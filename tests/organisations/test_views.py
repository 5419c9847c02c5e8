"""The directory's pages: home for each kind of user, organisation pages, the list, editing, history,
networks, applying to join, registration and "my organisations"."""

import io
import json
import re
from datetime import timedelta
from html import unescape

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import User
from organisations import services
from organisations.models import Affiliation, Membership, Organisation
from tests.factories import make_membership, make_network, make_organisation, term

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return unescape(response.content.decode())


def _edit_data(organisation, **changes) -> dict:
    """The edit form's fields as they stand, with some changed."""
    data = {
        "name": organisation.name,
        "legal_form": organisation.legal_form,
        "charity_number": organisation.charity_number,
        "company_number": organisation.company_number,
        "contact_name": organisation.contact_name,
        "email": organisation.email,
        "phone": organisation.phone,
        "address_line_1": organisation.address_line_1,
        "town": organisation.town,
        "postcode": organisation.postcode,
        "ward": organisation.ward_id or "",
        "geographic_level": organisation.geographic_level,
        "activities": organisation.activities,
        "about": organisation.about,
        "development_stage": organisation.development_stage or "",
        "public_fields": list(organisation.public_fields),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _png(width=600, height=300) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "navy").save(buffer, format="PNG")
    return SimpleUploadedFile("logo.png", buffer.getvalue(), content_type="image/png")


# Home --------------------------------------------------------------------------------------------------


def test_home_for_a_visitor_offers_browsing_registering_and_logging_in(client, people):
    text = _text(client.get(reverse("home")))
    assert reverse("organisations:organisation_list") in text
    assert reverse("organisations:network_list") in text
    assert reverse("organisations:register") in text
    assert reverse("login") in text
    assert "Network administration" not in text and "The sector in figures" not in text


def test_home_for_vco_staff_shows_their_organisations_and_next_steps(client_as, people):
    network = make_network(name="Main Network")
    text = _text(client_as(people.editor).get(reverse("home")))
    assert "Your organisations" in text
    assert "Bow Community Gardeners" in text
    assert reverse("organisations:organisation_edit", kwargs={"slug": people.vco.slug}) in text
    assert (
        "Join a member network" in text
        and reverse("organisations:network_detail", kwargs={"slug": network.slug}) in text
    )
    assert "Poplar Youth Football" not in text


def test_home_for_a_member_does_not_offer_editing(client_as, people):
    text = _text(client_as(people.member).get(reverse("home")))
    assert "Bow Community Gardeners" in text and "Your role: Member" in text
    assert reverse("organisations:organisation_edit", kwargs={"slug": people.vco.slug}) not in text


def test_home_for_an_officer_shows_their_provider_and_the_organisations_list(client_as, people):
    text = _text(client_as(people.officer).get(reverse("home")))
    assert "Your provider" in text
    assert "Tower Hamlets CVS" in text
    assert reverse("organisations:organisation_edit", kwargs={"slug": people.provider.slug}) in text
    assert reverse("organisations:organisation_list") + "?kind=vco" in text


def test_home_for_a_network_admin_shows_counts_and_links_into_the_admin(client_as, people):
    make_membership(organisation=people.vco, network=make_network(), status=Membership.Status.APPLIED)
    make_membership(organisation=people.other_vco, network=make_network(), status=Membership.Status.APPLIED)
    make_membership(organisation=people.provider, network=make_network(), status=Membership.Status.ACTIVE)
    people.vco.details_confirmed_on = timezone.localdate()
    people.vco.save()
    stale = Organisation.objects.active().stale().count()
    response = client_as(people.admin).get(reverse("home"))
    text = _text(response)
    assert response.context["pending_applications"] == 2
    assert response.context["stale_records"] == stale == 2  # other_vco and provider were never confirmed
    assert "membership applications waiting for approval" in text
    assert "organisation records not confirmed for over a year" in text
    assert reverse("admin:organisations_membership_changelist") + "?status__exact=applied" in text
    assert reverse("admin:organisations_organisation_changelist") + "?confirmed=stale&is_active__exact=1" in text


def test_the_admin_links_on_home_open_filtered_changelists(client_as, people):
    make_membership(organisation=people.vco, network=make_network(), status=Membership.Status.APPLIED)
    client = client_as(people.admin)
    response = client.get(client.get(reverse("home")).context["pending_applications_url"])
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    response = client.get(client.get(reverse("home")).context["stale_records_url"])
    assert response.status_code == 200
    assert response.context["cl"].result_count == Organisation.objects.active().stale().count()


def test_home_for_a_funder_shows_borough_totals_only_and_withholds_small_ones(client_as, people):
    for n in range(5):
        make_organisation(name=f"Bow Lunch Club {n}", ward=term("wards", "bow-east"))
    make_organisation(name="Closed Club", ward=term("wards", "bow-east"), is_active=False)
    response = client_as(people.funder).get(reverse("home"))
    text = _text(response)
    figures = response.context["figures"]
    assert "The sector in figures" in text
    assert figures == {"vcos": 7, "providers": 1}  # the closed club is not counted
    assert "lists 7 open voluntary" in text
    assert "and fewer than 5 infrastructure providers" in text
    # No breakdown that could single out a small group, and no organisation's name or contact details.
    assert "Bow East" not in text
    assert "Bow Community Gardeners" not in text and "hello@bowgardeners.org.uk" not in text
    assert reverse("evidence:dashboard") in text


# The organisation page -----------------------------------------------------------------------------------


def test_the_public_sees_only_the_optional_fields_the_organisation_ticked(client, people):
    text = _text(client.get(people.vco.get_absolute_url()))
    assert "hello@bowgardeners.org.uk" in text  # ticked
    assert "020 7946 0001" not in text  # not ticked
    assert "Asha Begum" not in text
    assert "12 Roman Road" not in text and "E3 5ES" not in text
    assert "Step-free entrance." not in text
    assert "Stage 2" not in text
    assert "Not public" not in text


def test_ticking_a_field_shows_it_to_the_public(client, people):
    people.vco.public_fields = ["phone", "address", "development_stage"]
    people.vco.save()
    text = _text(client.get(people.vco.get_absolute_url()))
    assert "020 7946 0001" in text and "12 Roman Road" in text and "E3 5ES" in text and "Stage 2" in text
    assert "hello@bowgardeners.org.uk" not in text


@pytest.mark.parametrize("who", ["member", "editor", "admin"])
def test_its_own_people_and_admins_see_everything_marked_not_public(client_as, people, who):
    text = _text(client_as(getattr(people, who)).get(people.vco.get_absolute_url()))
    assert (
        "020 7946 0001" in text and "Asha Begum" in text and "12 Roman Road" in text and "Step-free entrance." in text
    )
    assert "Not public" in text


@pytest.mark.parametrize("who", ["funder", "stranger", "other_editor"])
def test_funders_and_other_users_see_the_public_page_only(client_as, people, who):
    text = _text(client_as(getattr(people, who)).get(people.vco.get_absolute_url()))
    assert "020 7946 0001" not in text and "Asha Begum" not in text
    assert "Edit this page" not in text


def test_the_about_text_is_rendered_from_markdown_and_sanitised(client, people):
    people.vco.about = "## Our garden\n\nWe *grow* food.\n\n<script>alert('x')</script>\n\n[bad](javascript:alert(1)) <img src=x onerror=alert(2)>"
    people.vco.save()
    html = client.get(people.vco.get_absolute_url()).content.decode()
    about = html[html.index('class="about-text"') :]
    about = about[: about.index("</div>")]
    assert "<h3>Our garden</h3>" in about and "<em>grow</em>" in about
    assert "<script" not in about and "alert(" not in about and "onerror" not in about and "javascript:" not in about


def test_the_page_has_valid_schema_org_json_ld_that_cannot_break_out_of_its_script(client, people):
    people.vco.name = "Bow </script><script>alert(1)</script> & Friends"
    people.vco.activities = "Growing <b>food</b> & friendship"
    people.vco.website = "https://bowgardeners.org.uk"
    people.vco.save()
    make_membership(organisation=people.vco, network=make_network(name="Main Network"))
    html = client.get(people.vco.get_absolute_url()).content.decode()
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL)
    assert len(blocks) == 1
    assert "</script" not in blocks[0] and "<" not in blocks[0]
    data = json.loads(blocks[0])
    assert data["@context"] == "https://schema.org" and data["@type"] == "Organization"
    assert data["name"] == "Bow </script><script>alert(1)</script> & Friends"
    assert data["url"].endswith(people.vco.get_absolute_url())
    assert data["email"] == "hello@bowgardeners.org.uk"
    assert "telephone" not in data  # not public
    assert "streetAddress" not in data["address"]
    assert data["sameAs"] == ["https://bowgardeners.org.uk"]
    assert data["memberOf"] == [{"@type": "Organization", "name": "Main Network"}]


def test_the_page_shows_each_org_id_with_its_register_primary_first(client, people):
    people.vco.company_number = "09506232"
    people.vco.scottish_charity_number = "SC042386"
    people.vco.charity_number = "1164883"
    people.vco.save()
    html = client.get(people.vco.get_absolute_url()).content.decode()
    registered = html[html.index("Registered as") :]
    registered = registered[: registered.index("</dd>")]
    assert registered.index("GB-CHC-1164883") < registered.index("GB-SC-SC042386") < registered.index("GB-COH-09506232")
    # Each register is linked to the public search page its org-id list names; nothing else.
    links = re.findall(r'<a href="([^"]+)"', registered)
    assert links == [
        "https://register-of-charities.charitycommission.gov.uk/",
        "https://www.oscr.org.uk/about-charities/search-the-register/register-search",
        "https://www.gov.uk/get-information-about-a-company",
    ]
    assert "Scottish Charity Register" in registered and "Companies House" in registered
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL)
    assert [item["propertyID"] for item in json.loads(blocks[0])["identifier"]] == ["GB-CHC", "GB-SC", "GB-COH"]


def test_a_page_without_register_numbers_has_no_registered_as_row(client, people):
    assert "Registered as" not in client.get(people.vco.get_absolute_url()).content.decode()


def test_the_page_lists_active_network_memberships_and_the_empty_sections(client, people):
    make_membership(organisation=people.vco, network=make_network(name="Main Network"), status=Membership.Status.ACTIVE)
    make_membership(
        organisation=people.vco, network=make_network(name="Applied Network"), status=Membership.Status.APPLIED
    )
    make_membership(
        organisation=people.vco, network=make_network(name="Lapsed Network"), status=Membership.Status.LAPSED
    )
    text = _text(client.get(people.vco.get_absolute_url()))
    assert "Main Network" in text
    assert "Applied Network" not in text and "Lapsed Network" not in text
    for heading, empty in [
        ("Services", "No services listed yet."),
        ("Events", "No upcoming events."),
        ("Notices", "No notices on the board."),
    ]:
        assert f">{heading}</h2>" in text and empty in text


def test_an_unknown_organisation_is_404(client, people):
    assert (
        client.get(reverse("organisations:organisation_detail", kwargs={"slug": "no-such-organisation"})).status_code
        == 404
    )


# The organisations list ------------------------------------------------------------------------------------


def test_the_list_searches_by_name(client, people):
    response = client.get(reverse("organisations:organisation_list"), {"q": "gardeners"})
    names = [organisation.name for organisation in response.context["page"]]
    assert names == ["Bow Community Gardeners"]
    assert "1 organisation found" in _text(response)


def test_the_list_filters_by_kind_ward_and_stage(client, people):
    make_organisation(
        name="Bow Lunch Club", ward=term("wards", "bow-east"), development_stage=Organisation.Stage.EMERGING
    )
    url = reverse("organisations:organisation_list")

    def names(**params):
        return sorted(organisation.name for organisation in client.get(url, params).context["page"])

    assert names(kind="provider") == ["Tower Hamlets CVS"]
    assert "Tower Hamlets CVS" not in names(kind="vco")
    assert names(ward="bow-east") == ["Bow Community Gardeners", "Bow Lunch Club"]
    assert names(ward="bow-east", stage="1") == ["Bow Lunch Club"]
    assert names(kind="vco", q="bow", stage="2") == ["Bow Community Gardeners"]


def test_a_provider_with_two_provider_kinds_is_listed_once(client, people):
    people.provider.kinds.add(term("organisation-kinds", Organisation.KIND_SPECIALIST))
    response = client.get(reverse("organisations:organisation_list"), {"kind": "provider"})
    assert [organisation.name for organisation in response.context["page"]] == ["Tower Hamlets CVS"]
    assert response.context["page"].paginator.count == 1


def test_a_bad_filter_value_is_shown_as_an_error_and_ignored(client, people):
    response = client.get(reverse("organisations:organisation_list"), {"stage": "9", "ward": "atlantis"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 3
    assert "Select a valid choice" in _text(response)


def test_the_list_is_paginated_25_to_a_page_and_keeps_the_filters(client, people):
    for n in range(30):
        make_organisation(name=f"Stepney Club {n:02d}")
    url = reverse("organisations:organisation_list")
    first = client.get(url, {"q": "stepney"})
    assert len(first.context["page"]) == 25
    assert "30 organisations found, page 1 of 2" in _text(first)
    assert "?q=stepney&amp;page=2" in first.content.decode()
    second = client.get(url, {"q": "stepney", "page": 2})
    assert [organisation.name for organisation in second.context["page"]] == [
        f"Stepney Club {n:02d}" for n in range(25, 30)
    ]
    assert client.get(url, {"page": "nonsense"}).status_code == 200


def test_an_empty_result_suggests_what_to_try(client, people):
    response = client.get(reverse("organisations:organisation_list"), {"q": "zzzz", "kind": "vco"})
    text = _text(response)
    assert "0 organisations found" in text
    assert "No organisations match" in text
    assert "check the spelling" in text
    assert "remove the kind, ward and stage filters" in text and 'href="/organisations/?q=zzzz"' in text
    assert reverse("organisations:register") in text


# Editing ---------------------------------------------------------------------------------------------------


def test_an_editor_saves_changes_and_the_history_records_who(client_as, people):
    client = client_as(people.editor)
    response = client.post(
        reverse("organisations:organisation_edit", kwargs={"slug": people.vco.slug}),
        _edit_data(people.vco, phone="020 7946 0999", postcode="e3  5es", public_fields=["email", "phone"]),
    )
    assert response.status_code == 302 and response["Location"] == people.vco.get_absolute_url()
    people.vco.refresh_from_db()
    assert people.vco.phone == "020 7946 0999"
    assert people.vco.postcode == "E3 5ES"
    assert people.vco.public_fields == ["email", "phone"]
    assert people.vco.history.latest().history_user == people.editor


def test_the_edit_form_is_grouped_in_labelled_fieldsets(client_as, people):
    html = (
        client_as(people.editor)
        .get(reverse("organisations:organisation_edit", kwargs={"slug": people.vco.slug}))
        .content.decode()
    )
    for legend in ["Identity", "Contact", "Address", "About", "Who you serve", "Your public page"]:
        assert f"<legend>{legend}</legend>" in html or f">{legend}</legend>" in html
    for name in ["name", "charity_number", "postcode", "about"]:
        assert f'for="id_{name}"' in html
    assert 'name="functions"' not in html  # a VCO has no infrastructure functions to pick
    assert 'name="different_organisation"' not in html  # only after a near-duplicate warning


def test_a_duplicate_charity_number_is_a_clear_field_error(client_as, people):
    people.other_vco.charity_number = "1234567"
    people.other_vco.save()
    response = client_as(people.editor).post(
        reverse("organisations:organisation_edit", kwargs={"slug": people.vco.slug}),
        _edit_data(people.vco, charity_number="1234 567"),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert (
        "Poplar Youth Football is already in the directory with charity number 1234567" in errors["charity_number"][0]
    )
    assert "There is a problem" in _text(response)
    people.vco.refresh_from_db()
    assert people.vco.charity_number == ""


def test_a_duplicate_company_number_is_a_clear_field_error(client_as, people):
    people.other_vco.company_number = "01234567"
    people.other_vco.save()
    response = client_as(people.editor).post(
        reverse("organisations:organisation_edit", kwargs={"slug": people.vco.slug}),
        _edit_data(people.vco, company_number="1234567"),
    )
    assert "company number 01234567" in response.context["form"].errors["company_number"][0]


def test_renaming_to_a_near_duplicate_warns_links_the_match_and_needs_a_tick(client_as, people):
    client = client_as(people.editor)
    url = reverse("organisations:organisation_edit", kwargs={"slug": people.vco.slug})
    response = client.post(url, _edit_data(people.vco, name="Poplar Youth Football Ltd"))
    assert response.status_code == 200
    text = _text(response)
    assert "Is this organisation already in the directory?" in text
    assert f'href="{people.other_vco.get_absolute_url()}"' in text
    assert 'name="different_organisation"' in text
    people.vco.refresh_from_db()
    assert people.vco.name == "Bow Community Gardeners"

    response = client.post(url, _edit_data(people.vco, name="Poplar Youth Football Ltd", different_organisation="on"))
    assert response.status_code == 302
    people.vco.refresh_from_db()
    assert people.vco.name == "Poplar Youth Football Ltd"


def test_saving_without_renaming_is_not_blocked_by_a_similar_neighbour(client_as, people):
    make_organisation(name="Bow Community Gardeners Trust")
    response = client_as(people.editor).post(
        reverse("organisations:organisation_edit", kwargs={"slug": people.vco.slug}),
        _edit_data(people.vco, phone="020 7946 0002"),
    )
    assert response.status_code == 302


def test_invalid_input_names_the_field_and_saves_nothing(client_as, people):
    response = client_as(people.editor).post(
        reverse("organisations:organisation_edit", kwargs={"slug": people.vco.slug}),
        _edit_data(people.vco, postcode="NOT A CODE", charity_number="12", name="x" * 250),
    )
    errors = response.context["form"].errors
    assert "postcode" in errors and "charity_number" in errors and "name" in errors
    assert response.context["organisation"].name == "Bow Community Gardeners"
    people.vco.refresh_from_db()
    assert people.vco.postcode == "E3 5ES"


def test_a_logo_upload_is_checked_resized_and_shown(client_as, people, media_root, settings):
    settings.PORTAL_LOGO_MAX_PIXELS = 200
    client = client_as(people.editor)
    url = reverse("organisations:organisation_edit", kwargs={"slug": people.vco.slug})
    response = client.post(url, {**_edit_data(people.vco), "logo": _png(600, 300)})
    assert response.status_code == 302
    people.vco.refresh_from_db()
    with Image.open(people.vco.logo.path) as image:
        assert image.size == (200, 100)
    assert people.vco.logo.url in _text(client.get(people.vco.get_absolute_url()))
    # Public, but under a random name: a closed organisation's logo cannot be found from its slug.
    assert re.fullmatch(r"logos/[0-9a-f]{32}\.(png|jpg)", people.vco.logo.name)

    fake = SimpleUploadedFile("evil.png", b"<?php echo 'hi'; ?>", content_type="image/png")
    response = client.post(url, {**_edit_data(people.vco), "logo": fake})
    assert response.status_code == 200
    assert "PNG, JPEG, GIF or WebP" in response.context["form"].errors["logo"][0]


def test_an_oversized_logo_is_refused_with_a_message(client_as, people, media_root, settings):
    settings.PORTAL_LOGO_MAX_BYTES = 500
    response = client_as(people.editor).post(
        reverse("organisations:organisation_edit", kwargs={"slug": people.vco.slug}),
        {**_edit_data(people.vco), "logo": _png(600, 300)},
    )
    assert "too big" in response.context["form"].errors["logo"][0]
    people.vco.refresh_from_db()
    assert not people.vco.logo


def test_a_logo_can_be_replaced_and_removed_leaving_no_file_behind(
    client_as, people, media_root, django_capture_on_commit_callbacks
):
    client = client_as(people.editor)
    url = reverse("organisations:organisation_edit", kwargs={"slug": people.vco.slug})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {**_edit_data(people.vco), "logo": _png()})
    people.vco.refresh_from_db()
    first = people.vco.logo.name
    assert first and default_storage.exists(first)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {**_edit_data(people.vco), "logo": _png(300, 300)})
    people.vco.refresh_from_db()
    second = people.vco.logo.name
    assert second != first and default_storage.exists(second)
    assert not default_storage.exists(first)  # the replaced logo is gone from storage, not orphaned
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {**_edit_data(people.vco), "logo-clear": "on"})
    people.vco.refresh_from_db()
    assert not people.vco.logo
    assert not default_storage.exists(second)


# History and confirming details ------------------------------------------------------------------------


def test_the_history_shows_who_changed_what_with_labels_and_old_and_new_values(client_as, people):
    services.save_organisation(
        organisation=people.vco,
        data={
            "phone": "020 7946 0999",
            "ward": term("wards", "mile-end"),
            "communities_served": [term("communities", "older-people")],
        },
        by=people.editor,
    )
    text = _text(
        client_as(people.editor).get(reverse("organisations:organisation_history", kwargs={"slug": people.vco.slug}))
    )
    assert "Edna Editor" in text
    assert re.search(r"<th scope=\"row\">Phone</th>\s*<td[^>]*>020 7946 0001</td>\s*<td[^>]*>020 7946 0999</td>", text)
    assert re.search(r"Ward or neighbourhood</th>\s*<td[^>]*>Bow East</td>\s*<td[^>]*>Mile End</td>", text)
    assert re.search(r"Communities served</th>\s*<td[^>]*>\(empty\)</td>\s*<td[^>]*>Older people</td>", text)
    assert "Updated" not in text  # bookkeeping fields are left out


def test_the_history_groups_one_save_into_one_entry_and_is_newest_first(client_as, people):
    services.save_organisation(
        organisation=people.vco, data={"phone": "1", "segments": [term("segments", "bme-vcos")]}, by=people.editor
    )
    services.save_organisation(organisation=people.vco, data={"phone": "2"}, by=people.admin)
    response = client_as(people.admin).get(
        reverse("organisations:organisation_history", kwargs={"slug": people.vco.slug})
    )
    entries = list(response.context["page"])
    assert [entry.who for entry in entries[:2]] == [people.admin, people.editor]
    assert {change.label for change in entries[1].changes} == {"Phone", "Specialist segments"}
    assert [(change.old, change.new) for change in entries[0].changes] == [("1", "2")]


def test_confirming_details_records_the_date(client_as, people):
    client = client_as(people.editor)
    url = reverse("organisations:organisation_confirm", kwargs={"slug": people.vco.slug})
    text = _text(client.get(url))
    assert "Are the details of Bow Community Gardeners still correct?" in text and "020 7946 0001" in text
    response = client.post(url)
    assert response.status_code == 302
    people.vco.refresh_from_db()
    assert people.vco.details_confirmed_on == timezone.localdate()
    assert people.vco.history.latest().history_user == people.editor


# Networks and applying to join --------------------------------------------------------------------------


def test_the_network_list_and_page_show_active_members_only(client, people):
    network = make_network(name="Main Network", description="The borough's main VCS network.")
    make_membership(organisation=people.vco, network=network)
    make_membership(organisation=people.provider, network=network)
    make_membership(organisation=people.other_vco, network=network, status=Membership.Status.APPLIED)
    closed = make_organisation(name="Closed Club", is_active=False)
    make_membership(organisation=closed, network=network)
    assert "2 member organisations" in _text(client.get(reverse("organisations:network_list")))
    response = client.get(reverse("organisations:network_detail", kwargs={"slug": network.slug}))
    text = _text(response)
    assert "The borough's main VCS network." in text and "2 member organisations" in text
    assert [organisation.name for organisation in response.context["page"]] == [
        "Bow Community Gardeners",
        "Tower Hamlets CVS",
    ]
    assert "Poplar Youth Football" not in text and "Closed Club" not in text


def test_the_network_members_are_paginated(client, people):
    network = make_network()
    for n in range(27):
        make_membership(organisation=make_organisation(name=f"Member {n:02d}"), network=network)
    response = client.get(reverse("organisations:network_detail", kwargs={"slug": network.slug}), {"page": 2})
    assert [organisation.name for organisation in response.context["page"]] == ["Member 25", "Member 26"]


def test_an_editor_applies_to_join_and_admins_are_told(client_as, people):
    network = make_network(name="Main Network")
    client = client_as(people.editor)
    page = _text(client.get(reverse("organisations:network_detail", kwargs={"slug": network.slug})))
    assert reverse("organisations:network_apply", kwargs={"slug": network.slug}) in page
    response = client.post(
        reverse("organisations:network_apply", kwargs={"slug": network.slug}),
        {"organisation": people.vco.pk, "note": "We would like to join."},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(network=network, organisation=people.vco)
    assert membership.status == Membership.Status.APPLIED and membership.application_note == "We would like to join."
    assert people.vco.reminders.filter(kind="membership-application").exists()


def test_applying_twice_is_refused_with_a_clear_message(client_as, people):
    network = make_network(name="Main Network")
    client = client_as(people.editor)
    url = reverse("organisations:network_apply", kwargs={"slug": network.slug})
    client.post(url, {"organisation": people.vco.pk})
    response = client.post(url, {"organisation": people.vco.pk})
    assert response.status_code == 200
    assert (
        "Bow Community Gardeners is already applied in Main Network."
        in response.context["form"].errors["organisation"][0]
    )
    assert Membership.objects.filter(network=network, organisation=people.vco).count() == 1


def test_a_network_that_takes_no_applications_says_so(client_as, people):
    network = make_network(accepts_applications=False)
    response = client_as(people.editor).post(
        reverse("organisations:network_apply", kwargs={"slug": network.slug}), {"organisation": people.vco.pk}
    )
    assert response.status_code == 302
    assert not network.memberships.exists()


def test_someone_who_edits_no_organisation_is_told_how_to_apply(client_as, people):
    network = make_network()
    response = client_as(people.stranger).get(reverse("organisations:network_apply", kwargs={"slug": network.slug}))
    assert response.status_code == 403
    assert "you are not an editor of any open organisation" in _text(response)


# Registration ------------------------------------------------------------------------------------------


def _registration(**changes) -> dict:
    data = {
        "first_name": "Rahima",
        "last_name": "Khatun",
        "account_email": "rahima@example.org",
        "password1": "a long and unusual passphrase 42",
        "password2": "a long and unusual passphrase 42",
        "name": "Shadwell Sewing Circle",
        "legal_form": Organisation.LegalForm.UNINCORPORATED,
        "charity_number": "",
        "company_number": "",
        "activities": "A weekly sewing group for women.",
        "email": "sewing@example.org",
        "phone": "",
        "postcode": "e1 0aa",
        "ward": term("wards", "shadwell").pk,
        "public_fields": ["email"],
        "note": "",
    }
    data.update(changes)
    return data


def test_registering_creates_the_account_organisation_editor_link_and_application(client, people):
    network = make_network(name="Main Network")
    response = client.post(
        reverse("organisations:register"), _registration(network=network.pk, note="Please let us join.")
    )
    organisation = Organisation.objects.get(name="Shadwell Sewing Circle")
    assert response.status_code == 302 and response["Location"] == organisation.get_absolute_url()
    user = User.objects.get(email="rahima@example.org")
    assert (
        user.role == User.Role.VCO_STAFF
        and user.username == "rahima@example.org"
        and user.check_password("a long and unusual passphrase 42")
    )
    assert list(organisation.kinds.values_list("code", flat=True)) == [Organisation.KIND_VCO]
    assert organisation.postcode == "E1 0AA" and organisation.public_fields == ["email"]
    assert organisation.details_confirmed_on == timezone.localdate()
    assert Affiliation.objects.get(user=user, organisation=organisation).role == Affiliation.Role.EDITOR
    membership = Membership.objects.get(organisation=organisation, network=network)
    assert membership.status == Membership.Status.APPLIED and membership.application_note == "Please let us join."
    assert organisation.history.earliest().history_user == user
    # They are logged in and told what happens next.
    page = client.get(response["Location"])
    assert page.context["user"] == user
    assert "A network admin will approve its application to join Main Network" in _text(page)


def test_registration_saves_nothing_if_a_later_step_fails(client, people, monkeypatch):
    network = make_network()

    def broken(**kwargs):
        raise RuntimeError("the mail queue is on fire")

    monkeypatch.setattr(services, "apply_for_membership", broken)
    before = (User.objects.count(), Organisation.objects.count(), Affiliation.objects.count())
    with pytest.raises(RuntimeError):
        services.register_organisation(
            email="rahima@example.org",
            password="a long and unusual passphrase 42",
            first_name="Rahima",
            last_name="Khatun",
            organisation_data={"name": "Shadwell Sewing Circle", "activities": "Sewing."},
            network=network,
        )
    assert (User.objects.count(), Organisation.objects.count(), Affiliation.objects.count()) == before
    assert not User.objects.filter(email="rahima@example.org").exists()
    assert not Organisation.objects.filter(name="Shadwell Sewing Circle").exists()
    assert not Membership.objects.filter(network=network).exists()


def test_registration_with_a_charity_number_already_listed_is_refused(client, people):
    people.other_vco.charity_number = "1234567"
    people.other_vco.save()
    response = client.post(reverse("organisations:register"), _registration(charity_number="1234567"))
    assert response.status_code == 200
    assert (
        "is already in the directory with charity number 1234567"
        in response.context["form"].errors["charity_number"][0]
    )
    assert not User.objects.filter(email="rahima@example.org").exists()


def test_the_registration_service_refuses_a_duplicate_charity_number_itself(people):
    people.other_vco.charity_number = "1234567"
    people.other_vco.save()
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        services.register_organisation(
            email="rahima@example.org", password="x", first_name="R", last_name="K",
            organisation_data={"name": "Anything", "charity_number": "1234567"},
        )  # fmt: skip
    assert "charity_number" in error.value.message_dict
    assert not User.objects.filter(email="rahima@example.org").exists()


def test_registration_warns_about_a_near_duplicate_name_until_ticked(client, people):
    url = reverse("organisations:register")
    response = client.post(url, _registration(name="The Bow Community Gardeners"))
    assert response.status_code == 200
    text = _text(response)
    assert f'href="{people.vco.get_absolute_url()}"' in text
    assert not Organisation.objects.filter(name="The Bow Community Gardeners").exists()
    response = client.post(url, _registration(name="The Bow Community Gardeners", different_organisation="on"))
    assert response.status_code == 302
    assert Organisation.objects.filter(name="The Bow Community Gardeners").exists()


def test_registration_refuses_an_email_that_already_has_an_account(client, people):
    response = client.post(reverse("organisations:register"), _registration(account_email="EDITOR@example.org"))
    assert "already an account" in response.context["form"].errors["account_email"][0]
    assert not Organisation.objects.filter(name="Shadwell Sewing Circle").exists()


def test_registration_checks_the_password(client, people):
    response = client.post(reverse("organisations:register"), _registration(password1="password", password2="password"))
    assert "password1" in response.context["form"].errors
    response = client.post(reverse("organisations:register"), _registration(password2="something else entirely"))
    assert "The two passwords are different." in response.context["form"].errors["password2"]


# My organisations and layout --------------------------------------------------------------------------


def test_my_organisations_lists_each_with_my_role_and_edit_links_where_allowed(client_as, people):
    make_affiliation_to_other = Affiliation.objects.create(
        user=people.editor, organisation=people.other_vco, role=Affiliation.Role.MEMBER
    )
    assert make_affiliation_to_other.pk
    text = _text(client_as(people.editor).get(reverse("organisations:my_organisations")))
    assert "Bow Community Gardeners" in text and "Your role: Editor" in text
    assert "Poplar Youth Football" in text and "Your role: Member" in text
    assert reverse("organisations:organisation_edit", kwargs={"slug": people.vco.slug}) in text
    assert reverse("organisations:organisation_edit", kwargs={"slug": people.other_vco.slug}) not in text


def test_my_organisations_needs_a_login(client):
    assert client.get(reverse("organisations:my_organisations")).status_code == 302


def test_the_active_nav_item_has_aria_current_and_titles_say_where_you_are(client, people):
    html = client.get(reverse("organisations:organisation_list")).content.decode()
    assert re.search(r'aria-current="page" href="/organisations/">Organisations<', html)
    assert "<title>Organisations – THIN Community Portal</title>" in html
    html = client.get(people.vco.get_absolute_url()).content.decode()
    assert re.search(r'aria-current="true" href="/organisations/">Organisations<', html)
    assert "<title>Bow Community Gardeners – Organisations – THIN Community Portal</title>" in html
    html = client.get(reverse("organisations:network_list")).content.decode()
    assert re.search(r'aria-current="page" href="/networks/">Networks<', html)
    assert 'href="#main"' in html and '<main id="main"' in html


@pytest.mark.parametrize(
    "name",
    [
        "home",
        "organisations:organisation_list",
        "organisations:network_list",
        "organisations:register",
        "login",
        "password_reset",
    ],
)
def test_public_pages_render_for_every_kind_of_user(client, people, name):
    for who in [None, people.editor, people.member, people.officer, people.admin, people.funder, people.stranger]:
        if who is not None:
            client.force_login(who)
        response = client.get(reverse(name))
        assert response.status_code in (200, 302), (name, who)
        client.logout()


def test_stale_threshold_matches_the_settings(people, settings):
    people.vco.details_confirmed_on = timezone.localdate() - timedelta(
        days=settings.PORTAL_CONFIRM_DETAILS_AFTER_DAYS + 1
    )
    people.vco.save()
    assert people.vco in Organisation.objects.stale()


# Every error at once, and limits said plainly (issue 16, item 4) --------------------------------------------


def test_registration_refuses_a_future_year_founded_with_every_other_problem_at_once(client, people):
    next_year = timezone.localdate().year + 1
    response = client.post(
        reverse("organisations:register"),
        _registration(year_founded=str(next_year), activities="a" * 2001, postcode="E3 XXX", password2="different"),
    )
    text = _text(response)
    assert response.status_code == 200 and "There is a problem" in text
    for message in (
        "The year founded cannot be in the future",
        "Activities must be 2,000 characters or fewer",
        "not a valid UK postcode",
        "The two passwords are different.",
    ):
        assert message in text, message
    assert not Organisation.objects.filter(name="Shadwell Sewing Circle").exists()
    assert not User.objects.filter(email="rahima@example.org").exists()
    # This year is fine, and is kept.
    client.post(reverse("organisations:register"), _registration(year_founded=str(next_year - 1)))
    assert Organisation.objects.get(name="Shadwell Sewing Circle").year_founded == next_year - 1


def test_the_edit_form_counts_long_text_and_refuses_too_much_without_cutting_it(client_as, people):
    client = client_as(people.editor)
    url = reverse("organisations:organisation_edit", kwargs={"slug": people.vco.slug})
    page = client.get(url).content.decode()
    assert 'data-maxlength="2000"' in page and "You can enter up to 2,000 characters." in page
    assert not re.search(r"<textarea[^>]* maxlength=", page)
    assert 'aria-live="polite"' in page and "js/character-count.js" in page
    before = people.vco.activities
    response = client.post(
        url, _edit_data(people.vco, activities="b" * 2001, year_founded=str(timezone.localdate().year + 1))
    )
    text = _text(response)
    assert "Activities must be 2,000 characters or fewer" in text
    assert "The year founded cannot be in the future" in text
    people.vco.refresh_from_db()
    assert people.vco.activities == before
