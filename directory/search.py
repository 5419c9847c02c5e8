"""Searching and filtering services: the one place the directory page, its downloads and the Open
Referral UK API turn search words and filters into a queryset.

On PostgreSQL the words go through full-text search over a stored, weighted vector (the service's name
counts above its description; see migration 0004) and results are ranked. SQLite has no full-text
search: every word must appear (case-insensitively) in the name or the description, and an exact name
match still comes first.
"""

import json
from dataclasses import dataclass, field
from datetime import time
from operator import itemgetter
from time import monotonic

from django.core.exceptions import EmptyResultSet
from django.db import connection, connections
from django.db.models import BooleanField, Case, Exists, Expression, F, FloatField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Lower
from django.db.models.sql.where import WhereNode

from taxonomies.models import TaxonomyTerm

from . import facets
from .facets import ServiceColumnExpression
from .models import Schedule, Service, ServiceAtLocation

# Longer search text than this is refused (web pages and API alike): no real search needs it and a
# huge query only costs the database.
MAX_SEARCH_LENGTH = 200

SORT_RELEVANCE = "relevance"
SORT_NAME = "name"
SORT_REVIEWED = "reviewed"
SORTS = (SORT_RELEVANCE, SORT_NAME, SORT_REVIEWED)


def clean_search_text(text: str) -> str:
    """Search words as typed, minus what no database should be sent (NUL and other control characters)."""
    return "".join(ch for ch in (text or "") if ch >= " " or ch in "\t").strip()


# The text search configuration of the stored vector (migration 0004).
SEARCH_CONFIG = "english"


class _TextCondition(ServiceColumnExpression):
    """A condition on a service's columns and the search text."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, text: str):
        super().__init__()
        self.text = text


class _WordsMatch(_TextCondition):
    """The stored vector matches the words: `search_vector @@ websearch_to_tsquery(...)`, which the GIN
    index answers. websearch_to_tsquery accepts anything people type (quotes, minus signs, stray
    punctuation)."""

    def as_sql(self, compiler, connection):
        vector = self.column(compiler, "search_vector")
        return f"{vector} @@ (websearch_to_tsquery(%s::regconfig, %s))", [SEARCH_CONFIG, self.text]


class _WordsRank(_WordsMatch):
    """How well a service matches the words (higher is better): ts_rank over the stored vector, plus 1
    for a name that is the search text itself (case aside)."""

    output_field = FloatField()
    conditional = False

    def as_sql(self, compiler, connection):
        vector, name = self.column(compiler, "search_vector"), self.column(compiler, "name")
        return (
            f"(ts_rank({vector}, websearch_to_tsquery(%s::regconfig, %s)) + "
            f"CASE WHEN UPPER({name}::text) = UPPER(%s) THEN %s ELSE %s END)",
            [SEARCH_CONFIG, self.text, self.text, 1.0, 0.0],
        )


def text_search(services: QuerySet[Service], text: str, *conditions) -> QuerySet[Service]:
    """Services matching the words (and `conditions`, in the same filter), with a `rank` annotation
    (higher is better)."""
    text = clean_search_text(text)
    if not text:
        return services.filter(*conditions).annotate(rank=Value(0.0, output_field=FloatField()))
    if connection.vendor == "postgresql":
        # The match uses the GIN index alone (an OR with another condition would defeat it); an exact
        # name match always matches its own words too, and the boost puts it first. Both written as
        # one expression each: Django resolving SearchQuery, SearchRank and a Case per request cost
        # more than the rest of the query's building.
        return services.filter(*conditions, _WordsMatch(text)).annotate(rank=_WordsRank(text))
    exact = Case(When(name__iexact=text, then=Value(1.0)), default=Value(0.0), output_field=FloatField())
    # icontains escapes % and _ and backslashes itself: they match only themselves.
    words = [Q(name__icontains=word) | Q(description__icontains=word) for word in text.split()]
    name_hits = Case(When(name__icontains=text, then=Value(0.5)), default=Value(0.0), output_field=FloatField())
    return services.filter(*conditions, *words).annotate(rank=exact + name_hits)


@dataclass
class ServiceFilters:
    """Validated filters. Terms are TaxonomyTerm objects; every filter left empty means "any"."""

    text: str = ""
    functions: list[TaxonomyTerm] = field(default_factory=list)
    needs: list[TaxonomyTerm] = field(default_factory=list)
    segments: list[TaxonomyTerm] = field(default_factory=list)
    communities: list[TaxonomyTerm] = field(default_factory=list)
    wards: list[TaxonomyTerm] = field(default_factory=list)
    languages: list[TaxonomyTerm] = field(default_factory=list)
    area: str = ""
    free_only: bool = False
    stage: int | None = None
    day: str = ""
    opens_from: time | None = None
    closes_by: time | None = None
    sort: str = SORT_RELEVANCE

    def ranked(self) -> bool:
        """Whether the results come in order of relevance to search words."""
        return self.sort == SORT_RELEVANCE and bool(clean_search_text(self.text))

    def is_empty(self) -> bool:
        return not any(
            [
                self.text,
                self.functions,
                self.needs,
                self.segments,
                self.communities,
                self.wards,
                self.languages,
                self.area,
                self.free_only,
                self.stage,
                self.day,
                self.opens_from,
                self.closes_by,
            ]
        )


def _has_any(relation: str, terms: list[TaxonomyTerm]) -> Q:
    through = getattr(Service, relation).through
    return Q(
        Exists(through.objects.filter(service_id=OuterRef("pk"), taxonomyterm_id__in=[term.pk for term in terms]))
    )


def schedule_match(*, day: str = "", opens_from: time | None = None, closes_by: time | None = None) -> Q:
    """Services with one regular time on `day` that opens no earlier than `opens_from` and closes no
    later than `closes_by` (the same schedule row must meet all three)."""
    schedules = Schedule.objects.filter(service_id=OuterRef("pk"))
    if day:
        schedules = schedules.filter(weekday=day)
    if opens_from:
        schedules = schedules.filter(opens_at__gte=opens_from)
    if closes_by:
        schedules = schedules.filter(closes_at__lte=closes_by)
    return Q(Exists(schedules))


TERM_FILTERS = ("functions", "needs", "segments", "communities", "wards", "languages")


def has_any_term(term_ids: list[int]) -> Q:
    """Services tagged with any of these terms, in any list (or, for a ward, with a place there)."""
    if facets.available():
        return Q(facets.has_any(term_ids))
    condition = Q(Exists(ServiceAtLocation.objects.filter(service_id=OuterRef("pk"), location__ward_id__in=term_ids)))
    for relation in TERM_FILTERS:
        through = getattr(Service, relation).through
        condition |= Q(Exists(through.objects.filter(service_id=OuterRef("pk"), taxonomyterm_id__in=term_ids)))
    return condition


def _facet_conditions(filters: ServiceFilters) -> list:
    """PostgreSQL: every filter as a test on the service's facets, which one GIN index answers."""
    conditions = [facets.has_any(term.pk for term in terms) for terms in (getattr(filters, name) for name in TERM_FILTERS) if terms]
    wanted = []
    if filters.free_only:
        wanted.append(facets.FREE)
    if filters.stage:
        wanted.append(facets.serves_stage(filters.stage))
    if filters.day:
        wanted.append(facets.open_on(filters.day))
    if wanted:
        conditions.append(facets.has_all(wanted))
    return conditions


def _subquery_conditions(filters: ServiceFilters) -> list:
    """SQLite: the same filters read from the related tables."""
    conditions = [_has_any(name, getattr(filters, name)) for name in TERM_FILTERS if name != "wards" and getattr(filters, name)]
    if filters.wards:
        # A ward is served when the service lists it or has a location there.
        in_ward = ServiceAtLocation.objects.filter(
            service_id=OuterRef("pk"), location__ward_id__in=[term.pk for term in filters.wards]
        )
        conditions.append(_has_any("wards", filters.wards) | Q(Exists(in_ward)))
    if filters.free_only:
        conditions.append(Q(is_free=True))
    if filters.stage:
        conditions.append(Q(**{f"serves_stage_{filters.stage}": True}))
    if filters.day and not (filters.opens_from or filters.closes_by):  # with hours, filter_services checks the day
        conditions.append(schedule_match(day=filters.day))
    return conditions


def filter_services(services: QuerySet[Service], filters: ServiceFilters) -> QuerySet[Service]:
    """Apply every filter, then the search words (with their rank), then the sort."""
    conditions = _facet_conditions(filters) if facets.available() else _subquery_conditions(filters)
    if filters.area:
        conditions.append(Q(geographic_level=filters.area))
    if filters.opens_from or filters.closes_by:
        # The same regular time must fall on the day and within the hours.
        conditions.append(schedule_match(day=filters.day, opens_from=filters.opens_from, closes_by=filters.closes_by))
    services = text_search(services, filters.text, *conditions)
    return sort_services(services, filters.sort, ranked=filters.ranked())


# Best match first; equally good matches in the order they were added. (A name as the tie-break would
# have the database compare names across every match of a common word: a search for "funding" in a
# large directory has tens of thousands of equal ranks.)
RANKED_ORDER = ("-rank", "pk")


def sort_services(services: QuerySet[Service], sort: str, *, ranked: bool) -> QuerySet[Service]:
    if sort == SORT_REVIEWED:
        return services.order_by(F("last_reviewed_on").desc(nulls_last=True), Lower("name"), "pk")
    if ranked:
        return services.order_by(*RANKED_ORDER)
    return services.order_by(Lower("name"), "pk")


# A search ranks at most this many of its matches (the first the index finds, and every exact name
# match), so that a common word costs the same however large the directory grows; see ranked_ids.
RANK_LIMIT = 500


class _OneOfIds(ServiceColumnExpression):
    """`directory_service.id = ANY(ids)`, the ids sent as one array: Django's pk__in would prepare each
    of hundreds of candidates one by one."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, ids):
        super().__init__()
        self.ids = sorted(ids)

    def as_sql(self, compiler, connection):
        return f"{self.column(compiler, 'id')} = ANY(%s::bigint[])", [self.ids]


class _ExactName(_TextCondition):
    """lower(name) = lower(text): answered by the (lower(name), id) index of migration 0004."""

    def as_sql(self, compiler, connection):
        return f"LOWER({self.column(compiler, 'name')}) = (LOWER(%s))", [self.text]


def _exact_name(services: QuerySet[Service], text: str) -> QuerySet[Service]:
    return services.filter(_ExactName(text))


# A search with many matches reads its first ones by scanning the table from its start, stopping at the
# RANK_LIMIT + 1st; one with fewer, through the GIN index, which first gathers every match, then reads
# the rows of the first ones. The scan reads some (RANK_LIMIT + 1) * rows / matches rows, the index
# gathers `matches`: the table is scanned when that is fewer rows (measured on the bench's directory,
# a row scanned and a match gathered cost about the same). At 60,000 services that is from some 5,500
# matches (9%) on, at 180,000 from 9,500 (5%): either way a search reads at most
# sqrt((RANK_LIMIT + 1) * rows) rows, which grows as the square root of the directory's size.
# Both read the table in its own order (a bitmap scan visits the matches block by block, as a scan
# does; synchronised scans are off), so they find the same first matches.


class _TestedRowByRow(Expression):
    """`(conditions) IS TRUE`: the query's own conditions, in a form no index answers, so that the
    database scans the table. IS TRUE rather than = true, which the planner turns back into the
    conditions; its estimate is still theirs."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, where):
        super().__init__()
        self.where = where

    def as_sql(self, compiler, connection):
        sql, params = compiler.compile(self.where)
        return f"({sql}) IS TRUE", params


# The table's size in the statistics moves only when (auto)vacuum or ANALYZE runs, and it only decides
# how the first matches are read, never which they are: each process reads it at most this often rather
# than in a round trip of its own per search.
TABLE_ROWS_KEPT_SECONDS = 60
_table_rows_read: tuple[float, int] | None = None  # (when, rows), by monotonic()


def table_rows() -> int:
    """How many services PostgreSQL's statistics say the table holds (-1 when it was never analysed),
    as read at most TABLE_ROWS_KEPT_SECONDS ago in this process."""
    global _table_rows_read
    now = monotonic()
    if _table_rows_read is not None and now - _table_rows_read[0] < TABLE_ROWS_KEPT_SECONDS:
        return _table_rows_read[1]
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [Service._meta.db_table])
        row = cursor.fetchone()
    rows = int(row[0]) if row else -1
    _table_rows_read = (now, rows)
    return rows


def forget_table_rows() -> None:
    """Read the table's size afresh next time (tests: ANALYZE of a table a test has just filled)."""
    global _table_rows_read
    _table_rows_read = None


def scans_table(expected: int | None) -> bool:
    """Whether a search the planner expects to have `expected` matches reads its first ones by scanning
    the table: when the scan would read fewer rows than the index would gather matches (see above)."""
    if expected is None or expected <= RANK_LIMIT or connection.vendor != "postgresql":
        return False
    return 0 < (RANK_LIMIT + 1) * table_rows() < expected * expected


def planner_rows(cursor, sql: str, params) -> int:
    """The rows PostgreSQL's planner expects a statement to return (its statistics, no rows read)."""
    cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
    plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


# The search rows of migration 0010: each service's name, search words and facets alone, kept by the
# database. A statement of matches_statement's tests and ranks by nothing else, so its first matches are
# read from them: twice as fast to scan or fetch as directory_service's wide rows.
SEARCH_ROWS = "directory_service_search"
_SERVICES_FROM = f'FROM "{Service._meta.db_table}"'


def _on_search_rows(sql: str) -> str:
    """`sql`, a statement over directory_service alone, reading the search rows under its name instead;
    any other statement (a join, say) unchanged, as the rows could not answer it."""
    if sql.count(_SERVICES_FROM) != 1 or " JOIN " in sql:
        return sql
    return sql.replace(_SERVICES_FROM, f'FROM "{SEARCH_ROWS}" AS "{Service._meta.db_table}"')


@dataclass(frozen=True)
class FirstMatches:
    """What ranking a search needs, each match as (id, rank): `found`, its first RANK_LIMIT + 1 matches in
    the table's order (whether it has more than RANK_LIMIT, and if not, all of them); `exact_names`, its
    matches named exactly as the search words (beyond RANK_LIMIT they are ranked too); `expected`, the
    planner's estimate of its matches (PostgreSQL; None elsewhere)."""

    found: list[tuple[int, float]]
    exact_names: list[tuple[int, float]]
    expected: int | None = None


def _scored(matches: QuerySet[Service]) -> QuerySet[Service]:
    """The ids and ranks of a search's matches (text_search's queryset), unordered."""
    return matches.order_by().values_list("pk", "rank")


# The statement of a search's matches (_scored, compiled) per filter shape (see matches_statement):
# shape -> (SQL, the parameters of the listed services' own conditions), filled in as searches come.
_MATCHES_STATEMENTS: dict[tuple, tuple[str, tuple]] = {}


def matches_statement(services: QuerySet[Service], filters: ServiceFilters) -> tuple[str, tuple] | None:
    """The SQL and parameters of a ranked search's matches as _scored(services) compiles them (`services`:
    selectors.search_directory(filters)), for first_matches; PostgreSQL only, else None. Compiled by
    Django once per filter shape (which facet filters it has, not their values: the SQL is the same),
    after that only the parameters are taken, from the filters' own expressions (they stay parameters):
    the rank's, the listed services' own (as first compiled), the filters' and the words' (in
    filter_services's order). A shape whose compiled parameters are not in that order is compiled every
    time; a search by area or hours (conditions Django resolves) is left to first_matches."""
    text = clean_search_text(filters.text)
    if not (facets.available() and filters.ranked()) or filters.area or filters.opens_from or filters.closes_by:
        return None
    conditions = _facet_conditions(filters)
    shape = tuple(condition.operator for condition in conditions)
    compiler = services.query.get_compiler(services.db)
    before = compiler.compile(_WordsRank(text))[1]
    after = [param for expression in (*conditions, _WordsMatch(text)) for param in compiler.compile(expression)[1]]
    if (statement := _MATCHES_STATEMENTS.get(shape)) is not None:
        sql, listed = statement
        return sql, (*before, *listed, *after)
    try:
        sql, params = _scored(services).query.sql_with_params()
    except EmptyResultSet:
        return None
    middle = len(params) - len(after)
    if middle >= len(before) and list(params[: len(before)]) == before and list(params[middle:]) == after:
        _MATCHES_STATEMENTS[shape] = (sql, tuple(params[len(before) : middle]))
    return sql, params


def first_matches(
    matches: QuerySet[Service], text: str = "", *, expected: int | None = None, statement: tuple[str, tuple] | None = None
) -> FirstMatches:
    """The first matches of `matches` (text_search's queryset) and those named exactly `text`. On
    PostgreSQL in two statements compiled from one (`statement`: matches_statement's, if the caller has
    it): the planner's estimate (unless `expected` gives it), which says how to read the first matches
    (scans_table), then the first matches (with `statement`, from the search rows: _on_search_rows), with
    the exact name matches in the same read when the estimate says they may be needed
    (likely_beyond_rank_limit); else read afterwards only if there were more than RANK_LIMIT matches
    after all."""
    if connection.vendor != "postgresql":
        scored = _scored(matches)
        found = list(scored[: RANK_LIMIT + 1])
        exact_names = list(_exact_name(scored, text)) if len(found) > RANK_LIMIT else []
        return FirstMatches(found, exact_names)
    if statement is not None:
        sql, params = statement
    else:
        try:
            sql, params = _scored(matches).query.sql_with_params()
        except EmptyResultSet:  # a filter no service can pass
            return FirstMatches([], [], 0)
    # Read on a plain cursor: the rows are already (id, rank) as the database gives them, and Django's
    # converters and tuples per row cost as much as the query.
    with connections[matches.db].cursor() as cursor:
        if expected is None:
            expected = planner_rows(cursor, sql, params)
        rows_sql, first_params = sql, params
        if scans_table(expected):
            scanned = _scored(matches)
            scanned.query.where = WhereNode([_TestedRowByRow(scanned.query.where)])
            rows_sql, first_params = scanned.query.sql_with_params()
        if statement is not None:
            sql, rows_sql = _on_search_rows(sql), _on_search_rows(rows_sql)
        first_sql = f"SELECT m.*, false FROM ({rows_sql} LIMIT {RANK_LIMIT + 1}) AS m"
        # The search and lower(name) = lower(text), which the (lower(name), id) index of migration 0004
        # (or 0010's on the search rows) answers: added to the end of its WHERE (the statement has no
        # ORDER BY or LIMIT; Django puts a WHERE of several conditions in brackets), planned more
        # cheaply than a join to a look-up.
        table = connections[matches.db].ops.quote_name(Service._meta.db_table)
        exact = f"{' AND' if matches.query.where else ' WHERE'} lower({table}.name) = lower(%s)"
        exact_sql = f"SELECT m.*, true FROM ({sql}{exact}) AS m"
        exact_params = (*params, text)
        with_exact_names = likely_beyond_rank_limit(expected)
        if with_exact_names:
            first_sql, first_params = f"{first_sql} UNION ALL {exact_sql}", (*first_params, *exact_params)
        cursor.execute(first_sql, first_params)
        rows = cursor.fetchall()
        if not with_exact_names and len(rows) > RANK_LIMIT:
            cursor.execute(exact_sql, exact_params)
            rows += cursor.fetchall()
    found = [(pk, rank) for pk, rank, exact_name in rows if not exact_name]
    return FirstMatches(found, [(pk, rank) for pk, rank, exact_name in rows if exact_name], expected)


def likely_beyond_rank_limit(expected: int) -> bool:
    """Whether a search the planner expects to have `expected` matches may well have more than RANK_LIMIT,
    so that first_matches reads its exact name matches with its first ones: in the same statement, they
    cost a second plan of the search and a look-up in the name index, which a search with a few hundred
    matches (most of them) never needs. Planner estimates of a few filters combined are seldom off by
    half, and when one is, the exact name matches are read afterwards."""
    return 2 * expected > RANK_LIMIT


def _best_first(scored) -> list[int]:
    """Ids from (id, rank) pairs in RANKED_ORDER: the ranks are the database's own, so the order is the
    one its ORDER BY would give. Sorted by id, then (stably) by rank, best first: no key tuple per row."""
    return [pk for pk, _rank in sorted(sorted(scored, key=itemgetter(0)), key=itemgetter(1), reverse=True)]


def ranked_ids(
    matches: QuerySet[Service], text: str, start: int, stop: int, *, first: FirstMatches | None = None
) -> list[int]:
    """Ids `start` to `stop` of a search's matches (`matches`: text_search's queryset, in RANKED_ORDER;
    `first`: first_matches(matches, text) if already read), best first, reading a bounded number of rows
    whatever the number of matches.

    Up to RANK_LIMIT matches, all are ranked: the order is exactly RANKED_ORDER, from the ranks
    first_matches read. Beyond it, the first RANK_LIMIT matches the database finds (in the table's
    order, without sorting them all) and every exact name match are ranked and come first, then the
    other matches, oldest first. Scoring every one of tens of thousands of matches of a common word
    would cost time in proportion to the directory's size, to order results nobody reads that far."""
    first = first_matches(matches, text) if first is None else first
    if len(first.found) <= RANK_LIMIT:
        return _best_first(first.found)[start:stop]
    candidates = dict(first.found[:RANK_LIMIT])
    candidates.update(first.exact_names)
    ids = _best_first(candidates.items())[start:stop]
    if len(ids) < stop - start:
        rest = matches.filter(~Q(_OneOfIds(candidates))).order_by("pk").values_list("pk", flat=True)
        ids += list(rest[max(0, start - len(candidates)) : stop - len(candidates)])
    return ids
