"""The demo directory: the demo borough (organisations.demo) and what each of its 35 providers offers,
where and when (`load_demo_data` loads both).

Built from a list of service templates matched to each provider's functions and specialism, with a
fixed random seed, so every machine gets the same directory. Loading is idempotent: a service is
recognised by its web address (slug) and a place by its provider and name; anything already there is
left alone. Ids are derived from the slugs, so the Open Referral UK API shows the same UUIDs everywhere.
"""

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.text import slugify

from organisations import demo as demo_borough
from organisations.models import Organisation
from taxonomies.models import Taxonomy, TaxonomyTerm

from .models import Location, Schedule, Service, ServiceAtLocation, ServiceContact

SERVICES_SEED = 20240502
CHANGE_REASON = "Demo data"
_NAMESPACE = uuid.UUID("8d6a3f0e-3c1b-4f3e-9a57-2f1d0c6b7e21")

# Rough centres of the wards, for the places' map positions (and the API's proximity search).
WARD_CENTRES = {
    "bethnal-green-east": (51.5290, -0.0450),
    "bethnal-green-west": (51.5260, -0.0640),
    "blackwall-and-cubitt-town": (51.4960, -0.0080),
    "bow-east": (51.5330, -0.0200),
    "bow-west": (51.5290, -0.0330),
    "bromley-north": (51.5240, -0.0130),
    "bromley-south": (51.5160, -0.0140),
    "canary-wharf": (51.5030, -0.0200),
    "island-gardens": (51.4880, -0.0100),
    "lansbury": (51.5150, -0.0160),
    "limehouse": (51.5120, -0.0380),
    "mile-end": (51.5210, -0.0360),
    "poplar": (51.5080, -0.0170),
    "st-dunstans": (51.5170, -0.0430),
    "st-katharines-and-wapping": (51.5050, -0.0600),
    "shadwell": (51.5110, -0.0560),
    "spitalfields-and-banglatown": (51.5200, -0.0720),
    "stepney-green": (51.5220, -0.0470),
    "weavers": (51.5260, -0.0680),
    "whitechapel": (51.5170, -0.0620),
}


@dataclass
class ServiceTemplate:
    name: str
    description: str
    functions: list[str]
    needs: list[str]
    times: list[tuple[str, str, str]]  # (weekday code, opens, closes)
    hints: tuple[str, ...] = ()  # words in a provider's name that make this its own service
    fee: str = ""  # "" is free; else "amount|what it depends on"
    online: bool = False
    drop_in: bool = False
    booking: bool = False
    notes: str = ""
    stages: tuple[int, ...] = (1, 2, 3)
    segments: list[str] = field(default_factory=list)


TEMPLATES = [
    ServiceTemplate(
        "Funding advice surgery",
        "One-to-one advice on finding and applying for grants: which funders fit your group, how to write a "
        "strong application and how to budget for it. Bring a draft if you have one.",
        ["information-and-advice", "consultancy"],
        ["funding-and-fundraising"],
        [("TU", "10:00", "13:00")],
        drop_in=True,
        notes="No appointment needed; arrive by 12:30.",
    ),
    ServiceTemplate(
        "Trustee and governance training",
        "Evening courses for trustees and management committee members: roles and legal duties, running good "
        "meetings, policies every group needs, and keeping your constitution up to date.",
        ["training"],
        ["governance-and-trustees", "training"],
        [("WE", "18:00", "20:00")],
        booking=True,
        notes="Four-week courses start each term.",
    ),
    ServiceTemplate(
        "Setting up a new group",
        "Help for people starting a community group: choosing a legal structure, writing a constitution, opening "
        "a bank account and your first small grant.",
        ["information-and-advice", "incubation-facilities"],
        ["setting-up-a-new-group", "governance-and-trustees"],
        [("TH", "10:00", "12:30")],
        stages=(1,),
    ),
    ServiceTemplate(
        "Volunteer brokerage",
        "We match people who want to volunteer with local groups that need them, and advertise your roles to "
        "hundreds of would-be volunteers each month.",
        ["brokerage-of-services"],
        ["volunteers-and-volunteering"],
        [("MO", "10:00", "16:00"), ("WE", "10:00", "16:00")],
        hints=("Volunteer",),
        drop_in=True,
    ),
    ServiceTemplate(
        "Managing volunteers well",
        "A practical course on recruiting, supporting and keeping volunteers: role descriptions, induction, "
        "supervision and saying thank you.",
        ["training"],
        ["volunteers-and-volunteering", "training"],
        [("TH", "13:30", "16:30")],
        hints=("Volunteer",),
        booking=True,
        segments=["vcos-managing-volunteers"],
    ),
    ServiceTemplate(
        "Community accountancy service",
        "Independent examination of accounts, annual returns to the Charity Commission and bookkeeping support, "
        "at rates small groups can afford.",
        ["consultancy"],
        ["community-accountancy-and-finance"],
        [("MO", "09:30", "17:00"), ("TH", "09:30", "17:00")],
        hints=("Accountancy",),
        fee="35.00|per hour; free first meeting",
    ),
    ServiceTemplate(
        "Payroll bureau",
        "We run your payroll, pension auto-enrolment and year-end returns, so a small employer does not need its "
        "own payroll software.",
        ["consultancy"],
        ["payroll", "community-accountancy-and-finance"],
        [("TU", "09:30", "16:30")],
        hints=("Accountancy",),
        fee="12.00|per employee per month",
        stages=(2, 3),
    ),
    ServiceTemplate(
        "IT health check and helpdesk",
        "A visit to check your computers, backups, email and cyber security, then a phone and remote helpdesk "
        "for day-to-day problems.",
        ["consultancy", "information-and-advice"],
        ["ict-support"],
        [("MO", "10:00", "16:00"), ("FR", "10:00", "16:00")],
        hints=("IT",),
        online=True,
    ),
    ServiceTemplate(
        "HR and employment advice line",
        "Advice for groups that employ staff: contracts, recruitment, grievances, redundancy and employment law "
        "changes. Model policies and templates included.",
        ["information-and-advice"],
        ["hr-and-employment-advice"],
        [("WE", "10:00", "13:00")],
        hints=("HR", "Law"),
        online=True,
        stages=(2, 3),
    ),
    ServiceTemplate(
        "DBS checking service",
        "We process standard and enhanced DBS (criminal record) checks for staff and volunteers, and advise on "
        "when a check is needed.",
        ["brokerage-of-services"],
        ["dbs-criminal-record-checks"],
        [("TU", "10:00", "15:00")],
        hints=("HR", "Volunteer", "Law"),
        fee="15.00|admin fee per check; free for volunteer roles",
    ),
    ServiceTemplate(
        "Premises and community buildings advice",
        "Advice on finding, leasing and running community premises: asset transfer, leases, licences, health and "
        "safety and accessibility.",
        ["consultancy"],
        ["premises", "health-and-safety"],
        [("TH", "10:00", "13:00")],
        hints=("Premises", "Development Trust"),
        segments=["vcos-developing-or-managing-premises"],
    ),
    ServiceTemplate(
        "Social enterprise development programme",
        "A twelve-week programme for groups that want to trade: business planning, pricing, legal forms and "
        "social investment.",
        ["training", "consultancy"],
        ["social-enterprise-development"],
        [("TU", "14:00", "17:00")],
        hints=("Social Enterprise",),
        booking=True,
        segments=["community-and-social-enterprises"],
    ),
    ServiceTemplate(
        "Quality standards mentoring",
        "A mentor works through a recognised quality standard with you, step by step, from the baseline up to "
        "the level your funders ask for.",
        ["standards-and-best-practice"],
        ["quality-assurance"],
        [("WE", "10:00", "12:00")],
        hints=("Quality",),
        stages=(2, 3),
    ),
    ServiceTemplate(
        "Consortium and bidding support",
        "Help to form partnerships and consortia and bid together for public service contracts: due diligence, "
        "agreements and the bid itself.",
        ["cross-sector-working", "service-co-ordination"],
        ["partnership-and-consortium-working", "public-service-delivery-and-commissioning"],
        [("TH", "14:00", "16:00")],
        hints=("Consortium", "Partnership"),
        stages=(2, 3),
    ),
    ServiceTemplate(
        "Organisational development for BME groups",
        "Culturally aware support for Black and minority ethnic groups: governance, funding and building "
        "capacity, with advisers who speak community languages.",
        ["consultancy", "sector-development"],
        ["bme-specialist-support", "funding-and-fundraising", "governance-and-trustees"],
        [("MO", "10:00", "13:00"), ("TH", "17:00", "19:00")],
        hints=("BME", "Bangladeshi", "Somali", "Refugee"),
        segments=["bme-vcos"],
    ),
    ServiceTemplate(
        "Small grants programme",
        "Grants of up to £5,000 for community groups in the borough. Two rounds a year; we help you apply.",
        ["fund-distribution"],
        ["funding-and-fundraising"],
        [("FR", "10:00", "12:00")],
        hints=("Grants",),
        notes="Application surgeries run in the month before each deadline.",
    ),
    ServiceTemplate(
        "Policy briefings and members' forum",
        "Plain-English briefings on national and local policy that affects the sector, and a forum where members "
        "agree what to tell the council.",
        ["policy", "consultation", "co-ordination-of-common-interest-groups"],
        ["policy-and-information"],
        [("WE", "14:00", "16:00")],
        hints=("Network", "Forum"),
        notes="The forum meets on the first Wednesday of the month.",
    ),
    ServiceTemplate(
        "Research and evidence support",
        "Help to collect and use evidence of your impact: surveys, monitoring frameworks and local statistics.",
        ["research"],
        ["policy-and-information", "quality-assurance"],
        [("TU", "10:00", "16:00")],
        hints=("Research",),
        online=True,
        stages=(2, 3),
    ),
    ServiceTemplate(
        "Health and safety check-up",
        "A visit to your premises or activities with a written report: risk assessments, fire safety, first aid "
        "and safeguarding basics.",
        ["consultancy"],
        ["health-and-safety"],
        [("FR", "09:30", "12:30")],
        fee="40.00|per visit; free for groups with income under £10,000",
    ),
    ServiceTemplate(
        "Youth work network meetings",
        "Bringing together groups working with young people to share practice, plan joint projects and hear "
        "about funding.",
        ["co-ordination-of-common-interest-groups", "service-co-ordination"],
        ["partnership-and-consortium-working"],
        [("TH", "16:00", "18:00")],
        hints=("Youth",),
        segments=["vcos-working-with-young-people"],
    ),
    ServiceTemplate(
        "Ageing well partners' forum",
        "A forum for groups working with older people: training, joint bids and a voice in health and care "
        "planning.",
        ["co-ordination-of-common-interest-groups", "consultation"],
        ["partnership-and-consortium-working", "policy-and-information"],
        [("TU", "14:00", "16:00")],
        hints=("Ageing", "Older"),
        segments=["vcos-working-with-older-people"],
    ),
    ServiceTemplate(
        "Early years provider support",
        "Support for community nurseries, playgroups and parent-and-toddler groups: registration, safeguarding "
        "and funding.",
        ["information-and-advice", "training"],
        ["quality-assurance", "health-and-safety"],
        [("WE", "09:30", "12:00")],
        hints=("Early Years",),
        segments=["vcos-working-with-early-years"],
    ),
    ServiceTemplate(
        "Disability access advice",
        "Advice on making your activities and premises accessible, and on involving disabled people in running "
        "your group.",
        ["information-and-advice", "standards-and-best-practice"],
        ["premises", "quality-assurance"],
        [("MO", "13:00", "16:00")],
        hints=("Disability",),
    ),
    ServiceTemplate(
        "Workforce development courses",
        "Short courses for staff and managers in community organisations: supervision, project management, "
        "safeguarding and leadership.",
        ["training"],
        ["training", "hr-and-employment-advice"],
        [("TU", "09:30", "16:30")],
        hints=("Workforce",),
        booking=True,
        fee="20.00|per day; bursaries available",
        segments=["workforce-development-of-vco-staff-and-management"],
    ),
    ServiceTemplate(
        "Hot desks and incubation space",
        "Low-cost desks, meeting rooms and a registered address for new and small groups, with advice on hand.",
        ["incubation-facilities"],
        ["premises", "setting-up-a-new-group"],
        [("MO", "09:00", "17:00"), ("TU", "09:00", "17:00"), ("WE", "09:00", "17:00"), ("TH", "09:00", "17:00")],
        hints=("Centre", "Hub"),
        fee="5.00|per day",
        stages=(1, 2),
    ),
]

CONTACT_NAMES = ["Amina Rahman", "Tom Fletcher", "Grace Adeyemi", "Sabina Khatun", "Joe Murphy", "Fatima Ali", "Mark Chen"]
CONTACT_TITLES = ["Development Officer", "Training Co-ordinator", "Advice Worker", "Volunteer Co-ordinator", "Project Manager"]


def stable_uuid(*parts) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, ":".join(str(part) for part in parts))


def _choose_templates(rng: random.Random, provider: Organisation, functions: set[str]) -> list[ServiceTemplate]:
    def score(template: ServiceTemplate) -> float:
        own = any(hint.lower() in provider.name.lower() for hint in template.hints)
        return (10 if own else 0) + len(functions & set(template.functions)) + rng.random()

    ranked = sorted(TEMPLATES, key=score, reverse=True)
    return ranked[: rng.randint(2, 4)]


def _time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def load_demo_services(*, providers: list[Organisation], today: date, report) -> None:
    """Give each demo provider its services, places, regular times and contacts, once."""
    rng = random.Random(SERVICES_SEED)
    terms = {
        (taxonomy, code): term
        for term, taxonomy, code in (
            (term, term.taxonomy.code, term.code) for term in TaxonomyTerm.objects.select_related("taxonomy")
        )
    }
    existing_services = set(Service.objects.values_list("slug", flat=True))
    created = existing = places = places_existing = 0
    for provider in sorted(providers, key=lambda organisation: organisation.slug):
        functions = set(provider.functions.values_list("code", flat=True))
        chosen = _choose_templates(rng, provider, functions)
        office = _office(provider, rng)
        places += office[1]
        places_existing += 1 - office[1]
        hall = None
        if rng.random() < 0.4:
            hall, made = _community_hall(provider, rng)
            places += made
            places_existing += 1 - made
        segments = list(provider.segments.all())
        communities = list(provider.communities_served.all())
        languages = list(provider.languages.all())
        for index, template in enumerate(chosen):
            slug = slugify(f"{template.name} {provider.name}")[:200]
            # The random choices are drawn whether or not the service exists, so a partly loaded
            # borough completes to the same directory.
            reviewed_roll, contact_roll, title_roll, age_roll = rng.random(), rng.randrange(99), rng.randrange(99), rng.random()
            outreach_roll = rng.random()
            if slug in existing_services:
                existing += 1
                continue
            if reviewed_roll < 0.15:
                reviewed_on = None
            elif reviewed_roll < 0.35:
                reviewed_on = today - timedelta(days=370 + int(reviewed_roll * 300))
            else:
                reviewed_on = today - timedelta(days=int(reviewed_roll * 330))
            amount, _sep, fee_text = template.fee.partition("|")
            service = Service(
                uuid=stable_uuid("service", slug),
                organisation=provider,
                name=template.name,
                slug=slug,
                description=template.description,
                email=provider.email,
                phone=provider.phone,
                url=provider.website,
                serves_stage_1=1 in template.stages,
                serves_stage_2=2 in template.stages,
                serves_stage_3=3 in template.stages,
                minimum_age=16 if "Youth" in template.name and age_roll < 0.5 else None,
                maximum_age=25 if "Youth" in template.name and age_roll < 0.5 else None,
                geographic_level=provider.geographic_level,
                area_served=provider.area_of_benefit,
                is_online=template.online,
                offers_outreach=index == 0 and outreach_roll < 0.5,
                schedule_notes=template.notes,
                access_drop_in=template.drop_in,
                access_booking=template.booking,
                is_free=not template.fee,
                fee_amount=Decimal(amount) if template.fee else None,
                fee_description=fee_text,
                accessibility=provider.premises_accessibility,
                status=Service.Status.PAUSED if reviewed_roll > 0.97 else Service.Status.ACTIVE,
                last_reviewed_on=reviewed_on,
            )
            service._change_reason = CHANGE_REASON
            service.full_clean(exclude=["locations", "last_reviewed_by"])
            service.save()
            service.functions.set([terms[(Taxonomy.FUNCTIONS, code)] for code in template.functions if (Taxonomy.FUNCTIONS, code) in terms])
            service.needs.set([terms[(Taxonomy.NEEDS, code)] for code in template.needs if (Taxonomy.NEEDS, code) in terms])
            service.segments.set(
                segments + [terms[(Taxonomy.SEGMENTS, code)] for code in template.segments if (Taxonomy.SEGMENTS, code) in terms]
            )
            service.communities.set(communities)
            service.languages.set(languages)
            if provider.geographic_level == Organisation.GeographicLevel.NEIGHBOURHOOD and provider.ward_id:
                service.wards.set([provider.ward])
            where = [office[0]] + ([hall] if hall is not None and index % 2 else [])
            links = [
                ServiceAtLocation.objects.create(uuid=stable_uuid("sal", slug, place.pk), service=service, location=place)
                for place in where
            ]
            for number, (day, opens, closes) in enumerate(template.times):
                Schedule.objects.create(
                    uuid=stable_uuid("schedule", slug, number),
                    service=service,
                    service_at_location=links[0],
                    weekday=day,
                    opens_at=_time(opens),
                    closes_at=_time(closes),
                    attending_type=Schedule.AttendingType.ONLINE if template.online and number else Schedule.AttendingType.IN_PERSON,
                )
            ServiceContact.objects.create(
                uuid=stable_uuid("contact", slug),
                service=service,
                name=CONTACT_NAMES[contact_roll % len(CONTACT_NAMES)],
                title=CONTACT_TITLES[title_roll % len(CONTACT_TITLES)],
                email=provider.email,
                phone=provider.phone,
            )
            created += 1
    _date_services(providers)
    report.count("services", created=created, existing=existing)
    report.count("locations", created=places, existing=places_existing)


def _date_services(providers: list[Organisation]) -> None:
    """Date each demo service's record from its provider's: put on record within four months of the
    provider joining (a fixed number of days per service), so the evidence dashboards count provision
    in past periods. Only ever moved back, so loading twice changes nothing."""
    joined = {provider.pk: provider.created_at for provider in providers}
    late = []
    for service in Service.objects.filter(organisation__in=list(joined)).only("pk", "uuid", "slug", "organisation_id", "created_at"):
        if service.uuid != stable_uuid("service", service.slug):
            continue  # a provider's own service, added after the demo
        planned = joined[service.organisation_id] + timedelta(days=int(demo_borough._roll("service", service.slug) * 120))
        if service.created_at > planned:
            service.created_at = planned
            late.append(service)
    Service.objects.bulk_update(late, ["created_at"], batch_size=500)
    when = {service.pk: service.created_at for service in late}
    first_entries = list(Service.history.filter(id__in=when, history_type="+").only("history_id", "id", "history_date"))
    for entry in first_entries:
        entry.history_date = when[entry.id]
    Service.history.model.objects.bulk_update(first_entries, ["history_date"], batch_size=500)


def _position(ward_code: str, rng: random.Random) -> tuple[Decimal | None, Decimal | None]:
    centre = WARD_CENTRES.get(ward_code)
    if centre is None:
        return None, None
    lat = centre[0] + rng.uniform(-0.003, 0.003)
    lng = centre[1] + rng.uniform(-0.004, 0.004)
    return Decimal(f"{lat:.6f}"), Decimal(f"{lng:.6f}")


def _office(provider: Organisation, rng: random.Random) -> tuple[Location, int]:
    latitude, longitude = _position(provider.ward.code if provider.ward_id else "", rng)
    name = f"{provider.name} office"
    location = Location.objects.filter(organisation=provider, name=name).first()
    if location is not None:
        return location, 0
    location = Location(
        uuid=stable_uuid("location", provider.slug, "office"),
        organisation=provider,
        name=name,
        address_line_1=provider.address_line_1 or "Unit 1",
        town=provider.town or "London",
        postcode=provider.postcode or "E1 1AA",
        ward=provider.ward,
        latitude=latitude,
        longitude=longitude,
        accessibility=provider.premises_accessibility,
    )
    location._change_reason = CHANGE_REASON
    location.save()
    return location, 1


def _community_hall(provider: Organisation, rng: random.Random) -> tuple[Location, int]:
    ward_codes = sorted(WARD_CENTRES)
    ward_code = ward_codes[rng.randrange(len(ward_codes))]
    latitude, longitude = _position(ward_code, rng)
    street_number = rng.randint(1, 120)
    name = f"{provider.name} outreach sessions"
    location = Location.objects.filter(organisation=provider, name=name).first()
    if location is not None:
        return location, 0
    ward = TaxonomyTerm.objects.filter(taxonomy__code=Taxonomy.WARDS, code=ward_code).first()
    location = Location(
        uuid=stable_uuid("location", provider.slug, "outreach"),
        organisation=provider,
        name=name,
        description="Sessions held in a community centre; ask for the room at reception.",
        address_line_1=f"{street_number} Community Centre Road",
        town="London",
        postcode=provider.postcode or "E1 1AA",
        ward=ward,
        latitude=latitude,
        longitude=longitude,
        accessibility="Step-free access, accessible toilet and a hearing loop.",
    )
    location._change_reason = CHANGE_REASON
    location.save()
    return location, 1


def load_demo_data(*, today: date | None = None, seed: int = demo_borough.SEED) -> demo_borough.DemoLoadReport:
    """The whole demo directory: the borough's organisations and people (organisations.demo), then
    the providers' services. Loading twice changes nothing."""
    today = today or timezone.localdate()
    report = demo_borough.load_demo_borough(today=today, seed=seed)
    load_demo_services(providers=demo_borough.demo_providers(), today=today, report=report)
    return report
