"""Who may do what with quality standards, support materials and health checks.

Registered with the one permission helper (accounts.permissions); network admins pass every rule
there. The service layer repeats the one check that must hold even for admins: nobody reviews an
assessment of an organisation they belong to.
"""

from accounts.permissions import public, rule
from organisations.models import Affiliation, Organisation
from organisations.permissions import EDITING_ROLES, role_at

from .models import HealthCheck, Material, SelfAssessment


def is_provider(organisation: Organisation) -> bool:
    return organisation.kinds.filter(code__in=Organisation.PROVIDER_KINDS).exists()


def works_at_a_provider(user) -> bool:
    return Affiliation.objects.filter(
        user=user, role__in=EDITING_ROLES, organisation__kinds__code__in=Organisation.PROVIDER_KINDS, organisation__is_active=True
    ).exists()


@rule("quality.assess")
def _assess(user, organisation: Organisation) -> bool:
    """Start or fill in a self-assessment: the provider's officers and editors."""
    return role_at(user, organisation) in EDITING_ROLES and is_provider(organisation)


@rule("quality.view_assessment")
def _view_assessment(user, assessment: SelfAssessment) -> bool:
    if role_at(user, assessment.organisation) is not None:
        return True
    # The reviewer who took it on (from another provider) sees it too.
    return assessment.reviewer_id == user.pk


@rule("quality.review")
def _review(user, assessment: SelfAssessment | None) -> bool:
    """Peer review: an officer or editor at ANOTHER provider, never anyone linked to the assessed one."""
    if not works_at_a_provider(user):
        return False
    if assessment is None:
        return True
    if role_at(user, assessment.organisation) is not None:
        return False
    return assessment.reviewer_id in (None, user.pk)


@rule("quality.view_matrix")
def _view_matrix(user, obj) -> bool:
    return user.role in (user.Role.OFFICER, user.Role.FUNDER) or works_at_a_provider(user)


@rule("quality.view_material")
@public
def _view_material(user, material: Material) -> bool:
    if material.is_published and (material.is_public or (user is not None and user.is_authenticated)):
        return True
    return bool(user and user.is_authenticated and material.organisation_id and role_at(user, material.organisation) in EDITING_ROLES)


@rule("quality.add_material")
def _add_material(user, organisation: Organisation | None) -> bool:
    """Providers share materials; organisation None asks whether the user may share for any provider."""
    if organisation is None:
        return works_at_a_provider(user)
    return role_at(user, organisation) in EDITING_ROLES and is_provider(organisation)


@rule("quality.change_material")
def _change_material(user, material: Material) -> bool:
    return bool(material.organisation_id) and role_at(user, material.organisation) in EDITING_ROLES


@rule("quality.take_health_check")
def _take_health_check(user, organisation: Organisation) -> bool:
    return role_at(user, organisation) in EDITING_ROLES


@rule("quality.view_health_checks")
def _view_health_checks(user, organisation: Organisation) -> bool:
    return role_at(user, organisation) is not None


@rule("quality.view_health_check")
def _view_health_check(user, health_check: HealthCheck) -> bool:
    return role_at(user, health_check.organisation) is not None
