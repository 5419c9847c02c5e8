"""Files on S3-compatible object storage (PORTAL_STORAGE_URL), against a real S3 server: moto's, run in a
process of its own on a free local port for the session, with one bucket; each test keeps its files
under a prefix of its own. The portal talks to it over HTTP exactly as to any S3 service: logos are
public at their plain bucket address; evidence, materials, imports and evidence packs are private
objects, sent only through the portal's permission-checked views; a pack written by a Celery worker
process is sent by the web side.

What moto checks: an object's ACL on unsigned requests (a private object's plain address answers 403).
What it does not: signatures and expiry of signed addresses, and credentials (any key is accepted).
So the tests also read each object's ACL back with boto3.

The settings tests at the end need no S3 server: they run the settings in a fresh process.
"""

import io
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date

import pytest
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook
from PIL import Image

from accounts.models import User
from core.files import private_file_storage
from evidence import services as evidence_services
from evidence.models import EvidenceExport
from evidence.tasks import build_evidence_pack
from organisations import imports
from organisations.models import Organisation
from quality import services as quality_services
from quality.models import EvidenceFile, Material
from tests.celery_worker import start_worker
from tests.factories import make_organisation, make_superuser, make_user, pdf_bytes, pdf_upload, term
from tests.object_storage import BUCKET, CREDENTIALS
from tests.organisations.test_imports import GOOD_ROWS, IMPORT, csv_bytes
from tests.organisations.test_views import _edit_data, _png
from tests.people import client_as, people  # noqa: F401  (fixtures)
from tests.test_deploy_settings import run
from thin_portal.settings import object_storages, public_files_origin

WORKER_WAIT = 90
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"

s3 = pytest.mark.s3


def _keys(storage, under: str) -> list[str]:
    listing = storage.client.list_objects_v2(Bucket=BUCKET, Prefix=storage.prefix + under)
    return sorted(entry["Key"][len(storage.prefix) :] for entry in listing.get("Contents", ()))


def _get(url: str) -> tuple[int, bytes]:
    """A plain, unsigned HTTP GET, as a browser (or anyone with the address) would make."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def _public_to_all(storage, key: str) -> bool:
    grants = storage.client.get_object_acl(Bucket=BUCKET, Key=storage.prefix + key)["Grants"]
    return any(grant["Grantee"].get("URI") == ALL_USERS for grant in grants)


def _plain_address(storage, key: str) -> str:
    return f"{storage.endpoint}/{BUCKET}/{storage.prefix}{key}"


# Public files ------------------------------------------------------------------------------------------


@s3
@pytest.mark.django_db
def test_a_logo_lands_in_the_bucket_and_is_public_at_its_plain_address(object_storage, people, client_as):  # noqa: F811
    client = client_as(people.editor)
    url = reverse("organisations:organisation_edit", kwargs={"slug": people.vco.slug})
    response = client.post(url, {**_edit_data(people.vco), "logo": _png(600, 300)})
    assert response.status_code == 302
    people.vco.refresh_from_db()
    logo = people.vco.logo

    assert _keys(object_storage, "") == [f"public/{logo.name}"]
    assert _public_to_all(object_storage, f"public/{logo.name}")
    assert logo.url == _plain_address(object_storage, f"public/{logo.name}"), "no signature, no expiry"
    status, body = _get(logo.url)
    assert status == 200 and body == default_storage.open(logo.name).read()
    with Image.open(io.BytesIO(body)) as image:
        assert image.size == (400, 200)  # resized before it was stored

    page = client.get(people.vco.get_absolute_url())
    assert logo.url in page.content.decode()
    img_src = next(part for part in page["Content-Security-Policy"].split(";") if part.strip().startswith("img-src"))
    assert object_storage.endpoint in img_src, "the page may show an image from the bucket"


# Private files -----------------------------------------------------------------------------------------


@s3
@pytest.mark.django_db
def test_assessment_evidence_is_private_and_sent_only_to_its_readers(object_storage, people, client_as):  # noqa: F811
    assessment = quality_services.start_assessment(organisation=people.provider, by=people.officer)
    criterion = assessment.responses.get(criterion__code="GOV-B1")
    client = client_as(people.officer)
    response = client.post(
        f"/quality/assessments/{assessment.pk}/criteria/{criterion.pk}/",
        {"rating": "met", "evidence_text": "Board minutes", "files": [pdf_upload("board.pdf", "Minutes of May")]},
    )
    assert response.status_code == 302
    evidence = EvidenceFile.objects.get()
    key = f"private/{evidence.file.name}"
    assert _keys(object_storage, "") == [key]

    # Not readable by anyone holding its address: moto checks the object's ACL on unsigned requests.
    assert not _public_to_all(object_storage, key)
    assert _get(_plain_address(object_storage, key))[0] == 403

    download_url = f"/quality/assessments/{assessment.pk}/files/{evidence.pk}/"
    download = client.get(download_url)
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == pdf_bytes("Minutes of May")
    for stranger in (people.stranger, people.editor):
        assert client_as(stranger).get(download_url).status_code == 404


@s3
@pytest.mark.django_db
def test_a_members_only_material_is_private_and_sent_to_members_only(object_storage, people, client):  # noqa: F811
    client.force_login(people.officer)
    form = {"title": "Pay scales", "summary": "For members.", "kind": "qa_template", "geographic_level": "local"}
    upload = pdf_upload("pay.pdf", "Members only")
    response = client.post(
        "/materials/new/", {**form, "for_stage_1": "on", "organisation": people.provider.pk, "file": upload}
    )
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    material = Material.objects.get()
    assert not material.is_public
    version = material.versions.get()
    key = f"private/{version.file.name}"
    assert _keys(object_storage, "") == [key]
    assert not _public_to_all(object_storage, key)
    assert _get(_plain_address(object_storage, key))[0] == 403
    # A signed address exists (django-storages), short-lived; the portal never hands one out.
    assert "X-Amz-Expires=300" in private_file_storage().url(version.file.name)

    client.force_login(people.member)
    download = client.get(f"/materials/{material.slug}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == pdf_bytes("Members only")
    client.logout()
    assert client.get(f"/materials/{material.slug}/download/").status_code == 404


# Member imports ----------------------------------------------------------------------------------------


@s3
@pytest.mark.django_db
def test_a_member_import_waits_in_the_bucket_then_previews_and_imports(object_storage, client, monkeypatch):
    admin = make_superuser()
    client.force_login(admin)
    forgotten = client.post(IMPORT, {"file": _csv_upload([GOOD_ROWS[0]])})
    assert forgotten.status_code == 302
    assert len(_keys(object_storage, "private/imports/")) == 2
    # The next upload tidies away uploads older than KEEP_UPLOADS_SECONDS, through the storage.
    monkeypatch.setattr(imports, "KEEP_UPLOADS_SECONDS", -60)

    response = client.post(IMPORT, {"file": _csv_upload(GOOD_ROWS)})
    assert response.status_code == 302
    token = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    assert _keys(object_storage, "private/imports/") == [
        f"private/imports/{token}.json",
        f"private/imports/{token}.upload",
    ], "the forgotten upload is gone; only this one waits, with its meta"
    assert not _public_to_all(object_storage, f"private/imports/{token}.upload")

    preview = client.get(response["Location"])
    assert preview.status_code == 200 and preview.context["report"].can_commit
    confirmed = client.post(response["Location"], {"confirm": "1"}, follow=True)
    assert confirmed.status_code == 200
    assert set(Organisation.objects.values_list("name", flat=True)) == {row[0] for row in GOOD_ROWS}
    assert _keys(object_storage, "private/imports/") == [], "deleted once imported"


def _csv_upload(rows):
    return SimpleUploadedFile("organisations.csv", csv_bytes(rows))


# Evidence packs: written by a worker process, sent by the web side -------------------------------------


@s3
@pytest.mark.redis
@pytest.mark.postgres  # the worker must share the test database: SQLite's is in memory
@pytest.mark.django_db(transaction=True)
def test_a_pack_built_by_a_worker_process_is_stored_in_the_bucket_and_downloads(
    object_storage, request, tmp_path, client
):
    worker = start_worker(
        request,
        log_dir=tmp_path,
        prefix="test-s3-packs",
        # The worker's own scratch folder; the pack itself goes to the bucket, as this process reads it.
        env={**object_storage.env, "PORTAL_EVIDENCE_EXPORT_DIR": str(tmp_path / "worker-scratch")},
    )
    for n in range(6):
        make_organisation(name=f"Group {n}", development_stage=1 + n % 3, ward=term("wards", "bow-east"))
    funder = make_user(User.Role.FUNDER, username="s3_funder", email="s3-funder@example.org")
    export = evidence_services.request_export(user=funder, start=date(2026, 1, 1), end=date(2026, 12, 31), area=None)
    build_evidence_pack.apply_async(args=[export.pk], queue=worker.queue)

    deadline = time.monotonic() + WORKER_WAIT
    while export.status in (EvidenceExport.Status.QUEUED, EvidenceExport.Status.RUNNING):
        if worker.process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"no pack from the worker:\n{worker.log_path.read_text()}")
        time.sleep(0.2)
        export.refresh_from_db()
    assert export.status == EvidenceExport.Status.READY, worker.log_path.read_text()
    assert export.file.name == f"evidence-packs/{export.uuid}.xlsx"
    assert _keys(object_storage, "") == [f"private/{export.file.name}"]
    assert not _public_to_all(object_storage, f"private/{export.file.name}")
    assert not list((tmp_path / "worker-scratch").iterdir()), "the worker's local copy is gone"

    client.force_login(funder)
    response = client.get(reverse("evidence:export_download", kwargs={"uuid": export.uuid}))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert len(body) == export.size_bytes
    assert load_workbook(io.BytesIO(body), read_only=True).sheetnames[-1] == "Definitions"

    evidence_services.expire_exports(now=export.expires_at)
    assert _keys(object_storage, "") == [], "an expired pack is deleted from the bucket"


# Settings: no S3 server needed --------------------------------------------------------------------------

PRINT_STORAGES = """
import json
from django.conf import settings
print(json.dumps({"storages": settings.STORAGES, "img_src": settings.SECURE_CSP["img-src"]}))
"""


def _storages_for(tmp_path, **env) -> dict:
    result = run(["-c", PRINT_STORAGES], tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_storage_url_puts_public_and_private_files_in_one_bucket(tmp_path):
    printed = _storages_for(
        tmp_path, PORTAL_STORAGE_URL="s3://thin-files/portal/?endpoint_url=https://s3.example.org&region_name=auto"
    )
    public, private = printed["storages"]["default"], printed["storages"]["private"]
    assert public["BACKEND"] == private["BACKEND"] == "storages.backends.s3.S3Storage"
    for options in (public["OPTIONS"], private["OPTIONS"]):
        assert options["bucket_name"] == "thin-files" and options["endpoint_url"] == "https://s3.example.org"
        assert options["region_name"] == "auto" and options["file_overwrite"] is False
    assert (public["OPTIONS"]["location"], private["OPTIONS"]["location"]) == ("portal/public", "portal/private")
    assert public["OPTIONS"]["default_acl"] == "public-read" and public["OPTIONS"]["querystring_auth"] is False
    assert private["OPTIONS"]["default_acl"] == "private" and private["OPTIONS"]["querystring_auth"] is True
    assert private["OPTIONS"]["querystring_expire"] == 300
    assert printed["img_src"][-1] == "https://s3.example.org"


def test_django_storages_own_variables_work_too(tmp_path):
    printed = _storages_for(
        tmp_path,
        AWS_STORAGE_BUCKET_NAME="thin-files",
        AWS_S3_REGION_NAME="eu-west-2",
        AWS_S3_CUSTOM_DOMAIN="files.example.org",
    )
    public, private = printed["storages"]["default"]["OPTIONS"], printed["storages"]["private"]["OPTIONS"]
    assert (public["location"], private["location"]) == ("public", "private")
    assert public["region_name"] == "eu-west-2" and public["custom_domain"] == "files.example.org"
    assert printed["img_src"][-1] == "https://files.example.org"


def test_without_a_bucket_files_stay_on_local_disk(tmp_path):
    storages = _storages_for(tmp_path, AWS_STORAGE_BUCKET_NAME="")["storages"]
    assert storages["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert storages["private"]["BACKEND"] == "core.files.PrivateFileStorage"


@pytest.mark.parametrize(
    "location",
    [
        {"bucket_name": "thin-files"},
        {"bucket_name": "thin-files", "region_name": "eu-west-2"},
        {"bucket_name": "thin.files"},
        {"bucket_name": "thin.files", "region_name": "eu-west-2"},
        {"bucket_name": "thin-files", "endpoint_url": "https://minio.example.org:9000", "region_name": "auto"},
        {"bucket_name": "thin-files", "region_name": "eu-west-2", "custom_domain": "files.example.org"},
    ],
)
def test_the_page_may_show_images_from_where_logo_addresses_point(location, monkeypatch):
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    public = storages.create_storage(object_storages(**location)["default"])
    address = urllib.parse.urlsplit(public.url("logos/logo.png"))  # written by boto3, without a request
    assert f"{address.scheme}://{address.netloc}" == public_files_origin(**location)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://thin-files/portal", "it must start with s3://"),
        ("s3://", "'' is not a bucket name"),
        ("s3://Thin_Files", "'Thin_Files' is not a bucket name"),
        ("s3://key:secret@thin-files", "credentials go in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
        ("s3://thin-files/../other", "the prefix after the bucket must be a plain folder name"),
        ("s3://thin-files?endpoint=https://s3.example.org", "unknown parameters (endpoint)"),
        ("s3://thin-files?region_name=", "may each be given once, with a value"),
        ("s3://thin-files?eu-west-2", "the part after ? must be name=value pairs"),
        ("s3://thin-files?endpoint_url=s3.example.org", "endpoint_url must be an http:// or https:// address"),
    ],
)
def test_a_malformed_storage_url_is_refused_at_start_up(tmp_path, url, expected):
    result = run(["-c", "import django; django.setup()"], tmp_path, PORTAL_STORAGE_URL=url)
    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured: PORTAL_STORAGE_URL is not a storage URL" in result.stderr
    assert expected in result.stderr and "Write it as s3://BUCKET[/PREFIX]" in result.stderr
    assert "secret" not in result.stderr, "the URL, which may hold a secret, is not repeated"

