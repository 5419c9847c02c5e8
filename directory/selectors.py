"""Reads for the directory. Other apps read organisations and taxonomies through these functions."""

import re
from difflib import SequenceMatcher

from django.db.models import QuerySet

from .models import Affiliation, Organisation, TaxonomyTerm

# Words that do not tell two organisations apart.
_NOISE_WORDS = {"the", "ltd", "limited", "cic", "cio", "trust", "association", "assoc", "group", "and", "of", "uk"}


def _name_key(name: str) -> str:
    words = re.findall(r"[a-z0-9]+", (name or "").lower().replace("&", " and "))
    return " ".join(word for word in words if word not in _NOISE_WORDS)


def similar_organisations(name: str, *, exclude_id: int | None = None, threshold: float = 0.85, limit: int = 3) -> list[Organisation]:
    """Organisations whose names look like `name` once noise words and punctuation are ignored."""
    key = _name_key(name)
    if not key:
        return []
    candidates = Organisation.objects.only("id", "name", "slug")
    if exclude_id:
        candidates = candidates.exclude(pk=exclude_id)
    scored = []
    for organisation in candidates.iterator(chunk_size=2000):
        other = _name_key(organisation.name)
        if not other:
            continue
        score = 1.0 if other == key else SequenceMatcher(None, key, other).ratio()
        if score >= threshold:
            scored.append((score, organisation))
    scored.sort(key=lambda pair: (-pair[0], pair[1].name))
    return [organisation for _, organisation in scored[:limit]]


def terms_in(taxonomy_code: str) -> QuerySet[TaxonomyTerm]:
    return TaxonomyTerm.objects.in_taxonomy(taxonomy_code).select_related("parent")


def organisations_of(user) -> QuerySet[Organisation]:
    """The organisations a user is linked to, with any role."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(affiliations__user=user).distinct()


def organisations_edited_by(user) -> QuerySet[Organisation]:
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(
        affiliations__user=user, affiliations__role__in=[Affiliation.Role.EDITOR, Affiliation.Role.OFFICER]
    ).distinct()


def public_organisation_page(slug: str) -> Organisation | None:
    return (
        Organisation.objects.select_related("ward")
        .prefetch_related("kinds", "communities_served", "segments", "functions", "languages")
        .filter(slug=slug)
        .first()
    )
