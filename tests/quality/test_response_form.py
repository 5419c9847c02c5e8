"""The answer-and-evidence form of a self-assessment: every problem with the answer, its links and its files
reported at once, nothing saved, and long evidence refused (never cut off) with its limit."""

from html import unescape

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from quality import services
from quality.models import EvidenceFile
from tests.factories import pdf_upload


def test_every_problem_with_an_answer_and_its_evidence_is_shown_at_once(people, client_as):
    assessment = services.start_assessment(organisation=people.provider, by=people.officer)
    response = assessment.responses.get(criterion__code="GOV-B1")
    url = reverse("quality:response_edit", kwargs={"pk": assessment.pk, "response_pk": response.pk})
    data = {
        "rating": "brilliant",
        "evidence_text": "e" * 10001,
        "evidence_links": "https://example.org/ok\njavascript:alert(1)\nnot a link",
        "files": [
            pdf_upload("minutes.pdf"),
            SimpleUploadedFile("accounts.pdf", b"MZ\x90\x00 a program"),
            SimpleUploadedFile("empty.docx", b""),
        ],
    }
    page = unescape(client_as(people.officer).post(url, data).content.decode())
    assert "There is a problem" in page
    for message in (
        "Select a valid choice",
        "Evidence must be 10,000 characters or fewer",
        "Line 2 (“javascript:alert(1)”) is not a web address",
        "Line 3 (“not a link”) is not a web address",
        "accounts.pdf:",
        "empty.docx: The file is empty.",
    ):
        assert message in page, message
    assert "minutes.pdf:" not in page  # the good file is not blamed
    response.refresh_from_db()
    assert response.rating == "" and response.evidence_links == "" and not EvidenceFile.objects.exists()
