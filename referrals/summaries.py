"""The referral figures of the evidence dashboards, counted per local month, ward and state.

``month_rows`` counts referrals live; ``period_figures`` gives the same rows for a period, adding up
the period's whole months from the monthly summaries (ReferralMonth, ReferralNeedMonth) and the days
of its partial first and last months from the daily ones (ReferralDay, ReferralNeedDay), counting live
only days of the current month (see ``_parts``); ``period_medians`` finds the medians of the wait for
a first answer from the answers per whole hour waited (ReferralWaitMonth, ReferralWaitDay), reading
live only the answers in the middle hours. The figures cannot differ from counting every referral:

- a summary row is only ever ``month_rows``'s own output for a whole month, counted per day and
  stored as it was counted (the day rows) and added up (the month rows);
- every write to the columns they count (a referral's date, organisation, status, outcome and first
  answer; its needs; its feedback; an organisation's ward) notes its month in ReferralChange, by
  database triggers (migration 0006), so no write path can miss it: services, admin, imports,
  erasure, deletions, fixtures, raw SQL. Before whole months are read, the noted months (and any
  month not yet summarised, or summarised on another basis: the working days allowed for an answer
  or the bank holiday calendar changed) are counted again with their days, under a lock, and the
  notes they covered deleted, in one transaction;
- ``manage.py summarise_referrals`` forgets every month (they are counted again on the next read):
  for anything that writes behind the triggers' back (a TRUNCATE, a restore of one table).
"""

import io
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from functools import reduce
from operator import or_

import holidays
from dateutil.relativedelta import relativedelta
from django.db import connection, transaction
from django.db.models import Case, CharField, Count, DateTimeField, Exists, ExpressionWrapper, F, Q, QuerySet, Sum, When
from django.db.models.functions import TruncDate, TruncDay, TruncMonth
from django.utils import timezone

from core.memos import once
from taxonomies.models import TaxonomyTerm

from . import workdays
from .models import (
    Referral,
    ReferralChange,
    ReferralDay,
    ReferralMonth,
    ReferralNeedDay,
    ReferralNeedMonth,
    ReferralWaitDay,
    ReferralWaitMonth,
    SummarisedMonth,
)

SCORES = (1, 2, 3, 4, 5)
HOUR = timedelta(hours=1)
# A row: (ward id, state, asked, answered, answered in time, feedback per score 1..5).
Row = tuple


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def made_in_period(*, start: date, end: date, ward: TaxonomyTerm | None = None) -> QuerySet[Referral]:
    """Referrals submitted between two local (Europe/London) dates, both included, by VCOs in the ward
    (the asking organisation's ward; None for the whole borough)."""
    return Referral.objects.filter(_made_in_period(start=start, end=end, ward=ward)).order_by()


def _made_in_period(*, start: date, end: date, ward: TaxonomyTerm | None, via: str = "") -> Q:
    """made_in_period's condition, on a model related to the referral through `via` ("referral__")."""
    made = Q(**{f"{via}submitted_at__gte": _local_midnight(start), f"{via}submitted_at__lt": _local_midnight(end + timedelta(days=1))})
    if ward is not None:
        made &= Q(**{f"{via}organisation__ward": ward})
    return made


def response_deadlines(first: date, last: date) -> list[date]:
    """For each day from `first` to `last` on which a referral may have reached a provider, the last
    day of its response deadline (the end of the Nth working day after it, as ``services`` sets
    ``response_due_at``)."""
    from .services import response_days  # services reads the selectors, which read this: imported when used

    days = response_days()
    return [workdays.add_working_days(first + timedelta(days=n), days) for n in range((last - first).days + 1)]


def basis() -> str:
    """What a month's "answered in time" count rests on besides the referrals: the working days
    allowed and the bank holiday calendar."""
    from .services import response_days

    return f"{response_days()} days, holidays {holidays.__version__}"


def _local_day(moment: datetime) -> date:
    """The local date of a truncated moment: naive when PostgreSQL truncated it in local time for raw
    SQL, aware when the ORM converted it."""
    return moment.date() if timezone.is_naive(moment) else timezone.localtime(moment, timezone.get_default_timezone()).date()


def _local_period(field: str, by_day: bool):
    """The local (Europe/London) month, or day, of a moment."""
    london = timezone.get_default_timezone()
    return TruncDay(field, tzinfo=london) if by_day else TruncMonth(field, tzinfo=london)


def _state_expression():
    return Case(
        When(status=Referral.Status.CLOSED, outcome__gt="", then=F("outcome")),
        default=F("status"),
        output_field=CharField(),
    )


def month_rows(*, start: date, end: date, ward: TaxonomyTerm | None = None, by_day: bool = False) -> dict[date, list[Row]]:
    """{local month (by_day: local day): rows} of the referrals made from `start` to `end` (local dates, both included),
    counted live: per ward of the asking organisation and state (closed ones by their outcome), how
    many were asked, answered, answered by the deadline (the first answer came no later than the day
    it was due, the Nth working day after the day the referral reached that provider: when it was
    answered less the wait kept with it, since a pass-on moves ``sent_at`` on), and the feedback given
    on them per score. A referral counts alone, whatever the period: one that reached a provider
    before the day before it was made, or later than tomorrow (neither is written by the services,
    which stamp the present), is not counted as answered in time. One query (on PostgreSQL grouped there; the embedded SQLite default, with no
    arrays or FILTER, adds up each referral's row here)."""
    london = timezone.get_default_timezone()
    sent_at = ExpressionWrapper(F("first_response_at") - F("first_response_after"), output_field=DateTimeField())
    counted = made_in_period(start=start, end=end, ward=ward).values_list(
        _local_period("submitted_at", by_day),
        "organisation__ward_id",
        _state_expression(),
        "feedback__satisfaction",
        TruncDate(sent_at, tzinfo=london),
        TruncDate("first_response_at", tzinfo=london),
        "first_response_after",
        TruncDate("submitted_at", tzinfo=london),
    )
    # Referrals reach a provider after they are made, and are answered by today.
    first_day, last_day = start - timedelta(days=1), timezone.localdate() + timedelta(days=1)
    due_days = response_deadlines(first_day, max(end + timedelta(days=1), last_day))
    grouped: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    if connection.vendor == "postgresql":
        counted_sql, counted_params = counted.query.sql_with_params()
        sql = (
            'SELECT m."month", m."ward", m."state", m."score", COUNT(*), COUNT(m."waited"), '
            'COUNT(*) FILTER (WHERE m."sent_on" BETWEEN m."made_on" - 1 AND %s::date '
            'AND m."answered_on" <= (%s::date[])[m."sent_on" - %s::date + 1]) '
            f'FROM ({counted_sql}) m ("month", "ward", "state", "score", "sent_on", "answered_on", "waited", "made_on") '
            'GROUP BY m."month", m."ward", m."state", m."score"'
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [last_day, due_days, first_day, *counted_params])
            for month, ward_id, state, score, n, answered, in_time in cursor.fetchall():
                grouped[(_local_day(month), ward_id, state, score)] = [n, answered, in_time]
    else:
        for month, ward_id, state, score, sent_on, answered_on, waited, made_on in counted:
            figures = grouped[(_local_day(month), ward_id, state, score)]
            figures[0] += 1
            if waited is None:
                continue
            figures[1] += 1
            if made_on - timedelta(days=1) <= sent_on <= last_day:
                figures[2] += answered_on <= due_days[(sent_on - first_day).days]
    rows: dict[tuple, list[int]] = {}
    for (month, ward_id, state, score), (n, answered, in_time) in grouped.items():
        row = rows.setdefault((month, ward_id, state), [0, 0, 0, 0, 0, 0, 0, 0])
        row[0] += n
        row[1] += answered
        row[2] += in_time
        if score is not None:
            row[2 + score] += n
    by_month: dict[date, list[Row]] = defaultdict(list)
    for (month, ward_id, state), figures in rows.items():
        by_month[month].append((ward_id, state, *figures))
    return by_month


def month_need_rows(*, start: date, end: date, ward: TaxonomyTerm | None = None, by_day: bool = False) -> dict[date, list[tuple]]:
    """{local month (by_day: local day): [(ward id, need id, referrals naming it)]} of the referrals
    made from `start` to `end`, counted live in one grouped query."""
    # Joined to the referrals in their period, not filtered by a subquery of them: half the time.
    rows = (
        Referral.needs.through.objects.filter(_made_in_period(start=start, end=end, ward=ward, via="referral__"))
        .order_by()
        .values_list(_local_period("referral__submitted_at", by_day), "referral__organisation__ward_id", "taxonomyterm_id")
        .annotate(n=Count("referral_id"))
    )
    by_month: dict[date, list[tuple]] = defaultdict(list)
    for month, ward_id, need_id, n in rows:
        by_month[_local_day(month)].append((ward_id, need_id, n))
    return by_month


def month_wait_rows(*, start: date, end: date, ward: TaxonomyTerm | None = None, by_day: bool = False) -> dict[date, list[tuple]]:
    """{local month (by_day: local day): [(ward id, whole hours waited, answered)]} of the referrals made from `start` to
    `end` and answered, per ward of the asking organisation and whole hours from reaching the provider
    to the first answer (Referral.first_response_after rounded down), counted live in one grouped query
    (on SQLite, grouped here)."""
    waits = _answered(made_in_period(start=start, end=end, ward=ward)).values_list(
        _local_period("submitted_at", by_day), "organisation__ward_id", "first_response_after"
    )
    grouped: Counter = Counter()
    if connection.vendor == "postgresql":
        waits_sql, waits_params = waits.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                'SELECT w."month", w."ward", floor(EXTRACT(EPOCH FROM w."waited") / 3600)::integer, COUNT(*) '
                f'FROM ({waits_sql}) w ("month", "ward", "waited") GROUP BY 1, 2, 3',
                waits_params,
            )
            for month, ward_id, hours, n in cursor.fetchall():
                grouped[(_local_day(month), ward_id, hours)] += n
    else:
        for month, ward_id, waited in waits:
            grouped[(_local_day(month), ward_id, waited // HOUR)] += 1
    by_month: dict[date, list[tuple]] = defaultdict(list)
    for (month, ward_id, hours), n in grouped.items():
        by_month[month].append((ward_id, hours, n))
    return by_month


def _answered(made: QuerySet[Referral]) -> QuerySet[Referral]:
    return made.filter(first_response_after__isnull=False)


def _whole_months(start: date, end: date) -> tuple[date, date] | None:
    """The first and last whole local months inside [start, end], or None when there is none."""
    first = start if start.day == 1 else start.replace(day=1) + relativedelta(months=1)
    last = end.replace(day=1) if end + timedelta(days=1) == (end.replace(day=1) + relativedelta(months=1)) else end.replace(day=1) - relativedelta(months=1)
    return (first, last) if first <= last else None


def _months(first: date, last: date) -> list[date]:
    """The months from `first` to `last` (each a month's first day)."""
    months = []
    while first <= last:
        months.append(first)
        # Date arithmetic: relativedelta cost more than the rest of reading five years of months.
        first = date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)
    return months


def _month_end(month: date) -> date:
    return month + relativedelta(months=1) - timedelta(days=1)


def summarise(wanted: set[date]) -> None:
    """Brings the summaries of the `wanted` months up to date: the months changed since they were
    counted (any month's change is taken care of now, wanted or not, as the notes say only which UTC
    month changed), and those never counted or counted on another basis."""
    current = basis()
    # Up to date: every wanted month counted on this basis, and no change noted since (one statement;
    # with no month wanted, only the notes are looked at).
    counted = SummarisedMonth.objects.filter(~Exists(ReferralChange.objects.all()), month__in=wanted, basis=current)
    if counted.count() == len(wanted) and (wanted or not ReferralChange.objects.exists()):
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # One summariser at a time, or two could each write a month's rows.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('referrals.summaries'))")
        notes = list(ReferralChange.objects.values_list("pk", "month"))
        stale = set()
        for _pk, month in notes:
            # A UTC month's writes fall in that local month or, late on its last evening, the next.
            stale |= {month, month + relativedelta(months=1)}
        done = set(SummarisedMonth.objects.filter(month__in=wanted, basis=current).values_list("month", flat=True))
        stale = (stale & set(SummarisedMonth.objects.values_list("month", flat=True))) | (wanted - done)
        for run_first, run_last in _runs(stale, relativedelta(months=1)):
            _summarise_run(run_first, run_last, current)
        ReferralChange.objects.filter(pk__in=[pk for pk, _month in notes]).delete()


def _summarise_once(months: set[date], memo: dict | None) -> None:
    """``summarise(months)`` once per `memo` (a page's): a period's counts and its medians read the same
    months, so one check that they are up to date serves both."""
    once(memo, ("summarised", frozenset(months)), lambda: summarise(months))


def _runs(items, step) -> list[tuple]:
    """Consecutive items (each `step` after the one before) as (first, last) runs, in order: months
    counted in one pass each, hours read as one range each."""
    runs: list[list] = []
    for item in sorted(items):
        if runs and runs[-1][1] + step == item:
            runs[-1][1] = item
        else:
            runs.append([item, item])
    return [(first, last) for first, last in runs]


def _summarise_run(first: date, last: date, current: str) -> None:
    """Counts the months from `first` to `last` live once, per local day, and writes the days' rows and
    the months' (their days' added up)."""
    months, end = _months(first, last), _month_end(last)
    day_rows = month_rows(start=first, end=end, by_day=True)
    need_day_rows = month_need_rows(start=first, end=end, by_day=True)
    wait_day_rows = month_wait_rows(start=first, end=end, by_day=True)
    for model in (ReferralMonth, ReferralNeedMonth, ReferralWaitMonth, SummarisedMonth):
        model.objects.filter(month__in=months).delete()
    for model in (ReferralDay, ReferralNeedDay, ReferralWaitDay):
        model.objects.filter(day__gte=first, day__lte=end).delete()
    for day_model, month_model, by_day, fields in (
        (ReferralDay, ReferralMonth, day_rows, ("ward_id", "state", "asked", "answered", "in_time", *(f"satisfaction_{score}" for score in SCORES))),
        (ReferralNeedDay, ReferralNeedMonth, need_day_rows, ("ward_id", "need_id", "asked")),
        (ReferralWaitDay, ReferralWaitMonth, wait_day_rows, ("ward_id", "hours", "answered")),
    ):
        keys = 2  # the leading fields that make a row's group; the rest are counts
        by_month: dict[tuple, list[int]] = {}
        for day, rows in by_day.items():
            for row in rows:
                figures = by_month.setdefault((day.replace(day=1), *row[:keys]), [0] * (len(row) - keys))
                for place, n in enumerate(row[keys:]):
                    figures[place] += n
        _insert(day_model, ("day", *fields), [(day, *row) for day, rows in by_day.items() for row in rows])
        _insert(month_model, ("month", *fields), [(*key, *figures) for key, figures in by_month.items()])
    SummarisedMonth.objects.bulk_create([SummarisedMonth(month=month, basis=current) for month in months])


def _insert(model, fields: tuple[str, ...], rows: list[tuple]) -> None:
    """Rows of counts (a date first, a state maybe) written straight through the cursor: a month's
    days are some thousands of rows, which bulk_create's model instances made ten times slower to
    write. COPY on PostgreSQL (multi-row INSERTs were still some hundreds of ms a month there)."""
    table, columns = connection.ops.quote_name(model._meta.db_table), ", ".join(fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            text = "".join("\t".join(_copy_value(value) for value in row) + "\n" for row in rows)
            cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", io.StringIO(text))
        else:
            adapt = connection.ops.adapt_datefield_value
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})", [(adapt(day), *rest) for day, *rest in rows])


def _copy_value(value) -> str:
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def forget() -> None:
    """Every month is counted again on its next read."""
    SummarisedMonth.objects.all().delete()


def _edges(start: date, end: date) -> list[tuple[date, date]]:
    """The parts of [start, end] outside its whole months."""
    whole = _whole_months(start, end)
    if whole is None:
        return [(start, end)]
    first, last = whole
    edges = []
    if start < first:
        edges.append((start, first - timedelta(days=1)))
    if _month_end(last) < end:
        edges.append((_month_end(last) + timedelta(days=1), end))
    return edges


def _parts(start: date, end: date, use_summaries: bool = True) -> tuple[set[date], list[tuple[date, date]], list[tuple[date, date]]]:
    """How [start, end] is read: (the months to summarise first, the days read from the day rows as
    (first, last) runs, the days counted live). Whole months come from the month rows. The partial
    months' days come from the day rows once their month has ended; those of the current month (or
    later) are counted live, as that month is written all the time and a summary of it would be
    counted again after every write. use_summaries=False: every day live."""
    if not use_summaries:
        return set(), [], [(start, end)]
    whole = _whole_months(start, end)
    months = set(_months(*whole)) if whole is not None else set()
    this_month = timezone.localdate().replace(day=1)
    days, live = [], []
    for first, last in _edges(start, end):
        while first <= last:  # an edge's part in each month (without a whole month, it may span two)
            month = first.replace(day=1)
            part_end = min(last, _month_end(month))
            if month < this_month:
                months.add(month)
                days.append((first, part_end))
            else:
                live.append((first, part_end))
            first = part_end + timedelta(days=1)
    return months, days, live


def _in_days(days: list[tuple[date, date]]) -> Q:
    return reduce(or_, (Q(day__gte=first, day__lte=last) for first, last in days))


def period_figures(
    *, start: date, end: date, ward: TaxonomyTerm | None = None, use_summaries: bool = True, memo: dict | None = None
) -> tuple[list[Row], dict[int, int]]:
    """``month_rows`` for the period added up over its months (a (ward, state) pair may come more than
    once), and {need id: referrals naming it}: whole months from the month rows, the partial months'
    days from the day rows or live (see ``_parts``). use_summaries=False counts it all live. Six
    queries once the summaries are up to date (checked once per `memo`, see ``_summarise_once``)."""
    rows: list[Row] = []
    needs: dict[int, int] = defaultdict(int)
    months, days, live = _parts(start, end, use_summaries)
    whole = _whole_months(start, end) if use_summaries else None
    if months:
        _summarise_once(months, memo)
    reads = []
    if whole is not None:
        reads.append((ReferralMonth, ReferralNeedMonth, Q(month__gte=whole[0], month__lte=whole[1])))
    if days:
        reads.append((ReferralDay, ReferralNeedDay, _in_days(days)))
    for model, need_model, when in reads:
        summarised, summarised_needs = model.objects.filter(when), need_model.objects.filter(when)
        if ward is not None:
            summarised = summarised.filter(ward_id=ward.pk)
            summarised_needs = summarised_needs.filter(ward_id=ward.pk)
        rows += summarised.order_by().values_list("ward_id", "state").annotate(
            Sum("asked"), Sum("answered"), Sum("in_time"), *(Sum(f"satisfaction_{score}") for score in SCORES)
        )
        for need_id, n in summarised_needs.order_by().values_list("need_id").annotate(Sum("asked")):
            needs[need_id] += n
    for live_start, live_end in live:
        rows += [row for month in month_rows(start=live_start, end=live_end, ward=ward).values() for row in month]
        for month in month_need_rows(start=live_start, end=live_end, ward=ward).values():
            for _ward_id, need_id, n in month:
                needs[need_id] += n
    return rows, needs


def period_medians(
    *, start: date, end: date, ward: TaxonomyTerm | None = None, by_ward: bool = True, use_summaries: bool = True, memo: dict | None = None
) -> tuple[dict[int | None, float], float | None]:
    """The median seconds from reaching a provider to the first answer of the referrals made in a period
    (as ``made_in_period``) and answered, per ward of the asking organisation ({ward id: seconds}, only
    wards with answers; {} with by_ward=False) and over them all (None when none was answered): the
    middle answer's wait, or between the middle two (``_middle``), exactly as sorting every answer gives it.

    With the summaries, the answers per whole hour waited are added up (whole months from
    ReferralWaitMonth, the partial months' days from ReferralWaitDay or live, see ``_parts``), which
    says in which hour each median's middle answers lie and at which places in it; only the answers in those hours are then read
    (through the first-answer index) and the middle ones picked out. If a write came between the two
    reads (an hour no longer holds the answers counted in it), every answer is sorted instead, as with
    use_summaries=False."""
    made = made_in_period(start=start, end=end, ward=ward)
    if not use_summaries:
        medians, median = _sorted_medians(made)
        return (medians if by_ward else {}), median
    wards: dict[int | None, Counter] = defaultdict(Counter)  # answers per hour, by ward (when by_ward)
    everyone: Counter = Counter()
    months, days, live = _parts(start, end)
    whole = _whole_months(start, end)
    if months:
        _summarise_once(months, memo)
    reads = []
    if whole is not None:
        reads.append(ReferralWaitMonth.objects.filter(month__gte=whole[0], month__lte=whole[1]))
    if days:
        reads.append(ReferralWaitDay.objects.filter(_in_days(days)))
    for summarised in reads:
        summarised = summarised.order_by()
        if ward is not None:
            summarised = summarised.filter(ward_id=ward.pk)
        if by_ward:
            for ward_id, hours, n in summarised.values_list("ward_id", "hours").annotate(Sum("answered")):
                wards[ward_id][hours] += n
        else:
            everyone.update(dict(summarised.values_list("hours").annotate(Sum("answered"))))
    for live_start, live_end in live:
        for month in month_wait_rows(start=live_start, end=live_end, ward=ward).values():
            for ward_id, hours, n in month:
                (wards[ward_id] if by_ward else everyone)[hours] += n
    for histogram in wards.values():
        everyone.update(histogram)
    if not everyone:
        return {}, None
    places = {ward_id: _middle_places(histogram) for ward_id, histogram in wards.items()}
    overall = _middle_places(everyone)
    # The answers read: in the overall median's hours, and in each ward's median's hours for that ward.
    wards_by_hour: dict[int, set] = defaultdict(set)
    for ward_id, ward_places in places.items():
        for hours, _place in ward_places:
            wards_by_hour[hours].add(ward_id)
    overall_hours = {hours for hours, _place in overall}
    hours_read = wards_by_hour.keys() | overall_hours
    # The hours alone first (runs of them as one range), so that the planner reads them through the
    # first-answer index; then which wards' answers are wanted in each.
    in_hours = reduce(or_, (Q(first_response_after__gte=first * HOUR, first_response_after__lt=(last + 1) * HOUR) for first, last in _runs(hours_read, 1)))
    answers = made.filter(in_hours)
    if hours_read - overall_hours:
        answers = answers.filter(
            reduce(
                or_,
                (
                    Q(first_response_after__gte=hours * HOUR, first_response_after__lt=(hours + 1) * HOUR) & (Q() if hours in overall_hours else _in_wards(wards_by_hour[hours]))
                    for hours in hours_read
                ),
            )
        )
    in_ward: dict[int | None, dict[int, list[timedelta]]] = defaultdict(lambda: defaultdict(list))
    in_hour: dict[int, list[timedelta]] = defaultdict(list)
    rows = answers.values_list("organisation__ward_id", "first_response_after") if by_ward else ((None, waited) for waited in answers.values_list("first_response_after", flat=True))
    for ward_id, waited in rows:
        hours = waited // HOUR
        if hours in overall_hours:
            in_hour[hours].append(waited)
        if ward_id in wards_by_hour[hours]:
            in_ward[ward_id][hours].append(waited)
    medians = {ward_id: _pick(ward_places, wards[ward_id], in_ward[ward_id]) for ward_id, ward_places in places.items()}
    median = _pick(overall, everyone, in_hour)
    if median is None or None in medians.values():
        medians, median = _sorted_medians(made)
        return (medians if by_ward else {}), median
    return medians, median


def _in_wards(ward_ids: set) -> Q:
    known = [ward_id for ward_id in ward_ids if ward_id is not None]
    wards = Q(organisation__ward_id__in=known) if known else Q(pk__in=[])
    return wards | Q(organisation__ward_id__isnull=True) if None in ward_ids else wards


def _middle_places(histogram: Counter) -> list[tuple[int, int]]:
    """Where the middle answer (an odd count) or the middle two (even) are, as (hour, place among
    that hour's answers in order), from the number of answers per hour."""
    n = sum(histogram.values())
    positions = sorted({(n - 1) // 2, n // 2})
    places, below = [], 0
    for hours in sorted(histogram):
        while positions and positions[0] < below + histogram[hours]:
            places.append((hours, positions.pop(0) - below))
        below += histogram[hours]
    return places


def _pick(places: list[tuple[int, int]], histogram: Counter, answers: dict[int, list[timedelta]]) -> float | None:
    """The median seconds from the answers read in the middle hours; None when an hour does not hold
    the answers counted in it."""
    if any(len(answers[hours]) != histogram[hours] for hours, _place in places):
        return None
    return _middle([sorted(answers[hours])[place].total_seconds() for hours, place in places])


def _middle(values: list[float]) -> float:
    """The median of the middle value, or of the middle two in order, computed as PostgreSQL's
    percentile_cont(0.5) computes it (float8_lerp), so every path gives the same float."""
    low, high = values[0], values[-1]
    return low if len(values) == 1 else low + (high - low) * 0.5


def _sorted_medians(made: QuerySet[Referral]) -> tuple[dict[int | None, float], float | None]:
    """``period_medians`` from sorting every answer: percentile_cont by ward and in total in one query
    (GROUPING SETS) on PostgreSQL, in Python on the embedded SQLite default (no percentile_cont)."""
    waits = _answered(made).values_list("organisation__ward_id", "first_response_after")
    if connection.vendor != "postgresql":
        by_ward: dict[int | None, list[float]] = defaultdict(list)
        for ward_id, waited in waits:
            by_ward[ward_id].append(waited.total_seconds())
        everyone = sorted(seconds for ward_waits in by_ward.values() for seconds in ward_waits)
        return {ward_id: _middle_of(sorted(ward_waits)) for ward_id, ward_waits in by_ward.items()}, _middle_of(everyone) if everyone else None
    waits_sql, waits_params = waits.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT GROUPING(w."ward"), w."ward", percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM w."waited")) '
            f'FROM ({waits_sql}) w ("ward", "waited") GROUP BY GROUPING SETS ((w."ward"), ())',
            waits_params,
        )
        rows = cursor.fetchall()
    # The total's row comes back even when none was answered, with no median.
    return {ward_id: seconds for grouping, ward_id, seconds in rows if not grouping}, next(seconds for grouping, _ward, seconds in rows if grouping)


def _middle_of(ordered: list[float]) -> float:
    return _middle(ordered[(len(ordered) - 1) // 2 : len(ordered) // 2 + 1])
