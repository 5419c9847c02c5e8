"""The Open Referral UK API against its OpenAPI contract, with Schemathesis and all of its checks
(server errors, status codes, content types, headers, response schemas, schema-valid requests accepted
and schema-violating ones refused), in its example, coverage and fuzzing phases and as a state machine
following the links from lists to records.

Two documents:

- the one the portal serves at /api/oruk/openapi.json, exactly as served;
- the profile's own, as published (directory/api/schemas/openapi.json, copied unchanged from the ORUK
  3.0 profile, CC BY-SA 4.0: see the NOTICE there). Its paths, operations and response schemas are
  used as they are; its schema references are resolved from the local copies (it names them at
  raw.githubusercontent.com), and where it leaves the API open (what a bad parameter or an unknown id
  gets; "type": "time", which no JSON Schema reader knows) the portal's declarations fill it in
  (openapi.with_portal_parameters), as they do in the served document.

The number of examples is bounded so that the module runs in well under two minutes.
"""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import RequestFactory
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings

from directory.api import openapi, views

pytestmark = pytest.mark.django_db
# Per operation and generation mode (schema-valid and schema-violating), on top of the coverage cases.
MAX_EXAMPLES = 15
HYPOTHESIS = hypothesis_settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def wsgi_in_test_transaction():
    """Requests go through the real WSGI handler, which closes the database connection when a request
    ends; as Django's test client does, keep it open so the test's transaction (and data) survives."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def contract_directory(settings, wsgi_in_test_transaction, directory):
    # Schemathesis sends far more than a client would: the throttle is not what is under test here.
    settings.PORTAL_ORUK_THROTTLE_RATE = "1000000/minute"
    # The served document's server is SITE_URL (127.0.0.1:8000 in tests); Schemathesis's WSGI client
    # otherwise says Host: localhost.
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]


def _load(document: dict):
    schema = schemathesis.openapi.from_dict(document)
    schema.app = get_wsgi_application()
    return schema


def _served() -> dict:
    """The document exactly as /api/oruk/openapi.json serves it. (It is read from the view when the
    module is collected: Schemathesis's fixture-time loading does not work with this pytest.)"""
    request = RequestFactory().get("/api/oruk/openapi.json")
    return json.loads(views.openapi_document(request).content)


def _published() -> dict:
    document = openapi.with_portal_parameters(openapi.with_inline_schemas(openapi.profile_document()))
    document["servers"] = [{"url": "/api/oruk"}]
    return document


served = _load(_served())
published = _load(_published())
DOCUMENTS = {"served": served, "published": published}


@served.parametrize()
@HYPOTHESIS
def test_the_served_document(case, contract_directory):
    case.call_and_validate()


@published.parametrize()
@HYPOTHESIS
def test_the_published_profile_document(case, contract_directory):
    case.call_and_validate()


@pytest.mark.parametrize("name", DOCUMENTS)
def test_following_links_from_lists_to_records(contract_directory, name):
    """The stateful phase: records reached from the lists (real ids) validate against the schemas."""
    machine = DOCUMENTS[name].as_state_machine()
    machine.run(settings=hypothesis_settings(HYPOTHESIS, max_examples=10, phases=[Phase.generate], stateful_step_count=4))
