"""The admin's moderation in Chromium: the front page's "Waiting for you" panel and the reason asked
for when rejecting an event. Screenshots in test-artifacts/screenshots/admin-*.png."""

import pytest

from calendar_events.models import Event
from tests.factories import make_event, make_provider
from tests.test_admin_moderation import _network_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_network_admin_rejects_an_event_with_a_reason(page, live_server, screenshot):
    event = make_event(organiser=make_provider(name="Tower Hamlets CVS"), title="Sewing circle")
    Event.objects.filter(pk=event.pk).update(moderation=Event.Moderation.PENDING)
    _network_admin()
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("netadmin")
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Log in").click()
    panel = page.locator(".moderation-queues")
    assert panel.get_by_role("link", name="1 event waiting for moderation").is_visible()
    screenshot("admin-index")
    panel.get_by_role("link", name="1 event waiting for moderation").click()
    page.get_by_role("checkbox", name="Select this object for an action - Sewing circle").check()
    page.locator("select[name=action]").select_option("reject")
    page.locator("button[name=index]").click()  # the admin's "Go"
    assert page.get_by_text("This applies to 1 event:").is_visible()
    page.get_by_label("Reason").fill("Please add the venue's step-free access details.")
    screenshot("admin-reject-with-reason")
    page.get_by_role("button", name="Reject with a reason").click()
    page.get_by_text("1 event rejected.").wait_for()  # the changelist, after the redirect
    event.refresh_from_db()
    assert event.moderation == Event.Moderation.REJECTED
    assert event.moderation_note == "Please add the venue's step-free access details."
