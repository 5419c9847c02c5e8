"""Evidence figures (issue 7), on PostgreSQL, in a database of its own that it creates and drops.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/evidence_dashboards.py

Builds 20,000 organisations (VCOs with stages, wards, segments, communities and volunteers; 2,000
providers with 4,000 services), 200 joint projects with their periods, indicators, targets and returns,
200,000 referrals and 100,000 bookings (bulk inserted into the referrals and calendar apps' tables),
50,000 grants over five years from 150 funders and the network, then measures:

1. each sector dashboard page (borough-wide and one ward), the printable report, and a project page:
   p50/p95 over repeated requests and SQL queries per request, against under 500 ms (the five-year
   dashboard under 250 ms, issue 15), each next to its own SQL (the statements the page ran, run
   again straight through psycopg2 in the same run) as a ratio;
   Each dashboard also next to the same page with the referral figures counted live from the
   referrals (the computation before the monthly summaries, issue 15), in the same run, as a ratio;
   the medians of the wait for a first answer (delivery by area, the referral section, the five-year
   dashboard) through the hours summarised against sorting every answer, taken turn about
   (``--medians`` runs only that, on a kept database);
2. the full XLSX evidence pack, built in a separate process as a worker would: wall time and that
   process's peak memory (ru_maxrss), against under 60 s and 250 MB.

--edges measures only the dashboards (15 Feb to 10 Nov 2026, 2026, five years) with the partial
months' days read from the day summaries against counting them live as before (compare_edges), with
BENCH_KEEP=1 on the kept database.

--funding measures only the funding figures against counting their recipients distinct as before
(compare_funding), with BENCH_KEEP=1 on the kept database in a minute or two.

With --page-sections (and BENCH_KEEP=1 to reuse a kept database) it only measures where the five-year
and one-year dashboards' and the 15 Feb to 10 Nov 2026 one's time goes: each section of the period and of the period before (the key
figures' comparisons), the rule-4 pass, and the rest (the view, rendering), with queries for each.

The dashboards read referrals, events and quality through those apps' selectors; the referrals get
the history the figures read (sent, first answered, closed; some feedback) in bulk SQL. The machine is
shared and busy, so figures are indicative.
"""

import contextlib
import functools
import os
import random
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal

from harness import bench_database, peak_memory_mb, percentile, setup_django

BENCH_DB = "thin_bench_evidence"
VAR_DIR = "/tmp/thin-bench-evidence-var"
ENVIRONMENT = {"PORTAL_EVIDENCE_EXPORT_DIR": f"{VAR_DIR}/packs"}
ORGANISATIONS = 20_000
PROVIDERS = 2_000
REFERRALS = 200_000
BOOKINGS = 100_000
PROJECTS = 200
GRANTS = 50_000
FUNDERS = 150
RUNS = 15


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--build-pack":
        # The child process: builds one pack as a worker would, and reports its own peak memory.
        setup_django(BENCH_DB, var_dir=VAR_DIR, environment=ENVIRONMENT)
        from evidence import services

        started = time.perf_counter()
        export = services.build_evidence_pack(export_id=int(sys.argv[2]))
        elapsed = time.perf_counter() - started
        print(f"{elapsed:.3f} {peak_memory_mb():.1f} {export.size_bytes}")
        return
    # BENCH_KEEP=1 keeps the database after the run and reuses it next time (for working on speed);
    # by default it is built afresh and dropped.
    keep = os.environ.get("BENCH_KEEP") == "1"
    with bench_database(BENCH_DB, var_dir=VAR_DIR, keep=keep, reuse=keep, environment=ENVIRONMENT) as fresh:
        if "--page-sections" in sys.argv[1:]:
            if fresh:
                build_data()
            page_sections()
            return
        run(build=fresh, funding_only="--funding" in sys.argv[1:], medians_only="--medians" in sys.argv[1:], edges_only="--edges" in sys.argv[1:])


def _batches(items, size=5000):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def build_directory(rng: random.Random) -> dict:
    from django.utils import timezone

    from accounts.models import User
    from directory.models import Service
    from organisations.models import Organisation
    from taxonomies.models import Taxonomy, TaxonomyTerm

    terms = {code: list(TaxonomyTerm.objects.in_taxonomy(code)) for code in (Taxonomy.WARDS, Taxonomy.SEGMENTS, Taxonomy.COMMUNITIES, Taxonomy.NEEDS)}
    functions = list(TaxonomyTerm.objects.in_taxonomy(Taxonomy.FUNCTIONS).filter(parent__isnull=False))
    kinds = {term.code: term for term in TaxonomyTerm.objects.in_taxonomy(Taxonomy.ORGANISATION_KINDS)}
    start = timezone.now() - timedelta(days=5 * 365)
    organisations = []
    for n in range(ORGANISATIONS):
        organisations.append(
            Organisation(
                name=f"Bench organisation {n}",
                slug=f"bench-organisation-{n}",
                ward=rng.choice(terms[Taxonomy.WARDS]) if rng.random() < 0.95 else None,
                development_stage=rng.choice([1, 1, 2, 2, 3, None]),
                volunteers=rng.randint(0, 80) if rng.random() < 0.7 else None,
                paid_staff=rng.randint(0, 30) if rng.random() < 0.6 else None,
                is_active=rng.random() < 0.97,
                created_at=start + timedelta(days=rng.randint(0, 5 * 365)),
            )
        )
    Organisation.objects.bulk_create(organisations, batch_size=5000)
    # auto_now_add overwrote created_at: spread the records over five years again.
    ids = list(Organisation.objects.order_by("pk").values_list("pk", flat=True))
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE organisations_organisation SET created_at = now() - (random() * interval '1825 days')"
        )
    providers, vcos = ids[:PROVIDERS], ids[PROVIDERS:]
    kinds_through = Organisation.kinds.through
    rows = [kinds_through(organisation_id=pk, taxonomyterm_id=kinds["vco"].pk) for pk in vcos]
    rows += [kinds_through(organisation_id=pk, taxonomyterm_id=kinds[rng.choice(["general", "specialist"])].pk) for pk in providers]
    kinds_through.objects.bulk_create(rows, batch_size=10000)
    for relation, taxonomy, most in (("segments", Taxonomy.SEGMENTS, 2), ("communities_served", Taxonomy.COMMUNITIES, 3)):
        through = getattr(Organisation, relation).through
        rows = []
        for pk in vcos:
            for term in rng.sample(terms[taxonomy], rng.randint(0, most)):
                rows.append(through(organisation_id=pk, taxonomyterm_id=term.pk))
        through.objects.bulk_create(rows, batch_size=10000)
    services = []
    for n, pk in enumerate(providers * 2):
        services.append(
            Service(
                organisation_id=pk,
                name=f"Bench service {n}",
                slug=f"bench-service-{n}",
                description="Support.",
                status=rng.choice(["active", "active", "active", "paused", "closed"]),
            )
        )
    Service.objects.bulk_create(services, batch_size=5000)
    service_ids = list(Service.objects.values_list("pk", flat=True))
    function_rows, ward_rows = [], []
    for pk in service_ids:
        for term in rng.sample(functions, rng.randint(1, 3)):
            function_rows.append(Service.functions.through(service_id=pk, taxonomyterm_id=term.pk))
        for term in rng.sample(terms[Taxonomy.WARDS], rng.choice([0, 0, 1, 2, 3])):
            ward_rows.append(Service.wards.through(service_id=pk, taxonomyterm_id=term.pk))
    Service.functions.through.objects.bulk_create(function_rows, batch_size=10000)
    Service.wards.through.objects.bulk_create(ward_rows, batch_size=10000)
    # The support needs each service meets: what the funding section's needs-and-money figure reads.
    Service.needs.through.objects.bulk_create(
        [Service.needs.through(service_id=pk, taxonomyterm_id=term.pk) for pk in service_ids for term in rng.sample(terms[Taxonomy.NEEDS], rng.randint(1, 3))],
        batch_size=10000,
    )
    users = [User(username=f"bench-user-{n}", email=f"bench-user-{n}@example.org", password="!") for n in range(2000)]
    User.objects.bulk_create(users, batch_size=2000)
    return {
        "vcos": vcos,
        "providers": providers,
        "needs": terms[Taxonomy.NEEDS],
        "users": list(User.objects.filter(username__startswith="bench-user-").values_list("pk", flat=True)),
        "services": len(service_ids),
    }


def build_projects(rng: random.Random, ids: dict) -> int:
    from evidence.models import (
        Indicator,
        IndicatorTarget,
        JointProject,
        MonitoringReturn,
        ReportingPeriod,
        ReturnFigure,
    )
    from evidence.services import period_bounds

    returns = 0
    projects = [
        JointProject(
            title=f"Bench project {n}",
            slug=f"bench-project-{n}",
            lead_id=rng.choice(ids["providers"]),
            start_date=date(2025, 1, 1) + timedelta(days=rng.randint(0, 400)),
            end_date=date(2026, 6, 30) + timedelta(days=rng.randint(0, 400)),
            aims="Bench.",
        )
        for n in range(PROJECTS)
    ]
    JointProject.objects.bulk_create(projects)
    for project in JointProject.objects.all():
        partners = rng.sample(ids["vcos"], 5)
        project.partners.set(partners)
        periods = ReportingPeriod.objects.bulk_create(
            [
                ReportingPeriod(project=project, number=i, start=s, end=e, due_date=e + timedelta(days=30))
                for i, (s, e) in enumerate(period_bounds(start=project.start_date, end=project.end_date, months=3), start=1)
            ]
        )
        indicators = Indicator.objects.bulk_create(
            [Indicator(project=project, kind=kind, name=f"{kind} {i}", order=i) for i, kind in enumerate(["output"] * 3 + ["outcome"] * 3)]
        )
        IndicatorTarget.objects.bulk_create(
            [IndicatorTarget(indicator=indicator, period=period, target=Decimal(rng.randint(5, 50))) for indicator in indicators for period in periods]
        )
        made = MonitoringReturn.objects.bulk_create(
            [
                MonitoringReturn(project=project, period=period, partner_id=partner, status=rng.choice(["submitted", "submitted", "draft"]))
                for period in periods
                for partner in [project.lead_id, *partners]
            ]
        )
        ReturnFigure.objects.bulk_create(
            [ReturnFigure(monitoring_return=r, indicator=indicator, value=Decimal(rng.randint(0, 40))) for r in made for indicator in indicators]
        )
        returns += len(made)
    return returns


def build_grants(rng: random.Random, ids: dict) -> str:
    """Grants over five years, as imports of funders' 360Giving files and the network's own would leave
    them: most to organisations in the directory, some to ones outside it."""
    from django.conf import settings

    from evidence.models import Grant
    from taxonomies.models import Taxonomy, TaxonomyTerm

    wards = list(TaxonomyTerm.objects.in_taxonomy(Taxonomy.WARDS))
    funders = [(f"GB-CHC-{2000000 + n}", f"Bench Trust {n}") for n in range(FUNDERS)]
    recipients = ids["vcos"] + ids["providers"]
    today = date.today()
    rows = []
    for n in range(GRANTS):
        distributed = rng.random() < 0.1
        funder = (settings.PORTAL_NETWORK_ORG_ID, settings.PORTAL_NETWORK_NAME) if distributed else rng.choice(funders)
        outside = rng.random() < 0.05
        rows.append(
            Grant(
                identifier=f"360G-bench-{n}",
                reference=f"bench-{n}" if distributed else "",
                direction="distributed" if distributed else "received",
                title="Bench grant",
                description="Bench.",
                amount_awarded=Decimal(rng.choice([500, 1000, 2500, 5000, 10000, 25000, 60000])),
                award_date=today - timedelta(days=rng.randint(0, 5 * 365)),
                recipient_id=None if outside else rng.choice(recipients),
                recipient_name="Elsewhere" if outside else "",
                recipient_org_id=f"GB-CHC-{3000000 + n}" if outside else "",
                funder_org_id=funder[0],
                funder_name=funder[1],
                beneficiary_ward=rng.choice(wards) if rng.random() < 0.5 else None,
            )
        )
    for batch in _batches(rows, 10000):
        Grant.objects.bulk_create(batch)
    return f"{Grant.objects.count():,} grants from {FUNDERS} funders"


def build_referrals_and_bookings(rng: random.Random, ids: dict) -> list[str]:
    """Bulk rows in the other apps' tables, so the database is the size the issue names. Their shape
    may still change while those apps are built: a failure is reported, not fatal."""
    from django.utils import timezone

    notes = []
    now = timezone.now()
    try:
        from referrals.models import Referral

        statuses = [value for value, _label in Referral.Status.choices]
        rows = [
            Referral(
                organisation_id=rng.choice(ids["vcos"]),
                description="Help with a funding bid.",
                consent_purpose="To pass our request to a provider.",
                consent_given_at=now - timedelta(days=rng.randint(0, 700)),
                submitted_at=now - timedelta(days=rng.randint(0, 700)),
                provider_id=rng.choice(ids["providers"]),
                status=rng.choice(statuses),
            )
            for _n in range(REFERRALS)
        ]
        for batch in _batches(rows, 10000):
            Referral.objects.bulk_create(batch)
        needs_through = Referral.needs.through
        referral_ids = list(Referral.objects.values_list("pk", flat=True))
        need_rows = [needs_through(referral_id=pk, taxonomyterm_id=rng.choice(ids["needs"]).pk) for pk in referral_ids]
        for batch in _batches(need_rows, 20000):
            needs_through.objects.bulk_create(batch)
        notes.append(f"{Referral.objects.count():,} referrals")
        notes.append(_build_referral_histories())
    except Exception as error:  # the referrals app's models are still being built
        notes.append(f"referrals NOT inserted ({error.__class__.__name__}: {error})")
    try:
        from calendar_events.models import Booking, Event

        events = [
            Event(
                uid=f"bench-{n}@thin-portal",
                title=f"Bench event {n}",
                organiser_id=rng.choice(ids["providers"]),
                category=rng.choice(["training", "training", "networking", "forum", "funding", "other"]),
                start=now - timedelta(days=rng.randint(0, 700)),
                end=now - timedelta(days=rng.randint(0, 700)) + timedelta(hours=2),
                series_end=now,
            )
            for n in range(1000)
        ]
        for event in events:
            event.end = event.start + timedelta(hours=2)
            event.series_end = event.end
        Event.objects.bulk_create(events, batch_size=1000)
        bookings = []
        for event in Event.objects.filter(uid__startswith="bench-").only("pk", "start"):
            for user_id in rng.sample(ids["users"], BOOKINGS // 1000):
                bookings.append(Booking(event_id=event.pk, occurrence_start=event.start, user_id=user_id))
        for batch in _batches(bookings, 10000):
            Booking.objects.bulk_create(batch)
        notes.append(f"{Booking.objects.count():,} bookings on {len(events):,} events")
    except Exception as error:
        notes.append(f"bookings NOT inserted ({error.__class__.__name__}: {error})")
    return notes


def _build_referral_histories() -> str:
    """Each bulk referral's history as the workflow would leave it (asked; sent to its provider; a
    first answer some hours later, kept on the referral as the services keep it; closed with an
    outcome), and feedback on some closed ones: what the referral figures read. In SQL, as half a
    million rows would take minutes through the ORM."""
    from django.db import connection

    from referrals.models import Feedback, ReferralEvent

    with connection.cursor() as cursor:
        # One pass over the table (each UPDATE leaves every row's old version behind): the wait is drawn
        # once per answered referral, for both its first answer's time and the wait kept beside it.
        cursor.execute(
            "UPDATE referrals_referral r SET sent_at = submitted_at, outcome = CASE WHEN status = 'closed' THEN "
            "(ARRAY['resolved', 'partly_resolved', 'not_resolved', 'withdrawn'])[1 + floor(random() * 4)::int] ELSE '' END, "
            "closed_at = CASE WHEN status IN ('closed', 'declined') THEN submitted_at + interval '20 days' END, "
            "first_response_at = submitted_at + w.wait, first_response_after = w.wait "
            "FROM (SELECT id, CASE WHEN status NOT IN ('submitted', 'with_provider') "
            "THEN random() * interval '150 hours' END AS wait FROM referrals_referral) w WHERE w.id = r.id"
        )
        insert = (
            "INSERT INTO referrals_referralevent (referral_id, kind, from_status, to_status, provider_id, note, at) "
            "SELECT id, %s, %s, %s, provider_id, '', {at} FROM referrals_referral WHERE {where}"
        )
        for kind, from_status, to_status, at, where in (
            ("submitted", "", "submitted", "submitted_at", "true"),
            ("sent", "submitted", "with_provider", "submitted_at", "status <> 'submitted'"),
            ("declined", "with_provider", "declined", "first_response_at", "status = 'declined'"),
            ("accepted", "with_provider", "accepted", "first_response_at", "status IN ('accepted', 'in_progress', 'closed')"),
            ("closed", "accepted", "closed", "closed_at", "status = 'closed'"),
        ):
            cursor.execute(insert.format(at=at, where=where), [kind, from_status, to_status])
        cursor.execute(
            "INSERT INTO referrals_feedback (referral_id, satisfaction, still_needed, given_at) "
            "SELECT id, 1 + floor(random() * 5)::int, '', closed_at + interval '2 days' FROM referrals_referral "
            "WHERE status = 'closed' AND random() < 0.4"
        )
    return f"{ReferralEvent.objects.count():,} referral events, {Feedback.objects.count():,} pieces of feedback"


def own_sql(statements: list[str]) -> list[float]:
    """The baseline: a page's own SQL (every statement it ran, as it ran them), run again RUNS times
    straight through psycopg2, in ms per run."""
    from django.db import connection

    times = []
    for _run in range(RUNS):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
                if cursor.description:
                    cursor.fetchall()
        times.append((time.perf_counter() - started) * 1000)
    return times


def measure(client, url: str, params: dict | None = None) -> tuple[list[float], int, int, list[float]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url, params or {})  # warm up
    times = []
    for _run in range(RUNS):
        started = time.perf_counter()
        response = client.get(url, params or {})
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    sql_times = own_sql([query["sql"] for query in captured.captured_queries])
    return times, len(captured), response.status_code, sql_times


@contextmanager
def referral_figures_live():
    """The baseline of issue 15: the dashboards' referral figures counted from every referral in the
    period, as before the monthly summaries (the same functions with use_summaries=False)."""
    from referrals import selectors as referral_selectors

    saved = referral_selectors.referral_statistics, referral_selectors.delivery_by_ward
    referral_selectors.referral_statistics = functools.partial(saved[0], use_summaries=False)
    referral_selectors.delivery_by_ward = functools.partial(saved[1], use_summaries=False)
    try:
        yield
    finally:
        referral_selectors.referral_statistics, referral_selectors.delivery_by_ward = saved


@contextmanager
def funding_counted_afresh():
    """The funding figures counted on every request, as before they were kept under their data version
    (evidence.selectors._funding_figures): what a dashboard costs the first time it is asked for after
    a grant, an organisation's segments or a service changed."""
    from evidence import selectors

    saved = selectors._funding_version
    selectors._funding_version = lambda scope: None
    try:
        yield
    finally:
        selectors._funding_version = saved


# The funding figures before each grant kept its previous awards (Grant.previous_*): the recipients of
# every group counted with COUNT(DISTINCT), which sorts the period's grants once per breakdown (the
# breakdowns' GROUPING SETS statement with work_mem raised for its sorts; the grants by segment through
# the recipient's row, and by need). The baseline the figures now are measured against, in the same run. (Hash aggregates instead
# of those sorts were measured slower on this data: the grants are nearly one per recipient, funder and
# period, so adding them up first saves nothing and the hash tables of (key, recipient) pairs spill.)
DISTINCT_SORTS_SQL = (
    'SELECT GROUPING(g."funder_org_id", {ward}, o."development_stage", {period}), '
    'g."funder_org_id", MAX(g."funder_name"), {ward}, o."development_stage", {period}, '
    'COUNT(*), COUNT(DISTINCT g."recipient_id"), SUM(g."amount_awarded") '
    'FROM "evidence_grant" g INNER JOIN "organisations_organisation" o ON o."id" = g."recipient_id" '
    'WHERE g."award_date" BETWEEN %s AND %s '
    'GROUP BY GROUPING SETS ((g."funder_org_id"), ({ward}), (o."development_stage"), ({period}), ())'
)
DISTINCT_SORTS_WORK_MEM = "32MB"


def grants_by_need_distinct(scope) -> dict:
    """The grants by need as before: each need's recipients counted with COUNT(DISTINCT)."""
    from django.db import connection
    from django.db.models import F

    from directory.models import Service
    from evidence import selectors

    meeting = (
        Service.objects.listed().filter(needs__isnull=False).order_by()
        .values(meeting_need=F("needs"), meeting_organisation=F("organisation_id")).distinct()
    )
    grants = selectors._grants_into_sector(scope).values(grant_recipient=F("recipient_id"), grant_amount=F("amount_awarded"))
    meeting_sql, meeting_params = meeting.query.sql_with_params()
    grants_sql, grants_params = grants.query.sql_with_params()
    sql = (
        'SELECT m."meeting_need", COUNT(*), COUNT(DISTINCT g."grant_recipient"), SUM(g."grant_amount") '
        f'FROM ({grants_sql}) g INNER JOIN ({meeting_sql}) m ON m."meeting_organisation" = g."grant_recipient" GROUP BY m."meeting_need"'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*grants_params, *meeting_params])
        return {need_id: (n, recipients, amount or Decimal(0)) for need_id, n, recipients, amount in cursor.fetchall()}


@contextmanager
def funding_as_before():
    """The whole-borough funding figures with their recipients counted distinct, as before the previous
    awards (DISTINCT_SORTS_SQL with its work_mem; segments through the recipient's row, and needs, with
    COUNT(DISTINCT))."""
    from django.db import connection, transaction

    from evidence import selectors

    def breakdowns(scope, unit):
        assert scope.area is None, "the baseline is measured for the whole borough"
        sql = DISTINCT_SORTS_SQL.format(
            ward='COALESCE(o."ward_id", g."beneficiary_ward_id")', period=f"date_trunc('{unit}', g.\"award_date\"::timestamp)::date"
        )
        which = {0b0111: "funder", 0b1011: "ward", 0b1101: "stage", 0b1110: "period", 0b1111: "total"}
        result = {name: {} for name in selectors.FUNDING_BREAKDOWNS}
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('work_mem', %s, true)", [DISTINCT_SORTS_WORK_MEM])
            cursor.execute(sql, [scope.start, scope.end])
            for grouping, funder_id, name, ward, stage, start, n, recipients, amount in cursor.fetchall():
                key = {"funder": (funder_id, name), "ward": ward, "stage": stage, "period": start, "total": None}[which[grouping]]
                result[which[grouping]][key] = (n, recipients, amount or Decimal(0))
        result["total"].setdefault(None, (0, 0, Decimal(0)))
        return result

    def by_recipient(scope):
        return {"segment": selectors._grouped(selectors._grants_into_sector(scope), "recipient__segments"), "need": grants_by_need_distinct(scope)}

    saved = selectors._funding_breakdowns, selectors._grants_by_recipient
    selectors._funding_breakdowns, selectors._grants_by_recipient = breakdowns, by_recipient
    try:
        yield
    finally:
        selectors._funding_breakdowns, selectors._grants_by_recipient = saved


def turn_about(baseline, measure_once, *args) -> tuple[list[float], list[float]]:
    """Now and before (inside the `baseline` context manager) taken turn about, RUNS times each, so that
    the machine's load falls on both alike."""
    measure_once(*args)
    with baseline():
        measure_once(*args)  # warm up both
    now, before = [], []
    for _run in range(RUNS):
        now.append(measure_once(*args))
        with baseline():
            before.append(measure_once(*args))
    return now, before


def line(label: str, now: list[float], before: list[float], note: str = "") -> None:
    print(f"  {label:44} {statistics.median(now):7.0f} {percentile(now, 0.95):7.0f} {statistics.median(before):10.0f} "
          f"{percentile(before, 0.95):10.0f} {percentile(now, 0.95) / percentile(before, 0.95):8.2f}x{note}")


def page_time(client, params) -> float:
    t = time.perf_counter()
    client.get("/evidence/dashboards/", params)
    return (time.perf_counter() - t) * 1000


def section_time(build, start: date, end: date) -> float:
    """Milliseconds to build one section (and its charts' rows) for the period, on a fresh scope: a
    scope keeps the figures it counted."""
    from evidence import selectors

    scope = selectors.Scope(start=start, end=end)
    t = time.perf_counter()
    section = build(scope)
    for chart in section.charts:
        list(chart.long_rows())
    return (time.perf_counter() - t) * 1000


@contextmanager
def medians_sorted():
    """The baseline of the hours summarised: the medians of the wait for a first answer worked out by
    sorting every answer in the period (percentile_cont by ward and in total, as before), the counts
    still from the monthly summaries."""
    from referrals import summaries

    saved = summaries.period_medians
    summaries.period_medians = lambda **kwargs: saved(**{**kwargs, "use_summaries": False})
    try:
        yield
    finally:
        summaries.period_medians = saved


MEDIAN_PERIODS = (
    ("2026", date(2026, 1, 1), date(2026, 12, 31)),
    ("five years", date(2022, 1, 1), date(2026, 12, 31)),
    ("15 Feb to 10 Nov 2026", date(2026, 2, 15), date(2026, 11, 10)),
)


def compare_medians(client) -> None:
    """Delivery by area, the referral section and the five-year dashboard with the medians found
    through the hours summarised against sorting every answer, taken turn about in the same run, after
    checking both give the same figures."""
    from evidence import selectors
    from referrals import selectors as referral_selectors
    from taxonomies.models import TaxonomyTerm

    ward = TaxonomyTerm.objects.get(taxonomy__code="wards", code="bow-east")
    for _label, start, end in MEDIAN_PERIODS:
        now = referral_selectors.delivery_by_ward(start=start, end=end)
        with medians_sorted():
            before = referral_selectors.delivery_by_ward(start=start, end=end)
        assert now == before, f"delivery by area differs from sorting every answer ({start} to {end})"
        for area in (None, ward):
            now = referral_selectors.referral_statistics(start=start, end=end, ward=area)
            with medians_sorted():
                before = referral_selectors.referral_statistics(start=start, end=end, ward=area)
            assert now == before, f"the referral figures differ from sorting every answer ({start} to {end}, {area})"

    print(f"\nMedians of the wait for a first answer through the hours summarised against sorting every answer "
          f"(same figures, checked; taken turn about), same run, load average {os.getloadavg()[0]:.1f}:")
    print(f"  {'':44} {'p50 ms':>7} {'p95 ms':>7} {'before p50':>10} {'before p95':>10} {'p95 ratio':>9}")
    for label, start, end in MEDIAN_PERIODS:
        line(f"delivery by area, {label}", *turn_about(medians_sorted, section_time, selectors.delivery_section, start, end),
             "  (five years: < 40 ms)" if label == "five years" else "")
    line("delivery by area's counts alone, five years", *turn_about(medians_sorted, section_time, selectors._delivery_counts_section, date(2022, 1, 1), date(2026, 12, 31)))
    for label, start, end in MEDIAN_PERIODS:
        line(f"referral section, {label}", *turn_about(medians_sorted, section_time, selectors.referral_section, start, end))
    now, before = turn_about(medians_sorted, page_time, client, {"start": "2022-01-01", "end": "2026-12-31", "area": ""})
    line("sector dashboard, whole borough, five years", now, before, f"  (< 250 ms: {'ok' if percentile(now, 0.95) < 250 else 'OVER'})")
    print(f"  load average {os.getloadavg()[0]:.1f} after")


@contextmanager
def edges_counted_live():
    """The baseline of the day summaries: a period's partial months counted live from every referral
    in them (as before), its whole months still from the monthly summaries."""
    from referrals import summaries

    saved = summaries._parts

    def live_edges(start, end, use_summaries=True):
        _months, days, live = saved(start, end, use_summaries)
        whole = summaries._whole_months(start, end) if use_summaries else None
        return set(summaries._months(*whole)) if whole is not None else set(), [], days + live

    summaries._parts = live_edges
    try:
        yield
    finally:
        summaries._parts = saved


EDGE_PAGES = (
    ("sector dashboard, whole borough, 15 Feb to 10 Nov 2026", {"start": "2026-02-15", "end": "2026-11-10", "area": ""}),
    ("sector dashboard, whole borough, 2026", {"start": "2026-01-01", "end": "2026-12-31", "area": ""}),
    ("sector dashboard, whole borough, five years", {"start": "2022-01-01", "end": "2026-12-31", "area": ""}),
)


def compare_edges(client) -> None:
    """The dashboards and the referral section with the partial months' days from the day summaries
    against counting them live, taken turn about in the same run, after checking both give the same
    figures (the period, the period before its key figures compare with, one ward)."""
    from evidence import selectors
    from referrals import selectors as referral_selectors
    from taxonomies.models import TaxonomyTerm

    ward = TaxonomyTerm.objects.get(taxonomy__code="wards", code="bow-east")
    period = selectors.Scope(start=date(2026, 2, 15), end=date(2026, 11, 10))
    before, _name = selectors.previous_period(period)
    for scope in (period, before):
        for area in (None, ward):
            now = referral_selectors.referral_statistics(start=scope.start, end=scope.end, ward=area)
            with edges_counted_live():
                live = referral_selectors.referral_statistics(start=scope.start, end=scope.end, ward=area)
            assert now == live, f"the referral figures differ from counting the partial months live ({scope.start} to {scope.end}, {area})"
        now = referral_selectors.delivery_by_ward(start=scope.start, end=scope.end)
        with edges_counted_live():
            live = referral_selectors.delivery_by_ward(start=scope.start, end=scope.end)
        assert now == live, f"delivery by area differs from counting the partial months live ({scope.start} to {scope.end})"

    print(f"\nPartial months' days from the day summaries against counted live (before; same figures, checked; taken turn "
          f"about), same run, load average {os.getloadavg()[0]:.1f}:")
    print(f"  {'':44} {'p50 ms':>7} {'p95 ms':>7} {'before p50':>10} {'before p95':>10} {'p95 ratio':>9}")
    line("referral section, 15 Feb to 10 Nov 2026", *turn_about(edges_counted_live, section_time, selectors.referral_section, date(2026, 2, 15), date(2026, 11, 10)))
    for label, params in EDGE_PAGES:
        target = 250 if "five years" in label else 500
        now, before_times = turn_about(edges_counted_live, page_time, client, params)
        line(label.replace("sector dashboard, whole borough", "dashboard"), now, before_times,
             f"  (< {target} ms: {'ok' if percentile(now, 0.95) < target else 'OVER'})")
    print(f"  load average {os.getloadavg()[0]:.1f} after")


@funding_counted_afresh()
def compare_funding(client) -> None:
    """The funding figures (the breakdowns' statement, the grants by segment and by need, the whole
    section for 2026 and five years, the five-year dashboard) with the recipients counted from the
    previous awards against COUNT(DISTINCT) as before (funding_as_before), taken turn about in the same
    run, after checking both give the same figures: both counted on every request, neither read from
    the figures kept under their data version."""
    from evidence import selectors

    for start, unit in ((date(2026, 1, 1), "quarter"), (date(2022, 1, 1), "year")):
        scope = selectors.Scope(start=start, end=date(2026, 12, 31))
        now = selectors._funding_breakdowns(scope, unit), selectors._grants_by_recipient(scope)
        with funding_as_before():
            before = selectors._funding_breakdowns(scope, unit), selectors._grants_by_recipient(scope)
        assert now == before, f"the funding figures differ from counting the recipients distinct ({start}, {unit})"

    def figures_time(figures, start: date, *args) -> float:
        t = time.perf_counter()
        figures(selectors.Scope(start=start, end=date(2026, 12, 31)), *args)
        return (time.perf_counter() - t) * 1000

    def funding_time(start: date, referral_statistics) -> float:
        def funding(scope):
            scope.memo["referral_statistics"] = referral_statistics  # the referral figures are not what is measured
            return selectors.funding_section(scope)

        return section_time(funding, start, date(2026, 12, 31))

    def interleaved(measure_once, *args) -> tuple[list[float], list[float]]:
        return turn_about(funding_as_before, measure_once, *args)

    print(f"\nFunding: recipients counted from the previous awards against COUNT(DISTINCT) (before; same figures, checked; "
          f"taken turn about), same run, load average {os.getloadavg()[0]:.1f}:")
    print(f"  {'':44} {'p50 ms':>7} {'p95 ms':>7} {'before p50':>10} {'before p95':>10} {'p95 ratio':>9}")
    for label, start, unit in (("2026", date(2026, 1, 1), "quarter"), ("five years", date(2022, 1, 1), "year")):
        line(f"funding breakdowns statement, {label}", *interleaved(figures_time, lambda scope, unit: selectors._funding_breakdowns(scope, unit), start, unit))
    line("grants by segment and by need, five years", *interleaved(figures_time, lambda scope: selectors._grants_by_recipient(scope), date(2022, 1, 1)))
    for label, start in (("funding section, whole borough, 2026", date(2026, 1, 1)), ("funding section, whole borough, five years", date(2022, 1, 1))):
        referral_statistics = selectors._referral_statistics(selectors.Scope(start=start, end=date(2026, 12, 31)))
        line(label, *interleaved(funding_time, start, referral_statistics))
    now, before = interleaved(page_time, client, {"start": "2022-01-01", "end": "2026-12-31", "area": ""})
    line("sector dashboard, whole borough, five years", now, before, "  (both counted afresh: a first view after a write)")
    print(f"  load average {os.getloadavg()[0]:.1f} after")


def build_data() -> None:
    from django.db import connection

    rng = random.Random(2026)
    started = time.perf_counter()
    ids = build_directory(rng)
    returns = build_projects(rng, ids)
    notes = build_referrals_and_bookings(rng, ids)
    notes.append(build_grants(rng, ids))
    with connection.cursor() as cursor:
        # As autovacuum would have done by the time anyone reads: statistics, and the visibility
        # map that lets the figures' covering indexes answer without visiting the tables.
        cursor.execute("VACUUM ANALYZE")
    print(f"Built in {time.perf_counter() - started:.0f} s: {ORGANISATIONS:,} organisations ({PROVIDERS:,} providers, "
          f"{ids['services']:,} services), {PROJECTS} joint projects with {returns:,} monitoring returns; " + "; ".join(notes))


def bench_funder():
    from accounts.models import User

    User.objects.filter(username__in=["bench-funder", "bench-admin"]).delete()
    return User.objects.create_user(username="bench-funder", email="bench-funder@example.org", password="x", role=User.Role.FUNDER)


@contextmanager
def timed_parts(request: dict):
    """Each section builder of the page (those of the period and those of the period before, apart),
    the rule-4 pass, the check for data and the rendering, timed: `request` gets label: [ms, queries,
    ms in SQL], added up over a request (the check for data and the rule-4 pass run once for each
    period). Queries are only counted, and timed, with the debug cursor on."""
    from django.db import connection

    from evidence import selectors, views

    def timed(label, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            queries_before = len(connection.queries_log)
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                part = request.setdefault(label, [0.0, 0, 0.0])
                part[0] += (time.perf_counter() - started) * 1000
                ran = list(connection.queries_log)[queries_before:]
                part[1] += len(ran)
                part[2] += sum(float(query["time"]) for query in ran) * 1000

        return wrapper

    saved = (selectors.SECTIONS, selectors.KEY_FIGURE_SECTIONS, selectors.period_has_data, selectors.suppression.protect_shared_totals, views.render)
    selectors.SECTIONS = tuple(timed(build.__name__, build) for build in saved[0])
    selectors.KEY_FIGURE_SECTIONS = tuple(timed(f"{build.__name__} (period before)", build) for build in saved[1])
    selectors.period_has_data = timed("period_has_data (both periods)", saved[2])
    selectors.suppression.protect_shared_totals = timed("protect_shared_totals (both periods)", saved[3])
    views.render = timed("render (template, charts and tables)", saved[4])
    try:
        yield
    finally:
        selectors.SECTIONS, selectors.KEY_FIGURE_SECTIONS, selectors.period_has_data, selectors.suppression.protect_shared_totals, views.render = saved


def page_sections() -> None:
    """Where the dashboard's time goes: per part, the median over RUNS requests of its time in a request
    and its queries, and what the parts leave (the view's own work, middleware, the key figures' own)."""
    from django.db import connection, reset_queries
    from django.test import Client

    client = Client()
    client.force_login(bench_funder())
    five_years = {"start": "2022-01-01", "end": "2026-12-31", "area": ""}
    for label, params, funding in (
        ("whole borough, five years", five_years, contextlib.nullcontext),
        ("whole borough, five years, the funding figures counted afresh", five_years, funding_counted_afresh),
        ("whole borough, 2026", {"start": "2026-01-01", "end": "2026-12-31", "area": ""}, contextlib.nullcontext),
        ("whole borough, 15 Feb to 10 Nov 2026", {"start": "2026-02-15", "end": "2026-11-10", "area": ""}, contextlib.nullcontext),
    ):
        client.get("/evidence/dashboards/", params)  # warm up
        requests, totals = [], []
        with funding():
            for _run in range(RUNS):
                requests.append({})
                with timed_parts(requests[-1]):
                    started = time.perf_counter()
                    client.get("/evidence/dashboards/", params)
                    totals.append((time.perf_counter() - started) * 1000)
        # One more request, its queries counted (the debug cursor's own cost is left out of the times).
        counted = {}
        connection.force_debug_cursor = True
        try:
            reset_queries()
            with timed_parts(counted), funding():
                client.get("/evidence/dashboards/", params)
            total_queries = len(connection.queries_log)
        finally:
            connection.force_debug_cursor = False
        print(f"\nSector dashboard, {label}: p50 {statistics.median(totals):.0f} ms, p95 {percentile(totals, 0.95):.0f} ms, "
              f"{total_queries} queries; load average {os.getloadavg()[0]:.1f} (each part: its median ms in a request; its queries "
              "and their time in one more request)")
        parts = 0.0
        for part in counted:
            median = statistics.median(request.get(part, [0.0])[0] for request in requests)
            parts += median
            print(f"  {part:52} {median:7.1f} ms {counted[part][1]:4d} queries {counted[part][2]:7.1f} ms")
        print(f"  {'the rest (view, middleware, key figures own work)':52} {statistics.median(totals) - parts:7.1f} ms "
              f"{total_queries - sum(queries for _ms, queries, _sql in counted.values()):4d} queries")


def run(*, build: bool = True, funding_only: bool = False, medians_only: bool = False, edges_only: bool = False) -> None:
    from django.db import connection
    from django.test import Client

    from accounts.models import User
    from evidence import selectors, services
    from evidence.models import JointProject
    from taxonomies.models import TaxonomyTerm

    if build:
        build_data()
    else:
        print("Reusing the database kept by BENCH_KEEP=1.")
    funder = bench_funder()
    admin = User.objects.create_user(username="bench-admin", email="bench-admin@example.org", password="x", role=User.Role.NETWORK_ADMIN)
    client = Client()
    client.force_login(funder)
    if funding_only:  # --funding: only the funding figures against COUNT(DISTINCT)
        compare_funding(client)
        return
    if medians_only:  # --medians: only the medians against sorting every answer
        compare_medians(client)
        return
    if edges_only:  # --edges: only the partial months' day summaries against counting them live
        compare_edges(client)
        return
    ward = TaxonomyTerm.objects.get(taxonomy__code="wards", code="bow-east")
    year = {"start": "2026-01-01", "end": "2026-12-31"}
    print(f"\nload average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; 'its SQL': the page's own statements run again through psycopg2 "
          "in the same run; 'live': the same page with the referral figures counted from every referral (before issue 15); "
          "'counted': the same page with the funding figures counted afresh, not kept under their data version (a page "
          "asked for the first time after what they count changed)")
    print(f"{'page':52} {'p50 ms':>7} {'p95 ms':>7} {'queries':>7} {'its SQL p95':>11} {'page/SQL':>8} {'live p50':>8} {'live p95':>8} "
          f"{'p95/live':>8} {'counted p50':>11} {'counted p95':>11}  target")
    pages = [
        ("sector dashboard, whole borough, 2026", "/evidence/dashboards/", {**year, "area": ""}),
        ("sector dashboard, one ward (Bow East), 2026", "/evidence/dashboards/", {**year, "area": ward.code}),
        ("sector dashboard, whole borough, five years", "/evidence/dashboards/", {"start": "2022-01-01", "end": "2026-12-31", "area": ""}),
        ("sector dashboard, whole borough, 15 Feb to 10 Nov 2026", "/evidence/dashboards/", {"start": "2026-02-15", "end": "2026-11-10", "area": ""}),
        ("dashboard figures as CSV, whole borough, 2026", "/evidence/dashboards/", {**year, "area": "", "format": "csv"}),
        ("statistics plus stories report, whole borough, 2026", "/evidence/report/", {**year, "area": ""}),
    ]
    for label, url, params in pages:
        times, queries, status, sql_times = measure(client, url, params)
        with referral_figures_live():
            live, _queries, _status, _sql_times = measure(client, url, params)
        with funding_counted_afresh():
            counted, _queries, _status, _sql_times = measure(client, url, params)
        # The five-year dashboard has its own target (issue 15); the others the page target of issue 7.
        target = 250 if "five years" in label else 500
        p95, sql_p95, live_p95 = percentile(times, 0.95), percentile(sql_times, 0.95), percentile(live, 0.95)
        verdict = "ok" if p95 < target else "OVER"
        print(f"{label:52} {statistics.median(times):7.0f} {p95:7.0f} {queries:7d} {sql_p95:11.0f} {p95 / sql_p95:7.2f}x "
              f"{statistics.median(live):8.0f} {live_p95:8.0f} {p95 / live_p95:7.2f}x {statistics.median(counted):11.0f} "
              f"{percentile(counted, 0.95):11.0f}  < {target} ms: {verdict} (HTTP {status})")
    print(f"load average {os.getloadavg()[0]:.1f} after the pages")
    admin_client = Client()
    admin_client.force_login(admin)
    project = JointProject.objects.order_by("pk").first()
    times, queries, status, _sql_times = measure(admin_client, project.get_absolute_url())
    print(f"{'joint project page (6 indicators, 6 partners, returns)':58} {statistics.median(times):8.0f} {percentile(times, 0.95):8.0f} {queries:8d}  "
          f"{'ok' if percentile(times, 0.95) < 500 else 'OVER'} (HTTP {status})")

    compare_funding(client)
    compare_medians(client)
    compare_edges(client)

    # The funding section's cost on the five-year page: the same page without it, in the same run.
    five_years = {"start": "2022-01-01", "end": "2026-12-31", "area": ""}
    with funding_counted_afresh():
        with_funding, _queries, _status, _sql_times = measure(client, "/evidence/dashboards/", five_years)
    sections = selectors.SECTIONS
    selectors.SECTIONS = tuple(build for build in sections if build is not selectors.funding_section)
    try:
        without, _queries, _status, _sql_times = measure(client, "/evidence/dashboards/", five_years)
    finally:
        selectors.SECTIONS = sections
    print(
        f"\nFive-year dashboard with the funding section against without it (the baseline), same run: p50 "
        f"{statistics.median(with_funding):.0f} / {statistics.median(without):.0f} ms = "
        f"{statistics.median(with_funding) / statistics.median(without):.2f}x; p95 {percentile(with_funding, 0.95):.0f} / "
        f"{percentile(without, 0.95):.0f} ms = {percentile(with_funding, 0.95) / percentile(without, 0.95):.2f}x"
    )

    def median_section_time(build, start: date) -> float:
        return statistics.median(section_time(build, start, date(2026, 12, 31)) for _run in range(5))

    print(f"\nEach dashboard section on its own, whole borough (ms, median of 5; 'live': referral figures counted live; the funding "
          f"figures counted afresh), load average {os.getloadavg()[0]:.1f}:")
    print(f"  {'section':26} {'2026':>7} {'live':>7} {'ratio':>6}   {'5 years':>7} {'live':>7} {'ratio':>6}")
    for build in (*selectors.SECTIONS, selectors._delivery_counts_section):
        figures = []
        for start in (date(2026, 1, 1), date(2022, 1, 1)):
            with funding_counted_afresh():
                summarised = median_section_time(build, start)
                with referral_figures_live():
                    live = median_section_time(build, start)
            figures += [summarised, live, summarised / live]
        print(f"  {build.__name__:26} {figures[0]:7.0f} {figures[1]:7.0f} {figures[2]:5.2f}x   {figures[3]:7.0f} {figures[4]:7.0f} {figures[5]:5.2f}x")

    # Delivery by area's cost on the one-year page (it is built for the period before too, for the key
    # figures): the same page without it, in the same run.
    with_delivery, _queries, _status, _sql_times = measure(client, "/evidence/dashboards/", {**year, "area": ""})
    key_sections = selectors.KEY_FIGURE_SECTIONS
    selectors.SECTIONS = tuple(build for build in sections if build is not selectors.delivery_section)
    selectors.KEY_FIGURE_SECTIONS = tuple(build for build in key_sections if build is not selectors._delivery_counts_section)
    try:
        without, _queries, _status, _sql_times = measure(client, "/evidence/dashboards/", {**year, "area": ""})
    finally:
        selectors.SECTIONS, selectors.KEY_FIGURE_SECTIONS = sections, key_sections
    print(
        f"\nOne-year dashboard with delivery by area against without it (the baseline), same run: p50 "
        f"{statistics.median(with_delivery):.0f} / {statistics.median(without):.0f} ms = "
        f"{statistics.median(with_delivery) / statistics.median(without):.2f}x; p95 {percentile(with_delivery, 0.95):.0f} / "
        f"{percentile(without, 0.95):.0f} ms = {percentile(with_delivery, 0.95) / percentile(without, 0.95):.2f}x"
    )

    # Delivery by area (issue 18) reads the same referrals as the referral section, per ward and against
    # each one's deadline: the referral section is its baseline, in the same run.
    print("\nDelivery by area against the referral section (the baseline), same run (ms, median of 5):")
    for period, start in (("2026", date(2026, 1, 1)), ("five years", date(2022, 1, 1))):
        figures = {}
        for build in (selectors.referral_section, selectors.delivery_section):
            times = []
            for _run in range(5):
                scope = selectors.Scope(start=start, end=date(2026, 12, 31))
                t = time.perf_counter()
                section = build(scope)
                for chart in section.charts:
                    list(chart.long_rows())
                times.append((time.perf_counter() - t) * 1000)
            figures[build.__name__] = statistics.median(times)
        delivery, referrals = figures["delivery_section"], figures["referral_section"]
        print(f"  whole borough, {period:10} delivery_section {delivery:6.0f}, referral_section {referrals:6.0f}: {delivery / referrals:.2f}x")

    export = services.request_export(user=funder, start=date(2022, 1, 1), end=date(2026, 12, 31), area=None)
    connection.close()
    result = subprocess.run(
        [sys.executable, __file__, "--build-pack", str(export.pk)], capture_output=True, text=True, check=True
    )
    elapsed, peak_mb, size = result.stdout.strip().splitlines()[-1].split()
    print(
        f"\nXLSX evidence pack (five years, whole borough), built in its own process as a worker would: "
        f"{float(elapsed):.1f} s (target < 60 s), peak memory {float(peak_mb):.0f} MB (target < 250 MB), {int(size):,} bytes"
    )


if __name__ == "__main__":
    main()
