"""calendar_events.tasks: the one sweep does the app's due work, idempotently."""

from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_events import services, tasks
from calendar_events.models import CalendarFeed, Notice
from notifications.models import Reminder
from tests.factories import make_event, make_provider, make_user

pytestmark = pytest.mark.django_db


def test_sweep_calendar_plans_archives_and_queues(monkeypatch):
    start = (timezone.now() + timedelta(hours=20)).replace(microsecond=0)
    event = make_event(booking_required=True, start=start)
    services.book(event=event, occurrence_start=event.start, user=make_user())
    provider = make_provider()
    Notice.objects.create(
        title="Old",
        text="x",
        organisation=provider,
        status=Notice.Status.PUBLISHED,
        expires_on=timezone.localdate() - timedelta(days=1),
    )
    feed = CalendarFeed.objects.create(organisation=provider, url="https://partner.example.org/cal.ics")
    queued = []
    monkeypatch.setattr(tasks.import_feed, "apply_async", lambda args, **kwargs: queued.append(args[0]))
    counts = tasks.sweep_calendar()
    assert counts["event_reminders"] == 1 and counts["notices_archived"] == 1 and counts["feeds_queued"] == 1
    assert queued == [feed.pk]
    again = tasks.sweep_calendar()
    assert again["event_reminders"] == 0 and again["notices_archived"] == 0
    assert Reminder.objects.filter(kind="calendar-reminder").count() == 1


def test_import_feed_task_records_failure_for_its_feed_only():
    feed = CalendarFeed.objects.create(organisation=make_provider(), url="https://localhost.invalid/none.ics")
    assert tasks.import_feed(feed.pk) is False
    feed.refresh_from_db()
    assert feed.status == CalendarFeed.Status.ERROR and feed.last_error
