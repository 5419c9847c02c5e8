"""A demo joint project and the network's demo grants for the demo borough (directory/demo.py): run after
load_demo_data.

Idempotent: the project is found by its web address and each grant by its reference, and left alone if
there.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from organisations.demo import DEMO_PROVIDER, DEMO_VCO
from organisations.models import Organisation
from taxonomies.models import Taxonomy, TaxonomyTerm

from . import services
from .models import BaselineItem, Grant, Indicator, JointProject

DEMO_PROJECT = "stronger-groups-stronger-borough"
INDICATORS = [
    (Indicator.Kind.OUTPUT, "Groups given one-to-one support", "groups", Indicator.ValueType.WHOLE_NUMBER, 12),
    (Indicator.Kind.OUTPUT, "Training sessions run", "sessions", Indicator.ValueType.WHOLE_NUMBER, 6),
    (Indicator.Kind.OUTCOME, "Groups that won new funding", "groups", Indicator.ValueType.WHOLE_NUMBER, 4),
    (Indicator.Kind.OUTCOME, "Groups feeling more confident about governance", "%", Indicator.ValueType.PERCENTAGE, 60),
]
# Per period, per team member: (support, sessions, funding, confidence); None leaves the return out.
FIGURES = {
    1: [(5, 2, 1, 55), (4, 2, 1, 60), (3, 1, 0, 50), (2, 1, 1, 70)],
    2: [(6, 3, 2, 65), (5, 2, 1, 70), None, (3, 1, 1, 75)],
}


# The network's small grants fund: (reference, title, description, amount, days before today awarded).
DEMO_GRANTS = [
    (
        "demo-2026-001",
        "Volunteer training for a weekly lunch club",
        "Training in food hygiene and safeguarding for the volunteers who run the club's weekly lunch.",
        Decimal(2500),
        120,
    ),
    (
        "demo-2026-002",
        "Translation of a welcome pack",
        "A welcome pack for new families, translated into Bengali and Somali and printed.",
        Decimal("1200.50"),
        75,
    ),
    (
        "demo-2026-003",
        "Governance support for a new committee",
        "Sessions with an adviser to write a constitution, a safeguarding policy and a first budget.",
        Decimal(4000),
        30,
    ),
]
DEMO_GRANT_PROGRAMME = "Community Chest small grants"


# Grants the demo borough's groups received from other funders, as their 360Giving files would have
# them (imported by the grants import in a real portal): (funder org-id, funder name, identifier prefix,
# programme, amounts it gives, number of grants). Real funders' names and org-ids; invented grants.
# City Bridge Trust and Trust for London fund the infrastructure providers, the others groups.
DEMO_FUNDERS = [
    ("GB-CHC-1035628", "City Bridge Trust", "360G-cbt-demo", "Bridging Divides", (15000, 25000, 40000, 30000), 36, "providers"),
    ("GB-GOR-PB188", "The National Lottery Community Fund", "360G-tnlcf-demo", "Awards for All", (3000, 6500, 9800, 10000), 45, "vcos"),
    ("GB-LAE-TWH", "London Borough of Tower Hamlets", "360G-lbth-demo", "Mainstream Grants", (2000, 4000, 6000, 15000), 36, "vcos"),
    ("GB-CHC-290069", "Trust for London", "360G-tfl-demo", "Building Stronger Communities", (8000, 15000, 20000), 27, "providers"),
]
DEMO_RECEIVED_YEARS = 3
# The groups' grants go to those in the wards with the most groups, as funders' programmes cluster.
DEMO_FUNDED_WARDS = 4


# The network's demo baseline of support: (description, function, segment, minimum, free only, reach).
# On the demo borough some are met everywhere, one in a few wards only, one nowhere.
DEMO_BASELINE = [
    ("Free information and advice in every ward", "information-and-advice", None, 1, True, BaselineItem.Reach.EACH_WARD),
    ("Free training for groups, from at least two providers", "training", None, 2, True, BaselineItem.Reach.AREA),
    ("Specialist support for BME groups", "information-and-advice", "bme-vcos", 1, False, BaselineItem.Reach.AREA),
    ("Volunteering support in every ward", "brokerage-of-services", "vcos-managing-volunteers", 1, False, BaselineItem.Reach.EACH_WARD),
    ("Space and help to start a new group in every ward", "incubation-facilities", None, 1, False, BaselineItem.Reach.EACH_WARD),
    ("Small grants from at least two funders", "fund-distribution", None, 2, False, BaselineItem.Reach.AREA),
]


@dataclass
class DemoReport:
    created: bool
    returns: int = 0
    grants: int = 0


@transaction.atomic
def load_evidence_demo() -> DemoReport:
    grants = _load_demo_grants() + _load_demo_received_grants()
    _load_demo_baseline()
    if JointProject.objects.filter(slug=DEMO_PROJECT).exists():
        return DemoReport(created=False, grants=grants)
    lead = Organisation.objects.filter(slug=DEMO_PROVIDER).first()
    vco = Organisation.objects.filter(slug=DEMO_VCO).first()
    if lead is None or vco is None:
        raise LookupError(_("The demo organisations are missing: run `manage.py load_demo_data` first."))
    others = list(Organisation.objects.vcos().active().exclude(pk=vco.pk).order_by("name")[:2])
    funder = User.objects.filter(username="funder").first()
    officer = User.objects.filter(username="officer").first()
    project = services.save_project(
        project=JointProject(),
        data={
            "title": "Stronger Groups, Stronger Borough",
            "lead": lead,
            "start_date": date(2026, 1, 1),
            "end_date": date(2026, 12, 31),
            "budget": Decimal("48000"),
            "aims": "Help new and small groups in the east of the borough to **govern themselves well**, win funding and "
            "train their volunteers, working with the groups' own networks.",
            "other_funders": "Borough Council Communities Fund",
            "period_length": JointProject.PeriodLength.QUARTERLY,
            "return_due_days": 30,
        },
        partners=[vco, *others],
        funders=[],
        funder_accounts=[funder] if funder and funder.is_funder else [],
        by=officer,
    )
    indicators = []
    for order, (kind, name, unit, value_type, target) in enumerate(INDICATORS):
        indicators.append(
            services.save_indicator(
                indicator=Indicator(project=project),
                data={"kind": kind, "name": name, "unit": unit, "value_type": value_type, "order": order},
                target_per_period=Decimal(target),
            )
        )
    team = [lead, vco, *others]
    report = DemoReport(created=True, grants=grants)
    for number, rows in FIGURES.items():
        period = project.periods.get(number=number)
        for organisation, row in zip(team, rows, strict=True):
            if row is None:
                continue
            monitoring_return = services.return_for(project=project, period=period, partner=organisation)
            services.save_return(
                monitoring_return=monitoring_return,
                figures={indicator.pk: str(value) for indicator, value in zip(indicators, row, strict=True)},
                narrative=_("Sessions ran as planned; two new groups came through the networks."),
                submit=True,
                by=officer,
            )
            report.returns += 1
            if number == 1 and organisation == vco:
                services.add_case_study(
                    monitoring_return=monitoring_return,
                    title=_("From a kitchen table to a registered charity"),
                    subject_description=_("a women's group meeting in a community centre in Bow"),
                    story=_(
                        "The group had met for years without a bank account. With one-to-one support it adopted a "
                        "constitution, elected trustees and **won its first grant**, which now pays for a weekly English class."
                    ),
                    consent_given=True,
                    consent_how=_("Agreed by the group's committee, minuted at its March meeting"),
                    outcome=indicators[2],
                    by=officer,
                    featured=True,
                )
    return report


def _load_demo_grants() -> int:
    """Grants from the network's small grants fund to demo VCOs with a charity or company number; the
    number of grants added."""
    has_number = Q(charity_number__gt="") | Q(company_number__gt="")
    recipients = list(Organisation.objects.vcos().active().filter(has_number).order_by("name")[: len(DEMO_GRANTS)])
    today = timezone.localdate()
    added = 0
    for (reference, title, description, amount, days_ago), recipient in zip(DEMO_GRANTS, recipients, strict=False):
        if Grant.objects.filter(direction=Grant.Direction.DISTRIBUTED, reference=reference).exists():
            continue
        award_date = today - timedelta(days=days_ago)
        services.record_grant(
            data={
                "reference": reference,
                "title": title,
                "description": description,
                "amount_awarded": amount,
                "award_date": award_date,
                "planned_start_date": award_date + timedelta(days=14),
                "planned_end_date": award_date + timedelta(days=14 + 180),
                "recipient": recipient,
                "grant_programme": DEMO_GRANT_PROGRAMME,
                "beneficiary_ward": recipient.ward,
            }
        )
        added += 1
    return added


def _load_demo_received_grants() -> int:
    """Grants from four named funders to demo organisations with a register number (groups, and
    infrastructure providers), spread over the past three years: the same grants on
    every run for a given day, each found by its identifier and left alone if there. The number added."""
    has_number = Q(charity_number__gt="") | Q(company_number__gt="")
    vcos = Organisation.objects.vcos().active().filter(has_number, ward__isnull=False)
    wards = list(
        vcos.values_list("ward_id").annotate(n=Count("pk")).order_by("-n", "ward__name").values_list("ward_id", flat=True)[:DEMO_FUNDED_WARDS]
    )
    pools = {
        "vcos": list(vcos.filter(ward__in=wards).order_by("slug").values_list("pk", flat=True)),
        "providers": list(Organisation.objects.providers().active().filter(has_number).order_by("slug").values_list("pk", flat=True)),
    }
    if not pools["vcos"]:
        return 0
    pools["providers"] = pools["providers"] if len(pools["providers"]) >= 5 else pools["vcos"]
    organisations = Organisation.objects.in_bulk(pools["vcos"] + pools["providers"])
    today = timezone.localdate()
    span = 365 * DEMO_RECEIVED_YEARS - 10
    existing = set(Grant.objects.filter(direction=Grant.Direction.RECEIVED, identifier__contains="-demo-").values_list("identifier", flat=True))
    added = 0
    for number, (org_id, name, prefix, programme, amounts, how_many, recipients) in enumerate(DEMO_FUNDERS):
        pool = pools[recipients]
        for n in range(how_many):
            identifier = f"{prefix}-{n + 1:03d}"
            if identifier in existing:
                continue
            # Spread over the pool and the three years with steps that share no factor with them.
            recipient = organisations[pool[(number * 7 + n * 5) % len(pool)]]
            award_date = today - timedelta(days=5 + (number * 53 + n * 97) % span)
            grant = Grant(
                identifier=identifier,
                direction=Grant.Direction.RECEIVED,
                title=_("%(programme)s grant") % {"programme": programme},
                description=_("A grant towards the group's running costs and activities."),
                amount_awarded=Decimal(amounts[n % len(amounts)]),
                award_date=award_date,
                recipient=recipient,
                funder_org_id=org_id,
                funder_name=name,
                grant_programme=programme,
                beneficiary_ward=recipient.ward,
            )
            grant.full_clean()
            grant.save()
            added += 1
    return added


def _load_demo_baseline() -> int:
    """The demo baseline of support, unless the network has set one already: the items added."""
    if BaselineItem.objects.exists():
        return 0
    terms = {
        (taxonomy, code): term
        for taxonomy, code, term in (
            (term.taxonomy.code, term.code, term)
            for term in TaxonomyTerm.objects.filter(taxonomy__code__in=[Taxonomy.FUNCTIONS, Taxonomy.SEGMENTS]).select_related("taxonomy")
        )
    }
    added = 0
    for order, (description, function, segment, minimum, free_only, reach) in enumerate(DEMO_BASELINE):
        if (Taxonomy.FUNCTIONS, function) not in terms:
            continue
        BaselineItem.objects.create(
            description=description,
            function=terms[(Taxonomy.FUNCTIONS, function)],
            segment=terms.get((Taxonomy.SEGMENTS, segment)) if segment else None,
            minimum_providers=minimum,
            free_only=free_only,
            reach=reach,
            order=(order + 1) * 10,
        )
        added += 1
    return added
