"""The people the demo's activity needs: someone at each VCO who asks for support and books events,
and an officer at each provider who answers. Used by the referral and calendar demo loaders, after
`load_demo_data`.

An organisation that has an editor or officer already (the demo accounts) keeps it; the others get a
demo user made for them, named after the organisation's contact, with an address at its example.org
domain. These users have no password: nobody logs in as them, they stand for the people in the history.
Idempotent: a demo user is found by its username.
"""

import random

from django.utils.text import slugify

from accounts.models import User

from .demo import PEOPLE, _email_domain
from .models import Affiliation, Organisation
from .permissions import EDITING_ROLES


def _username(organisation: Organisation) -> str:
    return f"demo.{organisation.slug}"[:150]


def _name(organisation: Organisation, *, is_provider: bool) -> tuple[str, str]:
    words = organisation.contact_name.split()
    if not is_provider and len(words) >= 2:
        return words[0], " ".join(words[1:])
    # A provider's officer is not the contact on its record; the same organisation gets the same name.
    first_names, last_names = PEOPLE[""]
    rng = random.Random(organisation.slug)
    return rng.choice(first_names), rng.choice(last_names)


def demo_people(organisations: list[Organisation]) -> dict[int, User]:
    """One person per organisation, by organisation id: its first editor or officer, made if missing
    (a VCO's editor, a provider's officer)."""
    ids = [organisation.pk for organisation in organisations]
    people: dict[int, User] = {}
    for affiliation in (
        Affiliation.objects.filter(organisation_id__in=ids, role__in=EDITING_ROLES, user__is_active=True)
        .select_related("user")
        .order_by("organisation_id", "pk")
    ):
        people.setdefault(affiliation.organisation_id, affiliation.user)
    missing = [organisation for organisation in organisations if organisation.pk not in people]
    if not missing:
        return people
    providers = set(
        Organisation.objects.providers().filter(pk__in=[o.pk for o in missing]).values_list("pk", flat=True)
    )
    existing = {user.username: user for user in User.objects.filter(username__in=[_username(o) for o in missing])}
    new_users = []
    for organisation in missing:
        if _username(organisation) in existing:
            continue
        first, last = _name(organisation, is_provider=organisation.pk in providers)
        user = User(
            username=_username(organisation),
            email=f"{slugify(first)}.{slugify(last)}@{_email_domain(organisation.slug)}",
            first_name=first,
            last_name=last,
            role=User.Role.OFFICER if organisation.pk in providers else User.Role.VCO_STAFF,
        )
        user.set_unusable_password()
        new_users.append(user)
    User.objects.bulk_create(new_users)
    existing.update(
        (user.username, user) for user in User.objects.filter(username__in=[user.username for user in new_users])
    )
    Affiliation.objects.bulk_create(
        [
            Affiliation(
                user=existing[_username(organisation)],
                organisation=organisation,
                role=Affiliation.Role.OFFICER if organisation.pk in providers else Affiliation.Role.EDITOR,
            )
            for organisation in missing
        ],
        # A demo user whose link was changed since (to member, say) gets its role back.
        update_conflicts=True,
        unique_fields=["user", "organisation"],
        update_fields=["role"],
    )
    people.update((organisation.pk, existing[_username(organisation)]) for organisation in missing)
    return people
