"""calendar_events.services: saving events (moderation, bad input, changes), bookings, waiting list, reminders."""

import threading
from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from calendar_events import services
from calendar_events.models import Booking, Event
from calendar_events.recurrence import LONDON
from notifications.models import Reminder
from notifications.services import send_due_reminders
from organisations.models import Affiliation
from tests.factories import make_affiliation, make_event, make_location, make_organisation, make_provider, make_user

pytestmark = pytest.mark.django_db


def _data(**overrides):
    return {
        "title": "Trustee training",
        "description": "Learn *governance*.",
        "category": "training",
        "online_url": "https://meet.example.org/x",
        **overrides,
    }


def test_provider_event_published_directly_and_vco_event_waits_for_moderation():
    provider, vco = make_provider(), make_organisation()
    start = datetime(2027, 5, 4, 10, 0)
    published = services.save_event(
        event=Event(organiser=provider), data=_data(), local_start=start, local_end=start + timedelta(hours=2)
    )
    waiting = services.save_event(
        event=Event(organiser=vco), data=_data(), local_start=start, local_end=start + timedelta(hours=2)
    )
    assert published.moderation == Event.Moderation.APPROVED
    assert waiting.moderation == Event.Moderation.PENDING
    assert not Event.objects.published().filter(pk=waiting.pk).exists()
    services.moderate_event(event=waiting, approve=True, by=make_user())
    assert Event.objects.published().filter(pk=waiting.pk).exists()


@pytest.mark.parametrize(
    "data, local_start, local_end, field",
    [
        ({}, datetime(2027, 5, 4, 10), datetime(2027, 5, 4, 9), "end"),
        ({"frequency": "weekly"}, datetime(2027, 5, 4, 10), datetime(2027, 5, 4, 11), "repeat_count"),
        ({}, datetime(2027, 3, 28, 1, 30), datetime(2027, 3, 28, 3, 0), "start"),
        (
            {"description": "Hello <script>alert(1)</script>"},
            datetime(2027, 5, 4, 10),
            datetime(2027, 5, 4, 11),
            "description",
        ),
        (
            {"description": '<img src=x onerror="alert(1)">'},
            datetime(2027, 5, 4, 10),
            datetime(2027, 5, 4, 11),
            "description",
        ),
        ({"online_url": ""}, datetime(2027, 5, 4, 10), datetime(2027, 5, 4, 11), "venue"),
        ({"is_free": False, "cost": None}, datetime(2027, 5, 4, 10), datetime(2027, 5, 4, 11), "cost"),
    ],
)
def test_bad_event_input_is_refused_and_nothing_saved(data, local_start, local_end, field):
    with pytest.raises(ValidationError) as error:
        services.save_event(
            event=Event(organiser=make_provider()), data=_data(**data), local_start=local_start, local_end=local_end
        )
    assert field in error.value.message_dict
    assert Event.objects.count() == 0


def test_venue_must_belong_to_the_organiser():
    provider = make_provider()
    with pytest.raises(ValidationError) as error:
        services.save_event(
            event=Event(organiser=provider),
            data=_data(venue=make_location()),
            local_start=datetime(2027, 5, 4, 10),
            local_end=datetime(2027, 5, 4, 11),
        )
    assert "venue" in error.value.message_dict


def test_change_bumps_sequence_moves_bookings_and_tells_people(mailoutbox):
    event = make_event(booking_required=True, capacity=5)
    user = make_user()
    booking = services.book(event=event, occurrence_start=event.start, user=user)
    new_start = event.start + timedelta(days=1)
    services.save_event(
        event=Event.objects.get(pk=event.pk), data={"start": new_start, "end": new_start + timedelta(hours=2)}
    )
    event.refresh_from_db()
    booking.refresh_from_db()
    assert event.sequence == 1
    assert booking.occurrence_start == new_start
    reminder = Reminder.objects.get(kind="calendar-change")
    assert reminder.recipients == [user.email]
    send_due_reminders()
    assert "new time or place" in mail.outbox[-1].subject


def test_cancelling_an_event_tells_everyone_booked_once():
    event = make_event(booking_required=True)
    users = [make_user() for _ in range(3)]
    for user in users:
        services.book(event=event, occurrence_start=event.start, user=user)
    services.set_event_status(event=Event.objects.get(pk=event.pk), status=Event.Status.CANCELLED)
    services.notify_booked(event=Event.objects.get(pk=event.pk), change="cancelled")  # again: no duplicates
    assert sorted(r.recipients[0] for r in Reminder.objects.filter(kind="calendar-change")) == sorted(
        u.email for u in users
    )
    assert Event.objects.get(pk=event.pk).sequence == 1


# Booking ------------------------------------------------------------------------------------------


def test_booking_refusals_have_clear_messages():
    user = make_user()
    past = make_event(booking_required=True, start=timezone.now().replace(microsecond=0) - timedelta(days=2))
    with pytest.raises(ValidationError, match="already started or is over"):
        services.book(event=past, occurrence_start=past.start, user=user)
    cancelled = make_event(booking_required=True, status=Event.Status.CANCELLED)
    with pytest.raises(ValidationError, match="cancelled"):
        services.book(event=cancelled, occurrence_start=cancelled.start, user=user)
    event = make_event(booking_required=True, capacity=1)
    with pytest.raises(ValidationError, match="not one of this event's dates"):
        services.book(event=event, occurrence_start=event.start + timedelta(minutes=5), user=user)
    services.book(event=event, occurrence_start=event.start, user=user)
    with pytest.raises(ValidationError, match="already booked"):
        services.book(event=event, occurrence_start=event.start, user=user)
    with pytest.raises(ValidationError, match="full"):
        services.book(event=event, occurrence_start=event.start, user=make_user())
    no_booking = make_event(booking_required=False)
    with pytest.raises(ValidationError, match="does not need booking"):
        services.book(event=no_booking, occurrence_start=no_booking.start, user=user)
    assert Booking.objects.count() == 1


def test_waiting_list_promotes_the_next_person_and_tells_them(mailoutbox):
    event = make_event(booking_required=True, capacity=1)
    first, second, third = make_user(), make_user(), make_user()
    booked = services.book(event=event, occurrence_start=event.start, user=first)
    waiting_2 = services.book(event=event, occurrence_start=event.start, user=second, join_waiting_list=True)
    waiting_3 = services.book(event=event, occurrence_start=event.start, user=third, join_waiting_list=True)
    assert (booked.status, waiting_2.status, waiting_3.status) == ("booked", "waiting", "waiting")
    services.cancel_booking(booking=booked)
    waiting_2.refresh_from_db()
    waiting_3.refresh_from_db()
    assert waiting_2.status == Booking.Status.BOOKED and waiting_2.promoted_at is not None
    assert waiting_3.status == Booking.Status.WAITING
    reminder = Reminder.objects.get(kind="calendar-promoted")
    assert reminder.recipients == [second.email]
    send_due_reminders()
    assert mail.outbox[-1].to == [second.email] and "place has come up" in mail.outbox[-1].subject
    with pytest.raises(ValidationError, match="already cancelled"):
        services.cancel_booking(booking=booked)


def test_recurring_event_capacity_is_per_date():
    start = (timezone.now() + timedelta(days=3)).astimezone(LONDON).replace(hour=10, minute=0, second=0, microsecond=0)
    event = make_event(booking_required=True, capacity=1, start=start, frequency="weekly", repeat_count=3)
    dates = [o.start for o in __import__("calendar_events.recurrence", fromlist=["x"]).occurrences(event)]
    services.book(event=event, occurrence_start=dates[0], user=make_user())
    assert services.book(event=event, occurrence_start=dates[1], user=make_user()).status == "booked"


def test_mark_attendance_and_counts_for_evidence():
    from calendar_events import selectors

    event = make_event(booking_required=True)
    bookings = [services.book(event=event, occurrence_start=event.start, user=make_user()) for _ in range(3)]
    came = services.mark_attendance(
        event=event, occurrence_start=event.start, attended_ids={bookings[0].pk, bookings[2].pk}
    )
    assert came == 2
    counts = selectors.attendance_counts(organisation_ids=[event.organiser_id])
    assert counts[event.organiser_id] == {
        "booked": 3,
        "attended": 2,
        "sessions": 1,
        "events": 1,
        "categories": {"training": {"sessions": 1, "attended": 2}},
    }
    assert selectors.attendance_total()["attended"] == 2


def test_attendance_by_organiser_and_category_for_evidence():
    """Dates held count each event's date once (two events at the same time are two dates), and the
    categories add up to the organiser's figures."""
    from calendar_events import recurrence, selectors

    organiser = make_provider()
    start = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    course = make_event(organiser=organiser, booking_required=True, start=start, frequency="weekly", repeat_count=3)
    dates = [o.start for o in recurrence.occurrences(course)]
    forum = make_event(organiser=organiser, booking_required=True, start=start, category="forum")
    for occurrence_start in dates[:2]:
        for _n in range(2):
            services.book(event=course, occurrence_start=occurrence_start, user=make_user())
    booked = services.book(event=forum, occurrence_start=start, user=make_user())
    services.mark_attendance(event=forum, occurrence_start=start, attended_ids={booked.pk})
    cancelled = services.book(event=forum, occurrence_start=start, user=make_user())
    services.cancel_booking(booking=cancelled, by=cancelled.user)
    elsewhere = make_event(booking_required=True, start=start)
    services.book(event=elsewhere, occurrence_start=start, user=make_user())

    counts = selectors.attendance_counts(
        organisation_ids=[organiser.pk], since=start, until=dates[1] + timedelta(hours=1)
    )
    assert counts == {
        organiser.pk: {
            "booked": 5,
            "attended": 1,
            "sessions": 3,
            "events": 2,
            "categories": {"training": {"sessions": 2, "attended": 0}, "forum": {"sessions": 1, "attended": 1}},
        }
    }
    by_category = selectors.attendance_by_category(counts)
    assert by_category[0] == ("Training", 2, 0) and ("Forum or meeting", 1, 1) in by_category
    assert len(by_category) == 7 and sum(held for _label, held, _came in by_category) == 3
    # Nothing is booked from the third week on: no figures, not an organiser with zeros.
    assert selectors.attendance_counts(organisation_ids=[organiser.pk], since=dates[1] + timedelta(hours=1)) == {}
    # No organisations (a ward with none): nothing, not an error.
    assert selectors.attendance_counts(organisation_ids=[]) == {}


# Reminders ----------------------------------------------------------------------------------------


def test_day_before_reminders_planned_once_and_sent(mailoutbox):
    start = (timezone.now() + timedelta(hours=30)).replace(microsecond=0)
    event = make_event(booking_required=True, start=start)
    user = make_user()
    services.book(event=event, occurrence_start=event.start, user=user)
    later = make_event(booking_required=True, start=start + timedelta(days=5))
    services.book(event=later, occurrence_start=later.start, user=user)
    assert services.plan_event_reminders() == 1
    assert services.plan_event_reminders() == 0
    reminder = Reminder.objects.get(kind="calendar-reminder")
    assert reminder.due_at == event.start - timedelta(days=1)
    assert send_due_reminders() == 0  # not due yet
    assert send_due_reminders(now=event.start - timedelta(hours=23)) == 1
    assert mail.outbox[-1].subject.startswith("Tomorrow:")
    assert send_due_reminders(now=event.start - timedelta(hours=22)) == 0


def test_cancelled_booking_gets_no_reminder():
    start = (timezone.now() + timedelta(hours=30)).replace(microsecond=0)
    event = make_event(booking_required=True, start=start)
    booking = services.book(event=event, occurrence_start=event.start, user=make_user())
    services.plan_event_reminders()
    services.cancel_booking(booking=booking)
    assert Reminder.objects.get(kind="calendar-reminder").status == Reminder.Status.CANCELLED


# The race -----------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_never_exceed_capacity():
    """Eight people book the last three places at the same moment, each in their own transaction and
    connection; the event row lock lets exactly three through and the rest are told it is full."""
    event = make_event(booking_required=True, capacity=3)
    users = [make_user() for _ in range(8)]
    barrier = threading.Barrier(len(users))
    results, errors = [], []

    def attempt(user):
        try:
            barrier.wait(timeout=10)
            results.append(services.book(event=event, occurrence_start=event.start, user=user).status)
        except ValidationError as error:
            errors.append(" ".join(error.messages))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results.count("booked") == 3
    assert len(errors) == 5 and all("full" in message for message in errors)
    assert Booking.objects.filter(event=event, status="booked").count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_double_booking_by_one_person_books_once():
    event = make_event(booking_required=True, capacity=10)
    user = make_user()
    barrier = threading.Barrier(4)
    outcomes = []

    def attempt():
        try:
            barrier.wait(timeout=10)
            services.book(event=event, occurrence_start=event.start, user=user)
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes.count("ok") == 1 and outcomes.count("refused") == 3
    assert Booking.objects.filter(event=event).count() == 1


def test_create_location_for_organisation():
    provider = make_provider()
    officer = make_user()
    make_affiliation(user=officer, organisation=provider, role=Affiliation.Role.OFFICER)
    location = services.create_location(
        organisation=provider,
        data={"name": "Oxford House", "address_line_1": "Derbyshire Street", "postcode": "E2 6HG"},
        by=officer,
    )
    assert location.organisation == provider
    with pytest.raises(ValidationError):
        services.create_location(
            organisation=provider, data={"name": "No address", "address_line_1": "", "postcode": "nonsense"}
        )


def test_more_places_promote_the_waiting_list():
    event = make_event(booking_required=True, capacity=1)
    services.book(event=event, occurrence_start=event.start, user=make_user())
    waiting = services.book(event=event, occurrence_start=event.start, user=make_user(), join_waiting_list=True)
    services.save_event(event=Event.objects.get(pk=event.pk), data={"capacity": 2})
    waiting.refresh_from_db()
    assert waiting.status == Booking.Status.BOOKED
    assert Reminder.objects.filter(kind="calendar-promoted", recipients=[waiting.user.email]).exists()
