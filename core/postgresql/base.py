"""Django's PostgreSQL backend whose connection health check, made before the first query of every
request (CONN_HEALTH_CHECKS), asks the server only when there is reason to.

Django's check sends `SELECT 1` and waits for the answer: a round trip per request, as long as some
of the pages' own queries. An idle connection in autocommit receives nothing from PostgreSQL unless the
server is ending it (a terminated backend says so, then closes the socket; a server gone away closes
it): so the connection is looked at first, without waiting, and only when psycopg2 knows it closed or
something has arrived is the server asked, as Django always does.
"""

import select

from django.db.backends.postgresql import base
from psycopg2.extensions import TRANSACTION_STATUS_IDLE


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        if self.connection is None or self.connection.closed:
            return False
        if self.connection.info.transaction_status == TRANSACTION_STATUS_IDLE and not _has_data(self.connection.fileno()):
            return True
        return super().is_usable()


def _has_data(fileno: int) -> bool:
    """Whether the socket has something to read (or has been closed) right now, without waiting."""
    poll = select.poll()
    poll.register(fileno, select.POLLIN)
    return bool(poll.poll(0))
