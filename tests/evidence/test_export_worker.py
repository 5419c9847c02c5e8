"""The evidence pack end to end: a funder asks for it on the page, a REAL Celery worker process on
Redis builds it while the page polls its progress, and the funder downloads the file."""

import io
import time
from pathlib import Path

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import User
from evidence.models import EvidenceExport
from tests.celery_worker import start_worker
from tests.factories import make_organisation, make_user, term

WORKER_WAIT = 90


@pytest.fixture
def pack_worker(request, transactional_db, tmp_path, settings):
    """A `celery worker` process on a queue of its own, storing packs with the private files of this
    test, where the web side reads them."""
    started = start_worker(
        request,
        log_dir=tmp_path,
        prefix="test-evidence",
        env={
            "PORTAL_EVIDENCE_EXPORT_DIR": str(tmp_path / "building"),
            "PORTAL_PRIVATE_FILES_ROOT": str(settings.PRIVATE_FILES_ROOT),
        },
    )
    started.packs = Path(settings.PRIVATE_FILES_ROOT) / "evidence-packs"
    return started


@pytest.mark.redis
@pytest.mark.postgres  # the worker must share the test database: SQLite's is in memory
@pytest.mark.django_db(transaction=True)
def test_a_funder_asks_for_a_pack_a_real_worker_builds_it_and_it_downloads(pack_worker, client, settings):
    # Packs go to this test's own worker, as a deployment sends them to workers of their own.
    settings.PORTAL_LONG_TASK_QUEUE = pack_worker.queue
    for n in range(15):
        make_organisation(name=f"Group {n}", development_stage=1 + n % 3, ward=term("wards", "bow-east"), volunteers=n)
    funder = make_user(User.Role.FUNDER, username="worker_funder", email="worker-funder@example.org")
    client.force_login(funder)

    response = client.post(reverse("evidence:export_list"), {"start": "2026-01-01", "end": "2026-12-31", "area": ""})
    export = EvidenceExport.objects.get()
    assert response.status_code == 302 and response["Location"] == export.get_absolute_url()

    status_url = reverse("evidence:export_status", args=[export.uuid])
    seen = []
    deadline = time.monotonic() + WORKER_WAIT
    while True:
        status = client.get(status_url).json()
        seen.append(status["progress"])
        if status["finished"]:
            break
        if pack_worker.process.poll() is not None:
            pytest.fail(f"the worker exited:\n{pack_worker.log_path.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no pack within {WORKER_WAIT} s:\n{pack_worker.log_path.read_text()}")
        time.sleep(0.1)

    assert status["status"] == "ready", pack_worker.log_path.read_text()
    assert status["progress"] == 100 and seen == sorted(seen)
    export.refresh_from_db()
    assert export.started_at and export.finished_at and export.expires_at and export.size_bytes > 0
    assert export.file.path.startswith(str(pack_worker.packs))
    response = client.get(status["download_url"])
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    assert workbook.sheetnames[0] == "About this pack" and workbook.sheetnames[-1] == "Definitions"
    rows = {row[1]: row[3] for row in workbook["Organisations"].iter_rows(values_only=True) if row[0] == "VCOs by development stage"}
    assert rows["Stage 1: emerging"] == 5 and rows["Stage 2: improving"] == 5 and rows["Stage 3: established"] == 5
    assert "build_evidence_pack" in pack_worker.log_path.read_text()
