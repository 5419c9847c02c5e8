"""Writes for the controlled vocabularies (the terms themselves are edited in the admin)."""

import uuid

from django.core.cache import cache

from .selectors import VERSION_KEY, forget_version_read


def record_taxonomy_change(**_signal) -> None:
    """A new data version: every process rebuilds what it keeps from the terms (selectors.built_from_terms).
    Connected to saves and deletions of taxonomies and terms (apps.py); a bulk update() bypasses it, and
    should call it."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    forget_version_read()
