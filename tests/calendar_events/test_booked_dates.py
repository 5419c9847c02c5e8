"""BookedDate, the bookings grouped by event date that the evidence figures read: kept by triggers
(migration 0005), it must equal grouping the bookings live after every kind of write."""

from collections import defaultdict
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from calendar_events import selectors, services
from calendar_events.models import BookedDate, Booking
from calendar_events.recurrence import LONDON, occurrences
from tests.factories import make_event, make_provider, make_user

pytestmark = pytest.mark.django_db


def _live() -> dict:
    """(event id, occurrence start): (places booked, attended), from every booking."""
    grouped = defaultdict(lambda: [0, 0])
    for event_id, start, status, attended in Booking.objects.values_list("event_id", "occurrence_start", "status", "attended"):
        if status == Booking.Status.BOOKED:
            grouped[(event_id, start)][0] += 1
            grouped[(event_id, start)][1] += attended is True
    return {key: tuple(figures) for key, figures in grouped.items()}


def _kept() -> dict:
    return {(event_id, start): (booked, attended) for event_id, start, booked, attended in BookedDate.objects.values_list("event_id", "occurrence_start", "booked", "attended")}


def _counts_live(*, organisation_ids=None, since=None, until=None) -> dict:
    """attendance_counts worked out from every booking, as it was before BookedDate."""
    counts, events = {}, defaultdict(set)
    for (event_id, start), (booked, attended) in _live().items():
        event = Booking.objects.filter(event_id=event_id).select_related("event").first().event
        if (organisation_ids is not None and event.organiser_id not in organisation_ids) or (since and start < since) or (until and start >= until):
            continue
        row = counts.setdefault(event.organiser_id, {"booked": 0, "attended": 0, "sessions": 0, "events": 0, "categories": {}})
        row["booked"] += booked
        row["attended"] += attended
        row["sessions"] += 1
        events[event.organiser_id].add(event_id)
        category = row["categories"].setdefault(event.category, {"sessions": 0, "attended": 0})
        category["sessions"] += 1
        category["attended"] += attended
    for organiser_id, event_ids in events.items():
        counts[organiser_id]["events"] = len(event_ids)
    return counts


def _same(**window) -> None:
    assert _kept() == _live()
    assert selectors.attendance_counts(**window) == _counts_live(**window)


def test_booked_dates_equal_the_bookings_after_every_kind_of_write():
    organiser = make_provider()
    # Weekly across the end of British Summer Time (31 October 2027): local times stay, moments move.
    start = datetime(2027, 10, 20, 23, 30, tzinfo=LONDON)
    course = make_event(organiser=organiser, booking_required=True, capacity=2, start=start, frequency="weekly", repeat_count=4)
    dates = [o.start for o in occurrences(course)]
    forum = make_event(booking_required=True, start=start, category="forum")
    _same()
    first = services.book(event=course, occurrence_start=dates[0], user=make_user())  # insert
    second = services.book(event=course, occurrence_start=dates[0], user=make_user())
    waiting = services.book(event=course, occurrence_start=dates[0], user=make_user(), join_waiting_list=True)  # on the waiting list
    assert waiting.status == Booking.Status.WAITING
    services.book(event=forum, occurrence_start=start, user=make_user())
    _same()
    services.mark_attendance(event=course, occurrence_start=dates[0], attended_ids={first.pk, second.pk})  # bulk update
    _same()
    services.cancel_booking(booking=first, by=first.user)  # a place cancelled, the waiting list promoted
    assert Booking.objects.get(pk=waiting.pk).status == Booking.Status.BOOKED
    _same()
    Booking.objects.filter(pk=second.pk).update(occurrence_start=dates[2])  # moved to another date
    _same()
    Booking.objects.filter(pk=second.pk).update(event=forum, occurrence_start=start)  # moved to another event
    _same()
    Booking.objects.bulk_create(
        [Booking(event=course, occurrence_start=day, user=make_user(), attended=n % 2 == 0) for n, day in enumerate(dates * 2)]
    )
    _same()
    Booking.objects.filter(occurrence_start=dates[1]).update(status=Booking.Status.CANCELLED)  # every place of a date
    assert not BookedDate.objects.filter(occurrence_start=dates[1]).exists()  # no place booked, no row
    _same()
    with connection.cursor() as cursor:  # behind the ORM's back
        cursor.execute("UPDATE calendar_events_booking SET attended = %s WHERE occurrence_start = %s", [True, dates[3]])
    _same()
    Booking.objects.filter(occurrence_start=dates[3]).first().user.delete()  # a person's erasure cascades
    _same()
    Booking.objects.filter(occurrence_start=dates[2]).delete()
    _same(organisation_ids=[organiser.pk], since=dates[0], until=dates[3])
    forum.delete()  # an event's deletion takes its bookings and its dates
    _same()
    assert not BookedDate.objects.filter(event_id=forum.pk).exists()
    _same(since=dates[3], until=dates[3] + timedelta(hours=1))
    assert _kept()  # some dates are still counted


def test_attendance_counts_read_every_date_in_the_period_and_no_other():
    """The period's first and last moments: a date at the first is in, one at the end is not."""
    organiser = make_provider()
    start = timezone.make_aware(datetime(2027, 3, 21, 23, 0))  # British Summer Time begins on the 28th
    event = make_event(organiser=organiser, booking_required=True, start=start, frequency="weekly", repeat_count=3)
    dates = [o.start for o in occurrences(event)]
    for day in dates:
        services.book(event=event, occurrence_start=day, user=make_user())
    for since, until in ((dates[0], dates[2]), (dates[1], dates[2] + timedelta(seconds=1)), (dates[2], None), (None, dates[0])):
        _same(since=since, until=until)
    assert selectors.attendance_counts(since=dates[0], until=dates[2])[organiser.pk]["sessions"] == 2
