import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core import uploads


def png_bytes(size=(10, 10)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, "PNG")
    return buffer.getvalue()


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.mark.parametrize(
    "data, kind", [(PDF, uploads.PDF), (png_bytes(), uploads.PNG), (docx_bytes(), uploads.DOCX)]
)
def test_detect_file_type_reads_the_bytes(data, kind):
    assert uploads.detect_file_type(data) == kind


def test_a_script_named_pdf_is_refused():
    upload = SimpleUploadedFile("flyer.pdf", b"<script>alert(1)</script>", content_type="application/pdf")
    with pytest.raises(ValidationError, match="not a type we accept"):
        uploads.check_upload(upload, allowed={uploads.PDF}, max_bytes=1024)


def test_a_real_type_not_allowed_here_is_named():
    upload = SimpleUploadedFile("flyer.pdf", docx_bytes())
    with pytest.raises(ValidationError, match=r"Word document \(.docx\), which is not accepted here. Accepted: PDF"):
        uploads.check_upload(upload, allowed={uploads.PDF}, max_bytes=100_000)


def test_size_limit_and_empty_file():
    with pytest.raises(ValidationError, match="too big"):
        uploads.check_upload(SimpleUploadedFile("a.pdf", PDF * 100), allowed={uploads.PDF}, max_bytes=100)
    with pytest.raises(ValidationError, match="empty"):
        uploads.check_upload(SimpleUploadedFile("a.pdf", b""), allowed={uploads.PDF}, max_bytes=100)


def test_truncated_pdf_and_broken_image_are_refused():
    assert uploads.detect_file_type(b"%PDF-1.4\n1 0 obj") is None
    assert uploads.detect_file_type(png_bytes()[:30]) is None


def test_accepted_upload_is_rewound_for_saving():
    upload = SimpleUploadedFile("a.png", png_bytes())
    assert uploads.check_upload(upload, allowed=uploads.IMAGES, max_bytes=100_000) == uploads.PNG
    assert upload.read(8) == b"\x89PNG\r\n\x1a\n"
