"""The site's statements: one page per kind, seeded with a first text (defaults.py) that network admins
adapt in the admin."""

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class SitePage(models.Model):
    class Kind(models.TextChoices):
        ACCESSIBILITY = "accessibility", _("Accessibility statement")
        PRIVACY = "privacy", _("Privacy notice")
        COOKIES = "cookies", _("Cookies")
        CONTACT = "contact", _("Contact us")

    kind = models.CharField(_("page"), max_length=20, choices=Kind.choices, unique=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(
        _("text"),
        max_length=30_000,
        help_text=_(
            "Markdown: a blank line between paragraphs, ## for a heading, - for a list item, [words](https://…) "
            "for a link. {referral_retention_days} is replaced by the number of days referrals are kept."
        ),
    )
    updated_at = models.DateTimeField(_("last updated"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["kind"]
        verbose_name = _("statement page")
        verbose_name_plural = _("statement pages")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse(f"site_pages:{self.kind}")
