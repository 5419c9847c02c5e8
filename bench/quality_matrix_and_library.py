"""Quality figures (issue 6), on PostgreSQL, in a database of its own that it creates and drops.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/quality_matrix_and_library.py

Issue 6 names no volumes or targets, so this builds a borough far larger than Tower Hamlets (2,000
providers with verified badges, 5,000 support materials, 5,000 VCOs each with two health checks) and
checks the reads other pages depend on, against targets set here:

1. Accreditation lines for a page of 50 organisations (what the ORUK API and directory pages ask the
   hook for): 2 queries whatever the page, p95 under 50 ms.
2. The providers' matrix over all 2,000 providers: a fixed number of queries, under 2 s; its CSV too.
3. A library search (two words and a need filter) over 5,000 materials, first page: p95 under 150 ms.
4. Health-check progress for the evidence app over 10,000 checks: a fixed number of queries, under 5 s.

The machine is shared and busy, so figures are indicative.
"""

import statistics
import time
import tracemalloc
from datetime import timedelta

from harness import bench_database, percentile

BENCH_DB = "thin_bench_quality"
PROVIDERS = 2_000
MATERIALS = 5_000
VCOS = 5_000


def main() -> None:
    with bench_database(BENCH_DB, var_dir="/tmp/thin-bench-quality-var"):
        build()
        run()


def _timed(function, repeat: int):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    with CaptureQueriesContext(connection) as queries:
        result = function()
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return result, times, len(queries.captured_queries)


def build() -> None:
    import random

    from django.utils import timezone

    from organisations.models import Organisation
    from quality.models import (
        Badge,
        BadgeArea,
        FrameworkVersion,
        HealthCheck,
        HealthCheckArea,
        HealthCheckAreaScore,
        Material,
        SelfAssessment,
    )
    from taxonomies.models import TaxonomyTerm

    random.seed(6)
    started = time.perf_counter()
    kinds = {term.code: term for term in TaxonomyTerm.objects.filter(taxonomy__code="organisation-kinds")}
    needs = list(TaxonomyTerm.objects.filter(taxonomy__code="needs"))
    providers = Organisation.objects.bulk_create(Organisation(name=f"Provider {n:05d}", slug=f"provider-{n}") for n in range(PROVIDERS))
    vcos = Organisation.objects.bulk_create(Organisation(name=f"Group {n:05d}", slug=f"group-{n}", development_stage=1 + n % 3) for n in range(VCOS))
    Kind = Organisation.kinds.through
    Kind.objects.bulk_create([Kind(organisation_id=p.pk, taxonomyterm_id=kinds["general"].pk) for p in providers])
    Kind.objects.bulk_create([Kind(organisation_id=v.pk, taxonomyterm_id=kinds["vco"].pk) for v in vcos])

    version = FrameworkVersion.objects.published().get()
    areas = list(version.areas.all())
    today = timezone.localdate()
    assessments = SelfAssessment.objects.bulk_create(
        SelfAssessment(organisation=p, version=version, status=SelfAssessment.Status.VERIFIED) for p in providers
    )
    badges = Badge.objects.bulk_create(
        Badge(organisation_id=a.organisation_id, assessment=a, version=version, verified_on=today, expires_on=today + timedelta(days=random.randint(-100, 700)))
        for a in assessments
    )
    BadgeArea.objects.bulk_create(
        [BadgeArea(badge=b, area=area, level=random.choice([0, 1, 1, 1, 2, 3])) for b in badges for area in areas], batch_size=5000
    )
    materials = Material.objects.bulk_create(
        Material(
            title=f"{random.choice(['Budget', 'Trustee', 'Volunteer', 'Safeguarding', 'Premises', 'Funding'])} "
                  f"{random.choice(['template', 'tool kit', 'fact sheet', 'policy'])} {n}",
            slug=f"material-{n}", summary="For groups at every stage.", kind="fact_sheet", external_url=f"https://example.org/{n}",
        )
        for n in range(MATERIALS)
    )
    Need = Material.needs.through
    Need.objects.bulk_create([Need(material_id=m.pk, taxonomyterm_id=random.choice(needs).pk) for m in materials], batch_size=5000)

    hc_areas = list(HealthCheckArea.objects.all())
    checks = HealthCheck.objects.bulk_create(
        [HealthCheck(organisation=v, stage=v.development_stage, overall_score=random.randint(0, 100)) for v in vcos for _ in range(2)], batch_size=5000
    )
    HealthCheck.objects.filter(pk__in=[c.pk for c in checks[::2]]).update(completed_at=timezone.now() - timedelta(days=200))
    HealthCheckAreaScore.objects.bulk_create(
        [HealthCheckAreaScore(health_check=c, area=a, score=random.randint(0, 100)) for c in checks for a in hc_areas], batch_size=10000
    )
    print(f"Built {PROVIDERS:,} providers with badges ({PROVIDERS * len(areas):,} area levels), {MATERIALS:,} materials, "
          f"{len(checks):,} health checks ({len(checks) * len(hc_areas):,} scores) in {time.perf_counter() - started:.1f} s")


def run() -> None:
    from django.contrib.auth.models import AnonymousUser

    from core.exports import CSV, tabular_response
    from organisations.models import Organisation
    from quality import selectors
    from taxonomies.models import TaxonomyTerm

    page_ids = list(Organisation.objects.order_by("?").values_list("pk", flat=True)[:50])
    lines, times, queries = _timed(lambda: selectors.accreditation_lines(page_ids), 50)
    print(f"1. Accreditation lines, 50 organisations: {queries} queries, p50 {statistics.median(times):.1f} ms, "
          f"p95 {percentile(times, .95):.1f} ms ({len(lines)} with a current badge)  target: 2 queries, p95 < 50 ms")

    matrix, times, queries = _timed(lambda: selectors.provider_matrix(), 5)
    # Memory measured on a separate run: tracemalloc slows Python down several times.
    tracemalloc.start()
    selectors.provider_matrix()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"2. Matrix, {len(matrix.rows):,} providers x {len(matrix.areas)} areas: {queries} queries, "
          f"p50 {statistics.median(times):.0f} ms, max {max(times):.0f} ms, peak memory {peak / 1e6:.0f} MB, "
          f"{len(matrix.gaps)} gap lines  target: < 2000 ms")
    start = time.perf_counter()
    headers, rows = selectors.matrix_table(selectors.provider_matrix())
    body = b"".join(chunk for chunk in tabular_response(filename="m", headers=headers, rows=rows, fmt=CSV).streaming_content)
    print(f"   matrix CSV: {len(body) / 1e3:.0f} kB in {(time.perf_counter() - start) * 1000:.0f} ms")

    need = TaxonomyTerm.objects.get(taxonomy__code="needs", code="funding-and-fundraising")
    visitor = AnonymousUser()
    result, times, queries = _timed(lambda: list(selectors.search_materials(user=visitor, q="budget template", need=need)[:20]), 30)
    print(f"3. Library search (2 words + need), first 20 of {selectors.search_materials(user=visitor, q='budget template', need=need).count()}: "
          f"{queries} queries, p50 {statistics.median(times):.1f} ms, p95 {percentile(times, .95):.1f} ms  target: p95 < 150 ms")

    progress, times, queries = _timed(lambda: selectors.health_check_progress(), 3)
    print(f"4. Health-check progress, {len(progress):,} organisations with repeat checks: {queries} queries, "
          f"p50 {statistics.median(times):.0f} ms  target: fixed queries, < 5000 ms")


if __name__ == "__main__":
    main()
