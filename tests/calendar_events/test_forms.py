"""The event and notice forms: every problem reported at once, dates typed as day, month and year, a start
in the past refused, and long text refused (never cut off) with its limit."""

import html
from datetime import datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from calendar_events.models import Event, Notice
from calendar_events.recurrence import LONDON
from organisations.models import Affiliation
from tests.factories import make_affiliation, make_event, make_provider, make_user
from tests.form_data import date_parts, event_times

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year + 1


@pytest.fixture
def officer_client(client):
    provider = make_provider()
    officer = make_user()
    make_affiliation(user=officer, organisation=provider, role=Affiliation.Role.OFFICER)
    client.force_login(officer)
    client.provider = provider
    return client


def _event_url(client) -> str:
    return reverse("calendar_events:event_create") + f"?organisation={client.provider.slug}"


def _page(response) -> str:
    return html.unescape(response.content.decode())


GOOD_EVENT = {
    "title": "Trustee training",
    "description": "For new trustees.",
    "category": "training",
    "frequency": "once",
    "online_url": "https://meet.example.org/t",
    "is_free": "on",
    "for_stage_1": "on",
}


def test_the_event_form_reports_every_problem_at_once_and_saves_nothing(officer_client):
    yesterday = timezone.localtime() - timedelta(days=1)
    data = {
        **GOOD_EVENT,
        "title": "",  # the form's own check
        "online_url": "",  # the service's: nowhere to go
        "is_free": "",  # the service's: paid, with no cost
        "capacity": "0",  # the service's: no places
        "description": "x" * 20001,  # too long
        **event_times(yesterday, yesterday + timedelta(hours=1)),  # in the past
        "repeat_until_day": "31",  # an impossible date
        "repeat_until_month": "2",
        "repeat_until_year": str(YEAR),
    }
    response = officer_client.post(_event_url(officer_client), data)
    page = _page(response)
    assert response.status_code == 200 and "There is a problem" in page
    for message in (
        "This field is required.",
        "Choose a venue or give an online link (or both).",
        "Give the cost, or tick “free”.",
        "Places must be at least 1, or left empty for no limit.",
        "Description must be 20,000 characters or fewer",
        "The start must be in the future",
        "Enter a real date",
    ):
        assert message in page, message
    # The error summary links each problem to its field; a date links to its first box.
    for anchor in ("#id_title", "#id_venue", "#id_cost", "#id_capacity", "#id_description", "#id_starts_0",
                   "#id_repeat_until_0"):  # fmt: skip
        assert f'href="{anchor}"' in page, anchor
    assert not Event.objects.exists()


def test_the_service_checks_show_with_a_bad_repetition_too(officer_client):
    data = {**GOOD_EVENT, "frequency": "weekly", "is_free": "", "title": "<script>x</script>",
            **event_times(f"{YEAR}-05-04T10:00", f"{YEAR}-05-04T09:00")}  # fmt: skip
    page = _page(officer_client.post(_event_url(officer_client), data))
    assert "The end must be after the start" in page
    assert "Give the cost, or tick “free”." in page
    assert "Remove the script" in page
    assert not Event.objects.exists()


def test_an_event_is_saved_from_day_month_year_boxes_and_shown_in_them_to_edit(officer_client):
    data = {**GOOD_EVENT, "starts_day": "4", "starts_month": "May", "starts_year": str(YEAR), "starts_time": "2pm",
            "ends_day": "04", "ends_month": "05", "ends_year": str(YEAR), "ends_time": "15:30",
            "frequency": "weekly", **date_parts("repeat_until", f"{YEAR}-05-25"),
            "exception_dates": f"18/05/{YEAR}"}  # fmt: skip
    response = officer_client.post(_event_url(officer_client), data)
    assert response.status_code == 302, _page(response)
    event = Event.objects.get()
    assert event.start == datetime(YEAR, 5, 4, 14, tzinfo=LONDON)
    assert event.end == datetime(YEAR, 5, 4, 15, 30, tzinfo=LONDON)
    assert str(event.repeat_until) == f"{YEAR}-05-25" and event.exceptions == [f"{YEAR}-05-18"]
    page = _page(officer_client.get(reverse("calendar_events:event_edit", args=[event.uuid])))
    assert 'name="starts_day" value="4"' in page and 'name="starts_month" value="5"' in page
    assert f'name="starts_year" value="{YEAR}"' in page and 'name="starts_time" value="14:00"' in page
    assert f'value="18/05/{YEAR}"' in page
    assert 'type="date"' not in page and "datetime-local" not in page
    assert "For example, 27 3 2027" in page


def test_a_past_start_is_refused_but_a_past_event_keeps_its_date_when_edited(officer_client):
    held = make_event(
        organiser=officer_client.provider, start=(timezone.now() - timedelta(days=2)).replace(second=0, microsecond=0)
    )
    edit = reverse("calendar_events:event_edit", args=[held.uuid])
    data = {
        **GOOD_EVENT,
        "status": "scheduled",
        **event_times(timezone.localtime(held.start), timezone.localtime(held.end)),
    }
    assert officer_client.post(edit, {**data, "title": "Renamed after the day"}).status_code == 302
    held.refresh_from_db()
    assert held.title == "Renamed after the day"
    an_hour_ago = timezone.localtime() - timedelta(hours=1)
    page = _page(officer_client.post(edit, {**data, **event_times(an_hour_ago, an_hour_ago + timedelta(hours=1))}))
    assert "The start must be in the future" in page
    held.refresh_from_db()
    assert held.start != an_hour_ago


def _notice_url(client) -> str:
    return reverse("calendar_events:notice_create") + f"?organisation={client.provider.slug}"


def test_the_notice_form_reports_every_problem_at_once_and_saves_nothing(officer_client):
    data = {
        "title": "",
        "text": "<script>alert(1)</script>",
        "category": "premises",
        **date_parts("expires_on", timezone.localdate() - timedelta(days=1)),
        "attachment": SimpleUploadedFile("flyer.pdf", b"MZ\x90\x00 a program, not a flyer"),
    }
    page = _page(officer_client.post(_notice_url(officer_client), data))
    for message in (
        "This field is required.",
        "Remove the script",
        "The date to show it until cannot be in the past.",
        "not a type we accept",
    ):
        assert message in page, message
    assert not Notice.objects.exists()


def test_a_notice_date_is_typed_day_month_year_and_long_text_is_refused_not_cut(officer_client):
    data = {"title": "Hall for hire", "text": "y" * 10001, "category": "premises",
            "expires_on_day": "30", "expires_on_month": "2", "expires_on_year": str(YEAR)}  # fmt: skip
    page = _page(officer_client.post(_notice_url(officer_client), data))
    assert "Text must be 10,000 characters or fewer" in page and "Enter a real date" in page
    assert 'data-maxlength="10000"' in page and ' maxlength="10000"' not in page
    assert "y" * 10001 in page  # what was typed comes back whole, to be shortened
    assert not Notice.objects.exists()
    in_ten_days = timezone.localdate() + timedelta(days=10)
    response = officer_client.post(
        _notice_url(officer_client), {**data, "text": "Cheap rates", **date_parts("expires_on", in_ten_days)}
    )
    assert response.status_code == 302
    assert Notice.objects.get().expires_on == in_ten_days


def test_the_filter_options_are_each_organiser_and_term_by_name_and_a_choice_is_kept_and_checked():
    """The filter bar's options are read as plain values (NameChoiceIterator), not model instances:
    the same value and name each, the chosen one selected, and a value not among them refused."""
    from calendar_events.forms import EventFilterForm
    from tests.factories import term

    bow = make_provider(name='Bow & "Bromley" Action')
    make_event(organiser=bow)
    make_provider(name="No events here")
    ward = term("wards", "bow-east")
    form = EventFilterForm({"organiser": bow.slug, "ward": ward.code})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["organiser"] == bow and form.cleaned_data["ward"] == ward
    organisers = str(form["organiser"])
    assert f'<option value="{bow.slug}" selected>{html.escape(bow.name)}</option>' in organisers
    assert '<option value="">Any organiser</option>' in organisers
    assert "No events here" not in organisers
    assert f'<option value="{ward.code}" selected>{html.escape(ward.name)}</option>' in str(form["ward"])
    refused = EventFilterForm({"organiser": "no-such-organisation"})
    assert not refused.is_valid() and "organiser" in refused.errors
