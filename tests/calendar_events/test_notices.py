"""Notice board services: posting, attachments checked by content, expiry, moderation, reports, the digest."""

import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from calendar_events import selectors, services
from calendar_events.models import DigestSubscription, Notice, NoticeReport
from notifications.models import Reminder
from tests.factories import make_event, make_network_admin, make_organisation, make_provider, make_user

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def _post(organisation=None, **data):
    values = {
        "title": "Volunteers wanted",
        "text": "Help at our *fun day*.",
        "category": "volunteering",
        "expires_on": timezone.localdate() + timedelta(days=14),
        **data,
    }
    attachment = values.pop("attachment", None)
    return services.save_notice(
        notice=Notice(organisation=organisation or make_provider()), data=values, attachment=attachment
    )


def test_provider_notice_published_vco_notice_moderated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    published = _post(attachment=SimpleUploadedFile("flyer.pdf", PDF, content_type="application/pdf"))
    assert published.status == Notice.Status.PUBLISHED and published.attachment_kind == "pdf"
    assert published.attachment.name.endswith(".pdf")
    pending = _post(organisation=make_organisation(), attachment=SimpleUploadedFile("f.png", _png()))
    assert pending.status == Notice.Status.PENDING and pending.attachment_kind == "png"
    assert list(selectors.visible_notices()) == [published]
    services.moderate_notice(notice=pending, publish=True, by=make_network_admin())
    assert set(selectors.visible_notices()) == {published, pending}


@pytest.mark.parametrize(
    "upload, message",
    [
        (SimpleUploadedFile("flyer.pdf", b"MZ\x90\x00 not a pdf at all"), "not a type we accept"),
        (SimpleUploadedFile("doc.pdf", b"PK\x03\x04" + b"\x00" * 40), "not a type we accept"),
        (SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"0" * 6 * 1024 * 1024 + b"\n%%EOF"), "too big"),
        (SimpleUploadedFile("empty.pdf", b""), "empty"),
    ],
)
def test_bad_attachment_refused_and_nothing_saved(upload, message, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ValidationError) as error:
        _post(attachment=upload)
    assert message in " ".join(error.value.message_dict["attachment"])
    assert Notice.objects.count() == 0


def test_script_and_past_expiry_refused():
    with pytest.raises(ValidationError) as error:
        _post(text="<script>alert('x')</script>")
    assert "text" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        _post(expires_on=timezone.localdate() - timedelta(days=1))
    assert "expires_on" in error.value.message_dict
    assert Notice.objects.count() == 0


def test_expired_notices_disappear_then_are_archived():
    notice = _post(expires_on=timezone.localdate() + timedelta(days=1))
    assert list(selectors.visible_notices()) == [notice]
    later = timezone.localdate() + timedelta(days=2)
    assert not Notice.objects.visible(later).exists()
    assert services.archive_expired_notices(today=later) == 1
    assert Notice.objects.get(pk=notice.pk).status == Notice.Status.ARCHIVED
    assert services.archive_expired_notices(today=later) == 0


def test_report_notice_tells_admins_once_a_day_and_hiding_closes_reports():
    admin = make_network_admin()
    notice = _post()
    services.report_notice(notice=notice, reason="spam", details="Selling things")
    services.report_notice(notice=notice, reason="scam", by=make_user())
    assert NoticeReport.objects.filter(notice=notice).count() == 2
    reminder = Reminder.objects.get(kind="calendar-notice-report")
    assert reminder.recipients == [admin.email]
    with pytest.raises(ValidationError):
        services.report_notice(notice=notice, reason="because")
    services.moderate_notice(notice=notice, publish=False, by=admin)
    assert not NoticeReport.objects.filter(notice=notice, is_resolved=False).exists()
    assert not selectors.visible_notices().exists()


def test_weekly_digest_planned_once_per_week_for_subscribers(settings, mailoutbox):
    from notifications.services import send_due_reminders

    today = timezone.localdate()
    settings.PORTAL_DIGEST_WEEKDAY = today.weekday()
    subscriber, lapsed = make_user(), make_user()
    services.set_digest_subscription(user=subscriber, subscribed=True)
    services.set_digest_subscription(user=lapsed, subscribed=False)
    _post(title="Fun day helpers")
    make_event(title="Funding fair")
    assert services.plan_weekly_digest(today=today) == 1
    assert services.plan_weekly_digest(today=today) == 0
    assert send_due_reminders() == 1
    body = mailoutbox[-1].body
    assert "Fun day helpers" in body and "Funding fair" in body and mailoutbox[-1].to == [subscriber.email]
    assert services.plan_weekly_digest(today=today + timedelta(days=1)) == 0  # not the digest day
    assert DigestSubscription.objects.get(user=lapsed).is_active is False
