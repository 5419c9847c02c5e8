"""Each refused request is logged once (issue 16, item 10): Django's own console handler used to print
every django.request record a second time beside the root logger's, with DEBUG on as in `make run`."""

import logging

import pytest
from django.urls import reverse

from accounts.models import User
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def _handlers_emitting(record: logging.LogRecord) -> list[logging.Handler]:
    """The handlers that would write this record, walking up the loggers as logging itself does."""
    emitting, logger = [], logging.getLogger(record.name)
    while logger:
        emitting += [h for h in logger.handlers if record.levelno >= h.level and h.filter(record)]
        logger = logger.parent if logger.propagate else None
    return emitting


@pytest.mark.parametrize("debug", [True, False])
def test_a_403_is_logged_once(client, settings, caplog, debug):
    settings.DEBUG = debug
    client.force_login(make_user(User.Role.FUNDER, username="funder"))
    with caplog.at_level(logging.INFO):
        response = client.get(reverse("referrals:list"))
    assert response.status_code == 403
    refusals = [r for r in caplog.records if r.name == "django.request" and r.levelno == logging.WARNING]
    assert len(refusals) == 1 and "Forbidden" in refusals[0].getMessage()
    # ...and that one record is written by one handler, not by Django's console handler as well.
    written = [h for h in _handlers_emitting(refusals[0]) if not type(h).__module__.startswith("_pytest")]
    assert len(written) == 1, written
