"""A notice's attachment does not outlive it: replaced, or deleted with its notice or organisation, the
old file is deleted from private storage once the change commits; a change that is refused or rolled
back deletes nothing (django_cleanup, last in INSTALLED_APPS)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from calendar_events import services
from calendar_events.models import Notice
from core.files import private_file_storage
from tests.factories import make_provider

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _notice(provider, attachment):
    data = {"title": "Flyer", "text": "Come along.", "category": "flyer", "expires_on": timezone.localdate() + timedelta(days=9)}
    return services.save_notice(notice=Notice(organisation=provider), data=data, attachment=attachment)


def _stored(name: str) -> bool:
    return private_file_storage().exists(name)


def test_a_replaced_attachment_is_deleted_after_the_commit(django_capture_on_commit_callbacks):
    provider = make_provider()
    with django_capture_on_commit_callbacks(execute=True):
        notice = _notice(provider, SimpleUploadedFile("a.pdf", PDF))
    first = notice.attachment.name
    assert _stored(first)
    with django_capture_on_commit_callbacks(execute=True):
        notice = services.save_notice(notice=notice, data={}, attachment=SimpleUploadedFile("b.pdf", PDF))
    assert notice.attachment.name != first and _stored(notice.attachment.name)
    assert not _stored(first)


def test_a_refused_or_rolled_back_replacement_keeps_the_file(django_capture_on_commit_callbacks):
    provider = make_provider()
    with django_capture_on_commit_callbacks(execute=True):
        notice = _notice(provider, SimpleUploadedFile("a.pdf", PDF))
    kept = notice.attachment.name
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        services.save_notice(notice=notice, data={}, attachment=SimpleUploadedFile("evil.pdf", b"MZ\x90\x00 not a pdf"))
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            services.save_notice(notice=notice, data={}, attachment=SimpleUploadedFile("b.pdf", PDF))
            raise RuntimeError("the request failed after the save")
    notice = Notice.objects.get(pk=notice.pk)
    assert notice.attachment.name == kept and _stored(kept)


def test_deleting_a_notice_or_its_organisation_deletes_the_file(django_capture_on_commit_callbacks):
    provider = make_provider()
    with django_capture_on_commit_callbacks(execute=True):
        one = _notice(provider, SimpleUploadedFile("a.pdf", PDF))
        two = _notice(provider, SimpleUploadedFile("b.pdf", PDF))
    with django_capture_on_commit_callbacks(execute=True):
        one.delete()
    assert not _stored(one.attachment.name) and _stored(two.attachment.name)
    with django_capture_on_commit_callbacks(execute=True):
        provider.delete()  # the notices go with it (CASCADE), and so do their files
    assert not Notice.objects.filter(pk=two.pk).exists() and not _stored(two.attachment.name)
