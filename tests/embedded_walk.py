"""Every page and download of the demo on the embedded SQLite default, as a newcomer's `make run` has
it: run as `python -m tests.embedded_walk` in a process of its own with DATABASE_URL and REDIS_URL unset
(tests/test_embedded_default.py does), it migrates a new database, loads the demo and, as each demo role,
follows every link the portal shows (one visit per URL pattern, files and feeds included), then prints
a JSON report of what it visited and every answer of 500 or more. The rest of the suite runs on
PostgreSQL in CI: this is what keeps SQL that only PostgreSQL speaks from breaking the default."""

import json
import re
from collections import deque
from urllib.parse import urlsplit

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import User  # noqa: E402
from tests.page_walk import ROLES, link_pattern  # noqa: E402

HREF = re.compile(r'href="(/[^"#]*)')
NOT_FOLLOWED = ("/static/", "/media/", "/admin/logout/", "/accounts/logout/")


def walk(client: Client, starts: list[str]) -> tuple[list[str], list[str]]:
    queue, seen, visited, problems = deque(starts), set(), [], []
    while queue:
        path = queue.popleft().replace("&amp;", "&")
        pattern = link_pattern(urlsplit(path).path)
        if pattern is None or pattern in seen or path.startswith(NOT_FOLLOWED):
            continue
        seen.add(pattern)
        response = client.get(path)
        visited.append(path)
        if response.status_code >= 500:
            problems.append(f"{path}: server error {response.status_code}")
        if "text/html" in response.get("Content-Type", "") and not response.streaming:
            queue.extend(HREF.findall(response.content.decode()))
    return visited, problems


def main() -> None:
    call_command("migrate", verbosity=0, interactive=False)
    for loader in ("load_demo_data", "load_referral_demo", "load_quality_demo", "load_calendar_demo", "load_evidence_demo"):
        call_command(loader, verbosity=0)
    report, problems = {}, []
    for username in ROLES:
        client = Client(raise_request_exception=False)
        if username:
            client.force_login(User.objects.get(username=username))
        visited, found = walk(client, ["/", "/admin/"] if username == "admin" else ["/"])
        report[username or "visitor"] = len(visited)
        problems += [f"{username or 'visitor'} {problem}" for problem in found]
    print(json.dumps({"visited": report, "problems": problems}))


if __name__ == "__main__":
    main()
