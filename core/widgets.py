"""Widgets for dates typed the GOV.UK way: day, month and year in three boxes (and a time in 24-hour
HH:MM), never the browser's own date picker, which shows mm/dd/yyyy in a US-English browser. The fields
that read them are in core.forms; the template is templates/core/widgets/day_month_year.html."""

from datetime import date, datetime

from django import forms
from django.utils.translation import gettext_lazy as _


def _part(size: int, **attrs) -> forms.TextInput:
    # Text, not type=number: a number box drops leading zeros, takes "e" and changes on a scroll.
    return forms.TextInput(attrs={"inputmode": "numeric", "size": size, "spellcheck": "false", **attrs})


class DayMonthYearWidget(forms.MultiWidget):
    """Three boxes, named <field>_day, <field>_month and <field>_year, under a hint."""

    template_name = "core/widgets/day_month_year.html"
    hint = _("For example, 27 3 2027")
    part_labels = (_("Day"), _("Month"), _("Year"))
    part_classes = ("day", "month", "year")

    def __init__(self, attrs=None):
        super().__init__({"day": _part(2), "month": _part(2), "year": _part(4)}, attrs)

    def decompress(self, value):
        if isinstance(value, date):
            return [str(value.day), str(value.month), str(value.year)]
        return [None, None, None]

    def id_for_label(self, id_):
        # The error summary links to the first box.
        return f"{id_}_0" if id_ else id_

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        hint_id = f"{context['widget']['attrs'].get('id', name)}_hint"
        for subwidget in context["widget"]["subwidgets"]:
            described = subwidget["attrs"].get("aria-describedby")
            subwidget["attrs"]["aria-describedby"] = f"{hint_id} {described}" if described else hint_id
        context["widget"]["hint"] = self.hint
        context["widget"]["hint_id"] = hint_id
        context["widget"]["parts"] = list(
            zip(self.part_labels, self.part_classes, context["widget"]["subwidgets"], strict=True)
        )
        return context


class DayMonthYearTimeWidget(DayMonthYearWidget):
    """Day, month and year, then the time as 24-hour HH:MM text (<field>_time)."""

    hint = _("For example, 27 3 2027 and 14:30 for half past 2 in the afternoon")
    part_labels = (_("Day"), _("Month"), _("Year"), _("Time"))
    part_classes = ("day", "month", "year", "time")

    def __init__(self, attrs=None):
        forms.MultiWidget.__init__(
            self,
            {"day": _part(2), "month": _part(2), "year": _part(4), "time": _part(5, inputmode="text")},
            attrs,
        )

    def decompress(self, value):
        if isinstance(value, datetime):
            return [str(value.day), str(value.month), str(value.year), value.strftime("%H:%M")]
        return [None, None, None, None]


class EnglishDateInput(forms.DateInput):
    """One text box for a date as DD/MM/YYYY, for filters carried in a page's address (a period to
    show), where three boxes would make the address long. Never type=date."""

    def __init__(self, attrs=None):
        super().__init__(attrs={"inputmode": "numeric", "autocomplete": "off", **(attrs or {})}, format="%d/%m/%Y")
