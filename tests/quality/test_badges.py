"""Badges: the line in the directory, expiry by the scheduled job, hidden the moment they expire,
renewal reminders planned once before expiry."""

from datetime import timedelta

from django.test import override_settings
from django.utils import timezone

from notifications.models import Reminder
from organisations.hooks import accreditations_for
from organisations.models import Organisation
from quality import selectors, services, tasks
from quality.models import Badge
from tests.factories import make_provider, make_verified_badge


def test_badge_line_names_baseline_areas_and_levels_above(people):
    badge = make_verified_badge(organisation=people.provider, levels={"governance": 2, "leadership": 3, "representation": 0})
    line = selectors.accreditation_lines([people.provider.pk])[people.provider.pk][0]
    assert line == (
        f"THIN Quality Standard: baseline met in 7 areas, level 2 in governance, level 3 in leadership "
        f"(verified until {badge.expires_on.isoformat()})"
    )


def test_the_directory_hook_gives_the_line_for_current_badges_only(people):
    make_verified_badge(organisation=people.provider)
    expired = make_verified_badge(organisation=people.other_provider, verified_on=timezone.localdate() - timedelta(days=800))
    lines = accreditations_for([people.provider.pk, people.other_provider.pk, people.vco.pk])
    assert list(lines) == [people.provider.pk]
    assert lines[people.provider.pk][0].startswith("THIN Quality Standard: baseline met in 8 areas")
    assert expired.status == Badge.Status.ACTIVE  # not swept yet, but hidden already by its date


def test_a_badge_with_no_area_at_baseline_shows_nothing(people):
    make_verified_badge(organisation=people.provider, levels={area: 0 for area in (
        "service-quality", "governance", "leadership", "representation", "accountability",
        "impact-assessment", "workforce-development", "partnership-working")})
    assert selectors.badge_of(people.provider) is None


def test_expired_badges_disappear_without_anyone_acting_and_the_sweep_marks_them(people, django_assert_max_num_queries):
    today = timezone.localdate()
    badge = make_verified_badge(organisation=people.provider, verified_on=today - timedelta(days=400))
    assert selectors.badge_of(people.provider) is not None
    assert selectors.badge_of(people.provider, today=badge.expires_on - timedelta(days=1)) is not None
    assert selectors.badge_of(people.provider, today=badge.expires_on) is None  # the expiry day itself

    with override_settings():
        Badge.objects.filter(pk=badge.pk).update(expires_on=today)
    assert selectors.badge_of(people.provider) is None
    counts = tasks.sweep_badges()
    assert counts["expired"] == 1
    badge.refresh_from_db()
    assert badge.status == Badge.Status.EXPIRED
    assert people.provider.reminders.filter(kind="quality-badge-expired").count() == 1
    # Running the sweep again changes nothing and sends nothing twice.
    assert tasks.sweep_badges() == {"expired": 0, "renewal_reminders": 0}
    assert Reminder.objects.filter(kind="quality-badge-expired").count() == 1
    from django.core import mail

    from notifications.services import send_due_reminders

    assert send_due_reminders() == 1
    assert mail.outbox[0].subject == "The quality badge of Tower Hamlets CVS has expired"
    assert "no longer shows in the directory" in mail.outbox[0].body


def test_renewal_reminders_are_planned_once_before_expiry(people, settings):
    settings.QUALITY_BADGE_RENEWAL_REMINDER_DAYS = 60
    today = timezone.localdate()
    soon = make_verified_badge(organisation=people.provider)
    Badge.objects.filter(pk=soon.pk).update(expires_on=today + timedelta(days=30))
    later = make_verified_badge(organisation=people.other_provider)
    assert later.expires_on > today + timedelta(days=60)
    assert services.plan_badge_renewal_reminders(today=today) == 1
    assert services.plan_badge_renewal_reminders(today=today) == 0
    reminder = Reminder.objects.get(kind="quality-badge-renewal")
    assert reminder.about == people.provider
    assert reminder.recipients == ["officer@example.org"]
    assert reminder.key == services.badge_renewal_key(soon.pk, today + timedelta(days=30))
    # The directory's sweep sends it, in HTML and text.
    from django.core import mail

    from notifications.services import send_due_reminders

    assert send_due_reminders() >= 1
    sent = [message for message in mail.outbox if "expires on" in message.subject]
    assert sent and "self-assessment" in sent[0].body and sent[0].alternatives


def test_a_new_badge_replaces_the_old_one(people):
    first = make_verified_badge(organisation=people.provider)
    second = make_verified_badge(organisation=people.provider, levels={"governance": 3})
    first.refresh_from_db()
    assert first.status == Badge.Status.SUPERSEDED
    assert selectors.badge_of(people.provider).badge == second


def test_closed_organisations_show_no_badge(people):
    make_verified_badge(organisation=people.provider)
    Organisation.objects.filter(pk=people.provider.pk).update(is_active=False)
    assert selectors.accreditation_lines([people.provider.pk]) == {}


def test_badge_selector_query_count_does_not_grow_with_providers(people, django_assert_max_num_queries):
    providers = [make_provider() for _ in range(6)]
    for provider in providers:
        make_verified_badge(organisation=provider)
    with django_assert_max_num_queries(2):
        lines = selectors.accreditation_lines([p.pk for p in providers])
    assert len(lines) == 6


def test_the_badge_include_for_the_organisation_page(people):
    from django.template import Context, Template

    make_verified_badge(organisation=people.provider, levels={"governance": 2})
    template = Template('{% include "quality/includes/organisation_badge.html" with organisation=organisation %}')
    html = template.render(Context({"organisation": people.provider}))
    assert "THIN Quality Standard" in html and "baseline is met in 8 areas" in html
    assert "Governance: <strong>Level 2</strong>" in html
    assert template.render(Context({"organisation": people.other_provider})).strip() == ""


def test_the_beat_schedule_has_the_one_quality_sweep(settings):
    entries = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"].startswith("quality.")]
    assert [entry["task"] for entry in entries] == ["quality.tasks.sweep_badges"]
