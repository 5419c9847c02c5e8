"""The PostgreSQL backend's health check (core/postgresql/base.py): an idle, healthy connection passes
without a statement sent; one the server has ended is found out and replaced before the request's
first query."""

import pytest
from django.db import connection, connections
from django.db.backends.postgresql import base as django_backend

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server_asked(monkeypatch):
    """How often Django's own check (SELECT 1) ran."""
    asked = []
    django_is_usable = django_backend.DatabaseWrapper.is_usable

    def is_usable(self):
        asked.append(self.alias)
        return django_is_usable(self)

    monkeypatch.setattr(django_backend.DatabaseWrapper, "is_usable", is_usable)
    return asked


def test_the_engine_is_djangos_with_the_quiet_health_check():
    assert connection.settings_dict["ENGINE"] == "core.postgresql"
    assert connection.vendor == "postgresql" and connection.health_check_enabled


def test_an_idle_healthy_connection_is_usable_without_asking_the_server(server_asked):
    connection.ensure_connection()
    assert connection.is_usable()
    assert server_asked == []


def test_a_connection_the_server_ended_is_unusable_and_replaced(server_asked):
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
            assert cursor.fetchone()[0]
    finally:
        other.close()
    assert not connection.is_usable()
    assert server_asked == ["default"]  # the ended connection had data waiting: the server was asked
    # A request's health check replaces it, and the first query runs on a new session.
    connection.health_check_done = False
    connection.close_if_health_check_failed()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_a_connection_inside_a_transaction_is_checked_by_asking_the_server(server_asked):
    connection.ensure_connection()
    connection.set_autocommit(False)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        assert connection.is_usable()
        assert server_asked == ["default"]
    finally:
        connection.rollback()
        connection.set_autocommit(True)
