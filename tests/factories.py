"""Small helpers that make test data. They use the vocabulary the data migration seeds
(directory/vocabulary.py), so `term("wards", "bow-east")` exists in every test database.

Each helper takes keyword overrides for any model field; add more helpers here as apps grow.
"""

import itertools

from django.utils import timezone

from accounts.models import User
from notifications.models import Reminder
from organisations.models import Affiliation, Membership, Network, Organisation
from taxonomies.models import TaxonomyTerm

_sequence = itertools.count(1)


def _next() -> int:
    return next(_sequence)


def term(taxonomy_code: str, code: str) -> TaxonomyTerm:
    """A seeded taxonomy term, by its taxonomy's code and its own code."""
    return TaxonomyTerm.objects.get(taxonomy__code=taxonomy_code, code=code)


def make_user(role: str = User.Role.VCO_STAFF, *, password: str = "correct horse battery staple", **overrides) -> User:
    n = _next()
    fields = {"username": f"user{n}", "email": f"user{n}@example.org", "role": role, **overrides}
    return User.objects.create_user(password=password, **fields)


def make_network_admin(**overrides) -> User:
    """A network admin as the office has one: staff, with the network admin role, not a superuser."""
    return make_user(role=User.Role.NETWORK_ADMIN, is_staff=True, **overrides)


def make_superuser(**overrides) -> User:
    n = _next()
    fields = {"username": f"admin{n}", "email": f"admin{n}@example.org", **overrides}
    return User.objects.create_superuser(password="correct horse battery staple", **fields)


# Many-to-many fields take lists of terms: make_organisation(kinds=[term("organisation-kinds", "general")]).
_M2M = ("kinds", "communities_served", "segments", "functions", "languages")


def make_organisation(**overrides) -> Organisation:
    n = _next()
    relations = {name: overrides.pop(name) for name in _M2M if name in overrides}
    relations.setdefault("kinds", [term("organisation-kinds", Organisation.KIND_VCO)])
    fields = {"name": f"Test Organisation {n}", "slug": f"test-organisation-{n}", **overrides}
    organisation = Organisation.objects.create(**fields)
    for name, terms in relations.items():
        getattr(organisation, name).set(terms)
    return organisation


def make_affiliation(*, user: User, organisation: Organisation, role: str = Affiliation.Role.EDITOR) -> Affiliation:
    return Affiliation.objects.create(user=user, organisation=organisation, role=role)


def make_network(**overrides) -> Network:
    n = _next()
    fields = {"name": f"Test Network {n}", "slug": f"test-network-{n}", **overrides}
    return Network.objects.create(**fields)


def make_membership(
    *, organisation: Organisation | None = None, network: Network | None = None, **overrides
) -> Membership:
    fields = {
        "organisation": organisation or make_organisation(),
        "network": network or make_network(),
        "status": Membership.Status.ACTIVE,
        **overrides,
    }
    return Membership.objects.create(**fields)


def make_reminder(**overrides) -> Reminder:
    n = _next()
    fields = {
        "key": f"test-reminder:{n}",
        "kind": "test",
        "recipients": ["someone@example.org"],
        "subject": f"Test reminder {n}",
        "template": "emails/confirm_details",
        "due_at": timezone.now(),
        **overrides,
    }
    return Reminder.objects.create(**fields)


# Calendar and notice board (calendar_events) ------------------------------------------------------


def make_provider(**overrides) -> Organisation:
    """An infrastructure provider (general kind): its officers publish events and notices directly."""
    return make_organisation(kinds=[term("organisation-kinds", Organisation.KIND_GENERAL)], **overrides)


def make_location(*, organisation: Organisation | None = None, **overrides):
    from directory.models import Location

    n = _next()
    fields = {
        "organisation": organisation or make_provider(),
        "name": f"Test Hall {n}",
        "address_line_1": f"{n} Roman Road",
        "postcode": "E3 5ES",
        "accessibility": "Step-free entrance, accessible toilet, hearing loop.",
        **overrides,
    }
    return Location.objects.create(**fields)


def make_event(*, organiser: Organisation | None = None, start=None, hours: float = 2, **overrides):
    """A published one-off event (override frequency, repeat_count... for a series), through the service
    so that series_end, the UID and the checks are as in real use."""
    from datetime import timedelta

    from calendar_events.models import Event
    from calendar_events.services import save_event

    organiser = organiser or make_provider()
    start = start or (timezone.now() + timedelta(days=7)).replace(microsecond=0)
    data = {
        "title": f"Test event {_next()}",
        "description": "A **test** event.",
        "category": "training",
        "start": start,
        "end": start + timedelta(hours=hours),
        "online_url": "https://meet.example.org/test",
        **overrides,
    }
    event = save_event(event=Event(organiser=organiser), data=data)
    if event.moderation != Event.Moderation.APPROVED and overrides.get("moderation") is None:
        Event.objects.filter(pk=event.pk).update(moderation=Event.Moderation.APPROVED)
        event.refresh_from_db()
    return event


# Quality standards, support materials and health checks (quality/) ------------------------------


def pdf_bytes(text: str = "A test document") -> bytes:
    """A small, well-formed PDF (what core.uploads accepts as a PDF)."""
    return b"%PDF-1.4\n1 0 obj<<>>endobj\n% " + text.encode() + b"\ntrailer<<>>\n%%EOF\n"


def pdf_upload(name: str = "policy.pdf", text: str = "A test document"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, pdf_bytes(text), content_type="application/pdf")


def make_material(*, by: User | None = None, organisation: Organisation | None = None, needs=(), upload=None, **data):
    """A support material through the service, with a PDF as version 1 unless it is a link."""
    from quality.services import create_material

    n = _next()
    fields = {"title": f"Test material {n}", "summary": "Helps groups.", "kind": "fact_sheet", "needs": list(needs), **data}
    if fields.get("external_url"):
        fields.setdefault("kind", "link")
    elif upload is None:
        upload = pdf_upload(f"material-{n}.pdf")
    return create_material(data=fields, upload=upload, organisation=organisation, by=by or make_network_admin())


def make_verified_badge(*, organisation: Organisation | None = None, levels: dict | None = None, verified_on=None):
    """A provider's verified badge straight from a completed assessment: `levels` maps area codes to the
    level reached (1 baseline, 2, 3; 0 not met); unnamed areas reach the baseline."""
    from datetime import timedelta

    from quality.models import CriterionResponse, FrameworkVersion, SelfAssessment
    from quality.services import issue_badge

    organisation = organisation or make_provider()
    levels = levels or {}
    version = FrameworkVersion.objects.published().get()
    assessment = SelfAssessment.objects.create(
        organisation=organisation, version=version, status=SelfAssessment.Status.VERIFIED
    )
    responses = []
    for area in version.areas.prefetch_related("criteria"):
        reached = levels.get(area.code, 1)
        for criterion in area.criteria.all():
            responses.append(
                CriterionResponse(
                    assessment=assessment,
                    criterion=criterion,
                    rating="met" if criterion.level <= reached else "not_met",
                    evidence_text="Seen.",
                    review_status="verified",
                )
            )
    CriterionResponse.objects.bulk_create(responses)
    responses = list(assessment.responses.select_related("criterion"))
    today = verified_on or (timezone.localdate() - timedelta(days=1))
    return issue_badge(assessment=assessment, responses=responses, by=None, today=today)


# Evidence: joint projects and their monitoring ----------------------------------------------------


def make_joint_project(*, lead=None, partners=(), funders=(), indicators=(), **overrides):
    """A joint project with its periods generated. `indicators` are (kind, name, value_type, target per
    period) tuples, e.g. ("output", "Groups supported", "whole", 10)."""
    from datetime import date
    from decimal import Decimal

    from evidence.models import Indicator, JointProject
    from evidence.services import generate_periods, save_indicator

    n = _next()
    fields = {
        "title": f"Test Project {n}",
        "slug": f"test-project-{n}",
        "lead": lead or make_organisation(),
        "start_date": date(2026, 1, 1),
        "end_date": date(2026, 12, 31),
        "aims": "To test.",
        **overrides,
    }
    project = JointProject.objects.create(**fields)
    project.partners.set(partners)
    project.funders.set(funders)
    generate_periods(project=project)
    for order, (kind, name, value_type, target) in enumerate(indicators):
        save_indicator(
            indicator=Indicator(project=project),
            data={"kind": kind, "name": name, "value_type": value_type, "order": order},
            target_per_period=Decimal(target),
        )
    return project


# Directory services (issue 3) ----------------------------------------------------------------------

_SERVICE_M2M = ("functions", "needs", "segments", "communities", "wards", "languages")


def make_service(*, organisation: Organisation | None = None, locations=(), schedules=(), **overrides):
    """A service. Many-to-many fields take lists of terms; `schedules` takes (weekday, "HH:MM",
    "HH:MM") tuples, e.g. make_service(schedules=[("TU", "10:00", "13:00")])."""
    from datetime import time

    from directory.models import Schedule, Service, ServiceAtLocation

    n = _next()
    relations = {name: overrides.pop(name) for name in _SERVICE_M2M if name in overrides}
    fields = {
        "organisation": organisation or make_provider(),
        "name": f"Test Service {n}",
        "slug": f"test-service-{n}",
        "description": "A service for testing.",
        **overrides,
    }
    service = Service.objects.create(**fields)
    for name, terms in relations.items():
        getattr(service, name).set(terms)
    for location in locations:
        ServiceAtLocation.objects.create(service=service, location=location)
    for weekday, opens, closes in schedules:
        Schedule.objects.create(
            service=service,
            weekday=weekday,
            opens_at=time(*map(int, opens.split(":"))),
            closes_at=time(*map(int, closes.split(":"))),
        )
    return service


def make_grant(
    *,
    recipient: Organisation | None,
    amount,
    award_date,
    funder: tuple[str, str] = ("GB-CHC-1035628", "City Bridge Trust"),
    direction: str = "received",
    **overrides,
):
    """A grant row, stored as an import or the network's own form would leave it: received grants carry
    their funder; distributed ones the network as funder (settings)."""
    from decimal import Decimal

    from django.conf import settings

    from evidence.models import Grant

    n = _next()
    if direction == Grant.Direction.DISTRIBUTED:
        funder = (settings.PORTAL_NETWORK_ORG_ID, settings.PORTAL_NETWORK_NAME)
        overrides.setdefault("reference", f"test-{n}")
    fields = {
        "identifier": f"360G-test-{n}",
        "direction": direction,
        "title": f"Grant {n}",
        "description": "A test grant.",
        "amount_awarded": Decimal(amount),
        "award_date": award_date,
        "recipient": recipient,
        "funder_org_id": funder[0],
        "funder_name": funder[1],
        **overrides,
    }
    return Grant.objects.create(**fields)
