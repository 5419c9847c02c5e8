"""Notice attachments are private files: kept outside MEDIA_ROOT under random names and sent only through
the notice's attachment view, which answers like a missing notice to anyone who may not see it yet."""

import importlib
import io
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from calendar_events import services
from calendar_events.models import Notice
from core.files import private_file_storage
from tests.factories import make_affiliation, make_network_admin, make_organisation, make_superuser, make_user
from tests.form_data import date_parts

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
RANDOM_NAME = re.compile(r"^notices/[0-9a-f]{32}\.(pdf|png)$")


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def vco():
    return make_organisation(name="Bow Sewing Circle", slug="bow-sewing-circle")


@pytest.fixture
def author(vco):
    user = make_user(username="author")
    make_affiliation(user=user, organisation=vco)
    return user


def _post_through_the_form(client, organisation, upload) -> Notice:
    url = reverse("calendar_events:notice_create") + f"?organisation={organisation.slug}"
    data = {
        "title": "Sewing machines looking for a new home",
        "text": "Three machines, free to a good home.",
        "category": "other",
        **date_parts("expires_on", timezone.localdate() + timedelta(days=10)),
        "attachment": upload,
    }
    assert client.post(url, data).status_code == 302
    return Notice.objects.get()


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _without_csrf_token(content: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", content)


def test_a_notice_waiting_for_moderation_keeps_its_file_private(client, settings, vco, author):
    client.force_login(author)
    notice = _post_through_the_form(client, vco, SimpleUploadedFile("machines.pdf", PDF, content_type="application/pdf"))
    assert notice.status == Notice.Status.PENDING

    # Stored outside MEDIA_ROOT, under a name that owes nothing to the notice, its title or the upload.
    path = Path(notice.attachment.path)
    assert path.read_bytes() == PDF
    assert Path(settings.PRIVATE_FILES_ROOT).resolve() in path.resolve().parents
    assert Path(settings.MEDIA_ROOT).resolve() not in path.resolve().parents
    name = notice.attachment.name
    assert RANDOM_NAME.match(name), name
    for known in (notice.uuid.hex, str(notice.uuid), "sewing", "machines", "notice."):
        assert known not in name.lower()
    with pytest.raises(ValueError):
        notice.attachment.url

    # Neither the old guessable /media/ address nor the new name under /media/ reaches it.
    client.logout()
    today = timezone.localdate()
    assert client.get(f"/media/notices/{today:%Y}/{today:%m}/notice.pdf").status_code == 404
    assert client.get(f"/media/{name}").status_code == 404

    # The view: a 404, the same as for a notice that does not exist, to anyone who may not see it.
    url = notice.get_attachment_url()
    unknown = reverse("calendar_events:notice_attachment", kwargs={"notice_uuid": uuid.uuid4()})
    outsider = make_user(username="outsider")
    other_editor = make_user(username="other_editor")
    make_affiliation(user=other_editor, organisation=make_organisation())
    for person in (None, outsider, other_editor):
        client.logout()
        if person:
            client.force_login(person)
        response, missing = client.get(url), client.get(unknown)
        assert response.status_code == missing.status_code == 404, person
        # The same page, but for the CSRF token of the logout form, which is masked afresh on every response.
        assert _without_csrf_token(response.content) == _without_csrf_token(missing.content)
        assert PDF not in response.content

    # Its author and a moderator get the file, as a download with the type found in its content.
    for person in (author, make_network_admin()):
        client.force_login(person)
        response = client.get(url)
        assert response.status_code == 200, person
        assert _body(response) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Disposition"].startswith('attachment; filename="sewing-machines-looking-for-a-new-home.pdf"')
        assert "private" in response["Cache-Control"]

    # Once published, anyone may download it; hidden or expired, it is private again.
    services.moderate_notice(notice=notice, publish=True, by=make_network_admin())
    client.logout()
    assert client.get(url).status_code == 200
    assert url in client.get(notice.get_absolute_url()).content.decode()
    services.moderate_notice(notice=notice, publish=False, by=make_network_admin())
    assert client.get(url).status_code == 404
    services.moderate_notice(notice=notice, publish=True, by=make_network_admin())
    Notice.objects.filter(pk=notice.pk).update(expires_on=today - timedelta(days=1))
    assert client.get(url).status_code == 404


def test_an_image_shows_in_the_browser_and_a_notice_without_a_file_has_none(client, vco, author):
    client.force_login(author)
    notice = _post_through_the_form(client, vco, SimpleUploadedFile("flyer.png", _png(), content_type="image/png"))
    assert RANDOM_NAME.match(notice.attachment.name)
    response = client.get(notice.get_attachment_url())
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    html = client.get(notice.get_absolute_url()).content.decode()
    assert notice.get_attachment_url() in html and "/media/" not in html
    Notice.objects.filter(pk=notice.pk).update(attachment="")
    assert client.get(notice.get_attachment_url()).status_code == 404


def test_moderators_open_the_attachment_from_the_admin(client, vco, author):
    notice = services.save_notice(
        notice=Notice(organisation=vco),
        data={"title": "Flyer", "text": "x", "category": "flyer", "expires_on": timezone.localdate() + timedelta(days=3)},
        attachment=SimpleUploadedFile("f.pdf", PDF),
        by=author,
    )
    client.force_login(make_superuser())
    page = client.get(reverse("admin:calendar_events_notice_change", args=[notice.pk]))
    assert page.status_code == 200 and notice.get_attachment_url() in page.content.decode()


def _run_migration():
    migration = importlib.import_module("calendar_events.migrations.0002_notice_attachments_private")
    migration.move(apps, None)


def test_the_migration_moves_existing_attachments_out_of_media(settings):
    media = FileSystemStorage(location=settings.MEDIA_ROOT)
    old_name = media.save("notices/2026/03/notice.pdf", ContentFile(PDF))
    leftover = media.save("notices/2026/02/notice.png", ContentFile(b"replaced upload"))  # no notice uses it
    organisation = make_organisation()
    notice = Notice.objects.create(
        title="Old", text="x", organisation=organisation, expires_on=timezone.localdate(), attachment_kind="pdf"
    )
    missing = Notice.objects.create(
        title="Lost", text="x", organisation=organisation, expires_on=timezone.localdate(), attachment_kind="pdf"
    )
    Notice.objects.filter(pk=notice.pk).update(attachment=old_name)
    Notice.objects.filter(pk=missing.pk).update(attachment="notices/2026/01/notice.pdf")  # its file is gone

    _run_migration()
    notice.refresh_from_db()
    assert RANDOM_NAME.match(notice.attachment.name)
    assert private_file_storage().open(notice.attachment.name).read() == PDF
    assert not media.exists(old_name) and not media.exists(leftover)
    assert not (Path(settings.MEDIA_ROOT) / "notices").exists()
    missing.refresh_from_db()
    assert missing.attachment.name == "notices/2026/01/notice.pdf"

    # Again: nothing changes.
    moved_to = notice.attachment.name
    _run_migration()
    notice.refresh_from_db()
    assert notice.attachment.name == moved_to and private_file_storage().exists(moved_to)

