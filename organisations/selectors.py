"""Reads for the VCO database. Other apps read organisations, networks and memberships through these
functions."""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from difflib import SequenceMatcher

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from core import org_id
from taxonomies.models import TaxonomyTerm

from .models import Affiliation, Membership, Network, Organisation

# Words that do not tell two organisations apart.
_NOISE_WORDS = {"the", "ltd", "limited", "cic", "cio", "trust", "association", "assoc", "group", "and", "of", "uk"}


def _name_key(name: str) -> str:
    words = re.findall(r"[a-z0-9]+", (name or "").lower().replace("&", " and "))
    return " ".join(word for word in words if word not in _NOISE_WORDS)


def name_key(name: str) -> str:
    """A name without noise words and punctuation, for comparing names (see name_key_similarity)."""
    return _name_key(name)


def name_key_similarity(key: str, other: str, *, threshold: float = 0.85) -> float | None:
    """How alike two name keys are (1.0 the same), or None below ``threshold``: the similarity check
    shared by the directory's duplicate warnings and the charity register's name matching."""
    if not key or not other:
        return None
    if other == key:
        return 1.0
    matcher = SequenceMatcher(None, key, other)
    # The quick upper bounds rule most names out before the full comparison is paid for.
    if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
        return None
    score = matcher.ratio()
    return score if score >= threshold else None


def similar_organisations(
    name: str, *, exclude_id: int | None = None, threshold: float = 0.85, limit: int = 3
) -> list[Organisation]:
    """Organisations whose names look like `name` once noise words and punctuation are ignored."""
    key = _name_key(name)
    if not key:
        return []
    candidates = Organisation.objects.only("id", "name", "slug")
    if exclude_id:
        candidates = candidates.exclude(pk=exclude_id)
    scored = []
    for organisation in candidates.iterator(chunk_size=2000):
        score = name_key_similarity(key, _name_key(organisation.name), threshold=threshold)
        if score is not None:
            scored.append((score, organisation))
    scored.sort(key=lambda pair: (-pair[0], pair[1].name))
    return [organisation for _, organisation in scored[:limit]]


def organisations_of(user) -> QuerySet[Organisation]:
    """The organisations a user is linked to, with any role."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(affiliations__user=user).distinct()


def organisations_edited_by(user) -> QuerySet[Organisation]:
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(
        affiliations__user=user, affiliations__role__in=[Affiliation.Role.EDITOR, Affiliation.Role.OFFICER]
    ).distinct()


def public_organisation_page(slug: str) -> Organisation | None:
    return (
        Organisation.objects.select_related("ward")
        .prefetch_related("kinds", "communities_served", "segments", "functions", "languages")
        .filter(slug=slug)
        .first()
    )


KIND_VCO = "vco"
KIND_PROVIDER = "provider"


def search_organisations(
    *, q: str = "", kind: str = "", ward: TaxonomyTerm | None = None, stage: int | None = None
) -> QuerySet[Organisation]:
    """Open organisations matching a name search (every word) and the list's filters, by name. Those
    harvested from other directories are theirs, not the borough's: found through the directory."""
    organisations = Organisation.objects.active().filter(is_harvested=False)
    for word in q.split():
        organisations = organisations.filter(name__icontains=word)
    if kind == KIND_VCO:
        organisations = organisations.filter(kinds__code=Organisation.KIND_VCO)
    elif kind == KIND_PROVIDER:
        # A provider can hold several provider kinds: one row each.
        organisations = organisations.filter(kinds__code__in=Organisation.PROVIDER_KINDS).distinct()
    if ward is not None:
        organisations = organisations.filter(ward=ward)
    if stage:
        organisations = organisations.filter(development_stage=stage)
    return organisations.select_related("ward").prefetch_related("kinds").order_by(Lower("name"), "pk")


def sector_figures() -> dict:
    """How many open VCOs and providers the directory lists: borough totals only. Breakdowns, with
    small-number suppression, are the evidence dashboards' job."""
    active = Organisation.objects.active()
    return {
        "vcos": active.filter(kinds__code=Organisation.KIND_VCO).distinct().count(),
        "providers": active.filter(kinds__code__in=Organisation.PROVIDER_KINDS).distinct().count(),
    }


def organisation_with_number(field_name: str, value: str, *, exclude_id: int | None = None) -> Organisation | None:
    """The organisation already holding this register number (charity, company...), if any."""
    codes = {name: code for code, name in Organisation.IDENTIFIER_FIELDS.items()}
    if field_name not in codes or not value:
        return None
    try:
        org_id.validate_number(codes[field_name], value)
    except ValidationError:
        return None  # a malformed number cannot be anyone's; its own check says what is wrong
    organisations = Organisation.objects.filter(**{field_name: value})
    if exclude_id:
        organisations = organisations.exclude(pk=exclude_id)
    return organisations.only("pk", "name", "slug", "is_active").first()


def duplicate_number_errors(*, numbers: dict[str, str], exclude_id: int | None = None) -> dict[str, str]:
    """Messages for register numbers (by field name: charity_number, company_number...) that another
    organisation already has."""
    errors = {}
    for field_name, value in numbers.items():
        other = organisation_with_number(field_name, value, exclude_id=exclude_id)
        if other is None:
            continue
        label = Organisation._meta.get_field(field_name).verbose_name
        if other.is_active:
            errors[field_name] = _(
                "%(name)s is already in the directory with %(label)s %(value)s. If that is your organisation, "
                "ask its editors or a network admin to add you to it instead of registering it again."
            ) % {"name": other.name, "label": label, "value": value}
        else:
            errors[field_name] = _(
                "Another organisation already has %(label)s %(value)s. Please check the number, or ask a network admin."
            ) % {"label": label, "value": value}
    return errors


def pending_applications_count() -> int:
    return Membership.objects.filter(status=Membership.Status.APPLIED).count()


def stale_organisations_count() -> int:
    return Organisation.objects.active().stale().count()


def networks_with_member_counts() -> QuerySet[Network]:
    return Network.objects.annotate(
        active_members=Count(
            "memberships",
            filter=Q(memberships__status=Membership.Status.ACTIVE, memberships__organisation__is_active=True),
        )
    ).order_by("name")


def active_members(network: Network) -> QuerySet[Organisation]:
    return (
        Organisation.objects.active()
        .filter(memberships__network=network, memberships__status=Membership.Status.ACTIVE)
        .select_related("ward")
        .order_by(Lower("name"), "pk")
    )


def networks_open_for_applications() -> QuerySet[Network]:
    return Network.objects.filter(accepts_applications=True).order_by("name")


def active_memberships_of(organisation: Organisation) -> QuerySet[Membership]:
    return (
        organisation.memberships.filter(status=Membership.Status.ACTIVE)
        .select_related("network")
        .order_by("network__name")
    )


def affiliations_of(user) -> QuerySet[Affiliation]:
    """A user's links to organisations, with the organisation and its memberships to hand."""
    if not user.is_authenticated:
        return Affiliation.objects.none()
    return (
        Affiliation.objects.filter(user=user)
        .select_related("organisation")
        .prefetch_related("organisation__memberships__network")
        .order_by("organisation__name")
    )


# The change log ----------------------------------------------------------------------------------

# Bookkeeping that changes on every save and tells a reader nothing.
HISTORY_BOOKKEEPING_FIELDS = {"updated_at", "created_at", "uuid", "id"}
_SAME_CHANGE_WINDOW = timedelta(seconds=10)


@dataclass
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class ChangeLogEntry:
    when: datetime
    who: object
    created: bool = False
    changes: list[FieldChange] = field(default_factory=list)


class ChangeLog(Sequence):
    """An organisation's history as entries, newest first: who, when and what changed.

    One save writes a history row for the fields and one per many-to-many list; rows by the same
    person within a few seconds are one entry. Entries are described only when read, so a paginated
    page of the log diffs only the rows it shows.
    """

    def __init__(self, organisation: Organisation):
        self._records = list(organisation.history.select_related("history_user").order_by("history_date", "history_id"))
        groups: list[list[int]] = []
        for index, record in enumerate(self._records):
            if groups:
                previous = self._records[groups[-1][-1]]
                if (
                    record.history_type != "+"
                    and record.history_user_id == previous.history_user_id
                    and record.history_date - previous.history_date <= _SAME_CHANGE_WINDOW
                ):
                    groups[-1].append(index)
                    continue
            groups.append([index])
        self._groups = list(reversed(groups))

    def __len__(self) -> int:
        return len(self._groups)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._describe(group) for group in self._groups[index]]
        return self._describe(self._groups[index])

    def _describe(self, group: list[int]) -> ChangeLogEntry:
        records = self._records
        first, last = records[group[0]], records[group[-1]]
        entry = ChangeLogEntry(when=last.history_date, who=last.history_user, created=first.history_type == "+")
        if entry.created:
            return entry
        merged: dict[str, list] = {}
        for index in group:
            if index == 0:
                continue
            for change in records[index].diff_against(records[index - 1]).changes:
                if change.field in HISTORY_BOOKKEEPING_FIELDS:
                    continue
                if change.field in merged:
                    merged[change.field][1] = change.new
                else:
                    merged[change.field] = [change.old, change.new]
        term_names = _term_names(merged)
        for name, (old, new) in merged.items():
            model_field = Organisation._meta.get_field(name)
            old_text, new_text = _display(model_field, old, term_names), _display(model_field, new, term_names)
            if old_text != new_text:
                entry.changes.append(FieldChange(label=capfirst(model_field.verbose_name), old=old_text, new=new_text))
        return entry


def _term_ids(value) -> list[int]:
    if isinstance(value, list):
        return [row["taxonomyterm"] for row in value if isinstance(row, dict) and "taxonomyterm" in row]
    return [value] if isinstance(value, int) else []


def _term_names(merged: dict) -> dict[int, str]:
    ids = set()
    for name, values in merged.items():
        model_field = Organisation._meta.get_field(name)
        if model_field.many_to_many or (model_field.many_to_one and model_field.related_model is TaxonomyTerm):
            for value in values:
                ids.update(_term_ids(value))
    return dict(TaxonomyTerm.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


def _display(model_field, value, term_names: dict[int, str]) -> str:
    empty = ""
    if model_field.many_to_many:
        names = sorted(term_names.get(pk, str(pk)) for pk in _term_ids(value))
        return ", ".join(names) or empty
    if model_field.many_to_one:
        return term_names.get(value, str(value)) if value is not None else empty
    if model_field.name == "public_fields":
        labels = dict(Organisation.OPTIONAL_PUBLIC_FIELDS)
        return ", ".join(str(labels.get(name, name)) for name in value or []) or empty
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value)) if value not in (None, "") else empty
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if value is None:
        return empty
    if hasattr(value, "name"):  # a file
        return value.name or empty
    return str(value)
