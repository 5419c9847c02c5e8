"""Who may do what with joint projects and evidence. Network admins pass every rule (accounts.permissions.can).

- Lead and partner organisations' editors and officers edit the project they are in and submit their
  own organisation's returns; the lead's people also edit the project's details and indicators.
- Funders of a project (people linked to a funding organisation, or funder accounts named on the
  project) read it: figures and shareable case studies only.
- Funders, officers and network admins see the sector dashboards and request evidence packs, which hold
  aggregates only, through the suppression layer.
"""

from accounts.permissions import rule
from organisations.models import Affiliation
from organisations.permissions import EDITING_ROLES

from .models import EvidenceExport, JointProject, MonitoringReturn


def _editing_organisation_ids(user) -> set[int]:
    cache = getattr(user, "_evidence_editing_ids", None)
    if cache is None:
        cache = set(
            Affiliation.objects.filter(user=user, role__in=EDITING_ROLES).values_list("organisation_id", flat=True)
        )
        user._evidence_editing_ids = cache
    return cache


def _linked_organisation_ids(user) -> set[int]:
    return set(Affiliation.objects.filter(user=user).values_list("organisation_id", flat=True))


def project_team_ids(project: JointProject) -> set[int]:
    return {project.lead_id, *project.partners.values_list("pk", flat=True)}


def is_project_funder(user, project: JointProject) -> bool:
    if not user.is_funder:
        return False
    if project.funder_accounts.filter(pk=user.pk).exists():
        return True
    return project.funders.filter(pk__in=_linked_organisation_ids(user)).exists()


@rule("evidence.view_project")
def _view_project(user, project: JointProject) -> bool:
    if project_team_ids(project) & _editing_organisation_ids(user):
        return True
    return is_project_funder(user, project)


@rule("evidence.change_project")
def _change_project(user, project: JointProject) -> bool:
    # The lead runs the project: its details, indicators and targets.
    return project.lead_id in _editing_organisation_ids(user)


@rule("evidence.create_project")
def _create_project(user, obj=None) -> bool:
    # Officers and editors of any organisation may start a project that their organisation leads.
    return not user.is_funder and bool(_editing_organisation_ids(user))


@rule("evidence.submit_return")
def _submit_return(user, monitoring_return: MonitoringReturn) -> bool:
    """Edit and submit a return: the partner's own people, and the lead's, who chase and correct returns."""
    ids = _editing_organisation_ids(user)
    return monitoring_return.partner_id in ids or monitoring_return.project.lead_id in ids


@rule("evidence.view_dashboards")
def _view_dashboards(user, obj=None) -> bool:
    return user.is_funder or user.role == user.Role.OFFICER


@rule("evidence.request_export")
def _request_export(user, obj=None) -> bool:
    return user.is_funder or user.role == user.Role.OFFICER


@rule("evidence.view_export")
def _view_export(user, export: EvidenceExport) -> bool:
    return export.requested_by_id == user.pk
