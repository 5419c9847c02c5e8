"""core.files: the private files folder, random names, and how views send a private file."""

import re

import pytest
from django.core.files.base import ContentFile
from django.http import Http404

from core.files import check_private_files_outside_media, private_file_response, private_file_storage, random_name


def test_random_names_keep_only_a_clean_extension():
    names = {random_name("notices", "Our Fun Day.PDF") for _ in range(50)}
    assert len(names) == 50 and all(re.fullmatch(r"notices/[0-9a-f]{32}\.pdf", name) for name in names)
    assert re.fullmatch(r"notices/[0-9a-f]{32}", random_name("notices", "flyer.p<d>f"))
    assert re.fullmatch(r"notices/[0-9a-f]{32}", random_name("notices", "no-extension"))


def test_a_private_file_is_sent_with_its_type_and_never_sniffed(settings):
    name = private_file_storage().save(random_name("notices", "x.png"), ContentFile(b"not really an image"))
    response = private_file_response(private_file_storage().path(name), filename="flyer.png", file_type="pdf")
    assert response["Content-Type"] == "application/pdf"  # the type found at upload, not the name's
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'attachment; filename="flyer.png"'
    assert "private" in response["Cache-Control"]
    response.file_to_stream.close()
    with pytest.raises(ValueError):
        private_file_storage().url(name)
    with pytest.raises(Http404):
        private_file_response(private_file_storage().path("notices/gone.pdf"), filename="gone.pdf")


def test_the_private_folder_may_not_be_inside_the_public_media_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_FILES_ROOT = tmp_path / "private"
    assert check_private_files_outside_media(None) == []
    settings.PRIVATE_FILES_ROOT = tmp_path / "media" / "private"
    assert [error.id for error in check_private_files_outside_media(None)] == ["directory.E001"]
    settings.PRIVATE_FILES_ROOT = settings.MEDIA_ROOT
    assert [error.id for error in check_private_files_outside_media(None)] == ["directory.E001"]
