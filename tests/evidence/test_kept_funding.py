"""The funding figures kept under the data version of what they count (issue 15, migration 0009): read
again until a committed write to the grants, the organisations' segments or the services and their needs
moves the version on; never kept from a transaction's own uncommitted writes; the pruning of the
version's rows leaves it as it was. Committed data on PostgreSQL, as production has it."""

import re
from datetime import date

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from directory.models import Service
from evidence import selectors, services, tasks
from evidence.selectors import Scope
from tests.factories import make_grant, make_organisation, make_service, make_user, term

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _year() -> Scope:
    """A new scope each time: the version is read once per page (the scope's memo)."""
    return Scope(start=date(2026, 1, 1), end=date(2026, 12, 31))


def _version() -> tuple[int, int] | None:
    return selectors._funding_version(_year())


def _figures() -> tuple[dict, dict, tuple]:
    year = _year()
    return selectors._funding_figures(year, "quarter", selectors.previous_period(year)[0])


def _grants_read(captured) -> list[str]:
    return [query["sql"] for query in captured.captured_queries if "evidence_grant" in query["sql"]]


def _change_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {selectors.FUNDING_CHANGES}")
        return cursor.fetchone()[0]


@pytest.fixture
def recipients():
    """Two VCOs in Bow East, the first with a grant in 2026; a provider's listed service meeting a need."""
    first = make_organisation(name="Bow Food Bank", ward=term("wards", "bow-east"), development_stage=1)
    second = make_organisation(name="Bow Women's Group", ward=term("wards", "bow-east"), development_stage=2)
    make_grant(recipient=first, amount=1000, award_date=date(2026, 3, 1))
    service = make_service(name="Trustee training", needs=[term("needs", "governance-and-trustees")])
    return first, second, service


def test_the_version_moves_on_with_each_committed_write_to_what_the_figures_count(recipients):
    first, second, service = recipients
    seen = [_version()]
    assert isinstance(seen[0][1], int)

    def moved() -> bool:
        seen.append(_version())
        return seen[-1][0] == seen[-2][0] and seen[-1][1] > seen[-2][1]

    make_grant(recipient=second, amount=500, award_date=date(2026, 4, 1))
    assert moved()
    with connection.cursor() as cursor:  # raw SQL, as an import or a fix by hand would write
        cursor.execute("UPDATE evidence_grant SET amount_awarded = amount_awarded + 1 WHERE recipient_id = %s", [first.pk])
    assert moved()
    first.segments.add(term("segments", "bme-vcos"))
    assert moved()
    service.needs.add(term("needs", "funding-and-fundraising"))
    assert moved()
    Service.objects.filter(pk=service.pk).update(status=Service.Status.CLOSED)
    assert moved()
    first.ward = term("wards", "mile-end")  # its grants keep their recipient's ward (migration 0008)
    first.save(update_fields=["ward"])
    assert moved()
    # Writes to anything else leave it as it was.
    make_user(username="someone-else")
    first.name = "Bow Food Bank CIO"
    first.save(update_fields=["name"])
    assert _version() == seen[-1]


def test_a_transaction_that_wrote_there_itself_counts_afresh_and_a_rollback_leaves_no_trace(recipients):
    first, _second, _service = recipients
    before = _version()

    class RolledBack(Exception):
        pass

    with pytest.raises(RolledBack), transaction.atomic():
        assert _version() == before  # nothing written yet in this transaction
        make_grant(recipient=first, amount=250, award_date=date(2026, 6, 1))
        assert _version() is None  # its own grant is not yet anyone else's: not kept, not read from the cache
        n, _recipients, _amount = _figures()[0]["total"][None]
        assert n == 2
        raise RolledBack
    assert _version() == before
    assert _figures()[0]["total"][None][0] == 1


def test_kept_figures_are_read_until_what_they_count_changes(recipients):
    first, second, service = recipients
    figures = _figures()
    assert figures[0]["total"][None][:2] == (1, 1)
    with CaptureQueriesContext(connection) as captured:
        assert _figures() == figures
    assert _grants_read(captured) == []  # the version's one statement, and the grants not read again

    make_grant(recipient=second, amount=500, award_date=date(2026, 4, 1))
    make_grant(recipient=second, amount=300, award_date=date(2025, 4, 1))  # the year before: the trend's totals
    breakdowns, by_recipient, before = _figures()
    assert before[:2] == (1, 1)
    assert breakdowns["total"][None][:2] == (2, 2)
    assert by_recipient["segment"] == {None: (2, 2, by_recipient["segment"][None][2])}

    first.segments.add(term("segments", "bme-vcos"))
    segments = _figures()[1]["segment"]
    assert segments[term("segments", "bme-vcos").pk][:2] == (1, 1)

    # The need chart counts grants to organisations with a listed service meeting the need.
    assert _figures()[1]["need"] == {}
    make_grant(recipient=service.organisation, amount=700, award_date=date(2026, 5, 1))
    governance = term("needs", "governance-and-trustees").pk
    assert _figures()[1]["need"][governance][:2] == (1, 1)
    Service.objects.filter(pk=service.pk).update(status=Service.Status.CLOSED)  # no longer listed (its facets' trigger)
    assert _figures()[1]["need"] == {}


def _csv(response) -> str:
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def test_the_dashboard_from_kept_figures_is_the_dashboard_counted_afresh(recipients, client, monkeypatch):
    from accounts.models import User

    for n in range(6):
        organisation = make_organisation(name=f"Mile End group {n}", ward=term("wards", "mile-end"), development_stage=3)
        make_grant(recipient=organisation, amount=2000, award_date=date(2026, 9, 1), funder=("GB-CHC-1036733", "National Lottery Community Fund"))
    client.force_login(make_user(User.Role.FUNDER, username="funder"))
    url, period = "/evidence/dashboards/", {"start": "2026-01-01", "end": "2026-12-31", "area": ""}
    csv = {**period, "format": "csv"}
    first, first_csv = client.get(url, period), _csv(client.get(url, csv))
    with CaptureQueriesContext(connection) as captured:
        kept = client.get(url, period)
    assert first.status_code == kept.status_code == 200
    assert _grants_read(captured) == []  # the figures and the trend's totals of both periods kept
    kept_csv = _csv(client.get(url, csv))
    monkeypatch.setattr(selectors, "_funding_version", lambda scope: None)
    afresh, afresh_csv = client.get(url, period), _csv(client.get(url, csv))
    assert "Grants by funder,Total,Grants,7,7" in afresh_csv and "Grants by funder,Total,Amount (£),13000.00" in afresh_csv
    assert kept_csv == afresh_csv == first_csv
    # The pages alike but for each one's own form token.
    pages = [re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", page.content) for page in (first, kept, afresh)]
    assert pages[0] == pages[1] == pages[2]


def test_pruning_folds_the_rows_and_keeps_the_version(recipients):
    first, second, _service = recipients
    make_grant(recipient=second, amount=500, award_date=date(2026, 4, 1))
    first.segments.add(term("segments", "bme-vcos"))
    version, rows = _version(), _change_rows()
    assert rows > 1
    assert services.prune_funding_changes() == rows - 1
    assert (_version(), _change_rows()) == (version, 1)
    assert tasks.sweep_evidence()["pruned_funding_changes"] == 0
    make_grant(recipient=first, amount=100, award_date=date(2026, 7, 1))
    assert _version() == (version[0], version[1] + 1)


def test_a_database_restored_from_a_backup_never_reads_figures_kept_before(recipients):
    """pg_restore --clean makes the changes table again, with the rows of the backup: the same sum as
    some earlier moment, but figures kept then are not this database's any more."""
    figures = _figures()
    before = _version()
    changes = selectors.FUNDING_CHANGES
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE backup AS SELECT * FROM {changes}")
        cursor.execute(f"DROP TABLE {changes}")
        cursor.execute(f"CREATE TABLE {changes} (transaction bigint PRIMARY KEY, changes bigint NOT NULL DEFAULT 1)")
        cursor.execute(f"INSERT INTO {changes} SELECT * FROM backup")
    restored = _version()
    assert restored[1] == before[1] and restored != before
    with CaptureQueriesContext(connection) as captured:
        assert _figures() == figures
    assert _grants_read(captured) != []  # counted again, not read from what was kept before
