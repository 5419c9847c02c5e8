"""The demo borough and its year of activity: believable, valid, the same every time, loaded once, and never by
accident in production."""

import hashlib
from datetime import date, timedelta
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.utils import timezone

from accounts.models import User
from calendar_events import recurrence
from calendar_events.models import Booking, Category, Event, Notice
from calendar_events.selectors import attendance_by_category, attendance_counts
from core import org_id
from core.fields import (
    normalise_postcode,
    validate_charity_number,
    validate_company_number,
    validate_postcode,
)
from directory import demo
from notifications.models import Reminder
from organisations import demo as demo_borough
from organisations.models import Affiliation, Membership, Network, Organisation
from referrals import selectors as referral_selectors
from referrals import services as referral_services
from referrals import workdays
from referrals.models import Referral, ReferralEvent
from taxonomies.models import Taxonomy, TaxonomyTerm

pytestmark = pytest.mark.django_db

M2M = ["kinds", "communities_served", "segments", "functions", "languages"]


def load(**options) -> str:
    out = StringIO()
    call_command("load_demo_data", stdout=out, **options)
    return out.getvalue()


def snapshot() -> tuple[dict[str, int], str]:
    """Row counts of everything the loader writes, and a checksum of the values that matter."""
    history = Organisation.history.model
    models = {
        "organisations": Organisation,
        "organisation history": history,
        "memberships": Membership,
        "membership history": Membership.history.model,
        "networks": Network,
        "users": User,
        "affiliations": Affiliation,
    }
    for name in M2M:
        models[name] = getattr(Organisation, name).through
        models[f"{name} history"] = getattr(history, name).model
    counts = {name: model.objects.count() for name, model in models.items()}

    rows = [
        Organisation.objects.order_by("slug").values_list(
            "slug",
            "uuid",
            "name",
            "legal_form",
            "charity_number",
            "company_number",
            "email",
            "phone",
            "postcode",
            "ward__code",
            "activities",
            "about",
            "development_stage",
            "income_band",
            "paid_staff",
            "volunteers",
            "public_fields",
            "details_confirmed_on",
            "is_active",
            "updated_at",
        ),
        Membership.objects.order_by("network__slug", "organisation__slug").values_list(
            "network__slug",
            "organisation__slug",
            "status",
            "applied_on",
            "joined_on",
            "renewal_due",
            "left_on",
            "approved_by__username",
        ),
        Network.objects.order_by("slug").values_list("slug", "name", "run_by__slug", "renewal_period_months"),
        User.objects.order_by("username").values_list(
            "username", "email", "role", "is_staff", "is_superuser", "password"
        ),
        Affiliation.objects.order_by("user__username").values_list("user__username", "organisation__slug", "role"),
    ]
    for name in M2M:
        through = getattr(Organisation, name).through
        rows.append(
            through.objects.order_by("organisation__slug", "taxonomyterm__code").values_list(
                "organisation__slug", "taxonomyterm__code"
            )
        )
    digest = hashlib.sha256(repr([list(queryset) for queryset in rows]).encode()).hexdigest()
    return counts, digest


def test_build_demo_borough_is_the_same_for_the_same_seed_and_day():
    day = date(2025, 3, 1)
    first = demo_borough.build_demo_borough(today=day)
    assert first == demo_borough.build_demo_borough(today=day)
    assert first != demo_borough.build_demo_borough(today=day, seed=demo_borough.SEED + 1)


def test_load_demo_data_refuses_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        load()
    assert not Organisation.objects.exists()
    assert not User.objects.exists()


def test_load_demo_data_with_force_builds_a_believable_borough(settings):
    settings.DEBUG = False
    output = load(force=True)
    today = timezone.localdate()

    vcos = Organisation.objects.vcos()
    providers = Organisation.objects.providers()
    assert 450 <= vcos.count() <= 550
    assert providers.count() == 35
    assert not vcos.filter(kinds__code__in=Organisation.PROVIDER_KINDS).exists()
    bme_providers = providers.filter(segments__code=demo_borough.SEG_BME).exclude(kinds__code=Organisation.KIND_NETWORK)
    bme_networks = Organisation.objects.filter(kinds__code=Organisation.KIND_NETWORK, segments__code=demo_borough.SEG_BME)
    assert bme_providers.count() == 4
    assert bme_networks.count() == 2
    both = providers.filter(kinds__code=Organisation.KIND_GENERAL).filter(kinds__code=Organisation.KIND_SPECIALIST)
    assert both.exists()
    assert not providers.filter(functions=None).exists()

    # Spread across the borough and the sector.
    for ward in TaxonomyTerm.objects.in_taxonomy(Taxonomy.WARDS):
        assert vcos.filter(ward=ward).count() >= 5, ward
    for taxonomy, relation in [(Taxonomy.SEGMENTS, "segments"), (Taxonomy.COMMUNITIES, "communities_served")]:
        for term in TaxonomyTerm.objects.in_taxonomy(taxonomy):
            assert vcos.filter(**{relation: term}).exists(), term
    assert vcos.values("languages").distinct().count() >= 8
    stages = {
        stage: set(vcos.filter(development_stage=stage).values_list("income_band", flat=True)) for stage in (1, 2, 3)
    }
    assert all(stages.values())
    assert stages[1] <= {"under_10k", "10k_100k"}
    assert stages[3] <= {"250k_1m", "1m_5m", "over_5m"}
    assert vcos.filter(development_stage=1).count() > vcos.filter(development_stage=3).count()
    assert (
        vcos.filter(development_stage=1, paid_staff=0).exists()
        and vcos.filter(development_stage=3, paid_staff__gte=10).exists()
    )
    for name in [
        "Bow Bangladeshi Women's Group",
        "Island Gardens Youth Football Club",
        "Poplar Somali Elders Association",
    ]:
        assert vcos.filter(name=name).exists(), name

    # Valid, normalised identifiers; numbers unique (also enforced by the database).
    for organisation in Organisation.objects.all():
        validate_postcode(organisation.postcode)
        assert normalise_postcode(organisation.postcode) == organisation.postcode
        assert organisation.postcode.split()[0] in {"E1", "E1W", "E2", "E3", "E14"}
        validate_charity_number(organisation.charity_number)
        validate_company_number(organisation.company_number)
    charities = list(Organisation.objects.exclude(charity_number="").values_list("charity_number", flat=True))
    companies = list(Organisation.objects.exclude(company_number="").values_list("company_number", flat=True))
    assert len(charities) > 100 and len(set(charities)) == len(charities)
    assert len(companies) > 30 and len(set(companies)) == len(companies)
    # The rarer registers appear too, so the demo shows every kind of org-id.
    for field_name in ("scottish_charity_number", "ni_charity_number", "mutuals_number"):
        holders = Organisation.objects.exclude(**{field_name: ""})
        assert holders.exists(), field_name
        for organisation in holders:
            assert organisation.org_ids and all(org_id.parse_org_id(text) for text in organisation.org_ids)
    assert Organisation.objects.exclude(mutuals_number="").filter(legal_form="other").count() == (
        Organisation.objects.exclude(mutuals_number="").count()
    )

    # Some records are stale, most are not; some have an "about" page and chose their public fields.
    stale = Organisation.objects.stale(today).count()
    assert 0 < stale < Organisation.objects.count() / 2
    assert Organisation.objects.exclude(about="").count() > 100
    public_fields = list(Organisation.objects.values_list("public_fields", flat=True))
    assert [] in public_fields and any("email" in fields for fields in public_fields)

    # Every organisation has its first history entry, including its many-to-many links at creation.
    history = Organisation.history.model
    assert history.objects.filter(history_type="+").count() == Organisation.objects.count()
    editor_org = Organisation.objects.get(slug=demo_borough.DEMO_VCO)
    first = editor_org.history.earliest("history_date")
    assert {row.taxonomyterm.code for row in first.languages.all()} == set(
        editor_org.languages.values_list("code", flat=True)
    )
    assert {row.taxonomyterm.code for row in first.kinds.all()} == {"vco"}
    assert Membership.history.filter(history_type="+").count() == Membership.objects.count()

    # Networks and memberships in every state.
    assert set(Network.objects.values_list("slug", flat=True)) == {
        demo_borough.MAIN_NETWORK,
        demo_borough.BME_NETWORK,
        demo_borough.BME_NETWORK_2,
        demo_borough.OLDER_FORUM,
        demo_borough.YOUNG_FORUM,
    }
    for slug in (demo_borough.BME_NETWORK, demo_borough.BME_NETWORK_2):
        assert Network.objects.get(slug=slug).run_by in bme_networks
    statuses = set(Membership.objects.values_list("status", flat=True))
    assert statuses == set(Membership.Status.values)
    active = Membership.objects.filter(status=Membership.Status.ACTIVE)
    assert active.filter(renewal_due__lte=today + timedelta(days=30)).exists()
    assert active.filter(renewal_due__gt=today + timedelta(days=90)).exists()
    assert not active.filter(renewal_due__lt=today).exists()
    assert not Membership.objects.filter(status=Membership.Status.LAPSED, renewal_due__gte=today).exists()
    assert not Membership.objects.filter(status=Membership.Status.LEFT, left_on=None).exists()
    assert not Membership.objects.filter(status=Membership.Status.APPLIED).exclude(joined_on=None).exists()

    # One demo user per role, each able to log in with the documented password.
    assert sorted(User.objects.values_list("role", flat=True)) == sorted(User.Role.values)
    for account in demo_borough.DEMO_ACCOUNTS:
        assert authenticate(username=account.username, password=account.password) is not None, account.username
        assert account.username in output and account.password in output
    admin = User.objects.get(role=User.Role.NETWORK_ADMIN)
    assert admin.is_staff and admin.is_superuser
    assert not User.objects.exclude(pk=admin.pk).filter(is_staff=True).exists()
    editor = Affiliation.objects.get(user__role=User.Role.VCO_STAFF)
    assert editor.role == Affiliation.Role.EDITOR and editor.organisation.kinds.filter(code="vco").exists()
    officer = Affiliation.objects.get(user__role=User.Role.OFFICER)
    assert officer.role == Affiliation.Role.OFFICER and officer.organisation in providers
    assert not Affiliation.objects.filter(user__role=User.Role.FUNDER).exists()

    assert f"{settings.SITE_URL}/accounts/login/" in output
    assert f"{settings.SITE_URL}/admin/" in output


def test_load_demo_data_twice_changes_nothing(settings):
    settings.DEBUG = True
    load()
    # A hand edit after the first load must survive the second.
    Organisation.objects.filter(slug=demo_borough.DEMO_VCO).update(activities="Edited in the admin.")
    before = snapshot()
    output = load()
    assert snapshot() == before
    assert Organisation.objects.get(slug=demo_borough.DEMO_VCO).activities == "Edited in the admin."
    assert "organisations: 0 created" in output and "memberships: 0 created" in output and "users: 0 created" in output


# A year of activity: referrals and the calendar ---------------------------------------------------


@pytest.fixture
def borough(settings):
    settings.DEBUG = True
    demo.load_demo_data()


def command(name: str, **options) -> str:
    out = StringIO()
    call_command(name, stdout=out, **options)
    return out.getvalue()


def referral_digest() -> str:
    rows = [
        Referral.objects.order_by("uuid").values_list(
            "uuid",
            "organisation__slug",
            "provider__slug",
            "status",
            "outcome",
            "submitted_at",
            "sent_at",
            "first_response_after",
            "closed_at",
            "contact_email",
            "feedback__satisfaction",
        ),
        ReferralEvent.objects.order_by("referral__uuid", "at", "kind").values_list(
            "referral__uuid", "kind", "at", "by__username", "provider__slug"
        ),
        Referral.needs.through.objects.order_by("referral__uuid", "taxonomyterm__code").values_list(
            "referral__uuid", "taxonomyterm__code"
        ),
    ]
    return hashlib.sha256(repr([list(queryset) for queryset in rows]).encode()).hexdigest()


def test_load_referral_demo_plays_a_year_of_referrals_through_the_workflow(borough):
    now = timezone.now()
    output = command("load_referral_demo")
    referrals = Referral.objects.all()
    assert 60 <= referrals.count() <= 120
    assert f"Referrals: {referrals.count()} created" in output
    assert referrals.filter(submitted_at__lt=now - timedelta(days=300)).exists()
    assert not referrals.filter(submitted_at__lt=now - timedelta(days=366)).exists()
    assert referrals.values("organisation").distinct().count() >= 30
    assert referrals.values("provider").distinct().count() >= 8
    for outcome in Referral.Outcome.values:
        assert referrals.filter(status=Referral.Status.CLOSED, outcome=outcome).exists(), outcome
    for status in Referral.Status.values:
        assert referrals.filter(status=status).exists(), status
    assert ReferralEvent.objects.filter(kind=ReferralEvent.Kind.PASSED_ON).exists()
    assert ReferralEvent.objects.filter(kind=ReferralEvent.Kind.ESCALATED).exists()

    # Every history agrees with its referral: the sending before the first answer, the wait kept, the
    # deadlines from the last sending, the closing, the feedback after it; nothing in the future.
    for referral in referrals.prefetch_related("events").select_related("feedback"):
        events = sorted(referral.events.all(), key=lambda event: (event.at, event.pk))
        kinds = [event.kind for event in events]
        assert kinds[0] == ReferralEvent.Kind.SUBMITTED and events[0].at == referral.submitted_at
        assert events[-1].at < now
        answers = [event for event in events if event.kind in ReferralEvent.ANSWERS]
        if answers:
            sendings = [
                event for event in events if event.kind == ReferralEvent.Kind.SENT and event.at <= answers[0].at
            ]
            assert sendings, referral.reference
            assert referral.first_response_at == answers[0].at
            assert referral.first_response_after == answers[0].at - sendings[-1].at
        else:
            assert referral.first_response_at is None and referral.first_response_after is None
        sendings = [event for event in events if event.kind in (ReferralEvent.Kind.SENT, ReferralEvent.Kind.PASSED_ON)]
        if sendings:
            assert referral.sent_at == sendings[-1].at
            assert referral.response_due_at == workdays.deadline_after(
                referral.sent_at, referral_services.response_days()
            )
        if referral.status in (Referral.Status.CLOSED, Referral.Status.DECLINED):
            assert ReferralEvent.Kind.SENT in kinds, referral.reference
            assert referral.closed_at == max(
                event.at for event in events if event.kind in ("closed", "declined", "withdrawn")
            )
        else:
            assert referral.closed_at is None
        feedback = getattr(referral, "feedback", None)
        if feedback is not None:
            assert referral.status == Referral.Status.CLOSED and feedback.given_at > referral.closed_at
            assert events[-1].kind == ReferralEvent.Kind.FEEDBACK and events[-1].at == feedback.given_at
        # Obviously fictional contact details.
        assert referral.contact_email.endswith("example.org") and referral.contact_phone.startswith("020 7946 0")
    closed = referrals.filter(status=Referral.Status.CLOSED).exclude(outcome=Referral.Outcome.WITHDRAWN)
    assert closed.count() * 0.4 < closed.exclude(feedback=None).count() < closed.count() * 0.8
    assert closed.exclude(feedback__still_needed="").exclude(feedback=None).exists()

    # The demo accounts have something to work on: a handful open in the officer's inbox, one overdue;
    # the VCO's editor can give feedback on a closed referral.
    officer = User.objects.get(username="officer")
    counts = referral_selectors.inbox_counts(provider=officer.affiliations.get().organisation)
    assert 3 <= counts["open"] <= 10 and counts["overdue"] == 1
    assert referrals.overdue().count() == 1
    mine = referral_selectors.referrals_of_user(User.objects.get(username="vco.editor"))
    assert mine.open().exists() and mine.filter(status=Referral.Status.CLOSED, feedback=None).exists()

    # The history's emails went out in the story: none waits to be sent, and the sweep plans nothing for it.
    assert not Reminder.objects.filter(status=Reminder.Status.PENDING).exists()
    assert Reminder.objects.filter(kind="referral", status=Reminder.Status.CANCELLED).exists()
    assert referral_services.plan_referral_reminders() == {"reminded": 0, "escalated": 0}

    # What the evidence dashboards count.
    figures = referral_selectors.referral_statistics(
        start=(now - timedelta(days=366)).date(), end=now.date(), ward=None
    )
    assert figures["total"] == referrals.count() and figures["first_response"]["median_hours"]
    assert sum(n for _label, n in figures["satisfaction"]) >= 25

    # Loading again creates nothing, and says so.
    before = (referrals.count(), ReferralEvent.objects.count(), Reminder.objects.count(), User.objects.count())
    digest = referral_digest()
    output = command("load_referral_demo")
    assert f"Referrals: 0 created, {before[0]} already there." in output
    assert (referrals.count(), ReferralEvent.objects.count(), Reminder.objects.count(), User.objects.count()) == before
    assert referral_digest() == digest


def test_the_referral_history_is_the_same_for_the_same_moment(borough):
    from referrals.demo import load_referral_demo

    now = timezone.now()
    load_referral_demo(now=now)
    digest = referral_digest()
    Referral.objects.all().delete()
    load_referral_demo(now=now)
    assert referral_digest() == digest


def calendar_digest() -> str:
    rows = [
        Event.objects.order_by("uid").values_list(
            "uid",
            "title",
            "organiser__slug",
            "category",
            "start",
            "end",
            "frequency",
            "capacity",
            "status",
            "moderation",
        ),
        Booking.objects.order_by("event__uid", "occurrence_start", "user__username", "status").values_list(
            "event__uid", "occurrence_start", "user__username", "status", "attended"
        ),
        Notice.objects.order_by("title").values_list("title", "organisation__slug", "status", "expires_on"),
    ]
    return hashlib.sha256(repr([list(queryset) for queryset in rows]).encode()).hexdigest()


def test_load_calendar_demo_refuses_with_debug_off_or_without_the_borough(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        command("load_calendar_demo")
    settings.DEBUG = True
    with pytest.raises(CommandError, match="load_demo_data"):
        command("load_calendar_demo")
    assert not Event.objects.exists()


def test_load_calendar_demo_fills_the_year_gone_and_the_months_ahead(borough):
    now = timezone.now()
    output = command("load_calendar_demo")
    events = Event.objects.all()
    assert 50 <= events.count() <= 120
    assert f"Calendar: {events.count()} events created" in output
    by_category = {category: events.filter(category=category).count() for category in Category.values}
    assert by_category[Category.TRAINING] > events.count() / 2
    assert by_category[Category.NETWORKING] and by_category[Category.FUNDING] and by_category[Category.FORUM]
    assert events.filter(start__lt=now - timedelta(days=270)).exists()
    assert events.filter(start__gt=now + timedelta(days=30)).exists()
    assert not events.filter(start__lt=now - timedelta(days=366)).exists()
    assert not events.filter(start__gt=now + timedelta(days=93)).exists()
    assert events.filter(venue__ward__isnull=False).count() > events.count() / 2
    assert events.exclude(online_url="").filter(venue=None).exists()
    assert events.filter(is_free=False).exists() and events.filter(is_free=True).count() > events.count() / 2
    series = events.exclude(frequency=Event.Frequency.ONCE)
    assert set(series.values_list("frequency", flat=True)) >= {Event.Frequency.WEEKLY, Event.Frequency.MONTHLY}
    assert not series.filter(repeat_count=None, repeat_until=None).exists()
    assert sorted(events.exclude(status=Event.Status.SCHEDULED).values_list("status", flat=True)) == [
        Event.Status.CANCELLED,
        Event.Status.POSTPONED,
    ]
    pending = events.filter(moderation=Event.Moderation.PENDING)
    assert pending.count() >= 2 and not pending.filter(organiser__kinds__code__in=Organisation.PROVIDER_KINDS).exists()

    # Bookings on the events' own dates, within their places; attendance only on the dates gone by.
    dates = {event.pk: {o.start for o in recurrence.occurrences(event)} for event in events}
    bookings = Booking.objects.select_related("event")
    for booking in bookings:
        assert booking.occurrence_start in dates[booking.event_id]
        assert (
            booking.event.created_at <= booking.created_at < booking.occurrence_start or booking.occurrence_start > now
        )
    booked = bookings.filter(status=Booking.Status.BOOKED)
    for row in booked.values("event__capacity", "occurrence_start", "event").annotate(n=Count("pk")):
        assert row["event__capacity"] is None or row["n"] <= row["event__capacity"]
    assert (
        booked.filter(occurrence_start__lt=now).count() > 500 and booked.filter(occurrence_start__gt=now).count() > 100
    )
    assert not bookings.filter(occurrence_start__gt=now).exclude(attended=None).exists()
    assert not booked.filter(occurrence_start__lt=now, attended=None).exists()
    came = booked.filter(occurrence_start__lt=now, attended=True).count()
    assert 0.6 < came / booked.filter(occurrence_start__lt=now).count() < 0.95
    assert bookings.filter(status=Booking.Status.CANCELLED).exists()

    # One full date to come, with a waiting list the VCO's editor is on.
    waiting = bookings.filter(status=Booking.Status.WAITING)
    assert waiting.filter(user__username="vco.editor").exists()
    assert waiting.values("event", "occurrence_start").distinct().count() == 1
    full = waiting.first()
    assert full.occurrence_start > now
    assert booked.filter(event=full.event, occurrence_start=full.occurrence_start).count() == full.event.capacity
    assert booked.filter(user__username="vco.editor", occurrence_start__gt=now).count() == 2

    # Notices on the board, one waiting for moderation.
    assert Notice.objects.visible().count() >= 4 and Notice.objects.filter(status=Notice.Status.PENDING).exists()

    # The cancellation and postponement were told at the time: nothing waits to be sent.
    assert not Reminder.objects.filter(status=Reminder.Status.PENDING).exists()
    assert Reminder.objects.filter(kind="calendar-change", status=Reminder.Status.CANCELLED).exists()

    # What the evidence dashboards count: training delivered most, other kinds too.
    counts = attendance_counts(since=now - timedelta(days=366), until=now)
    held = {label: (sessions, attended) for label, sessions, attended in attendance_by_category(counts)}
    assert held["Training"][0] >= 30 and held["Training"][1] >= 200
    assert held["Networking"][0] >= 5 and held["Funding information"][0] >= 5

    # Loading again creates nothing, and says so.
    digest = calendar_digest()
    output = command("load_calendar_demo")
    assert f"Calendar: 0 events created, {events.count()} already there; 0 notices created" in output
    assert calendar_digest() == digest


def test_the_calendar_is_the_same_for_the_same_moment(borough):
    from calendar_events.demo import load_calendar_demo

    now = timezone.now()
    load_calendar_demo(now=now)
    digest = calendar_digest()
    Event.objects.all().delete()
    Notice.objects.all().delete()
    load_calendar_demo(now=now)
    assert calendar_digest() == digest
