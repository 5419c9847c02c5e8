"""An S3 server for the tests: moto's, run in a process of its own on a free local port for the session,
with one bucket (`moto_server`), and the portal's files put on it under a prefix of the test's own
(`object_storage`). Registered for every test in tests/conftest.py; tests that use it are marked `s3`.
"""

import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.celery_worker import free_port
from thin_portal.settings import object_storages, parse_storage_url, public_files_origin

BUCKET = "thin-portal-test"
REGION = "eu-west-2"
# moto accepts any credentials; boto3 needs some to sign with, and reads them from the environment.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "portal-test", "AWS_SECRET_ACCESS_KEY": "portal-test-secret"}


class MotoS3Server:
    """`python -m moto.server` on 127.0.0.1 and a free port, started on first use, with BUCKET."""

    def __init__(self, log_path: Path):
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.endpoint = ""
        self.client = None

    def start(self, *, timeout: float = 30) -> None:
        if self.process is not None:
            return
        # Here, not at the top: where moto is missing the tests skip before this runs.
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        port = free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
                return
            except (BotoCoreError, ClientError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto's S3 server did not start:\n{self.log_path.read_text()}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
            self.log.close()


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    # Started by the `s3` fixture, after the marker's check has skipped the test where moto is missing.
    server = MotoS3Server(tmp_path_factory.mktemp("moto") / "moto.log")
    yield server
    server.stop()


@pytest.fixture
def object_storage(moto_server, settings, monkeypatch):
    """The portal's files on the moto server, as PORTAL_STORAGE_URL puts them, under a prefix of this
    test's own. `env` is what another process (a worker) needs to use the same storage."""
    moto_server.start()
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    url = f"s3://{BUCKET}/{prefix}?endpoint_url={moto_server.endpoint}&region_name={REGION}"
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    location = parse_storage_url(url)
    # As settings.py does with the variable set; changing STORAGES makes Django, and core.files for the
    # private storage, forget the storages made so far.
    settings.STORAGES = {**settings.STORAGES, **object_storages(**location)}
    csp = settings.SECURE_CSP
    settings.SECURE_CSP = {**csp, "img-src": [*csp["img-src"], public_files_origin(**location)]}
    return SimpleNamespace(
        client=moto_server.client,
        endpoint=moto_server.endpoint,
        prefix=f"{prefix}/",
        env={"PORTAL_STORAGE_URL": url, **CREDENTIALS},
    )


