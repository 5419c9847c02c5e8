"""Admin helpers with no domain of their own, for every app's admin."""

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList


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
