"""Reads for the controlled vocabularies."""

import uuid
from collections.abc import Callable
from typing import TypeVar

from django.db.models import F, QuerySet

from .models import TaxonomyTerm

T = TypeVar("T")


def terms_in(taxonomy_code: str) -> QuerySet[TaxonomyTerm]:
    return TaxonomyTerm.objects.in_taxonomy(taxonomy_code).select_related("parent")


def terms_in_taxonomies(taxonomy_codes: list[str]) -> QuerySet[TaxonomyTerm]:
    """The active terms of several taxonomies in one query, each taxonomy's in `terms_in` order, each
    with its `taxonomy_code`."""
    return TaxonomyTerm.objects.filter(taxonomy__code__in=taxonomy_codes, is_active=True).annotate(
        taxonomy_code=F("taxonomy__code")
    )


# What is built from the terms (a form's choices...) is kept in each process under the taxonomies' data
# version, which services.record_taxonomy_change moves on whenever a taxonomy or a term is saved or
# deleted, so every process sees a change at its next request.
VERSION_KEY = "taxonomies:version"
_built: dict[str, tuple[str, object]] = {}


def taxonomy_version() -> str | None:
    """The taxonomies' data version in the shared cache (set afresh when missing); None when the cache
    cannot be reached, and then nothing is kept."""
    from django.core.cache import cache

    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def built_from_terms(name: str, build: Callable[[], T]) -> T:
    """build(), kept in this process under `name` while the taxonomies' data version stays the same:
    what every request would otherwise rebuild from the same terms."""
    version = taxonomy_version()
    kept = _built.get(name)
    if version is not None and kept is not None and kept[0] == version:
        return kept[1]
    value = build()
    if version is not None:
        _built[name] = (version, value)
    return value


def forget_built_terms() -> None:
    """Drop what this process keeps (tests: a rolled-back transaction changes terms without a signal)."""
    _built.clear()
