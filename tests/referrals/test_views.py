"""The referral pages: asking in two steps, the timeline and actions, the inbox, feedback and the
personal-data tools; who may see and do what; and bad input refused without a 500 or a half-save."""

import json
import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from directory.models import Service
from referrals import services, views
from referrals.models import Referral
from tests.factories import term

from .factories import ask

ASK = reverse("referrals:ask")
REVIEW = reverse("referrals:review")


def ask_data(world, **overrides):
    data = {
        "organisation": world.vco.pk,
        "needs": [world.funding.pk],
        "description": "We need help with our first funding bid.",
        "urgency": "soon",
        "stage": "1",
        "communities": [term("communities", "older-people").pk],
        "language": term("languages", "bn").pk,
        "existing_provider": "",
        "service": "",
        "contact_name": "Asha Begum",
        "contact_email": "asha@example.org",
        "contact_phone": "020 7946 0001",
        "consent": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def sent(world):
    return ask(organisation=world.vco, by=world.editor, needs=[world.funding], chosen_provider=world.provider)


# Asking ------------------------------------------------------------------------------------------------


def test_the_two_step_journey_describe_review_send(world, client_as):
    client = client_as(world.editor)
    page = client.get(ASK)
    assert page.status_code == 200 and "Step 1 of 2" in page.content.decode()
    response = client.post(ASK, ask_data(world))
    assert response.status_code == 302 and response["Location"] == REVIEW
    assert not Referral.objects.exists()  # nothing is sent before the group has seen the suggestions
    review = client.get(REVIEW).content.decode()
    assert "Tower Hamlets CVS" in review and "Island Support" in review and "key referral agency" in review
    response = client.post(REVIEW, {"provider": str(world.other_provider.uuid)})
    referral = Referral.objects.get()
    assert response.status_code == 302 and response["Location"] == referral.get_absolute_url()
    assert referral.provider == world.other_provider and referral.urgency == "soon" and referral.stage == 1
    assert referral.language.code == "bn" and [c.code for c in referral.communities.all()] == ["older-people"]
    # The draft is gone: sending again does not make a second referral.
    assert client.post(REVIEW, {"provider": str(world.provider.uuid)}).status_code == 302
    assert Referral.objects.count() == 1


def test_leaving_the_choice_to_the_network(world, client_as):
    client = client_as(world.editor)
    client.post(ASK, ask_data(world))
    client.post(REVIEW, {"provider": "network"})
    referral = Referral.objects.get()
    assert referral.status == "submitted" and referral.provider is None


@pytest.mark.parametrize(
    "overrides,field,message",
    [
        ({"needs": None}, "needs", "Choose at least one kind of support"),
        ({"consent": None}, "consent", "consent"),
        ({"description": "x" * 2001}, "description", "Tell us more must be 2,000 characters or fewer"),
        ({"existing_provider": "00000000-0000-0000-0000-000000000000"}, "existing_provider", "not in the directory"),
        ({"existing_provider": "not-a-uuid"}, "existing_provider", "not in the directory"),
        ({"organisation": "999999"}, "organisation", "Select a valid choice"),
        ({"needs": ["999999"]}, "needs", "Select a valid choice"),
    ],
)
def test_bad_input_in_step_one_is_refused_with_a_message(world, client_as, overrides, field, message):
    client = client_as(world.editor)
    response = client.post(ASK, ask_data(world, **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert message in response.content.decode()
    assert "There is a problem" in response.content.decode()
    assert not Referral.objects.exists()


def test_a_closed_provider_cannot_be_named(world, client_as):
    world.other_provider.is_active = False
    world.other_provider.save()
    response = client_as(world.editor).post(ASK, ask_data(world, existing_provider=str(world.other_provider.uuid)))
    assert "existing_provider" in response.context["form"].errors


def test_a_forged_provider_in_step_two_is_refused(world, client_as):
    client = client_as(world.editor)
    client.post(ASK, ask_data(world))
    outsider = world.vco  # not a provider at all
    response = client.post(REVIEW, {"provider": str(outsider.uuid)})
    assert response.status_code == 200 and "not among them" in response.content.decode()
    assert not Referral.objects.exists()


def test_a_provider_that_pauses_between_the_steps_is_refused(world, client_as):
    client = client_as(world.editor)
    client.post(ASK, ask_data(world))
    client.get(REVIEW)
    Service.objects.filter(organisation=world.other_provider).update(status=Service.Status.PAUSED)
    response = client.post(REVIEW, {"provider": str(world.other_provider.uuid)})
    assert response.status_code == 200
    assert "not among them" in response.content.decode()
    assert not Referral.objects.exists()


def test_ask_for_support_links_prefill_the_provider_and_service(world, client_as):
    service = world.other_provider.services.get()
    response = client_as(world.editor).get(f"{ASK}?provider={world.other_provider.uuid}&service={service.uuid}")
    form = response.context["form"]
    assert form.initial["existing_provider"] == world.other_provider and form.initial["service"] == service
    html = response.content.decode()
    assert f'value="{world.other_provider.uuid}" selected' in html
    assert service.needs.exists() and set(form.initial["needs"]) == set(service.needs.all()), (
        "the service's needs ticked"
    )
    assert "already work with (optional)" in html and "A provider you already work with" not in html


def test_health_check_links_tick_the_needs_and_say_what_was_left_out(world, client_as):
    premises = term("needs", "premises")
    response = client_as(world.editor).get(
        ASK, {"needs": [str(world.funding.uuid), str(premises.uuid), "not-a-uuid", str(world.vco.uuid)]}
    )
    assert response.status_code == 200
    assert set(response.context["form"].initial["needs"]) == {world.funding, premises}
    assert "have not been ticked" in response.content.decode()


@pytest.mark.parametrize("problem", ["unknown", "garbage", "closed", "not-a-provider"])
def test_ask_for_support_links_with_a_bad_provider_say_so(world, client_as, problem):
    value = {
        "unknown": "00000000-0000-0000-0000-000000000000",
        "garbage": "'; drop table",
        "closed": str(world.other_provider.uuid),
        "not-a-provider": str(world.other_vco.uuid),
    }[problem]
    if problem == "closed":
        world.other_provider.is_active = False
        world.other_provider.save()
    response = client_as(world.editor).get(ASK, {"provider": value})
    assert response.status_code == 200
    assert "existing_provider" not in response.context["form"].initial
    text = response.content.decode()
    assert "has closed" in text if problem == "closed" else "is not in the directory" in text


def test_a_paused_service_in_a_link_is_explained(world, client_as):
    service = world.other_provider.services.get()
    service.accepting_referrals = False
    service.save()
    response = client_as(world.editor).get(
        ASK, {"provider": str(world.other_provider.uuid), "service": str(service.uuid)}
    )
    assert "not taking referrals" in response.content.decode()
    assert response.context["form"].initial["existing_provider"] == world.other_provider
    assert "service" not in response.context["form"].initial


def test_people_who_may_not_ask_are_told_how(world, client_as):
    response = client_as(world.stranger).get(ASK)
    assert response.status_code == 403 and "Only an editor" in response.content.decode()


def test_an_officer_may_ask_on_a_groups_behalf(world, client_as):
    client = client_as(world.other_officer)
    client.post(ASK, ask_data(world))
    client.post(REVIEW, {"provider": str(world.provider.uuid)})
    referral = Referral.objects.get()
    assert referral.on_behalf and referral.requested_by == world.other_officer


# Seeing a referral -----------------------------------------------------------------------------------


def test_the_group_and_the_receiving_officers_see_it_with_contact_details(world, client_as, sent):
    for person in (world.editor, world.officer, world.colleague, world.admin):
        page = client_as(person).get(sent.get_absolute_url())
        assert page.status_code == 200, person
        html = page.content.decode()
        assert "asha@example.org" in html and "020 7946 0001" in html
        assert "Timeline" in html and "Asked for support" in html


@pytest.mark.parametrize("who", ["other_officer", "other_editor", "stranger"])
def test_everyone_else_gets_a_404(world, client_as, sent, who):
    response = client_as(getattr(world, who)).get(sent.get_absolute_url())
    assert response.status_code == 404
    assert b"asha@example.org" not in response.content


def test_a_funder_gets_a_403_on_every_referral_page(world, client_as, sent):
    """Funders see referrals only as the evidence dashboards' aggregates (see tests/evidence for every URL)."""
    client = client_as(world.funder)
    for url in (sent.get_absolute_url(), reverse("referrals:list"), reverse("referrals:inbox"), ASK, REVIEW):
        assert client.get(url).status_code == 403, url
    assert act(client, sent, "accept").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(world, client, sent):
    response = client.get(sent.get_absolute_url())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_officer_who_asked_on_behalf_follows_it_without_the_contact_details(world, client_as):
    referral = ask(
        organisation=world.vco, by=world.other_officer, needs=[world.funding], chosen_provider=world.provider
    )
    html = client_as(world.other_officer).get(referral.get_absolute_url()).content.decode()
    assert "asha@example.org" not in html and "shown only to the group" in html


# Acting -------------------------------------------------------------------------------------------


def _move(referral, action, **data) -> dict:
    """What the page's one action form posts for a move: the choice, the version and that choice's fields."""
    return {"version": referral.version, "action": action, **{f"{action}-{key}": value for key, value in data.items()}}


def act(client, referral, action, **data):
    return client.post(reverse("referrals:act", kwargs={"uuid": referral.uuid}), _move(referral, action, **data))


def test_accept_start_close_through_the_page(world, client_as, sent):
    client = client_as(world.officer)
    assert act(client, sent, "accept").status_code == 302
    sent.refresh_from_db()
    assert act(client, sent, "start", note="Meeting booked").status_code == 302
    sent.refresh_from_db()
    assert act(client, sent, "close", outcome="resolved").status_code == 302
    sent.refresh_from_db()
    assert sent.status == "closed"
    html = client.get(sent.get_absolute_url()).content.decode()
    assert "Meeting booked" in html and "Olu Officer" in html


def test_acting_on_another_providers_referral_is_not_found(world, client_as, sent):
    # Was 403 for another provider's officer (issue 12: a 403 told them the referral exists); the group,
    # who may see the referral but not work it, is still refused with a 403.
    for action, data in [("accept", {}), ("decline", {"reason": "No"}), ("close", {"outcome": "resolved"})]:
        assert act(client_as(world.other_officer), sent, action, **data).status_code == 404
    assert act(client_as(world.editor), sent, "accept").status_code == 403
    sent.refresh_from_db()
    assert sent.status == "with_provider"


def _action_data(world, action):
    """Data each move would accept from someone allowed to make it."""
    return {
        "decline": {"reason": "No capacity"},
        "pass-on": {"provider": world.other_provider.uuid, "note": "Better placed"},
        "route": {"provider": world.other_provider.uuid, "note": "Over to you"},
        "close": {"outcome": "resolved"},
        "assign": {"officer": world.colleague.pk},
    }.get(action, {})


def _without_csrf_tokens(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


@pytest.mark.parametrize("who", ["other_officer", "other_editor", "stranger"])
def test_someone_elses_referral_answers_exactly_like_an_unknown_id(world, client_as, sent, who):
    """Every page and action on one referral: the same status and page as for an id that does not exist,
    so nobody can learn which referrals exist (or their state) by trying ids."""
    client = client_as(getattr(world, who))
    requests = [("get", "referrals:detail", None), ("get", "referrals:feedback", None)]
    requests += [("post", "referrals:feedback", None)]
    requests += [("post", "referrals:act", action) for action in views.ACTIONS]
    requests += [("get", "referrals:act", "accept"), ("post", "referrals:act", "no-such-action")]
    for method, name, action in requests:

        def call(referral_uuid):
            data = _move(sent, action, **_action_data(world, action)) if action else {}
            return getattr(client, method)(
                reverse(name, kwargs={"uuid": referral_uuid}), data if method == "post" else {}
            )

        theirs, missing = call(sent.uuid), call(uuid.uuid4())
        assert theirs.status_code == missing.status_code, (method, name, action)
        assert theirs.status_code in (404, 405), (method, name, action)
        assert _without_csrf_tokens(theirs) == _without_csrf_tokens(missing), (method, name, action)
        assert sent.reference not in theirs.content.decode()
    sent.refresh_from_db()
    assert sent.status == "with_provider" and sent.assigned_to is None
    # The receiving provider's officer still sees and works it.
    officer = client_as(world.officer)
    assert officer.get(sent.get_absolute_url()).status_code == 200
    assert act(officer, sent, "accept").status_code == 302


def test_a_stale_form_gets_409_and_a_reload_message(world, client_as, sent):
    stale_version = sent.version
    act(client_as(world.officer), sent, "accept")
    response = client_as(world.colleague).post(
        reverse("referrals:act", kwargs={"uuid": sent.uuid}),
        {"version": stale_version, "action": "decline", "decline-reason": "Too busy"},
    )
    assert response.status_code == 409
    assert "This referral changed" in response.content.decode() and "Reload" in response.content.decode()
    sent.refresh_from_db()
    assert sent.status == "accepted"


def test_an_invalid_move_is_refused_with_a_message(world, client_as, sent):
    response = act(client_as(world.officer), sent, "close", outcome="resolved")
    assert response.status_code == 400
    assert "cannot be closed" in response.content.decode()


def test_a_bad_action_form_names_the_field(world, client_as, sent):
    response = act(client_as(world.officer), sent, "decline", reason="")
    assert response.status_code == 400 and "Give the group a reason" in response.content.decode()
    response = act(client_as(world.officer), sent, "pass-on", provider="00000000-0000-0000-0000-000000000000", note="x")
    assert response.status_code == 400 and "not in the directory" in response.content.decode()
    response = act(client_as(world.officer), sent, "explode")
    assert response.status_code == 400 and "cannot be done with this referral now" in response.content.decode()
    response = client_as(world.officer).post(
        reverse("referrals:act", kwargs={"uuid": sent.uuid}), {"version": "abc", "action": "accept"}
    )
    assert response.status_code == 400


def test_the_group_withdraws_from_the_page(world, client_as, sent):
    assert act(client_as(world.editor), sent, "withdraw", note="No longer needed").status_code == 302
    sent.refresh_from_db()
    assert sent.status == "closed" and sent.outcome == "withdrawn"


def test_pass_on_leaves_the_inbox(world, client_as, sent):
    response = act(
        client_as(world.officer), sent, "pass-on", provider=str(world.other_provider.uuid), note="They run bid clinics"
    )
    assert response.status_code == 302 and response["Location"] == reverse("referrals:inbox")


# Lists ----------------------------------------------------------------------------------------------


def test_the_group_sees_its_own_referrals_only(world, client_as, sent):
    ask(organisation=world.other_vco, by=world.other_editor, needs=[world.funding], chosen_provider=world.provider)
    page = client_as(world.editor).get(reverse("referrals:list"))
    assert [r.pk for r in page.context["page"].object_list] == [sent.pk]
    assert client_as(world.stranger).get(reverse("referrals:list")).context["page"].paginator.count == 0


def test_the_inbox_filters_counts_and_stays_within_the_provider(world, client_as, sent):
    second = ask(
        organisation=world.vco,
        by=world.editor,
        needs=[term("needs", "payroll")],
        existing_provider=world.provider,
        chosen_provider=world.provider,
    )
    services.accept(referral=second, by=world.officer, expected_version=second.version)
    ask(organisation=world.vco, by=world.editor, needs=[world.funding], chosen_provider=world.other_provider)
    client = client_as(world.officer)
    page = client.get(reverse("referrals:inbox"))
    assert page.status_code == 200
    assert page.context["counts"]["total"] == 2 and page.context["counts"]["accepted"] == 1
    assert page.context["page"].paginator.count == 2
    assert client.get(reverse("referrals:inbox"), {"status": "accepted"}).context["page"].paginator.count == 1
    assert client.get(reverse("referrals:inbox"), {"need": world.funding.pk}).context["page"].paginator.count == 1
    assert client.get(reverse("referrals:inbox"), {"overdue": "on"}).context["page"].paginator.count == 0
    assert client.get(reverse("referrals:inbox"), {"age": "30"}).context["page"].paginator.count == 0
    Referral.objects.filter(pk=sent.pk).update(
        response_due_at="2020-01-01T00:00:00Z", submitted_at="2019-12-01T00:00:00Z"
    )
    assert client.get(reverse("referrals:inbox"), {"overdue": "on"}).context["page"].paginator.count == 1
    assert client.get(reverse("referrals:inbox"), {"age": "30"}).context["page"].paginator.count == 1
    assert client.get(reverse("referrals:inbox"), {"status": "nonsense"}).status_code == 200


def test_people_who_are_not_officers_have_no_inbox(world, client_as):
    assert client_as(world.editor).get(reverse("referrals:inbox")).status_code == 403
    assert (
        client_as(world.officer)
        .get(reverse("referrals:inbox"), {"provider": world.other_provider.slug})
        .context["provider"]
        == world.provider
    )


def test_bulk_assignment_from_the_inbox(world, client_as, sent):
    second = ask(organisation=world.vco, by=world.editor, needs=[world.funding], chosen_provider=world.provider)
    client = client_as(world.officer)
    response = client.post(
        reverse("referrals:inbox"), {"referrals": [str(sent.uuid), str(second.uuid)], "officer": world.colleague.pk}
    )
    assert response.status_code == 302
    assert set(Referral.objects.values_list("assigned_to", flat=True)) == {world.colleague.pk}
    other = ask(organisation=world.vco, by=world.editor, needs=[world.funding], chosen_provider=world.other_provider)
    response = client.post(reverse("referrals:inbox"), {"referrals": [str(other.uuid)], "officer": world.officer.pk})
    assert response.status_code == 200 and "not in this inbox" in response.content.decode()
    response = client.post(reverse("referrals:inbox"), {"referrals": ["garbage"], "officer": world.officer.pk})
    assert response.status_code == 200 and "not in this inbox" in response.content.decode()
    response = client.post(
        reverse("referrals:inbox"), {"referrals": [str(sent.uuid)], "officer": world.other_officer.pk}
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    other.refresh_from_db()
    assert other.assigned_to is None


def test_the_inbox_page_costs_the_same_queries_for_5_or_60_referrals(world, client_as):
    client = client_as(world.officer)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("referrals:inbox")).status_code == 200
        return len(captured.captured_queries)

    for _ in range(5):
        ask(organisation=world.vco, by=world.editor, needs=[world.funding], chosen_provider=world.provider)
    few = queries()
    for _ in range(55):
        ask(
            organisation=world.other_vco,
            by=world.officer,
            needs=[world.funding, term("needs", "payroll")],
            chosen_provider=world.provider,
        )
    assert queries() == few


# Feedback ------------------------------------------------------------------------------------------


def test_feedback_in_the_portal(world, client_as, sent):
    client = client_as(world.editor)
    assert (
        "once the referral is closed"
        in client.get(reverse("referrals:feedback", kwargs={"uuid": sent.uuid})).content.decode()
    )
    referral = services.accept(referral=sent, by=world.officer, expected_version=sent.version)
    services.close(referral=referral, by=world.officer, expected_version=referral.version, outcome="resolved")
    url = reverse("referrals:feedback", kwargs={"uuid": sent.uuid})
    response = client.post(url, {"satisfaction": "9"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert client.post(url, {"satisfaction": "4", "still_needed": "Trustee training"}).status_code == 302
    assert sent.feedback.satisfaction == 4
    assert (
        "already" in client.get(url).content.decode() or "feedback has been given" in client.get(url).content.decode()
    )
    assert client_as(world.officer).get(url).status_code == 403
    assert client_as(world.stranger).get(url).status_code == 404


# Personal data ---------------------------------------------------------------------------------------


def test_only_network_admins_export_and_erase(world, client_as, sent):
    for person in (world.officer, world.editor, world.funder):
        assert client_as(person).get(reverse("referrals:contact_data")).status_code == 403
        assert (
            client_as(person).get(reverse("referrals:contact_data_export"), {"email": "asha@example.org"}).status_code
            == 403
        )


def test_export_everything_about_one_contact_as_json_and_csv(world, client_as, sent):
    ask(
        organisation=world.other_vco,
        by=world.other_editor,
        needs=[world.funding],
        contact_email="someone@example.org",
        chosen_provider=world.provider,
    )
    client = client_as(world.admin)
    page = client.get(reverse("referrals:contact_data"), {"email": "ASHA@example.org"})
    assert "1 referral holds details" in page.content.decode()
    response = client.get(reverse("referrals:contact_data_export"), {"email": "asha@example.org", "format": "json"})
    assert response["Content-Disposition"].startswith("attachment")
    data = json.loads(response.content)
    assert [item["contact_email"] for item in data["referrals"]] == ["asha@example.org"]
    assert data["referrals"][0]["history"][0]["what"] == "Asked for support"
    response = client.get(reverse("referrals:contact_data_export"), {"email": "asha@example.org", "format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "asha@example.org" in text and "someone@example.org" not in text
    assert client.get(reverse("referrals:contact_data_export"), {"email": "not an email"}).status_code == 302


def test_erase_one_contact(world, client_as, sent):
    client = client_as(world.admin)
    url = reverse("referrals:contact_data")
    response = client.post(url, {"email": "asha@example.org"})
    assert "Tick the box" in response.content.decode()
    sent.refresh_from_db()
    assert sent.contact_email == "asha@example.org"
    assert client.post(url, {"email": "asha@example.org", "confirm": "erase"}).status_code == 302
    sent.refresh_from_db()
    assert (sent.contact_name, sent.contact_email, sent.contact_phone, sent.description) == (
        "",
        "",
        "",
        services.ERASED,
    )
    assert sent.events.filter(kind="anonymised").exists()
    from notifications.models import Reminder

    assert not Reminder.objects.filter(key__startswith="referral-", recipients__icontains="asha@example.org").exists()


# Figures -----------------------------------------------------------------------------------------


def test_figures_for_officers_and_admins_with_free_text_for_admins_only(world, client_as, sent):
    referral = services.accept(referral=sent, by=world.officer, expected_version=sent.version)
    referral = services.close(
        referral=referral, by=world.officer, expected_version=referral.version, outcome="resolved"
    )
    services.give_feedback(referral=referral, by=world.editor, satisfaction=4, still_needed="Trustee training")
    url = reverse("referrals:figures")
    admin_page = client_as(world.admin).get(url)
    html = admin_page.content.decode()
    assert admin_page.context["figures"]["demand"] == [("Funding and fundraising", 1)]
    assert "Average satisfaction 4.0 out of 5" in html and "Trustee training" in html
    officer_page = client_as(world.officer).get(url)
    assert officer_page.status_code == 200 and "Trustee training" not in officer_page.content.decode()
    for person in (world.editor, world.funder):
        assert client_as(person).get(url).status_code == 403


def test_the_inbox_opens_on_open_referrals_and_its_counts_link_to_their_lists(world, client_as, sent):
    closed = ask(organisation=world.vco, by=world.editor, needs=[world.funding], chosen_provider=world.provider)
    services.decline(referral=closed, by=world.officer, reason="Not something we do.", expected_version=closed.version)
    client = client_as(world.officer)
    inbox = reverse("referrals:inbox")
    page = client.get(inbox)
    assert [referral.pk for referral in page.context["page"]] == [sent.pk], "opens on what needs doing"
    assert 'value="open" selected' in page.content.decode()
    assert client.get(inbox, {"status": ""}).context["page"].paginator.count == 2, "Any status shows every one"
    html = page.content.decode()
    counts = html.split('class="list-inline inbox-counts"', 1)[1].split("</ul>", 1)[0]
    for link in ("status=open", "status=open&amp;overdue=on", "status=declined", "status="):
        assert f'href="?provider={world.provider.slug}&amp;{link}"' in counts, link
    declined = client.get(inbox, {"status": "declined"})
    assert [referral.pk for referral in declined.context["page"]] == [closed.pk]


# The one action area ----------------------------------------------------------------------------


def test_the_referral_page_has_one_action_form_with_a_choice_per_move(world, client_as, sent):
    html = client_as(world.officer).get(sent.get_absolute_url()).content.decode()
    area = html[html.index('id="actions-heading"') : html.index('id="timeline-heading"')]
    assert area.count("<form") == 1 and area.count('type="submit"') == 1
    assert "What do you want to do?" in area
    offered = re.findall(r'name="action" value="([^"]+)"', area)
    assert offered == ["accept", "decline", "pass-on", "assign"]  # not start or close: not accepted yet
    # Each choice's fields are under it, in the same form.
    assert 'name="decline-reason"' in area and 'name="pass-on-provider"' in area and 'name="assign-officer"' in area
    # The group sees only what it may do: withdraw.
    html = client_as(world.editor).get(sent.get_absolute_url()).content.decode()
    assert re.findall(r'name="action" value="([^"]+)"', html) == ["withdraw"]


def test_the_action_form_shows_every_error_of_the_chosen_move_at_once(world, client_as, sent):
    response = act(client_as(world.officer), sent, "pass-on", provider="", note="")
    assert response.status_code == 400
    summary = response.content.decode().split('class="alert alert-danger error-summary"')[1].split("</div>")[0]
    assert "Choose the provider." in summary and "Add a note: why it is being passed on." in summary
    assert 'href="#id_pass-on-provider"' in summary
    response = client_as(world.officer).post(
        reverse("referrals:act", kwargs={"uuid": sent.uuid}), {"version": sent.version}
    )
    assert response.status_code == 400 and "Choose what you want to do." in response.content.decode()
    sent.refresh_from_db()
    assert sent.status == "with_provider"


def test_the_other_choices_fields_are_ignored(world, client_as, sent):
    data = _move(sent, "accept", note="Happy to help")
    data.update({"decline-reason": "", "pass-on-provider": "not-a-uuid", "close-outcome": "nonsense"})
    response = client_as(world.officer).post(reverse("referrals:act", kwargs={"uuid": sent.uuid}), data)
    assert response.status_code == 302
    sent.refresh_from_db()
    assert sent.status == "accepted"
    assert sent.events.filter(kind="accepted", note="Happy to help").exists()
