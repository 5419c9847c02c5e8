"""Admin helpers with no domain of their own, for every app's admin."""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet, BaseModelFormSet
from django.forms.utils import pretty_name
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.html import format_html_join
from django.utils.text import capfirst, get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .background_imports import RefusedFile


class _BoundedDateChangeList(ChangeList):
    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (OverflowError, ValueError) as error:
            # Django finds the end of a date_hierarchy day, month or year by adding to it, which
            # overflows at 9999 (and a 20-digit year overflows at once): the admin's "bad filter" instead.
            raise IncorrectLookupParameters(error) from error


class BoundedDateHierarchy:
    """For admins with a date_hierarchy: a year such as 9999 in the address is a bad filter, not a 500."""

    def get_changelist(self, request, **kwargs):
        return _BoundedDateChangeList


# Web addresses typed without a scheme ("example.org") are taken to be https.
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}
# How many names an action's message lists before it says "and N more".
NAMES_IN_MESSAGE = 10


def names_in_message(objects) -> str:
    """The objects' names for an admin action's message: "A, B and C", or the first few "and N more"."""
    names = [str(obj) for obj in objects]
    if len(names) > NAMES_IN_MESSAGE:
        rest = len(names) - NAMES_IN_MESSAGE
        names = names[:NAMES_IN_MESSAGE] + [ngettext("%(count)d more", "%(count)d more", rest) % {"count": rest}]
    return get_text_list(names, _("and"))


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 70}),
        help_text=gettext_lazy(
            "Say what needs changing. The person who added it is emailed this, and the organisation sees it on its page; up to 500 characters."
        ),
        error_messages={"required": gettext_lazy("Give the organisation a reason.")},
    )


def with_a_reason(modeladmin, request, queryset, *, title: str, apply) -> TemplateResponse | None:
    """An admin action that first asks for a reason on a page of its own, then calls apply(obj, reason)
    for each selected object and returns to the list (None). The page posts the same action back."""
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        for obj in queryset:
            apply(obj, form.cleaned_data["reason"])
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "objects": list(queryset),
        "action": request.POST.get("action", ""),
        "opts": modeladmin.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "select_across": request.POST.get("select_across", "0"),
    }
    return TemplateResponse(request, "admin/action_with_reason.html", context)


def label_row_fields(form) -> None:
    """Name each visible field of a form drawn as one row of a table (a tabular inline, a list_editable
    changelist): such a row has column headings but no <label> per field, so a screen reader (and
    axe-core) would meet "edit text" and "combo box" with no name. The name is the field's label."""
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, RelatedFieldWidgetWrapper):
            # The wrapper draws the select it wraps with that select's own attrs (a copied wrapper's
            # attrs are still the original select's), so the name goes on the select.
            widget = widget.widget
        # Radio buttons and check boxes in a list label each of their own options.
        if widget.is_hidden or isinstance(widget, (forms.RadioSelect, forms.CheckboxSelectMultiple)):
            continue
        label = str(capfirst(field.label)) if field.label else pretty_name(name)
        if isinstance(widget, forms.MultiWidget):
            # A multi-widget passes its own attributes down to every part: each part gets its own name.
            parts = [_("date"), _("time")] if isinstance(widget, forms.SplitDateTimeWidget) else None
            for number, part in enumerate(widget.widgets, start=1):
                part.attrs["aria-label"] = f"{label} ({parts[number - 1] if parts else number})"
        else:
            widget.attrs["aria-label"] = label


class LabelledRowsFormSetMixin:
    def add_fields(self, form, index):
        super().add_fields(form, index)
        label_row_fields(form)


class LabelledInlineFormSet(LabelledRowsFormSetMixin, BaseInlineFormSet):
    """An inline formset whose fields all have names, the DELETE box and the link to the parent included."""


class LabelledChangelistFormSet(LabelledRowsFormSetMixin, BaseModelFormSet):
    """A changelist's list_editable formset whose fields all have names."""


class HarvestedReadOnly:
    """Records harvested from another directory (`is_harvested`) are kept by that directory: the admin
    shows them, and an inline's rows of one, read-only, and does not delete them (hiding a harvested
    service, or deleting its source, is how the network takes it away). List it before
    NetworkAdminAccess, which would otherwise allow everything to network admins."""

    @staticmethod
    def _harvested(obj) -> bool:
        return obj is not None and bool(getattr(obj, "is_harvested", False))

    def has_add_permission(self, request, *args):
        # An inline is asked with the record it sits in.
        return not (args and self._harvested(args[0])) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return not self._harvested(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._harvested(obj) and super().has_delete_permission(request, obj)


class PortalTabularInline(admin.TabularInline):
    """Every tabular inline of the portal: its fields are named for screen readers (see label_row_fields)."""

    formset = LabelledInlineFormSet


class RunLogInline(PortalTabularInline):
    """A feed's or source's recent runs (core.run_logs.RunLog), read-only. Set `model`, and `fields`
    from RUN_FIELDS with what the log adds. A mixin that widens access (NetworkAdminAccess) goes after
    it, before PortalTabularInline: a log is seen, never added to, changed or deleted here."""

    RUN_FIELDS = ("started_at", "succeeded", "created", "updated", "unchanged", "withdrawn", "skipped", "error", "warning_list")
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ("-started_at", "-pk")

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("what was skipped, and why"))
    def warning_list(self, run):
        return format_html_join("", "<p>{}</p>", ((line,) for line in run.warnings))


class LabelledListEditable:
    """For admins with list_editable: the fields in each changelist row are named (see label_row_fields)."""

    def get_changelist_formset(self, request, **kwargs):
        kwargs.setdefault("formset", LabelledChangelistFormSet)
        return super().get_changelist_formset(request, **kwargs)


# Background imports (core.background_imports): one upload page and one progress page for all --------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data] or super().clean(None)
        return [super().clean(data, initial)]


class BackgroundUploadForm(forms.Form):
    """The files of a background import; subclasses set the field's label, help and accepted types,
    and ``max_bytes_setting``, the setting holding the most all the files together may weigh."""

    max_bytes_setting = "PORTAL_REGISTER_UPLOAD_MAX_BYTES"
    files = MultipleFileField()

    def clean_files(self):
        uploads = self.cleaned_data["files"]
        limit = getattr(settings, self.max_bytes_setting)
        if sum(upload.size for upload in uploads) > limit:
            raise ValidationError(
                _("The files are too big together: at most %(size)s MB.") % {"size": f"{limit // (1024 * 1024):,}"}
            )
        return uploads


class BackgroundImportAdmin(admin.ModelAdmin):
    """A ModelAdmin for a BackgroundImport model: read-only rows, an upload page per kind of file, and a
    progress page that refreshes itself while the import runs."""

    progress_template = "admin/background_import/progress.html"

    def has_change_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        return redirect(self._url("upload"))

    def _url(self, name: str) -> str:
        return f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}"

    def upload_page(self, request, *, form_class, start, enqueue, title: str, intro: list[str], **context):
        """An upload page: keep the files, record the import and queue it (``enqueue(pk)``), then show
        its progress; a file ``start`` refuses (RefusedFile) is named on the form."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = form_class(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                run = start(uploads=form.cleaned_data["files"], by=request.user)
            except RefusedFile as error:
                form.add_error("files", str(error))
            else:
                enqueue(run.pk)
                return redirect(self._url("progress"), pk=run.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "form": form,
            "intro": intro,
            **context,
        }
        return TemplateResponse(request, "admin/background_import/upload.html", context)

    def progress_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = self.model.objects.filter(pk=pk).first()
        if run is None:
            return redirect(self._url("changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(run),
            "run": run,
            **self.progress_context(run),
        }
        return TemplateResponse(request, self.progress_template, context)

    def progress_context(self, run) -> dict:
        """What the progress page shows besides the run: ``upload_again`` (url name), ``outcome``."""
        return {}
