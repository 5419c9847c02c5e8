"""Forms for the VCO database's pages: organisations, registration, membership applications. They
check and tidy what people type; saving is for services.py."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout, Submit
from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.selectors import username_for_email, username_taken
from core import images
from core.fields import normalise_postcode
from core.forms import model_formfield, postcode_field, register_number_field
from core.org_id import normalise_number
from taxonomies.models import Taxonomy
from taxonomies.selectors import terms_in

from . import selectors
from .models import Network, Organisation

LOGO_CONTENT_TYPES = "image/png,image/jpeg,image/gif,image/webp"


class LogoInput(forms.ClearableFileInput):
    initial_text = _("Current logo")
    input_text = _("Upload a new one")
    clear_checkbox_label = _("Remove the logo")


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
        self.fields["ward"].queryset = terms_in(Taxonomy.WARDS)
        for name in ("kind", "ward", "stage"):
            self.fields[name].widget.attrs["class"] = "form-select"

    def filters(self) -> dict:
        """The valid filters; a filter with a bad value is left out (its error is shown)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}


# The register numbers, in the order the forms ask for them.
REGISTER_NUMBER_FIELDS = list(Organisation.IDENTIFIER_FIELDS.values())


class _OrganisationChecks:
    """Checks shared by the edit and registration forms: tidy UK identifiers, refuse a number another
    organisation holds, and warn about a near-duplicate name until the person confirms."""

    name_check_message = _(
        "This name is very like one already in the directory (see the likely match above). If yours is a "
        "different organisation, tick “This is a different organisation” and save again."
    )

    def _clean_number(self, code: str) -> str:
        return normalise_number(code, self.cleaned_data.get(Organisation.IDENTIFIER_FIELDS[code], ""))

    def clean_charity_number(self):
        return self._clean_number("GB-CHC")

    def clean_scottish_charity_number(self):
        return self._clean_number("GB-SC")

    def clean_ni_charity_number(self):
        return self._clean_number("GB-NIC")

    def clean_company_number(self):
        return self._clean_number("GB-COH")

    def clean_mutuals_number(self):
        return self._clean_number("GB-MPR")

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
            numbers={name: cleaned_data.get(name, "") for name in REGISTER_NUMBER_FIELDS if name in self.fields},
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
            terms = terms_in(code)
            if name == "functions":
                terms = terms.filter(parent__isnull=False)
            form.fields[name].queryset = terms


class OrganisationForm(_OrganisationChecks, forms.ModelForm):
    """An organisation's record, as its editors keep it."""

    charity_number = register_number_field("GB-CHC")
    scottish_charity_number = register_number_field("GB-SC")
    ni_charity_number = register_number_field("GB-NIC")
    company_number = register_number_field("GB-COH")
    mutuals_number = register_number_field("GB-MPR")
    postcode = postcode_field()
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
        formfield_callback = model_formfield
        fields = [
            "name", "legal_form", *REGISTER_NUMBER_FIELDS, "year_founded",
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
            # Text, not a number box: a number box changes on a scroll and takes "e".
            "year_founded": forms.TextInput(attrs={"inputmode": "numeric", "size": 4}),
        }
        help_texts = {
            "about": _(
                "Your organisation's own words for its page. You can use Markdown: *emphasis*, **bold**, "
                "lists, [links](https://example.org), ## headings and > quotes."
            ),
        }

    fieldsets = [
        (_("Identity"), ["name", "different_organisation", "legal_form", "year_founded", "logo"]),
        (_("Registration numbers"), REGISTER_NUMBER_FIELDS),
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
    charity_number = register_number_field("GB-CHC")
    scottish_charity_number = register_number_field("GB-SC")
    ni_charity_number = register_number_field("GB-NIC")
    company_number = register_number_field("GB-COH")
    mutuals_number = register_number_field("GB-MPR")
    postcode = postcode_field()
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
        formfield_callback = model_formfield
        fields = [
            "name", "legal_form", *REGISTER_NUMBER_FIELDS, "year_founded", "activities",
            "email", "phone", "postcode", "ward", "development_stage", "communities_served",
        ]  # fmt: skip
        labels = {"name": _("Organisation name"), "email": _("Organisation email"), "phone": _("Organisation phone")}
        help_texts = {"year_founded": _("Optional. For example, 2009")}
        widgets = {
            "year_founded": forms.TextInput(attrs={"inputmode": "numeric", "size": 4}),
            "activities": forms.Textarea(attrs={"rows": 3}),
            "communities_served": forms.CheckboxSelectMultiple,
            "phone": forms.TextInput(attrs={"type": "tel"}),
        }

    fieldsets = [
        (_("About you"), ["first_name", "last_name", "account_email", "password1", "password2"]),
        (_("Your organisation"), ["name", "different_organisation", "legal_form", "year_founded", "activities",
                                  "development_stage"]),
        (_("Registration numbers"), REGISTER_NUMBER_FIELDS),
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
        if username_for_email(email) or username_taken(email):
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
