"""Forms for the quality pages. They check the shape of input; services decide and write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import add_service_problems
from organisations.models import Organisation
from taxonomies.models import Taxonomy, TaxonomyTerm

from . import services
from .models import Answer, CriterionResponse, Material


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; each is checked by content in the service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        items = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        files, problems = [], []
        for item in items:
            try:
                files.append(super().clean(item, initial))
            except forms.ValidationError as error:
                if error.code == "empty":  # the service says so, by name, with the other files' problems
                    files.append(item)
                else:
                    problems.append(f"{getattr(item, 'name', '')}: {' '.join(error.messages)}")
        if problems:
            raise forms.ValidationError(problems)
        return files


class ResponseForm(forms.Form):
    rating = forms.ChoiceField(
        label=_("Does your organisation meet this criterion?"),
        choices=CriterionResponse.Rating.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose met, partly met or not met.")},
    )
    evidence_text = forms.CharField(
        label=_("Evidence"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Describe what shows you meet it. Needed when you answer met or partly met (or give a link or file)."),
    )
    evidence_links = forms.CharField(
        label=_("Links to evidence"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One web address per line, starting with https://."),
    )
    files = MultipleFileField(
        label=_("Add files"),
        required=False,
        help_text=_("PDF, Word, Excel, PowerPoint, OpenDocument or image files, up to 8 MB each."),
    )

    def clean(self):
        """The service's checks on the links and files run here too, so every problem shows at once."""
        cleaned = super().clean()
        add_service_problems(
            self,
            services.response_problems(
                evidence_links=cleaned.get("evidence_links", ""), uploads=cleaned.get("files") or []
            ),
        )
        return cleaned


REVIEW_CHOICES = [
    ("", _("Not decided yet")),
    (CriterionResponse.ReviewStatus.VERIFIED, _("Verify")),
    (CriterionResponse.ReviewStatus.RETURNED, _("Return with comments")),
]


class ReviewForm(forms.Form):
    """One decision and comment per criterion response."""

    summary = forms.CharField(label=_("Summary for the provider"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, responses, **kwargs):
        super().__init__(*args, **kwargs)
        self.responses = list(responses)
        for response in self.responses:
            code = response.criterion.code
            self.fields[f"decision_{response.pk}"] = forms.ChoiceField(
                label=_("Decision on %(code)s") % {"code": code},
                choices=REVIEW_CHOICES,
                required=False,
                initial="" if response.review_status == CriterionResponse.ReviewStatus.PENDING else response.review_status,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
            )
            self.fields[f"comment_{response.pk}"] = forms.CharField(
                label=_("Comment on %(code)s") % {"code": code},
                required=False,
                max_length=4000,
                initial=response.review_comment,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def rows(self):
        for response in self.responses:
            yield response, self[f"decision_{response.pk}"], self[f"comment_{response.pk}"]

    def decisions(self, *, verify_the_rest: bool = False) -> dict[int, tuple[str, str]]:
        """The decisions made on this form; with verify_the_rest, every criterion still pending and left
        undecided here is verified too (the reviewer's "verify all the rest" button)."""
        chosen = {}
        for response in self.responses:
            decision = self.cleaned_data.get(f"decision_{response.pk}")
            if not decision and verify_the_rest and response.review_status == CriterionResponse.ReviewStatus.PENDING:
                decision = CriterionResponse.ReviewStatus.VERIFIED
            if decision:
                chosen[response.pk] = (decision, self.cleaned_data.get(f"comment_{response.pk}", ""))
        return chosen


def _terms(code: str):
    return TaxonomyTerm.objects.in_taxonomy(code).order_by("order", "name")


class MaterialForm(forms.ModelForm):
    organisation = forms.ModelChoiceField(
        label=_("Shared by"), queryset=Organisation.objects.none(), required=False, help_text=_("The provider sharing it.")
    )
    external_url = forms.URLField(
        label=_("Link"),
        required=False,
        assume_scheme="https",
        max_length=200,
        help_text=_("For a regional or national resource held elsewhere: its web address."),
    )
    file = forms.FileField(
        label=_("File"),
        required=False,
        help_text=_("PDF, Word, Excel, PowerPoint, OpenDocument or image, up to 8 MB. Leave empty for a link-only entry."),
    )

    class Meta:
        model = Material
        fields = [
            "title", "summary", "kind", "external_url", "geographic_level", "functions", "needs",
            "for_stage_1", "for_stage_2", "for_stage_3", "is_public",
        ]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 4}),
            "functions": forms.CheckboxSelectMultiple,
            "needs": forms.CheckboxSelectMultiple,
        }

    field_order = [
        "title", "summary", "kind", "file", "external_url", "geographic_level", "organisation", "needs", "functions",
        "for_stage_1", "for_stage_2", "for_stage_3", "is_public",
    ]

    def __init__(self, *args, organisations, allow_none: bool, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["functions"].queryset = _terms(Taxonomy.FUNCTIONS).filter(parent__isnull=False)
        self.fields["needs"].queryset = _terms(Taxonomy.NEEDS)
        if editing:
            del self.fields["organisation"]
            del self.fields["file"]
        else:
            self.fields["organisation"].queryset = organisations
            self.fields["organisation"].required = not allow_none
            if not allow_none and len(organisations) == 1:
                self.fields["organisation"].initial = organisations[0]
            if allow_none:
                self.fields["organisation"].empty_label = _("The network (no single provider)")

    def material_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.cleaned_data}


class MaterialVersionForm(forms.Form):
    file = forms.FileField(label=_("New file"), help_text=_("PDF, Word, Excel, PowerPoint, OpenDocument or image, up to 8 MB."))
    note = forms.CharField(label=_("What changed"), max_length=300, required=False)


STAGE_CHOICES = [("", _("Any stage"))] + [(str(value), label) for value, label in Organisation.Stage.choices]


class MaterialFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("Any kind"))] + list(Material.Kind.choices))
    function = forms.ModelChoiceField(label=_("Function"), required=False, queryset=TaxonomyTerm.objects.none(), empty_label=_("Any function"), to_field_name="code")
    need = forms.ModelChoiceField(label=_("Need"), required=False, queryset=TaxonomyTerm.objects.none(), empty_label=_("Any need"), to_field_name="code")
    stage = forms.TypedChoiceField(label=_("Stage"), required=False, choices=STAGE_CHOICES, coerce=int, empty_value=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["function"].queryset = _terms(Taxonomy.FUNCTIONS).filter(parent__isnull=False)
        self.fields["need"].queryset = _terms(Taxonomy.NEEDS)

    def filters(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {}
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}


class HealthCheckStageForm(forms.Form):
    stage = forms.TypedChoiceField(
        label=_("Your organisation's development stage"),
        choices=[(str(value), label) for value, label in Organisation.Stage.choices],
        coerce=int,
        widget=forms.RadioSelect,
        help_text=_("Stage 1: new groups, up to about £10k a year. Stage 2: strengthening management, about £10k to £1m. Stage 3: delivering public services, about £250k to £5m."),
    )


class HealthCheckForm(forms.Form):
    """One question per field, answered on the four-point scale."""

    def __init__(self, *args, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for question in self.questions:
            self.fields[f"q{question.pk}"] = forms.TypedChoiceField(
                label=question.text,
                help_text=question.help_text,
                choices=[(str(value), label) for value, label in Answer.choices],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={
                    "required": _("Answer this question."),
                    "invalid_choice": _("Choose one of the answers given (0 to 3)."),
                },
            )

    def areas(self):
        """Questions grouped by area, for fieldsets."""
        groups = []
        for question in self.questions:
            if not groups or groups[-1][0] != question.area:
                groups.append((question.area, []))
            groups[-1][1].append(self[f"q{question.pk}"])
        return groups

    def answers(self) -> dict[int, int]:
        return {question.pk: self.cleaned_data[f"q{question.pk}"] for question in self.questions}
