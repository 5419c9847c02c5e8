"""Forms for the provider directory's pages: search filters, services and their rows. They check and
tidy what people type; saving is for services.py."""

import copy
from dataclasses import dataclass
from html import escape

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.fields import normalise_postcode
from core.forms import model_formfield, postcode_field
from organisations.models import Organisation
from taxonomies.models import Taxonomy
from taxonomies.selectors import built_from_terms, terms_in, terms_in_taxonomies

from . import selectors
from .models import Location, Schedule, Service, ServiceContact

# The directory of services ------------------------------------------------------------------------


def _attributes_html(attrs: dict) -> str:
    """Attributes as django/forms/widgets/attrs.html writes them: in order, True as a bare name, False
    left out. (The standard library's escape: the same characters as django.utils.html.escape, at a
    fraction of its cost on every page.)"""
    return "".join(
        f' {escape(key)}="{escape(str(item))}"' if item is not True else f" {escape(key)}"
        for key, item in attrs.items()
        if item is not False
    )


@dataclass(frozen=True)
class _Options:
    """A select's options as markup, escaped once: each option as it is, and as it is when selected."""

    plain: list[str]
    selected: list[str]
    position: dict[str, int]  # an option's place by its value (the first, if two had the same)

    @classmethod
    def of(cls, choices) -> "_Options":
        plain, selected, position = [], [], {}
        for value, label in choices:
            value = "" if value is None else str(value)
            head = format_html('\n  <option value="{}"', value)
            tail = format_html(">{}</option>\n", str(label))
            plain.append(head + tail)
            selected.append(f"{head} selected{tail}")
            position.setdefault(value, len(plain) - 1)
        return cls(plain, selected, position)

    def html(self, values) -> str:
        options = list(self.plain)
        for value in values:
            if (index := self.position.get(value)) is not None:
                options[index] = self.selected[index]
        return "".join(options)


class _FastSelect(forms.Select):
    """A single-choice <select> built in Python rather than one template per option: the directory's
    filters show about a hundred options on every page. Same markup and attributes as forms.Select
    (id, class, aria-invalid from the bound field). Its options' markup is kept in `kept_options` (by
    language), which the form shares between requests while the taxonomies stay unchanged."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kept_options: dict[str, _Options] = {}

    def render(self, name, value, attrs=None, renderer=None):
        language = get_language()
        options = self.kept_options.get(language)
        if options is None:
            options = self.kept_options[language] = _Options.of(self.choices)
        final_attrs = self.build_attrs(self.attrs, attrs)
        return mark_safe(
            format_html('<select name="{}"', name)
            + _attributes_html(final_attrs)
            + ">"
            + options.html(self.format_value(value))
            + "\n</select>"
        )


class _FastInput(forms.widgets.Input):
    """An <input> built in Python from Django's own context for it (value, attributes, checked), with
    the markup of django/forms/widgets/input.html: the directory page shows two on every request."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        shown = "" if widget["value"] is None else format_html(' value="{}"', str(widget["value"]))
        return mark_safe(format_html('<input type="{}" name="{}"', widget["type"], name) + shown + _attributes_html(widget["attrs"]) + ">")


class _FastTextInput(_FastInput, forms.TextInput):
    pass


class _FastCheckbox(_FastInput, forms.CheckboxInput):
    pass


class _TermChoiceField(forms.ChoiceField):
    """A vocabulary term chosen by its code (so URLs read ?need=payroll and stay shareable).

    Its terms are given as a list (`set_terms`), loaded once for the whole form, and a valid value
    cleans to the TaxonomyTerm itself."""

    widget = _FastSelect
    default_error_messages = {
        "invalid_choice": _("“%(value)s” is not one of the choices; this filter was left out."),
    }

    def __init__(self, *, empty_label, **kwargs):
        self.empty_label = empty_label
        self._terms_by_code = {}
        super().__init__(choices=[("", empty_label)], **kwargs)

    def set_terms(self, terms_by_code: dict, choices: list[tuple[str, str]], kept_options: dict) -> None:
        """The terms by code, their choices and their options' markup by language, as kept for every
        form while the taxonomies stay unchanged (see DirectoryFilterForm)."""
        self._terms_by_code = terms_by_code
        # Already in the normalised form the choices setter would rebuild on every request.
        self._choices = self.widget.choices = [("", self.empty_label), *choices]
        self.widget.kept_options = kept_options

    def to_python(self, value):
        if value in self.empty_values:
            return None
        key = str(value)
        if key not in self._terms_by_code:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return self._terms_by_code[key]

    def validate(self, value):
        forms.Field.validate(self, value)

    def has_changed(self, initial, data):
        initial_value = getattr(initial, "code", initial)
        return str(initial_value or "") != str(data or "")


class _SharedFields(dict):
    """A form's fields shared between its instances: forms.Form deep-copies `base_fields` into each
    form's `fields`; here that copy is a new dict of the same, already set-up fields."""

    def __deepcopy__(self, memo) -> dict:
        return dict(self)


class DirectoryFilterForm(forms.Form):
    """The directory's search box, filters and sort, sent by GET. A bad value is reported and left out,
    never turned into an error page."""

    DAY_CHOICES = [("", _("Any day")), *Schedule.Weekday.choices]
    SORT_CHOICES = [
        ("relevance", _("Best match")),
        ("name", _("Name (A to Z)")),
        ("reviewed", _("Recently reviewed")),
    ]
    AREA_CHOICES = [("", _("Any area")), *Organisation.GeographicLevel.choices]

    q = forms.CharField(
        label=_("Search words"),
        required=False,
        max_length=200,
        widget=_FastTextInput(attrs={"type": "search", "class": "form-control"}),
    )
    function = _TermChoiceField(label=_("Infrastructure function"), required=False, empty_label=_("Any function"))
    need = _TermChoiceField(label=_("Support need"), required=False, empty_label=_("Any need"))
    segment = _TermChoiceField(label=_("Specialist segment"), required=False, empty_label=_("Any segment"))
    community = _TermChoiceField(label=_("Community served"), required=False, empty_label=_("Any community"))
    ward = _TermChoiceField(label=_("Ward"), required=False, empty_label=_("Any ward"))
    area = forms.ChoiceField(label=_("Area served"), required=False, choices=AREA_CHOICES, widget=_FastSelect)
    language = _TermChoiceField(label=_("Language"), required=False, empty_label=_("Any language"))
    stage = forms.TypedChoiceField(
        label=_("For groups at"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any stage")), *Organisation.Stage.choices],
        widget=_FastSelect,
    )
    day = forms.ChoiceField(label=_("Open on"), required=False, choices=DAY_CHOICES, widget=_FastSelect)
    free = forms.BooleanField(label=_("Free services only"), required=False, widget=_FastCheckbox)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES, widget=_FastSelect)

    TERM_FIELDS = {
        "function": Taxonomy.FUNCTIONS,
        "need": Taxonomy.NEEDS,
        "segment": Taxonomy.SEGMENTS,
        "community": Taxonomy.COMMUNITIES,
        "ward": Taxonomy.WARDS,
        "language": Taxonomy.LANGUAGES,
    }

    def __init__(self, *args, **kwargs):
        # The terms kept for the taxonomies' data version: the same object until a term changes.
        self.kept_terms = built_from_terms("directory-filter-terms", self.filter_terms)
        # The fields set up from them, shared by every form until then: Django's deep copy of a dozen
        # fields with a hundred choices was a large part of the page's own time. Nothing here changes
        # a field once it is set up (see _SharedFields).
        self.base_fields = _SharedFields(built_from_terms("directory-filter-fields", self._fields_for_kept_terms))
        super().__init__(*args, **kwargs)

    @classmethod
    def _fields_for_kept_terms(cls) -> dict[str, forms.Field]:
        kept_terms = built_from_terms("directory-filter-terms", cls.filter_terms)
        fields = copy.deepcopy(cls.base_fields)
        for name, (terms_by_code, choices, kept_options) in kept_terms.items():
            fields[name].set_terms(terms_by_code, choices, kept_options)
        for name, field in fields.items():
            if name not in ("q", "free"):
                field.widget.attrs["class"] = "form-select"
        fields["free"].widget.attrs["class"] = "form-check-input"
        return fields

    @classmethod
    def filter_terms(cls) -> dict[str, tuple[dict, list[tuple[str, str]], dict]]:
        """Each filter's terms by code, its choices and (filled as pages are shown) its options' markup by
        language, from one query; kept while the taxonomies stay unchanged
        (taxonomies.selectors.built_from_terms), not rebuilt as model objects per request."""
        by_taxonomy = {code: [] for code in cls.TERM_FIELDS.values()}
        for term in terms_in_taxonomies(list(by_taxonomy)):
            by_taxonomy[term.taxonomy_code].append(term)
        return {
            name: ({term.code: term for term in by_taxonomy[code]}, [(term.code, str(term)) for term in by_taxonomy[code]], {})
            for name, code in cls.TERM_FIELDS.items()
        }

    def clean_q(self):
        from .search import clean_search_text

        return clean_search_text(self.cleaned_data.get("q", ""))

    def search_filters(self):
        """Validated filters (directory.search.ServiceFilters); values with errors are left out."""
        from .search import ServiceFilters

        if not self.is_bound:
            return ServiceFilters(sort="name")
        self.is_valid()
        data = self.cleaned_data
        filters = ServiceFilters(
            text=data.get("q") or "",
            area=data.get("area") or "",
            free_only=bool(data.get("free")),
            stage=data.get("stage"),
            day=data.get("day") or "",
            sort=data.get("sort") or ("relevance" if data.get("q") else "name"),
        )
        for name, attribute in (
            ("function", "functions"),
            ("need", "needs"),
            ("segment", "segments"),
            ("community", "communities"),
            ("ward", "wards"),
            ("language", "languages"),
        ):
            if data.get(name):
                setattr(filters, attribute, [data[name]])
        return filters


def _taxonomy_checkboxes(form: forms.Form, name: str, code: str, *, leaves_only: bool = False) -> None:
    terms = terms_in(code)
    if leaves_only:
        terms = terms.filter(parent__isnull=False)
    form.fields[name].queryset = terms
    form.fields[name].widget = forms.CheckboxSelectMultiple(choices=form.fields[name].choices)


class ServiceForm(forms.ModelForm):
    """One of a provider's services, as its officers keep it."""

    locations = forms.ModelMultipleChoiceField(
        label=_("Where it runs"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick the places it runs from. Add a new place below."),
    )

    class Meta:
        model = Service
        fields = [
            "name",
            "description",
            "status",
            "accepting_referrals",
            "functions",
            "needs",
            "segments",
            "communities",
            "serves_stage_1",
            "serves_stage_2",
            "serves_stage_3",
            "minimum_age",
            "maximum_age",
            "geographic_level",
            "area_served",
            "wards",
            "is_online",
            "offers_outreach",
            "schedule_notes",
            "access_drop_in",
            "access_self_referral",
            "access_portal_referral",
            "access_booking",
            "is_free",
            "fee_amount",
            "fee_description",
            "languages",
            "accessibility",
            "url",
            "email",
            "phone",
        ]
        formfield_callback = model_formfield

    fieldsets = [
        (_("The service"), ["name", "description", "status", "accepting_referrals"]),
        (_("What it does"), ["functions", "needs"]),
        (_("Who it is for"), ["segments", "communities", "serves_stage_1", "serves_stage_2", "serves_stage_3", "minimum_age", "maximum_age"]),
        (_("Where"), ["geographic_level", "area_served", "wards", "locations", "is_online", "offers_outreach"]),
        (_("When"), ["schedule_notes"]),
        (_("How to get it"), ["access_drop_in", "access_self_referral", "access_portal_referral", "access_booking"]),
        (_("Cost"), ["is_free", "fee_amount", "fee_description"]),
        (_("Languages and access"), ["languages", "accessibility"]),
        (_("Contact"), ["url", "email", "phone"]),
    ]

    def __init__(self, *args, organisation: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.fields["locations"].queryset = selectors.locations_of(organisation)
        if self.instance.pk:
            self.fields["locations"].initial = list(self.instance.locations.values_list("pk", flat=True))
        _taxonomy_checkboxes(self, "functions", Taxonomy.FUNCTIONS, leaves_only=True)
        for name, code in (
            ("needs", Taxonomy.NEEDS),
            ("segments", Taxonomy.SEGMENTS),
            ("communities", Taxonomy.COMMUNITIES),
            ("wards", Taxonomy.WARDS),
            ("languages", Taxonomy.LANGUAGES),
        ):
            _taxonomy_checkboxes(self, name, code)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            *[Fieldset(legend, *names) for legend, names in self.fieldsets]
        )

    def clean(self):
        data = super().clean()
        if not data.get("is_free") and data.get("fee_amount") is None and not data.get("fee_description"):
            self.add_error("fee_amount", _("Give the fee, or say what it depends on, or tick “free”."))
        low, high = data.get("minimum_age"), data.get("maximum_age")
        if low is not None and high is not None and low > high:
            self.add_error("maximum_age", _("The maximum age must not be below the minimum age."))
        if not any(data.get(f"serves_stage_{stage}") for stage in (1, 2, 3)):
            self.add_error("serves_stage_1", _("Tick at least one development stage the service is for."))
        return data

    def service_data(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "locations"}


class NewLocationForm(forms.ModelForm):
    """A new place, added while editing a service. Left empty, nothing is added."""

    postcode = postcode_field()

    class Meta:
        model = Location
        fields = ["name", "address_line_1", "address_line_2", "town", "postcode", "ward", "accessibility"]
        widgets = {"accessibility": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="new_location", **kwargs)
        self.fields["ward"].queryset = terms_in(Taxonomy.WARDS)
        for field in self.fields.values():
            field.required = False
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean_postcode(self):
        return normalise_postcode(self.cleaned_data.get("postcode", ""))

    def has_location(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return any(data.get(name) for name in ("name", "address_line_1", "postcode"))

    def clean(self):
        data = super().clean()
        if self.has_location():
            for name in ("name", "address_line_1", "postcode"):
                if not data.get(name):
                    self.add_error(name, _("Needed for a new place."))
        return data

    def _post_clean(self):
        # The model's own checks run in services.save_service, only when a place is being added.
        pass


def _bootstrap_widgets(form: forms.Form) -> None:
    for name, field in form.fields.items():
        if name == "DELETE":
            field.widget.attrs["class"] = "form-check-input"
        elif isinstance(field.widget, forms.Select):
            field.widget.attrs["class"] = "form-select"
        else:
            field.widget.attrs["class"] = "form-control"


class ScheduleForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _bootstrap_widgets(self)

    class Meta:
        model = Schedule
        fields = ["weekday", "opens_at", "closes_at", "attending_type", "notes"]
        widgets = {
            "opens_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "closes_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def clean(self):
        data = super().clean()
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and opens >= closes:
            self.add_error("closes_at", _("The closing time must be after the opening time."))
        return data


class ContactForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _bootstrap_widgets(self)

    class Meta:
        model = ServiceContact
        fields = ["name", "title", "email", "phone"]


ScheduleFormSet = forms.inlineformset_factory(Service, Schedule, form=ScheduleForm, extra=2, can_delete=True)
ContactFormSet = forms.inlineformset_factory(Service, ServiceContact, form=ContactForm, extra=1, can_delete=True)


def formset_rows(formset) -> list[dict]:
    """An inline formset's rows for services.save_service: the row's pk (or None), DELETE and its fields."""
    rows = []
    for form in formset.forms:
        if not form.has_changed() and not form.instance.pk:
            continue
        data = dict(form.cleaned_data)
        instance = data.pop("id", None) or (form.instance if form.instance.pk else None)
        data.pop(formset.fk.name, None)
        rows.append({**data, "id": instance.pk if instance else None})
    return rows
