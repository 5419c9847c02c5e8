"""Every object-level rule (accounts.permissions, with the rules organisations and the directory register), asked directly and through the pages that use it."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.permissions import can, require
from tests.factories import make_network, make_superuser

pytestmark = pytest.mark.django_db


def _url(name, organisation):
    return reverse(f"organisations:{name}", kwargs={"slug": organisation.slug})


def _close(organisation):
    organisation.is_active = False
    organisation.save(update_fields=["is_active"])


# The rules, asked directly ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "action", "allowed"),
    [
        ("editor", "organisations.change_organisation", True),
        ("member", "organisations.change_organisation", False),
        ("other_editor", "organisations.change_organisation", False),
        ("stranger", "organisations.change_organisation", False),
        ("funder", "organisations.change_organisation", False),
        ("officer", "organisations.change_organisation", False),
        ("admin", "organisations.change_organisation", True),
        ("editor", "organisations.view_private_details", True),
        ("member", "organisations.view_private_details", True),
        ("stranger", "organisations.view_private_details", False),
        ("funder", "organisations.view_private_details", False),
        ("admin", "organisations.view_private_details", True),
        ("editor", "organisations.view_history", True),
        ("member", "organisations.view_history", False),
        ("funder", "organisations.view_history", False),
        ("admin", "organisations.view_history", True),
        ("editor", "organisations.apply_for_membership", True),
        ("member", "organisations.apply_for_membership", False),
        ("other_editor", "organisations.apply_for_membership", False),
        ("admin", "organisations.apply_for_membership", True),
        ("editor", "accounts.manage_portal", False),
        ("funder", "accounts.manage_portal", False),
        ("admin", "accounts.manage_portal", True),
    ],
)
def test_rules_for_each_kind_of_user(people, who, action, allowed):
    assert can(getattr(people, who), action, people.vco) is allowed


def test_an_officer_may_change_their_own_provider(people):
    assert can(people.officer, "organisations.change_organisation", people.provider)
    assert can(people.officer, "organisations.view_history", people.provider)


def test_a_superuser_passes_every_rule(people):
    assert can(make_superuser(), "organisations.change_organisation", people.vco)


def test_anonymous_visitors_pass_only_public_rules(people):
    from django.contrib.auth.models import AnonymousUser

    visitor = AnonymousUser()
    assert can(visitor, "organisations.view_organisation", people.vco)
    assert not can(visitor, "organisations.view_private_details", people.vco)
    assert not can(visitor, "organisations.change_organisation", people.vco)
    assert not can(visitor, "directory.no_such_rule", people.vco)


def test_a_closed_organisation_is_visible_only_to_its_own_people_and_admins(people):
    from django.contrib.auth.models import AnonymousUser

    _close(people.vco)
    assert not can(AnonymousUser(), "organisations.view_organisation", people.vco)
    assert not can(people.stranger, "organisations.view_organisation", people.vco)
    assert not can(people.funder, "organisations.view_organisation", people.vco)
    assert can(people.member, "organisations.view_organisation", people.vco)
    assert can(people.editor, "organisations.view_organisation", people.vco)
    assert can(people.admin, "organisations.view_organisation", people.vco)


def test_require_raises_permission_denied_and_unknown_actions_are_refused(people):
    with pytest.raises(PermissionDenied):
        require(people.member, "organisations.change_organisation", people.vco)
    require(people.editor, "organisations.change_organisation", people.vco)
    with pytest.raises(KeyError):
        can(people.editor, "directory.no_such_rule", people.vco)


def test_a_deactivated_account_loses_its_rights(people):
    people.editor.is_active = False
    people.editor.save()
    assert not can(people.editor, "organisations.change_organisation", people.vco)


# The same rules, through the pages ------------------------------------------------------------------


def test_a_vco_editor_trying_to_edit_another_vco_gets_403(people, client_as):
    client = client_as(people.other_editor)
    assert client.get(_url("organisation_edit", people.vco)).status_code == 403
    response = client.post(_url("organisation_edit", people.vco), {"name": "Taken over"})
    assert response.status_code == 403
    people.vco.refresh_from_db()
    assert people.vco.name == "Bow Community Gardeners"


@pytest.mark.parametrize("who", ["member", "funder", "stranger", "officer"])
def test_people_who_may_not_edit_get_403_on_every_editing_page(people, client_as, who):
    client = client_as(getattr(people, who))
    assert client.get(_url("organisation_edit", people.vco)).status_code == 403
    assert client.get(_url("organisation_confirm", people.vco)).status_code == 403
    assert client.post(_url("organisation_confirm", people.vco)).status_code == 403
    people.vco.refresh_from_db()
    assert people.vco.details_confirmed_on is None


def test_the_history_is_for_editors_and_admins(people, client_as):
    assert client_as(people.member).get(_url("organisation_history", people.vco)).status_code == 403
    assert client_as(people.editor).get(_url("organisation_history", people.vco)).status_code == 200
    assert client_as(people.admin).get(_url("organisation_history", people.vco)).status_code == 200


@pytest.mark.parametrize("name", ["organisation_edit", "organisation_history", "organisation_confirm"])
def test_anonymous_visitors_are_sent_to_log_in(people, client, name):
    url = _url(name, people.vco)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_editors_and_admins_reach_the_edit_page(people, client_as):
    assert client_as(people.editor).get(_url("organisation_edit", people.vco)).status_code == 200
    assert client_as(people.admin).get(_url("organisation_edit", people.vco)).status_code == 200
    assert client_as(people.officer).get(_url("organisation_edit", people.provider)).status_code == 200


def test_a_closed_organisations_page_is_404_for_the_public_but_visible_to_its_editor(people, client, client_as):
    _close(people.vco)
    url = people.vco.get_absolute_url()
    assert client.get(url).status_code == 404
    assert client_as(people.stranger).get(url).status_code == 404
    # Its existence is private, so even the edit page says "not found" rather than "forbidden".
    assert client_as(people.stranger).get(_url("organisation_edit", people.vco)).status_code == 404
    response = client_as(people.editor).get(url)
    assert response.status_code == 200
    assert "marked as closed" in response.content.decode()


def test_a_closed_organisation_is_not_listed(people, client):
    _close(people.vco)
    response = client.get(reverse("organisations:organisation_list"), {"q": "Gardeners"})
    assert "Bow Community Gardeners" not in response.content.decode()


def test_a_member_cannot_apply_for_their_organisation(people, client_as):
    network = make_network()
    response = client_as(people.member).post(
        reverse("organisations:network_apply", kwargs={"slug": network.slug}), {"organisation": people.vco.pk}
    )
    assert response.status_code == 403
    assert not network.memberships.exists()


def test_an_editor_cannot_apply_on_behalf_of_another_organisation(people, client_as):
    network = make_network()
    response = client_as(people.editor).post(
        reverse("organisations:network_apply", kwargs={"slug": network.slug}), {"organisation": people.other_vco.pk}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not network.memberships.exists()
