"""A log per run of something read from outside on a timer (a partner's calendar feed, another
directory's Open Referral API): when it ran, what it added, changed, withdrew or left alone, what it
skipped and why, or why it failed (and then changed nothing). Each app's log adds what it logs for
(its feed or source) and whatever else its runs have; core.admin.RunLogInline shows them."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RunLog(models.Model):
    """One run: its times, outcome, counts and the warnings about what it skipped."""

    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    succeeded = models.BooleanField(_("succeeded"), default=False)
    created = models.PositiveIntegerField(_("added"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    withdrawn = models.PositiveIntegerField(_("withdrawn"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    error = models.TextField(_("error"), blank=True)
    warnings = models.JSONField(_("what was skipped, and why"), default=list, blank=True)

    class Meta:
        abstract = True
        ordering = ["-started_at", "-pk"]
