"""Moderation tells the author: a VCO's event or notice that a moderator publishes, rejects or hides
brings its author an email (with the reason), once per decision; changing it afterwards sends it back
to the moderators."""

from datetime import datetime, timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from calendar_events import services
from calendar_events.models import Event, Notice
from notifications.models import Reminder
from notifications.services import send_due_reminders
from organisations.models import Affiliation
from tests.factories import (
    make_affiliation,
    make_network_admin,
    make_organisation,
    make_provider,
    make_superuser,
    make_user,
)

pytestmark = pytest.mark.django_db

REASON = "Please add the venue's step-free access details."


def _author(organisation, **overrides):
    author = make_user(**overrides)
    make_affiliation(user=author, organisation=organisation, role=Affiliation.Role.EDITOR)
    return author


def _vco_event(author, organisation, title="Sewing circle"):
    start = datetime(2027, 5, 4, 10, 0)
    data = {"title": title, "description": "Bring fabric.", "category": "social", "online_url": "https://meet.example.org/x"}
    return services.save_event(
        event=Event(organiser=organisation), data=data, by=author, local_start=start, local_end=start + timedelta(hours=2)
    )


def _vco_notice(author, organisation):
    data = {
        "title": "Volunteers wanted",
        "text": "Help at our fun day.",
        "category": "volunteering",
        "expires_on": timezone.localdate() + timedelta(days=14),
    }
    return services.save_notice(notice=Notice(organisation=organisation), data=data, by=author)


def _sent():
    send_due_reminders()
    return list(mail.outbox)


def test_a_rejected_event_tells_its_author_why_and_a_change_sends_it_back():
    vco = make_organisation(name="Bow Gardeners")
    author = _author(vco, email="grower@example.org")
    event = _vco_event(author, vco)
    assert event.moderation == Event.Moderation.PENDING
    moderator = make_network_admin()

    services.moderate_event(event=event, approve=False, by=moderator, note=REASON)
    services.moderate_event(event=event, approve=False, by=moderator, note=REASON)  # the same decision again
    [email] = _sent()
    assert email.to == ["grower@example.org"] and email.subject == "Not published: Sewing circle"
    assert REASON in email.body and event.get_absolute_url() in email.body
    assert "change it and save it again" in email.body
    html = email.alternatives[0][0]
    assert "Not published: Sewing circle" in html and "step-free access" in html

    # The author changes it: it waits for a moderator again, with the old reason gone.
    event.refresh_from_db()
    event = services.save_event(event=event, data={"title": "Sewing circle (step-free)"}, by=author)
    assert event.moderation == Event.Moderation.PENDING and event.moderation_note == ""

    services.moderate_event(event=event, approve=True, by=moderator)
    published = _sent()[-1]
    assert len(mail.outbox) == 2
    assert published.subject == "Published: Sewing circle (step-free)"
    assert "now on the community calendar" in published.body and REASON not in published.body
    assert Event.objects.published().filter(pk=event.pk).exists()


def test_a_rejected_event_changed_by_a_moderator_stays_rejected():
    vco = make_organisation()
    event = _vco_event(_author(vco), vco)
    moderator = make_network_admin()
    services.moderate_event(event=event, approve=False, by=moderator, note=REASON)
    event.refresh_from_db()
    event = services.save_event(event=event, data={"title": "Tidied by the office"}, by=moderator)
    assert event.moderation == Event.Moderation.REJECTED and event.moderation_note == REASON


def test_nobody_is_emailed_without_an_address_or_about_their_own_decision():
    vco = make_organisation()
    no_address = _vco_event(_author(vco, email=""), vco, title="No address")
    moderator = make_network_admin()
    own = _vco_event(moderator, vco, title="Own")  # a network admin's event is published at once...
    services.moderate_event(event=no_address, approve=True, by=moderator)
    services.moderate_event(event=own, approve=False, by=moderator, note="Withdrawn by me.")  # ...and unpublished by them
    assert not Reminder.objects.filter(kind="calendar-moderated").exists()
    assert _sent() == []


def test_a_hidden_notice_tells_its_poster_and_a_change_sends_it_back():
    vco = make_organisation(name="Bow Gardeners")
    author = _author(vco, email="poster@example.org")
    notice = _vco_notice(author, vco)
    assert notice.status == Notice.Status.PENDING
    moderator = make_network_admin()
    services.moderate_notice(notice=notice, publish=True, by=moderator)
    services.moderate_notice(notice=notice, publish=False, by=moderator, note="Out of date.")
    published, hidden = _sent()
    assert published.subject == "Published: Volunteers wanted" and "now on the notice board" in published.body
    assert hidden.subject == "Not published: Volunteers wanted" and "Out of date." in hidden.body
    assert "taken your notice" in hidden.body

    notice.refresh_from_db()
    notice = services.save_notice(notice=notice, data={"text": "Help at our fun day in June."}, by=author)
    assert notice.status == Notice.Status.PENDING and notice.moderation_note == ""


def test_a_providers_hidden_notice_changed_by_it_stays_hidden():
    provider = make_provider()
    author = _author(provider)
    notice = _vco_notice(author, provider)
    assert notice.status == Notice.Status.PUBLISHED
    services.moderate_notice(notice=notice, publish=False, by=make_network_admin(), note="Reported as spam.")
    notice.refresh_from_db()
    notice = services.save_notice(notice=notice, data={"text": "Still here."}, by=author)
    assert notice.status == Notice.Status.HIDDEN


def test_the_admins_reject_action_emails_each_author_the_reason(client):
    vco = make_organisation()
    authors = [_author(vco, email=f"author{n}@example.org") for n in (1, 2)]
    events = [_vco_event(author, vco, title=f"Event {n}") for n, author in enumerate(authors, 1)]
    client.force_login(make_superuser(role=User.Role.NETWORK_ADMIN))  # as the demo's admin
    url = reverse("admin:calendar_events_event_changelist")
    chosen = {"action": "reject", ACTION_CHECKBOX_NAME: [event.pk for event in events]}
    assert client.post(url, {**chosen, "apply": "Reject with a reason", "reason": REASON}).status_code == 302
    sent = _sent()
    assert sorted(email.to[0] for email in sent) == ["author1@example.org", "author2@example.org"]
    assert all(REASON in email.body for email in sent)
