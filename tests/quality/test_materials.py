"""The support materials library: uploads checked by content, versions, search, private serving and
download counts."""

import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from quality import selectors, services
from quality.models import Material, MaterialDownloadDay, MaterialVersion
from tests.factories import make_material, pdf_upload, term


def png_upload(name="poster.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "navy").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_uploads_are_checked_by_content_and_size(people, settings):
    data = {"title": "Budget template", "summary": "A budget.", "kind": "qa_template"}
    disguised = SimpleUploadedFile("budget.pdf", b"#!/bin/sh\nrm -rf /\n", content_type="application/pdf")
    with pytest.raises(ValidationError) as refusal:
        services.create_material(data=data, upload=disguised, organisation=people.provider, by=people.officer)
    assert "not a type we accept" in refusal.value.message_dict["file"][0]
    settings.QUALITY_UPLOAD_MAX_BYTES = 100
    with pytest.raises(ValidationError) as refusal:
        services.create_material(data=data, upload=pdf_upload(text="x" * 200), organisation=people.provider, by=people.officer)
    assert "too big" in refusal.value.message_dict["file"][0]
    assert not Material.objects.exists() and not MaterialVersion.objects.exists()


def test_a_file_or_a_link_but_not_neither_or_both(people):
    base = {"title": "Regional funding guide", "summary": "London-wide.", "kind": "link"}
    with pytest.raises(ValidationError, match="web address"):
        services.create_material(data=base, upload=None, organisation=None, by=people.admin)
    with pytest.raises(ValidationError, match="link-only entry has no file"):
        services.create_material(data={**base, "external_url": "https://example.org/guide"}, upload=pdf_upload(), organisation=None, by=people.admin)
    with pytest.raises(ValidationError, match="Choose the file"):
        services.create_material(data={**base, "kind": "fact_sheet"}, upload=None, organisation=None, by=people.admin)
    link = services.create_material(
        data={**base, "external_url": "https://example.org/guide", "geographic_level": "regional"}, upload=None, organisation=None, by=people.admin
    )
    assert link.is_link and not link.versions.exists()


def test_new_upload_is_a_new_version_and_old_versions_are_kept(people):
    material = make_material(organisation=people.provider, by=people.officer)
    second = services.add_material_version(material=material, upload=png_upload(), note="Now a poster", by=people.officer)
    assert second.number == 2 and second.file_type == "png"
    assert list(material.versions.values_list("number", flat=True)) == [2, 1]
    assert selectors.latest_version(material) == second
    with pytest.raises(ValidationError):
        services.add_material_version(material=material, upload=SimpleUploadedFile("x.docx", b"PK\x03\x04junk"), note="", by=people.officer)
    assert material.versions.count() == 2


def test_search_by_words_kind_need_function_and_stage(people):
    finance = term("needs", "community-accountancy-and-finance")
    governance = term("needs", "governance-and-trustees")
    training = term("functions", "training")
    reserves = make_material(title="Reserves policy template", kind="policy", needs=[finance], functions=[training], for_stage_1=False)
    trustees = make_material(title="Trustee induction tool kit", kind="tool_kit", needs=[governance])
    hidden = make_material(title="Reserves for members", needs=[finance], is_public=False)

    def titles(user=None, **filters):
        from django.contrib.auth.models import AnonymousUser

        return [m.title for m in selectors.search_materials(user=user or AnonymousUser(), **filters)]

    assert titles(q="reserves") == ["Reserves policy template"]  # members-only hidden from visitors
    assert titles(user=people.editor, q="reserves") == ["Reserves for members", "Reserves policy template"]
    assert titles(q="trustees") == ["Trustee induction tool kit"]  # a need's name matches too
    assert titles(kind="tool_kit") == ["Trustee induction tool kit"]
    assert titles(need=finance) == ["Reserves policy template"]
    assert titles(function=training) == ["Reserves policy template"]
    assert titles(stage=1) == ["Trustee induction tool kit"]
    assert reserves and trustees and hidden


def test_library_pages_search_and_private_serving(people, client, client_as, settings):
    material = make_material(title="Safeguarding policy", kind="policy", organisation=people.provider, by=people.officer)
    members_only = make_material(title="Members' pay scales", is_public=False)
    page = client.get("/materials/?q=safeguarding")
    assert page.status_code == 200 and "Safeguarding policy" in page.content.decode()
    assert "No materials match" in client.get("/materials/?q=zebra").content.decode()
    assert client.get("/materials/?stage=9").status_code == 200  # a bad filter is ignored, not a 500

    download = client.get(f"/materials/{material.slug}/download/")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    material.refresh_from_db()
    assert material.download_count == 1
    assert MaterialDownloadDay.objects.get(material=material, day=timezone.localdate()).count == 1
    client.get(f"/materials/{material.slug}/versions/1/download/")
    material.refresh_from_db()
    assert material.download_count == 2 and material.versions.get().download_count == 2

    # Members-only material: not for visitors, and never at a public media address.
    assert client.get(f"/materials/{members_only.slug}/").status_code == 404
    assert client.get(f"/materials/{members_only.slug}/download/").status_code == 404
    version = members_only.versions.get()
    assert not str(version.file.path).startswith(str(settings.MEDIA_ROOT))
    with pytest.raises(ValueError):
        version.file.url
    assert client_as(people.editor).get(f"/materials/{members_only.slug}/download/").status_code == 200


def test_link_only_entries_redirect_and_count(people, client):
    link = make_material(title="NCVO Knowhow", external_url="https://knowhow.example.org/", kind="link", geographic_level="national")
    response = client.get(f"/materials/{link.slug}/download/")
    assert response.status_code == 302 and response.url == "https://knowhow.example.org/"
    link.refresh_from_db()
    assert link.download_count == 1


def test_sharing_a_material_through_the_page(people, client_as):
    client = client_as(people.officer)
    assert client.get("/materials/new/").status_code == 200
    form = {
        "title": "Volunteer agreement", "summary": "A template.", "kind": "qa_template", "geographic_level": "local",
        "for_stage_1": "on", "needs": [term("needs", "volunteers-and-volunteering").pk], "organisation": people.provider.pk,
        "is_public": "on",
    }
    refused = client.post("/materials/new/", {**form, "file": SimpleUploadedFile("agreement.pdf", b"GIF89a not really")})
    assert refused.status_code == 200 and "not a type we accept" in refused.content.decode()
    assert not Material.objects.exists()
    response = client.post("/materials/new/", {**form, "file": pdf_upload("agreement.pdf")})
    material = Material.objects.get()
    assert response.url == material.get_absolute_url()
    assert material.organisation == people.provider and material.needs.count() == 1
    upload = client.post(f"/materials/{material.slug}/upload/", {"file": png_upload(), "note": "Poster version"})
    assert upload.status_code == 302 and material.versions.count() == 2
    # Someone from another provider cannot change it; a VCO editor cannot share at all.
    assert client_as(people.reviewer).get(f"/materials/{material.slug}/upload/").status_code == 403
    assert client_as(people.editor).get("/materials/new/").status_code == 403
    # Nobody shares in another provider's name.
    response = client_as(people.reviewer).post("/materials/new/", {**form, "file": pdf_upload()})
    assert response.status_code == 200 and Material.objects.count() == 1


def test_material_list_query_count_does_not_grow(people, client, django_assert_max_num_queries):
    for _ in range(3):
        make_material(needs=[term("needs", "payroll")])
    with django_assert_max_num_queries(10):
        client.get("/materials/")
    for _ in range(10):
        make_material(needs=[term("needs", "payroll")])
    with django_assert_max_num_queries(10):
        client.get("/materials/")


def test_download_counts_by_period_for_evidence(people):
    from datetime import timedelta

    material = make_material(title="Popular guide")
    other = make_material(title="Quiet guide")
    today = timezone.localdate()
    for _ in range(3):
        services.record_download(material=material, today=today)
    services.record_download(material=other, today=today - timedelta(days=40))
    assert selectors.material_download_counts(start=today - timedelta(days=7), end=today) == [("Popular guide", 3)]
    assert selectors.material_download_counts(start=today - timedelta(days=60), end=today) == [("Popular guide", 3), ("Quiet guide", 1)]


def test_the_migration_moves_files_from_the_old_quality_folder(people, settings, tmp_path, monkeypatch):
    """Before every app shared PRIVATE_FILES_ROOT, quality kept its files in var/quality-files."""
    import importlib

    from django.apps import apps

    material = make_material(title="Old policy")
    version = material.versions.get()
    content = version.file.read()
    version.file.close()
    old_root = tmp_path / "var" / "quality-files"
    (old_root / version.file.name).parent.mkdir(parents=True)
    Path(version.file.path).rename(old_root / version.file.name)
    monkeypatch.delenv("PORTAL_QUALITY_FILES_ROOT", raising=False)
    settings.VAR_DIR = tmp_path / "var"
    migration = importlib.import_module("quality.migrations.0003_move_files_to_private_root")
    for _ in range(2):  # running it again changes nothing
        migration.move(apps, None)
        version.refresh_from_db()
        assert version.file.read() == content and not (old_root / version.file.name).exists()
        version.file.close()


def test_a_zip_bomb_shared_through_the_page_is_refused_and_nothing_kept(people, client_as, settings, tmp_path):
    from tests.core import hostile_files

    settings.MEDIA_ROOT = tmp_path
    form = {
        "title": "Volunteer agreement", "summary": "A template.", "kind": "qa_template", "geographic_level": "local",
        "for_stage_1": "on", "needs": [term("needs", "volunteers-and-volunteering").pk], "organisation": people.provider.pk,
        "is_public": "on",
    }
    bomb = SimpleUploadedFile("agreement.odt", hostile_files.mimetype_bomb())  # 1 MB, a 1 GiB part inside
    response = client_as(people.officer).post("/materials/new/", {**form, "file": bomb})
    assert response.status_code == 200 and "zip bomb" in response.content.decode()
    assert not Material.objects.exists() and not MaterialVersion.objects.exists()
    assert not any(path.is_file() for path in Path(tmp_path).rglob("*"))
