"""The search rows of directory migration 0010, checked against the services they copy (PostgreSQL)."""

from django.db import connection

# Services whose search row (migration 0010) is missing, left over or unlike the service's own columns.
SEARCH_ROWS_APART = """
    SELECT coalesce(service.id, copy.id) FROM directory_service AS service
    FULL JOIN directory_service_search AS copy ON copy.id = service.id
    WHERE (service.name, service.search_vector, service.facets) IS DISTINCT FROM (copy.name, copy.search_vector, copy.facets)
"""


def search_rows_apart() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(SEARCH_ROWS_APART)
        return [row[0] for row in cursor.fetchall()]
