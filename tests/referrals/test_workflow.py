"""The referral workflow: every move, every refused move, the history and the emails."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from notifications.models import Reminder
from referrals import services
from referrals.models import Referral, ReferralEvent

from .factories import ask

Status = Referral.Status


@pytest.fixture
def sent(world):
    return ask(organisation=world.vco, by=world.editor, needs=[world.funding], chosen_provider=world.provider)


def kinds(referral):
    return list(referral.events.values_list("kind", flat=True))


def emails_for(referral, audience):
    return list(
        referral.organisation.reminders.filter(key__startswith="referral-event:", key__endswith=f":{audience}")
    )


def test_asking_with_a_chosen_provider_submits_then_sends_it(world, sent):
    assert sent.status == Status.WITH_PROVIDER and sent.provider == world.provider
    assert kinds(sent) == ["submitted", "sent"]
    assert sent.response_due_at and sent.remind_at and sent.escalate_at
    assert sent.consent_given_at and "shared" in sent.consent_purpose
    assert not sent.on_behalf
    assert [s["provider_name"] for s in sent.suggestions] == ["Tower Hamlets CVS", "Island Support"]
    # The provider's officers and the group are told, each by an HTML and text email with a link.
    provider_email = emails_for(sent, "provider")[0]
    assert set(provider_email.recipients) == {"officer@example.org", "colleague@example.org"}
    assert provider_email.context["url"] == sent.get_absolute_url()
    assert emails_for(sent, "group")[0].recipients == [
        "asha@example.org"
    ]  # the editor asked: not told of their own act


def test_without_a_choice_it_waits_for_the_network_admins_who_route_it(world):
    referral = ask(organisation=world.vco, by=world.editor, needs=[world.funding])
    assert referral.status == Status.SUBMITTED and referral.provider is None
    assert emails_for(referral, "admins")[0].recipients == ["netadmin@example.org"]
    with pytest.raises(PermissionDenied):
        services.send_to_provider(
            referral=referral, provider=world.provider, by=world.officer, expected_version=referral.version
        )
    routed = services.send_to_provider(
        referral=referral, provider=world.provider, by=world.admin, expected_version=referral.version
    )
    assert routed.status == Status.WITH_PROVIDER and routed.provider == world.provider
    assert kinds(routed) == ["submitted", "sent"]


def test_an_officer_asking_on_a_groups_behalf_is_recorded(world):
    referral = ask(
        organisation=world.vco, by=world.other_officer, needs=[world.funding], chosen_provider=world.provider
    )
    assert referral.on_behalf and referral.requested_by == world.other_officer


def test_accept_start_close(world, sent):
    referral = services.accept(referral=sent, by=world.officer, expected_version=sent.version)
    assert referral.status == Status.ACCEPTED and referral.assigned_to == world.officer
    referral = services.start_work(referral=referral, by=world.officer, expected_version=referral.version)
    assert referral.status == Status.IN_PROGRESS
    referral = services.close(
        referral=referral, by=world.officer, expected_version=referral.version, outcome="resolved", note="Bid sent."
    )
    assert referral.status == Status.CLOSED and referral.outcome == "resolved" and referral.closed_at
    events = list(referral.events.order_by("at", "pk"))
    assert [e.kind for e in events] == ["submitted", "sent", "accepted", "started", "closed"]
    assert [(e.from_status, e.to_status) for e in events[2:]] == [
        ("with_provider", "accepted"),
        ("accepted", "in_progress"),
        ("in_progress", "closed"),
    ]
    assert all(e.by == world.officer for e in events[2:])
    # The group is asked for feedback by email, with a link to the feedback page.
    closing = ReferralEvent.objects.get(referral=referral, kind="closed")
    group_email = Reminder.objects.get(key=f"referral-event:{closing.pk}:group")
    assert group_email.context["url"].endswith("/feedback/")


def test_accepted_can_close_straight_away(world, sent):
    referral = services.accept(referral=sent, by=world.officer, expected_version=sent.version)
    referral = services.close(
        referral=referral, by=world.colleague, expected_version=referral.version, outcome="partly_resolved"
    )
    assert referral.status == Status.CLOSED


def test_decline_needs_a_reason_and_tells_the_group(world, sent):
    with pytest.raises(ValidationError) as refused:
        services.decline(referral=sent, by=world.officer, expected_version=sent.version, reason="  ")
    assert "reason" in refused.value.message_dict
    referral = services.decline(
        referral=sent, by=world.officer, expected_version=sent.version, reason="We only work with charities."
    )
    assert referral.status == Status.DECLINED and referral.closed_at
    event = referral.events.get(kind="declined")
    assert event.note == "We only work with charities."
    assert (
        Reminder.objects.get(key=f"referral-event:{event.pk}:group").context["note"] == "We only work with charities."
    )


def test_pass_on_moves_it_to_another_provider_with_a_note_and_a_fresh_clock(world, sent):
    with pytest.raises(ValidationError):
        services.pass_on(
            referral=sent, by=world.officer, expected_version=sent.version, provider=world.other_provider, note=""
        )
    with pytest.raises(ValidationError):
        services.pass_on(
            referral=sent, by=world.officer, expected_version=sent.version, provider=world.provider, note="Same one"
        )
    referral = services.pass_on(
        referral=sent,
        by=world.officer,
        expected_version=sent.version,
        provider=world.other_provider,
        note="Island Support runs bid clinics.",
    )
    assert (
        referral.status == Status.WITH_PROVIDER
        and referral.provider == world.other_provider
        and referral.assigned_to is None
    )
    event = referral.events.get(kind="passed_on")
    assert event.provider == world.other_provider and event.note
    assert set(Reminder.objects.get(key=f"referral-event:{event.pk}:provider").recipients) == {
        "otherofficer@example.org"
    }
    # The first provider's officers can no longer act on it.
    with pytest.raises(PermissionDenied):
        services.accept(referral=referral, by=world.officer, expected_version=referral.version)
    assert (
        services.accept(referral=referral, by=world.other_officer, expected_version=referral.version).status
        == Status.ACCEPTED
    )


def test_pass_on_refuses_a_closed_provider(world, sent):
    world.other_provider.is_active = False
    world.other_provider.save()
    with pytest.raises(ValidationError) as refused:
        services.pass_on(
            referral=sent,
            by=world.officer,
            expected_version=sent.version,
            provider=world.other_provider,
            note="Try them",
        )
    assert "provider" in refused.value.message_dict


@pytest.mark.parametrize("status", [Status.SUBMITTED, Status.WITH_PROVIDER, Status.ACCEPTED, Status.IN_PROGRESS])
def test_the_group_can_withdraw_before_it_is_closed(world, sent, status):
    Referral.objects.filter(pk=sent.pk).update(status=status)
    sent.refresh_from_db()
    referral = services.withdraw(
        referral=sent, by=world.editor, expected_version=sent.version, note="Sorted it ourselves."
    )
    assert referral.status == Status.CLOSED and referral.outcome == Referral.Outcome.WITHDRAWN
    assert referral.events.last().kind == "withdrawn"


REFUSED = [
    # (status it is in, the move, keyword arguments)
    (Status.SUBMITTED, services.accept, {}),
    (Status.ACCEPTED, services.accept, {}),
    (Status.IN_PROGRESS, services.decline, {"reason": "No"}),
    (Status.ACCEPTED, services.decline, {"reason": "No"}),
    (Status.WITH_PROVIDER, services.start_work, {}),
    (Status.IN_PROGRESS, services.start_work, {}),
    (Status.WITH_PROVIDER, services.close, {"outcome": "resolved"}),
    (Status.DECLINED, services.close, {"outcome": "resolved"}),
    (Status.CLOSED, services.close, {"outcome": "resolved"}),
    (Status.CLOSED, services.accept, {}),
    (Status.DECLINED, services.accept, {}),
    (Status.IN_PROGRESS, services.pass_on, {"note": "x", "provider": "other"}),
    (Status.CLOSED, services.pass_on, {"note": "x", "provider": "other"}),
]


@pytest.mark.parametrize("status,move,extra", REFUSED, ids=[f"{m.__name__}-from-{s}" for s, m, _ in REFUSED])
def test_invalid_moves_are_refused_with_a_clear_message_and_change_nothing(world, sent, status, move, extra):
    Referral.objects.filter(pk=sent.pk).update(status=status)
    sent.refresh_from_db()
    if extra.get("provider") == "other":
        extra = {**extra, "provider": world.other_provider}
    events_before = sent.events.count()
    with pytest.raises(services.TransitionRefused) as refused:
        move(referral=sent, by=world.officer, expected_version=sent.version, **extra)
    assert "cannot be" in refused.value.messages[0] and sent.get_status_display().lower() in refused.value.messages[0]
    sent.refresh_from_db()
    assert sent.status == status and sent.events.count() == events_before


@pytest.mark.parametrize("status", [Status.CLOSED, Status.DECLINED])
def test_a_finished_referral_cannot_be_withdrawn(world, sent, status):
    Referral.objects.filter(pk=sent.pk).update(status=status)
    sent.refresh_from_db()
    with pytest.raises(services.TransitionRefused):
        services.withdraw(referral=sent, by=world.editor, expected_version=sent.version)


def test_a_stale_version_is_refused_and_nothing_changes(world, sent):
    old_version = sent.version
    services.accept(referral=sent, by=world.officer, expected_version=old_version)
    with pytest.raises(services.StaleReferral):
        services.decline(referral=sent, by=world.colleague, expected_version=old_version, reason="Too busy")
    sent.refresh_from_db()
    assert sent.status == Status.ACCEPTED and not sent.events.filter(kind="declined").exists()


def test_only_the_receiving_providers_officers_act(world, sent):
    for person in (world.other_officer, world.editor, world.stranger, world.funder):
        with pytest.raises(PermissionDenied):
            services.accept(referral=sent, by=person, expected_version=sent.version)
    # The group's editor withdraws; nobody else outside it does.
    with pytest.raises(PermissionDenied):
        services.withdraw(referral=sent, by=world.other_editor, expected_version=sent.version)


def test_close_refuses_withdrawn_or_unknown_outcomes(world, sent):
    referral = services.accept(referral=sent, by=world.officer, expected_version=sent.version)
    for outcome in ("withdrawn", "", "great"):
        with pytest.raises(ValidationError):
            services.close(referral=referral, by=world.officer, expected_version=referral.version, outcome=outcome)


def test_bulk_assignment_to_a_named_officer_of_the_provider(world, sent):
    second = ask(organisation=world.vco, by=world.editor, needs=[world.funding], chosen_provider=world.provider)
    assert services.assign(referrals=[sent, second], officer=world.colleague, by=world.officer) == 2
    assert set(Referral.objects.values_list("assigned_to", flat=True)) == {world.colleague.pk}
    assert ReferralEvent.objects.filter(kind="assigned").count() == 2
    # Not to someone from another provider, and all or nothing.
    with pytest.raises(ValidationError):
        services.assign(referrals=[sent, second], officer=world.other_officer, by=world.officer)
    assert set(Referral.objects.values_list("assigned_to", flat=True)) == {world.colleague.pk}


def test_feedback_once_the_referral_is_closed(world, sent):
    with pytest.raises(ValidationError):
        services.give_feedback(referral=sent, by=world.editor, satisfaction=4)
    referral = services.accept(referral=sent, by=world.officer, expected_version=sent.version)
    referral = services.close(
        referral=referral, by=world.officer, expected_version=referral.version, outcome="resolved"
    )
    with pytest.raises(PermissionDenied):
        services.give_feedback(referral=referral, by=world.officer, satisfaction=4)
    with pytest.raises(ValidationError):
        services.give_feedback(referral=referral, by=world.editor, satisfaction=6)
    feedback = services.give_feedback(
        referral=referral, by=world.editor, satisfaction=4, still_needed="Help with trustees."
    )
    assert feedback.satisfaction == 4 and referral.events.filter(kind="feedback").exists()
    with pytest.raises(ValidationError):
        services.give_feedback(referral=referral, by=world.editor, satisfaction=5)


@pytest.mark.parametrize(
    "change,field",
    [
        ({"needs": []}, "needs"),
        ({"consent": False}, "consent"),
        ({"description": "x" * 2001}, "description"),
        ({"description": "   "}, "description"),
        ({"contact_email": ""}, "contact_email"),
    ],
)
def test_bad_requests_are_refused_and_nothing_is_saved(world, change, field):
    needs = change.pop("needs", [world.funding])
    with pytest.raises(ValidationError) as refused:
        ask(organisation=world.vco, by=world.editor, needs=needs, chosen_provider=world.provider, **change)
    assert field in refused.value.message_dict
    assert not Referral.objects.exists() and not ReferralEvent.objects.exists() and not Reminder.objects.exists()


def test_a_provider_the_router_did_not_suggest_is_refused(world):
    stranger_provider = world.other_provider
    world.rule.entries.filter(provider=stranger_provider).delete()
    stranger_provider.services.update(accepting_referrals=False)
    with pytest.raises(ValidationError) as refused:
        ask(organisation=world.vco, by=world.editor, needs=[world.funding], chosen_provider=stranger_provider)
    assert "provider" in refused.value.message_dict
    assert not Referral.objects.exists()


def test_a_closed_existing_provider_is_refused(world):
    world.other_provider.is_active = False
    world.other_provider.save()
    with pytest.raises(ValidationError) as refused:
        ask(organisation=world.vco, by=world.editor, needs=[world.funding], existing_provider=world.other_provider)
    assert "existing_provider" in refused.value.message_dict
    assert not Referral.objects.exists()


def test_only_editors_of_the_group_or_officers_may_ask(world):
    with pytest.raises(PermissionDenied):
        ask(organisation=world.vco, by=world.other_editor, needs=[world.funding])
    with pytest.raises(PermissionDenied):
        ask(organisation=world.vco, by=world.funder, needs=[world.funding])
    assert not Referral.objects.exists()


def test_each_change_is_emailed_as_html_and_text_with_a_link(world, sent, mailoutbox):
    from notifications.services import send_due_reminders

    referral = services.accept(referral=sent, by=world.officer, expected_version=sent.version)
    services.close(referral=referral, by=world.officer, expected_version=referral.version, outcome="resolved")
    send_due_reminders()
    by_subject = {(message.subject, tuple(message.to)) for message in mailoutbox}
    assert (
        f"Referral {sent.reference}: sent to provider",
        ("colleague@example.org", "officer@example.org"),
    ) in by_subject
    # The group: its contact and the editor who asked.
    assert (f"Referral {sent.reference}: accepted", ("asha@example.org", "editor@example.org")) in by_subject
    # The colleague hears what the officer did; the officer is not told of their own act.
    assert (f"Referral {sent.reference}: accepted", ("colleague@example.org",)) in by_subject
    closed = next(m for m in mailoutbox if m.subject.endswith("closed") and "asha@example.org" in m.to)
    assert f"/referrals/{sent.uuid}/feedback/" in closed.body
    html, content_type = closed.alternatives[0]
    assert content_type == "text/html" and f"/referrals/{sent.uuid}/feedback/" in html and "Give feedback" in html
