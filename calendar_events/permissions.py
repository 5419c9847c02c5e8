"""Who may do what in the calendar and on the notice board (registered with accounts.permissions).

Network admins pass every rule (accounts.permissions.can); the rules below are for everyone else.
"""

from accounts.permissions import public, rule
from organisations.permissions import EDITING_ROLES, role_at


@rule("calendar_events.post_for")
def _post_for(user, organisation) -> bool:
    """Add events, notices and feeds for an organisation: its editors and officers."""
    return organisation.is_active and role_at(user, organisation) in EDITING_ROLES


@rule("calendar_events.add_location")
def _add_location(user, organisation) -> bool:
    # Venues belong to the organisation's record: its officers (and editors) may add one.
    return organisation.is_active and role_at(user, organisation) in EDITING_ROLES


@rule("calendar_events.change_event")
def _change_event(user, event) -> bool:
    return role_at(user, event.organiser) in EDITING_ROLES


@rule("calendar_events.manage_bookings")
def _manage_bookings(user, event) -> bool:
    """See the attendee list, export it and mark attendance: the organiser's editors and officers."""
    return role_at(user, event.organiser) in EDITING_ROLES


@rule("calendar_events.view_event")
@public
def _view_event(user, event) -> bool:
    if event.is_published and event.organiser.is_active:
        return True
    return user is not None and user.is_authenticated and role_at(user, event.organiser) is not None


@rule("calendar_events.book")
def _book(user, event) -> bool:
    # Any logged-in person may book a published event; the service checks places and dates.
    return event.is_published


@rule("calendar_events.change_notice")
def _change_notice(user, notice) -> bool:
    return role_at(user, notice.organisation) in EDITING_ROLES


@rule("calendar_events.view_notice")
@public
def _view_notice(user, notice) -> bool:
    from django.utils import timezone

    # As Notice.objects.visible(): a closed organisation's notices are off the board too.
    if (
        notice.status == notice.Status.PUBLISHED
        and notice.expires_on >= timezone.localdate()
        and notice.organisation.is_active
    ):
        return True
    return user is not None and user.is_authenticated and role_at(user, notice.organisation) is not None


@rule("calendar_events.manage_feeds")
def _manage_feeds(user, organisation) -> bool:
    return role_at(user, organisation) in EDITING_ROLES


@rule("calendar_events.moderate")
def _moderate(user, obj) -> bool:
    # Network admins only (they pass every rule before this one is asked).
    return False


def publishes_directly(organisation) -> bool:
    """Providers' events and notices go straight on; a VCO's wait for a moderator."""
    from organisations.models import Organisation

    return organisation.kinds.filter(code__in=Organisation.PROVIDER_KINDS).exists()
