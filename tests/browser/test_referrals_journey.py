"""The whole referral journey in Chromium: a VCO asks for support and sees the suggestions before
sending; an officer accepts and closes it; the VCO gives feedback. Screenshots in
test-artifacts/screenshots/referrals-*.png."""

import pytest

from organisations.models import Affiliation, Organisation
from referrals.models import Referral
from tests.factories import make_affiliation, make_organisation, make_user, term
from tests.referrals.factories import make_officer, make_provider, make_rule, make_service

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"

UNLABELLED_CONTROLS = """() => [...document.querySelectorAll('input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset]), select, textarea')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
  .map(el => el.name || el.id)"""


@pytest.fixture
def borough(db):
    vco = make_organisation(
        name="Bow Bangladeshi Women's Group",
        slug="bow-bangladeshi-womens-group",
        ward=term("wards", "bow-east"),
        development_stage=Organisation.Stage.EMERGING,
        communities_served=[term("communities", "women")],
    )
    editor = make_user(
        username="vco.editor", email="rehana@example.org", first_name="Rehana", last_name="Akhtar", password=PASSWORD
    )
    make_affiliation(user=editor, organisation=vco, role=Affiliation.Role.EDITOR)
    funding = term("needs", "funding-and-fundraising")
    thva = make_provider(name="Tower Hamlets Voluntary Action", slug="thva")
    bme = make_provider(name="East End BME Network", slug="bme-network")
    paused = make_provider(name="Paused Provider", slug="paused-provider")
    make_service(thva, needs=[funding], name="Funding advice surgery")
    make_service(bme, needs=[funding], name="Bid-writing for BME groups")
    make_service(paused, needs=[funding], name="Closed for the summer", status="paused")
    make_rule(funding, [thva, paused], name="Funding advice")
    make_rule(funding, [bme], name="Funding for groups serving women", community=term("communities", "women"))
    officer = make_officer(
        thva, username="officer", email="olu@example.org", first_name="Olu", last_name="Adeyemi", password=PASSWORD
    )
    return {"vco": vco, "editor": editor, "thva": thva, "officer": officer}


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def log_out(page):
    page.get_by_role("button", name="Account").click()
    page.get_by_role("button", name="Log out").click()


def test_ask_accept_close_feedback(page, live_server, screenshot, borough):
    # The VCO asks, starting from a directory link naming the provider.
    log_in(page, live_server, "vco.editor")
    page.goto(f"{live_server.url}/referrals/ask/?provider={borough['thva'].uuid}")
    assert "Ask for support" in page.title()
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    # Bad input first: nothing ticked, no consent.
    page.get_by_role("button", name="Continue: see suggested providers").click()
    assert page.get_by_text("Choose at least one kind of support you need.").first.is_visible()
    screenshot("referrals-ask-errors")
    page.get_by_label("Funding and fundraising").check()
    page.get_by_label("Tell us more").fill(
        "We want to apply to the lottery for a sewing project and have never written a bid."
    )
    page.get_by_label("Soon: within two weeks").check()
    page.get_by_label("Contact phone").fill("020 7946 0123")
    page.get_by_label("I agree to these details being shared for this purpose").check()
    screenshot("referrals-ask-filled")
    page.get_by_role("button", name="Continue: see suggested providers").click()

    # Step 2: suggestions with reasons; the named provider first, the paused one left out.
    assert "choose a provider" in page.title()
    cards = page.locator(".card .form-check-label")
    assert cards.nth(0).inner_text().startswith("Tower Hamlets Voluntary Action")
    assert cards.nth(1).inner_text().startswith("East End BME Network")
    assert page.get_by_text("You already work with this provider").is_visible()
    assert page.get_by_text("Paused Provider").count() == 1  # only in "left out, and why"
    assert Referral.objects.count() == 0
    screenshot("referrals-review-suggestions")
    page.get_by_role("button", name="Send the request").click()
    assert page.get_by_text("Your request has been sent to Tower Hamlets Voluntary Action").is_visible()
    referral = Referral.objects.get()
    assert referral.status == "with_provider"
    screenshot("referrals-sent")
    log_out(page)

    # The officer works it from the inbox.
    log_in(page, live_server, "officer")
    page.goto(f"{live_server.url}/referrals/inbox/")
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    screenshot("referrals-inbox")
    page.get_by_role("link", name=referral.reference).click()
    assert page.get_by_text("020 7946 0123").is_visible()
    # One action area: one form, one button, the choices as a radio group with their fields under them.
    actions = page.locator("section.referral-actions")
    assert actions.locator("form").count() == 1 and actions.get_by_role("button").count() == 1
    assert actions.get_by_role("group", name="What do you want to do?").is_visible()
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    screenshot("referral-actions")
    actions.get_by_role("button", name="Continue").click()
    assert page.locator(".error-summary").get_by_text("Choose what you want to do.").is_visible()
    page.get_by_label("Decline it").check()
    page.get_by_role("button", name="Continue").click()
    summary = page.locator(".error-summary")
    assert summary.get_by_text("Give the group a reason for declining.").is_visible()
    screenshot("referral-actions-error")
    summary.get_by_role("link").click()  # the summary's link takes you to the field
    assert page.evaluate("document.activeElement.name") == "decline-reason"
    page.get_by_label("Accept it").check()
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_text("Referral accepted.").is_visible()
    page.get_by_label("Close it with an outcome").check()
    page.get_by_label("Resolved", exact=True).check()
    page.get_by_label("What was done (optional)").fill("Went through the bid together; submitted on time.")
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_text("Referral closed").first.is_visible()
    screenshot("referrals-closed-timeline")
    log_out(page)

    # The VCO gives feedback.
    log_in(page, live_server, "vco.editor")
    page.goto(f"{live_server.url}/referrals/")
    page.get_by_role("link", name=referral.reference).click()
    page.get_by_role("link", name="Tell us how it went").click()
    page.get_by_label("4: satisfied").check()
    page.get_by_label("What do you still need?").fill("Help recruiting trustees.")
    screenshot("referrals-feedback-form")
    page.get_by_role("button", name="Send feedback").click()
    assert page.get_by_text("Thank you for your feedback.").is_visible()
    screenshot("referrals-feedback-given")
    referral.refresh_from_db()
    assert referral.status == "closed" and referral.outcome == "resolved"
    assert referral.feedback.satisfaction == 4
    assert list(referral.events.values_list("kind", flat=True)) == [
        "submitted",
        "sent",
        "accepted",
        "closed",
        "feedback",
    ]
