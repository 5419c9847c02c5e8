"""Forms for referrals. They check and tidy what people type; the services decide and save."""

import uuid as uuid_module

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from directory.models import Service
from organisations.models import Organisation
from taxonomies.models import Taxonomy, TaxonomyTerm

from . import selectors
from .models import DESCRIPTION_MAX_LENGTH, NOTE_MAX_LENGTH, SATISFACTION_CHOICES, Referral
from .services import CONSENT_PURPOSE

_UNKNOWN_PROVIDER = _(
    "That provider is not in the directory, has closed, or does not take referrals. Choose one from the list."
)


def _bootstrap(form: forms.Form) -> None:
    """Bootstrap classes for forms laid out by hand in a template (filters, bulk actions)."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        elif not isinstance(widget, forms.HiddenInput | forms.CheckboxSelectMultiple):
            widget.attrs.setdefault("class", "form-control")


def _materialise_choices(field: forms.ModelChoiceField) -> None:
    """Render a model choice list from one ordinary query (Django would open a server-side cursor)."""
    choices = [("", field.empty_label)] if field.empty_label is not None else []
    choices += [(field.prepare_value(obj), field.label_from_instance(obj)) for obj in field.queryset]
    field.widget.choices = choices


class UUIDChoiceField(forms.ModelChoiceField):
    """Chooses a record by its public UUID; anything that is not one is simply not a valid choice."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, to_field_name="uuid", **kwargs)

    def to_python(self, value):
        if value not in self.empty_values and parse_uuid(value) is None:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


def _terms(code: str):
    return TaxonomyTerm.objects.in_taxonomy(code).order_by("order", "name")


class AskForm(forms.Form):
    """Step 1 of asking for support: what is needed, about the group, who to contact, consent."""

    organisation = forms.ModelChoiceField(
        label=_("Organisation asking for support"), queryset=Organisation.objects.none(), empty_label=None
    )
    needs = forms.ModelMultipleChoiceField(
        label=_("What do you need help with?"),
        queryset=TaxonomyTerm.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one kind of support you need.")},
    )
    description = forms.CharField(
        label=_("Tell us more"),
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What is the problem, and what have you tried? Up to %(max)d characters.")
        % {"max": DESCRIPTION_MAX_LENGTH},
        error_messages={"required": _("Say in a few words what help you need.")},
    )
    urgency = forms.ChoiceField(
        label=_("How urgent is it?"),
        choices=Referral.Urgency.choices,
        initial=Referral.Urgency.ROUTINE,
        widget=forms.RadioSelect,
    )
    stage = forms.TypedChoiceField(
        label=_("Your organisation's development stage"),
        choices=[("", _("Not sure"))] + list(Organisation.Stage.choices),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_(
            "Stage 1: new groups, up to about £10k a year. Stage 2: strengthening management, about £10k to £1m. Stage 3: delivering public services, about £250k to £5m."
        ),
    )
    communities = forms.ModelMultipleChoiceField(
        label=_("Communities you serve"),
        queryset=TaxonomyTerm.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    language = forms.ModelChoiceField(
        label=_("Preferred language for the support"),
        queryset=TaxonomyTerm.objects.none(),
        required=False,
        empty_label=_("No preference"),
    )
    existing_provider = UUIDChoiceField(
        # Not "already work with": the directory's "Ask for support" buttons fill it with the provider chosen there.
        label=_("A provider you want to ask, or already work with (optional)"),
        queryset=Organisation.objects.none(),
        required=False,
        empty_label=_("None: suggest providers for us"),
        help_text=_("If you name one, it is always suggested first."),
        error_messages={"invalid_choice": _UNKNOWN_PROVIDER},
    )
    service = UUIDChoiceField(
        queryset=Service.objects.none(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("That service is not taking referrals at the moment.")},
    )
    contact_name = forms.CharField(label=_("Contact name"), max_length=200)
    contact_email = forms.EmailField(label=_("Contact email"))
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=30, required=False)
    consent = forms.BooleanField(
        label=_("I agree to these details being shared for this purpose"),
        error_messages={
            "required": _("We can only send your request with your consent to share these details with the provider.")
        },
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = selectors.organisations_user_can_ask_for(user)
        self.fields["needs"].queryset = _terms(Taxonomy.NEEDS)
        self.fields["communities"].queryset = _terms(Taxonomy.COMMUNITIES)
        self.fields["language"].queryset = _terms(Taxonomy.LANGUAGES)
        self.fields["existing_provider"].queryset = selectors.referral_providers()
        self.fields["service"].queryset = Service.objects.taking_referrals()
        self.fields["consent"].help_text = CONSENT_PURPOSE
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(_("Who is asking"), "organisation"),
            Fieldset(_("What you need"), "needs", "description", "urgency"),
            Fieldset(_("About your organisation"), "stage", "communities", "language"),
            Fieldset(_("Who to ask"), "existing_provider", "service"),
            Fieldset(_("Who the provider should contact"), "contact_name", "contact_email", "contact_phone"),
            Fieldset(_("Consent"), "consent"),
        )

    def clean(self):
        data = super().clean()
        service, provider = data.get("service"), data.get("existing_provider")
        if service is not None and (provider is None or service.organisation_id != provider.pk):
            self.add_error("existing_provider", _("The service chosen belongs to a different provider."))
        return data


class ChooseProviderForm(forms.Form):
    """Step 2: pick one of the suggested providers, or leave it to the network."""

    NETWORK = "network"

    provider = forms.ChoiceField(label=_("Send the request to"), widget=forms.RadioSelect)

    def __init__(self, *args, suggestions, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(str(s.provider.uuid), s.provider.name) for s in suggestions]
        choices.append((self.NETWORK, _("I am not sure: let the network's co-ordinators choose")))
        self.fields["provider"].choices = choices
        self.fields["provider"].initial = choices[0][0]
        self.fields["provider"].error_messages["invalid_choice"] = _(
            "Choose one of the suggested providers; the one sent is not among them."
        )


def _note_field(label=None, *, required_message=None) -> forms.CharField:
    return forms.CharField(
        label=label or _("Note (optional)"),
        max_length=NOTE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": required_message} if required_message else {},
    )


def _provider_field(label) -> UUIDChoiceField:
    return UUIDChoiceField(
        label=label,
        queryset=Organisation.objects.none(),
        required=False,
        empty_label=_("Choose a provider"),
        error_messages={"invalid_choice": _UNKNOWN_PROVIDER, "required": _("Choose the provider.")},
    )


def _action_fields(action: str, referral: Referral) -> tuple[dict[str, forms.Field], set[str]]:
    """The fields shown under one choice of the action area, and which of them that choice needs."""
    if action == "decline":
        reason = _note_field(_("Why are you declining?"), required_message=_("Give the group a reason for declining."))
        reason.help_text = _("The group sees this reason.")
        return {"reason": reason}, {"reason"}
    if action in ("pass-on", "route"):
        provider = _provider_field(_("Pass it on to") if action == "pass-on" else _("Send it to"))
        providers = selectors.referral_providers()
        if action == "pass-on" and referral.provider_id:
            providers = providers.exclude(pk=referral.provider_id)
        provider.queryset = providers
        _materialise_choices(provider)
        if action == "route":
            return {"provider": provider, "note": _note_field()}, {"provider"}
        note = _note_field(
            _("Note for the next provider and the group"), required_message=_("Add a note: why it is being passed on.")
        )
        return {"provider": provider, "note": note}, {"provider", "note"}
    if action == "close":
        outcome = forms.ChoiceField(
            label=_("Outcome"),
            choices=[
                (value, label) for value, label in Referral.Outcome.choices if value != Referral.Outcome.WITHDRAWN
            ],
            widget=forms.RadioSelect,
            required=False,
            error_messages={"required": _("Choose the outcome.")},
        )
        return {"outcome": outcome, "note": _note_field(_("What was done (optional)"))}, {"outcome"}
    if action == "assign":
        officer = forms.ModelChoiceField(
            label=_("Assign to"),
            queryset=selectors.officers_of(referral.provider),
            empty_label=None,
            required=False,
            error_messages={"required": _("Choose the officer to assign it to.")},
        )
        officer.label_from_instance = lambda user: user.get_full_name() or user.username
        _materialise_choices(officer)
        return {"officer": officer}, {"officer"}
    return {"note": _note_field()}, set()  # accept, start, withdraw


class ReferralActionForm(forms.Form):
    """The one action area on a referral's page: "What do you want to do?" as a radio group, with each
    choice's fields shown under it, one button, and every error at once. Only the chosen move's fields
    are checked; the services then decide whether the move is allowed."""

    ACTION_LABELS = {
        "accept": _("Accept it"),
        "decline": _("Decline it"),
        "pass-on": _("Pass it on to another provider"),
        "start": _("Mark it as in progress"),
        "close": _("Close it with an outcome"),
        "assign": _("Assign it to an officer"),
        "route": _("Send it to a provider"),
        "withdraw": _("Withdraw the request"),
    }

    # The version of the referral the page was drawn from; a stale one is refused (someone else acted).
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    action = forms.ChoiceField(
        label=_("What do you want to do?"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose what you want to do."),
            "invalid_choice": _("That cannot be done with this referral now. Reload the page to see what can."),
        },
    )

    def __init__(self, *args, referral: Referral, actions: list[str], offered: list[str] | None = None, **kwargs):
        """actions: the moves accepted; offered: those the page shows (all of them unless given). A page
        drawn before someone else acted may post a move no longer offered: the services answer it (the
        referral changed, or that move is not allowed from its status) rather than a bare "invalid choice"."""
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [(action, self.ACTION_LABELS[action]) for action in actions]
        self.offered = actions if offered is None else offered
        self.action_fields: dict[str, list[str]] = {}
        self._needed: dict[str, set[str]] = {}
        for action in actions:
            fields, needed = _action_fields(action, referral)
            names = [f"{action}-{name}" for name in fields]
            self.fields.update(zip(names, fields.values(), strict=True))
            self.action_fields[action] = names
            self._needed[action] = {f"{action}-{name}" for name in needed}

    def choices(self):
        """Each option of the radio group with the fields revealed under it, for the template."""
        fields_of = {action: [self[name] for name in names] for action, names in self.action_fields.items()}
        return [
            (option, fields_of[option.data["value"]])
            for option in self["action"]
            if option.data["value"] in self.offered
        ]

    def clean(self):
        data = super().clean()
        chosen = data.get("action")
        for action, names in self.action_fields.items():
            for name in names:
                if action != chosen:
                    # Another choice's fields are not part of this move: never an error, never used.
                    self._errors.pop(name, None)
                    data.pop(name, None)
                elif (
                    name in self._needed[action]
                    and name not in self._errors
                    and data.get(name) in self.fields[name].empty_values
                ):
                    self.add_error(name, self.fields[name].error_messages["required"])
        return data

    def move(self) -> tuple[str, dict]:
        """The chosen move and its values, named as the service takes them."""
        action = self.cleaned_data["action"]
        prefix = f"{action}-"
        return action, {name.removeprefix(prefix): self.cleaned_data[name] for name in self.action_fields[action]}


class FeedbackForm(forms.Form):
    satisfaction = forms.TypedChoiceField(
        label=_("How satisfied are you with the support?"),
        choices=SATISFACTION_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how satisfied you are, from 1 to 5.")},
    )
    still_needed = forms.CharField(
        label=_("What do you still need?"),
        max_length=NOTE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Anything else your group needs help with: the network uses this to plan its support."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Send feedback")))


class InboxFilterForm(forms.Form):
    STATUS_CHOICES = [("", _("Any status")), ("open", _("Open (not closed or declined)"))] + list(
        Referral.Status.choices
    )
    AGE_CHOICES = [
        ("", _("Any age")),
        ("7", _("Older than 7 days")),
        ("14", _("Older than 14 days")),
        ("30", _("Older than 30 days")),
        ("90", _("Older than 90 days")),
    ]

    q = forms.CharField(label=_("Organisation name"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    need = forms.ModelChoiceField(
        label=_("Need"), queryset=TaxonomyTerm.objects.none(), required=False, empty_label=_("Any need")
    )
    age = forms.ChoiceField(label=_("Age"), choices=AGE_CHOICES, required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)

    # The inbox opens on what needs doing: open referrals, until another status (or "Any status") is chosen.
    DEFAULT_STATUS = "open"

    @property
    def narrows(self) -> bool:
        """Whether a filter other than the status (which always has one) is in use: on a phone, the
        folded filters' button says so."""
        return any(self.data.get(name) for name in ("need", "age", "overdue", "mine"))

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and "status" not in data:
            data = data.copy()
            data["status"] = self.DEFAULT_STATUS
        super().__init__(data, *args, **kwargs)
        self.fields["need"].queryset = _terms(Taxonomy.NEEDS)
        _materialise_choices(self.fields["need"])
        _bootstrap(self)

    def filters(self, user) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "q": data["q"],
            "status": data["status"],
            "need": data["need"],
            "older_than_days": int(data["age"]) if data["age"] else None,
            "overdue": data["overdue"],
            "assigned_to": user if data["mine"] else None,
        }


class UUIDMultipleChoiceField(forms.ModelMultipleChoiceField):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, to_field_name="uuid", **kwargs)

    def _check_values(self, value):
        for item in value:
            if parse_uuid(item) is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": item}
                )
        return super()._check_values(value)


class BulkAssignForm(forms.Form):
    referrals = UUIDMultipleChoiceField(
        label=_("Referrals"),
        queryset=Referral.objects.none(),
        error_messages={
            "required": _("Tick the referrals to assign."),
            "invalid_choice": _(
                "One of the referrals ticked is not in this inbox (it may have been passed on). Reload the page."
            ),
        },
    )
    officer = forms.ModelChoiceField(label=_("Assign the ticked referrals to"), queryset=None, empty_label=None)

    def __init__(self, *args, provider: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["referrals"].queryset = Referral.objects.for_provider(provider)
        self.fields["officer"].queryset = selectors.officers_of(provider)
        self.fields["officer"].label_from_instance = lambda user: user.get_full_name() or user.username
        _materialise_choices(self.fields["officer"])
        _bootstrap(self)


class ContactDataForm(forms.Form):
    email = forms.EmailField(label=_("The person's email address"))


def parse_uuid(value: str):
    try:
        return uuid_module.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None
