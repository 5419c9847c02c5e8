"""The Django admin for network admins (issue 16, item 8): its front page says what waits for
moderation, each count a link to the list filtered to it; rejecting an event or hiding a notice asks
for a reason on a page of its own, keeps it on the record and shows it to the organisation."""

import re
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from calendar_events.models import Event, Notice
from calendar_events.services import save_notice
from organisations.models import Affiliation, Membership
from tests.factories import (
    make_affiliation,
    make_event,
    make_membership,
    make_network,
    make_organisation,
    make_provider,
    make_superuser,
    make_user,
)

pytestmark = pytest.mark.django_db


def _network_admin():
    """As the demo's admin: the network admin role, staff and superuser."""
    return make_superuser(username="netadmin", role=User.Role.NETWORK_ADMIN)


@pytest.fixture
def waiting():
    provider = make_provider(name="Tower Hamlets CVS")
    vco = make_organisation(name="Bow Gardeners")
    editor = make_user(username="editor")
    make_affiliation(user=editor, organisation=provider, role=Affiliation.Role.EDITOR)
    make_membership(organisation=vco, network=make_network(), status=Membership.Status.APPLIED)
    events = [make_event(organiser=provider, title=f"Event {n}") for n in (1, 2)]
    Event.objects.filter(pk__in=[event.pk for event in events]).update(moderation=Event.Moderation.PENDING)
    make_event(organiser=provider, title="Published")
    notice = save_notice(
        notice=Notice(organisation=provider),
        data={
            "title": "Volunteers wanted",
            "text": "Help.",
            "category": "volunteering",
            "expires_on": timezone.localdate() + timedelta(days=14),
        },
        attachment=None,
    )
    Notice.objects.filter(pk=notice.pk).update(status=Notice.Status.PENDING)  # a provider's is published at once
    return {"events": events, "notice": notice, "editor": editor, "provider": provider}


def _queues(html: str) -> dict[str, tuple[int, str]]:
    section = html.split('class="module moderation-queues"')[1].split("</section>")[0]
    return {
        label.strip(): (int(count), href.replace("&amp;", "&"))
        for href, count, label in re.findall(r'<a href="([^"]+)"><strong>(\d+)</strong>([^<]+)</a>', section)
    }


def test_the_admin_index_shows_what_waits_for_moderation(client, waiting):
    client.force_login(_network_admin())
    queues = _queues(client.get(reverse("admin:index")).content.decode())
    assert queues["events waiting for moderation"] == (2, "/admin/calendar_events/event/?moderation__exact=pending")
    assert queues["notice waiting for moderation"] == (1, "/admin/calendar_events/notice/?status__exact=pending")
    count, url = queues["membership application waiting for approval"]
    assert count == 1
    # Each link opens the list filtered to exactly what it counted.
    for label, (count, url) in queues.items():
        listing = client.get(url)
        assert listing.status_code == 200, label
        assert listing.context["cl"].result_count == count, label


def test_rejecting_an_event_asks_for_a_reason_and_the_organisation_sees_it(client, waiting):
    client.force_login(_network_admin())
    url = reverse("admin:calendar_events_event_changelist")
    chosen = {"action": "reject", ACTION_CHECKBOX_NAME: [event.pk for event in waiting["events"]]}
    page = client.post(url, chosen)
    assert page.status_code == 200 and "Reject with a reason" in page.content.decode()
    assert Event.objects.filter(moderation=Event.Moderation.PENDING).count() == 2  # nothing done yet
    page = client.post(url, {**chosen, "apply": "Reject with a reason", "reason": ""})
    assert page.status_code == 200 and "Give the organisation a reason." in page.content.decode()
    reason = "Please add the venue's step-free access details."
    done = client.post(url, {**chosen, "apply": "Reject with a reason", "reason": reason})
    assert done.status_code == 302
    for event in waiting["events"]:
        event.refresh_from_db()
        assert event.moderation == Event.Moderation.REJECTED and event.moderation_note == reason
    # The organisation's people see the reason on the event's page and in their list of events.
    client.force_login(waiting["editor"])
    assert reason.replace("'", "&#x27;") in client.get(waiting["events"][0].get_absolute_url()).content.decode()
    assert reason.replace("'", "&#x27;") in client.get(reverse("calendar_events:my_events")).content.decode()


def test_hiding_a_notice_asks_for_a_reason(client, waiting):
    client.force_login(_network_admin())
    url = reverse("admin:calendar_events_notice_changelist")
    chosen = {"action": "hide", ACTION_CHECKBOX_NAME: [waiting["notice"].pk]}
    assert "Hide with a reason" in client.post(url, chosen).content.decode()
    response = client.post(url, {**chosen, "apply": "Hide with a reason", "reason": "Out of date."})
    assert response.status_code == 302
    waiting["notice"].refresh_from_db()
    assert waiting["notice"].status == Notice.Status.HIDDEN and waiting["notice"].moderation_note == "Out of date."
    client.force_login(waiting["editor"])
    assert "Out of date." in client.get(waiting["notice"].get_absolute_url()).content.decode()


def test_only_network_admins_see_the_queues(client, waiting):
    staff = make_user(username="helper", is_staff=True)
    client.force_login(staff)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200 and "moderation-queues" not in response.content.decode()
