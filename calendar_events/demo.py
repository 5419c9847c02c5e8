"""A year of the community calendar for the demo borough (directory/demo.py), and what is coming up:
providers' training (most of it), networking, funding information, forums and a consultation, at their
venues or online, free or charged, a few of them repeating; bookings and attendance on the dates held,
bookings and a waiting list on the dates to come; one event cancelled and one postponed; VCOs' events
waiting for a moderator; notices on the board. Loaded by `manage.py load_calendar_demo`, after
`manage.py load_demo_data`; besides calendar records it adds only the people who book and organise
(directory/demo_people.py) and a venue for each VCO that posts an event.

Events are written through calendar_events.services (so series ends, UIDs, moderation and the checks
are as in real use) and bookings on dates to come through its booking service. The service refuses
bookings on dates gone by, so those are written directly, within the event's places, and attendance is
then marked through the service. Emails the history plans (the cancellation and postponement notices)
are cancelled before the load commits, never queued.

Idempotent: events are found by their iCalendar UID, notices by organisation and title; what exists is
left alone, and bookings are made only for events made in the same run. Seeded, so the same day gives
the same calendar.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import User
from directory.models import Location
from notifications.services import cancel_pending_reminders
from notifications.tasks import reminders_not_queued
from organisations.demo import DEMO_PROVIDER, DEMO_VCO
from organisations.demo_people import demo_people
from organisations.models import Organisation
from taxonomies.models import Taxonomy, TaxonomyTerm

from . import recurrence, services
from .models import Booking, Category, Event, Notice

SEED = 8
PAST_DAYS = 365
AHEAD_DAYS = 92
BOOKERS = 70  # VCOs whose contacts book places


@dataclass(frozen=True)
class EventTemplate:
    key: str  # makes the event's UID, the same on every run
    title: str
    category: str
    organiser: str  # a demo provider's slug
    description: str
    starts: str  # wall-clock time, "10:00"
    hours: float
    capacity: int | None  # None: no limit
    runs: int = 1  # one-off events held this many times over the year and the months ahead
    cost: str = ""  # "" is free; else "amount|about the cost"
    online: bool = False
    hybrid: bool = False  # at the venue and online
    stages: tuple[int, ...] = (1, 2, 3)
    segments: tuple[str, ...] = ()
    communities: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    # Series: how often; the first date (days from today, moved on to the weekday, or for a monthly
    # series the nth weekday of that month); the end (a number of times, or days from today); and the
    # dates (by number, counting from 0) it does not happen.
    frequency: str = Event.Frequency.ONCE
    weekday: int = 1
    nth: int = 0
    first: int = 0
    count: int | None = None
    until: int | None = None
    skip: tuple[int, ...] = ()


# fmt: off
EVENTS = [
    EventTemplate(
        "governance-intro", "Introduction to charity governance", Category.TRAINING, DEMO_PROVIDER,
        "What trustees and committee members are responsible for, how to run good meetings and which documents "
        "every group should have. For **new and small groups**; bring your constitution if you have one.",
        "10:00", 3, 20, runs=4, stages=(1, 2),
    ),
    EventTemplate(
        "funding-bid", "Writing a winning funding bid", Category.TRAINING, DEMO_PROVIDER,
        "Read a funder's criteria, say what will change and for whom, and cost your project fully. With examples "
        "of bids that won.",
        "10:00", 3, 16, runs=4,
    ),
    EventTemplate(
        "budgeting", "Budgeting and financial controls for small groups", Category.TRAINING,
        "east-london-community-accountancy-service",
        "Set a yearly budget, keep a cash book, check it against the bank and report to your committee.",
        "14:00", 2.5, 15, runs=3, cost="15|Free for groups with an income under £10,000.", stages=(1, 2),
    ),
    EventTemplate(
        "safeguarding", "Safeguarding essentials", Category.TRAINING, "tower-hamlets-youth-work-partnership",
        "Recognise, record and report concerns about children and adults at risk; name a safeguarding lead; "
        "decide which roles need a DBS check.",
        "10:00", 3, 20, runs=4, cost="10|Includes a certificate of attendance.",
        segments=("vcos-working-with-young-people",),
    ),
    EventTemplate(
        "managing-volunteers", "Managing volunteers well", Category.TRAINING, "tower-hamlets-volunteer-centre",
        "Recruit, induct, support and thank volunteers, and what to do when things go wrong.",
        "10:00", 3, 18, runs=3, segments=("vcos-managing-volunteers",),
    ),
    EventTemplate(
        "data-protection", "Data protection for small charities", Category.TRAINING, "community-it-tower-hamlets",
        "UK GDPR in plain words: what personal data you hold, why, how to keep it safe and how long to keep it.",
        "11:00", 2, 30, runs=3, online=True,
    ),
    EventTemplate(
        "recruiting-trustees", "Recruiting and inducting trustees", Category.TRAINING, DEMO_PROVIDER,
        "Find the skills your board lacks, advertise for trustees and welcome them well. An evening session for "
        "committee members who work in the day.",
        "18:30", 2, 20, runs=2,
    ),
    EventTemplate(
        "employment-law", "Employment law update for small employers", Category.TRAINING,
        "east-london-charity-law-and-hr-service",
        "Contracts, holiday pay, sickness and this year's changes to the law, for groups employing their first staff.",
        "10:00", 2.5, 25, runs=2, cost="25|Half price for network members.", stages=(2, 3),
    ),
    EventTemplate(
        "premises-safety", "Health and safety for community premises", Category.TRAINING,
        "docklands-community-premises-trust",
        "Fire risk assessments, first aid, safe lifting and what your insurer expects, with a walk round our hall.",
        "10:00", 3, 12, runs=2, cost="20|", segments=("vcos-developing-or-managing-premises",),
    ),
    EventTemplate(
        "impact", "Measuring your impact", Category.TRAINING, "tower-hamlets-community-research-partnership",
        "Outputs and outcomes, simple ways to collect evidence, and telling your story to funders.",
        "14:00", 3, 16, runs=3,
    ),
    EventTemplate(
        "social-media", "Social media for community groups", Category.TRAINING, "community-it-tower-hamlets",
        "Plan a month of posts, take better photos on a phone and keep your accounts safe.",
        "18:00", 1.5, 40, runs=2, online=True,
    ),
    EventTemplate(
        "social-enterprise", "Setting up a social enterprise", Category.TRAINING,
        "tower-hamlets-social-enterprise-partnership",
        "Legal forms, pricing, trading income and what funders and banks want to see.",
        "10:00", 3, 15, runs=2, cost="12|", segments=("community-and-social-enterprises",),
    ),
    EventTemplate(
        "bme-bid-writing", "Bid writing for BME-led groups", Category.TRAINING,
        "tower-hamlets-bme-capacity-building-project",
        "A practical session on winning funding, led in English with Bengali and Sylheti support.",
        "11:00", 3, 16, runs=3, segments=("bme-vcos",), communities=("black-and-minority-ethnic-communities",),
        languages=("en", "bn", "syl"),
    ),
    EventTemplate(
        "tendering", "Tendering and consortium working", Category.TRAINING,
        "tower-hamlets-consortium-for-public-services",
        "How council contracts are bought, how to read a tender and how groups bid together.",
        "10:00", 3, 20, runs=2, stages=(2, 3),
    ),
    EventTemplate(
        "mental-health", "Mental health awareness for volunteers", Category.TRAINING,
        "tower-hamlets-health-and-wellbeing-network",
        "Spot the signs, start a conversation and know where to refer. Online, with breakout rooms.",
        "10:00", 3, 18, runs=3, online=True,
    ),
    EventTemplate(
        "quality-baseline", "Quality standards: getting to the baseline", Category.TRAINING,
        "tower-hamlets-quality-standards-partnership",
        "Walk through the network's quality standard, area by area, and plan the evidence you need.",
        "14:00", 2.5, 14, runs=2, stages=(2, 3),
    ),
    EventTemplate(
        "networking-lunch", "Voluntary sector networking lunch", Category.NETWORKING, DEMO_PROVIDER,
        "Meet other groups, providers and council officers over lunch. Short updates from the network, then time "
        "to talk.",
        "12:30", 2, 50, runs=4,
    ),
    EventTemplate(
        "island-meetup", "Island groups' meet-up", Category.NETWORKING, "isle-of-dogs-community-development-trust",
        "Groups on the Isle of Dogs share news, rooms and volunteers.",
        "18:00", 2, 30, runs=2,
    ),
    EventTemplate(
        "faith-networking", "Faith and community networking evening", Category.NETWORKING,
        "tower-hamlets-faith-network",
        "Faith groups and community organisations meet to plan joint work in their neighbourhoods.",
        "18:30", 2, 40, runs=2, communities=("faith-communities",),
    ),
    EventTemplate(
        "grants-information", "Community grants round: information session", Category.FUNDING,
        "tower-hamlets-community-grants-fund",
        "What the next round funds, who can apply, how to apply and the dates. Questions answered.",
        "10:30", 1.5, 40, runs=3, hybrid=True,
    ),
    EventTemplate(
        "meet-the-funders", "Meet the funders", Category.FUNDING, "london-voluntary-sector-partnership",
        "Trusts, the National Lottery and the council on what they fund this year, with one-to-one tables.",
        "13:30", 3, 60, runs=2,
    ),
    EventTemplate(
        "older-peoples-forum", "Older people's forum: open meeting", Category.FORUM, "ageing-well-tower-hamlets",
        "Groups working with older people hear from the council's adult social care team and raise their concerns.",
        "14:00", 2, 40, runs=2, communities=("older-people",), segments=("vcos-working-with-older-people",),
    ),
    EventTemplate(
        "vcs-strategy", "Borough voluntary sector strategy: have your say", Category.CONSULTATION, DEMO_PROVIDER,
        "The council and the network are drafting a five-year strategy for the sector. Tell us what should be in it.",
        "17:30", 2, 60, runs=1, hybrid=True,
    ),
    EventTemplate(
        "volunteers-thank-you", "Thank-you evening for volunteers", Category.SOCIAL, "tower-hamlets-volunteer-centre",
        "Certificates, food and music to thank the borough's volunteers. Bring your volunteers along.",
        "17:00", 3, 80, runs=1,
    ),
    # Series.
    EventTemplate(
        "funding-surgery", "Funding surgery: one-to-one bid advice", Category.FUNDING, DEMO_PROVIDER,
        "Book a 30-minute slot with a funding adviser to talk through your idea or a draft bid.",
        "10:00", 2, 4, frequency=Event.Frequency.WEEKLY, weekday=1, first=-70, until=42, skip=(5,),
    ),
    EventTemplate(
        "trustee-breakfast", "Trustee network breakfast", Category.NETWORKING, "poplar-community-development-agency",
        "Chairs, treasurers and trustees meet over breakfast to share what works. Second Wednesday of the month.",
        "08:30", 1.5, 25, frequency=Event.Frequency.MONTHLY, weekday=2, nth=2, first=-275, count=12,
    ),
    EventTemplate(
        "volunteer-coordinators", "Volunteer co-ordinators' forum", Category.FORUM, "tower-hamlets-volunteer-centre",
        "Volunteer co-ordinators from groups across the borough compare notes. Third Thursday of the month.",
        "14:00", 1.5, 30, frequency=Event.Frequency.MONTHLY, weekday=3, nth=3, first=-150, count=8,
        segments=("vcos-managing-volunteers",),
    ),
    EventTemplate(
        "digital-drop-in", "Digital drop-in for small groups", Category.TRAINING, "community-it-tower-hamlets",
        "Bring your questions about laptops, email, shared files and websites. Online, every other Thursday.",
        "16:00", 1.5, 12, online=True, frequency=Event.Frequency.FORTNIGHTLY, weekday=3, first=-84, count=10,
    ),
]
# VCOs' own events, posted by their editors: (key, VCO slug, title, category, description, days ahead, published).
VCO_EVENTS = [
    ("sewing-open-day", DEMO_VCO, "Open day: sewing circle and English conversation", Category.SOCIAL,
     "Come and see what we do: tea, sewing and a conversation class. Women of all ages welcome.", 24, False),
    ("eid-lunch", "poplar-somali-elders-association", "Eid lunch for elders", Category.SOCIAL,
     "A shared lunch for Somali elders and their families.", 38, False),
    ("football-tournament", "island-gardens-youth-football-club", "Five-a-side tournament", Category.OTHER,
     "Teams of under-14s and under-16s from across the island. Players must be registered with a club.", 52, False),
    ("garden-planting", "aberfeldy-community-garden", "Winter planting day", Category.OTHER,
     "Help us plant bulbs and fruit trees. Gloves and tea provided.", 12, True),
]
# (organisation slug, title, category, text, days until it comes down)
NOTICES = [
    ("tower-hamlets-community-grants-fund", "Community Grants Fund: the next round opens soon", Notice.Category.FUNDING,
     "Grants of up to £10,000 for groups working in the borough. Come to an information session to find out more.", 45),
    ("tower-hamlets-volunteer-centre", "Befrienders wanted for older neighbours", Notice.Category.VOLUNTEERING,
     "An hour a week to visit or phone an older person living alone. Training and support given.", 60),
    ("docklands-community-premises-trust", "Meeting rooms to hire in Cubitt Town", Notice.Category.PREMISES,
     "Rooms for 10 to 60 people, with step-free access and a kitchen, from £12 an hour for community groups.", 120),
    ("east-london-charity-law-and-hr-service", "Free HR helpline for small charities", Notice.Category.INFORMATION,
     "Call us on 020 7946 0458, Tuesdays and Thursdays, 10:00 to 13:00, with any staff or volunteer question.", 90),
    (DEMO_PROVIDER, "Job: part-time development worker (21 hours)", Notice.Category.JOBS,
     "Support new groups in the east of the borough. Closing date in three weeks; ask for an information pack.", 21),
    (DEMO_VCO, "Sewing machines looking for a new home", Notice.Category.OTHER,
     "We have three working sewing machines to give to another group. Collect from Roman Road.", 30),
]
# fmt: on


@dataclass
class DemoReport:
    events_created: int = 0
    events_existing: int = 0
    dates_held: int = 0
    bookings: dict[str, int] = field(default_factory=lambda: dict.fromkeys(Booking.Status.values, 0))
    attended: int = 0
    awaiting_moderation: int = 0
    notices_created: int = 0
    notices_existing: int = 0


def _uid(key: str, run: int = 0) -> str:
    return f"demo-{key}-{run}@{settings.PORTAL_CALENDAR_UID_DOMAIN}"


def _on_weekday(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _closed_for_christmas(day: date) -> bool:
    return (day.month, day.day) >= (12, 22) or (day.month, day.day) <= (1, 2)


def _run_days(rng: random.Random, template: EventTemplate, today: date) -> list[date]:
    """The dates a one-off event is held, Tuesday to Thursday (a Saturday for a celebration), never in the
    Christmas week: spread over the year gone, the last of several in the weeks ahead (providers post
    their next dates), a single one anywhere."""
    # Three weeks spare at the far end, for moving a date on to its weekday and out of Christmas week.
    first, last = today - timedelta(days=PAST_DAYS - 7), today + timedelta(days=AHEAD_DAYS - 22)
    past = template.runs - 1 if template.runs > 1 else 0
    days = [first + timedelta(days=int((run + rng.uniform(0.1, 0.9)) * (PAST_DAYS - 17) / past)) for run in range(past)]
    days.append(
        today + timedelta(days=rng.randint(6, (last - today).days))
        if template.runs > 1
        else first + timedelta(days=rng.randint(0, (last - first).days))
    )
    days = [_on_weekday(day, 5 if template.category == Category.SOCIAL else rng.choice([1, 2, 3])) for day in days]
    return [day + timedelta(days=14) if _closed_for_christmas(day) else day for day in days]


def _event_data(template: EventTemplate, *, day: date, venue: Location | None, terms: dict) -> dict:
    hours, minutes = (int(part) for part in template.starts.split(":"))
    start = recurrence.make_local(datetime.combine(day, time(hours, minutes)))
    amount, _sep, notes = template.cost.partition("|")
    data = {
        "title": template.title,
        "description": template.description,
        "category": template.category,
        "start": start,
        "end": recurrence.make_local(
            datetime.combine(day, time(hours, minutes)) + timedelta(minutes=int(template.hours * 60))
        ),
        "frequency": template.frequency,
        "repeat_count": template.count,
        "repeat_until": day + timedelta(days=template.until - template.first) if template.until is not None else None,
        "venue": None if template.online else venue,
        "online_url": f"https://meet.example.org/thin-{template.key}" if template.online or template.hybrid else "",
        "capacity": template.capacity,
        "booking_required": True,
        "is_free": not amount,
        "cost": Decimal(amount) if amount else None,
        "cost_notes": notes,
        "segments": [terms[(Taxonomy.SEGMENTS, code)] for code in template.segments],
        "communities": [terms[(Taxonomy.COMMUNITIES, code)] for code in template.communities],
        "languages": [terms[(Taxonomy.LANGUAGES, code)] for code in template.languages],
        **{f"for_stage_{n}": n in template.stages for n in (1, 2, 3)},
    }
    if template.frequency != Event.Frequency.ONCE:
        starts = recurrence.local_starts(
            start=start, frequency=template.frequency, count=data["repeat_count"], until=data["repeat_until"]
        )
        data["exceptions"] = [
            value.date() for n, value in enumerate(starts) if n in template.skip or _closed_for_christmas(value.date())
        ]
    return data


@transaction.atomic
def load_calendar_demo(*, now: datetime | None = None) -> DemoReport:
    now = now or timezone.now()
    with reminders_not_queued():
        return _load(now=now, today=timezone.localdate(now))


def _load(*, now: datetime, today: date) -> DemoReport:
    report = DemoReport()
    rng = random.Random(SEED)
    slugs = {template.organiser for template in EVENTS} | {row[1] for row in VCO_EVENTS} | {row[0] for row in NOTICES}
    organisations = {o.slug: o for o in Organisation.objects.active().filter(slug__in=slugs)}
    vcos = list(Organisation.objects.vcos().active().exclude(slug__in=slugs).order_by("slug"))
    if DEMO_PROVIDER not in organisations or not vcos:
        raise LookupError("The demo borough is missing: run `manage.py load_demo_data` first.")
    terms = {
        (taxonomy, code): pk
        for taxonomy, code, pk in TaxonomyTerm.objects.filter(
            taxonomy__code__in=[Taxonomy.SEGMENTS, Taxonomy.COMMUNITIES, Taxonomy.LANGUAGES]
        ).values_list("taxonomy__code", "code", "pk")
    }
    bookers = rng.sample(vcos, min(BOOKERS, len(vcos)))
    people = demo_people(list(organisations.values()) + bookers)
    pool = [(people[organisation.pk], organisation) for organisation in bookers]
    demo_vco = organisations.get(DEMO_VCO)
    editor = (people[demo_vco.pk], demo_vco) if demo_vco else None
    existing = set(Event.objects.filter(uid__startswith="demo-").values_list("uid", flat=True))
    venues: dict[int, Location] = {}
    for location in Location.objects.filter(organisation__in=list(organisations.values())).order_by("pk"):
        venues.setdefault(location.organisation_id, location)

    made: list[Event] = []
    for template in EVENTS:
        organiser = organisations.get(template.organiser)
        for run, day in enumerate(_days(rng, template, today)):
            uid = _uid(template.key, run)
            if uid in existing or organiser is None:
                report.events_existing += uid in existing
                continue
            made.append(
                services.save_event(
                    event=Event(organiser=organiser, uid=uid),
                    data=_event_data(template, day=day, venue=venues.get(organiser.pk), terms=terms),
                    by=people[organiser.pk],
                )
            )
    admin = User.objects.filter(role=User.Role.NETWORK_ADMIN, is_active=True).order_by("pk").first()
    for key, slug, title, category, description, days_ahead, published in VCO_EVENTS:
        organiser, uid = organisations.get(slug), _uid(key)
        if uid in existing or organiser is None:
            report.events_existing += uid in existing
            continue
        day = today + timedelta(days=days_ahead)
        start = recurrence.make_local(
            datetime.combine(day + timedelta(days=14 * _closed_for_christmas(day)), time(11, 0))
        )
        event = services.save_event(
            event=Event(organiser=organiser, uid=uid),
            data={
                "title": title,
                "description": description,
                "category": category,
                "start": start,
                "end": start + timedelta(hours=4),
                "venue": _vco_venue(organiser, by=people[organiser.pk]),
            },
            by=people[organiser.pk],
        )
        if published and admin is not None:
            event = services.moderate_event(event=event, approve=True, by=admin)
            # Published long ago in the story: its author was told then, nothing is sent now.
            cancel_pending_reminders(key_prefix=f"calendar-moderated:event:{event.pk}:", reason="Demo history: not sent.")
        made.append(event)
    report.events_created = len(made)
    report.awaiting_moderation = sum(event.moderation == Event.Moderation.PENDING for event in made)

    _backdate(made, rng=rng, now=now)
    bookable = [
        event
        for event in made
        if event.is_published and event.booking_required and event.status == Event.Status.SCHEDULED
    ]
    _book_past(bookable, rng=rng, now=now, pool=pool, report=report)
    upcoming = [event for event in bookable if event.frequency == Event.Frequency.ONCE and event.start > now]
    cancelled = next(
        (e for e in upcoming if e.category == Category.TRAINING and e.start > now + timedelta(days=7)), None
    )
    postponed = next(
        (e for e in upcoming if e.category != Category.TRAINING and e.start > now + timedelta(days=10)), None
    )
    _book_ahead(bookable, rng=rng, now=now, pool=pool, editor=editor, changing={cancelled, postponed})
    # Plans change after people have booked. They were told at the time, in the story: nothing is sent now.
    for event, status in ((cancelled, Event.Status.CANCELLED), (postponed, Event.Status.POSTPONED)):
        if event is not None:
            services.set_event_status(event=event, status=status, by=event.created_by)
            cancel_pending_reminders(key_prefix=f"calendar-change:{event.pk}:", reason="Demo history: not sent.")
    for status, n in Booking.objects.filter(event__in=made).values_list("status").annotate(n=Count("pk")):
        report.bookings[status] = n
    _load_notices(organisations, people=people, rng=rng, today=today, report=report)
    return report


def _days(rng: random.Random, template: EventTemplate, today: date) -> list[date]:
    """The first date of each run of an event."""
    if template.frequency == Event.Frequency.ONCE:
        return _run_days(rng, template, today)
    first = today + timedelta(days=template.first)
    if template.nth:  # a monthly series: the nth weekday of its first month
        return [_on_weekday(first.replace(day=1), template.weekday) + timedelta(days=7 * (template.nth - 1))]
    return [_on_weekday(first, template.weekday)]


def _vco_venue(organisation: Organisation, *, by: User) -> Location:
    """The VCO's own meeting place, added to its record for its event (once)."""
    name = f"{organisation.name} meeting room"
    return Location.objects.filter(organisation=organisation, name=name).first() or services.create_location(
        organisation=organisation,
        data={
            "name": name,
            "address_line_1": organisation.address_line_1 or "Community hall",
            "postcode": organisation.postcode or "E1 1AA",
            "ward": organisation.ward,
            "accessibility": organisation.premises_accessibility,
        },
        by=by,
    )


def _backdate(events: list[Event], *, rng: random.Random, now: datetime) -> None:
    """Events are posted some weeks before they start, not all on the day the demo was loaded."""
    for event in events:
        event.created_at = event.updated_at = min(
            event.start - timedelta(days=rng.randint(14, 45), minutes=rng.randrange(600)),
            now - timedelta(hours=rng.randint(2, 72)),
        )
    Event.objects.bulk_update(events, ["created_at", "updated_at"])


def _booked_at(rng: random.Random, event: Event, occurrence_start: datetime) -> datetime:
    return max(
        event.created_at + timedelta(hours=1),
        occurrence_start - timedelta(days=rng.randint(1, 28), minutes=rng.randrange(600)),
    )


def _book_past(events: list[Event], *, rng: random.Random, now: datetime, pool: list, report: DemoReport) -> None:
    """Places booked on the dates gone by, from under half to all of the places, now and then one
    cancelled; then who came, marked through the service."""
    bookings = []
    for event in events:
        for occurrence in recurrence.occurrences(event, window_end=now):
            if occurrence.start >= now:
                continue
            places = event.capacity or 25
            booked = min(rng.randint(places * 9 // 20 + 1, places), len(pool) - 1)
            drawn = rng.sample(pool, booked + 1)
            for user, organisation in drawn[:booked]:
                bookings.append(
                    Booking(
                        event=event,
                        occurrence_start=occurrence.start,
                        user=user,
                        organisation=organisation,
                        created_at=_booked_at(rng, event, occurrence.start),
                    )
                )
            if rng.random() < 0.2:
                user, organisation = drawn[booked]
                booked_at = _booked_at(rng, event, occurrence.start)
                bookings.append(
                    Booking(
                        event=event,
                        occurrence_start=occurrence.start,
                        user=user,
                        organisation=organisation,
                        status=Booking.Status.CANCELLED,
                        created_at=booked_at,
                        cancelled_at=booked_at + (occurrence.start - booked_at) / 2,
                    )
                )
    came: dict[tuple[int, datetime], set[int]] = {}
    for booking in Booking.objects.bulk_create(bookings, batch_size=500):
        if booking.status == Booking.Status.BOOKED:
            attended = came.setdefault((booking.event_id, booking.occurrence_start), set())
            if rng.random() < 0.82:
                attended.add(booking.pk)
    by_pk = {event.pk: event for event in events}
    for (event_id, occurrence_start), attended in came.items():
        report.attended += services.mark_attendance(
            event=by_pk[event_id], occurrence_start=occurrence_start, attended_ids=attended
        )
        report.dates_held += 1


def _book_ahead(
    events: list[Event],
    *,
    rng: random.Random,
    now: datetime,
    pool: list,
    editor: tuple[User, Organisation] | None,
    changing: set,
) -> None:
    """Places booked on the dates to come, through the booking service: fuller in the next three weeks;
    the first training session after the next few days full, with people waiting (the demo VCO's
    editor third); the editor booked on the next two one-off events besides. `changing`: events about
    to be cancelled or postponed, which the editor stays out of."""
    ahead = sorted(
        (
            (event, occurrence)
            for event in events
            for occurrence in recurrence.occurrences(
                event, window_start=now + timedelta(hours=2), window_end=now + timedelta(days=AHEAD_DAYS)
            )
        ),
        key=lambda pair: pair[1].start,
    )
    full = next(
        (
            (event, occurrence)
            for event, occurrence in ahead
            if event.category == Category.TRAINING
            and event.frequency == Event.Frequency.ONCE
            and event not in changing
            and occurrence.start > now + timedelta(days=3)
        ),
        (None, None),
    )
    editor_booked = 0
    for event, occurrence in ahead:
        places = event.capacity or 25
        if (event, occurrence) == full:
            drawn = rng.sample(pool, min(places + 2, len(pool)))
        else:
            share = rng.uniform(0.5, 0.9) if occurrence.start < now + timedelta(weeks=3) else rng.uniform(0.1, 0.5)
            drawn = rng.sample(pool, min(max(1, round(places * share)), len(pool)))
        if editor is not None and (event, occurrence) == full:
            drawn.append(editor)
        elif (
            editor is not None
            and editor_booked < 2
            and event.frequency == Event.Frequency.ONCE
            and event not in changing
            and len(drawn) < places
        ):
            drawn.append(editor)
            editor_booked += 1
        for user, organisation in drawn:
            services.book(
                event=event,
                occurrence_start=occurrence.start,
                user=user,
                organisation=organisation,
                join_waiting_list=True,
            )


def _load_notices(
    organisations: dict[str, Organisation],
    *,
    people: dict[int, User],
    rng: random.Random,
    today: date,
    report: DemoReport,
) -> None:
    for slug, title, category, text, days in NOTICES:
        organisation = organisations.get(slug)
        if organisation is None:
            continue
        if Notice.objects.filter(organisation=organisation, title=title).exists():
            report.notices_existing += 1
            continue
        notice = services.save_notice(
            notice=Notice(organisation=organisation),
            data={"title": title, "text": text, "category": category, "expires_on": today + timedelta(days=days)},
            by=people[organisation.pk],
            today=today,
        )
        posted = timezone.make_aware(datetime.combine(today - timedelta(days=rng.randint(1, 12)), time(9, 0)))
        posted += timedelta(minutes=rng.randrange(480))
        Notice.objects.filter(pk=notice.pk).update(
            created_at=posted, published_at=posted if notice.published_at else None
        )
        report.notices_created += 1
