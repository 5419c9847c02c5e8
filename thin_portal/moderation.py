"""What waits for a network admin, shown at the top of the Django admin's index (issue 16, item 8):
each queue with its count and a link to the admin list filtered to it."""

from dataclasses import dataclass
from functools import wraps

from django.urls import reverse
from django.utils.translation import ngettext

from calendar_events.models import Event, Notice, NoticeReport
from organisations.models import Membership
from quality.models import SelfAssessment


@dataclass(frozen=True)
class Queue:
    label: str
    count: int
    url: str


def moderation_queues() -> list[Queue]:
    """Every queue, in the order a network admin works them; empty ones included (a 0 is news too)."""
    queues = [
        (
            ("membership application waiting for approval", "membership applications waiting for approval"),
            Membership.objects.filter(status=Membership.Status.APPLIED),
            "admin:organisations_membership_changelist",
            "status__exact=applied",
        ),
        (
            ("event waiting for moderation", "events waiting for moderation"),
            Event.objects.filter(moderation=Event.Moderation.PENDING),
            "admin:calendar_events_event_changelist",
            "moderation__exact=pending",
        ),
        (
            ("notice waiting for moderation", "notices waiting for moderation"),
            Notice.objects.filter(status=Notice.Status.PENDING),
            "admin:calendar_events_notice_changelist",
            "status__exact=pending",
        ),
        (
            ("report about a notice not yet dealt with", "reports about notices not yet dealt with"),
            NoticeReport.objects.filter(is_resolved=False),
            "admin:calendar_events_noticereport_changelist",
            "is_resolved__exact=0",
        ),
        (
            ("quality self-assessment submitted for verification", "quality self-assessments submitted for verification"),
            SelfAssessment.objects.filter(status=SelfAssessment.Status.SUBMITTED),
            "admin:quality_selfassessment_changelist",
            "status__exact=submitted",
        ),
    ]
    waiting = []
    for (singular, plural), queryset, name, query in queues:
        count = queryset.count()
        waiting.append(Queue(ngettext(singular, plural, count), count, f"{reverse(name)}?{query}"))
    return waiting


def with_moderation_queues(index):
    """Wrap the admin site's index view so its template gets the queues (network admins only)."""

    @wraps(index)
    def view(request, extra_context=None):
        extra = dict(extra_context or {})
        if request.user.is_network_admin:
            extra["moderation_queues"] = moderation_queues()
        return index(request, extra)

    return view
