"""The register import end to end: a network admin uploads the Charity Commission extract in the admin,
a REAL Celery worker process on Redis runs the import from the long queue while the progress page
refreshes, and the findings are there to act on."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from organisations.models import CharityRegisterImport, RegisterFinding
from tests.celery_worker import start_worker
from tests.factories import make_organisation, make_superuser
from tests.organisations.test_charity_register import charity, write_extract

WORKER_WAIT = 90


@pytest.mark.redis
@pytest.mark.postgres  # the worker must share the test database: SQLite's is in memory
@pytest.mark.django_db(transaction=True)
def test_an_uploaded_extract_is_imported_by_a_real_worker(request, client, settings, tmp_path):
    worker = start_worker(
        request,
        log_dir=tmp_path,
        prefix="test-register",
        env={"PORTAL_PRIVATE_FILES_ROOT": str(settings.PRIVATE_FILES_ROOT)},  # where the uploads are kept
    )
    settings.PORTAL_LONG_TASK_QUEUE = worker.queue
    member = make_organisation(name="Poplar Youth Club", charity_number="1100002")
    folder = tmp_path / "extract"
    folder.mkdir()
    write_extract(
        folder,
        [
            charity(1100001, "BOW BELLS CLUB", charity_contact_postcode="E3 1AA"),
            charity(1100002, "POPLAR YOUTH CLUB", charity_contact_postcode="E14 0AA", latest_income="23000"),
        ],
    )
    client.force_login(make_superuser())

    uploads = [SimpleUploadedFile(path.name, path.read_bytes()) for path in sorted(folder.glob("*.zip"))]
    response = client.post(reverse("admin:organisations_charityregisterimport_upload"), {"files": uploads})
    register_import = CharityRegisterImport.objects.get()
    assert response.status_code == 302

    deadline = time.monotonic() + WORKER_WAIT
    while True:
        register_import.refresh_from_db()
        if register_import.status in (CharityRegisterImport.Status.READY, CharityRegisterImport.Status.FAILED):
            break
        if worker.process.poll() is not None:
            pytest.fail(f"the worker exited:\n{worker.log_path.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no import within {WORKER_WAIT} s:\n{worker.log_path.read_text()}")
        time.sleep(0.2)

    assert register_import.status == CharityRegisterImport.Status.READY, worker.log_path.read_text()
    page = client.get(response.url).content.decode()
    assert "Read 2 charities" in page and 'http-equiv="refresh"' not in page
    proposal = RegisterFinding.objects.get(kind=RegisterFinding.Kind.PROPOSAL)
    assert proposal.charity_number == "1100001"
    member.refresh_from_db()
    assert member.latest_income == 23000  # refreshed from the register by the worker
    assert "import_charity_register" in worker.log_path.read_text()
