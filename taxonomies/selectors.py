"""Reads for the controlled vocabularies."""


from django.db.models import F, QuerySet

from .models import TaxonomyTerm


def terms_in(taxonomy_code: str) -> QuerySet[TaxonomyTerm]:
    return TaxonomyTerm.objects.in_taxonomy(taxonomy_code).select_related("parent")


def terms_in_taxonomies(taxonomy_codes: list[str]) -> QuerySet[TaxonomyTerm]:
    """The active terms of several taxonomies in one query, each taxonomy's in `terms_in` order, each
    with its `taxonomy_code`."""
    return TaxonomyTerm.objects.filter(taxonomy__code__in=taxonomy_codes, is_active=True).annotate(
        taxonomy_code=F("taxonomy__code")
    )
