"""The Django admin for the VCO database: where the network's office manages members.

The admin stays thin: bulk actions call ``organisations.services``, downloads go through
``organisations.exports`` and the organisation import through ``organisations.imports``.
"""

from contextlib import suppress
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin import NetworkAdminAccess, PortalUserAdmin
from accounts.models import User
from core.admin import (
    HTTPS_URLS,
    BackgroundImportAdmin,
    BackgroundUploadForm,
    HarvestedReadOnly,
    MultipleFileField,
    MultipleFileInput,
    PortalTabularInline,
    names_in_message,
)
from core.exports import CSV, FORMATS, XLSX, tabular_response
from core.fields import normalise_postcode
from core.org_id import normalise_number, parse_org_id, validate_number
from notifications.tasks import enqueue_reminder

from . import charity_register, companies_house, exports, imports, selectors, services, tasks
from .models import Affiliation, CharityRegisterImport, Membership, Network, Organisation, RegisterFinding

# People --------------------------------------------------------------------------------------------


class AffiliationInline(HarvestedReadOnly, NetworkAdminAccess, PortalTabularInline):
    model = Affiliation
    extra = 0
    fields = ("organisation", "user", "role")


class UserAffiliationInline(AffiliationInline):
    fields = ("organisation", "role")
    autocomplete_fields = ("organisation",)
    verbose_name_plural = gettext_lazy("linked organisations")


class OrganisationAffiliationInline(AffiliationInline):
    fields = ("user", "role")
    autocomplete_fields = ("user",)
    verbose_name_plural = gettext_lazy("people linked to this organisation")


# A person's admin page lists the organisations they are linked to: the accounts app's user admin,
# registered again with the affiliations inline (accounts knows nothing of organisations).
admin.site.unregister(User)


@admin.register(User)
class UserWithOrganisationsAdmin(PortalUserAdmin):
    inlines = (UserAffiliationInline,)


@admin.register(Affiliation)
class AffiliationAdmin(NetworkAdminAccess, admin.ModelAdmin):
    list_display = ("user", "organisation", "role", "created_at")
    list_filter = ("role",)
    list_select_related = ("user", "organisation")
    search_fields = ("user__username", "user__email", "user__first_name", "user__last_name", "organisation__name")
    autocomplete_fields = ("user", "organisation")


# Organisations -------------------------------------------------------------------------------------


class NetworkFilter(admin.SimpleListFilter):
    """Member of a network (with the status chosen in the status filter, if any)."""

    title = gettext_lazy("member network")
    parameter_name = "network"

    def lookups(self, request, model_admin):
        return [(str(pk), name) for pk, name in Network.objects.values_list("pk", "name")]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        if self.value() not in {value for value, _label in self.lookup_choices}:
            raise IncorrectLookupParameters(_("There is no member network %(value)s.") % {"value": self.value()[:20]})
        memberships = Membership.objects.filter(organisation=OuterRef("pk"), network_id=self.value())
        status = request.GET.get(MembershipStatusFilter.parameter_name)
        if status in Membership.Status.values:
            # Both filters on the same membership: "active in the BME network", not "active somewhere".
            memberships = memberships.filter(status=status)
        return queryset.filter(Exists(memberships))


class MembershipStatusFilter(admin.SimpleListFilter):
    title = gettext_lazy("membership status")
    parameter_name = "membership"
    NONE = "none"

    def lookups(self, request, model_admin):
        return [*Membership.Status.choices, (self.NONE, _("Not a member of any network"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.NONE:
            return queryset.filter(~Exists(Membership.objects.filter(organisation=OuterRef("pk"))))
        if value in Membership.Status.values and not request.GET.get(NetworkFilter.parameter_name):
            return queryset.filter(Exists(Membership.objects.filter(organisation=OuterRef("pk"), status=value)))
        return queryset  # with a network chosen, NetworkFilter applies both


class DetailsConfirmedFilter(admin.SimpleListFilter):
    title = gettext_lazy("details last confirmed")
    parameter_name = "confirmed"

    def lookups(self, request, model_admin):
        return [
            ("recent", _("In the last year")),
            ("old", _("Stale: over a year ago")),
            ("never", _("Never")),
            ("stale", _("Stale or never (needs checking)")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "stale":
            return queryset.stale()
        if value == "never":
            return queryset.filter(details_confirmed_on__isnull=True)
        if value == "old":
            return queryset.stale().filter(details_confirmed_on__isnull=False)
        if value == "recent":
            return queryset.exclude(pk__in=Organisation.objects.stale().values("pk"))
        return queryset


def _is_stale(organisation: Organisation) -> bool:
    confirmed = organisation.details_confirmed_on
    cutoff = timezone.localdate() - timedelta(days=settings.PORTAL_CONFIRM_DETAILS_AFTER_DAYS)
    return confirmed is None or confirmed < cutoff


def _https_formfield(db_field, **kwargs):
    if isinstance(db_field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return db_field.formfield(**kwargs)


class OrganisationAdminForm(forms.ModelForm):
    public_fields = forms.MultipleChoiceField(
        label=gettext_lazy("Shown on the public page"),
        choices=Organisation.OPTIONAL_PUBLIC_FIELDS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Organisation
        fields = "__all__"
        formfield_callback = _https_formfield

    def _clean_unique_number(self, code: str) -> str:
        field_name = Organisation.IDENTIFIER_FIELDS[code]
        value = normalise_number(code, self.cleaned_data.get(field_name) or "")
        if value:
            taken = Organisation.objects.filter(**{field_name: value}).exclude(pk=self.instance.pk).first()
            if taken:
                raise forms.ValidationError(
                    _("%(number)s already belongs to “%(name)s”.") % {"number": value, "name": taken.name}
                )
        return value

    def clean_charity_number(self):
        return self._clean_unique_number("GB-CHC")

    def clean_scottish_charity_number(self):
        return self._clean_unique_number("GB-SC")

    def clean_ni_charity_number(self):
        return self._clean_unique_number("GB-NIC")

    def clean_company_number(self):
        return self._clean_unique_number("GB-COH")

    def clean_mutuals_number(self):
        return self._clean_unique_number("GB-MPR")


class MembershipInline(HarvestedReadOnly, NetworkAdminAccess, PortalTabularInline):
    model = Membership
    extra = 0
    fields = ("network", "status", "applied_on", "joined_on", "renewal_due", "left_on")
    show_change_link = True


@admin.register(Organisation)
class OrganisationAdmin(HarvestedReadOnly, NetworkAdminAccess, SimpleHistoryAdmin):
    form = OrganisationAdminForm
    formfield_overrides = HTTPS_URLS
    list_display = (
        "name",
        "kind_list",
        "development_stage",
        "ward",
        "postcode",
        "network_list",
        "details_confirmed_on",
        "stale_flag",
        "is_active",
    )
    list_select_related = ("ward",)
    list_filter = (
        "development_stage",
        "ward",
        "segments",
        "kinds",
        NetworkFilter,
        MembershipStatusFilter,
        DetailsConfirmedFilter,
        "is_active",
        "is_harvested",
    )
    search_fields = ("name", *Organisation.IDENTIFIER_FIELDS.values(), "postcode", "email")
    search_help_text = gettext_lazy(
        "Search by name, charity or company number, org-id (such as GB-CHC-1164883), postcode or email."
    )
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("ward", "kinds", "communities_served", "segments", "functions", "languages")
    # The registers' own facts are refreshed by their imports (with history), not typed in.
    REGISTER_FIELDS = (
        "registration_status",
        "latest_income",
        "register_checked_on",
        "company_status",
        "incorporated_on",
    )
    readonly_fields = ("uuid", "created_at", "updated_at", *REGISTER_FIELDS)
    inlines = (MembershipInline, OrganisationAffiliationInline)
    actions = ("export_csv", "export_xlsx", "request_details_confirmation")
    fieldsets = (
        (None, {"fields": ("name", "slug", "kinds", "is_active")}),
        (gettext_lazy("Legal status"), {"fields": ("legal_form", "year_founded")}),
        (
            gettext_lazy("Registered as"),
            {
                "fields": tuple(Organisation.IDENTIFIER_FIELDS.values()),
                "description": gettext_lazy(
                    "Each number is published as an org-id, such as GB-CHC-1164883, and keys imports and exports."
                ),
            },
        ),
        (
            gettext_lazy("From the registers"),
            {
                "fields": REGISTER_FIELDS,
                "description": gettext_lazy(
                    "Refreshed by the Charity Commission register and Companies House imports."
                ),
            },
        ),
        (
            gettext_lazy("Contact"),
            {
                "fields": (
                    "contact_name",
                    "email",
                    "phone",
                    "website",
                    "facebook_url",
                    "x_url",
                    "instagram_url",
                    "linkedin_url",
                )
            },
        ),
        (
            gettext_lazy("Address and area"),
            {
                "fields": (
                    "address_line_1",
                    "address_line_2",
                    "town",
                    "postcode",
                    "ward",
                    "geographic_level",
                    "area_of_benefit",
                )
            },
        ),
        (
            gettext_lazy("Size and stage"),
            {"fields": ("development_stage", "income_band", "paid_staff", "volunteers")},
        ),
        (
            gettext_lazy("What it does and for whom"),
            {
                "fields": (
                    "activities",
                    "functions",
                    "segments",
                    "communities_served",
                    "languages",
                    "premises_accessibility",
                )
            },
        ),
        (gettext_lazy("Public page"), {"fields": ("about", "logo", "public_fields")}),
        (gettext_lazy("Record"), {"fields": ("details_confirmed_on", "uuid", "created_at", "updated_at")}),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("kinds", Prefetch("memberships", queryset=Membership.objects.select_related("network")))
        )

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            # "e16an" finds "E1 6AN", "123456" finds company "00123456", "GB-CHC-1164883" finds charity
            # 1164883: search as the fields store them.
            matches = Q(postcode=normalise_postcode(term))
            candidates = [(code, normalise_number(code, term)) for code in Organisation.IDENTIFIER_FIELDS]
            with suppress(ValidationError):
                candidates.append(parse_org_id(term))
            for code, number in candidates:
                with suppress(ValidationError):
                    validate_number(code, number)
                    matches |= Q(**{Organisation.IDENTIFIER_FIELDS[code]: number})
            results |= queryset.filter(matches)
        return results, may_have_duplicates

    @admin.display(description=gettext_lazy("kind"))
    def kind_list(self, organisation):
        # The kinds' names, as the office knows them ("Voluntary or community organisation"), never codes.
        return ", ".join(term.name for term in organisation.kinds.all())

    @admin.display(description=gettext_lazy("networks"))
    def network_list(self, organisation):
        return ", ".join(
            f"{membership.network.name} ({membership.get_status_display().lower()})"
            for membership in organisation.memberships.all()
        )

    @admin.display(description=gettext_lazy("stale"), ordering="details_confirmed_on")
    def stale_flag(self, organisation):
        # A word with a warning icon, not a green tick: "stale" is the bad case.
        if not _is_stale(organisation):
            return ""
        return format_html('<img src="{}" alt=""> {}', static("admin/img/icon-alert.svg"), _("Stale"))

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change or "name" in form.changed_data:
            similar = selectors.similar_organisations(obj.name, exclude_id=obj.pk)
            if similar:
                links = format_html_join(
                    ", ",
                    '<a href="{}">{}</a>',
                    (
                        (reverse("admin:organisations_organisation_change", args=[other.pk]), other.name)
                        for other in similar
                    ),
                )
                messages.warning(
                    request,
                    format_html(
                        _("“{}” looks like an organisation already in the directory: {}. Check it is not a duplicate."),
                        obj.name,
                        links,
                    ),
                )

    # Bulk actions

    @admin.action(description=gettext_lazy("Export selected organisations as CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        return exports.organisations_response(queryset, fmt=CSV)

    @admin.action(description=gettext_lazy("Export selected organisations as XLSX (Excel)"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        return exports.organisations_response(queryset, fmt=XLSX)

    @admin.action(
        description=gettext_lazy("Ask selected organisations: are your details still correct?"), permissions=["change"]
    )
    def request_details_confirmation(self, request, queryset):
        queued, already, unreachable = [], [], []
        for organisation in queryset:
            if not services.organisation_contacts(organisation):
                unreachable.append(organisation)
                continue
            reminder, created = services.request_details_confirmation(organisation=organisation, manual=True)
            if created:
                enqueue_reminder(reminder.pk)
                queued.append(organisation)
            else:
                already.append(organisation)
        if queued:
            self.message_user(
                request,
                ngettext(
                    "Queued %(count)d request to confirm details: %(names)s.",
                    "Queued %(count)d requests to confirm details: %(names)s.",
                    len(queued),
                )
                % {"count": len(queued), "names": names_in_message(queued)},
                messages.SUCCESS,
            )
        if already:
            self.message_user(
                request,
                ngettext(
                    "%(count)d was not sent again: a request already went to it today: %(names)s.",
                    "%(count)d were not sent again: a request already went to them today: %(names)s.",
                    len(already),
                )
                % {"count": len(already), "names": names_in_message(already)},
                messages.WARNING,
            )
        if unreachable:
            self.message_user(
                request,
                ngettext(
                    "%(count)d has no email address and no editors to ask: %(names)s.",
                    "%(count)d have no email address and no editors to ask: %(names)s.",
                    len(unreachable),
                )
                % {"count": len(unreachable), "names": names_in_message(unreachable)},
                messages.WARNING,
            )

    # Import from CSV or XLSX

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="%s_%s_import" % info),
            path(
                "import/template.<str:fmt>",
                self.admin_site.admin_view(self.import_template_view),
                name="%s_%s_import_template" % info,
            ),
            path(
                "import/<str:token>/",
                self.admin_site.admin_view(self.import_preview_view),
                name="%s_%s_import_preview" % info,
            ),
        ] + super().get_urls()

    def _import_context(self, request, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "max_bytes": settings.PORTAL_IMPORT_MAX_BYTES,
            **extra,
        }

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                token = imports.store_import_file(upload=form.cleaned_data["file"], user=request.user)
            except imports.ImportFileError as error:
                form.add_error("file", str(error))
            else:
                return redirect("admin:organisations_organisation_import_preview", token=token)
        context = self._import_context(
            request,
            title=_("Import organisations"),
            form=form,
            columns=imports.column_help(),
            max_rows=imports.MAX_ROWS,
        )
        return TemplateResponse(request, "admin/organisations/organisation/import_upload.html", context)

    def import_template_view(self, request, fmt):
        if not self.has_add_permission(request) or fmt not in FORMATS:
            raise PermissionDenied
        headers = [column.header for column in exports.ORGANISATION_COLUMNS]
        return tabular_response(filename="organisations-import", headers=headers, rows=[], fmt=fmt)

    def import_preview_view(self, request, token):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST" and "cancel" in request.POST:
            imports.discard_import(token=token)
            self.message_user(request, _("The import was cancelled; nothing was saved."), messages.INFO)
            return redirect("admin:organisations_organisation_changelist")
        try:
            if request.method == "POST":
                created = imports.run_import(token=token, by=request.user)
                self.message_user(
                    request,
                    ngettext("Imported %(count)d organisation.", "Imported %(count)d organisations.", len(created))
                    % {"count": len(created)},
                    messages.SUCCESS,
                )
                return redirect("admin:organisations_organisation_changelist")
            report = imports.preview_import(token=token, user=request.user)
        except imports.ImportExpired:
            self.message_user(
                request,
                _(
                    "That import is no longer waiting: it was done, cancelled or is over a day old. "
                    "Upload the file again."
                ),
                messages.ERROR,
            )
            return redirect("admin:organisations_organisation_import")
        except imports.ImportFileError as error:
            imports.discard_import(token=token)
            self.message_user(request, str(error), messages.ERROR)
            return redirect("admin:organisations_organisation_import")
        except imports.ImportFailed as failure:
            self.message_user(request, str(failure), messages.ERROR)
            report = failure.report
        context = self._import_context(request, title=_("Check the import"), report=report, token=token)
        return TemplateResponse(request, "admin/organisations/organisation/import_preview.html", context)


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV or Excel file"),
        help_text=gettext_lazy(
            "A .csv file saved as “CSV UTF-8”, or an Excel .xlsx workbook (the first sheet is read)."
        ),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )


# Networks and memberships --------------------------------------------------------------------------


@admin.register(Network)
class NetworkAdmin(NetworkAdminAccess, admin.ModelAdmin):
    list_display = ("name", "run_by", "active_members", "applications", "accepts_applications", "renewal_period_months")
    list_select_related = ("run_by",)
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("run_by",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                active_count=Count("memberships", filter=Q(memberships__status=Membership.Status.ACTIVE)),
                applied_count=Count("memberships", filter=Q(memberships__status=Membership.Status.APPLIED)),
            )
        )

    @admin.display(description=gettext_lazy("active members"), ordering="active_count")
    def active_members(self, network):
        return network.active_count

    @admin.display(description=gettext_lazy("applications waiting"), ordering="applied_count")
    def applications(self, network):
        return network.applied_count


class RenewalDueFilter(admin.SimpleListFilter):
    title = gettext_lazy("renewal due")
    parameter_name = "renewal"

    def lookups(self, request, model_admin):
        days = settings.PORTAL_RENEWAL_REMINDER_DAYS
        return [
            ("overdue", _("Overdue")),
            ("soon", ngettext("Within %(days)d day", "Within %(days)d days", days) % {"days": days}),
            ("later", _("Later")),
            ("none", _("No date")),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        soon = today + timedelta(days=settings.PORTAL_RENEWAL_REMINDER_DAYS)
        match self.value():
            case "overdue":
                return queryset.filter(renewal_due__lt=today)
            case "soon":
                return queryset.filter(renewal_due__gte=today, renewal_due__lte=soon)
            case "later":
                return queryset.filter(renewal_due__gt=soon)
            case "none":
                return queryset.filter(renewal_due__isnull=True)
        return queryset


@admin.register(Membership)
class MembershipAdmin(NetworkAdminAccess, SimpleHistoryAdmin):
    list_display = ("organisation", "network", "status", "joined_on", "renewal_due", "renewal_state")
    list_select_related = ("organisation", "network")
    list_filter = ("network", "status", RenewalDueFilter)
    search_fields = ("organisation__name",)
    search_help_text = gettext_lazy("Search by organisation name.")
    autocomplete_fields = ("organisation",)
    readonly_fields = ("approved_by",)
    actions = ("approve", "mark_renewed", "send_renewal_reminder", "export_csv", "export_xlsx")
    fields = (
        "organisation",
        "network",
        "status",
        "application_note",
        "applied_on",
        "joined_on",
        "renewal_due",
        "left_on",
        "approved_by",
    )

    @admin.display(description=gettext_lazy("renewal"), ordering="renewal_due")
    def renewal_state(self, membership):
        if membership.status != Membership.Status.ACTIVE or membership.renewal_due is None:
            return "–"
        days = (membership.renewal_due - timezone.localdate()).days
        if days < 0:
            return ngettext("overdue by %(days)d day", "overdue by %(days)d days", -days) % {"days": -days}
        return ngettext("due in %(days)d day", "due in %(days)d days", days) % {"days": days}

    def _report_skipped(self, request, skipped: dict[str, list]) -> None:
        for reason, memberships in skipped.items():
            if memberships:
                self.message_user(
                    request,
                    ngettext(
                        "Skipped %(count)d: %(reason)s: %(names)s.",
                        "Skipped %(count)d: %(reason)s: %(names)s.",
                        len(memberships),
                    )
                    % {"count": len(memberships), "reason": reason, "names": names_in_message(memberships)},
                    messages.WARNING,
                )

    @admin.action(description=gettext_lazy("Approve selected applications"), permissions=["change"])
    def approve(self, request, queryset):
        approved, skipped = [], {}
        for membership in queryset.select_related("organisation", "network"):
            if membership.status != Membership.Status.APPLIED:
                reason = _("already %(status)s, not an application") % {
                    "status": membership.get_status_display().lower()
                }
                skipped.setdefault(reason, []).append(membership)
                continue
            services.approve_membership(membership=membership, by=request.user)
            approved.append(membership)
        if approved:
            self.message_user(
                request,
                ngettext(
                    "Approved %(count)d membership: %(names)s.",
                    "Approved %(count)d memberships: %(names)s.",
                    len(approved),
                )
                % {"count": len(approved), "names": names_in_message(approved)},
                messages.SUCCESS,
            )
        self._report_skipped(request, skipped)

    @admin.action(description=gettext_lazy("Mark selected memberships as renewed"), permissions=["change"])
    def mark_renewed(self, request, queryset):
        renewed = []
        skipped = {_("still an application: approve it first"): [], _("the organisation has left the network"): []}
        for membership in queryset.select_related("organisation", "network"):
            if membership.status == Membership.Status.APPLIED:
                skipped[_("still an application: approve it first")].append(membership)
            elif membership.status == Membership.Status.LEFT:
                skipped[_("the organisation has left the network")].append(membership)
            else:
                services.renew_membership(membership=membership, by=request.user)
                renewed.append(membership)
        if renewed:
            self.message_user(
                request,
                ngettext(
                    "Renewed %(count)d membership: %(names)s.",
                    "Renewed %(count)d memberships: %(names)s.",
                    len(renewed),
                )
                % {
                    "count": len(renewed),
                    "names": names_in_message(f"{m} (now due {m.renewal_due:%d %b %Y})" for m in renewed),
                },
                messages.SUCCESS,
            )
        self._report_skipped(request, skipped)

    @admin.action(description=gettext_lazy("Send a renewal reminder to selected members"), permissions=["change"])
    def send_renewal_reminder(self, request, queryset):
        queued = []
        not_member, no_date, unreachable, already = (
            _("not a current or lapsed member"),
            _("no renewal date"),
            _("no email address and no editors to send to"),
            _("a reminder already went today"),
        )
        skipped = {not_member: [], no_date: [], unreachable: [], already: []}
        for membership in queryset.select_related("organisation", "network"):
            if membership.status not in (Membership.Status.ACTIVE, Membership.Status.LAPSED):
                skipped[not_member].append(membership)
            elif membership.renewal_due is None:
                skipped[no_date].append(membership)
            elif not services.organisation_contacts(membership.organisation):
                skipped[unreachable].append(membership)
            else:
                reminder, created = services.schedule_renewal_reminder(membership=membership, manual=True)
                if created:
                    enqueue_reminder(reminder.pk)
                    queued.append(membership)
                else:
                    skipped[already].append(membership)
        if queued:
            self.message_user(
                request,
                ngettext(
                    "Queued %(count)d renewal reminder: %(names)s.",
                    "Queued %(count)d renewal reminders: %(names)s.",
                    len(queued),
                )
                % {"count": len(queued), "names": names_in_message(queued)},
                messages.SUCCESS,
            )
        self._report_skipped(request, skipped)

    @admin.action(description=gettext_lazy("Export selected memberships as CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        return exports.memberships_response(queryset, fmt=CSV)

    @admin.action(description=gettext_lazy("Export selected memberships as XLSX (Excel)"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        return exports.memberships_response(queryset, fmt=XLSX)


# The Charity Commission register import ------------------------------------------------------------


class RegisterUploadForm(BackgroundUploadForm):
    files = MultipleFileField(
        label=gettext_lazy("Register extract files"),
        help_text=gettext_lazy(
            "The three zips from the Charity Commission's register extract: publicextract.charity.zip, "
            "publicextract.charity_area_of_operation.zip and publicextract.charity_classification.zip."
        ),
        widget=MultipleFileInput(attrs={"accept": ".zip,.txt"}),
    )


class CompaniesHouseUploadForm(BackgroundUploadForm):
    files = MultipleFileField(
        label=gettext_lazy("Companies House bulk file"),
        help_text=gettext_lazy(
            "The free monthly file of live companies from Companies House: BasicCompanyDataAsOneFile-<date>.zip "
            "(or the .csv in it, or its parts)."
        ),
        widget=MultipleFileInput(attrs={"accept": ".zip,.csv"}),
    )


@admin.register(CharityRegisterImport)
class CharityRegisterImportAdmin(NetworkAdminAccess, BackgroundImportAdmin):
    list_display = ("__str__", "status", "progress", "step", "extract_date", "findings_link")
    list_filter = ("register", "status")
    readonly_fields = (
        "register", "status", "progress", "step", "error", "files", "extract_date", "counts", "started_by",
        "created_at", "started_at", "finished_at", "findings_link",
    )  # fmt: skip
    fields = readonly_fields
    progress_template = "admin/organisations/charityregisterimport/progress.html"

    @admin.display(description=gettext_lazy("findings"))
    def findings_link(self, register_import):
        if register_import.status != CharityRegisterImport.Status.READY:
            return "–"
        url = (
            reverse("admin:organisations_registerfinding_changelist")
            + f"?register_import__id__exact={register_import.pk}"
        )
        return format_html('<a href="{}">{}</a>', url, _("See the findings"))

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="%s_%s_upload" % info),
            path(
                "upload-companies/",
                self.admin_site.admin_view(self.companies_upload_view),
                name="%s_%s_upload_companies" % info,
            ),
            path("<int:pk>/progress/", self.admin_site.admin_view(self.progress_view), name="%s_%s_progress" % info),
        ] + super().get_urls()

    def upload_view(self, request):
        districts = ", ".join(settings.PORTAL_BOROUGH_POSTCODE_DISTRICTS)
        return self.upload_page(
            request,
            form_class=RegisterUploadForm,
            start=charity_register.start_import,
            enqueue=tasks.enqueue_register_import,
            title=_("Import the Charity Commission register"),
            intro=[
                _(
                    "Download the Charity Commission's register extract (the text files, one zip per table) and "
                    "upload the three zips below. The import reads every row first: a file with a problem is "
                    "refused with the line and field named, and nothing changes. Then, in the background, it "
                    "compares the register with the directory. You will see its progress, then its findings to act on."
                ),
                _(
                    "Charities are proposed as the borough's when their area of operation is %(area)s or their "
                    "contact postcode is in %(districts)s."
                )
                % {"area": settings.PORTAL_BOROUGH_AREA, "districts": districts},
            ],
            other_url=reverse(self._url("upload_companies")),
            other_label=_("Import the Companies House bulk file instead"),
        )

    def companies_upload_view(self, request):
        districts = ", ".join(settings.PORTAL_BOROUGH_POSTCODE_DISTRICTS)
        return self.upload_page(
            request,
            form_class=CompaniesHouseUploadForm,
            start=companies_house.start_import,
            enqueue=tasks.enqueue_register_import,
            title=_("Import the Companies House bulk file"),
            intro=[
                _(
                    "Download Companies House's free monthly file of live companies (BasicCompanyDataAsOneFile, a "
                    "zip holding one CSV) and upload it below. Only community interest companies and companies "
                    "limited by guarantee are kept. The import reads every row first: a file with a problem is "
                    "refused with the row and field named, and nothing changes. Then, in the background, it "
                    "compares the companies with the directory. You will see its progress, then its findings to act on."
                ),
                _("Companies are proposed as the borough's when their registered office postcode is in %(districts)s.")
                % {"districts": districts},
            ],
            other_url=reverse(self._url("upload")),
            other_label=_("Import the Charity Commission register instead"),
        )

    def progress_context(self, run) -> dict:
        companies = run.register == CharityRegisterImport.Register.COMPANIES
        return {
            "upload_again": self._url("upload_companies" if companies else "upload"),
            "findings_link": self.findings_link(run),
        }


def _by_register(for_charities, for_companies):
    """The finding action of the register the finding came from."""

    def action(*, finding: RegisterFinding, by):
        companies = finding.register_import.register == CharityRegisterImport.Register.COMPANIES
        return (for_companies if companies else for_charities)(finding=finding, by=by)

    return action


def _act_on_findings(modeladmin, request, queryset, action, done_message):
    done, problems = 0, []
    for finding in queryset.select_related("register_import"):
        try:
            action(finding=finding, by=request.user)
            done += 1
        except ValidationError as error:
            problems.extend(error.messages)
    if done:
        modeladmin.message_user(request, done_message % {"count": done}, messages.SUCCESS)
    for problem in problems[:10]:
        modeladmin.message_user(request, problem, messages.WARNING)


@admin.register(RegisterFinding)
class RegisterFindingAdmin(NetworkAdminAccess, admin.ModelAdmin):
    list_display = ("name", "charity_number", "company_number", "kind", "organisation", "summary", "decision")
    list_filter = ("kind", "decision", "register_import__register", "register_import")
    search_fields = ("name", "charity_number", "company_number", "organisation__name")
    list_select_related = ("organisation",)
    readonly_fields = (
        "register_import",
        "kind",
        "charity_number",
        "company_number",
        "name",
        "organisation",
        "data",
        "decision",
        "decided_by",
        "decided_at",
    )
    fields = readonly_fields
    actions = ("add_as_organisations", "confirm_match", "apply_suggested_stage", "mark_dealt_with", "dismiss")

    def get_queryset(self, request):
        return super().get_queryset(request).shown()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("details"))
    def summary(self, finding):
        data = finding.data
        if finding.kind == RegisterFinding.Kind.NAME_MATCH:
            return _("“%(organisation)s” (similarity %(score)s%%)") % {
                "organisation": data.get("organisation_name"),
                "score": round(100 * data.get("score", 0)),
            }
        if finding.kind == RegisterFinding.Kind.STAGE:
            return _("Income £%(income)s: stage %(stage)s suggested (now %(current)s)") % {
                "income": f"{data.get('income') or 0:,}",
                "stage": data.get("stage"),
                "current": data.get("current_stage") or _("not set"),
            }
        if finding.kind == RegisterFinding.Kind.REFRESHED:
            return "; ".join(f"{name}: {old or '–'} → {new}" for name, (old, new) in data.get("changes", {}).items())
        if finding.company_number and finding.kind in (RegisterFinding.Kind.REMOVED, RegisterFinding.Kind.INSOLVENT):
            return _("Company status: %(status)s") % {"status": data.get("status") or "?"}
        if finding.kind == RegisterFinding.Kind.REMOVED:
            return _("Removed on %(date)s") % {"date": data.get("removed_on") or "?"}
        return ", ".join(
            filter(None, [data.get("postcode"), f"£{data['income']:,}" if data.get("income") is not None else ""])
        )

    @admin.action(description=gettext_lazy("Add the selected charities or companies as organisations"))
    def add_as_organisations(self, request, queryset):
        action = _by_register(charity_register.add_proposed_organisation, companies_house.add_proposed_organisation)
        _act_on_findings(self, request, queryset, action, _("Added %(count)d organisations."))

    @admin.action(description=gettext_lazy("Confirm the selected name matches (gives the charity or company number)"))
    def confirm_match(self, request, queryset):
        action = _by_register(charity_register.confirm_name_match, companies_house.confirm_name_match)
        _act_on_findings(self, request, queryset, action, _("Confirmed %(count)d matches."))

    @admin.action(description=gettext_lazy("Apply the suggested development stage"))
    def apply_suggested_stage(self, request, queryset):
        _act_on_findings(
            self, request, queryset, charity_register.apply_suggested_stage, _("Changed %(count)d stages.")
        )

    @admin.action(description=gettext_lazy("Mark as dealt with"))
    def mark_dealt_with(self, request, queryset):
        _act_on_findings(
            self, request, queryset, charity_register.acknowledge_finding, _("Marked %(count)d findings as done.")
        )

    @admin.action(description=gettext_lazy("Dismiss"))
    def dismiss(self, request, queryset):
        _act_on_findings(self, request, queryset, charity_register.dismiss_finding, _("Dismissed %(count)d findings."))
