"""A service's filter facets, as PostgreSQL keeps them (migration 0007): an integer array holding the
ids of the service's terms and the negative codes below, in one GIN index with the search words.
Filters become "the array contains these codes", which that index answers together with the words,
so searching for a common word with filters reads only the services that pass every filter.

Terms in the array: functions, needs, segments, communities and languages, and as wards both the
wards a service lists and the wards of its places (a ward filter matches either). The codes must stay
as the migration writes them; tests check both agree. SQLite has no such column: `available()` says
whether it can be used.
"""

from contextlib import contextmanager

from django.db import connection
from django.db.models import BooleanField
from django.db.models.expressions import Expression

# A harvested service hidden by an admin or withdrawn by its source has neither of the first two
# (migration 0005 of the directory).
PROVIDER_OPEN = -1  # the service's organisation is active
LISTED = -2  # the public directory shows it: provider open and the service not closed
FREE = -3
OWN = -4  # the portal's own service, not harvested from another directory
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # Schedule.Weekday, in the migration's order


def serves_stage(stage: int) -> int:
    return -10 - stage


def open_on(day: str) -> int:
    return -21 - DAY_CODES.index(day)


def available() -> bool:
    return connection.vendor == "postgresql"


class ServiceColumnExpression(Expression):
    """An expression over a column of directory_service that Django's model does not know (kept by
    the database: `facets` here, `search_vector` in directory.search). It follows the table's alias
    when the query becomes a subquery."""

    alias = "directory_service"

    def relabeled_clone(self, change_map):
        clone = self.copy()
        clone.alias = change_map.get(self.alias, self.alias)
        return clone

    def column(self, compiler, name: str) -> str:
        return f'{compiler.quote_name_unless_alias(self.alias)}."{name}"'


class _FacetCondition(ServiceColumnExpression):
    """`facets <operator> ARRAY[codes]`, usable in filter()."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, operator: str, codes):
        super().__init__()
        self.operator = operator
        self.codes = sorted({int(code) for code in codes})

    def as_sql(self, compiler, connection):
        return f"{self.column(compiler, 'facets')} {self.operator} %s::integer[]", [self.codes]


def has_all(codes) -> _FacetCondition:
    return _FacetCondition("@>", codes)


def has_any(codes) -> _FacetCondition:
    return _FacetCondition("&&", codes)


# A bulk write (directory.harvest) defers the refresh the statement triggers make after each write to a
# service's terms, times and places (migration 0007): it refreshes its services once, set-wise, at the end.
DEFERRED_SETTING = "directory.facets_deferred"


@contextmanager
def deferred():
    """Inside the caller's transaction: the facet triggers leave services alone until `refresh`."""
    if not available():
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'on', true)", [DEFERRED_SETTING])
        try:
            yield
        finally:
            cursor.execute("SELECT set_config(%s, 'off', true)", [DEFERRED_SETTING])


def refresh(service_ids) -> None:
    """Work out these services' facets again in one statement (migration 0007's function)."""
    if available() and service_ids:
        with connection.cursor() as cursor:
            cursor.execute("SELECT directory_service_refresh_facets_of(%s::bigint[])", [list(service_ids)])
