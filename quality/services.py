"""Writes for quality standards, assessments, reviews, badges, support materials and health checks.

Keyword-only functions, each in one transaction: a refusal (ValidationError) leaves nothing changed.
Rows that two people could change at once (an assessment being submitted or reviewed, a material
getting a new version) are locked first.
"""

import logging
from collections.abc import Iterable
from datetime import date

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import network_admin_emails
from core.uploads import DOCUMENTS, IMAGES, check_upload
from notifications.selectors import planned_reminder_keys
from notifications.services import schedule_reminder
from notifications.tasks import enqueue_reminder
from organisations.models import Affiliation, Organisation
from organisations.services import organisation_contacts

from . import selectors
from .models import (
    Answer,
    Badge,
    BadgeArea,
    Criterion,
    CriterionResponse,
    EvidenceFile,
    FrameworkVersion,
    HealthCheck,
    HealthCheckAnswer,
    HealthCheckAreaScore,
    Level,
    Material,
    MaterialDownloadDay,
    MaterialVersion,
    SelfAssessment,
    StandardArea,
)
from .permissions import is_provider

logger = logging.getLogger(__name__)

# PDFs, office documents and images, checked by their content.
ACCEPTED_FILE_TYPES = DOCUMENTS | IMAGES


def _notify(*, key: str, kind: str, recipients: list[str], subject: str, template: str, context: dict, organisation) -> None:
    """An email planned as a Reminder row (so it is never lost) and sent at once if the broker answers."""
    reminder, created = schedule_reminder(
        key=key, kind=kind, recipients=recipients, subject=subject, template=template, context=context, about=organisation
    )
    if created:
        enqueue_reminder(reminder.pk)


# The standards framework --------------------------------------------------------------------------


@transaction.atomic
def start_draft_version(*, by: User | None, notes: str = "") -> FrameworkVersion:
    """A new draft of the standard, copied from the current version, for admins to edit.

    The current version stays in force, untouched, until the draft is published.
    """
    if FrameworkVersion.objects.select_for_update().filter(status=FrameworkVersion.Status.DRAFT).exists():
        raise ValidationError(_("There is already a draft version being edited: edit or publish that one."))
    current = FrameworkVersion.objects.published().first()
    number = (FrameworkVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1
    draft = FrameworkVersion.objects.create(
        number=number, title=current.title if current else "THIN Quality Standard", notes=notes, status=FrameworkVersion.Status.DRAFT
    )
    if current:
        for area in current.areas.prefetch_related("criteria"):
            criteria = list(area.criteria.all())
            area.pk, area.version = None, draft
            area.save()
            Criterion.objects.bulk_create(
                Criterion(
                    area=area,
                    level=criterion.level,
                    code=criterion.code,
                    statement=criterion.statement,
                    guidance=criterion.guidance,
                    evidence_expected=criterion.evidence_expected,
                    order=criterion.order,
                )
                for criterion in criteria
            )
    return draft


@transaction.atomic
def publish_version(*, version: FrameworkVersion, by: User | None) -> FrameworkVersion:
    """Publish a draft: it becomes the version new assessments use and is frozen. The version it
    replaces is retired, and assessments made against it keep pointing at it."""
    version = FrameworkVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != FrameworkVersion.Status.DRAFT:
        raise ValidationError(_("Only a draft can be published; version %(number)s is %(status)s.") % {
            "number": version.number, "status": version.get_status_display().lower()})
    problems = []
    areas = list(version.areas.prefetch_related("criteria"))
    if not areas:
        problems.append(_("The draft has no areas."))
    for area in areas:
        if not any(criterion.level == Level.BASELINE for criterion in area.criteria.all()):
            problems.append(_("%(area)s has no baseline criterion.") % {"area": area.name})
    if problems:
        raise ValidationError(problems)
    FrameworkVersion.objects.select_for_update().filter(status=FrameworkVersion.Status.PUBLISHED).update(
        status=FrameworkVersion.Status.RETIRED
    )
    version.status = FrameworkVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = by
    version.save(update_fields=["status", "published_at", "published_by"])
    return version


def ensure_version_editable(version: FrameworkVersion) -> None:
    if not version.is_editable:
        raise ValidationError(
            _("Version %(number)s is %(status)s and frozen: start a new draft to change the standard.")
            % {"number": version.number, "status": version.get_status_display().lower()}
        )


# Self-assessment --------------------------------------------------------------------------------


@transaction.atomic
def start_assessment(*, organisation: Organisation, by: User) -> SelfAssessment:
    """A new self-assessment against the current version, with an empty answer for every criterion."""
    if not is_provider(organisation):
        raise ValidationError(_("Only infrastructure providers assess themselves against the quality standard."))
    version = FrameworkVersion.objects.published().first()
    if version is None:
        raise ValidationError(_("No version of the standard is published yet: ask a network admin."))
    Organisation.objects.select_for_update().filter(pk=organisation.pk).first()  # one start at a time per provider
    existing = SelfAssessment.objects.filter(organisation=organisation, status__in=SelfAssessment.OPEN_STATUSES).first()
    if existing:
        raise ValidationError(
            _("%(organisation)s already has an assessment in progress (%(status)s): carry on with that one.")
            % {"organisation": organisation.name, "status": existing.get_status_display().lower()}
        )
    try:
        with transaction.atomic():
            assessment = SelfAssessment.objects.create(organisation=organisation, version=version, started_by=by)
    except IntegrityError:
        raise ValidationError(_("%(organisation)s already has an assessment in progress.") % {"organisation": organisation.name})
    criteria = Criterion.objects.filter(area__version=version)
    CriterionResponse.objects.bulk_create(CriterionResponse(assessment=assessment, criterion=criterion) for criterion in criteria)
    return assessment


def _editable_assessment(assessment_id: int) -> SelfAssessment:
    assessment = SelfAssessment.objects.select_for_update().select_related("organisation").get(pk=assessment_id)
    if not assessment.is_editable:
        when = assessment.submitted_at or assessment.reviewed_at
        raise ValidationError(
            _("This assessment is %(status)s%(when)s and can no longer be changed.")
            % {
                "status": assessment.get_status_display().lower(),
                "when": (" " + _("since %(date)s") % {"date": date_format(timezone.localtime(when), "j F Y")}) if when else "",
            }
        )
    return assessment


def _clean_links(text: str) -> str:
    """The links one a line, tidied; every line that is not a web address is named at once."""
    validate = URLValidator(schemes=["http", "https"])
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    problems = []
    for number, line in enumerate(lines, start=1):
        try:
            validate(line)
        except ValidationError:
            problems.append(
                _("Line %(number)s (“%(link)s”) is not a web address starting with http:// or https://.")
                % {"number": number, "link": line[:80]}
            )
    if problems:
        raise ValidationError({"evidence_links": problems})
    return "\n".join(lines)


def _check_uploads(uploads: list) -> list[str]:
    """Each file's type, checked by its content; every refused file is named at once."""
    kinds, problems = [], []
    for upload in uploads:
        try:
            kinds.append(check_upload(upload, allowed=ACCEPTED_FILE_TYPES, max_bytes=settings.QUALITY_UPLOAD_MAX_BYTES))
        except ValidationError as error:
            problems.append(_("%(name)s: %(problem)s") % {"name": upload.name, "problem": " ".join(error.messages)})
    if problems:
        raise ValidationError({"files": problems})
    return kinds


def response_problems(*, evidence_links: str = "", uploads: Iterable = ()) -> dict[str, list[str]]:
    """Every problem save_response would find with the links and files, by field, without saving: the
    answer form shows them together with its own errors."""
    problems: dict[str, list[str]] = {}
    for check, value in ((_clean_links, evidence_links), (_check_uploads, list(uploads))):
        try:
            check(value)
        except ValidationError as error:
            problems.update(error.message_dict)
    return problems


@transaction.atomic
def save_response(
    *,
    response: CriterionResponse,
    by: User,
    rating: str,
    evidence_text: str = "",
    evidence_links: str = "",
    uploads: Iterable = (),
) -> CriterionResponse:
    """Save the provider's answer to one criterion, with its evidence. Uploaded files are checked by
    their content first; if any is refused, nothing is saved."""
    assessment = _editable_assessment(response.assessment_id)
    response = CriterionResponse.objects.select_for_update().select_related("criterion").get(pk=response.pk)
    if assessment.status == SelfAssessment.Status.RETURNED and response.review_status != CriterionResponse.ReviewStatus.RETURNED:
        raise ValidationError(
            _("The reviewer verified %(code)s; only the criteria returned with comments can be changed.") % {"code": response.criterion.code}
        )
    uploads = list(uploads)
    problems = response_problems(evidence_links=evidence_links, uploads=uploads)
    if rating not in CriterionResponse.Rating.values and rating != "":
        problems["rating"] = [_("Choose met, partly met or not met.")]
    if problems:
        raise ValidationError(problems)
    links = _clean_links(evidence_links)
    kinds = _check_uploads(uploads)
    response.rating = rating
    response.evidence_text = (evidence_text or "").strip()
    response.evidence_links = links
    response.updated_by = by
    response.save()
    for upload, kind in zip(uploads, kinds, strict=True):
        evidence = EvidenceFile(response=response, original_name=upload.name[:255], file_type=kind, size=upload.size, uploaded_by=by)
        evidence.file.save(upload.name, upload, save=False)
        evidence.save()
    return response


@transaction.atomic
def remove_evidence_file(*, evidence: EvidenceFile, by: User) -> None:
    _editable_assessment(evidence.response.assessment_id)
    evidence.file.delete(save=False)
    evidence.delete()


@transaction.atomic
def submit_assessment(*, assessment: SelfAssessment, by: User) -> SelfAssessment:
    """Send a complete assessment for peer review. Refused, with the list of what is missing, when it
    is incomplete; refused when it has been submitted already."""
    assessment = SelfAssessment.objects.select_for_update().select_related("organisation").get(pk=assessment.pk)
    if assessment.status in (SelfAssessment.Status.SUBMITTED, SelfAssessment.Status.IN_REVIEW):
        raise ValidationError(
            _("This assessment was already submitted on %(date)s and is waiting for its review.")
            % {"date": date_format(timezone.localtime(assessment.submitted_at), "j F Y")}
        )
    if not assessment.is_editable:
        raise ValidationError(_("This assessment is %(status)s and cannot be submitted again.") % {"status": assessment.get_status_display().lower()})
    missing = selectors.missing_items(assessment)
    if missing:
        # Each line carries the code (a plain list would drop it): the page shows the list once.
        raise ValidationError([ValidationError(line, code="incomplete") for line in [_("Not complete yet:"), *missing]])
    # Criteria returned by the reviewer go back for review; those verified stay verified.
    assessment.responses.filter(review_status=CriterionResponse.ReviewStatus.RETURNED).update(
        review_status=CriterionResponse.ReviewStatus.PENDING
    )
    assessment.status = SelfAssessment.Status.SUBMITTED if assessment.reviewer_id is None else SelfAssessment.Status.IN_REVIEW
    assessment.submitted_at = timezone.now()
    assessment.submitted_by = by
    assessment.save(update_fields=["status", "submitted_at", "submitted_by", "updated_at"])
    _notify(
        key=f"quality-submitted:{assessment.pk}:{assessment.submitted_at.isoformat()}",
        kind="quality-submitted",
        recipients=network_admin_emails() + ([assessment.reviewer.email] if assessment.reviewer_id and assessment.reviewer.email else []),
        subject=_("%(organisation)s has submitted its quality self-assessment") % {"organisation": assessment.organisation.name},
        template="emails/quality_submitted",
        context={"organisation": assessment.organisation.name, "assessment_id": assessment.pk, "version": assessment.version.number},
        organisation=assessment.organisation,
    )
    return assessment


# Peer review --------------------------------------------------------------------------------------


def _refuse_own_organisation(user: User, assessment: SelfAssessment) -> None:
    """Nobody reviews an organisation they are linked to, network admins included."""
    if Affiliation.objects.filter(user=user, organisation_id=assessment.organisation_id).exists():
        raise ValidationError(
            _("You cannot review %(organisation)s: you are linked to it. A reviewer from another provider, or a network admin, must do it.")
            % {"organisation": assessment.organisation.name},
            code="own_organisation",
        )


def _check_reviewer(user: User, assessment: SelfAssessment) -> None:
    _refuse_own_organisation(user, assessment)
    if assessment.status != SelfAssessment.Status.IN_REVIEW:
        raise ValidationError(_("This assessment is %(status)s, not being reviewed.") % {"status": assessment.get_status_display().lower()})
    if assessment.reviewer_id != user.pk and not user.is_network_admin:
        raise ValidationError(_("%(name)s is reviewing this assessment.") % {"name": assessment.reviewer})


@transaction.atomic
def start_review(*, assessment: SelfAssessment, reviewer: User) -> SelfAssessment:
    """A reviewer takes a submitted assessment on. The row is locked, so two reviewers cannot both."""
    assessment = SelfAssessment.objects.select_for_update().select_related("organisation").get(pk=assessment.pk)
    _refuse_own_organisation(reviewer, assessment)
    if assessment.status == SelfAssessment.Status.IN_REVIEW:
        if assessment.reviewer_id == reviewer.pk:
            return assessment
        raise ValidationError(_("%(name)s is already reviewing this assessment.") % {"name": assessment.reviewer})
    if assessment.status != SelfAssessment.Status.SUBMITTED:
        raise ValidationError(_("This assessment is %(status)s, not waiting for review.") % {"status": assessment.get_status_display().lower()})
    assessment.status = SelfAssessment.Status.IN_REVIEW
    assessment.reviewer = reviewer
    assessment.review_started_at = timezone.now()
    assessment.save(update_fields=["status", "reviewer", "review_started_at", "updated_at"])
    return assessment


@transaction.atomic
def save_review_decisions(*, assessment: SelfAssessment, reviewer: User, decisions: dict[int, tuple[str, str]]) -> int:
    """Record the reviewer's decision on criteria: {response id: (verified|returned, comment)}.

    Returning a criterion needs a comment saying what to change. Returns how many were recorded."""
    assessment = SelfAssessment.objects.select_for_update().select_related("organisation").get(pk=assessment.pk)
    _check_reviewer(reviewer, assessment)
    responses = {response.pk: response for response in assessment.responses.select_related("criterion")}
    problems = []
    for response_id, (decision, comment) in decisions.items():
        response = responses.get(response_id)
        if response is None:
            problems.append(_("Criterion %(id)s is not part of this assessment.") % {"id": response_id})
        elif decision not in (CriterionResponse.ReviewStatus.VERIFIED, CriterionResponse.ReviewStatus.RETURNED):
            problems.append(_("%(code)s: choose verify or return.") % {"code": response.criterion.code})
        elif decision == CriterionResponse.ReviewStatus.RETURNED and not comment.strip():
            problems.append(_("%(code)s: say what the provider should change when you return it.") % {"code": response.criterion.code})
    if problems:
        raise ValidationError(problems)
    now = timezone.now()
    for response_id, (decision, comment) in decisions.items():
        response = responses[response_id]
        response.review_status, response.review_comment = decision, comment.strip()
        response.reviewed_by, response.reviewed_at = reviewer, now
        response.save(update_fields=["review_status", "review_comment", "reviewed_by", "reviewed_at"])
    return len(decisions)


def verified_levels(responses: Iterable[CriterionResponse], areas: Iterable[StandardArea]) -> dict[int, int]:
    """Area id -> verified level: the highest level whose criteria, and all below it, are met.

    0 means the baseline is not met. Partly met does not count as met."""
    met: dict[int, dict[int, bool]] = {}
    for response in responses:
        per_level = met.setdefault(response.criterion.area_id, {})
        level = response.criterion.level
        per_level[level] = per_level.get(level, True) and response.rating == CriterionResponse.Rating.MET
    levels = {}
    for area in areas:
        per_level = met.get(area.pk, {})
        achieved = Level.NOT_MET
        for level in (Level.BASELINE, Level.LEVEL_2, Level.LEVEL_3):
            # A level with no criteria cannot be claimed, so levels stop at the first gap.
            if per_level.get(level):
                achieved = level
            else:
                break
        levels[area.pk] = int(achieved)
    return levels


@transaction.atomic
def finish_review(*, assessment: SelfAssessment, reviewer: User, summary: str = "", today: date | None = None) -> SelfAssessment:
    """Close the review once every criterion has a decision. Any criterion returned sends the whole
    assessment back for changes; all verified issues the badge (a verified level per area)."""
    today = today or timezone.localdate()
    assessment = SelfAssessment.objects.select_for_update().select_related("organisation", "version").get(pk=assessment.pk)
    _check_reviewer(reviewer, assessment)
    responses = list(assessment.responses.select_related("criterion"))
    undecided = [r.criterion.code for r in responses if r.review_status == CriterionResponse.ReviewStatus.PENDING]
    if undecided:
        raise ValidationError(_("Verify or return every criterion first. Still to do: %(codes)s.") % {"codes": ", ".join(undecided)})
    assessment.reviewed_at = timezone.now()
    assessment.review_summary = summary.strip()
    returned = [r for r in responses if r.review_status == CriterionResponse.ReviewStatus.RETURNED]
    organisation = assessment.organisation
    if returned:
        assessment.status = SelfAssessment.Status.RETURNED
        assessment.save(update_fields=["status", "reviewed_at", "review_summary", "updated_at"])
        badge = None
    else:
        assessment.status = SelfAssessment.Status.VERIFIED
        assessment.save(update_fields=["status", "reviewed_at", "review_summary", "updated_at"])
        badge = issue_badge(assessment=assessment, responses=responses, by=reviewer, today=today)
    _notify(
        key=f"quality-reviewed:{assessment.pk}:{assessment.reviewed_at.isoformat()}",
        kind="quality-reviewed",
        recipients=organisation_contacts(organisation),
        subject=(
            _("%(organisation)s's quality assessment is verified") if badge else _("%(organisation)s's quality assessment needs changes")
        ) % {"organisation": organisation.name},
        template="emails/quality_reviewed",
        context={
            "organisation": organisation.name,
            "assessment_id": assessment.pk,
            "verified": badge is not None,
            "returned": [f"{r.criterion.code}: {r.review_comment}" for r in returned],
            "summary": assessment.review_summary,
            "expires_on": badge.expires_on.isoformat() if badge else "",
        },
        organisation=organisation,
    )
    return assessment


def issue_badge(*, assessment: SelfAssessment, responses: list[CriterionResponse], by: User, today: date) -> Badge:
    Badge.objects.filter(organisation=assessment.organisation, status=Badge.Status.ACTIVE).update(status=Badge.Status.SUPERSEDED)
    badge = Badge.objects.create(
        organisation=assessment.organisation,
        assessment=assessment,
        version=assessment.version,
        verified_on=today,
        expires_on=today + relativedelta(years=settings.QUALITY_BADGE_VALID_YEARS),
        verified_by=by,
    )
    areas = list(assessment.version.areas.all())
    levels = verified_levels(responses, areas)
    BadgeArea.objects.bulk_create(BadgeArea(badge=badge, area=area, level=levels[area.pk]) for area in areas)
    return badge


@transaction.atomic
def withdraw_badge(*, badge: Badge, by: User) -> Badge:
    Badge.objects.filter(pk=badge.pk, status=Badge.Status.ACTIVE).update(status=Badge.Status.WITHDRAWN)
    badge.refresh_from_db()
    return badge


# Badge expiry and renewal reminders, run by quality.tasks.sweep_badges ----------------------------


def badge_renewal_key(badge_id: int, expires_on: date) -> str:
    return f"quality-badge-renewal:{badge_id}:{expires_on.isoformat()}"


def badge_expired_key(badge_id: int, expires_on: date) -> str:
    return f"quality-badge-expired:{badge_id}:{expires_on.isoformat()}"


def _badge_email(badge: Badge, *, key: str, kind: str, subject: str, template: str) -> bool:
    organisation = badge.organisation
    return schedule_reminder(
        key=key,
        kind=kind,
        recipients=organisation_contacts(organisation),
        subject=subject,
        template=template,
        context={
            "organisation": organisation.name,
            "expires_on": badge.expires_on.isoformat(),
            "assessments_url": "/quality/assessments/",
        },
        about=organisation,
    )[1]


def expire_badges(*, today: date) -> int:
    """Mark badges past their expiry date as expired and tell the provider, once. Returns how many."""
    expired = 0
    due = Badge.objects.filter(status=Badge.Status.ACTIVE, expires_on__lte=today).select_related("organisation")
    for badge in due:
        with transaction.atomic():
            if not Badge.objects.filter(pk=badge.pk, status=Badge.Status.ACTIVE).update(status=Badge.Status.EXPIRED):
                continue  # another sweep got there first
            expired += 1
            _badge_email(
                badge,
                key=badge_expired_key(badge.pk, badge.expires_on),
                kind="quality-badge-expired",
                subject=_("The quality badge of %(organisation)s has expired") % {"organisation": badge.organisation.name},
                template="emails/quality_badge_expired",
            )
    return expired


def plan_badge_renewal_reminders(*, today: date) -> int:
    """Plan a renewal reminder for each badge expiring within QUALITY_BADGE_RENEWAL_REMINDER_DAYS, once
    per expiry date. Returns how many were newly planned."""
    horizon = today + relativedelta(days=settings.QUALITY_BADGE_RENEWAL_REMINDER_DAYS)
    due = Badge.objects.current(today).filter(expires_on__lte=horizon).select_related("organisation")
    keys = {badge.pk: badge_renewal_key(badge.pk, badge.expires_on) for badge in due}
    planned = planned_reminder_keys(list(keys.values()))
    created = 0
    for badge in due:
        if keys[badge.pk] in planned:
            continue
        created += _badge_email(
            badge,
            key=keys[badge.pk],
            kind="quality-badge-renewal",
            subject=_("The quality badge of %(organisation)s expires on %(date)s")
            % {"organisation": badge.organisation.name, "date": date_format(badge.expires_on, "j F Y")},
            template="emails/quality_badge_renewal",
        )
    return created


# Support materials --------------------------------------------------------------------------------


def _unique_material_slug(title: str) -> str:
    base = slugify(title)[:200] or "material"
    slug, n = base, 2
    while Material.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _check_material_file(upload) -> str:
    try:
        return check_upload(upload, allowed=ACCEPTED_FILE_TYPES, max_bytes=settings.QUALITY_UPLOAD_MAX_BYTES)
    except ValidationError as error:
        raise ValidationError({"file": error.messages})


MATERIAL_FIELDS = ("title", "summary", "kind", "external_url", "geographic_level", "for_stage_1", "for_stage_2", "for_stage_3", "is_public")


def _apply_material_data(material: Material, data: dict) -> tuple[list, list]:
    for name in MATERIAL_FIELDS:
        if name in data:
            setattr(material, name, data[name])
    if not (material.for_stage_1 or material.for_stage_2 or material.for_stage_3):
        raise ValidationError({"for_stage_1": _("Tick at least one development stage the material is for.")})
    return data.get("functions", []), data.get("needs", [])


def _save_version(*, material: Material, upload, kind: str, note: str, by: User) -> MaterialVersion:
    number = (material.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = MaterialVersion(material=material, number=number, original_name=upload.name[:255], file_type=kind, size=upload.size, note=note, uploaded_by=by)
    version.file.save(upload.name, upload, save=False)
    version.save()
    return version


@transaction.atomic
def create_material(*, data: dict, upload, organisation: Organisation | None, by: User) -> Material:
    """Add a material to the library: a file (checked by content; it becomes version 1) or, for a
    regional or national resource, a link only."""
    material = Material(organisation=organisation, created_by=by)
    functions, needs = _apply_material_data(material, data)
    if material.kind == Material.Kind.LINK or material.external_url:
        if not material.external_url:
            raise ValidationError({"external_url": _("Give the web address of the resource.")})
        if upload:
            raise ValidationError({"file": _("A link-only entry has no file: leave the file empty, or remove the link.")})
    elif not upload:
        raise ValidationError({"file": _("Choose the file to upload.")})
    kind = _check_material_file(upload) if upload else None
    material.slug = _unique_material_slug(material.title)
    material.full_clean(exclude=["functions", "needs", "slug"])
    material.save()
    material.functions.set(functions)
    material.needs.set(needs)
    if upload:
        _save_version(material=material, upload=upload, kind=kind, note=_("First version"), by=by)
    return material


@transaction.atomic
def update_material(*, material: Material, data: dict, by: User) -> Material:
    material = Material.objects.select_for_update().get(pk=material.pk)
    functions, needs = _apply_material_data(material, data)
    if material.kind == Material.Kind.LINK and not material.external_url:
        raise ValidationError({"external_url": _("Give the web address of the resource.")})
    material.full_clean(exclude=["functions", "needs"])
    material.save()
    material.functions.set(functions)
    material.needs.set(needs)
    return material


@transaction.atomic
def add_material_version(*, material: Material, upload, note: str, by: User) -> MaterialVersion:
    """A new file for a material. The older versions are kept and can still be downloaded."""
    material = Material.objects.select_for_update().get(pk=material.pk)
    if material.is_link:
        raise ValidationError({"file": _("This entry is a link to a resource held elsewhere; it has no files.")})
    kind = _check_material_file(upload)
    version = _save_version(material=material, upload=upload, kind=kind, note=note.strip(), by=by)
    material.save(update_fields=["updated_at"])
    return version


def record_download(*, material: Material, version: MaterialVersion | None = None, today: date | None = None) -> None:
    """Count one download (of a file or a followed link), in the totals and per day, for evidence.

    F() expressions add in the database, so simultaneous downloads are all counted."""
    today = today or timezone.localdate()
    with transaction.atomic():
        Material.objects.filter(pk=material.pk).update(download_count=F("download_count") + 1)
        if version is not None:
            MaterialVersion.objects.filter(pk=version.pk).update(download_count=F("download_count") + 1)
        if not MaterialDownloadDay.objects.filter(material=material, day=today).update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    MaterialDownloadDay.objects.create(material=material, day=today, count=1)
            except IntegrityError:  # someone else created today's row a moment ago
                MaterialDownloadDay.objects.filter(material=material, day=today).update(count=F("count") + 1)


# The organisational health check -------------------------------------------------------------------


@transaction.atomic
def record_health_check(*, organisation: Organisation, stage: int, answers: dict, by: User) -> HealthCheck:
    """Score a completed health check: each area as a percentage of the best possible answers.

    Every question asked at the organisation's stage must be answered with a value from the scale;
    anything else is refused, naming the question."""
    if stage not in Organisation.Stage.values:
        raise ValidationError({"stage": _("Choose stage 1, 2 or 3.")})
    questions = list(selectors.health_check_questions(stage))
    errors = {}
    values = {}
    for question in questions:
        raw = answers.get(question.pk, answers.get(str(question.pk)))
        if raw in (None, ""):
            errors[f"q{question.pk}"] = _("Answer “%(question)s”.") % {"question": question.text}
            continue
        try:
            value = int(raw)
        except (TypeError, ValueError):
            value = -1
        if value not in Answer.values:
            errors[f"q{question.pk}"] = _("“%(question)s”: the answer must be one of %(choices)s.") % {
                "question": question.text, "choices": ", ".join(str(label) for label in Answer.labels)}
            continue
        values[question.pk] = value
    asked = {question.pk for question in questions}
    unknown = [key for key in answers if str(key).isdigit() and int(key) not in asked]
    if unknown:
        errors["__all__"] = _("Some answers are for questions not asked at this stage; please start the health check again.")
    if errors:
        raise ValidationError(errors)
    by_area: dict[int, list[int]] = {}
    for question in questions:
        by_area.setdefault(question.area_id, []).append(values[question.pk])
    overall = round(100 * sum(values.values()) / (3 * len(values))) if values else 0
    health_check = HealthCheck.objects.create(organisation=organisation, stage=stage, overall_score=overall, completed_by=by)
    HealthCheckAnswer.objects.bulk_create(
        HealthCheckAnswer(health_check=health_check, question_id=pk, value=value) for pk, value in values.items()
    )
    HealthCheckAreaScore.objects.bulk_create(
        HealthCheckAreaScore(health_check=health_check, area_id=area_id, score=round(100 * sum(scores) / (3 * len(scores))))
        for area_id, scores in by_area.items()
    )
    return health_check
