"""Referral figures (issue 4), on PostgreSQL, in a database of its own that it creates and drops.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/referrals_routing.py

1. Routing one referral with 1,000 providers (each with a service, a tenth paused or full) and 500
   routing rules (many narrowed by ward, community, segment, stage or language): p95 under 20 ms.
2. An officer's inbox with 10,000 referrals, through the real page (the Django test client): the same
   number of SQL queries per page as for a provider with a handful, and p95 under 80 ms.

The machine is shared and busy, so figures are indicative.
"""

import os
import random
import statistics
import time

from harness import bench_database, percentile, verdict

BENCH_DB = "thin_bench_referrals"
PROVIDERS, RULES, REFERRALS = 1000, 500, 10_000
ROUTING_RUNS, INBOX_RUNS = 300, 60


def main() -> None:
    with bench_database(BENCH_DB, var_dir="/tmp/thin-bench-referrals-var"):
        run()


def build():
    from django.utils import timezone

    from accounts.models import User
    from directory.models import Service
    from organisations.models import Affiliation, Organisation
    from referrals.models import Referral, RoutingRule, RoutingRuleProvider
    from taxonomies.models import TaxonomyTerm

    rng = random.Random(4)
    terms = {
        code: list(TaxonomyTerm.objects.in_taxonomy(code))
        for code in ("needs", "wards", "communities", "segments", "languages")
    }
    kinds = {term.code: term for term in TaxonomyTerm.objects.in_taxonomy("organisation-kinds")}

    started = time.perf_counter()
    providers = Organisation.objects.bulk_create(
        [
            Organisation(name=f"Provider {n:04d}", slug=f"provider-{n:04d}", email=f"p{n}@example.org")
            for n in range(PROVIDERS)
        ],
        batch_size=1000,
    )
    vcos = Organisation.objects.bulk_create(
        [
            Organisation(
                name=f"Group {n:03d}",
                slug=f"group-{n:03d}",
                ward=rng.choice(terms["wards"]),
                development_stage=rng.choice([1, 2, 3]),
            )
            for n in range(300)
        ],
        batch_size=1000,
    )
    Kinds = Organisation.kinds.through
    Kinds.objects.bulk_create(
        [
            Kinds(organisation_id=p.pk, taxonomyterm_id=kinds[rng.choice(["general", "specialist"])].pk)
            for p in providers
        ]
        + [Kinds(organisation_id=v.pk, taxonomyterm_id=kinds["vco"].pk) for v in vcos],
        batch_size=2000,
    )
    services = Service.objects.bulk_create(
        [
            Service(
                organisation=p,
                name=f"Service of {p.name}",
                slug=f"service-{p.pk}",
                description="Help.",
                status=Service.Status.PAUSED if n % 20 == 0 else Service.Status.ACTIVE,
                accepting_referrals=n % 20 != 1,
            )
            for n, p in enumerate(providers)
        ],
        batch_size=1000,
    )
    Needs = Service.needs.through
    Needs.objects.bulk_create(
        [Needs(service_id=s.pk, taxonomyterm_id=need.pk) for s in services for need in rng.sample(terms["needs"], 2)],
        batch_size=2000,
    )
    rules = []
    for n in range(RULES):
        narrowing = {}
        roll = rng.random()
        if roll < 0.25:
            narrowing["ward"] = rng.choice(terms["wards"])
        elif roll < 0.45:
            narrowing["community"] = rng.choice(terms["communities"])
        elif roll < 0.55:
            narrowing["segment"] = rng.choice(terms["segments"])
        elif roll < 0.65:
            narrowing["stage"] = rng.choice([1, 2, 3])
        elif roll < 0.75:
            narrowing["language"] = rng.choice(terms["languages"])
        rules.append(
            RoutingRule(name=f"Rule {n}", need=rng.choice(terms["needs"]), priority=rng.randint(1, 100), **narrowing)
        )
    rules = RoutingRule.objects.bulk_create(rules, batch_size=1000)
    RoutingRuleProvider.objects.bulk_create(
        [
            RoutingRuleProvider(rule=rule, provider=provider, position=position)
            for rule in rules
            for position, provider in enumerate(rng.sample(providers, rng.randint(3, 6)), start=1)
        ],
        batch_size=2000,
    )

    # The inbox: one provider with 10,000 referrals in every state; another with five.
    busy, quiet = providers[0], providers[1]
    officer = User.objects.create_user(
        username="officer", email="officer@example.org", password="x", role=User.Role.OFFICER
    )
    colleague = User.objects.create_user(
        username="colleague", email="colleague@example.org", password="x", role=User.Role.OFFICER, first_name="Cath"
    )
    quiet_officer = User.objects.create_user(
        username="quiet", email="quiet@example.org", password="x", role=User.Role.OFFICER
    )
    Affiliation.objects.bulk_create(
        [
            Affiliation(user=officer, organisation=busy, role="officer"),
            Affiliation(user=colleague, organisation=busy, role="officer"),
            Affiliation(user=quiet_officer, organisation=quiet, role="officer"),
        ]
    )
    now = timezone.now()
    statuses = ["with_provider", "accepted", "in_progress", "closed", "declined"]
    referrals = []
    for n in range(REFERRALS + 5):
        submitted = now - timezone.timedelta(days=rng.randint(0, 700), minutes=n)
        referrals.append(
            Referral(
                organisation=rng.choice(vcos),
                provider=busy if n < REFERRALS else quiet,
                description="Help with a bid.",
                contact_name="A Person",
                contact_email=f"person{n}@example.org",
                consent_purpose="Sharing with the provider.",
                consent_given_at=submitted,
                submitted_at=submitted,
                sent_at=submitted,
                response_due_at=submitted + timezone.timedelta(days=7),
                status=rng.choice(statuses),
                assigned_to=rng.choice([None, officer, colleague]),
            )
        )
    referrals = Referral.objects.bulk_create(referrals, batch_size=2000)
    RNeeds = Referral.needs.through
    RNeeds.objects.bulk_create(
        [
            RNeeds(referral_id=r.pk, taxonomyterm_id=need.pk)
            for r in referrals
            for need in rng.sample(terms["needs"], rng.randint(1, 3))
        ],
        batch_size=5000,
    )
    with __import__("django.db").db.connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"Built {PROVIDERS:,} providers, {len(services):,} services, {RULES} rules, {REFERRALS:,} referrals in {time.perf_counter() - started:.1f} s"
    )
    return {
        "terms": terms,
        "providers": providers,
        "vcos": vcos,
        "officer": officer,
        "quiet_officer": quiet_officer,
        "rng": rng,
    }


def bench_routing(data) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from referrals.selectors import suggest_providers

    rng, terms = data["rng"], data["terms"]
    timings, cpu, sql, queries, counts = [], [], [], [], []
    for run in range(ROUTING_RUNS):
        vco = rng.choice(data["vcos"])
        kwargs = dict(
            needs=rng.sample(terms["needs"], rng.randint(1, 2)),
            segments=rng.sample(terms["segments"], rng.randint(0, 2)),
            communities=rng.sample(terms["communities"], rng.randint(0, 3)),
            ward=vco.ward_id,
            stage=vco.development_stage,
            language=rng.choice(terms["languages"] + [None]),
            existing_provider=rng.choice(data["providers"]) if run % 4 == 0 else None,
        )
        with CaptureQueriesContext(connection) as captured:
            started, started_cpu = time.perf_counter(), time.process_time()
            routing = suggest_providers(**kwargs)
            [s.reasons for s in routing.suggestions]
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        sql.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
        queries.append(len(captured.captured_queries))
        counts.append(len(routing.suggestions))
    timings, cpu, sql = timings[10:], cpu[10:], sql[10:]  # warm-up
    p95 = percentile(timings, 0.95)
    print(
        f"Routing one referral ({PROVIDERS:,} providers, {RULES} rules), {len(timings)} runs: p50 {statistics.median(timings):.1f} ms, "
        f"p95 {p95:.1f} ms (target < 20 ms: {verdict(p95 < 20)}); SQL queries per routing {min(queries)}-{max(queries)}; "
        f"suggestions per request {min(counts)}-{max(counts)}"
    )
    print(
        f"  of which: Python CPU p50 {statistics.median(cpu):.1f} ms, p95 {percentile(cpu, 0.95):.1f} ms; "
        f"SQL (wall, as the client saw it) p50 {statistics.median(sql):.1f} ms, p95 {percentile(sql, 0.95):.1f} ms"
    )


def bench_inbox(data) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    rng = data["rng"]
    needs = data["terms"]["needs"]

    def page_queries(user, params):
        client = Client()
        client.force_login(user)
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/referrals/inbox/", params)
        assert response.status_code == 200, response.status_code
        return len(captured.captured_queries)

    quiet = page_queries(data["quiet_officer"], {})
    busy = page_queries(data["officer"], {})
    client = Client()
    client.force_login(data["officer"])
    variants = [
        {},
        {"status": "open"},
        {"status": "accepted"},
        {"overdue": "on"},
        {"age": "30"},
        {"mine": "on"},
        {"q": "Group 1"},
        {"page": "200"},
        {"page": "last"},
    ]
    timings, cpu, sql, per_page = [], [], [], set()
    for run in range(INBOX_RUNS + 5):
        params = dict(rng.choice(variants))
        if run % 3 == 0:
            params["need"] = rng.choice(needs).pk
        with CaptureQueriesContext(connection) as captured:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get("/referrals/inbox/", params)
            elapsed = (time.perf_counter() - started) * 1000
            elapsed_cpu = (time.process_time() - started_cpu) * 1000
        assert response.status_code == 200
        per_page.add(len(captured.captured_queries))
        if run >= 5:
            timings.append(elapsed)
            cpu.append(elapsed_cpu)
            sql.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
    p95 = percentile(timings, 0.95)
    print(
        f"Officer's inbox page ({REFERRALS:,} referrals), {len(timings)} requests over filters and pages: p50 {statistics.median(timings):.1f} ms, "
        f"p95 {p95:.1f} ms (target < 80 ms: {verdict(p95 < 80)})"
    )
    print(
        f"  of which: Python CPU p50 {statistics.median(cpu):.1f} ms, p95 {percentile(cpu, 0.95):.1f} ms; "
        f"SQL p50 {statistics.median(sql):.1f} ms, p95 {percentile(sql, 0.95):.1f} ms"
    )
    print(
        f"SQL queries per inbox page: {busy} with {REFERRALS:,} referrals, {quiet} with 5 "
        f"({'constant' if busy == quiet else 'NOT CONSTANT'}); across filters {sorted(per_page)}"
    )


def run() -> None:
    print(
        f"Load average before the run: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs (shared machine: figures are indicative)"
    )
    data = build()
    bench_routing(data)
    bench_inbox(data)


if __name__ == "__main__":
    main()
