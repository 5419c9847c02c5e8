"""The embedded default (SQLite, no Redis) that a newcomer's `make run` starts: every page and download
of the demo answers for every role (tests/embedded_walk.py, in a process of its own). CI runs the rest of
the suite on PostgreSQL, where SQL that SQLite does not speak would pass unnoticed."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_page_of_the_demo_answers_on_the_embedded_default(tmp_path):
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "PORTAL_REQUIRE_SERVICES", "DJANGO_SETTINGS_MODULE")
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="thin_portal.settings",
        DJANGO_DEBUG="1",
        DJANGO_ALLOWED_HOSTS="testserver",
        PORTAL_VAR_DIR=str(tmp_path),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    finished = subprocess.run(
        [sys.executable, "-m", "tests.embedded_walk"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=900
    )
    assert finished.returncode == 0, finished.stderr[-5000:]
    report = json.loads(finished.stdout.strip().splitlines()[-1])
    assert (tmp_path / "portal.sqlite3").exists(), "the walk ran on the embedded SQLite database"
    # Every role reaches its pages (a link lost from the menus would shrink the walk).
    assert report["visited"]["visitor"] >= 25 and report["visited"]["admin"] >= 60, report["visited"]
    assert report["problems"] == [], "\n".join(report["problems"])
