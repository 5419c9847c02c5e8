"""Reads for the controlled vocabularies."""

import threading
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
# deleted, so every process sees a change at its next request. Within a request the version is read
# once (remember_version_during_requests), however many things are built; with Redis, that read is of
# the value kept while Redis reports no change to it (core.cache.get_tracked), not a round trip.
VERSION_KEY = "taxonomies:version"
_built: dict[str, tuple[str, object]] = {}
_request = threading.local()  # .version while a request is served: None until read


def taxonomy_version() -> str | None:
    """The taxonomies' data version in the shared cache (set afresh when missing); None when the cache
    cannot be reached, and then nothing is kept."""
    from django.core.cache import cache

    from core.cache import get_tracked

    in_request = hasattr(_request, "version")
    if in_request and _request.version is not None:
        return _request.version
    version = get_tracked(cache, VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = get_tracked(cache, VERSION_KEY)
    if in_request:
        _request.version = version
    return version


def remember_version_during_requests(*, started: bool, **_signal) -> None:
    """Connected to request_started and request_finished (apps.py): during a request its first read
    of the version is reused; outside requests (tasks, commands, tests' own code) every read is fresh."""
    if started:
        _request.version = None
    elif hasattr(_request, "version"):
        del _request.version


def forget_version_read() -> None:
    """The version moved on in this process (services.record_taxonomy_change): read it again."""
    from django.core.cache import cache

    from core.cache import forget_tracked

    forget_tracked(cache, VERSION_KEY)
    if hasattr(_request, "version"):
        _request.version = None


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
    forget_version_read()
