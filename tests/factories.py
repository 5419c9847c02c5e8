"""Small helpers that make test data. They use the vocabulary the data migration seeds
(directory/vocabulary.py), so `term("wards", "bow-east")` exists in every test database.

Each helper takes keyword overrides for any model field; add more helpers here as apps grow.
"""

import itertools

from django.utils import timezone

from directory.models import Affiliation, Membership, Network, Organisation, Reminder, TaxonomyTerm, User

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
