"""Controlled vocabularies: the infrastructure functions, support needs, specialist segments,
communities, wards, languages and organisation kinds every app tags its records with."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class Taxonomy(models.Model):
    """A controlled vocabulary (functions, needs, segments, communities, wards, languages, kinds)."""

    FUNCTIONS = "functions"
    NEEDS = "needs"
    SEGMENTS = "segments"
    COMMUNITIES = "communities"
    WARDS = "wards"
    LANGUAGES = "languages"
    ORGANISATION_KINDS = "organisation-kinds"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    uri = models.URLField(_("URI"), blank=True)
    version = models.CharField(_("version"), max_length=20, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("taxonomy")
        verbose_name_plural = _("taxonomies")

    def __str__(self) -> str:
        return self.name


class TaxonomyTermQuerySet(models.QuerySet):
    def in_taxonomy(self, code: str) -> "TaxonomyTermQuerySet":
        return self.filter(taxonomy__code=code, is_active=True)


class TaxonomyTerm(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    taxonomy = models.ForeignKey(Taxonomy, on_delete=models.PROTECT, related_name="terms", verbose_name=_("taxonomy"))
    code = models.SlugField(_("code"), max_length=100)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    objects = TaxonomyTermQuerySet.as_manager()

    class Meta:
        ordering = ["taxonomy__code", "order", "name"]
        constraints = [models.UniqueConstraint(fields=["taxonomy", "code"], name="unique_term_code_per_taxonomy")]
        verbose_name = _("taxonomy term")
        verbose_name_plural = _("taxonomy terms")

    def __str__(self) -> str:
        return self.name


def terms_of(code: str) -> dict:
    """`limit_choices_to` for a relation to the terms of one taxonomy."""
    return {"taxonomy__code": code}
