"""OrganisationDay and OrganisationTermDay, the open organisations grouped by kind and local creation
day that the evidence figures read: kept by triggers (migration 0006), they must equal grouping the
organisations live after every kind of write, and the VCO figures read from them must equal counting
the organisations created before the period's first and last moments."""

from collections import defaultdict
from datetime import date, datetime

import pytest
from django.db import connection
from django.utils import timezone

from evidence import selectors
from organisations.models import Organisation, OrganisationDay, OrganisationTermDay
from taxonomies.models import Taxonomy, TaxonomyTerm
from tests.factories import make_organisation, term

pytestmark = pytest.mark.django_db

TERM_LISTS = ("segments", "communities_served")


def _count_in(figures: list[int], organisation: Organisation) -> None:
    """Adds an organisation to [organisations, volunteers, paid staff, organisations giving volunteers]."""
    figures[0] += 1
    figures[1] += organisation.volunteers or 0
    figures[2] += organisation.paid_staff or 0
    figures[3] += organisation.volunteers is not None


def _live() -> tuple[dict, dict]:
    """What the triggers keep, grouped from every open organisation."""
    days, term_days = defaultdict(lambda: [0, 0, 0, 0]), defaultdict(int)
    for organisation in Organisation.objects.active().prefetch_related("kinds", *TERM_LISTS):
        day = timezone.localtime(organisation.created_at).date()
        for kind in organisation.kinds.all():
            _count_in(days[(day, kind.pk, organisation.development_stage, organisation.ward_id)], organisation)
            for relation in TERM_LISTS:
                for listed in getattr(organisation, relation).all():
                    term_days[(day, kind.pk, relation, listed.pk, organisation.ward_id)] += 1
    return {key: tuple(figures) for key, figures in days.items()}, dict(term_days)


def _kept() -> tuple[dict, dict]:
    days = {
        (day, kind, stage, ward): (n, volunteers, staff, giving)
        for day, kind, stage, ward, n, volunteers, staff, giving in OrganisationDay.objects.values_list(
            "day", "kind_id", "development_stage", "ward_id", "organisations", "volunteers", "paid_staff", "giving_volunteers"
        )
    }
    term_days = {
        (day, kind, relation, listed, ward): n
        for day, kind, relation, listed, ward, n in OrganisationTermDay.objects.values_list("day", "kind_id", "relation", "term_id", "ward_id", "organisations")
    }
    return days, term_days


def _figures_live(scope: selectors.Scope) -> dict:
    """The VCO figures as counted before the kept days: from the organisations created before the
    period's end (and, for "earlier", its start), compared with moments."""
    vcos = Organisation.objects.active().filter(kinds__code=Organisation.KIND_VCO, created_at__lt=scope.end_at)
    if scope.area is not None:
        vcos = vcos.filter(ward=scope.area)
    groups, groups_before = defaultdict(lambda: [0, 0, 0, 0]), defaultdict(lambda: [0, 0, 0, 0])
    terms = {relation: defaultdict(int) for relation in TERM_LISTS}
    terms_before = {relation: defaultdict(int) for relation in TERM_LISTS}
    joined_before = {}
    before, _name = selectors.previous_period(scope)
    days = sorted({*selectors._joining_days(scope), *selectors._joining_days(before)})
    for day in days:
        joined_before[day] = vcos.filter(created_at__lt=timezone.make_aware(datetime.combine(day, datetime.min.time()))).count()
    for organisation in vcos.prefetch_related(*TERM_LISTS):
        earlier = organisation.created_at < scope.start_at
        for target in (groups, groups_before) if earlier else (groups,):
            _count_in(target[(organisation.development_stage, organisation.ward_id)], organisation)
        for relation in TERM_LISTS:
            for listed in getattr(organisation, relation).all():
                terms[relation][listed.pk] += 1
                if earlier:
                    terms_before[relation][listed.pk] += 1
    figures = {"groups": sorted(((*key, *value) for key, value in groups.items()), key=repr), "joined_before": joined_before}
    figures_before = {"groups": sorted(((*key, *value) for key, value in groups_before.items()), key=repr), "joined_before": {d: n for d, n in joined_before.items() if d <= scope.start}}
    for relation in TERM_LISTS:
        figures[relation], figures_before[relation] = dict(terms[relation]), dict(terms_before[relation])
    return {"period": figures, "before": figures_before}


def _figures_kept(scope: selectors.Scope) -> dict:
    figures = selectors._vco_figures(scope)
    before = scope.memo[selectors.PERIOD_BEFORE]["vco_figures"]
    return {
        "period": {**figures, "groups": sorted(figures["groups"], key=repr)},
        "before": {**before, "groups": sorted(before["groups"], key=repr)},
    }


def _same() -> None:
    assert _kept() == _live()


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


def test_organisation_days_equal_the_organisations_after_every_kind_of_write():
    wards = list(TaxonomyTerm.objects.in_taxonomy(Taxonomy.WARDS)[:2])
    segments = list(TaxonomyTerm.objects.in_taxonomy(Taxonomy.SEGMENTS)[:2])
    communities = list(TaxonomyTerm.objects.in_taxonomy(Taxonomy.COMMUNITIES)[:2])
    provider = term(Taxonomy.ORGANISATION_KINDS, Organisation.PROVIDER_KINDS[0])
    _same()
    first = make_organisation(ward=wards[0], development_stage=1, volunteers=4, segments=segments, communities_served=communities[:1])  # create
    second = make_organisation(ward=wards[0], development_stage=1, paid_staff=2)
    assert OrganisationDay.objects.exists() and OrganisationTermDay.objects.exists()
    _same()
    Organisation.objects.filter(pk=second.pk).update(created_at=_at(date(2026, 3, 29), 0, 30))  # 00:30 GMT: BST starts that night
    Organisation.objects.filter(pk=first.pk).update(created_at=_at(date(2026, 10, 25), 23, 30))  # local day after BST ends
    _same()
    first.development_stage, first.ward, first.volunteers = 2, wards[1], None  # stage, ward, volunteers
    first.save()
    _same()
    second.kinds.add(provider)  # kinds
    first.segments.remove(segments[0])
    second.communities_served.add(*communities)
    _same()
    second.kinds.remove(provider)
    first.communities_served.clear()
    second.segments.set(segments[1:])
    _same()
    bulk = Organisation.objects.bulk_create(
        [Organisation(name=f"Bulk {n}", slug=f"bulk-{n}", ward=wards[n % 2], development_stage=n % 3 + 1 if n % 4 else None, volunteers=n) for n in range(6)]
    )
    Organisation.kinds.through.objects.bulk_create([Organisation.kinds.through(organisation=o, taxonomyterm=term(Taxonomy.ORGANISATION_KINDS, Organisation.KIND_VCO)) for o in bulk])
    Organisation.segments.through.objects.bulk_create([Organisation.segments.through(organisation=o, taxonomyterm=segments[n % 2]) for n, o in enumerate(bulk)])
    _same()
    Organisation.objects.filter(pk__in=[o.pk for o in bulk[:3]]).update(created_at=_at(date(2025, 1, 1), 0, 0))  # bulk update
    _same()
    with connection.cursor() as cursor:  # behind the ORM's back
        cursor.execute("UPDATE organisations_organisation SET development_stage = %s, paid_staff = %s WHERE id = %s", [3, 7, bulk[3].pk])
        cursor.execute("DELETE FROM organisations_organisation_segments WHERE organisation_id = %s", [bulk[4].pk])
    _same()
    Organisation.objects.filter(pk=bulk[5].pk).update(is_active=False)  # closing an organisation
    assert OrganisationDay.objects.filter(organisations__gt=0).count() == len(_live()[0])
    _same()
    bulk[0].delete()  # deletion takes its kinds and terms
    second.delete()
    _same()
    assert _kept()[0]  # some days are still counted


def test_vco_figures_equal_counting_the_organisations_at_the_periods_edges():
    """VCOs created just before and at local midnight of the periods' first and last days, across the
    clocks changing, for whole years, a period of odd days, one ward and an empty period."""
    wards = list(TaxonomyTerm.objects.in_taxonomy(Taxonomy.WARDS)[:2])
    segments = list(TaxonomyTerm.objects.in_taxonomy(Taxonomy.SEGMENTS)[:2])
    communities = list(TaxonomyTerm.objects.in_taxonomy(Taxonomy.COMMUNITIES)[:2])
    moments = [
        _at(date(2025, 12, 31), 23, 59), _at(date(2026, 1, 1), 0, 0), _at(date(2026, 2, 14), 23, 30), _at(date(2026, 2, 15), 0, 0),
        _at(date(2026, 3, 29), 0, 30), _at(date(2026, 3, 29), 23, 30), _at(date(2026, 10, 25), 0, 30), _at(date(2026, 11, 10), 23, 59),
        _at(date(2026, 11, 11), 0, 0), _at(date(2026, 12, 31), 23, 59), _at(date(2027, 1, 1), 0, 0), _at(date(2024, 5, 5), 12, 0),
    ]
    for n, moment in enumerate(moments):
        organisation = make_organisation(
            ward=wards[n % 2] if n % 5 else None, development_stage=n % 3 + 1 if n % 4 else None, volunteers=n if n % 3 else None, paid_staff=n,
            segments=segments[: n % 3], communities_served=communities[n % 2 :],
        )
        Organisation.objects.filter(pk=organisation.pk).update(created_at=moment)
    make_organisation(kinds=[term(Taxonomy.ORGANISATION_KINDS, Organisation.PROVIDER_KINDS[0])], ward=wards[0])  # not a VCO
    for start, end, area in (
        (date(2022, 1, 1), date(2026, 12, 31), None),
        (date(2026, 1, 1), date(2026, 12, 31), None),
        (date(2026, 2, 15), date(2026, 11, 10), None),
        (date(2026, 2, 15), date(2026, 11, 10), wards[0]),
        (date(2026, 3, 29), date(2026, 3, 29), wards[1]),
        (date(2001, 1, 1), date(2001, 12, 31), None),
    ):
        scope = selectors.Scope(start=start, end=end, area=area)
        assert _figures_kept(scope) == _figures_live(scope), (start, end, area)
    assert _figures_kept(selectors.Scope(start=date(2026, 2, 15), end=date(2026, 11, 10)))["period"]["groups"]  # something counted
