"""Reads for referrals: the router, the officers' inbox, a group's own referrals, timelines, and
everything held about one contact.

The router is a read: it ranks providers for a request and explains each suggestion; sending the
referral (a write) is in services.py, which asks the router again so a forged choice cannot get through.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.permissions import can
from core.memos import once
from directory.models import Service
from organisations.models import Affiliation, Organisation
from taxonomies.models import Taxonomy, TaxonomyTerm
from taxonomies.selectors import built_from_terms

from . import summaries
from .models import SATISFACTION_CHOICES, Feedback, Referral, ReferralEvent, RoutingRuleProvider

# How many providers the group is offered to choose from.
SUGGESTION_LIMIT = 5


@dataclass
class Suggestion:
    provider: Organisation
    service: Service | None
    reasons: list[str] = field(default_factory=list)
    existing: bool = False
    # (-specificity, priority, position, rule id): lower ranks first.
    rank: tuple = (0,)

    def as_json(self) -> dict:
        return {
            "provider": str(self.provider.uuid),
            "provider_name": self.provider.name,
            "service": str(self.service.uuid) if self.service else "",
            "service_name": self.service.name if self.service else "",
            "reasons": self.reasons,
            "existing": self.existing,
        }


@dataclass
class Routing:
    suggestions: list[Suggestion]
    # Providers a rule named but the router left out, with why (paused, full or closed).
    skipped: list[tuple[str, str]]

    def providers(self) -> list[Organisation]:
        return [suggestion.provider for suggestion in self.suggestions]

    def find(self, provider_id: int) -> Suggestion | None:
        return next((s for s in self.suggestions if s.provider.pk == provider_id), None)


def _ids(values: Iterable) -> list[int]:
    return [value if isinstance(value, int) else value.pk for value in values if value is not None]


# A rule's providers in order, in words.
CHOICE_WORDS = {
    2: gettext_lazy("second"),
    3: gettext_lazy("third"),
    4: gettext_lazy("fourth"),
    5: gettext_lazy("fifth"),
}


def _rule_reason(
    *, need: str, position: int, segment=None, community=None, ward=None, stage=None, language=None
) -> str:
    narrowing = []
    if segment:
        narrowing.append(_("groups in the segment “%(term)s”") % {"term": segment})
    if community:
        narrowing.append(_("groups serving %(term)s") % {"term": community})
    if ward:
        narrowing.append(_("groups in %(term)s ward") % {"term": ward})
    if stage:
        narrowing.append(_("groups at %(stage)s") % {"stage": str(Organisation.Stage(stage).label).lower()})
    if language:
        narrowing.append(_("groups preferring %(term)s") % {"term": language})
    # Plain words for a group: no rule names or numbers, which are the office's own bookkeeping.
    text = _("The network's key referral agency for “%(need)s”") % {"need": need}
    if position > 1:
        text += " " + (
            _("(its %(which)s choice)") % {"which": CHOICE_WORDS[position]}
            if position in CHOICE_WORDS
            else _("(one of its other choices)")
        )
    if narrowing:
        text += _(", agreed for %(who)s") % {"who": _(" and ").join(narrowing)}
    return text + "."


def suggest_providers(
    *,
    needs: Iterable,
    segments: Iterable = (),
    communities: Iterable = (),
    ward=None,
    stage: int | None = None,
    language=None,
    existing_provider: Organisation | None = None,
    service: Service | None = None,
    limit: int = SUGGESTION_LIMIT,
) -> Routing:
    """Rank providers for a request and say why each is suggested.

    1. The provider the group already works with always comes first.
    2. Then providers from the routing rules for the needs: rules whose narrowing conditions all fit
       the group (a rule with no condition fits everyone); a more specific rule beats a general one,
       then the rule's priority, then the provider's place in the rule's list.
    3. If the rules give fewer than `limit`, providers whose open services meet a need fill the list.
    A provider is skipped when the service the rule names, or every one of its services for the need,
    is paused, closed or not taking referrals (full), or when the provider has closed.
    Costs a fixed handful of queries whatever the number of rules or providers.
    """
    need_ids = _ids(needs)
    segment_ids, community_ids = _ids(segments), _ids(communities)
    ward_id = ward if isinstance(ward, int) or ward is None else ward.pk
    language_id = language if isinstance(language, int) or language is None else language.pk
    skipped: list[tuple[str, str]] = []
    found: dict[int, Suggestion] = {}

    if need_ids:
        entries = _fitting_rule_entries(
            need_ids=need_ids,
            segment_ids=segment_ids,
            community_ids=community_ids,
            ward_id=ward_id,
            stage=stage,
            language_id=language_id,
        )
        services_by = _services_for_needs(provider_ids={entry[10] for entry in entries}, need_ids=need_ids)
        # Names for the reasons: the rules' needs and the narrowing terms (which are the group's own).
        term_ids = set(need_ids) | set(segment_ids) | set(community_ids) | {ward_id, language_id} - {None}
        term_names = dict(TaxonomyTerm.objects.filter(pk__in=term_ids).values_list("pk", "name"))
        candidates, skipped = _rule_candidates(entries, services_by=services_by, term_names=term_names)
        found = _rule_suggestions(candidates, term_names=term_names, existing_provider=existing_provider, limit=limit)

    ranked = sorted(found.values(), key=lambda s: (s.rank, s.provider.name))
    if existing_provider is not None:
        ranked = _existing_provider_first(ranked, found=found, existing_provider=existing_provider, service=service)
    if need_ids and len(ranked) < limit:
        ranked += _open_service_suggestions(
            need_ids=need_ids, stage=stage, taken={s.provider.pk for s in ranked}, room=limit - len(ranked)
        )
    return Routing(suggestions=ranked[:limit], skipped=skipped)


def _fitting_rule_entries(
    *, need_ids: list[int], segment_ids: list[int], community_ids: list[int], ward_id, stage, language_id
) -> list[tuple]:
    """Every provider entry of every active rule for the needs whose narrowing conditions all fit the group.

    One query, as plain values: the router runs on each "review" page, so it avoids building model
    instances it would throw away. The tuples' order is the one `_rule_candidates` unpacks.
    """
    fits = Q(rule__is_active=True, rule__need_id__in=need_ids)
    fits &= Q(rule__segment__isnull=True) | Q(rule__segment_id__in=segment_ids)
    fits &= Q(rule__community__isnull=True) | Q(rule__community_id__in=community_ids)
    fits &= Q(rule__ward__isnull=True) | (Q(rule__ward_id=ward_id) if ward_id else Q(pk__in=[]))
    fits &= Q(rule__stage__isnull=True) | (Q(rule__stage=stage) if stage else Q(pk__in=[]))
    fits &= Q(rule__language__isnull=True) | (Q(rule__language_id=language_id) if language_id else Q(pk__in=[]))
    return list(
        RoutingRuleProvider.objects.filter(fits)
        .order_by()
        .values_list(
            "rule_id",
            "rule__name",
            "rule__need_id",
            "rule__segment_id",
            "rule__community_id",
            "rule__ward_id",
            "rule__stage",
            "rule__language_id",
            "rule__priority",
            "position",
            "provider_id",
            "provider__name",
            "provider__uuid",
            "provider__slug",
            "provider__is_active",
            "service_id",
            "service__name",
            "service__uuid",
            "service__slug",
            "service__status",
            "service__accepting_referrals",
        )
    )


def _services_for_needs(*, provider_ids: set[int], need_ids: list[int]) -> dict[tuple[int, int], list[tuple]]:
    """Each candidate provider's services for each asked-for need, with whether they take referrals now.

    Keyed by (provider id, need id), in name order. Plain tuples: only the few services finally
    suggested become model instances. No query when no rule names a provider.
    """
    services_by: dict[tuple[int, int], list[tuple]] = defaultdict(list)
    if provider_ids:
        rows = Service.needs.through.objects.filter(
            service__organisation_id__in=provider_ids, taxonomyterm_id__in=need_ids
        ).values_list(
            "taxonomyterm_id",
            "service_id",
            "service__organisation_id",
            "service__name",
            "service__uuid",
            "service__slug",
            "service__status",
            "service__accepting_referrals",
        )
        for need_id, pk, organisation_id, name, uuid, slug, status, accepting in rows.order_by(
            "service__name", "service_id"
        ):
            services_by[(organisation_id, need_id)].append(
                ((pk, organisation_id, name, uuid, slug), status == Service.Status.ACTIVE and accepting)
            )
    return services_by


def _rule_candidates(
    entries: list[tuple], *, services_by: dict, term_names: dict[int, str]
) -> tuple[dict[int, list], list[tuple[str, str]]]:
    """Gather the fitting rule entries by provider, and the providers left out with why.

    A closed provider, or one whose named service (or every service for the need) is paused or full,
    is skipped. Otherwise each entry is ranked (-specificity, priority, position, rule id) and gives a
    reason; see `_keep_best_rule` for what a provider's candidate keeps.
    Returns provider id -> [rank, provider values, service values, reason arguments], and the skipped.
    """
    candidates: dict[int, list] = {}
    skipped: list[tuple[str, str]] = []
    for (
        rule_id,
        rule_name,
        need_id,
        segment_id,
        community_id,
        rule_ward_id,
        rule_stage,
        rule_language_id,
        priority,
        position,
        provider_id,
        provider_name,
        provider_uuid,
        provider_slug,
        provider_active,
        service_id,
        service_name,
        service_uuid,
        service_slug,
        service_status,
        service_accepting,
    ) in entries:
        if not provider_active:
            skipped.append((provider_name, _("the organisation has closed")))
            continue
        chosen_service, refusal = _rule_entry_service(
            need_id=need_id,
            provider_id=provider_id,
            service=(service_id, provider_id, service_name, service_uuid, service_slug),
            service_open=service_status == Service.Status.ACTIVE and service_accepting,
            services_by=services_by,
            term_names=term_names,
        )
        if refusal:
            skipped.append((provider_name, refusal))
            continue
        narrowing = (segment_id, community_id, rule_ward_id, rule_stage, rule_language_id)
        rank = (-sum(value is not None for value in narrowing), priority, position, rule_id)
        _keep_best_rule(
            candidates,
            provider=(provider_id, provider_name, provider_uuid, provider_slug),
            rank=rank,
            service=chosen_service,
            reason=(rank, need_id, rule_name, position, *narrowing),
        )
    return candidates, skipped


def _rule_entry_service(
    *, need_id: int, provider_id: int, service: tuple, service_open: bool, services_by: dict, term_names: dict
) -> tuple[tuple | None, str]:
    """The service a rule entry suggests, or why its provider is skipped ("" when it is not).

    A service the rule names must be open and taking referrals. With none named, the provider's first
    such service for the need is suggested; a provider with services for the need, none of them
    taking referrals, is skipped; one with no service for the need is suggested without one.
    """
    if service[0]:
        if not service_open:
            return None, _("its service “%(service)s” is paused or full") % {"service": service[2]}
        return service, ""
    offered = services_by.get((provider_id, need_id), [])
    taking = [candidate for candidate, open_now in offered if open_now]
    if offered and not taking:
        return None, _("its services for “%(need)s” are paused or full") % {"need": term_names.get(need_id, "")}
    return (taking[0] if taking else None), ""


def _keep_best_rule(candidates: dict[int, list], *, provider: tuple, rank: tuple, service, reason: tuple) -> None:
    """Add a fitting rule to its provider's candidate: the best-ranked rule sets the provider's rank
    (and its service, unless that rule finds none); every rule adds its reason."""
    candidate = candidates.get(provider[0])
    if candidate is None:
        candidates[provider[0]] = [rank, provider, service, [reason]]
    else:
        if rank < candidate[0]:
            candidate[0] = rank
            candidate[2] = service or candidate[2]
        candidate[3].append(reason)


def _rule_suggestions(
    candidates: dict[int, list], *, term_names: dict, existing_provider: Organisation | None, limit: int
) -> dict[int, Suggestion]:
    """The rule candidates worth showing, as suggestions by provider id: the group's existing provider
    if a rule names it, and the best-ranked ones (one more than the limit, as the existing provider
    may be among them); ties in rank go by provider name."""
    found: dict[int, Suggestion] = {}
    best = sorted(candidates.values(), key=lambda candidate: (candidate[0], candidate[1][1]))
    if existing_provider is not None and existing_provider.pk in candidates:
        found[existing_provider.pk] = _suggestion_from_rules(candidates[existing_provider.pk], term_names=term_names)
    for candidate in best[: limit + 1]:
        found.setdefault(candidate[1][0], _suggestion_from_rules(candidate, term_names=term_names))
    return found


def _suggestion_from_rules(candidate: list, *, term_names: dict) -> Suggestion:
    """Turn a provider's candidate into a Suggestion, with the best-fitting rule's reason first."""
    rank, (pk, name, uuid, slug), service_values, reasons = candidate
    chosen = None
    if service_values:
        service_pk, organisation_id, service_name, service_uuid, service_slug = service_values
        chosen = Service(
            pk=service_pk,
            organisation_id=organisation_id,
            name=service_name,
            uuid=service_uuid,
            slug=service_slug,
        )
    return Suggestion(
        provider=Organisation(pk=pk, name=name, uuid=uuid, slug=slug, is_active=True),
        service=chosen,
        rank=rank,
        # The best-fitting rule's reason first.
        reasons=[
            _rule_reason(
                need=term_names.get(need_id, ""),
                position=position,
                segment=term_names.get(segment_id),
                community=term_names.get(community_id),
                ward=term_names.get(rule_ward_id),
                stage=rule_stage,
                language=term_names.get(rule_language_id),
            )
            for _rank, need_id, _rule_name, position, segment_id, community_id, rule_ward_id, rule_stage, rule_language_id in sorted(
                reasons
            )
        ],
    )


def _existing_provider_first(
    ranked: list[Suggestion], *, found: dict[int, Suggestion], existing_provider: Organisation, service: Service | None
) -> list[Suggestion]:
    """Put the provider the group already works with first, whether or not a rule suggested it, with
    the service the group chose if it is one of that provider's."""
    existing = found.get(existing_provider.pk)
    ranked = [s for s in ranked if s.provider.pk != existing_provider.pk]
    if existing is None:
        existing = Suggestion(provider=existing_provider, service=None)
    if service is not None and service.organisation_id == existing_provider.pk:
        existing.service = service
    existing.existing = True
    existing.reasons.insert(0, _("You already work with this provider (or chose it), so it comes first."))
    ranked.insert(0, existing)
    return ranked


def _open_service_suggestions(*, need_ids: list[int], stage, taken: set[int], room: int) -> list[Suggestion]:
    """Up to `room` more providers, not already suggested, whose services open to referrals meet the most
    needs (then by name), one service each; a stage 1-3 group only gets services serving its stage."""
    fallback = Service.objects.taking_referrals().filter(needs__in=need_ids).exclude(organisation_id__in=taken)
    fallback = fallback.filter(organisation__in=Organisation.objects.providers().values("pk"))
    if stage in (1, 2, 3):
        fallback = fallback.filter(**{f"serves_stage_{stage}": True})
    rows = (
        fallback.select_related("organisation")
        .annotate(needs_met=Count("needs", filter=Q(needs__in=need_ids)))
        .order_by("-needs_met", "organisation__name", "name")[: room * 4]
    )
    suggestions: list[Suggestion] = []
    for candidate in rows:
        if len(suggestions) >= room:
            break
        if candidate.organisation_id in taken:
            continue
        taken.add(candidate.organisation_id)
        suggestions.append(
            Suggestion(
                provider=candidate.organisation,
                service=candidate,
                reasons=[
                    _("Its service “%(service)s” is open to referrals for what you asked for.")
                    % {"service": candidate.name}
                ],
            )
        )
    return suggestions


def routing_for_referral_data(data: dict) -> Routing:
    """Run the router on a request's cleaned form data (see forms.AskForm)."""
    organisation: Organisation = data["organisation"]
    return suggest_providers(
        needs=data["needs"],
        segments=list(organisation.segments.values_list("pk", flat=True)),
        communities=data.get("communities") or [],
        ward=organisation.ward_id,
        stage=int(data["stage"]) if data.get("stage") else None,
        language=data.get("language"),
        existing_provider=data.get("existing_provider"),
        service=data.get("service"),
    )


# People and places -------------------------------------------------------------------------------


def providers_of_officer(user) -> QuerySet[Organisation]:
    """The providers where this user is an officer."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(
        pk__in=Affiliation.objects.filter(user=user, role=Affiliation.Role.OFFICER).values("organisation_id")
    )


def is_officer_somewhere(user) -> bool:
    return user.is_authenticated and Affiliation.objects.filter(user=user, role=Affiliation.Role.OFFICER).exists()


def officers_of(provider: Organisation):
    from accounts.models import User

    return User.objects.filter(
        is_active=True, affiliations__organisation=provider, affiliations__role=Affiliation.Role.OFFICER
    ).order_by("first_name", "last_name", "username")


def officer_emails(provider: Organisation | None) -> list[str]:
    if provider is None:
        return []
    emails = [email for email in officers_of(provider).values_list("email", flat=True) if email]
    return emails or ([provider.email] if provider.email else [])


def organisations_user_can_ask_for(user) -> QuerySet[Organisation]:
    """Editors ask for their own open VCOs; officers and network admins may ask for any open VCO."""
    vcos = Organisation.objects.active().filter(pk__in=Organisation.objects.vcos().values("pk"))
    if user.is_network_admin or is_officer_somewhere(user):
        return vcos.order_by("name")
    return vcos.filter(
        pk__in=Affiliation.objects.filter(
            user=user, role__in=[Affiliation.Role.EDITOR, Affiliation.Role.OFFICER]
        ).values("organisation_id")
    ).order_by("name")


def referral_providers() -> QuerySet[Organisation]:
    """Open providers a referral can go to."""
    return Organisation.objects.active().filter(pk__in=Organisation.objects.providers().values("pk")).order_by("name")


# Lists --------------------------------------------------------------------------------------------


def _list_query(referrals: QuerySet[Referral]) -> QuerySet[Referral]:
    return referrals.select_related("organisation", "provider", "assigned_to", "service").prefetch_related("needs")


def referrals_of_user(user) -> QuerySet[Referral]:
    """A group's own referrals: those of organisations the user is linked to, and any they asked for."""
    if not user.is_authenticated:
        return Referral.objects.none()
    linked = Affiliation.objects.filter(user=user).values("organisation_id")
    return _list_query(Referral.objects.filter(Q(organisation_id__in=linked) | Q(requested_by=user)))


AGE_CHOICES = {"7": 7, "14": 14, "30": 30, "90": 90}


def inbox(
    *,
    provider: Organisation | None,
    status: str = "",
    need: TaxonomyTerm | None = None,
    older_than_days: int | None = None,
    overdue: bool = False,
    assigned_to=None,
    q: str = "",
    now: datetime | None = None,
) -> QuerySet[Referral]:
    """A provider's referrals (every provider's, for network admins passing None), newest first."""
    now = now or timezone.now()
    referrals = Referral.objects.all() if provider is None else Referral.objects.for_provider(provider)
    if status == "open":
        referrals = referrals.open()
    elif status:
        referrals = referrals.filter(status=status)
    if need is not None:
        referrals = referrals.filter(
            pk__in=Referral.needs.through.objects.filter(taxonomyterm=need).values("referral_id")
        )
    if older_than_days:
        referrals = referrals.filter(submitted_at__lt=now - timedelta(days=older_than_days))
    if overdue:
        referrals = referrals.overdue(now)
    if assigned_to is not None:
        referrals = referrals.filter(assigned_to=assigned_to)
    for word in q.split():
        referrals = referrals.filter(organisation__name__icontains=word)
    # Only the columns the inbox shows: organisations carry long free text the list never needs.
    return (
        _list_query(referrals)
        .only(
            "pk",
            "uuid",
            "status",
            "outcome",
            "urgency",
            "submitted_at",
            "response_due_at",
            "organisation_id",
            "organisation__name",
            "organisation__slug",
            "provider_id",
            "provider__name",
            "provider__slug",
            "assigned_to_id",
            "assigned_to__username",
            "assigned_to__first_name",
            "assigned_to__last_name",
            "service_id",
            "service__name",
            "service__slug",
        )
        .order_by("-submitted_at", "-pk")
    )


def inbox_counts(*, provider: Organisation | None, now: datetime | None = None) -> dict:
    """How many referrals the provider has in each status, and how many are overdue: one query."""
    referrals = Referral.objects.all() if provider is None else Referral.objects.for_provider(provider)
    now = now or timezone.now()
    awaiting = (Referral.Status.SUBMITTED, Referral.Status.WITH_PROVIDER)
    # One pass grouped by status (served by the inbox index) rather than a filtered count per status.
    rows = (
        referrals.order_by()
        .values_list("status")
        .annotate(n=Count("pk"), late=Count("pk", filter=Q(status__in=awaiting, response_due_at__lt=now)))
    )
    figures = {value: 0 for value in Referral.Status.values}
    overdue = 0
    for status, n, late in rows:
        figures[status] = n
        overdue += late
    figures["total"] = sum(figures[value] for value in Referral.Status.values)
    figures["open"] = sum(figures[value] for value in Referral.OPEN_STATUSES)
    figures["overdue"] = overdue
    figures["by_status"] = [(value, label, figures[value]) for value, label in Referral.Status.choices]
    return figures


def timeline(referral: Referral) -> QuerySet[ReferralEvent]:
    return referral.events.select_related("by", "provider").order_by("at", "pk")


def referral_detail(uuid) -> Referral | None:
    return (
        Referral.objects.select_related(
            "organisation", "provider", "service", "assigned_to", "requested_by", "language", "existing_provider"
        )
        .prefetch_related("needs", "communities")
        .filter(uuid=uuid)
        .first()
    )


def referral_seen_by(user, uuid) -> Referral | None:
    """The referral, if this person may see it; None otherwise, exactly as for an id that does not
    exist, so no page or action can tell someone else's referral from a missing one."""
    referral = referral_detail(uuid)
    if referral is None or not can(user, "referrals.view", referral):
        return None
    return referral


def feedback_of(referral: Referral) -> Feedback | None:
    return Feedback.objects.filter(referral=referral).select_related("given_by").first()


# Personal data ------------------------------------------------------------------------------------


def referrals_about_contact(email: str) -> QuerySet[Referral]:
    """Every referral that holds this person's details: as the contact, or as the person who asked."""
    email = (email or "").strip()
    if not email:
        return Referral.objects.none()
    return (
        Referral.objects.filter(Q(contact_email__iexact=email) | Q(requested_by__email__iexact=email))
        .select_related("organisation", "provider", "requested_by", "language")
        .prefetch_related("needs", "communities", "events__by")
        .order_by("submitted_at", "pk")
    )


def _iso(value) -> str:
    return value.isoformat() if value else ""


def contact_data(email: str) -> dict:
    """Everything the referrals app holds about one contact, for a subject access request."""
    referrals = []
    for referral in referrals_about_contact(email):
        feedback = getattr(referral, "feedback", None) if hasattr(referral, "feedback") else None
        referrals.append(
            {
                "reference": referral.reference,
                "id": str(referral.uuid),
                "organisation": referral.organisation.name,
                "asked_by": referral.requested_by.get_full_name() or referral.requested_by.username
                if referral.requested_by
                else "",
                "asked_by_email": referral.requested_by.email if referral.requested_by else "",
                "contact_name": referral.contact_name,
                "contact_email": referral.contact_email,
                "contact_phone": referral.contact_phone,
                "needs": [term.name for term in referral.needs.all()],
                "description": referral.description,
                "urgency": referral.get_urgency_display(),
                "stage": referral.get_stage_display() if referral.stage else "",
                "communities": [term.name for term in referral.communities.all()],
                "language": referral.language.name if referral.language else "",
                "consent_purpose": referral.consent_purpose,
                "consent_given_at": _iso(referral.consent_given_at),
                "provider": referral.provider.name if referral.provider else "",
                "status": referral.get_status_display(),
                "outcome": referral.get_outcome_display() if referral.outcome else "",
                "submitted_at": _iso(referral.submitted_at),
                "closed_at": _iso(referral.closed_at),
                "anonymised_at": _iso(referral.anonymised_at),
                "feedback": (
                    {
                        "satisfaction": feedback.satisfaction,
                        "still_needed": feedback.still_needed,
                        "given_at": _iso(feedback.given_at),
                    }
                    if feedback
                    else None
                ),
                "history": [
                    {
                        "what": event.get_kind_display(),
                        "by": (event.by.get_full_name() or event.by.username) if event.by else "",
                        "at": _iso(event.at),
                        "note": event.note,
                    }
                    for event in referral.events.all()
                ],
            }
        )
    return {"email": email, "generated_at": timezone.now().isoformat(), "referrals": referrals}


CONTACT_DATA_HEADERS = [
    "reference",
    "organisation",
    "asked_by",
    "asked_by_email",
    "contact_name",
    "contact_email",
    "contact_phone",
    "needs",
    "description",
    "urgency",
    "stage",
    "communities",
    "language",
    "consent_purpose",
    "consent_given_at",
    "provider",
    "status",
    "outcome",
    "submitted_at",
    "closed_at",
    "anonymised_at",
    "satisfaction",
    "still_needed",
]


def contact_data_rows(data: dict) -> list[list]:
    rows = []
    for item in data["referrals"]:
        feedback = item["feedback"] or {}
        row = {**item, "needs": "; ".join(item["needs"]), "communities": "; ".join(item["communities"])}
        row["satisfaction"] = feedback.get("satisfaction", "")
        row["still_needed"] = feedback.get("still_needed", "")
        rows.append([row[name] for name in CONTACT_DATA_HEADERS])
    return rows


def feedback_summary() -> dict:
    """Satisfaction and volume of demand, for the network's evaluation: aggregates only."""
    from django.db.models import Avg

    figures = Feedback.objects.aggregate(count=Count("pk"), average=Avg("satisfaction"))
    figures["referrals"] = Referral.objects.count()
    return figures


def referral_figures() -> dict:
    """The network's evaluation: demand by need, where referrals got to, outcomes and satisfaction.
    Aggregates only (a handful of queries whatever the volume)."""
    from django.db.models import Avg

    demand = (
        Referral.needs.through.objects.values_list("taxonomyterm__name")
        .annotate(n=Count("referral_id"))
        .order_by("-n", "taxonomyterm__name")
    )
    statuses = dict(Referral.objects.order_by().values_list("status").annotate(n=Count("pk")))
    outcomes = dict(Referral.objects.exclude(outcome="").order_by().values_list("outcome").annotate(n=Count("pk")))
    satisfaction = dict(Feedback.objects.order_by().values_list("satisfaction").annotate(n=Count("pk")))
    average = Feedback.objects.aggregate(average=Avg("satisfaction"))["average"]
    return {
        "total": sum(statuses.values()),
        "demand": list(demand),
        "by_status": [(label, statuses.get(value, 0)) for value, label in Referral.Status.choices],
        "by_outcome": [(label, outcomes.get(value, 0)) for value, label in Referral.Outcome.choices],
        "satisfaction": [(score, satisfaction.get(score, 0)) for score in (5, 4, 3, 2, 1)],
        "feedback_count": sum(satisfaction.values()),
        "average_satisfaction": average,
    }


# Figures for the evidence app ----------------------------------------------------------------------


def referral_statistics(
    *, start: date, end: date, ward: TaxonomyTerm | None, use_summaries: bool = True, memo: dict | None = None
) -> dict:
    """The referrals made in a period by VCOs in a ward (None: the whole borough), for the evidence
    dashboards. Aggregates only, in a constant number of queries whatever the volume: the counts from
    ``summaries.period_figures`` (whole months from the monthly summaries,
    the rest live; use_summaries=False counts all of it live, with the same figures), the median from
    ``summaries.period_medians`` (found through the summaries, or every answer sorted):

    - total, and by_outcome: closed referrals by their outcome, the rest by where they stand, so the
      rows add up to the total;
    - by_need: referrals per need (a referral can name several), every need of the vocabulary listed;
    - satisfaction: feedback given on those referrals, per score;
    - first_response: over the referrals a provider has answered (accepted, declined or passed on),
      how many they are (count) and the median hours from the referral reaching that provider to its
      first answer (median_hours, None when none was answered), as kept when it was answered
      (Referral.first_response_after).

    `memo` (a page's, see ``_borough_figures``): the borough's counts and medians, shared with
    ``delivery_by_ward`` for the same period.
    """
    states: dict[str, int] = defaultdict(int)
    scores: dict[int, int] = defaultdict(int)
    answered = 0
    if ward is None:
        rows, asked = _borough_figures(start=start, end=end, use_summaries=use_summaries, memo=memo)
    else:
        rows, asked = summaries.period_figures(start=start, end=end, ward=ward, use_summaries=use_summaries, memo=memo)
    for _ward_id, state, n, timed, _in_time, *by_score in rows:
        states[state] += n
        answered += timed
        for score, given in zip(summaries.SCORES, by_score, strict=True):
            scores[score] += given
    closed = Referral.Status.CLOSED
    by_outcome = [(label, states[value]) for value, label in referral_states() if value != closed or states[closed]]
    needs = built_from_terms("referrals-statistics-needs", _needs_listed)
    median = _median(start=start, end=end, ward=ward, use_summaries=use_summaries, memo=memo) if answered else None
    return {
        "total": sum(states.values()),
        # A need no longer offered still shows while referrals in the period named it.
        "by_need": [
            (name, asked.get(pk, 0))
            for pk, name, active in needs
            if active or pk in asked
        ],
        "by_outcome": by_outcome,
        "first_response": {"median_hours": median / 3600 if median is not None else None, "count": answered},
        "satisfaction": [(str(label), scores[score]) for score, label in SATISFACTION_CHOICES],
    }


def _needs_listed() -> list[tuple[int, str, bool]]:
    """(id, name, whether active) of every need, in the vocabulary's order: kept per process while the
    taxonomies' data version stays the same (taxonomies.selectors.built_from_terms)."""
    return list(TaxonomyTerm.objects.filter(taxonomy__code=Taxonomy.NEEDS).order_by("order", "name").values_list("pk", "name", "is_active"))


def _borough_figures(*, start: date, end: date, use_summaries: bool, memo: dict | None) -> tuple[list, dict[int, int]]:
    """``summaries.period_figures`` for the whole borough, counted once per `memo` (a page's: the referral
    section and delivery by area count the same referrals)."""
    return once(memo, ("referral_figures", start, end, use_summaries), lambda: summaries.period_figures(start=start, end=end, use_summaries=use_summaries, memo=memo))


def _wait_medians(*, start: date, end: date, use_summaries: bool, memo: dict | None) -> tuple[dict, float | None]:
    """``summaries.period_medians`` by ward and in total for the whole borough, worked out once per
    `memo`: one reading of the hours summarised gives every ward's median and the borough's."""
    return once(memo, ("wait_medians", start, end, use_summaries), lambda: summaries.period_medians(start=start, end=end, use_summaries=use_summaries, memo=memo))


def _median(*, start: date, end: date, ward: TaxonomyTerm | None, use_summaries: bool, memo: dict | None) -> float | None:
    """The median seconds to a first answer in a ward (None: the borough): the borough's from the medians
    by ward (shared with ``delivery_by_ward`` through `memo`); a ward's from them when they are already
    worked out (a ward's median there is the same middle of the same answers), or else alone."""
    if ward is None and memo is not None:
        return _wait_medians(start=start, end=end, use_summaries=use_summaries, memo=memo)[1]
    if ward is not None and memo is not None and ("wait_medians", start, end, use_summaries) in memo:
        return memo[("wait_medians", start, end, use_summaries)][0].get(ward.pk)
    return summaries.period_medians(start=start, end=end, ward=ward, by_ward=False, use_summaries=use_summaries, memo=memo)[1]


def referral_states() -> list[tuple[str, str]]:
    """(state, label) in the order the evidence figures give them: where an open or declined referral
    stands, then each outcome of a closed one, then closed with no outcome recorded."""
    closed = Referral.Status.CLOSED
    states = [(value, str(label)) for value, label in Referral.Status.choices if value != closed]
    states += [(value, str(label)) for value, label in Referral.Outcome.choices]
    return states + [(closed, _("Closed, outcome not recorded"))]


def delivery_by_ward(
    *, start: date, end: date, medians: bool = True, use_summaries: bool = True, memo: dict | None = None
) -> dict:
    """The referrals made in a period by VCOs, per ward of the asking organisation ("wards", keyed by
    the ward's id, None for no ward recorded) and for the whole borough ("borough"): how many were asked, where each stands (closed
    ones by their outcome, as ``referral_states``), how many a provider answered, how many of those
    by the deadline the provider was given (see ``summaries.month_rows``), and the median hours to
    that first answer; and "states", the (state, label) columns to show (closed with no outcome only
    when there are some).

    The counts from ``summaries.period_figures`` (whole months summarised, the rest live;
    use_summaries=False all live), then the medians by ward and in total from ``summaries.period_medians``
    (not worked out with medians=False, when no median will be shown); both once per `memo` (a page's),
    shared with ``referral_statistics`` for the whole borough.
    """
    wards: dict = {}
    borough = _delivery_figures()
    rows, _needs = _borough_figures(start=start, end=end, use_summaries=use_summaries, memo=memo)
    for ward_id, state, n, answered, in_time, *_scores in rows:
        for figures in (wards.setdefault(ward_id, _delivery_figures()), borough):
            figures["states"][state] += n
            figures["asked"] += n
            figures["answered"] += answered
            figures["in_time"] += in_time
    if medians:
        by_ward, median = _wait_medians(start=start, end=end, use_summaries=use_summaries, memo=memo)
        for ward_id, median_seconds in by_ward.items():
            wards.setdefault(ward_id, _delivery_figures())["median_hours"] = median_seconds / 3600
        borough["median_hours"] = median / 3600 if median is not None else None
    closed = Referral.Status.CLOSED
    states = [(state, label) for state, label in referral_states() if state != closed or borough["states"].get(closed)]
    return {"wards": wards, "borough": borough, "states": states}


def _delivery_figures() -> dict:
    return {"asked": 0, "states": defaultdict(int), "answered": 0, "in_time": 0, "median_hours": None}


def recent_still_needed(limit: int = 20) -> QuerySet[Feedback]:
    return (
        Feedback.objects.exclude(still_needed="").select_related("referral__organisation").order_by("-given_at")[:limit]
    )
