"""The reminder sweep: planning from the records, sending once, surviving mail and broker failures."""

import smtplib
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.db import DEFAULT_DB_ALIAS, DatabaseError, OperationalError, connection, connections, transaction
from django.utils import timezone

from directory import services, tasks
from directory.models import Affiliation, Membership, Reminder
from tests.celery_worker import broker_at
from tests.factories import (
    make_affiliation,
    make_membership,
    make_network,
    make_network_admin,
    make_organisation,
    make_reminder,
    make_user,
)

pytestmark = pytest.mark.django_db

# Nothing listens on port 1: connecting is refused at once, as when Redis is down.
DEAD_BROKER = "redis://127.0.0.1:1/0"


class FailingEmailBackend(BaseEmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def sweep() -> dict:
    """Run the periodic task as a worker would (in this process)."""
    return tasks.sweep_reminders.apply().get()


def today():
    return timezone.localdate()


def age_organisation(organisation, days: int) -> None:
    """Pretend the record was created `days` ago (created_at is set automatically on insert)."""
    type(organisation).objects.filter(pk=organisation.pk).update(created_at=timezone.now() - timedelta(days=days))


# Sending what is due --------------------------------------------------------------------------------


def test_sweep_sends_due_reminders_and_leaves_future_ones(mailoutbox):
    due = make_reminder(recipients=["due@example.org"], due_at=timezone.now() - timedelta(minutes=1))
    later = make_reminder(recipients=["later@example.org"], due_at=timezone.now() + timedelta(days=1))

    assert sweep()["sent"] == 1

    assert [message.to for message in mailoutbox] == [["due@example.org"]]
    due.refresh_from_db()
    later.refresh_from_db()
    assert due.status == Reminder.Status.SENT and due.sent_at is not None and due.attempts == 1
    assert later.status == Reminder.Status.PENDING and later.attempts == 0


def test_a_sent_reminder_is_not_sent_again(mailoutbox):
    reminder = make_reminder()
    sweep()
    reminder.refresh_from_db()
    first_sent_at = reminder.sent_at

    assert sweep()["sent"] == 0
    assert services.send_reminder(reminder_id=reminder.pk) is False

    assert len(mailoutbox) == 1
    reminder.refresh_from_db()
    assert reminder.sent_at == first_sent_at and reminder.attempts == 1


def test_the_send_task_run_twice_sends_once(mailoutbox):
    reminder = make_reminder()
    assert tasks.send_reminder.apply(args=[reminder.pk]).get() is True
    assert tasks.send_reminder.apply(args=[reminder.pk]).get() is False
    assert len(mailoutbox) == 1


def test_cancelled_and_failed_reminders_are_left_alone(mailoutbox):
    make_reminder(status=Reminder.Status.CANCELLED)
    make_reminder(status=Reminder.Status.FAILED)
    assert sweep()["sent"] == 0
    assert mailoutbox == []


# Mail server failures ----------------------------------------------------------------------------------


def test_a_mail_server_failure_keeps_the_reminder_pending_and_the_next_sweep_retries(settings, mailoutbox):
    reminder = make_reminder(recipients=["editor@example.org"])
    settings.EMAIL_BACKEND = f"{__name__}.FailingEmailBackend"

    assert sweep()["sent"] == 0

    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.PENDING
    assert reminder.attempts == 1
    assert "SMTPServerDisconnected" in reminder.last_error

    assert reminder.claimed_at is None, "not left claimed: the very next sweep may retry it"

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert sweep()["sent"] == 1
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT and reminder.attempts == 2 and reminder.last_error == ""
    assert len(mailoutbox) == 1


def test_after_the_maximum_attempts_a_reminder_is_given_up_as_failed(settings, mailoutbox):
    reminder = make_reminder()
    settings.EMAIL_BACKEND = f"{__name__}.FailingEmailBackend"

    for _ in range(settings.PORTAL_REMINDER_MAX_ATTEMPTS):
        sweep()
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.FAILED
    assert reminder.attempts == settings.PORTAL_REMINDER_MAX_ATTEMPTS

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sweep()
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.FAILED and reminder.attempts == settings.PORTAL_REMINDER_MAX_ATTEMPTS
    assert mailoutbox == []


# Sending outside any transaction ------------------------------------------------------------------------


class LockProbeEmailBackend(BaseEmailBackend):
    """Records, at the moment the mail server would be talked to, whether this connection is inside a
    transaction and what another connection sees of the reminders, asking for their row locks without
    waiting."""

    seen: list = []

    def send_messages(self, email_messages):
        other = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT subject, status FROM directory_reminder FOR UPDATE NOWAIT")
                rows = dict(cursor.fetchall())
        except OperationalError as error:
            rows = f"locked: {error}"
        finally:
            other.close()
        type(self).seen.append({"in_transaction": connection.in_atomic_block, "other_connection_sees": rows})
        return len(email_messages)


@pytest.mark.postgres  # row locks
@pytest.mark.django_db(transaction=True)  # real commits, as in a worker
def test_the_email_is_sent_with_no_transaction_open_and_no_row_locked(settings, monkeypatch):
    settings.EMAIL_BACKEND = f"{__name__}.LockProbeEmailBackend"
    monkeypatch.setattr(LockProbeEmailBackend, "seen", [])
    make_reminder(subject="Renew your membership")

    assert sweep()["sent"] == 1

    # The claim was committed before the send, so another worker sees it, and nothing waits on a lock
    # for as long as SMTP takes.
    assert LockProbeEmailBackend.seen == [
        {"in_transaction": False, "other_connection_sees": {"Renew your membership": Reminder.Status.SENDING}}
    ]
    reminder = Reminder.objects.get()
    assert reminder.status == Reminder.Status.SENT and reminder.claimed_at is None and reminder.attempts == 1


def test_sending_refuses_to_run_inside_a_transaction(mailoutbox):
    reminder = make_reminder()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.send_reminder(reminder_id=reminder.pk)
    assert mailoutbox == []


def _fail_marking_sent(execute, sql, params, many, context):
    if sql.startswith("UPDATE") and "directory_reminder" in sql and Reminder.Status.SENT in (params or ()):
        raise DatabaseError("the database went away")
    return execute(sql, params, many, context)


def test_if_marking_sent_fails_the_reminder_is_not_sent_again_until_its_claim_times_out(settings, mailoutbox, caplog):
    reminder = make_reminder(recipients=["editor@example.org"])

    with connection.execute_wrapper(_fail_marking_sent):
        assert services.send_reminder(reminder_id=reminder.pk) is True
    assert "could not be marked sent" in caplog.text
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENDING and len(mailoutbox) == 1

    # The next sweeps leave it alone: the email went out.
    assert sweep()["sent"] == 0
    assert len(mailoutbox) == 1

    # A claim that old means its worker died mid-send: sent again, as documented (twice rather than never).
    later = timezone.now() + timedelta(seconds=settings.PORTAL_REMINDER_CLAIM_TIMEOUT + 1)
    assert services.send_due_reminders(now=later) == 1
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT and reminder.attempts == 2
    assert len(mailoutbox) == 2


def test_a_stale_claim_is_sent_by_the_sweep_and_a_fresh_one_left_to_its_worker(settings, mailoutbox):
    now = timezone.now()
    timeout = timedelta(seconds=settings.PORTAL_REMINDER_CLAIM_TIMEOUT)
    fresh = make_reminder(
        recipients=["fresh@example.org"], status=Reminder.Status.SENDING, claimed_at=now - timedelta(minutes=1), attempts=1
    )
    stale = make_reminder(
        recipients=["stale@example.org"], status=Reminder.Status.SENDING, claimed_at=now - timeout - timedelta(minutes=1), attempts=1
    )

    assert sweep()["sent"] == 1

    assert [message.to for message in mailoutbox] == [["stale@example.org"]]
    fresh.refresh_from_db()
    stale.refresh_from_db()
    assert fresh.status == Reminder.Status.SENDING
    assert stale.status == Reminder.Status.SENT and stale.attempts == 2 and stale.claimed_at is None


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

    reminder = Reminder.objects.get(organisation=organisation)
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

    assert services.plan_renewal_reminders(today=day) == 2

    planned = Reminder.objects.filter(kind="membership-renewal")
    assert {reminder.organisation_id for reminder in planned} == {
        at_the_edge.organisation_id,
        overdue_but_not_lapsed.organisation_id,
    }
    reminder = planned.get(organisation=at_the_edge.organisation)
    assert reminder.context["renewal_due"] == (day + timedelta(days=30)).isoformat()
    assert reminder.template == "emails/membership_renewal"
    assert reminder.recipients == ["office@example.org"]


def test_planning_twice_creates_one_reminder_and_sends_one_email(mailoutbox):
    membership = _membership_due_soon(make_organisation(email="office@example.org"))

    assert services.plan_renewal_reminders(today=today()) == 1
    assert services.plan_renewal_reminders(today=today()) == 0
    first, second = sweep(), sweep()

    assert Reminder.objects.filter(organisation=membership.organisation).count() == 1
    assert (first["sent"], second["sent"]) == (1, 0)
    assert len(mailoutbox) == 1


def test_a_renewed_membership_is_reminded_again_for_its_next_renewal_date():
    membership = _membership_due_soon(make_organisation(email="office@example.org"))
    services.plan_renewal_reminders(today=today())

    services.renew_membership(membership=membership, by=make_network_admin())
    membership.refresh_from_db()
    later = membership.renewal_due - timedelta(days=5)

    assert services.plan_renewal_reminders(today=later) == 1
    assert Reminder.objects.filter(organisation=membership.organisation, kind="membership-renewal").count() == 2


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
    assert not Reminder.objects.filter(organisation=overdue.organisation).exists()


def test_lapsing_again_changes_nothing():
    make_membership(renewal_due=today() - timedelta(days=60))
    assert services.lapse_overdue_memberships(today=today()) == 1
    assert services.lapse_overdue_memberships(today=today()) == 0


# Details confirmation ----------------------------------------------------------------------------------


def test_organisations_confirmed_over_a_year_ago_are_asked_to_confirm_again(settings):
    settings.PORTAL_CONFIRM_DETAILS_AFTER_DAYS = 365
    day = today()
    stale = make_organisation(email="a@example.org", details_confirmed_on=day - timedelta(days=366))
    make_organisation(email="b@example.org", details_confirmed_on=day - timedelta(days=365))
    closed = make_organisation(email="c@example.org", details_confirmed_on=day - timedelta(days=800), is_active=False)

    assert services.plan_details_confirmation_requests(today=day) == 1
    assert services.plan_details_confirmation_requests(today=day) == 0

    reminder = Reminder.objects.get(kind="confirm-details")
    assert reminder.organisation == stale
    assert reminder.context["confirm_url"] == f"/organisations/{stale.slug}/confirm/"
    assert not closed.reminders.exists()


def test_a_record_never_confirmed_counts_from_its_creation(settings):
    settings.PORTAL_CONFIRM_DETAILS_AFTER_DAYS = 365
    new = make_organisation(email="new@example.org")
    age_organisation(new, 2)
    old = make_organisation(email="old@example.org")
    age_organisation(old, 400)

    assert services.plan_details_confirmation_requests(today=today()) == 1
    assert Reminder.objects.get(kind="confirm-details").organisation == old


def test_once_confirmed_the_next_request_comes_a_year_later(settings):
    settings.PORTAL_CONFIRM_DETAILS_AFTER_DAYS = 365
    day = today()
    organisation = make_organisation(email="a@example.org", details_confirmed_on=day - timedelta(days=400))
    services.plan_details_confirmation_requests(today=day)

    services.confirm_details(organisation=organisation, by=make_user(), today=day)
    assert services.plan_details_confirmation_requests(today=day + timedelta(days=300)) == 0
    assert services.plan_details_confirmation_requests(today=day + timedelta(days=366)) == 1
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
    membership = services.apply_for_membership(
        organisation=organisation, network=make_network(name="Main Network"), note="We run a food bank.", by=editor
    )

    sweep()

    [message] = mailoutbox
    assert message.to == ["coordinator@example.org"]
    link = f"{settings.SITE_URL}/admin/directory/membership/{membership.pk}/change/"
    assert link in message.body and "We run a food bank." in message.body
    assert f'href="{link}"' in _html(message)


# Broker outage -------------------------------------------------------------------------------------------


def test_a_broker_outage_delays_a_reminder_but_loses_none(
    monkeypatch, mailoutbox, django_capture_on_commit_callbacks, caplog
):
    with broker_at(DEAD_BROKER):
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            with transaction.atomic():
                reminder = make_reminder(recipients=["editor@example.org"])
                tasks.enqueue_reminder(reminder.pk)
        elapsed = time.monotonic() - started

    assert len(callbacks) == 1, "the send is queued only once the transaction commits"
    assert elapsed < tasks.ENQUEUE_TIMEOUT + 1, "a dead broker does not hold the request up"
    assert "the next sweep will send it" in caplog.text
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.PENDING, "the transaction committed; the reminder waits in the database"
    assert mailoutbox == []

    # The broker is back: the next sweep sends it, once.
    assert sweep()["sent"] == 1
    assert sweep()["sent"] == 0
    assert len(mailoutbox) == 1
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT


def test_a_rolled_back_transaction_queues_nothing(monkeypatch):
    published = []
    monkeypatch.setattr(tasks.send_reminder, "apply_async", lambda *args, **kwargs: published.append(kwargs))
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            reminder = make_reminder()
            tasks.enqueue_reminder(reminder.pk)
            raise RuntimeError("something later in the request failed")
    assert published == []
    assert not Reminder.objects.exists()


def test_with_the_broker_up_the_send_is_published_after_commit(monkeypatch, django_capture_on_commit_callbacks):
    published = []
    monkeypatch.setattr(tasks.send_reminder, "apply_async", lambda *args, **kwargs: published.append(kwargs["args"]))
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            reminder = make_reminder()
            tasks.enqueue_reminder(reminder.pk)
            assert published == [], "nothing is published before the commit"
    assert published == [[reminder.pk]]


def test_reminders_not_queued_plans_the_row_and_publishes_nothing(monkeypatch, django_capture_on_commit_callbacks):
    published = []
    monkeypatch.setattr(tasks.send_reminder, "apply_async", lambda *args, **kwargs: published.append(kwargs["args"]))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic(), tasks.reminders_not_queued():
            reminder = make_reminder()
            tasks.enqueue_reminder(reminder.pk)
    assert callbacks == [] and published == []
    assert Reminder.objects.get().status == Reminder.Status.PENDING, "left to the sweep"
    # Only while the block lasts.
    with django_capture_on_commit_callbacks(execute=True):
        tasks.enqueue_reminder(reminder.pk)
    assert published == [[reminder.pk]]
