"""core.forms: dates typed as day, month and year (and a time), character counts on long text, and the
rule that no page asks for a date with the browser's own picker."""

import importlib
import inspect
from datetime import date, datetime

import pytest
from django import forms
from django.contrib.admin.widgets import AdminTextareaWidget

from core.forms import DayMonthYearField, DayMonthYearTimeField, english_date_field
from core.widgets import EnglishDateInput


class DateForm(forms.Form):
    on = DayMonthYearField(label="Date of the meeting")
    at = DayMonthYearTimeField(label="Starts", required=False)


def _date_errors(day="", month="", year="") -> tuple[date | None, list[str]]:
    form = DateForm({"on_day": day, "on_month": month, "on_year": year})
    valid = form.is_valid()
    return (form.cleaned_data["on"] if valid else None), form.errors.get("on", [])


@pytest.mark.parametrize(
    ("day", "month", "year", "expected"),
    [
        ("27", "3", "2027", date(2027, 3, 27)),
        ("01", "03", "2027", date(2027, 3, 1)),
        (" 5 ", " 11 ", " 2030 ", date(2030, 11, 5)),
        ("29", "2", "2028", date(2028, 2, 29)),
        ("27", "Mar", "2027", date(2027, 3, 27)),
        ("27", "march", "2027", date(2027, 3, 27)),
        ("1", "Sept", "2027", date(2027, 9, 1)),
    ],
)
def test_a_good_date_is_read_day_first(day, month, year, expected):
    assert _date_errors(day, month, year) == (expected, [])


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("", "", "", "Enter a date"),
        ("", "3", "2027", "The date must include a day"),
        ("27", "", "2027", "The date must include a month"),
        ("27", "3", "", "The date must include a year"),
        ("", "", "2027", "The date must include a day and month"),
        ("27", "", "", "The date must include a month and year"),
        ("", "3", "", "The date must include a day and year"),
    ],
)
def test_a_missing_part_is_named(day, month, year, message):
    assert _date_errors(day, month, year) == (None, [message])


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("31", "2", "2027", "Enter a real date"),
        ("29", "2", "2027", "Enter a real date"),
        ("0", "1", "2027", "Enter a real date"),
        ("12", "13", "2027", "Enter a real date: the month must be a number from 1 to 12"),
        ("aa", "3", "2027", "Enter a real date: the day must be a number, like 27"),
        ("27", "Marchember", "2027", "Enter a real date: the month must be a number from 1 to 12"),
        ("27", "3", "twenty", "The year must include 4 numbers, like 2027"),
        ("27", "3", "27", "The year must include 4 numbers, like 2027"),
        ("27", "3", "99999", "The year must include 4 numbers, like 2027"),
        ("2\x00", "3", "2027", "Enter a real date: the day must be a number, like 27"),
        ("27", "3", "20\x0027", "The year must include 4 numbers, like 2027"),
        ("٢٧", "3", "2027", "Enter a real date: the day must be a number, like 27"),  # Arabic-Indic digits
        ("27", "3", "9999", "Give a date between 1 January 1900 and 31 December 2200."),
        ("27", "3", "1066", "Give a date between 1 January 1900 and 31 December 2200."),
    ],
)
def test_an_impossible_or_garbled_date_gets_a_plain_message_never_an_exception(day, month, year, message):
    assert _date_errors(day, month, year) == (None, [message])


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("14:30", (14, 30)), ("9:05", (9, 5)), ("09.05", (9, 5)), ("1430", (14, 30)), ("2:30pm", (14, 30)),
     ("12am", (0, 0)), ("12 p.m.", (12, 0)), ("00:00", (0, 0))],
)  # fmt: skip
def test_a_time_is_24_hour_hh_mm_and_am_pm_is_understood(typed, expected):
    form = DateForm({"on_day": "1", "on_month": "1", "on_year": "2027", **_at("27", "3", "2027", typed)})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["at"] == datetime(2027, 3, 27, *expected)


def _at(day, month, year, typed_time):
    return {"at_day": day, "at_month": month, "at_year": year, "at_time": typed_time}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_at("27", "3", "2027", ""), "Enter a time, for example 14:30"),
        (_at("27", "3", "2027", "25:00"), "Enter a real time, for example 14:30"),
        (_at("27", "3", "2027", "13pm"), "Enter a real time, for example 14:30"),
        (_at("27", "3", "2027", "noon"), "Enter a time as hours and minutes, for example 14:30"),
        (_at("27", "3", "2027", "14"), "Enter a time as hours and minutes, for example 14:30"),
        (_at("27", "3", "2027", "14:3\x00"), "Enter a time as hours and minutes, for example 14:30"),
        (_at("", "", "", "14:30"), "The date must include a day, month and year"),
        (_at("31", "4", "2027", "14:30"), "Enter a real date"),
        (_at("1", "1", "99999", "10:00"), "The year must include 4 numbers, like 2027"),
        (_at("1", "1", "9999", "10:00"), "Give a date between 1 January 1900 and 31 December 2200."),
    ],
)
def test_a_date_and_time_names_what_is_wrong(data, message):
    form = DateForm({"on_day": "1", "on_month": "1", "on_year": "2027", **data})
    assert not form.is_valid()
    assert form.errors["at"] == [message]


def test_the_date_boxes_are_a_fieldset_with_hint_labels_and_the_typed_values_kept():
    form = DateForm({"on_day": "31", "on_month": "2", "on_year": "2027"})
    html = form["on"].as_widget()
    assert 'type="date"' not in html and "datetime-local" not in html
    assert "For example, 27 3 2027" in html
    for number, (name, label) in enumerate((("day", "Day"), ("month", "Month"), ("year", "Year"))):
        assert f'<label class="form-label" for="id_on_{number}">{label}</label>' in html
        assert f'name="on_{name}"' in html
    assert html.count('inputmode="numeric"') == 3
    assert 'value="31"' in html and 'value="2"' in html  # what was typed comes back to be corrected
    assert 'aria-invalid="true"' in html
    assert form["on"].use_fieldset and form["on"].id_for_label == "id_on_0"
    # An existing date is shown in the boxes day first.
    unbound = DateForm(initial={"on": date(2027, 3, 5), "at": datetime(2027, 3, 5, 9, 5)})
    html = unbound["on"].as_widget() + unbound["at"].as_widget()
    assert 'name="on_day" value="5"' in html and 'name="on_month" value="3"' in html
    assert 'name="at_time" value="09:05"' in html
    assert "For example, 14:30" in html or "14:30" in html


def test_a_filter_date_is_one_box_in_day_month_year_order():
    class Period(forms.Form):
        start = english_date_field("From")

    assert Period({"start": "27/03/2027"}).is_valid()
    assert Period({"start": "2027-03-27"}).is_valid()  # addresses written before still work
    for typed in ("03/27/2027", "31/02/2027", "27/03/99999", "x\x00"):
        form = Period({"start": typed})
        assert not form.is_valid(), typed
    form = Period({"start": "03/27/2027"})
    assert form.errors["start"] == ["Enter a real date as day/month/year, for example 27/03/2027"]
    html = str(Period(initial={"start": date(2027, 3, 27)})["start"])
    assert 'value="27/03/2027"' in html and 'type="text"' in html


class TextForm(forms.Form):
    activities = forms.CharField(label="Activities", max_length=2000, widget=forms.Textarea)
    notes = forms.CharField(label="Notes", max_length=300, required=False)
    name = forms.CharField(label="Name", max_length=200, required=False)


def test_long_text_shows_a_count_and_is_never_cut_off_by_the_browser():
    form = TextForm()
    html = str(form["activities"]) + str(form["notes"])
    assert " maxlength=" not in html
    assert 'data-maxlength="2000"' in html and 'data-maxlength="300"' in html
    help_text = str(form["activities"].help_text)
    assert 'aria-live="polite"' in help_text and 'data-count-for="id_activities"' in help_text
    assert "You can enter up to 2,000 characters." in help_text
    # A short box keeps the browser's limit: nothing long is pasted into a name.
    assert 'maxlength="200"' in str(form["name"]) and "data-maxlength" not in str(form["name"])


def test_too_long_text_is_refused_with_the_field_name_and_limit():
    form = TextForm({"activities": "a" * 2001, "notes": "n" * 301})
    assert not form.is_valid()
    assert form.errors["activities"] == ["Activities must be 2,000 characters or fewer"]
    assert form.errors["notes"] == ["Notes must be 300 characters or fewer"]
    # A new line counts once, as the page's counter counts it (browsers send it as two characters).
    form = TextForm({"activities": "a\r\n" * 1000})
    assert form.is_valid() and len(form.cleaned_data["activities"]) == 1999


def test_the_admin_keeps_its_own_widgets():
    class AdminStyleForm(forms.Form):
        text = forms.CharField(max_length=500, widget=AdminTextareaWidget)

    html = str(AdminStyleForm()["text"])
    assert 'maxlength="500"' in html and "data-maxlength" not in html


FORM_MODULES = [
    "accounts.forms", "organisations.forms", "directory.forms", "referrals.forms", "calendar_events.forms",
    "quality.forms", "evidence.forms", "core.forms",
]  # fmt: skip


def test_no_page_form_asks_for_a_date_with_the_browsers_own_picker():
    checked = 0
    for module_name in FORM_MODULES:
        module = importlib.import_module(module_name)
        for _name, form_class in inspect.getmembers(module, inspect.isclass):
            if not issubclass(form_class, forms.BaseForm) or form_class.__module__ != module_name:
                continue
            for field_name, field in form_class.base_fields.items():
                widget = field.widget
                where = f"{module_name}.{form_class.__name__}.{field_name}"
                assert getattr(widget, "input_type", None) not in ("date", "datetime-local"), where
                assert widget.attrs.get("type") not in ("date", "datetime-local"), where
                if isinstance(field, forms.DateField | forms.DateTimeField):
                    assert isinstance(widget, EnglishDateInput), where
                if isinstance(field, DayMonthYearField):
                    checked += 1
    assert checked >= 5  # event start, end and repeat, notice expiry, project start and end
