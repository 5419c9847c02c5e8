"""The quality pages in a real browser: a VCO editor takes the health check and reads the result page
(chart and table, suggestions, the pre-filled referral link); an officer reads the providers' matrix.
Screenshots land in test-artifacts/screenshots/."""

from datetime import timedelta

import pytest

from accounts.models import User
from organisations.models import Affiliation, Organisation
from quality import selectors, services
from quality.models import HealthCheck
from tests.factories import (
    make_affiliation,
    make_material,
    make_organisation,
    make_provider,
    make_user,
    make_verified_badge,
    term,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
UNLABELLED_CONTROLS = """() => [...document.querySelectorAll('input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset]), select, textarea')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
  .map(el => el.name || el.id)"""


@pytest.fixture
def borough(transactional_db, settings, tmp_path):
    settings.PRIVATE_FILES_ROOT = tmp_path / "quality-files"
    vco = make_organisation(
        name="Bow Bangladeshi Women's Group", slug="bow-women", development_stage=Organisation.Stage.EMERGING
    )
    editor = make_user(username="vco.editor", email="vco.editor@example.org", password=PASSWORD)
    make_affiliation(user=editor, organisation=vco, role=Affiliation.Role.EDITOR)
    officer = make_user(User.Role.OFFICER, username="officer", email="officer@example.org", password=PASSWORD)
    thcvs = make_provider(name="Tower Hamlets Voluntary Action", slug="thva")
    make_affiliation(user=officer, organisation=thcvs, role=Affiliation.Role.OFFICER)
    make_verified_badge(organisation=thcvs, levels={"governance": 3, "leadership": 2, "impact-assessment": 2})
    make_verified_badge(
        organisation=make_provider(name="Bangla Business Support"),
        levels={"representation": 0, "partnership-working": 2},
    )
    make_verified_badge(organisation=make_provider(name="Island Volunteer Centre"), levels={"workforce-development": 3})
    make_provider(name="Poplar Premises Trust")
    make_provider(name="Young People's Forum")
    finance = term("needs", "community-accountancy-and-finance")
    make_material(title="Bookkeeping for small groups", kind="fact_sheet", needs=[finance])
    make_material(title="Cash book template (Excel)", kind="qa_template", needs=[finance])
    make_material(
        title="Funding finder: London",
        kind="link",
        external_url="https://example.org/funding",
        needs=[term("needs", "funding-and-fundraising")],
        geographic_level="regional",
    )
    # A health check half a year ago, so the result page shows progress.
    answers = {q.pk: (0 if q.area.code in ("finance", "funding") else 1) for q in selectors.health_check_questions(1)}
    earlier = services.record_health_check(organisation=vco, stage=1, answers=answers, by=editor)
    HealthCheck.objects.filter(pk=earlier.pk).update(completed_at=earlier.completed_at - timedelta(days=180))
    return vco


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_health_check_and_its_result_page(page, live_server, screenshot, borough):
    log_in(page, live_server, "vco.editor")
    page.goto(f"{live_server.url}/health-check/{borough.slug}/take/")
    assert "Health check of" in page.title()
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    # Submitting with nothing answered: an error summary, nothing saved.
    page.get_by_role("button", name="See the results").click()
    assert page.get_by_text("There is a problem").is_visible()
    assert HealthCheck.objects.count() == 1

    for area in page.locator("fieldset.health-area").all():
        legend = area.locator("> legend").inner_text()
        choice = "Not in place" if legend in ("Finance", "Premises") else "Mostly in place"
        for question in area.locator("fieldset").all():
            question.get_by_label(choice, exact=True).check()
    page.get_by_role("button", name="See the results").click()
    page.wait_for_url("**/health-check/results/**")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Health check results of")
    assert page.locator("svg[role=img]").count() == 1
    assert page.get_by_role("table").filter(has_text="The same figures as a table").count() == 1
    assert page.get_by_role("link", name="Bookkeeping for small groups").is_visible()
    link = page.get_by_role("link", name="Ask for support with these needs").get_attribute("href")
    assert link.startswith("/referrals/ask/?needs=")
    screenshot("quality-health-check-result")

    page.goto(f"{live_server.url}/health-check/{borough.slug}/")
    assert page.get_by_role("table").count() == 1
    screenshot("quality-health-check-progress", full_page=False)


def test_providers_matrix(page, live_server, screenshot, borough):
    page.set_viewport_size({"width": 1600, "height": 900})
    log_in(page, live_server, "officer")
    page.goto(f"{live_server.url}/quality/matrix/")
    assert "providers by area" in page.title().lower()
    assert page.get_by_role("heading", name="The borough's gaps").is_visible()
    assert page.get_by_role("row").filter(has_text="Tower Hamlets Voluntary Action").get_by_text("Level 3").count() == 1
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    screenshot("quality-matrix")

    page.goto(f"{live_server.url}/materials/?q=book")
    assert page.get_by_role("link", name="Bookkeeping for small groups").is_visible()
    screenshot("quality-materials-search", full_page=False)


def test_self_assessment_pages(page, live_server, screenshot, borough, tmp_path):
    log_in(page, live_server, "officer")
    page.goto(f"{live_server.url}/quality/assessments/")
    page.get_by_role("button", name="Start").click()
    assert "Self-assessment of" in page.title()
    assert page.get_by_text("0 of 32 criteria answered").is_visible()
    page.get_by_role("link", name="Answer GOV-B1").click()
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    page.get_by_label("Met", exact=True).check()
    page.get_by_label("Evidence", exact=True).fill("Constitution adopted 2019; minutes of four board meetings.")
    fake = tmp_path / "minutes.pdf"
    fake.write_bytes(b"<html>not really a PDF</html>")
    page.get_by_label("Add files").set_input_files(str(fake))
    page.get_by_role("button", name="Save answer").click()
    assert page.get_by_text("There is a problem").is_visible()
    assert page.get_by_text("not a type we accept").first.is_visible()
    screenshot("quality-evidence-refused", full_page=False)
    page.get_by_label("Add files").set_input_files([])
    page.get_by_role("button", name="Save answer").click()
    assert page.get_by_text("1 of 32 criteria answered").is_visible()
    page.get_by_role("button", name="Submit for verification").first.click()
    assert page.get_by_text("Not complete yet").is_visible()
    screenshot("quality-assessment")
