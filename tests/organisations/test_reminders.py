"""The directory's reminders: who hears, renewal reminders, lapsing and details confirmation, planned
from the records by the reminder sweep, and their emails."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from notifications import tasks
from notifications.models import Reminder
from organisations import services as organisation_services
from organisations.models import Affiliation, Membership
from tests.factories import (
    make_affiliation,
    make_membership,
    make_network,
    make_network_admin,
    make_organisation,
    make_user,
)

pytestmark = pytest.mark.django_db


def sweep() -> dict:
    """Run the periodic task as a worker would (in this process)."""
    return tasks.sweep_reminders.apply().get()


def today():
    return timezone.localdate()


def age_organisation(organisation, days: int) -> None:
    """Pretend the record was created `days` ago (created_at is set automatically on insert)."""
    type(organisation).objects.filter(pk=organisation.pk).update(created_at=timezone.now() - timedelta(days=days))


# Recipients -------------------------------------------------------------------------------------------


def _membership_due_soon(organisation):
    return make_membership(organisation=organisation, renewal_due=today() + timedelta(days=10))


def test_renewal_reminders_go_to_editors_and_officers_not_members_or_former_staff(mailoutbox):
    organisation = make_organisation(email="office@example.org")

    def link(email, role=Affiliation.Role.EDITOR, **user_fields):
        make_affiliation(user=make_user(email=email, **user_fields), organisation=organisation, role=role)

    link("editor@example.org")
    link("officer@example.org", Affiliation.Role.OFFICER)
    link("member@example.org", Affiliation.Role.MEMBER)
    link("gone@example.org", is_active=False)
    _membership_due_soon(organisation)

    sweep()

    assert len(mailoutbox) == 1
    assert sorted(mailoutbox[0].to) == ["editor@example.org", "officer@example.org"]


def test_without_editors_the_organisations_own_address_is_used(mailoutbox):
    organisation = make_organisation(email="office@example.org")
    _membership_due_soon(organisation)

    sweep()

    assert [message.to for message in mailoutbox] == [["office@example.org"]]


def test_with_nobody_to_tell_the_reminder_is_cancelled_with_the_reason(mailoutbox):
    organisation = make_organisation(email="")
    _membership_due_soon(organisation)

    sweep()

    reminder = organisation.reminders.get()
    assert reminder.status == Reminder.Status.CANCELLED
    assert "no email and no editors" in reminder.last_error
    assert mailoutbox == []


# Renewal reminders -------------------------------------------------------------------------------------


def test_renewal_reminders_are_planned_for_memberships_due_within_the_window(settings):
    settings.PORTAL_RENEWAL_REMINDER_DAYS = 30
    day = today()
    network = make_network()

    def membership(**fields):
        return make_membership(organisation=make_organisation(email="office@example.org"), network=network, **fields)

    at_the_edge = membership(renewal_due=day + timedelta(days=30))
    overdue_but_not_lapsed = membership(renewal_due=day - timedelta(days=10))
    membership(renewal_due=day + timedelta(days=31))
    membership(renewal_due=None)
    membership(renewal_due=day, status=Membership.Status.APPLIED)
    membership(renewal_due=day, status=Membership.Status.LEFT)
    closed = membership(renewal_due=day)
    closed.organisation.is_active = False
    closed.organisation.save()

    assert organisation_services.plan_renewal_reminders(today=day) == 2

    planned = Reminder.objects.filter(kind="membership-renewal")
    assert {reminder.about_id for reminder in planned} == {
        at_the_edge.organisation_id,
        overdue_but_not_lapsed.organisation_id,
    }
    reminder = at_the_edge.organisation.reminders.get(pk__in=planned)
    assert reminder.context["renewal_due"] == (day + timedelta(days=30)).isoformat()
    assert reminder.template == "emails/membership_renewal"
    assert reminder.recipients == ["office@example.org"]


def test_planning_twice_creates_one_reminder_and_sends_one_email(mailoutbox):
    membership = _membership_due_soon(make_organisation(email="office@example.org"))

    assert organisation_services.plan_renewal_reminders(today=today()) == 1
    assert organisation_services.plan_renewal_reminders(today=today()) == 0
    first, second = sweep(), sweep()

    assert membership.organisation.reminders.count() == 1
    assert (first["sent"], second["sent"]) == (1, 0)
    assert len(mailoutbox) == 1


def test_a_renewed_membership_is_reminded_again_for_its_next_renewal_date():
    membership = _membership_due_soon(make_organisation(email="office@example.org"))
    organisation_services.plan_renewal_reminders(today=today())

    organisation_services.renew_membership(membership=membership, by=make_network_admin())
    membership.refresh_from_db()
    later = membership.renewal_due - timedelta(days=5)

    assert organisation_services.plan_renewal_reminders(today=later) == 1
    assert membership.organisation.reminders.filter(kind="membership-renewal").count() == 2


# Lapsing --------------------------------------------------------------------------------------------------


def test_memberships_more_than_30_days_overdue_lapse_with_history(mailoutbox):
    day = today()
    overdue = make_membership(renewal_due=day - timedelta(days=31))
    within_grace = make_membership(renewal_due=day - timedelta(days=30))
    already_left = make_membership(renewal_due=day - timedelta(days=90), status=Membership.Status.LEFT)

    counts = sweep()

    assert counts["lapsed"] == 1
    overdue.refresh_from_db()
    within_grace.refresh_from_db()
    already_left.refresh_from_db()
    assert overdue.status == Membership.Status.LAPSED
    assert within_grace.status == Membership.Status.ACTIVE
    assert already_left.status == Membership.Status.LEFT
    latest = overdue.history.first()
    assert latest.status == Membership.Status.LAPSED and "lapsed" in latest.history_change_reason.lower()
    assert overdue.history.count() == 2, "the change is added to the history, the earlier record kept"
    # A lapsed membership is not sent a renewal reminder.
    assert not overdue.organisation.reminders.exists()


def test_lapsing_again_changes_nothing():
    make_membership(renewal_due=today() - timedelta(days=60))
    assert organisation_services.lapse_overdue_memberships(today=today()) == 1
    assert organisation_services.lapse_overdue_memberships(today=today()) == 0


# Details confirmation ----------------------------------------------------------------------------------


def test_organisations_confirmed_over_a_year_ago_are_asked_to_confirm_again(settings):
    settings.PORTAL_CONFIRM_DETAILS_AFTER_DAYS = 365
    day = today()
    stale = make_organisation(email="a@example.org", details_confirmed_on=day - timedelta(days=366))
    make_organisation(email="b@example.org", details_confirmed_on=day - timedelta(days=365))
    closed = make_organisation(email="c@example.org", details_confirmed_on=day - timedelta(days=800), is_active=False)

    assert organisation_services.plan_details_confirmation_requests(today=day) == 1
    assert organisation_services.plan_details_confirmation_requests(today=day) == 0

    reminder = Reminder.objects.get(kind="confirm-details")
    assert reminder.about == stale
    assert reminder.context["confirm_url"] == f"/organisations/{stale.slug}/confirm/"
    assert not closed.reminders.exists()


def test_a_record_never_confirmed_counts_from_its_creation(settings):
    settings.PORTAL_CONFIRM_DETAILS_AFTER_DAYS = 365
    new = make_organisation(email="new@example.org")
    age_organisation(new, 2)
    old = make_organisation(email="old@example.org")
    age_organisation(old, 400)

    assert organisation_services.plan_details_confirmation_requests(today=today()) == 1
    assert Reminder.objects.get(kind="confirm-details").about == old


def test_once_confirmed_the_next_request_comes_a_year_later(settings):
    settings.PORTAL_CONFIRM_DETAILS_AFTER_DAYS = 365
    day = today()
    organisation = make_organisation(email="a@example.org", details_confirmed_on=day - timedelta(days=400))
    organisation_services.plan_details_confirmation_requests(today=day)

    organisation_services.confirm_details(organisation=organisation, by=make_user(), today=day)
    assert organisation_services.plan_details_confirmation_requests(today=day + timedelta(days=300)) == 0
    assert organisation_services.plan_details_confirmation_requests(today=day + timedelta(days=366)) == 1
    assert organisation.reminders.filter(kind="confirm-details").count() == 2


def test_a_sweep_over_records_already_planned_costs_the_same_few_queries(django_assert_max_num_queries):
    """Planning is set-based: what is already planned is looked up in bulk, not row by row."""

    network = make_network()

    def stale_organisations(count):
        for _ in range(count):
            confirmed = today() - timedelta(days=400)
            organisation = make_organisation(email="office@example.org", details_confirmed_on=confirmed)
            make_membership(organisation=organisation, network=network, renewal_due=today() + timedelta(days=3))

    stale_organisations(5)
    sweep()
    with django_assert_max_num_queries(12):
        sweep()
    stale_organisations(60)
    sweep()
    with django_assert_max_num_queries(12):
        assert sweep() == {"lapsed": 0, "renewal_reminders": 0, "confirmation_requests": 0, "sent": 0}


# The emails ----------------------------------------------------------------------------------------------


def _html(message) -> str:
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return content


def test_the_details_email_has_text_and_html_parts_with_an_absolute_link(mailoutbox):
    organisation = make_organisation(name="Bow & Poplar Elders", email="office@example.org")
    age_organisation(organisation, 400)

    sweep()

    [message] = mailoutbox
    link = f"{settings.SITE_URL}/organisations/{organisation.slug}/confirm/"
    assert message.subject == "Are the details of Bow & Poplar Elders still correct?"
    assert link in message.body
    assert "Bow & Poplar Elders" in message.body, "the plain text part is not HTML-escaped"
    html = _html(message)
    assert f'href="{link}"' in html
    assert "Bow &amp; Poplar Elders" in html
    assert '<html lang="en-GB">' in html


def test_the_renewal_email_has_text_and_html_parts_with_the_date_and_an_absolute_link(mailoutbox):
    organisation = make_organisation(email="office@example.org")
    network = make_network(name="Tower Hamlets BME Network")
    make_membership(organisation=organisation, network=network, renewal_due=today() + timedelta(days=14))

    sweep()

    [message] = mailoutbox
    due = (today() + timedelta(days=14)).strftime("%-d %B %Y")
    link = f"{settings.SITE_URL}/organisations/{organisation.slug}/"
    assert message.subject == "Your Tower Hamlets BME Network membership is due for renewal"
    assert due in message.body and link in message.body
    html = _html(message)
    assert due in html and f'href="{link}"' in html


def test_the_application_email_tells_network_admins_with_a_link_to_review_it(mailoutbox):
    make_network_admin(email="coordinator@example.org")
    organisation = make_organisation()
    editor = make_user()
    make_affiliation(user=editor, organisation=organisation)
    membership = organisation_services.apply_for_membership(
        organisation=organisation, network=make_network(name="Main Network"), note="We run a food bank.", by=editor
    )

    sweep()

    [message] = mailoutbox
    assert message.to == ["coordinator@example.org"]
    link = f"{settings.SITE_URL}/admin/organisations/membership/{membership.pk}/change/"
    assert link in message.body and "We run a food bank." in message.body
    assert f'href="{link}"' in _html(message)
