"""Who may do what with referrals. Registered with the one permission helper (accounts.permissions);
network admins pass every rule there, so the rules below are for everyone else.

- The group (anyone linked to the asking VCO) sees its referrals, with contact details; its editors
  withdraw them and give feedback.
- The receiving provider's officers see and work the referrals sent to them, contact details included.
  A provider a referral was passed on from no longer sees it.
- An officer who asked on a group's behalf can follow that referral, but does not see the contact
  details unless they are an officer of the receiving provider.
- A funder account is refused every referral page (403), whatever organisations it is linked to:
  funders see referrals only as the evidence dashboards' aggregates.
"""

from accounts.permissions import rule
from organisations.models import Affiliation, Organisation
from organisations.permissions import EDITING_ROLES, role_at

from .models import Referral


def _is_group(user, referral: Referral) -> bool:
    return role_at(user, referral.organisation) is not None


def _is_group_editor(user, referral: Referral) -> bool:
    return role_at(user, referral.organisation) in EDITING_ROLES


def _is_receiving_officer(user, referral: Referral) -> bool:
    return referral.provider_id is not None and role_at(user, referral.provider) == Affiliation.Role.OFFICER


@rule("referrals.use")
def _use(user, obj) -> bool:
    """Any page or action of the referrals app, asked before a referral is looked up (so a funder's
    403 says nothing about whether it exists); the rules below then decide about the referral."""
    return not user.is_funder


@rule("referrals.ask")
def _ask(user, organisation: Organisation | None) -> bool:
    # Editors ask for their own group; any provider's officer may ask on a group's behalf.
    if Affiliation.objects.filter(user=user, role=Affiliation.Role.OFFICER).exists():
        return True
    if organisation is None:
        return Affiliation.objects.filter(user=user, role__in=EDITING_ROLES).exists()
    return role_at(user, organisation) in EDITING_ROLES


@rule("referrals.view")
def _view(user, referral: Referral) -> bool:
    return _is_group(user, referral) or _is_receiving_officer(user, referral) or referral.requested_by_id == user.pk


@rule("referrals.view_contact")
def _view_contact(user, referral: Referral) -> bool:
    return _is_group(user, referral) or _is_receiving_officer(user, referral)


@rule("referrals.act")
def _act(user, referral: Referral) -> bool:
    """Accept, decline, pass on, start, close and assign: the receiving provider's officers."""
    return _is_receiving_officer(user, referral)


@rule("referrals.route")
def _route(user, referral: Referral) -> bool:
    # Sending a referral nobody has picked up yet to a provider: network admins only.
    return False


@rule("referrals.withdraw")
def _withdraw(user, referral: Referral) -> bool:
    return _is_group_editor(user, referral) or referral.requested_by_id == user.pk


@rule("referrals.give_feedback")
def _give_feedback(user, referral: Referral) -> bool:
    return _is_group_editor(user, referral) or referral.requested_by_id == user.pk


@rule("referrals.view_inbox")
def _view_inbox(user, provider: Organisation) -> bool:
    return role_at(user, provider) == Affiliation.Role.OFFICER


@rule("referrals.manage_personal_data")
def _manage_personal_data(user, obj) -> bool:
    # Subject access exports and erasure: network admins only.
    return False


@rule("referrals.view_figures")
def _view_figures(user, obj) -> bool:
    # Aggregate figures: any provider's officer, as well as network admins.
    return Affiliation.objects.filter(user=user, role=Affiliation.Role.OFFICER).exists()
