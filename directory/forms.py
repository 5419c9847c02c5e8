"""Forms for the directory's pages. They check and tidy what people type; saving is for services.py."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout, Submit
from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from core import images
from core.fields import normalise_charity_number, normalise_company_number, normalise_postcode

from . import selectors
from .models import Location, Network, Organisation, Schedule, Service, ServiceContact, Taxonomy, User

LOGO_CONTENT_TYPES = "image/png,image/jpeg,image/gif,image/webp"


def _formfield(model_field, **kwargs):
    # People type "www.example.org"; assume https, as Django 6 will.
    if isinstance(model_field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return model_field.formfield(**kwargs)


class LogoInput(forms.ClearableFileInput):
    initial_text = _("Current logo")
    input_text = _("Upload a new one")
    clear_checkbox_label = _("Remove the logo")


class LoginForm(AuthenticationForm):
    """Log in with a username or with the email address on the account."""

    username = forms.CharField(
        label=_("Username or email address"),
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}),
    )

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        # Django sizes the box for a username; an email address can be longer.
        self.fields["username"].max_length = 254
        self.fields["username"].widget.attrs["maxlength"] = 254

    def clean(self):
        given = self.cleaned_data.get("username", "")
        if "@" in given:
            username = selectors.username_for_email(given)
            if username:
                self.cleaned_data["username"] = username
        return super().clean()


class OrganisationFilterForm(forms.Form):
    """The organisation list's search box and filters (sent by GET)."""

    q = forms.CharField(
        label=_("Name contains"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "class": "form-control"}),
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[
            ("", _("Any kind")),
            (selectors.KIND_VCO, _("Voluntary and community organisations")),
            (selectors.KIND_PROVIDER, _("Infrastructure providers")),
        ],
    )
    ward = forms.ModelChoiceField(
        label=_("Ward"), required=False, queryset=None, to_field_name="code", empty_label=_("Any ward")
    )
    stage = forms.TypedChoiceField(
        label=_("Development stage"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any stage")), *Organisation.Stage.choices],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ward"].queryset = selectors.terms_in(Taxonomy.WARDS)
        for name in ("kind", "ward", "stage"):
            self.fields[name].widget.attrs["class"] = "form-select"

    def filters(self) -> dict:
        """The valid filters; a filter with a bad value is left out (its error is shown)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}


class _OrganisationChecks:
    """Checks shared by the edit and registration forms: tidy UK identifiers, refuse a number another
    organisation holds, and warn about a near-duplicate name until the person confirms."""

    name_check_message = _(
        "This name is very like one already in the directory (see the likely match above). If yours is a "
        "different organisation, tick “This is a different organisation” and save again."
    )

    def clean_charity_number(self):
        return normalise_charity_number(self.cleaned_data.get("charity_number", ""))

    def clean_company_number(self):
        return normalise_company_number(self.cleaned_data.get("company_number", ""))

    def clean_postcode(self):
        return normalise_postcode(self.cleaned_data.get("postcode", ""))

    def name_needs_checking(self, name: str) -> bool:
        return True

    def fieldset_helper(self, submit: Submit) -> FormHelper:
        """The form drawn in its fieldsets. Built when drawn, so that the "different organisation" box
        appears only after a near-duplicate warning."""
        helper = FormHelper()
        helper.form_method = "post"
        # The server's checks and error summary speak for every field, rather than browser bubbles.
        helper.attrs = {"novalidate": ""}
        fieldsets = [
            Fieldset(legend, *[name for name in names if name in self.fields and self._shows(name)])
            for legend, names in self.fieldsets
        ]
        helper.layout = Layout(*fieldsets, submit)
        return helper

    def _shows(self, name: str) -> bool:
        return name != "different_organisation" or bool(self.similar_organisations)

    def check_organisation(self, cleaned_data: dict, *, exclude_id: int | None) -> None:
        errors = selectors.duplicate_number_errors(
            charity_number=cleaned_data.get("charity_number", ""),
            company_number=cleaned_data.get("company_number", ""),
            exclude_id=exclude_id,
        )
        for field_name, message in errors.items():
            self.add_error(field_name, message)
        name = cleaned_data.get("name")
        if name and self.name_needs_checking(name):
            # A closed organisation's existence is private, so it is never offered as a match.
            self.similar_organisations = [
                match for match in selectors.similar_organisations(name, exclude_id=exclude_id) if match.is_active
            ]
            if self.similar_organisations and not cleaned_data.get("different_organisation"):
                self.add_error("name", self.name_check_message)


# The identifiers are declared on the forms rather than taken from the model so that spacing and case
# are tidied before the length is checked ("e1  6an" is a fine postcode).
def _charity_number_field() -> forms.CharField:
    return forms.CharField(
        label=_("Charity number"),
        required=False,
        max_length=20,
        help_text=_("Leave empty if you are not a registered charity."),
    )


def _company_number_field() -> forms.CharField:
    return forms.CharField(
        label=_("Company number"),
        required=False,
        max_length=20,
        help_text=_("Your Companies House number, if you are a company."),
    )


def _postcode_field() -> forms.CharField:
    return forms.CharField(
        label=_("Postcode"),
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )


def _different_organisation_field() -> forms.BooleanField:
    return forms.BooleanField(
        label=_("This is a different organisation from the similar names shown"),
        required=False,
    )


def _public_fields_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=_("Show these on our public page"),
        required=False,
        choices=Organisation.OPTIONAL_PUBLIC_FIELDS,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Anything not ticked is seen only by your organisation's people and the network admins."),
    )


def _limit_taxonomy_fields(form: forms.Form) -> None:
    """Offer only active terms of each field's own vocabulary; grouped vocabularies offer their leaves."""
    taxonomies = {
        "ward": Taxonomy.WARDS,
        "communities_served": Taxonomy.COMMUNITIES,
        "segments": Taxonomy.SEGMENTS,
        "languages": Taxonomy.LANGUAGES,
        "functions": Taxonomy.FUNCTIONS,
    }
    for name, code in taxonomies.items():
        if name in form.fields:
            terms = selectors.terms_in(code)
            if name == "functions":
                terms = terms.filter(parent__isnull=False)
            form.fields[name].queryset = terms


class OrganisationForm(_OrganisationChecks, forms.ModelForm):
    """An organisation's record, as its editors keep it."""

    charity_number = _charity_number_field()
    company_number = _company_number_field()
    postcode = _postcode_field()
    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        widget=LogoInput(attrs={"accept": LOGO_CONTENT_TYPES}),
        help_text=format_lazy(
            _(
                "A PNG, JPEG, GIF or WebP image of up to {megabytes} MB. It is resized to fit a square of {pixels} pixels."
            ),
            megabytes=f"{settings.PORTAL_LOGO_MAX_BYTES / (1024 * 1024):g}",
            pixels=settings.PORTAL_LOGO_MAX_PIXELS,
        ),
    )
    public_fields = _public_fields_field()
    different_organisation = _different_organisation_field()

    class Meta:
        model = Organisation
        formfield_callback = _formfield
        fields = [
            "name", "legal_form", "charity_number", "company_number", "year_founded",
            "contact_name", "email", "phone", "website", "facebook_url", "x_url", "instagram_url", "linkedin_url",
            "address_line_1", "address_line_2", "town", "postcode", "ward", "geographic_level", "area_of_benefit",
            "premises_accessibility",
            "activities", "about",
            "development_stage", "income_band", "paid_staff", "volunteers",
            "communities_served", "segments", "languages", "functions",
        ]  # fmt: skip
        widgets = {
            "communities_served": forms.CheckboxSelectMultiple,
            "segments": forms.CheckboxSelectMultiple,
            "languages": forms.CheckboxSelectMultiple,
            "functions": forms.CheckboxSelectMultiple,
            "activities": forms.Textarea(attrs={"rows": 3}),
            "about": forms.Textarea(attrs={"rows": 10}),
            "premises_accessibility": forms.Textarea(attrs={"rows": 3}),
            "phone": forms.TextInput(attrs={"type": "tel"}),
        }
        help_texts = {
            "about": _(
                "Your organisation's own words for its page. You can use Markdown: *emphasis*, **bold**, "
                "lists, [links](https://example.org), ## headings and > quotes."
            ),
        }

    fieldsets = [
        (_("Identity"), ["name", "different_organisation", "legal_form", "charity_number", "company_number",
                         "year_founded", "logo"]),
        (_("Contact"), ["contact_name", "email", "phone", "website", "facebook_url", "x_url", "instagram_url",
                        "linkedin_url"]),
        (_("Address"), ["address_line_1", "address_line_2", "town", "postcode", "ward", "geographic_level",
                        "area_of_benefit", "premises_accessibility"]),
        (_("About"), ["activities", "about"]),
        (_("Who you serve"), ["development_stage", "income_band", "paid_staff", "volunteers", "communities_served",
                              "segments", "languages", "functions"]),
        (_("Your public page"), ["public_fields"]),
    ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.similar_organisations = []
        # Errors are listed in the order the fields appear on the page.
        self.order_fields([name for _legend, names in self.fieldsets for name in names])
        _limit_taxonomy_fields(self)
        self.fields["logo"].initial = self.instance.logo or None
        self.fields["public_fields"].initial = list(self.instance.public_fields or [])
        # Infrastructure functions describe providers; a VCO's form leaves them out.
        if self.instance.pk and not self.instance.kinds.filter(code__in=Organisation.PROVIDER_KINDS).exists():
            del self.fields["functions"]

    @property
    def helper(self) -> FormHelper:
        return self.fieldset_helper(Submit("save", _("Save changes")))

    def name_needs_checking(self, name: str) -> bool:
        # Only a new name is checked: an existing neighbour with a similar name must not block every save.
        return name.strip().casefold() != (self.initial.get("name") or "").strip().casefold()

    def clean_logo(self):
        upload = self.cleaned_data.get("logo")
        if isinstance(upload, UploadedFile):
            return images.process_logo(upload, name=self.instance.slug or self.cleaned_data.get("name") or "logo")
        return upload

    def clean(self):
        cleaned_data = super().clean()
        self.check_organisation(cleaned_data, exclude_id=self.instance.pk)
        return cleaned_data

    def organisation_data(self) -> dict:
        """What to hand to services.save_organisation."""
        data = {name: self.cleaned_data[name] for name in self._meta.fields if name in self.cleaned_data}
        data["public_fields"] = [
            name for name, _label in Organisation.OPTIONAL_PUBLIC_FIELDS if name in self.cleaned_data["public_fields"]
        ]
        logo = self.cleaned_data.get("logo")
        if logo is False:  # "clear" was ticked
            data["logo"] = ""
        elif isinstance(logo, ContentFile):  # a new upload, checked and resized by clean_logo
            data["logo"] = logo
        return data


class MembershipApplicationForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Which organisation is applying?"), queryset=Organisation.objects.none()
    )
    note = forms.CharField(
        label=_("Why does your organisation want to join?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("A few sentences for the network admin who reviews applications."),
    )

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        self.fields["organisation"].empty_label = None if organisations.count() == 1 else _("Choose an organisation")
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.add_input(Submit("apply", _("Send the application")))


class RegistrationForm(_OrganisationChecks, forms.ModelForm):
    """A new group signs up: the person's account and the organisation, in one go."""

    first_name = forms.CharField(
        label=_("Your first name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label=_("Your last name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    account_email = forms.EmailField(
        label=_("Your email address"),
        max_length=150,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("You will log in with this address."),
    )
    password1 = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Type the password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    charity_number = _charity_number_field()
    company_number = _company_number_field()
    postcode = _postcode_field()
    network = forms.ModelChoiceField(
        label=_("Apply to join a member network"),
        required=False,
        queryset=Network.objects.none(),
        empty_label=_("Not now"),
        help_text=_("A network admin approves each application."),
    )
    note = forms.CharField(
        label=_("Why does your organisation want to join?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    public_fields = _public_fields_field()
    different_organisation = _different_organisation_field()

    class Meta:
        model = Organisation
        formfield_callback = _formfield
        fields = [
            "name", "legal_form", "charity_number", "company_number", "activities",
            "email", "phone", "postcode", "ward", "development_stage", "communities_served",
        ]  # fmt: skip
        labels = {"name": _("Organisation name"), "email": _("Organisation email"), "phone": _("Organisation phone")}
        widgets = {
            "activities": forms.Textarea(attrs={"rows": 3}),
            "communities_served": forms.CheckboxSelectMultiple,
            "phone": forms.TextInput(attrs={"type": "tel"}),
        }

    fieldsets = [
        (_("About you"), ["first_name", "last_name", "account_email", "password1", "password2"]),
        (_("Your organisation"), ["name", "different_organisation", "legal_form", "charity_number", "company_number",
                                  "activities", "development_stage"]),
        (_("Contact and area"), ["email", "phone", "postcode", "ward", "communities_served"]),
        (_("Your public page"), ["public_fields"]),
        (_("Member networks"), ["network", "note"]),
    ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.similar_organisations = []
        self.order_fields([name for _legend, names in self.fieldsets for name in names])
        _limit_taxonomy_fields(self)
        self.fields["activities"].required = True
        self.fields["network"].queryset = selectors.networks_open_for_applications()
        self.fields["public_fields"].initial = list(Organisation.DEFAULT_PUBLIC_FIELDS)

    @property
    def helper(self) -> FormHelper:
        return self.fieldset_helper(Submit("register", _("Register")))

    def clean_account_email(self):
        email = self.cleaned_data["account_email"].strip()
        if selectors.username_for_email(email) or selectors.username_taken(email):
            raise ValidationError(
                _("There is already an account with this email address: log in, or reset your password.")
            )
        return email

    def clean(self):
        cleaned_data = super().clean()
        password1, password2 = cleaned_data.get("password1"), cleaned_data.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords are different."))
        elif password1:
            candidate = User(
                username=cleaned_data.get("account_email", ""),
                email=cleaned_data.get("account_email", ""),
                first_name=cleaned_data.get("first_name", ""),
                last_name=cleaned_data.get("last_name", ""),
            )
            try:
                password_validation.validate_password(password1, user=candidate)
            except ValidationError as error:
                self.add_error("password1", error)
        self.check_organisation(cleaned_data, exclude_id=None)
        return cleaned_data

    def organisation_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self._meta.fields if name in self.cleaned_data}
        data["public_fields"] = [
            name for name, _label in Organisation.OPTIONAL_PUBLIC_FIELDS if name in self.cleaned_data["public_fields"]
        ]
        return data


# The directory of services ------------------------------------------------------------------------


class _FastSelect(forms.Select):
    """A single-choice <select> built in Python rather than one template per option: the directory's
    filters show about a hundred options on every page. Same markup and attributes as forms.Select
    (id, class, aria-invalid from the bound field)."""

    def render(self, name, value, attrs=None, renderer=None):
        selected = set(self.format_value(value))
        final_attrs = self.build_attrs(self.attrs, attrs)
        # As django/forms/widgets/attrs.html writes them: in order, True as a bare name, False left out.
        attributes = "".join(
            format_html(' {}="{}"', key, str(item)) if item is not True else format_html(" {}", key)
            for key, item in final_attrs.items()
            if item is not False
        )
        parts = [format_html('<select name="{}"', name), attributes, ">"]
        for option_value, option_label in self.choices:
            option_value = "" if option_value is None else str(option_value)
            parts.append(
                format_html(
                    '\n  <option value="{}"{}>{}</option>\n',
                    option_value,
                    mark_safe(" selected") if option_value in selected else "",
                    option_label,
                )
            )
        parts.append("\n</select>")
        return mark_safe("".join(parts))


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

    def set_terms(self, terms) -> None:
        self._terms_by_code = {term.code: term for term in terms}
        self.choices = [("", self.empty_label), *((term.code, str(term)) for term in terms)]

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
        widget=forms.TextInput(attrs={"type": "search", "class": "form-control"}),
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
    free = forms.BooleanField(label=_("Free services only"), required=False)
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
        super().__init__(*args, **kwargs)
        # One query for every filter's terms (was one per field to render, plus one per value to check).
        by_taxonomy = {code: [] for code in self.TERM_FIELDS.values()}
        for term in selectors.terms_in_taxonomies(list(by_taxonomy)):
            by_taxonomy[term.taxonomy_code].append(term)
        for name, code in self.TERM_FIELDS.items():
            self.fields[name].set_terms(by_taxonomy[code])
        for name, field in self.fields.items():
            if name not in ("q", "free"):
                field.widget.attrs["class"] = "form-select"
        self.fields["free"].widget.attrs["class"] = "form-check-input"

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
    terms = selectors.terms_in(code)
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
        formfield_callback = _formfield

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

    postcode = _postcode_field()

    class Meta:
        model = Location
        fields = ["name", "address_line_1", "address_line_2", "town", "postcode", "ward", "accessibility"]
        widgets = {"accessibility": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="new_location", **kwargs)
        self.fields["ward"].queryset = selectors.terms_in(Taxonomy.WARDS)
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
