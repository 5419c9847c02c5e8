"""Breadcrumbs start at Home everywhere (issue 16, item 8): every page of the portal that has a trail,
as each kind of user, begins it with a "Home" link to the home page. The pages are found by walking
every URL (the same walk as tests/test_hostile_parameters.py), not listed by hand."""

import re

import pytest

from tests.test_hostile_parameters import _clients, build_world, walk_targets

pytestmark = pytest.mark.django_db

TRAIL = re.compile(r'<ol class="breadcrumb[^"]*">(.*?)</ol>', re.DOTALL)
FIRST_CRUMB = re.compile(r'<li class="breadcrumb-item[^"]*"[^>]*>(.*?)</li>', re.DOTALL)
HOME_CRUMB = re.compile(r'^\s*<a href="/">Home</a>\s*$')


def test_every_breadcrumb_trail_starts_at_home():
    w = build_world()
    targets, missing = walk_targets(w)
    assert not missing
    pages = [(path, name) for path, name, _ in targets if not name.startswith(("admin:", "api", "directory:api"))]
    with_trail, wrong = set(), []
    for role, client in _clients(w).items():
        for path, name in pages:
            response = client.get(path)
            if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
                continue
            trail = TRAIL.search(response.content.decode())
            if trail is None:
                continue
            with_trail.add(name)
            first = FIRST_CRUMB.search(trail.group(1))
            if first is None or not HOME_CRUMB.match(first.group(1)):
                wrong.append((role, path, first.group(1).strip() if first else trail.group(1)[:200]))
    assert wrong == []
    # The walk reached the trails of every app (a broken walk would pass by finding none).
    assert len(with_trail) >= 40, sorted(with_trail)
    for section in ("organisations:", "directory:", "calendar_events:", "quality:", "referrals:", "evidence:"):
        assert any(name.startswith(section) for name in with_trail), section
