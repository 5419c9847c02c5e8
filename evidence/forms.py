"""Forms for evidence pages. They check and tidy input; services write."""

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.forms import DayMonthYearField, english_date_field
from organisations.models import Organisation

from . import selectors
from .models import CaseStudy, Indicator, JointProject


def default_scope_dates(today: date | None = None) -> tuple[date, date]:
    """The last twelve months, ending today."""
    today = today or timezone.localdate()
    return today - relativedelta(years=1) + timedelta(days=1), today


class ScopeForm(forms.Form):
    """A period and an area (a ward, or the whole borough), as query parameters."""

    # One box each, as day/month/year: the period is carried in the page's address.
    start = english_date_field(gettext_lazy("From"), help_text=gettext_lazy("For example, 1/4/2026"))
    end = english_date_field(gettext_lazy("To"), help_text=gettext_lazy("For example, 31/3/2027"))
    area = forms.CharField(
        label=gettext_lazy("Area"),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
        help_text=gettext_lazy("A ward, or the whole borough."),
    )

    def __init__(self, data=None, *args, use_defaults: bool = True, **kwargs):
        if use_defaults and data is not None and not any(data.get(name) for name in ("start", "end", "area")):
            data = None  # a first visit to a page of figures: show the defaults, not errors
        if data is None:
            start, end = default_scope_dates()
            data = {"start": f"{start:%d/%m/%Y}", "end": f"{end:%d/%m/%Y}", "area": ""}
        super().__init__(data, *args, **kwargs)
        self.wards = selectors.kept_wards()
        self.fields["area"].widget.choices = [("", _("The whole borough"))] + [(ward.code, ward.name) for ward in self.wards]

    def clean_area(self):
        code = (self.cleaned_data.get("area") or "").strip()
        if not code:
            return None
        for ward in self.wards:
            if ward.code == code:
                return ward
        raise forms.ValidationError(
            _("There is no ward \u201c%(code)s\u201d. Choose a ward from the list, or the whole borough.") % {"code": code}
        )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end of the period (%(end)s) is before its start (%(start)s).") % {"end": end.strftime("%-d %B %Y"), "start": start.strftime("%-d %B %Y")})
        if start and end and (end - start).days > 366 * 20:
            self.add_error("start", _("Choose a period of at most twenty years."))
        return cleaned

    def scope(self) -> selectors.Scope:
        return selectors.Scope(start=self.cleaned_data["start"], end=self.cleaned_data["end"], area=self.cleaned_data["area"])


class ReportForm(ScopeForm):
    """The report's period and area. The case studies it offers (ticked ones are read from the query
    by the view) are only consented ones in that period and area, so a forged id shows nothing."""

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.available_stories = []

    def set_stories(self, studies) -> None:
        self.available_stories = list(studies)


class ProjectForm(forms.ModelForm):
    class Meta:
        model = JointProject
        fields = [
            "title",
            "lead",
            "partners",
            "funders",
            "other_funders",
            "funder_accounts",
            "start_date",
            "end_date",
            "budget",
            "aims",
            "period_length",
            "return_due_days",
        ]
        field_classes = {"start_date": DayMonthYearField, "end_date": DayMonthYearField}
        widgets = {
            "partners": forms.SelectMultiple(attrs={"size": 8}),
            "funders": forms.SelectMultiple(attrs={"size": 6}),
            "funder_accounts": forms.SelectMultiple(attrs={"size": 4}),
            "other_funders": forms.Textarea(attrs={"rows": 3}),
            "aims": forms.Textarea(attrs={"rows": 5}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        organisations = Organisation.objects.active().order_by("name")
        if user.is_network_admin:
            self.fields["lead"].queryset = organisations
        else:
            from organisations.selectors import organisations_edited_by

            # The current lead stays on offer, so saving other changes never forces a new lead.
            self.fields["lead"].queryset = Organisation.objects.filter(
                Q(pk__in=organisations_edited_by(user).values("pk")) | Q(pk=self.instance.lead_id)
            ).order_by("name")
            self.fields["lead"].help_text = _("An organisation you are an editor or officer of.")
        self.fields["partners"].queryset = organisations
        self.fields["partners"].help_text = _("Hold Ctrl (Cmd on a Mac) to choose several.")
        self.fields["funders"].queryset = organisations
        self.fields["funder_accounts"].queryset = User.objects.filter(role=User.Role.FUNDER, is_active=True).order_by("username")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end date must be on or after the start date."))
        return cleaned

    def project_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name not in ("partners", "funders", "funder_accounts")}


class IndicatorForm(forms.ModelForm):
    target_per_period = forms.DecimalField(
        label=gettext_lazy("Target for each period"),
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text=gettext_lazy("Set for every period now; change single periods on the targets page."),
    )

    class Meta:
        model = Indicator
        fields = ["kind", "name", "definition", "unit", "value_type", "order"]
        widgets = {"kind": forms.RadioSelect, "definition": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["target_per_period"]

    def validate_unique(self):
        # The project is set by the view, not the form: check the name here so a clash is a field error.
        super().validate_unique()
        name = self.cleaned_data.get("name")
        project = getattr(self.instance, "project", None) if self.instance.project_id else None
        if project and name and project.indicators.exclude(pk=self.instance.pk).filter(name__iexact=name).exists():
            self.add_error("name", _("This project already has an indicator called \u201c%(name)s\u201d.") % {"name": name})


class TargetsForm(forms.Form):
    """A target for each indicator in each period, as text so the service can say what is wrong."""

    def __init__(self, *args, progress: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.grid = []
        for kind in ("outputs", "outcomes"):
            for item in progress[kind]:
                cells = []
                for period, target, _actual in item.rows:
                    name = f"target_{item.indicator.pk}_{period.pk}"
                    self.fields[name] = forms.CharField(
                        label=_("%(indicator)s, period %(number)s") % {"indicator": item.indicator.name, "number": period.number},
                        initial=f"{target.normalize():f}",
                        max_length=20,
                        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6}),
                    )
                    cells.append((period, self[name]))
                self.grid.append((item.indicator, cells))

    def targets(self) -> dict[tuple[int, int], str]:
        result = {}
        for name, value in self.cleaned_data.items():
            _prefix, indicator_id, period_id = name.split("_")
            result[(int(indicator_id), int(period_id))] = value
        return result


class ReturnForm(forms.Form):
    """A partner's figures, one field per indicator (outputs and outcomes apart), and the narrative.

    Figures are text here: the service checks each against its indicator's type and names it."""

    narrative = forms.CharField(
        label=gettext_lazy("Narrative"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("What happened this period: successes, problems and what you will do next."),
    )

    def __init__(self, *args, indicators, figures: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.outputs, self.outcomes = [], []
        for indicator in indicators:
            name = f"figure_{indicator.pk}"
            value = figures.get(indicator.pk)
            help_bits = [indicator.get_value_type_display()]
            if indicator.definition:
                help_bits.insert(0, indicator.definition)
            self.fields[name] = forms.CharField(
                label=indicator.name + (f" ({indicator.unit})" if indicator.unit else ""),
                required=False,
                max_length=30,
                initial=f"{value.normalize():f}" if value is not None else "",
                help_text=" · ".join(str(bit) for bit in help_bits),
                widget=forms.TextInput(attrs={"inputmode": "decimal"}),
            )
            (self.outputs if indicator.is_output else self.outcomes).append(self[name])
        self.order_fields([*(f"figure_{i.pk}" for i in indicators), "narrative"])

    def figures(self) -> dict[int, str]:
        return {int(name.split("_")[1]): value for name, value in self.cleaned_data.items() if name.startswith("figure_")}


class CaseStudyForm(forms.ModelForm):
    consent_given = forms.BooleanField(
        label=gettext_lazy("The person or group this story is about has agreed to it being shared"),
        required=False,
    )

    class Meta:
        model = CaseStudy
        fields = ["title", "subject_description", "story", "outcome", "consent_given", "consent_how", "featured"]
        widgets = {"story": forms.Textarea(attrs={"rows": 8})}

    def __init__(self, *args, project: JointProject, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].queryset = project.indicators.filter(kind=Indicator.Kind.OUTCOME)
        self.fields["outcome"].required = False
