"""Forms for the calendar and notice board. They check input; services write."""

import html
import re
from datetime import date

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings
from django.forms.models import ModelChoiceIterator
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeData, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.forms import DayMonthYearField, DayMonthYearTimeField, add_service_problems, parse_day_month_year
from core.parameters import validate_date_in_window
from directory.models import Location
from organisations.models import Organisation
from taxonomies.models import Taxonomy, TaxonomyTerm

from . import services
from .models import CalendarFeed, Category, Event, Notice, NoticeReport
from .selectors import EventFilters


def _helper(label: str) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = True
    helper.attrs = {"novalidate": ""}
    helper.add_input(Submit("submit", label))
    return helper


def _terms(code: str):
    return TaxonomyTerm.objects.in_taxonomy(code).order_by("order", "name")


def _escaped(value) -> str:
    """As conditional_escape, without a SafeString per value (django.utils.html.escape is html.escape)."""
    return value if isinstance(value, SafeData) else html.escape(str(value))


class QuickSelect(forms.Select):
    """A drop-down written straight to HTML. The calendar's filter bar has about a hundred options, and
    rendering each through Django's widget templates cost more than the rest of the month view."""

    def render(self, name, value, attrs=None, renderer=None):
        final_attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        selected = "" if value is None else str(value)
        options = "".join(
            f'<option value="{_escaped(key)}"{" selected" if str(key) == selected else ""}>{_escaped(label)}</option>'
            for key, label in self.choices
        )
        return format_html("<select{}>{}</select>", flatatt(final_attrs), mark_safe(options))


class NameChoiceIterator(ModelChoiceIterator):
    """A filter's options as plain (code or slug, name) rows: organisations and taxonomy terms show
    their name (their __str__), and building a model instance per option cost a quarter of the
    calendar pages' rendering. Choosing still checks the value against the queryset."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        yield from self.queryset.values_list(self.field.to_field_name, "name")


class NamedChoiceField(forms.ModelChoiceField):
    iterator = NameChoiceIterator


class EventFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=200)
    category = forms.ChoiceField(
        label=gettext_lazy("Category"), required=False, choices=[("", gettext_lazy("Any category"))] + Category.choices
    )
    organiser = NamedChoiceField(
        label=gettext_lazy("Organiser"),
        required=False,
        queryset=Organisation.objects.none(),
        empty_label=gettext_lazy("Any organiser"),
        to_field_name="slug",
    )
    segment = NamedChoiceField(
        label=gettext_lazy("For segment"),
        required=False,
        queryset=TaxonomyTerm.objects.none(),
        to_field_name="code",
        empty_label=gettext_lazy("Any"),
    )
    community = NamedChoiceField(
        label=gettext_lazy("For community"),
        required=False,
        queryset=TaxonomyTerm.objects.none(),
        to_field_name="code",
        empty_label=gettext_lazy("Any"),
    )
    stage = forms.TypedChoiceField(
        label=gettext_lazy("For development stage"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", gettext_lazy("Any"))] + list(Organisation.Stage.choices),
    )
    ward = NamedChoiceField(
        label=gettext_lazy("Ward"),
        required=False,
        queryset=TaxonomyTerm.objects.none(),
        to_field_name="code",
        empty_label=gettext_lazy("Any ward"),
    )
    free = forms.BooleanField(label=gettext_lazy("Free only"), required=False)
    online = forms.BooleanField(label=gettext_lazy("Online only"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A semi-join rather than a join with DISTINCT: cheap however many events there are.
        self.fields["organiser"].queryset = (
            Organisation.objects.active()
            .filter(
                pk__in=Event.objects.filter(moderation=Event.Moderation.APPROVED, is_withdrawn=False).values(
                    "organiser_id"
                )
            )
            .order_by("name")
            .only("pk", "slug", "name")
        )
        # Only what the options show: each page builds about a hundred of them.
        self.fields["segment"].queryset = _terms(Taxonomy.SEGMENTS).only("pk", "code", "name")
        self.fields["community"].queryset = _terms(Taxonomy.COMMUNITIES).only("pk", "code", "name")
        self.fields["ward"].queryset = _terms(Taxonomy.WARDS).only("pk", "code", "name")
        for field in self.fields.values():
            if isinstance(field.widget, forms.Select):
                field.widget = QuickSelect(attrs=field.widget.attrs, choices=field.choices)
            field.widget.attrs.setdefault(
                "class",
                "form-check-input"
                if isinstance(field.widget, forms.CheckboxInput)
                else "form-select"
                if isinstance(field.widget, forms.Select)
                else "form-control",
            )

    def filters(self) -> EventFilters:
        if not self.is_bound or not self.is_valid():
            return EventFilters()
        data = self.cleaned_data
        return EventFilters(
            q=data["q"].strip(),
            category=data["category"],
            organiser=data["organiser"],
            segment=data["segment"],
            community=data["community"],
            stage=data["stage"],
            ward=data["ward"],
            free=data["free"],
            online=data["online"],
        )

    def query_string(self) -> str:
        """The filters as a query string, to carry across list, week and month views."""
        if not self.is_bound:
            return ""
        from urllib.parse import urlencode

        keep = {key: value for key, value in self.data.items() if key in self.fields and value not in ("", None)}
        return urlencode(keep)


# The service names an event's times and skipped dates as the model does; the form as the page does.
EVENT_FORM_FIELDS = {"start": "starts", "end": "ends", "exceptions": "exception_dates"}


def _parse_day(text: str) -> date:
    """A date typed as 27/03/2027 (or 27-3-2027, or 2027-03-27 as the form once asked)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    parts = re.split(r"[/.\-\s]+", text)
    if len(parts) != 3:
        raise forms.ValidationError("not a date")
    return parse_day_month_year(*parts)


class EventForm(forms.ModelForm):
    online_url = forms.URLField(
        label=gettext_lazy("Online link"),
        required=False,
        assume_scheme="https",
        max_length=200,
        help_text=gettext_lazy("For an online or hybrid event: the joining link."),
    )
    starts = DayMonthYearTimeField(
        label=gettext_lazy("Starts (London time)"), error_messages={"required": gettext_lazy("Enter when it starts")}
    )
    ends = DayMonthYearTimeField(
        label=gettext_lazy("Ends (London time)"), error_messages={"required": gettext_lazy("Enter when it ends")}
    )
    repeat_until = DayMonthYearField(
        label=gettext_lazy("Repeats until"),
        required=False,
        help_text=gettext_lazy("For a repeating event: the last date it can happen (or give the number of times)."),
    )
    exception_dates = forms.CharField(
        label=gettext_lazy("Dates it does not happen"),
        required=False,
        help_text=gettext_lazy(
            "For a repeating event: dates to skip, as day/month/year, separated by commas. For example, "
            "25/12/2027, 1/1/2028"
        ),
    )

    class Meta:
        model = Event
        fields = [
            "title",
            "description",
            "category",
            "starts",
            "ends",
            "frequency",
            "repeat_count",
            "repeat_until",
            "exception_dates",
            "venue",
            "online_url",
            "capacity",
            "booking_required",
            "is_free",
            "cost",
            "cost_notes",
            "segments",
            "communities",
            "for_stage_1",
            "for_stage_2",
            "for_stage_3",
            "languages",
            "status",
        ]
        widgets = {
            "segments": forms.CheckboxSelectMultiple,
            "communities": forms.CheckboxSelectMultiple,
            "languages": forms.SelectMultiple(attrs={"size": 6}),
        }

    def __init__(self, *args, organiser: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organiser = organiser
        self.fields["venue"].queryset = Location.objects.filter(organisation=organiser).order_by("name")
        self.fields["venue"].help_text = _(
            "One of %(organisation)s's venues. Add a new venue from the calendar's “Add a venue” page."
        ) % {"organisation": organiser}
        self.fields["segments"].queryset = _terms(Taxonomy.SEGMENTS)
        self.fields["communities"].queryset = _terms(Taxonomy.COMMUNITIES)
        self.fields["languages"].queryset = _terms(Taxonomy.LANGUAGES)
        if self.instance.pk:
            self.initial["starts"] = timezone.localtime(self.instance.start).replace(tzinfo=None)
            self.initial["ends"] = timezone.localtime(self.instance.end).replace(tzinfo=None)
            self.initial["exception_dates"] = ", ".join(
                date.fromisoformat(day).strftime("%d/%m/%Y") for day in self.instance.exceptions or []
            )
        else:
            del self.fields["status"]
        self.helper = _helper(_("Save event"))

    def _clean_moment(self, name: str):
        value = self.cleaned_data[name]
        if value is not None:
            validate_date_in_window(value.date())
        return value

    def clean(self):
        """The service's own checks (a venue or link, a cost, places, the repetition) run here too, so
        that every problem is shown at once rather than one at a time."""
        cleaned = super().clean()
        event = self.instance if self.instance.pk else Event(organiser=self.organiser)
        add_service_problems(
            self,
            services.event_problems(
                event=event,
                data=self.service_data(),
                local_start=cleaned.get("starts"),
                local_end=cleaned.get("ends"),
            ),
            EVENT_FORM_FIELDS,
        )
        return cleaned

    def clean_starts(self):
        starts = self._clean_moment("starts")
        # A new event, or a new time, cannot be in the past; a past event can still be edited (its
        # description, its attendance), as long as its start is left as it was.
        kept = self.instance.pk and starts == self.initial["starts"].replace(second=0, microsecond=0)
        if starts is not None and not kept and timezone.make_aware(starts) < timezone.now():
            raise forms.ValidationError(
                _("The start must be in the future (it is now %(now)s)")
                % {"now": timezone.localtime().strftime("%-d %B %Y, %H:%M")},
                code="past",
            )
        return starts

    def clean_ends(self):
        return self._clean_moment("ends")

    def clean_exception_dates(self) -> list[str]:
        days = []
        for part in self.cleaned_data["exception_dates"].replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            try:
                days.append(_parse_day(part).isoformat())
            except forms.ValidationError:
                raise forms.ValidationError(
                    _("“%(value)s” is not a date: give each as day/month/year, for example 25/12/2027")
                    % {"value": part[:40]}
                ) from None
        return days

    def service_data(self) -> dict:
        data = {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in ("starts", "ends", "exception_dates")
        }
        if "exception_dates" in self.cleaned_data:
            data["exceptions"] = self.cleaned_data["exception_dates"]
        return data


class LocationForm(forms.ModelForm):
    class Meta:
        model = Location
        fields = [
            "name",
            "address_line_1",
            "address_line_2",
            "town",
            "postcode",
            "ward",
            "accessibility",
            "description",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ward"].queryset = _terms(Taxonomy.WARDS)
        self.helper = _helper(_("Add venue"))


class OrganisationChoiceForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=gettext_lazy("For which organisation?"), queryset=Organisation.objects.none()
    )

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        self.helper = _helper(_("Continue"))
        self.helper.form_method = "get"


class NoticeForm(forms.ModelForm):
    attachment = forms.FileField(
        label=gettext_lazy("Attachment (optional)"),
        required=False,
        help_text=gettext_lazy("A flyer as a PDF or an image (PNG, JPEG, GIF or WebP), up to %(size)s MB.")
        % {"size": settings.PORTAL_NOTICE_ATTACHMENT_MAX_BYTES // (1024 * 1024)},
    )

    class Meta:
        model = Notice
        fields = ["title", "text", "category", "expires_on"]
        field_classes = {"expires_on": DayMonthYearField}
        help_texts = {"expires_on": gettext_lazy("The notice comes off the board by itself after this date.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Post notice"))
        self.helper.form_enctype = "multipart/form-data"
        self.helper.attrs["enctype"] = "multipart/form-data"

    def clean(self):
        """The service's checks (the date, script, the attachment's contents) run here too, so that every
        problem is shown at once."""
        cleaned = super().clean()
        data = {name: cleaned[name] for name in self.Meta.fields if name in cleaned}
        add_service_problems(
            self, services.notice_problems(notice=self.instance, data=data, attachment=cleaned.get("attachment"))
        )
        return cleaned

    def notice_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class NoticeReportForm(forms.ModelForm):
    class Meta:
        model = NoticeReport
        fields = ["reason", "details"]
        widgets = {"reason": forms.RadioSelect, "details": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = NoticeReport.Reason.choices
        self.helper = _helper(_("Send report"))


class NoticeFilterForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    category = forms.ChoiceField(
        label=gettext_lazy("Category"),
        required=False,
        choices=[("", gettext_lazy("Any category"))] + Notice.Category.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class FeedForm(forms.ModelForm):
    url = forms.URLField(
        label=gettext_lazy("Feed address (iCalendar URL)"),
        assume_scheme="https",
        max_length=1000,
        help_text=gettext_lazy("The .ics address of your calendar, starting https://"),
    )

    class Meta:
        model = CalendarFeed
        fields = ["url", "category"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Register feed"))


class DigestForm(forms.Form):
    subscribed = forms.BooleanField(
        label=gettext_lazy("Send me the weekly email of new notices and events"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Save my choice"))


class AttendanceForm(forms.Form):
    """Ticks for one occurrence's bookings; the view builds the choices."""

    attended = forms.MultipleChoiceField(
        label=gettext_lazy("Who came"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, bookings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attended"].choices = [
            (str(b.pk), b.user.get_full_name() or b.user.get_username()) for b in bookings
        ]
