"""A web worker settles before its first request (thin_portal/workers.py): the code loaded so far is
out of the cyclic garbage collector's sight, and the youngest generation is collected less often."""

import json
import os
import subprocess
import sys
from pathlib import Path

from thin_portal.workers import YOUNG_COLLECTION_THRESHOLD

ROOT = Path(__file__).resolve().parent.parent

# In a process of its own: the WSGI module settles the process that imports it, as gunicorn's does.
PROBE = """
import gc, json
default = gc.get_threshold()
import thin_portal.wsgi
print(json.dumps({"default": default, "now": gc.get_threshold(), "frozen": gc.get_freeze_count()}))
"""


def test_importing_the_wsgi_application_freezes_what_is_loaded_and_raises_the_young_threshold():
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "thin_portal.settings", "DJANGO_SECRET_KEY": "a-test-key-" * 5}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["default"][0] == 700  # Python's own, before
    assert found["now"] == [YOUNG_COLLECTION_THRESHOLD, *found["default"][1:]]
    assert found["frozen"] > 50_000  # Django, the apps and every view module
