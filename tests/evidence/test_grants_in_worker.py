"""360Giving grants in, end to end: a network admin uploads a funder's spreadsheet in the admin, a REAL
Celery worker process on Redis runs the import from the long queue while the progress page refreshes,
and the grants are on the recipient's page."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evidence.models import Grant, GrantImport
from tests.celery_worker import start_worker
from tests.evidence.test_grants_in import row, write_csv
from tests.factories import make_network_admin, make_organisation

WORKER_WAIT = 90


@pytest.mark.redis
@pytest.mark.postgres  # the worker must share the test database: SQLite's is in memory
@pytest.mark.django_db(transaction=True)
def test_an_uploaded_spreadsheet_is_imported_by_a_real_worker(request, client, settings, tmp_path):
    worker = start_worker(
        request,
        log_dir=tmp_path,
        prefix="test-grants",
        env={"PORTAL_PRIVATE_FILES_ROOT": str(settings.PRIVATE_FILES_ROOT)},  # where the uploads are kept
    )
    settings.PORTAL_LONG_TASK_QUEUE = worker.queue
    charity = make_organisation(name="Bow Lunch Club", slug="bow-lunch-club", charity_number="1098765")
    path = write_csv(
        tmp_path,
        [row(1, **{"Recipient Org:Identifier": "GB-CHC-1098765", "Title": "Lunches for older people"}), row(2)],
    )
    client.force_login(make_network_admin())

    response = client.post(
        "/admin/evidence/grantimport/upload/", {"files": [SimpleUploadedFile(path.name, path.read_bytes())]}
    )
    assert response.status_code == 302
    grant_import = GrantImport.objects.get()

    deadline = time.monotonic() + WORKER_WAIT
    while True:
        grant_import.refresh_from_db()
        if not grant_import.running:
            break
        if worker.process.poll() is not None:
            pytest.fail(f"the worker exited:\n{worker.log_path.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no import within {WORKER_WAIT} s:\n{worker.log_path.read_text()}")
        time.sleep(0.2)

    assert grant_import.status == GrantImport.Status.READY, grant_import.error + worker.log_path.read_text()
    page = client.get(response.url).content.decode()
    assert "Imported 2 grants: 2 new, 0 updated." in page and 'http-equiv="refresh"' not in page
    assert Grant.objects.get(identifier="360G-cbt-1").recipient == charity
    assert "Lunches for older people" in client.get(charity.get_absolute_url()).content.decode()
    assert "import_grants" in worker.log_path.read_text()
