"""The demo borough: believable, valid, the same every time, loaded once, and never by accident in production."""

import hashlib
from datetime import date, timedelta
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.utils import timezone

from directory import demo
from directory.fields import (
    normalise_postcode,
    validate_charity_number,
    validate_company_number,
    validate_postcode,
)
from directory.models import Affiliation, Membership, Network, Organisation, Taxonomy, TaxonomyTerm, User

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
    first = demo.build_demo_borough(today=day)
    assert first == demo.build_demo_borough(today=day)
    assert first != demo.build_demo_borough(today=day, seed=demo.SEED + 1)


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
    bme_providers = providers.filter(segments__code=demo.SEG_BME).exclude(kinds__code=Organisation.KIND_NETWORK)
    bme_networks = Organisation.objects.filter(kinds__code=Organisation.KIND_NETWORK, segments__code=demo.SEG_BME)
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

    # Some records are stale, most are not; some have an "about" page and chose their public fields.
    stale = Organisation.objects.stale(today).count()
    assert 0 < stale < Organisation.objects.count() / 2
    assert Organisation.objects.exclude(about="").count() > 100
    public_fields = list(Organisation.objects.values_list("public_fields", flat=True))
    assert [] in public_fields and any("email" in fields for fields in public_fields)

    # Every organisation has its first history entry, including its many-to-many links at creation.
    history = Organisation.history.model
    assert history.objects.filter(history_type="+").count() == Organisation.objects.count()
    editor_org = Organisation.objects.get(slug=demo.DEMO_VCO)
    first = editor_org.history.earliest("history_date")
    assert {row.taxonomyterm.code for row in first.languages.all()} == set(
        editor_org.languages.values_list("code", flat=True)
    )
    assert {row.taxonomyterm.code for row in first.kinds.all()} == {"vco"}
    assert Membership.history.filter(history_type="+").count() == Membership.objects.count()

    # Networks and memberships in every state.
    assert set(Network.objects.values_list("slug", flat=True)) == {
        demo.MAIN_NETWORK,
        demo.BME_NETWORK,
        demo.BME_NETWORK_2,
        demo.OLDER_FORUM,
        demo.YOUNG_FORUM,
    }
    for slug in (demo.BME_NETWORK, demo.BME_NETWORK_2):
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
    for account in demo.DEMO_ACCOUNTS:
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
    Organisation.objects.filter(slug=demo.DEMO_VCO).update(activities="Edited in the admin.")
    before = snapshot()
    output = load()
    assert snapshot() == before
    assert Organisation.objects.get(slug=demo.DEMO_VCO).activities == "Edited in the admin."
    assert "organisations: 0 created" in output and "memberships: 0 created" in output and "users: 0 created" in output
