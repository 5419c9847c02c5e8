"""Evidence packs: the XLSX built by the task, its progress, downloads, expiry and the pages."""

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import User
from evidence import services, tasks
from evidence.models import EvidenceExport
from tests.factories import make_organisation, make_user, term

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.EVIDENCE_EXPORT_DIR = tmp_path / "packs"
    return settings.EVIDENCE_EXPORT_DIR


@pytest.fixture
def funder(db):
    return make_user(User.Role.FUNDER, username="pack_funder", email="pack-funder@example.org")


def _export(funder, **overrides):
    fields = {"user": funder, "start": date(2026, 1, 1), "end": date(2026, 12, 31), "area": None, **overrides}
    return services.request_export(**fields)


def test_the_pack_has_a_sheet_per_topic_and_defines_every_figure(team, indicators, funder):
    for n in range(3):
        make_organisation(name=f"Small {n}", development_stage=2, ward=term("wards", "bow-east"))
    monitoring_return = services.return_for(project=team.project, period=team.project.periods.first(), partner=team.partner)
    services.save_return(
        monitoring_return=monitoring_return,
        figures={indicators.groups.pk: "9", indicators.funding.pk: "3", indicators.confidence.pk: "70"},
        narrative="Private narrative",
        submit=True,
        by=team.partner_editor,
    )
    export = _export(funder)
    built = services.build_evidence_pack(export_id=export.pk)
    assert built.status == EvidenceExport.Status.READY and built.progress == 100
    assert built.expires_at > timezone.now() + timedelta(hours=71)
    workbook = load_workbook(built.file.path, read_only=True)
    names = workbook.sheetnames
    assert names[0] == "About this pack" and names[-1] == "Definitions"
    assert names[1:-1] == [
        "Organisations", "Volunteers and staff", "Provider coverage", "Referrals", "Events and training",
        "Health checks", "Quality standards", "Joint projects", "Funding into the sector", "Delivery by area",
        "Project outputs", "Project outcomes", "Baseline coverage",
    ]
    rows = list(workbook["Organisations"].iter_rows(values_only=True))
    stage_rows = {row[1]: (row[3], row[4]) for row in rows if row[0] == "VCOs by development stage"}
    assert stage_rows["Stage 2: improving"] == (None, "fewer than 5")  # the number itself is not in the file
    figures = {row[1] for row in workbook["Definitions"].iter_rows(values_only=True)}
    for sheet in names[1:-1]:
        for row in list(workbook[sheet].iter_rows(values_only=True))[1:]:
            if sheet in ("Project outputs", "Project outcomes", "Baseline coverage"):
                assert sheet in figures
            elif len(row) >= 5 and row[4] is not None:  # a figure
                assert row[0] in figures, (sheet, row[0])
    outputs = list(workbook["Project outputs"].iter_rows(values_only=True))
    assert outputs[1][:2] == ("Stronger Groups", "Groups given one-to-one support") and outputs[1][6:] == (10, 9, "9")
    outcomes_rows = list(workbook["Project outcomes"].iter_rows(values_only=True))
    funding = next(row for row in outcomes_rows if row[1] == "Groups that won new funding" and row[3] == 1)
    assert funding[7:] == (None, "fewer than 5")  # 3 groups: a small count, suppressed like any other
    outcomes = [row[1] for row in workbook["Project outcomes"].iter_rows(values_only=True)][1:]
    assert "Groups given one-to-one support" not in outcomes and "Groups that won new funding" in outcomes
    text = " ".join(str(cell) for sheet in names for row in workbook[sheet].iter_rows(values_only=True) for cell in row if cell)
    assert "Private narrative" not in text and "partner@example.org" not in text


def test_a_pack_is_built_once(funder):
    export = _export(funder)
    assert services.build_evidence_pack(export_id=export.pk) is not None
    assert services.build_evidence_pack(export_id=export.pk) is None  # a second message changes nothing
    assert tasks.build_evidence_pack(export.pk) == {"export": export.pk, "built": False}


def test_progress_is_recorded_step_by_step(funder, monkeypatch):
    seen = []
    original = services.set_export_progress

    def spy(*, export, progress, step):
        original(export=export, progress=progress, step=step)
        seen.append(EvidenceExport.objects.values_list("progress", flat=True).get(pk=export.pk))

    monkeypatch.setattr(services, "set_export_progress", spy)
    export = _export(funder)
    services.build_evidence_pack(export_id=export.pk)
    assert seen == sorted(seen) and len(set(seen)) >= 5 and seen[0] < 20 and seen[-1] >= 90


def test_a_failed_build_says_so_and_leaves_no_file(funder, monkeypatch, export_dir):
    from evidence import selectors

    def broken(scope):
        raise RuntimeError("database went away")

    monkeypatch.setattr(selectors, "SECTIONS", (broken,))
    export = _export(funder)
    with pytest.raises(RuntimeError):
        services.build_evidence_pack(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == EvidenceExport.Status.FAILED and "database went away" in export.error
    assert not list(Path(export_dir).glob("*.xlsx"))
    assert not export.file


def test_expired_packs_are_deleted_by_the_sweep(funder):
    export = services.build_evidence_pack(export_id=_export(funder).pk)
    path = Path(export.file.path)
    assert path.exists()
    assert services.expire_exports(now=timezone.now()) == 0
    assert tasks.sweep_evidence()["expired_packs"] == 0
    EvidenceExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert tasks.sweep_evidence()["expired_packs"] == 1
    export.refresh_from_db()
    assert export.status == EvidenceExport.Status.EXPIRED and not export.file and not path.exists()


def test_lost_and_abandoned_packs_are_dealt_with_by_the_sweep(funder, monkeypatch):
    queued = _export(funder)
    EvidenceExport.objects.filter(pk=queued.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    running = _export(funder)
    EvidenceExport.objects.filter(pk=running.pk).update(status="running", started_at=timezone.now() - timedelta(hours=2))
    published = []
    monkeypatch.setattr(tasks, "_publish", lambda export_id: published.append(export_id) or True)
    counts = tasks.sweep_evidence()
    assert counts["requeued_packs"] == 1 and published == [queued.pk]
    assert counts["abandoned_packs"] == 1
    running.refresh_from_db()
    assert running.status == EvidenceExport.Status.FAILED


def test_requesting_a_pack_queues_it_after_commit_and_shows_progress(funder, client, monkeypatch, django_capture_on_commit_callbacks):
    published = []
    monkeypatch.setattr(tasks, "_publish", lambda export_id: published.append(export_id) or True)
    client.force_login(funder)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("evidence:export_list"), {"start": "2026-01-01", "end": "2026-12-31", "area": "bow-east"})
    export = EvidenceExport.objects.get()
    assert response.status_code == 302 and response["Location"] == export.get_absolute_url()
    assert published == [export.pk] and export.area == term("wards", "bow-east")
    page = client.get(export.get_absolute_url()).content.decode()
    assert '<progress id="export-progress-bar" max="100" value="0"' in page
    assert '<meta http-equiv="refresh" content="3">' in page  # inside <noscript>: works without JavaScript
    assert "evidence/export-progress.js" in page
    status = client.get(reverse("evidence:export_status", args=[export.uuid])).json()
    assert status == {**status, "status": "queued", "progress": 0, "finished": False, "download_url": ""}

    services.build_evidence_pack(export_id=export.pk)
    status = client.get(reverse("evidence:export_status", args=[export.uuid])).json()
    assert status["status"] == "ready" and status["progress"] == 100 and status["download_url"]
    response = client.get(status["download_url"])
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="evidence-pack-bow-east-2026-01-01-to-2026-12-31.xlsx"')
    load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)


def test_bad_requests_are_refused_clearly(funder, client):
    client.force_login(funder)
    response = client.post(reverse("evidence:export_list"), {"start": "2026-12-01", "end": "2026-01-01", "area": ""})
    assert response.status_code == 400 and "is before its start" in response.content.decode()
    response = client.post(reverse("evidence:export_list"), {"start": "2026-01-01", "end": "2026-12-01", "area": "narnia"})
    assert response.status_code == 400 and "There is no ward" in response.content.decode()
    response = client.post(reverse("evidence:export_list"), {"start": "", "end": "", "area": ""})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    assert not EvidenceExport.objects.exists()


def test_only_the_requester_may_see_or_download_a_pack(funder, client):
    export = services.build_evidence_pack(export_id=_export(funder).pk)
    client.force_login(make_user(User.Role.FUNDER, username="another_funder"))
    for name in ("export_detail", "export_status", "export_download"):
        assert client.get(reverse(f"evidence:{name}", args=[export.uuid])).status_code == 403
    client.force_login(make_user(username="vco_person"))
    assert client.get(reverse("evidence:export_list")).status_code == 403


def test_an_expired_pack_cannot_be_downloaded(funder, client):
    export = services.build_evidence_pack(export_id=_export(funder).pk)
    EvidenceExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    client.force_login(funder)
    response = client.get(reverse("evidence:export_download", args=[export.uuid]))
    assert response.status_code == 302 and response["Location"] == reverse("evidence:export_list")


def test_the_admin_shows_a_built_pack_by_its_stored_name(funder, client):
    from tests.factories import make_network_admin

    export = services.build_evidence_pack(export_id=_export(funder).pk)
    client.force_login(make_network_admin())
    response = client.get(reverse("admin:evidence_evidenceexport_change", args=[export.pk]))
    assert response.status_code == 200
    assert f"evidence-packs/{export.uuid}.xlsx" in response.content.decode()
