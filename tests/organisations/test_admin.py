import io
from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import User
from notifications.models import Reminder
from organisations.models import Membership, Organisation
from tests.factories import (
    make_affiliation,
    make_membership,
    make_network,
    make_network_admin,
    make_organisation,
    make_reminder,
    make_superuser,
    make_user,
    term,
)

pytestmark = pytest.mark.django_db

ORGANISATIONS = reverse("admin:organisations_organisation_changelist")
MEMBERSHIPS = reverse("admin:organisations_membership_changelist")
REMINDERS = reverse("admin:notifications_reminder_changelist")


@pytest.fixture
def admin_user_client(client):
    client.force_login(make_superuser())
    return client


def _names_listed(response) -> set[str]:
    return {str(obj) for obj in response.context["cl"].result_list}


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _run_action(client, url, action, objects, **extra):
    data = {"action": action, "_selected_action": [obj.pk for obj in objects], **extra}
    return client.post(url, data, follow=True)


# Access ------------------------------------------------------------------------------------------

CHANGELISTS = [
    "admin:accounts_user_changelist",
    "admin:taxonomies_taxonomy_changelist",
    "admin:taxonomies_taxonomyterm_changelist",
    "admin:organisations_organisation_changelist",
    "admin:organisations_affiliation_changelist",
    "admin:organisations_network_changelist",
    "admin:organisations_membership_changelist",
    "admin:notifications_reminder_changelist",
]


@pytest.mark.parametrize("name", CHANGELISTS)
def test_changelists_load_for_a_superuser(admin_user_client, name):
    organisation = make_organisation(ward=term("wards", "poplar"))
    make_membership(organisation=organisation)
    make_affiliation(user=make_user(), organisation=organisation)
    make_reminder(about=organisation)
    response = admin_user_client.get(reverse(name))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


@pytest.mark.parametrize("name", CHANGELISTS)
def test_changelists_refuse_a_non_staff_user(client, name):
    client.force_login(make_user(role=User.Role.NETWORK_ADMIN))  # the role alone is not enough: not staff
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_the_network_admin_role_or_permissions_is_forbidden(client):
    client.force_login(make_user(role=User.Role.OFFICER, is_staff=True))
    assert client.get(ORGANISATIONS).status_code == 403
    assert client.get(MEMBERSHIPS).status_code == 403


def test_network_admin_role_manages_the_directory_without_model_permissions(client):
    client.force_login(make_network_admin())
    assert client.get(ORGANISATIONS).status_code == 200
    assert client.get(reverse("admin:organisations_organisation_add")).status_code == 200
    assert client.get(reverse("admin:organisations_organisation_import")).status_code == 200
    response = client.get(reverse("admin:index"))
    assert "Organisations" in response.content.decode()


def test_network_admin_cannot_make_themselves_superuser(client):
    admin = make_network_admin()
    client.force_login(admin)
    response = client.get(reverse("admin:accounts_user_change", args=[admin.pk]))
    assert response.status_code == 200
    assert 'name="is_superuser"' not in response.content.decode()
    assert 'name="role"' in response.content.decode()


def test_change_pages_and_history_load(admin_user_client):
    organisation = make_organisation(ward=term("wards", "poplar"))
    membership = make_membership(organisation=organisation)
    for url in (
        reverse("admin:organisations_organisation_change", args=[organisation.pk]),
        reverse("admin:organisations_organisation_history", args=[organisation.pk]),
        reverse("admin:organisations_membership_change", args=[membership.pk]),
        reverse("admin:organisations_membership_history", args=[membership.pk]),
        reverse("admin:accounts_user_add"),
        reverse("admin:taxonomies_taxonomy_change", args=[term("wards", "poplar").taxonomy_id]),
        reverse("admin:notifications_reminder_change", args=[make_reminder().pk]),
    ):
        assert admin_user_client.get(url).status_code == 200, url


def test_user_admin_adds_a_user_with_a_role(admin_user_client):
    response = admin_user_client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "officer1",
            "email": "officer1@example.org",
            "role": User.Role.OFFICER,
            "usable_password": "true",
            "password1": "a long and unusual passphrase",
            "password2": "a long and unusual passphrase",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert User.objects.get(username="officer1").role == User.Role.OFFICER


def test_organisation_admin_refuses_a_second_organisation_with_the_same_charity_number(admin_user_client):
    make_organisation(name="First Trust", charity_number="1012345")
    response = admin_user_client.post(
        reverse("admin:organisations_organisation_add"),
        {
            "name": "Second Trust",
            "slug": "second-trust",
            "kinds": [term("organisation-kinds", "vco").pk],
            "charity_number": "101 2345",
            "geographic_level": "local",
            "town": "London",
            "is_active": "on",
            **_empty_inlines(),
        },
    )
    assert response.status_code == 200
    assert "1012345 already belongs to “First Trust”" in response.content.decode()
    assert not Organisation.objects.filter(name="Second Trust").exists()


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("scottish_charity_number", "SC12345", "GB-SC"),
        ("mutuals_number", "IP-1", "GB-MPR"),
        ("charity_number", "NIC100019", "Northern Ireland charity number (GB-NIC)"),
    ],
)
def test_organisation_admin_checks_each_number_in_its_lists_format(admin_user_client, field, value, message):
    response = admin_user_client.post(
        reverse("admin:organisations_organisation_add"),
        {
            "name": "Misnumbered Trust",
            "slug": "misnumbered-trust",
            "kinds": [term("organisation-kinds", "vco").pk],
            field: value,
            "geographic_level": "local",
            "town": "London",
            "is_active": "on",
            **_empty_inlines(),
        },
    )
    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors[field][0]
    assert not Organisation.objects.filter(name="Misnumbered Trust").exists()


def test_organisation_admin_refuses_a_second_organisation_with_the_same_mutuals_number(admin_user_client):
    make_organisation(name="First Co-op", mutuals_number="IP031455")
    response = admin_user_client.post(
        reverse("admin:organisations_organisation_add"),
        {
            "name": "Second Co-op",
            "slug": "second-co-op",
            "kinds": [term("organisation-kinds", "vco").pk],
            "mutuals_number": "ip 031455",
            "geographic_level": "local",
            "town": "London",
            "is_active": "on",
            **_empty_inlines(),
        },
    )
    assert response.status_code == 200
    assert "IP031455 already belongs to “First Co-op”" in response.content.decode()
    assert not Organisation.objects.filter(name="Second Co-op").exists()


def _empty_inlines() -> dict:
    return {
        f"{prefix}-{key}": value
        for prefix in ("memberships", "affiliations")
        for key, value in {
            "TOTAL_FORMS": "0",
            "INITIAL_FORMS": "0",
            "MIN_NUM_FORMS": "0",
            "MAX_NUM_FORMS": "1000",
        }.items()
    }


def test_organisation_admin_warns_about_a_near_duplicate_name(admin_user_client):
    existing = make_organisation(name="Bow Community Trust")
    response = admin_user_client.post(
        reverse("admin:organisations_organisation_add"),
        {
            "name": "Bow Community Trust Ltd",
            "slug": "bow-community-trust-ltd",
            "kinds": [term("organisation-kinds", "vco").pk],
            "geographic_level": "local",
            "is_active": "on",
            **_empty_inlines(),
        },
        follow=True,
    )
    assert Organisation.objects.filter(name="Bow Community Trust Ltd").exists()
    warnings = " ".join(_messages(response))
    assert "looks like an organisation already in the directory" in warnings
    assert reverse("admin:organisations_organisation_change", args=[existing.pk]) in warnings


# Organisation list: filters and search -----------------------------------------------------------


def test_filter_by_development_stage(admin_user_client):
    make_organisation(name="Emerging", development_stage=1)
    make_organisation(name="Established", development_stage=3)
    assert _names_listed(admin_user_client.get(ORGANISATIONS, {"development_stage__exact": 3})) == {"Established"}


def test_filter_by_ward(admin_user_client):
    make_organisation(name="In Poplar", ward=term("wards", "poplar"))
    make_organisation(name="In Bow", ward=term("wards", "bow-east"))
    response = admin_user_client.get(ORGANISATIONS, {"ward__id__exact": term("wards", "poplar").pk})
    assert _names_listed(response) == {"In Poplar"}


def test_filter_by_segment_and_kind(admin_user_client):
    bme = term("segments", "bme-vcos")
    general = term("organisation-kinds", "general")
    make_organisation(name="BME provider", segments=[bme], kinds=[general])
    make_organisation(name="BME group", segments=[bme])
    make_organisation(name="Plain group")
    assert _names_listed(admin_user_client.get(ORGANISATIONS, {"segments__id__exact": bme.pk})) == {
        "BME provider",
        "BME group",
    }
    assert _names_listed(admin_user_client.get(ORGANISATIONS, {"kinds__id__exact": general.pk})) == {"BME provider"}


def test_the_list_shows_each_organisations_kinds_by_name_not_code(admin_user_client):
    general = term("organisation-kinds", "general")
    make_organisation(name="Named provider", kinds=[general])
    html = admin_user_client.get(ORGANISATIONS, {"q": "Named provider"}).content.decode()
    cell = html.split('class="field-kind_list"', 1)[1].split("</td>", 1)[0]
    assert general.name in cell and ">general<" not in cell


def test_filter_by_network_and_membership_status_apply_to_the_same_membership(admin_user_client):
    main, bme = make_network(name="Main"), make_network(name="BME")
    both = make_organisation(name="Both")
    make_membership(organisation=both, network=main, status=Membership.Status.ACTIVE)
    make_membership(organisation=both, network=bme, status=Membership.Status.APPLIED)
    only_bme = make_organisation(name="Only BME")
    make_membership(organisation=only_bme, network=bme, status=Membership.Status.ACTIVE)
    make_organisation(name="No network")

    assert _names_listed(admin_user_client.get(ORGANISATIONS, {"network": bme.pk})) == {"Both", "Only BME"}
    assert _names_listed(admin_user_client.get(ORGANISATIONS, {"membership": "applied"})) == {"Both"}
    # Active in BME: "Both" is active only in Main, so it is not listed.
    assert _names_listed(admin_user_client.get(ORGANISATIONS, {"network": bme.pk, "membership": "active"})) == {
        "Only BME"
    }
    active = admin_user_client.get(ORGANISATIONS, {"membership": "active"})
    assert active.context["cl"].result_count == 2, "an organisation active in two networks is listed once"
    assert _names_listed(admin_user_client.get(ORGANISATIONS, {"membership": "none"})) == {"No network"}


def test_filter_by_details_last_confirmed_and_stale_flag(admin_user_client):
    today = timezone.localdate()
    make_organisation(name="Recent", details_confirmed_on=today - timedelta(days=30))
    make_organisation(name="Old", details_confirmed_on=today - timedelta(days=400))
    make_organisation(name="Never", details_confirmed_on=None)
    assert _names_listed(admin_user_client.get(ORGANISATIONS, {"confirmed": "recent"})) == {"Recent"}
    assert _names_listed(admin_user_client.get(ORGANISATIONS, {"confirmed": "old"})) == {"Old"}
    assert _names_listed(admin_user_client.get(ORGANISATIONS, {"confirmed": "never"})) == {"Never"}
    assert _names_listed(admin_user_client.get(ORGANISATIONS, {"confirmed": "stale"})) == {"Old", "Never"}

    response = admin_user_client.get(ORGANISATIONS)
    model_admin = response.context["cl"].model_admin
    flags = {org.name: "Stale" in model_admin.stale_flag(org) for org in response.context["cl"].result_list}
    assert flags == {"Recent": False, "Old": True, "Never": True}
    assert response.content.decode().count("icon-alert.svg") == 2


@pytest.mark.parametrize(
    "query, expected",
    [
        ("bow arts", "Bow Arts"),
        ("1012345", "Bow Arts"),
        ("e16an", "Bow Arts"),  # postcode without the space, lower case
        ("e1 6an", "Bow Arts"),
        ("123456", "Poplar Hub"),  # company number 00123456
        ("hello@poplarhub", "Poplar Hub"),
        # org-ids, in any case, find the organisation holding that number in that list
        ("GB-CHC-1012345", "Bow Arts"),
        ("gb-coh-123456", "Poplar Hub"),
        ("GB-SC-SC012345", "Bow Arts"),
        ("SC012345", "Bow Arts"),
        ("GB-NIC-NIC100019", "Poplar Hub"),
        ("GB-MPR-235C", "Mile End Credit Union"),
        ("235c", "Mile End Credit Union"),
    ],
)
def test_search(admin_user_client, query, expected):
    make_organisation(name="Bow Arts", charity_number="1012345", scottish_charity_number="SC012345", postcode="E1 6AN")
    make_organisation(
        name="Poplar Hub",
        company_number="00123456",
        ni_charity_number="100019",
        email="hello@poplarhub.org",
        postcode="E14 0AB",
    )
    make_organisation(name="Mile End Credit Union", mutuals_number="235C", postcode="E3 4AA")
    assert _names_listed(admin_user_client.get(ORGANISATIONS, {"q": query})) == {expected}


def test_organisation_list_queries_do_not_grow_with_rows(admin_user_client):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_user_client.get(ORGANISATIONS).status_code == 200
        return len(queries)

    def add(n):
        network = make_network()
        for _ in range(n):
            organisation = make_organisation(
                ward=term("wards", "poplar"), kinds=[term("organisation-kinds", "general")]
            )
            make_membership(organisation=organisation, network=network)

    add(2)
    few = count_queries()
    add(10)
    assert count_queries() == few


# Organisation actions ----------------------------------------------------------------------------


def test_export_selected_organisations_as_csv(admin_user_client):
    chosen = make_organisation(
        name="Chosen", kinds=[term("organisation-kinds", "vco"), term("organisation-kinds", "network")]
    )
    make_organisation(name="Not chosen")
    response = admin_user_client.post(ORGANISATIONS, {"action": "export_csv", "_selected_action": [chosen.pk]})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = body.splitlines()
    assert lines[0].startswith("org_id,name,kinds,legal_form,charity_number")
    assert len(lines) == 2 and lines[1].startswith(",Chosen,")
    assert "Voluntary or community organisation (VCO); VCS network" in lines[1]


def test_export_selected_organisations_as_xlsx(admin_user_client):
    chosen = [make_organisation(name="Alpha"), make_organisation(name="Beta")]
    make_organisation(name="Gamma")
    response = admin_user_client.post(
        ORGANISATIONS, {"action": "export_xlsx", "_selected_action": [o.pk for o in chosen]}
    )
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("org_id", "name", "kinds")
    assert [row[1] for row in rows[1:]] == ["Alpha", "Beta"]


def test_request_details_confirmation_queues_once_a_day(admin_user_client, django_capture_on_commit_callbacks):
    with_email = make_organisation(name="Has email", email="office@example.org")
    with_editor = make_organisation(name="Has editor")
    make_affiliation(user=make_user(email="editor@example.org"), organisation=with_editor)
    no_contact = make_organisation(name="No contact")
    chosen = [with_email, with_editor, no_contact]

    with django_capture_on_commit_callbacks() as callbacks:
        response = _run_action(admin_user_client, ORGANISATIONS, "request_details_confirmation", chosen)
    assert Reminder.objects.filter(kind="confirm-details").count() == 2
    assert len(callbacks) == 2, "each new reminder is handed to a worker after commit"
    text = " ".join(_messages(response))
    assert "Queued 2 requests" in text
    assert "1 has no email address and no editors to ask: No contact" in text
    assert sorted(Reminder.objects.values_list("recipients", flat=True)) == [
        ["editor@example.org"],
        ["office@example.org"],
    ]

    response = _run_action(admin_user_client, ORGANISATIONS, "request_details_confirmation", chosen)
    assert Reminder.objects.filter(kind="confirm-details").count() == 2
    assert "2 were not sent again: a request already went to them today" in " ".join(_messages(response))


# Memberships -------------------------------------------------------------------------------------


def test_membership_filters(admin_user_client):
    today = timezone.localdate()
    main, bme = make_network(name="Main"), make_network(name="BME")
    make_membership(organisation=make_organisation(name="Overdue"), network=main, renewal_due=today - timedelta(days=1))
    make_membership(organisation=make_organisation(name="Soon"), network=main, renewal_due=today + timedelta(days=30))
    make_membership(organisation=make_organisation(name="Later"), network=bme, renewal_due=today + timedelta(days=31))
    make_membership(organisation=make_organisation(name="Applied"), network=bme, status=Membership.Status.APPLIED)

    def listed(**params):
        return {m.organisation.name for m in admin_user_client.get(MEMBERSHIPS, params).context["cl"].result_list}

    assert listed(renewal="overdue") == {"Overdue"}
    assert listed(renewal="soon") == {"Soon"}
    assert listed(renewal="later") == {"Later"}
    assert listed(renewal="none") == {"Applied"}
    assert listed(network__id__exact=bme.pk) == {"Later", "Applied"}
    assert listed(status__exact="applied") == {"Applied"}
    assert listed(q="overd") == {"Overdue"}


def test_approve_only_approves_applications(admin_user_client):
    network = make_network(renewal_period_months=12)
    applied = make_membership(
        organisation=make_organisation(name="Applicant"), network=network, status=Membership.Status.APPLIED
    )
    active = make_membership(
        organisation=make_organisation(name="Member"), network=network, renewal_due=date(2030, 1, 1)
    )
    response = _run_action(admin_user_client, MEMBERSHIPS, "approve", [applied, active])

    applied.refresh_from_db()
    active.refresh_from_db()
    today = timezone.localdate()
    assert applied.status == Membership.Status.ACTIVE
    assert applied.joined_on == today and applied.renewal_due == today + relativedelta(months=12)
    assert applied.approved_by.is_superuser
    assert active.renewal_due == date(2030, 1, 1), "a skipped membership is not touched"
    text = " ".join(_messages(response))
    assert "Approved 1 membership" in text
    assert "Skipped 1: already active, not an application" in text and "Member" in text
    assert applied.history.first().history_user == applied.approved_by


def test_mark_renewed_extends_by_the_networks_period(admin_user_client):
    network = make_network(renewal_period_months=6)
    due = timezone.localdate() + timedelta(days=10)
    active = make_membership(network=network, renewal_due=due)
    applied = make_membership(network=network, status=Membership.Status.APPLIED)
    left = make_membership(network=network, status=Membership.Status.LEFT)
    response = _run_action(admin_user_client, MEMBERSHIPS, "mark_renewed", [active, applied, left])

    active.refresh_from_db()
    applied.refresh_from_db()
    left.refresh_from_db()
    assert active.renewal_due == due + relativedelta(months=6)
    assert applied.status == Membership.Status.APPLIED and left.status == Membership.Status.LEFT
    text = " ".join(_messages(response))
    assert "Renewed 1 membership" in text
    assert "still an application: approve it first" in text
    assert "the organisation has left the network" in text


def test_renewal_reminder_is_created_once_even_when_sent_twice_a_day(
    admin_user_client, django_capture_on_commit_callbacks
):
    organisation = make_organisation(email="office@example.org")
    membership = make_membership(organisation=organisation, renewal_due=timezone.localdate() + timedelta(days=20))
    lapsed_without_date = make_membership(status=Membership.Status.LAPSED)
    applied = make_membership(status=Membership.Status.APPLIED)

    with django_capture_on_commit_callbacks() as callbacks:
        first = _run_action(
            admin_user_client, MEMBERSHIPS, "send_renewal_reminder", [membership, lapsed_without_date, applied]
        )
    second = _run_action(admin_user_client, MEMBERSHIPS, "send_renewal_reminder", [membership])

    reminders = Reminder.objects.filter(kind="membership-renewal")
    assert reminders.count() == 1
    assert reminders.get().recipients == ["office@example.org"]
    assert len(callbacks) == 1
    first_text = " ".join(_messages(first))
    assert "Queued 1 renewal reminder" in first_text
    assert "no renewal date" in first_text and "not a current or lapsed member" in first_text
    assert "a reminder already went today" in " ".join(_messages(second))


def test_export_selected_memberships(admin_user_client):
    chosen = make_membership(organisation=make_organisation(name="Chosen"))
    make_membership(organisation=make_organisation(name="Other"))
    response = admin_user_client.post(MEMBERSHIPS, {"action": "export_csv", "_selected_action": [chosen.pk]})
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == (
        "organisation,org-id,charity number,email,network,status,applied on,joined on,renewal due,left on"
    )
    assert len(lines) == 2 and lines[1].startswith("Chosen,")
    response = admin_user_client.post(MEMBERSHIPS, {"action": "export_xlsx", "_selected_action": [chosen.pk]})
    rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][0] == "Chosen"


# Reminders ---------------------------------------------------------------------------------------


@pytest.fixture
def email_templates(settings, tmp_path):
    folder = tmp_path / "emails"
    folder.mkdir()
    (folder / "test.txt").write_text("Hello {{ name }}")
    (folder / "test.html").write_text("<p>Hello {{ name }}</p>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]


def test_reminder_admin_is_read_only_and_filters(admin_user_client):
    make_reminder(subject="Pending one", kind="confirm-details")
    make_reminder(subject="Sent one", kind="membership-renewal", status=Reminder.Status.SENT)
    response = admin_user_client.get(REMINDERS, {"status__exact": "sent"})
    assert _names_listed(response) == {"Sent one (Sent)"}
    assert _names_listed(admin_user_client.get(REMINDERS, {"kind": "confirm-details"})) == {"Pending one (Pending)"}
    assert _names_listed(admin_user_client.get(REMINDERS, {"q": "pending"})) == {"Pending one (Pending)"}
    assert admin_user_client.get(reverse("admin:notifications_reminder_add")).status_code == 403


def test_send_now_sends_pending_reminders_once(admin_user_client, email_templates):
    due = make_reminder(subject="Due", template="emails/test", context={"name": "Bow"})
    future = make_reminder(subject="Future", template="emails/test", due_at=timezone.now() + timedelta(days=3))
    sent = make_reminder(subject="Done", template="emails/test", status=Reminder.Status.SENT)
    response = _run_action(admin_user_client, REMINDERS, "send_now", [due, future, sent])

    assert sorted(message.subject for message in mail.outbox) == ["Due", "Future"]
    assert mail.outbox[0].alternatives[0][0].startswith("<p>Hello")
    due.refresh_from_db()
    future.refresh_from_db()
    assert due.status == future.status == Reminder.Status.SENT
    text = " ".join(_messages(response))
    assert "Sent 2 reminders" in text and "Skipped 1: already sent: Done" in text

    _run_action(admin_user_client, REMINDERS, "send_now", [due])
    assert len(mail.outbox) == 2, "a sent reminder is never sent again"
