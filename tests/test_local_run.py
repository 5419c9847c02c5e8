"""`make run` (issue 16, item 10): the port is PORT (8000 by default) for the web server and for the
links printed and emailed; the first sweep runs as the jobs process starts."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from thin_portal import celery

ROOT = Path(__file__).resolve().parents[1]


def _run_line_environment(port: str | None) -> dict[str, str]:
    """What the honcho line of `make run` would see and do, without running it: make prints it (-n),
    and the shell expands it with `env` and `echo` in place of honcho."""
    environment = {key: value for key, value in os.environ.items() if key not in ("PORT", "PORTAL_SITE_URL")}
    if port:
        environment["PORT"] = port
    printed = subprocess.run(
        ["make", "-n", "-W", "requirements.txt", "run"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in printed.splitlines() if "honcho" in line)
    line = line.replace(".venv/bin/honcho", "env; echo HONCHO")
    shown = subprocess.run(
        ["sh", "-c", line], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    ).stdout
    result = dict(row.split("=", 1) for row in shown.splitlines() if "=" in row and not row.startswith("HONCHO"))
    result["honcho"] = next(row for row in shown.splitlines() if row.startswith("HONCHO"))
    return result


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(("port", "expected"), [(None, "8000"), ("8123", "8123")])
def test_make_run_serves_and_links_on_port(port, expected):
    seen = _run_line_environment(port)
    assert seen["honcho"].endswith(f"start -p {expected}")  # honcho gives the first process (web) this PORT
    assert seen["PORTAL_SITE_URL"] == f"http://127.0.0.1:{expected}"
    assert seen["PORTAL_SWEEP_AT_START"] == "1"
    web = next(line for line in (ROOT / "Procfile.dev").read_text().splitlines() if line.startswith("web:"))
    assert "runserver 127.0.0.1:${PORT:-8000}" in web


def test_the_sweeps_are_queued_once_as_beat_starts(settings, monkeypatch):
    sent = []
    monkeypatch.setattr(celery.app, "send_task", lambda name, **options: sent.append((name, options)))
    settings.PORTAL_SWEEP_AT_START = False
    celery.sweep_at_start()
    assert sent == []
    settings.PORTAL_SWEEP_AT_START = True
    celery.sweep_at_start()
    assert [name for name, _ in sent] == [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "notifications.tasks.sweep_reminders" in dict(sent)
    assert dict(sent)["notifications.tasks.sweep_reminders"]["expires"] == settings.PORTAL_SWEEP_INTERVAL
