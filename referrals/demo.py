"""Demo routing rules and a year of referrals for the demo borough (directory/demo.py), so that "Ask
for support" suggests providers with reasons out of the box and the inboxes, timelines and evidence
figures have something in them. Loaded by `manage.py load_referral_demo`, after `manage.py
load_demo_data`; the directory's command does not depend on it. Besides its rules and referrals it adds
only the people the history needs (directory/demo_people.py).

Idempotent: rules are found by name; a rule that exists (perhaps edited by an admin) is left alone. The
referrals have fixed UUIDs: if any is there, the history is not written again.

The history is played through the real workflow (referrals.services) at back-dated times, so every
referral's events, deadlines, first answer, closing and feedback agree. The emails those steps plan
are history too: they are cancelled before the load commits, never queued, so the first sweep sends
nothing about them.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from accounts.models import User
from directory.demo import stable_uuid
from notifications.models import Reminder
from notifications.tasks import reminders_not_queued
from organisations.demo import DEMO_VCO
from organisations.demo_people import demo_people
from organisations.models import Organisation
from taxonomies.models import Taxonomy, TaxonomyTerm

from . import selectors, services, workdays
from .models import Referral, ReferralEvent, RoutingRule, RoutingRuleProvider

# The demo borough's council for voluntary service: the general provider every need can go to.
MAIN_PROVIDER = "tower-hamlets-voluntary-action"
BME_SEGMENT = "bme-vcos"
BME_COMMUNITY = "black-and-minority-ethnic-communities"
# Needs where BME groups have their own key referral agencies.
BME_NEEDS = ("funding-and-fundraising", "governance-and-trustees", "bme-specialist-support", "setting-up-a-new-group")


@dataclass
class DemoReport:
    rules_created: int = 0
    rules_existing: int = 0
    referrals_created: int = 0
    referrals_existing: int = 0
    referrals_open: int = 0
    feedback: int = 0


@transaction.atomic
def load_referral_demo(*, seed: int = 4, now: datetime | None = None) -> DemoReport:
    report = _load_rules(seed=seed)
    with reminders_not_queued():
        _load_history(now=now or timezone.now(), report=report)
    return report


def _load_rules(*, seed: int) -> DemoReport:
    providers = list(Organisation.objects.providers().active().order_by("name"))
    if not providers:
        raise LookupError("There are no providers to route to: run `manage.py load_demo_data` first.")
    rng = random.Random(seed)
    main = next((p for p in providers if p.slug == MAIN_PROVIDER), providers[0])
    others = [p for p in providers if p.pk != main.pk]
    bme_providers = [p for p in others if p.segments.filter(code=BME_SEGMENT).exists()]
    bme = TaxonomyTerm.objects.filter(taxonomy__code=Taxonomy.COMMUNITIES, code=BME_COMMUNITY).first()
    created = existing = 0

    def rule(name: str, need: TaxonomyTerm, ranked: list[Organisation], **narrowing) -> None:
        nonlocal created, existing
        found, is_new = RoutingRule.objects.get_or_create(
            name=name,
            defaults={"need": need, "notes": "Demo rule (referrals/demo.py).", **narrowing},
        )
        if not is_new:
            existing += 1
            return
        created += 1
        RoutingRuleProvider.objects.bulk_create(
            [
                RoutingRuleProvider(rule=found, provider=provider, position=n)
                for n, provider in enumerate(ranked, start=1)
            ]
        )

    for need in TaxonomyTerm.objects.in_taxonomy(Taxonomy.NEEDS).order_by("order", "name"):
        rule(
            f"{need.name}: key referral agencies", need, [main, *rng.sample(others, min(2, len(others)))], priority=100
        )
        if need.code in BME_NEEDS and bme is not None and bme_providers:
            rule(
                f"{need.name}: BME groups",
                need,
                rng.sample(bme_providers, min(3, len(bme_providers))),
                community=bme,
                priority=50,
            )
    return DemoReport(rules_created=created, rules_existing=existing)


# A year of referrals -------------------------------------------------------------------------------

HISTORY_SEED = 12
HISTORY_SIZE = 96  # referrals in all, the open ones included
ASKING_VCOS = 40
# How often each need is asked for (the others: 2).
NEED_WEIGHTS = {
    "funding-and-fundraising": 18,
    "governance-and-trustees": 12,
    "training": 8,
    "volunteers-and-volunteering": 8,
    "community-accountancy-and-finance": 8,
    "setting-up-a-new-group": 6,
    "hr-and-employment-advice": 5,
    "premises": 4,
    "ict-support": 4,
    "dbs-criminal-record-checks": 4,
}
DESCRIPTIONS = {
    "training": "Our new volunteers need training in running sessions safely; is there a course we can send them on?",
    "community-accountancy-and-finance": "Our treasurer has stepped down and nobody knows how to prepare the year-end accounts for the AGM.",
    "ict-support": "Our laptop and email are a mess: we need help setting up shared files and a safe way to keep members' details.",
    "hr-and-employment-advice": "We are taking on our first paid worker and need help with a contract, payroll and a job description.",
    "governance-and-trustees": "Our committee wants to become a charity: we need help with a constitution and trustees' duties.",
    "funding-and-fundraising": "Our main grant ends in March. We need help finding funders and writing our first big bid.",
    "volunteers-and-volunteering": "We need more volunteers for our weekly sessions and a simple way to recruit and support them.",
    "premises": "We are losing our meeting room at the end of the month and need somewhere affordable in the area.",
    "setting-up-a-new-group": "We are a group of neighbours who want to set up properly: bank account, constitution, insurance.",
    "social-enterprise-development": "We want to start selling our catering to cover our costs and need advice on setting up a social enterprise.",
    "bme-specialist-support": "Most of our members speak little English; we need support from someone who understands our community.",
    "policy-and-information": "We want to respond to the council's consultation on community centres and need help with the evidence.",
    "quality-assurance": "A funder has asked for a quality mark: we would like help to check where we stand.",
    "dbs-criminal-record-checks": "We work with children and need DBS checks for six new volunteers.",
    "payroll": "We need someone to run payroll for our two part-time staff.",
    "health-and-safety": "Our hall needs a fire risk assessment and a health and safety policy before we can reopen.",
    "partnership-and-consortium-working": "We want to bid for a council contract with two other groups and need help forming a consortium.",
    "public-service-delivery-and-commissioning": "We have been invited to tender for a council service and do not know where to start.",
}
DECLINE_REASONS = [
    "We are fully booked for one-to-one support until next quarter; another provider in the network can help sooner.",
    "This is outside what we offer. Please ask again and choose a provider that specialises in it.",
    "We only work with groups in the east of the borough at the moment; please ask one of the borough-wide providers.",
]
PASS_ON_NOTES = [
    "Passing this on: they run a specialist service for exactly this and can start sooner.",
    "Better placed to help: they already work with groups in your area.",
]
CLOSE_NOTES = {
    Referral.Outcome.RESOLVED: "Support given over several sessions; the group has what it needs.",
    Referral.Outcome.PARTLY_RESOLVED: "Helped with the first part; the group will come back for the rest.",
    Referral.Outcome.NOT_RESOLVED: "We could not find a way forward this time; signposted to other help.",
}
WITHDRAW_NOTES = [
    "A member found us a volunteer who can help, so we no longer need this.",
    "The deadline has passed; we will ask again next round.",
]
STILL_NEEDED = [
    "Help finding a new treasurer.",
    "Support with our next funding bid.",
    "Training for our new trustees.",
    "A cheaper venue for our weekly sessions.",
]
# Satisfaction given for each outcome: mostly content with good outcomes, less so with poor ones.
SATISFACTION = {
    Referral.Outcome.RESOLVED: (5, 5, 5, 4, 4),
    Referral.Outcome.PARTLY_RESOLVED: (4, 4, 3, 3, 2),
    Referral.Outcome.NOT_RESOLVED: (3, 2, 2, 1),
}
# Working days to a provider's first answer: mostly within the five allowed, a few late (reminded, escalated).
ANSWER_DAYS = (0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 3, 4, 6, 8)


@dataclass
class _Story:
    """One referral's path: who asks, on which day it is sent, where it goes and how it ends."""

    organisation: Organisation
    sent_on: date
    fate: str  # "closed", "declined", "passed_on", "withdrawn", or the status it is still in
    to_main: bool | None  # to the demo officer's provider, another, or (None) left to the network to route
    feedback: bool = False


# Referrals still open today: (status, at the demo officer's provider, sent so many working days ago).
STILL_OPEN = [
    (Referral.Status.WITH_PROVIDER, True, 8),  # overdue: the officers were reminded, then the admins told
    (Referral.Status.WITH_PROVIDER, True, 1),
    (Referral.Status.WITH_PROVIDER, True, 0),
    (Referral.Status.ACCEPTED, True, 4),
    (Referral.Status.IN_PROGRESS, True, 12),  # the demo VCO's own (DEMO_VCO_OPEN)
    (Referral.Status.IN_PROGRESS, True, 22),
    (Referral.Status.WITH_PROVIDER, False, 2),
    (Referral.Status.ACCEPTED, False, 6),
    (Referral.Status.IN_PROGRESS, False, 15),
    (Referral.Status.IN_PROGRESS, False, 30),
    (Referral.Status.SUBMITTED, None, 1),  # waits for a network admin to send it to a provider
]
DEMO_VCO_OPEN = 4
# Which closed referrals are the demo VCO's: their number, sent so many working days ago, with feedback.
DEMO_VCO_CLOSED = {3: (190, True), 30: (110, True), 60: (30, False)}
# The sweep runs every few minutes: a reminder is planned this long after it falls due.
SWEEP_DELAY = timedelta(minutes=5)


def _working_days_back(day: date, count: int) -> date:
    """The working day `count` working days before `day` (0: `day`, or the working day before it)."""
    while not workdays.is_working_day(day):
        day -= timedelta(days=1)
    for _n in range(count):
        day -= timedelta(days=1)
        while not workdays.is_working_day(day):
            day -= timedelta(days=1)
    return day


def _office_time(day: date, minutes: int) -> datetime:
    """A time on `day` between 09:15 and 16:45, `minutes` into that span."""
    return timezone.make_aware(datetime.combine(day, time(9, 15)) + timedelta(minutes=minutes % 450))


def _after(moment: datetime, working_days: int, minutes: int) -> datetime:
    """Office hours `working_days` working days after `moment`, and always a little after it."""
    day = workdays.add_working_days(timezone.localdate(moment), working_days)
    return max(_office_time(day, minutes), moment + timedelta(minutes=20 + minutes % 70))


def _times(start: datetime, waits: list[int], minutes: list[int], limit: datetime) -> list[datetime]:
    """When each step happens; the longest waits are cut until the last step comes before `limit`,
    and a step that still would not is left out (the referral stays where it got to)."""
    waits = list(waits)
    while True:
        times, moment = [], start
        for days, offset in zip(waits, minutes, strict=True):
            moment = _after(moment, days, offset)
            times.append(moment)
        if not times or times[-1] < limit or not any(waits):
            return [moment for moment in times if moment < limit]
        waits[waits.index(max(waits))] -= 1


def _stories(
    rng: random.Random, *, today: date, asking: list[Organisation], demo_vco: Organisation | None
) -> list[_Story]:
    stories = [
        _Story(rng.choice(asking), _working_days_back(today, days_ago), status, to_main)
        for status, to_main, days_ago in STILL_OPEN
    ]
    if demo_vco is not None:
        stories[DEMO_VCO_OPEN].organisation = demo_vco
    settled = HISTORY_SIZE - len(stories)
    for n in range(settled):
        fate = rng.choices(["closed", "declined", "passed_on", "withdrawn"], weights=[70, 10, 11, 9])[0]
        to_main = None if rng.random() < 0.06 else rng.random() < 0.5
        story = _Story(rng.choice(asking), _working_days_back(today, rng.randint(10, 250)), fate, to_main)
        story.feedback = fate in ("closed", "passed_on") and rng.random() < 0.55
        # The demo VCO's editor has two closed referrals with feedback, and a recent one waiting for it.
        if demo_vco is not None and n in DEMO_VCO_CLOSED:
            story.organisation, story.fate, story.to_main = demo_vco, "closed", True
            days_ago, story.feedback = DEMO_VCO_CLOSED[n]
            story.sent_on = _working_days_back(today, days_ago)
        stories.append(story)
    return sorted(stories, key=lambda story: story.sent_on)


def _steps(story: _Story, rng: random.Random, *, unrouted: bool) -> list[tuple[str, int]]:
    """The moves after asking, each with the working days waited before it."""
    answer = rng.choice(ANSWER_DAYS)
    steps = [("send", rng.choice([0, 1, 1, 2]))] if unrouted and story.fate != Referral.Status.SUBMITTED else []
    if story.fate == "closed":
        steps += [("accept", answer)]
        if rng.random() < 0.8:
            steps += [("start", rng.randint(1, 7))]
        steps += [("close", rng.randint(3, 35))]
    elif story.fate == "passed_on":
        steps += [
            ("pass_on", answer),
            ("accept", rng.randint(0, 3)),
            ("start", rng.randint(1, 5)),
            ("close", rng.randint(3, 30)),
        ]
    elif story.fate == "declined":
        steps += [("decline", answer)]
    elif story.fate == "withdrawn":
        steps += (
            [("withdraw", rng.randint(0, 3))]
            if rng.random() < 0.5
            else [("accept", answer), ("withdraw", rng.randint(2, 10))]
        )
    elif story.fate == Referral.Status.ACCEPTED:
        steps += [("accept", rng.randint(0, 2))]
    elif story.fate == Referral.Status.IN_PROGRESS:
        steps += [("accept", rng.randint(0, 2)), ("start", rng.randint(1, 3))]
    return steps


def _chase(referral: Referral, *, until: datetime) -> None:
    """What the sweep did for a referral still unanswered after its due day: reminded the officers,
    then told the network admins, at the times the sweep would have."""
    for due in (referral.remind_at, referral.escalate_at):
        if due is not None and due + SWEEP_DELAY < until:
            services.plan_referral_reminders(now=due + SWEEP_DELAY)


def _load_history(*, now: datetime, report: DemoReport) -> None:
    uuids = [stable_uuid("demo-referral", n) for n in range(HISTORY_SIZE)]
    report.referrals_existing = Referral.objects.filter(uuid__in=uuids).count()
    if report.referrals_existing:
        return
    rng = random.Random(HISTORY_SEED)
    main = Organisation.objects.filter(slug=MAIN_PROVIDER).first()
    providers = list(selectors.referral_providers())
    vcos = list(Organisation.objects.vcos().active().exclude(slug=DEMO_VCO).order_by("slug"))
    if main is None or not vcos:
        raise LookupError("The demo borough is missing: run `manage.py load_demo_data` first.")
    demo_vco = Organisation.objects.vcos().active().filter(slug=DEMO_VCO).first()
    asking = rng.sample(vcos, min(ASKING_VCOS, len(vcos)))
    people = demo_people(asking + ([demo_vco] if demo_vco else []) + providers)
    admin = User.objects.filter(role=User.Role.NETWORK_ADMIN, is_active=True).order_by("pk").first()
    needs = {
        term.code: term
        for term in TaxonomyTerm.objects.in_taxonomy(Taxonomy.NEEDS)
        .select_related("taxonomy")
        .order_by("order", "code")
    }
    codes = list(needs)
    weights = [NEED_WEIGHTS.get(code, 2) for code in codes]
    ids = []
    for number, story in enumerate(_stories(rng, today=timezone.localdate(now), asking=asking, demo_vco=demo_vco)):
        asked = list(dict.fromkeys(rng.choices(codes, weights=weights, k=1 if rng.random() < 0.65 else 2)))
        referral = _play(
            story,
            rng=rng,
            now=now,
            needs=[needs[code] for code in asked],
            main=main,
            providers=providers,
            people=people,
            admin=admin,
            report=report,
        )
        Referral.objects.filter(pk=referral.pk).update(uuid=uuids[number])
        ids.append(referral.pk)
    report.referrals_created = len(ids)
    report.referrals_open = Referral.objects.filter(pk__in=ids).open().count()
    last_step = (
        ReferralEvent.objects.filter(referral=OuterRef("pk")).values("referral").annotate(at=Max("at")).values("at")
    )
    Referral.objects.filter(pk__in=ids).update(updated_at=Subquery(last_step))
    _cancel_history_emails(ids)


def _play(
    story: _Story,
    *,
    rng: random.Random,
    now: datetime,
    needs: list[TaxonomyTerm],
    main: Organisation,
    providers: list[Organisation],
    people: dict[int, User],
    admin: User | None,
    report: DemoReport,
) -> Referral:
    """Ask, then make each move through the workflow at its time."""
    organisation = story.organisation
    person = people[organisation.pk]
    languages = list(organisation.languages.exclude(code="en").order_by("code"))
    data = {
        "organisation": organisation,
        "needs": needs,
        "description": " ".join(DESCRIPTIONS.get(term.code, term.name) for term in needs),
        "urgency": rng.choices(Referral.Urgency.values, weights=[70, 22, 8])[0],
        "stage": organisation.development_stage,
        "communities": list(organisation.communities_served.all()),
        "language": rng.choice(languages) if languages and rng.random() < 0.25 else None,
        "existing_provider": None,
        "service": None,
    }
    suggested = [suggestion.provider for suggestion in selectors.routing_for_referral_data(data).suggestions]
    others = [provider for provider in suggested if provider.pk != main.pk] or [p for p in providers if p.pk != main.pk]
    if story.to_main is None and admin is not None:
        chosen = None  # left to the network's co-ordinators
    elif story.to_main:
        chosen = main
    else:
        chosen = rng.choice(others[:3])
    if chosen is not None and chosen not in suggested:
        data["existing_provider"] = chosen  # the group already works with it, so it is always offered
    limit = now - timedelta(minutes=30)
    sent_at = min(_office_time(story.sent_on, rng.randrange(450)), now - timedelta(minutes=90))
    referral = services.submit_referral(
        **data,
        contact_name=person.get_full_name(),
        contact_email=person.email,
        contact_phone=organisation.phone or f"020 7946 0{rng.randrange(1000):03d}",
        consent=True,
        consent_given_at=sent_at - timedelta(minutes=4),
        chosen_provider=chosen,
        by=person,
        now=sent_at,
    )
    steps = _steps(story, rng, unrouted=referral.status == Referral.Status.SUBMITTED)
    times = _times(sent_at, [days for _action, days in steps], [rng.randrange(450) for _step in steps], limit)
    for (action, _days), moment in zip(steps, times):
        if referral.status in (Referral.Status.SUBMITTED, Referral.Status.WITH_PROVIDER):
            _chase(referral, until=moment)
        move = {"by": people.get(referral.provider_id), "expected_version": referral.version, "now": moment}
        if action == "send":
            referral = services.send_to_provider(
                referral=referral,
                provider=suggested[0] if suggested else main,
                by=admin,
                expected_version=referral.version,
                now=moment,
            )
        elif action == "accept":
            referral = services.accept(referral=referral, **move)
        elif action == "start":
            referral = services.start_work(referral=referral, **move)
        elif action == "close":
            outcome = rng.choices(list(CLOSE_NOTES), weights=[62, 28, 10])[0]
            referral = services.close(referral=referral, outcome=outcome, note=CLOSE_NOTES[outcome], **move)
        elif action == "decline":
            referral = services.decline(referral=referral, reason=rng.choice(DECLINE_REASONS), **move)
        elif action == "pass_on":
            targets = [p for p in suggested if p.pk != referral.provider_id] or [
                p for p in others if p.pk != referral.provider_id
            ]
            referral = services.pass_on(
                referral=referral, provider=rng.choice(targets), note=rng.choice(PASS_ON_NOTES), **move
            )
        elif action == "withdraw":
            referral = services.withdraw(
                referral=referral,
                by=person,
                expected_version=referral.version,
                note=rng.choice(WITHDRAW_NOTES),
                now=moment,
            )
    if referral.status in (Referral.Status.SUBMITTED, Referral.Status.WITH_PROVIDER):
        _chase(referral, until=now)
    if story.feedback and referral.status == Referral.Status.CLOSED and referral.outcome in SATISFACTION:
        moment = _after(referral.closed_at, rng.randint(0, 8), rng.randrange(450))
        if moment < limit:
            services.give_feedback(
                referral=referral,
                by=person,
                satisfaction=rng.choice(SATISFACTION[referral.outcome]),
                still_needed=rng.choice(STILL_NEEDED) if rng.random() < 0.35 else "",
                now=moment,
            )
            report.feedback += 1
    return referral


def _cancel_history_emails(referral_ids: list[int]) -> None:
    """The emails the history planned went out, in the story, when each step happened: none is sent now."""
    referrals = {str(pk) for pk in referral_ids}
    events = {str(pk) for pk in ReferralEvent.objects.filter(referral_id__in=referral_ids).values_list("pk", flat=True)}
    history = []
    for pk, key in Reminder.objects.filter(kind="referral", status=Reminder.Status.PENDING).values_list("pk", "key"):
        prefix, number = key.split(":")[:2]
        if (prefix == "referral-event" and number in events) or (
            prefix in ("referral-reminder", "referral-escalation") and number in referrals
        ):
            history.append(pk)
    Reminder.objects.filter(pk__in=history).update(
        status=Reminder.Status.CANCELLED, last_error="Demo history: not sent."
    )
