"""Self-assessment and peer review: the workflow and every refusal on the way."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.permissions import can
from notifications.models import Reminder
from organisations.models import Affiliation
from quality import selectors, services
from quality.models import Badge, CriterionResponse, EvidenceFile, Level, SelfAssessment
from tests.factories import make_affiliation, pdf_upload


def answer_everything(assessment, user, *, rating="met", except_codes=()):
    for response in assessment.responses.select_related("criterion"):
        if response.criterion.code in except_codes:
            continue
        services.save_response(response=response, by=user, rating=rating, evidence_text=f"Evidence for {response.criterion.code}.")


def submitted(people):
    assessment = services.start_assessment(organisation=people.provider, by=people.officer)
    answer_everything(assessment, people.officer)
    return services.submit_assessment(assessment=assessment, by=people.officer)


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def test_start_creates_a_response_per_criterion_of_the_current_version(people):
    assessment = services.start_assessment(organisation=people.provider, by=people.officer)
    assert assessment.responses.count() == 32
    assert assessment.status == SelfAssessment.Status.DRAFT
    with pytest.raises(ValidationError, match="already has an assessment in progress"):
        services.start_assessment(organisation=people.provider, by=people.officer)
    with pytest.raises(ValidationError, match="Only infrastructure providers"):
        services.start_assessment(organisation=people.vco, by=people.editor)


def test_only_the_providers_officers_may_assess(people):
    assert can(people.officer, "quality.assess", people.provider)
    assert not can(people.reviewer, "quality.assess", people.provider)
    assert not can(people.editor, "quality.assess", people.vco)  # a VCO is not a provider
    assert not can(people.stranger, "quality.assess", people.provider)


def test_incomplete_submission_is_refused_with_the_list_of_what_is_missing(people):
    assessment = services.start_assessment(organisation=people.provider, by=people.officer)
    answer_everything(assessment, people.officer, except_codes=("GOV-B1",))
    response = assessment.responses.get(criterion__code="LEA-B2")
    services.save_response(response=response, by=people.officer, rating="partly", evidence_text="")
    with pytest.raises(ValidationError) as refusal:
        services.submit_assessment(assessment=assessment, by=people.officer)
    text = " ".join(refusal.value.messages)
    assert "GOV-B1" in text and "no rating yet" in text
    assert "LEA-B2" in text and "no evidence" in text
    assert "SQ-B1" not in text
    assessment.refresh_from_db()
    assert assessment.status == SelfAssessment.Status.DRAFT and assessment.submitted_at is None


def test_higher_levels_may_be_left_unanswered_but_not_met_needs_no_evidence(people):
    assessment = services.start_assessment(organisation=people.provider, by=people.officer)
    for response in assessment.responses.select_related("criterion"):
        if response.criterion.level == Level.BASELINE:
            services.save_response(response=response, by=people.officer, rating="not_met")
    assert selectors.missing_items(assessment) == []
    services.submit_assessment(assessment=assessment, by=people.officer)


def test_submitting_twice_and_editing_after_submission_are_refused(people):
    assessment = submitted(people)
    assert assessment.status == SelfAssessment.Status.SUBMITTED
    with pytest.raises(ValidationError, match="already submitted"):
        services.submit_assessment(assessment=assessment, by=people.officer)
    response = assessment.responses.first()
    with pytest.raises(ValidationError, match="can no longer be changed"):
        services.save_response(response=response, by=people.officer, rating="not_met", evidence_text="changed")
    response.refresh_from_db()
    assert response.rating == "met" and response.evidence_text.startswith("Evidence for")
    # Network admins hear about it, through a Reminder row that cannot be lost.
    assert "netadmin@example.org" in Reminder.objects.get(kind="quality-submitted").recipients


def test_evidence_links_and_files_are_checked_and_nothing_is_saved_when_one_is_refused(people):
    assessment = services.start_assessment(organisation=people.provider, by=people.officer)
    response = assessment.responses.get(criterion__code="GOV-B1")
    with pytest.raises(ValidationError) as refusal:
        services.save_response(response=response, by=people.officer, rating="met", evidence_links="javascript:alert(1)")
    assert "evidence_links" in refusal.value.error_dict
    fake = SimpleUploadedFile("minutes.pdf", b"MZ\x90\x00 this is really a program", content_type="application/pdf")
    with pytest.raises(ValidationError) as refusal:
        services.save_response(response=response, by=people.officer, rating="met", evidence_text="Minutes", uploads=[pdf_upload(), fake])
    assert "minutes.pdf" in refusal.value.messages[0]
    response.refresh_from_db()
    assert response.rating == "" and EvidenceFile.objects.count() == 0

    docx = SimpleUploadedFile("constitution.docx", docx_bytes())
    services.save_response(
        response=response, by=people.officer, rating="met", evidence_links="https://example.org/minutes\n\nhttps://example.org/constitution",
        uploads=[pdf_upload("minutes.pdf"), docx],
    )
    response.refresh_from_db()
    assert response.links == ["https://example.org/minutes", "https://example.org/constitution"]
    assert sorted(response.files.values_list("file_type", flat=True)) == ["docx", "pdf"]


def test_nobody_reviews_their_own_organisation_not_even_a_network_admin(people):
    assessment = submitted(people)
    assert not can(people.officer, "quality.review", assessment)
    with pytest.raises(ValidationError, match="you are linked to it"):
        services.start_review(assessment=assessment, reviewer=people.officer)
    make_affiliation(user=people.admin, organisation=people.provider, role=Affiliation.Role.MEMBER)
    with pytest.raises(ValidationError, match="you are linked to it"):
        services.start_review(assessment=assessment, reviewer=people.admin)
    assert assessment not in selectors.review_queue(people.admin)
    assert assessment not in selectors.review_queue(people.officer)
    assert assessment in selectors.review_queue(people.reviewer)


def test_review_returns_criteria_then_verifies_the_resubmission_and_issues_the_badge(people, django_capture_on_commit_callbacks):
    assessment = submitted(people)
    assert can(people.reviewer, "quality.review", assessment)
    services.start_review(assessment=assessment, reviewer=people.reviewer)
    responses = {r.criterion.code: r for r in assessment.responses.select_related("criterion")}
    with pytest.raises(ValidationError, match="already reviewing"):
        services.start_review(assessment=assessment, reviewer=people.admin)

    # Returning needs a comment; the review cannot finish until every criterion has a decision.
    with pytest.raises(ValidationError, match="say what the provider should change"):
        services.save_review_decisions(assessment=assessment, reviewer=people.reviewer, decisions={responses["GOV-B1"].pk: ("returned", " ")})
    services.save_review_decisions(
        assessment=assessment, reviewer=people.reviewer, decisions={responses["GOV-B1"].pk: ("returned", "Minutes are missing.")}
    )
    with pytest.raises(ValidationError, match="Still to do"):
        services.finish_review(assessment=assessment, reviewer=people.reviewer)
    services.save_review_decisions(
        assessment=assessment,
        reviewer=people.reviewer,
        decisions={r.pk: ("verified", "") for code, r in responses.items() if code != "GOV-B1"},
    )
    services.finish_review(assessment=assessment, reviewer=people.reviewer, summary="Nearly there.")
    assessment.refresh_from_db()
    assert assessment.status == SelfAssessment.Status.RETURNED
    assert not Badge.objects.exists()

    # Only the returned criterion can be changed now.
    with pytest.raises(ValidationError, match="only the criteria returned"):
        services.save_response(response=responses["SQ-B1"], by=people.officer, rating="met", evidence_text="x")
    services.save_response(response=responses["GOV-B1"], by=people.officer, rating="met", evidence_text="Minutes attached.", uploads=[pdf_upload()])
    services.submit_assessment(assessment=assessment, by=people.officer)
    assessment.refresh_from_db()
    assert assessment.status == SelfAssessment.Status.IN_REVIEW  # back to the same reviewer
    assert CriterionResponse.objects.get(pk=responses["GOV-B1"].pk).review_status == "pending"
    assert CriterionResponse.objects.get(pk=responses["SQ-B1"].pk).review_status == "verified"

    services.save_review_decisions(assessment=assessment, reviewer=people.reviewer, decisions={responses["GOV-B1"].pk: ("verified", "")})
    services.finish_review(assessment=assessment, reviewer=people.reviewer)
    assessment.refresh_from_db()
    assert assessment.status == SelfAssessment.Status.VERIFIED
    badge = Badge.objects.get()
    assert badge.organisation == people.provider and badge.version == assessment.version
    assert (badge.expires_on - badge.verified_on).days in (730, 731)
    # Everything met and verified: level 3 in every area.
    assert set(badge.areas.values_list("level", flat=True)) == {Level.LEVEL_3}
    assert Reminder.objects.filter(kind="quality-reviewed").count() == 2
    # The emails (submitted twice, returned, verified) render in text and HTML and go out once each.
    from django.core import mail

    from notifications.services import send_due_reminders

    assert send_due_reminders() == 4
    subjects = [message.subject for message in mail.outbox]
    assert "Tower Hamlets CVS's quality assessment needs changes" in subjects
    assert "Tower Hamlets CVS's quality assessment is verified" in subjects
    returned = next(m for m in mail.outbox if m.subject.endswith("needs changes"))
    assert "GOV-B1: Minutes are missing." in returned.body and "GOV-B1: Minutes are missing." in returned.alternatives[0][0]
    assert send_due_reminders() == 0


def test_verified_level_is_the_highest_level_met_with_all_below_it(people):
    assessment = services.start_assessment(organisation=people.provider, by=people.officer)
    ratings = {"GOV-B1": "met", "GOV-B2": "met", "GOV-L2": "met", "GOV-L3": "partly", "LEA-B1": "met", "LEA-B2": "partly", "LEA-L2": "met"}
    responses = list(assessment.responses.select_related("criterion"))
    for response in responses:
        response.rating = ratings.get(response.criterion.code, "met" if response.criterion.level == Level.BASELINE else "")
    levels = services.verified_levels(responses, assessment.version.areas.all())
    by_code = {area.code: levels[area.pk] for area in assessment.version.areas.all()}
    assert by_code["governance"] == Level.LEVEL_2
    assert by_code["leadership"] == Level.NOT_MET  # a baseline criterion only partly met
    assert by_code["service-quality"] == Level.BASELINE


def test_assessment_pages_for_the_officer(people, client_as, django_assert_max_num_queries):
    client = client_as(people.officer)
    assert client.get("/quality/assessments/").status_code == 200
    response = client.post("/quality/assessments/start/", {"organisation": people.provider.pk})
    assessment = SelfAssessment.objects.get()
    assert response.url == assessment.get_absolute_url()
    with django_assert_max_num_queries(12):
        page = client.get(assessment.get_absolute_url()).content.decode()
    assert "0 of 32 criteria answered" in page
    criterion = assessment.responses.get(criterion__code="GOV-B1")
    url = f"/quality/assessments/{assessment.pk}/criteria/{criterion.pk}/"
    assert client.get(url).status_code == 200

    # A disguised file is refused with a message naming it; nothing is saved.
    fake = SimpleUploadedFile("board.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    response = client.post(url, {"rating": "met", "evidence_text": "Board minutes", "files": [fake]})
    assert response.status_code == 200
    assert "board.pdf" in response.content.decode() and "not a type we accept" in response.content.decode()
    criterion.refresh_from_db()
    assert criterion.rating == ""

    response = client.post(url, {"rating": "met", "evidence_text": "Board minutes", "files": [pdf_upload("board.pdf")]})
    assert response.status_code == 302
    evidence = EvidenceFile.objects.get()
    download = client.get(f"/quality/assessments/{assessment.pk}/files/{evidence.pk}/")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    assert "attachment" in download["Content-Disposition"]

    # Out-of-range rating from a hand-made POST: refused, named.
    response = client.post(url, {"rating": "excellent", "evidence_text": "x"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()

    # Submitting while incomplete: refused with the list, shown as messages.
    response = client.post(f"/quality/assessments/{assessment.pk}/submit/", follow=True)
    html = response.content.decode()
    assert "Not complete yet: 15 things are missing. They are listed under" in html and "GOV-B2" in html


def test_other_people_cannot_see_an_assessment_or_its_files(people, client_as):
    assessment = services.start_assessment(organisation=people.provider, by=people.officer)
    response = assessment.responses.get(criterion__code="GOV-B1")
    services.save_response(response=response, by=people.officer, rating="met", uploads=[pdf_upload()])
    evidence = EvidenceFile.objects.get()
    for user in (people.stranger, people.reviewer, people.editor):
        client = client_as(user)
        assert client.get(assessment.get_absolute_url()).status_code == 404
        assert client.get(f"/quality/assessments/{assessment.pk}/files/{evidence.pk}/").status_code == 404
    # The file is not under MEDIA_ROOT, so no public /media/ address reaches it.
    assert "quality-files" in evidence.file.path


def test_review_pages(people, client_as):
    assessment = submitted(people)
    client = client_as(people.reviewer)
    assert people.provider.name in client.get("/quality/reviews/").content.decode()
    assert client.post(f"/quality/reviews/{assessment.pk}/start/").status_code == 302
    page = client.get(f"/quality/reviews/{assessment.pk}/")
    assert page.status_code == 200
    gov = assessment.responses.get(criterion__code="GOV-B1")
    # "Verify every criterion not yet decided", with one returned: a comment is needed for it.
    refused = client.post(f"/quality/reviews/{assessment.pk}/", {f"decision_{gov.pk}": "returned", "verify_rest": "1"})
    assert refused.status_code == 200 and "GOV-B1: say what the provider should change" in refused.content.decode()
    assert not assessment.responses.exclude(review_status="pending").exists()  # nothing half-saved
    client.post(f"/quality/reviews/{assessment.pk}/", {f"decision_{gov.pk}": "returned", f"comment_{gov.pk}": "No minutes.", "verify_rest": "1"})
    assert assessment.responses.filter(review_status="verified").count() == 31
    response = client.post(f"/quality/reviews/{assessment.pk}/", {f"decision_{gov.pk}": "verified", "finish": "1"})
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == SelfAssessment.Status.VERIFIED
    # The officer of the assessed provider cannot open the review at all.
    assert client_as(people.officer).get(f"/quality/reviews/{assessment.pk}/").status_code == 403


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reviewers_taking_the_same_assessment_at_once_one_wins(seeded_quality):
    """Two reviewers press "Review it" at the same moment: the row lock lets exactly one take it."""
    import threading

    from django.db import connection

    from accounts.models import User
    from tests.factories import make_provider, make_user

    provider = make_provider()
    officer = make_user(User.Role.OFFICER)
    make_affiliation(user=officer, organisation=provider, role=Affiliation.Role.OFFICER)
    reviewers = []
    for _ in range(2):
        reviewer = make_user(User.Role.OFFICER)
        make_affiliation(user=reviewer, organisation=make_provider(), role=Affiliation.Role.OFFICER)
        reviewers.append(reviewer)
    assessment = services.start_assessment(organisation=provider, by=officer)
    answer_everything(assessment, officer)
    services.submit_assessment(assessment=assessment, by=officer)

    barrier = threading.Barrier(2)
    outcomes = []

    def take(reviewer):
        try:
            barrier.wait()
            services.start_review(assessment=assessment, reviewer=reviewer)
            outcomes.append(("ok", reviewer.pk))
        except ValidationError as error:
            outcomes.append(("refused", " ".join(error.messages)))
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(reviewer,)) for reviewer in reviewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"]
    winner = next(value for kind, value in outcomes if kind == "ok")
    assessment.refresh_from_db()
    assert assessment.reviewer_id == winner and assessment.status == SelfAssessment.Status.IN_REVIEW
    assert "already reviewing" in next(value for kind, value in outcomes if kind == "refused")
